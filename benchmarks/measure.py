"""One measurement per process, printed as JSON, so every figure starts from a clean interpreter.

    python -m benchmarks.measure ours PRESET STEPS [key=value ...]
    python -m benchmarks.measure notebook STEPS [HIDDEN_UNITS]
    python -m benchmarks.measure sb3 STEPS
    python -m benchmarks.measure gui PRESET SECONDS RENDER(0|1)
    python -m benchmarks.measure launch
    python -m benchmarks.measure rss EPISODES_1 EPISODES_2
    python -m benchmarks.measure solve PRESET SEED MAX_STEPS
    python -m benchmarks.measure sb3_solve SEED MAX_STEPS
    python -m benchmarks.measure quality PRESET SEED MAX_STEPS

Our engine runs as the CLI does (`sandbox.core.trainer.limit_threads`: one torch thread, one BLAS thread).
Peers (the notebook loop, SB3) run with torch's default thread count unless RL_BENCH_THREADS is set,
and numpy's BLAS held to one thread as ours is.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

ZOO_MOUNTAINCAR = dict(  # RL Zoo's tuned DQN hyperparameters for MountainCar-v0 (hyperparams/dqn.yml)
    learning_rate=4e-3, batch_size=128, buffer_size=10_000, learning_starts=1000, gamma=0.98,
    target_update_interval=600, train_freq=16, gradient_steps=8, exploration_fraction=0.2,
    exploration_final_eps=0.07, net_arch=[256, 256],
)
# The same algorithm in our engine's terms (SB3's DQN is not Double DQN; its loss is Huber, clip 10).
ZOO_AS_OURS = dict(learning_rate=4e-3, batch_size=128, memory_capacity=10_000, learning_starts=1000, gamma=0.98,
                   target_update="hard", target_update_interval=600, update_interval=16, update_times=8,
                   hidden_units=256, double_dqn=False, loss="huber", gradient_clip=10.0, epsilon_end=0.07,
                   epsilon_decay=0.9, steps_per_decay=1000, bootstrap_on_truncation=True)


def ours(preset: str, steps: int, changes: dict) -> dict:
    from sandbox.core.config import load_preset
    from sandbox.core.trainer import Trainer

    trainer = Trainer(load_preset(preset).with_changes(**changes, max_episodes=10**9, stop_when_solved=False))
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.step()
    return {"steps_per_second": steps / (time.perf_counter() - started),
            "steps_per_cpu_second": steps / (time.process_time() - cpu)}


def solve(preset: str, seed: int, max_steps: int) -> dict:
    from dataclasses import asdict

    from benchmarks.solve import time_to_solve
    from sandbox.core.config import load_preset

    return asdict(time_to_solve(preset, load_preset(preset).with_changes(seed=seed), max_steps=max_steps))


def _peer_threads() -> None:
    if os.environ.get("RL_BENCH_THREADS"):
        import torch

        torch.set_num_threads(int(os.environ["RL_BENCH_THREADS"]))


def notebook(steps: int, hidden: int = 64) -> dict:
    from benchmarks.reference import notebook_steps_per_second

    _peer_threads()
    return {"steps_per_second": notebook_steps_per_second(steps, hidden=hidden)}


def sb3(steps: int) -> dict:
    import gymnasium as gym
    from stable_baselines3 import DQN

    _peer_threads()
    z = dict(ZOO_MOUNTAINCAR)
    model = DQN("MlpPolicy", gym.make("MountainCar-v0"), policy_kwargs={"net_arch": z.pop("net_arch")}, seed=0,
                device="cpu", verbose=0, **z)
    started = time.perf_counter()
    model.learn(total_timesteps=steps)
    return {"steps_per_second": steps / (time.perf_counter() - started), "torch_threads": _threads()}


def gui(preset: str, seconds: float, render: bool) -> dict:
    """Steps/s of the real main window (offscreen) training `preset` with plots updating, the map tab
    shown and, if `render`, live frames in "fast" mode (at most ~30 fps). Also steps per second of the
    process's CPU time (all its threads): what the window costs in CPU, which other processes on the
    machine disturb far less than the wall clock (painting holds the GIL, so its CPU time is the
    training thread's loss)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QSettings, QTimer

    from sandbox.core.config import load_preset
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.screenshot import wait_until

    app = make_application()
    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "rl-sandbox-bench.ini"), QSettings.IniFormat)
    settings.clear()
    settings.setValue("view/render", render)
    settings.setValue("view/watch", False)
    window = MainWindow(settings)
    window.show()
    config = load_preset(preset).with_changes(max_episodes=10**9, stop_when_solved=False)
    window.panel.set_config(config)
    window.begin_run(config)
    wait_until(app, lambda: window.session.config == config, 60)
    frames = []
    window.worker.frame_ready.connect(lambda _f: frames.append(1))
    window.worker.state_ready.connect(lambda _s: frames.append(1))
    window.tabs.setCurrentWidget(window.map_view)
    window.start()
    wait_until(app, lambda: window.session.state == "Running", 10)
    t0, s0, cpu0, all0 = time.perf_counter(), window.worker.trainer.total_steps, time.thread_time(), time.process_time()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec_()  # the real event loop, as in the app (not a polling loop that would steal time)
    steps = window.worker.trainer.total_steps - s0
    elapsed = time.perf_counter() - t0
    gui_cpu = (time.thread_time() - cpu0) / elapsed
    process_cpu = time.process_time() - all0
    window.pause()
    wait_until(app, lambda: window.session.state != "Running", 10)
    window.session.forget_changes()
    window.close()
    from ui.app import dispose

    dispose(window)
    return {"steps_per_second": steps / elapsed, "steps_per_cpu_second": steps / process_cpu,
            "frames_per_second": len(frames) / elapsed, "gui_cpu": gui_cpu, "episodes_drawn": len(window.plots.scores),
            "losses_drawn": len(window.plots.losses)}


def launch() -> dict:
    """Seconds from interpreter start to the main window shown with its agent ready."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QSettings

    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.screenshot import wait_until

    app = make_application()
    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "rl-sandbox-launch.ini"), QSettings.IniFormat)
    settings.clear()
    window = MainWindow(settings)
    window.show()
    wait_until(app, lambda: window.isVisible() and window.session.config is not None, 60)
    shown = time.time()
    window.close()
    from ui.app import dispose

    dispose(window)
    return {"shown_at": shown}


def recovery(preset: str, steps: int, repeats: int) -> dict:
    """What one recovery copy costs the worker: seconds of `save_trainer` (replay memory included)
    after `steps` steps of `preset`, when the memory has filled, against the copy's 30 s interval."""
    import tempfile
    from pathlib import Path

    from sandbox.app.recovery import AUTOSAVE_SECONDS
    from sandbox.core.config import load_preset
    from sandbox.core.trainer import Trainer
    from sandbox.formats.agent_file import save_trainer

    trainer = Trainer(load_preset(preset).with_changes(max_episodes=10**9, stop_when_solved=False))
    for _ in range(steps):
        trainer.step()
    seconds, size = [], 0
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            started = time.perf_counter()
            size = save_trainer(trainer, Path(folder) / "recovery.agent", True)
            seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "bytes": size, "memory": len(trainer.agent.memory), "interval": AUTOSAVE_SECONDS}


def pause_latency(samples: int) -> dict:
    """Seconds from Pause (the action, in the real window) to the window's session holding the paused
    state (the moment its `state_changed` is delivered, in the window's own event loop: no polling
    delay), asked for at a random moment in the middle of a greedy evaluation and of training,
    alternately. Every episode is followed by an evaluation of 200 MountainCar episodes (~40,000
    greedy steps, a few tenths of a second)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import random

    from PyQt5.QtCore import QEventLoop, QSettings, QTimer

    from sandbox.app.session import State
    from sandbox.core.config import load_preset
    from ui.app import dispose, make_application
    from ui.main_window import MainWindow
    from ui.screenshot import wait_until

    app = make_application()
    settings = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "rl-sandbox-pause.ini"), QSettings.IniFormat)
    settings.clear()
    settings.setValue("view/render", False)
    window = MainWindow(settings)
    window.show()
    config = load_preset("notebook").with_changes(solve_rule="greedy", eval_every=1, eval_episodes=200,
                                                  max_episodes=10**6, stop_when_solved=False)
    window.begin_run(config)
    wait_until(app, lambda: window.session.config == config, 60)
    chance = random.Random(0)
    paused_at: list[float] = []
    loop = QEventLoop()

    def changed(state: State) -> None:
        if state is State.PAUSED:
            paused_at.append(time.perf_counter())
            loop.quit()

    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)

    def run_loop(ms: int) -> None:
        """The window's event loop for `ms` at most (a pause that lands ends it)."""
        limit.start(ms)
        loop.exec_()
        limit.stop()

    window.session.state_changed.connect(changed)
    out: dict[str, list[float]] = {"evaluating": [], "training": []}
    while min(len(v) for v in out.values()) < samples:
        where = "evaluating" if len(out["evaluating"]) <= len(out["training"]) else "training"
        window.start()
        wait_until(app, lambda: window.session.state is State.RUNNING, 30)
        under_way = (lambda: window.worker.trainer.evaluation is not None) if where == "evaluating" else \
            (lambda: window.worker.trainer.evaluation is None and window.worker.trainer.mid_episode)
        wait_until(app, under_way, 60)
        run_loop(chance.randrange(0, 120))  # a random moment of it (an evaluation lasts a few tenths of a second)
        if not under_way():
            window.act_pause.trigger()  # it ended meanwhile: this sample is not of its kind
            wait_until(app, lambda: window.session.state is State.PAUSED, 30)
            continue
        paused_at.clear()
        asked = time.perf_counter()
        window.act_pause.trigger()
        run_loop(30_000)
        out[where].append(paused_at[0] - asked)
    window.session.forget_changes()
    window.close()
    dispose(window)
    return out


# Closes the real app (idle, or mid-training) and prints the moment it asked the window to close.
CLOSER = """
import sys, time
from PyQt5.QtCore import QTimer
from ui.app import make_application, run_app
from ui.main_window import MainWindow
app = make_application()
def close():
    w = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    if w.session.config is None:
        QTimer.singleShot(100, close)
        return
    if sys.argv[1] == "training" and w.session.state.value != "Running":
        w.act_start.trigger()
        QTimer.singleShot(1500, close)
        return
    w.session.forget_changes()
    print(time.time(), flush=True)
    w.close()
QTimer.singleShot(500, close)
run_app()
"""


def exit_time(mode: str) -> dict:
    """Seconds from the window's close to the process's exit, beside two busy processes."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RL_SANDBOX_DATA_DIR=os.path.join(folder, "data"),
                   XDG_CONFIG_HOME=os.path.join(folder, "config"), PYTHONPATH=os.getcwd())
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            proc = subprocess.Popen([sys.executable, "-c", CLOSER, mode], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            closed = float(proc.stdout.readline())
            proc.wait(timeout=60)
            return {"seconds": time.time() - closed, "code": proc.returncode}
        finally:
            for p in busy:
                p.kill()
                p.wait()


def rss(first: int, second: int) -> dict:
    """Peak RSS (MB) after `first` and after `second` headless episodes of a short-episode run."""
    from sandbox.core.config import load_preset
    from sandbox.core.trainer import Trainer

    config = load_preset("cartpole").with_changes(epsilon_start=1.0, epsilon_end=1.0, update_interval=5,
                                                  max_episodes=10**9, stop_when_solved=False)
    trainer = Trainer(config)
    out = {}
    for target in (first, second):
        trainer.run(target - trainer.episodes_done)
        out[str(target)] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["steps"] = trainer.total_steps
    out["losses"] = len(trainer.history.losses)
    return out


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def limit_threads(kind: str) -> None:
    """The entry point's thread limits; `launch` times a bare start and is left alone."""
    if kind in ("notebook", "sb3", "sb3_solve"):
        if os.environ.get("RL_BENCH_BLAS") == "default":
            return  # the plain torch path: numpy's BLAS keeps its own pool, as a user's script would
        import numpy  # noqa: F401  (loaded first: threadpoolctl limits only loaded libraries)
        import torch  # noqa: F401
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")  # torch's own pool stays as RL_BENCH_THREADS says
    elif kind not in ("launch", "exit"):
        from sandbox.core.trainer import limit_threads as ours_limits

        ours_limits()


def main(argv: list[str]) -> None:
    kind, args = argv[0], argv[1:]
    limit_threads(kind)
    if kind == "ours":
        from sandbox.core.config import parse_assignments

        result = ours(args[0], int(args[1]), parse_assignments(args[2:]))
    elif kind == "notebook":
        result = notebook(int(args[0]), int(args[1]) if len(args) > 1 else 64)
    elif kind == "sb3":
        result = sb3(int(args[0]))
    elif kind == "gui":
        result = gui(args[0], float(args[1]), args[2] == "1")
    elif kind == "launch":
        result = launch()
    elif kind == "solve":
        result = solve(args[0], int(args[1]), int(args[2]))
    elif kind == "sb3_solve":
        from benchmarks.sb3_solve import time_to_solve

        result = time_to_solve(int(args[0]), int(args[1]))
    elif kind == "quality":
        from dataclasses import asdict

        from benchmarks.quality import measure as quality

        result = asdict(quality(args[0], int(args[1]), int(args[2]), {}))
    elif kind == "recovery":
        result = recovery(args[0], int(args[1]), int(args[2]))
    elif kind == "exit":
        result = exit_time(args[0])
    elif kind == "pause":
        result = pause_latency(int(args[0]))
    elif kind == "rss":
        result = rss(int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
