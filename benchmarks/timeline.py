"""What the run's timeline costs: training speed with and without it, and its bytes per 1,000 episodes.

    python -m benchmarks.timeline [--rounds 6] [--episodes 300] [--size-episodes 1000]

Speed: fresh processes, the two contenders alternating round by round, each training the same
preset and seed for the same episodes; the figure is env steps per CPU-second of the process (other
processes on the machine change wall-clock time, much less CPU time), and the ratio is of medians.
Size: one run of `--size-episodes` episodes with a timeline: the bytes it holds in memory, its
checkpoints, and the agent file with and without it (and the seconds to write each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer, limit_threads

ROOT = Path(__file__).resolve().parents[1]


def one(preset: str, episodes: int, with_timeline: bool) -> dict:
    """Train in this process; steps per CPU-second."""
    from sandbox.formats.timeline import Timeline

    limit_threads()
    trainer = Trainer(load_preset(preset).with_changes(max_episodes=episodes, seed=11, stop_when_solved=False))
    if with_timeline:
        Timeline.start(trainer)
    started = time.process_time()
    trainer.run()
    spent = time.process_time() - started
    return {"steps_per_cpu_second": trainer.total_steps / spent, "steps": trainer.total_steps}


def size(preset: str, episodes: int) -> dict:
    from sandbox.formats.agent_file import to_bytes
    from sandbox.formats.timeline import Timeline

    limit_threads()
    trainer = Trainer(load_preset(preset).with_changes(max_episodes=episodes, seed=11, stop_when_solved=False))
    timeline = Timeline.start(trainer, memory_limit=2**40)  # nothing spilled: what it would hold
    inside = [0.0]  # CPU-seconds spent in the timeline: its share of the run, immune to other processes

    class Timed:
        def episode_ended(self, t: Trainer, stats: object) -> None:
            started = time.process_time()
            timeline.episode_ended(t, stats)  # type: ignore[arg-type]
            inside[0] += time.process_time() - started

    trainer.observers[trainer.observers.index(timeline)] = Timed()
    started = time.process_time()
    trainer.run()
    total = time.process_time() - started
    out = {"preset": preset, "episodes": episodes, "steps": trainer.total_steps, "timeline_share": inside[0] / total,
           "checkpoints": len(timeline.checkpoints), "held_bytes": timeline.held_bytes(),
           "log_bytes": timeline.log.nbytes, "checkpoint_bytes": timeline.held_bytes() - timeline.log.nbytes}
    for name, line in (("file_without", None), ("file_with", timeline)):
        started = time.perf_counter()
        data = to_bytes(trainer, True, timeline=line)
        out[name + "_seconds"] = time.perf_counter() - started
        out[name + "_bytes"] = len(data)
    with tempfile.TemporaryDirectory() as folder:  # and back: loading the file with its timeline
        from sandbox.formats.agent_file import load_agent

        path = Path(folder) / "t.agent"
        path.write_bytes(to_bytes(trainer, True, timeline=timeline))
        started = time.perf_counter()
        load_agent(path).trainer.close()
        out["load_with_seconds"] = time.perf_counter() - started
    return out


def _child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.timeline", "--child", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_all(rounds: int, episodes: int, size_episodes: int, presets: list[str]) -> dict:
    """Both measurements, each in fresh processes: `make bench`'s section and this module's command."""
    speed: dict[str, dict[str, list[float]]] = {}
    for preset in presets:
        runs: dict[str, list[float]] = {"off": [], "on": []}
        for r in range(rounds):
            for kind in ("off", "on") if r % 2 == 0 else ("on", "off"):
                runs[kind].append(_child(kind, preset, str(episodes))["steps_per_cpu_second"])
                print(f"  {preset} [{r + 1}/{rounds}] timeline {kind}: {runs[kind][-1]:,.0f} steps/CPU-s",
                      file=sys.stderr, flush=True)
        speed[preset] = runs
    sizes = [_child("size", preset, str(size_episodes)) for preset in presets]
    return {"speed": speed, "episodes": episodes, "sizes": sizes}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--size-episodes", type=int, default=1000)
    parser.add_argument("--presets", nargs="+", default=["fast", "notebook"])
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args(argv)
    if args.child:
        kind, preset, count = args.child[:3]
        result = size(preset, int(count)) if kind == "size" else one(preset, int(count), kind == "on")
        print(json.dumps(result))
        return
    data = measure_all(args.rounds, args.episodes, args.size_episodes, args.presets)
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
