"""`make bench`: every figure of benchmarks/RESULTS.md, measured side by side in one run.

Each measurement runs in its own fresh process (benchmarks/measure.py) and the contenders of a
comparison alternate repeat by repeat, so machine noise hits both alike; ratios come from medians
of the same run. `--quick` shrinks every count for a smoke run (its table says so).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.report import GUI_BEFORE, GUI_RUN, RESULTS, ROOT, plot_curves, write_report

SOLVE_PRESETS = ("notebook", "fast", "nstep")
SECTIONS = ("throughput", "sb3", "solve", "sb3_solve", "quality", "gui", "launch", "exit", "pause", "recovery", "rss",
            "threads", "coach", "tune", "tune_study", "timeline")
THREAD_SIZES = (64, 256, 512)
QUALITY_PRESETS = ("fast", "nstep")
QUALITY_SEEDS = (100, 101, 102, 103, 104)  # no preset was tuned on these
SB3_SOLVE_SEEDS = (0, 1, 2)  # the first three of section_solve's seeds

# Runs this checkout's benchmarks/measure.py on the sandbox and ui of the current folder (another commit's).
ELSEWHERE = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


def measure(*args: str, env: dict | None = None, code: str | None = None) -> dict:
    """One measurement in a fresh process; `code`: a checkout of another commit whose app is measured
    (by this checkout's measure script, so both commits are measured alike)."""
    command = [sys.executable, "-m", "benchmarks.measure", *args] if code is None else \
        [sys.executable, "-c", ELSEWHERE, str(ROOT / "benchmarks" / "measure.py"), *args]
    out = subprocess.run(command, cwd=code or ROOT, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"measure {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def alternate(contenders: dict[str, tuple], repeats: int) -> dict[str, list[float]]:
    """Run each contender `repeats` times, alternating; returns steps/s per contender."""
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(repeats):
        for name, (args, env) in contenders.items():
            value = measure(*args, env=env)["steps_per_second"]
            results[name].append(value)
            log(f"  [{r + 1}/{repeats}] {name}: {value:,.0f} steps/s")
    return results


def zoo_changes() -> list[str]:
    from benchmarks.measure import ZOO_AS_OURS

    return [f"{k}={v}" for k, v in ZOO_AS_OURS.items()]


def section_throughput(q: bool) -> dict:
    steps = "5000" if q else "20000"
    runs = alternate({
        "ours (notebook preset)": (("ours", "notebook", steps), None),
        "notebook loop, torch default threads": (("notebook", steps), None),
        "notebook loop, 1 torch thread": (("notebook", steps), {"RL_BENCH_THREADS": "1"}),
    }, 1 if q else 3)
    return {"steps": int(steps), "runs": runs}


def section_sb3(q: bool) -> dict:
    steps = "3000" if q else "20000"
    runs = alternate({
        "ours (RL Zoo hyperparameters)": (("ours", "notebook", steps, *zoo_changes()), None),
        "SB3 DQN, torch default threads": (("sb3", steps), None),
        "SB3 DQN, 1 torch thread": (("sb3", steps), {"RL_BENCH_THREADS": "1"}),
    }, 1 if q else 2)
    return {"steps": int(steps), "runs": runs}


def section_solve(q: bool) -> dict:
    seeds = range(1 if q else 5)
    out: dict[str, list[dict]] = {}
    for preset in SOLVE_PRESETS:
        max_steps = 20_000 if q else (200_000 if preset == "notebook" else 120_000)
        out[preset] = []
        for seed in seeds:
            run = measure("solve", preset, str(seed), str(max_steps))
            out[preset].append(run)
            log(f"  {preset} seed {seed}: solved={run['solved']} steps={run['steps']} "
                f"train {run['train_seconds']:.1f}s, with evaluations {run['seconds']:.1f}s, "
                f"final greedy {run['final_greedy']:.1f}")
    return out


def section_sb3_solve(q: bool) -> dict:
    """SB3 DQN (RL Zoo's MountainCar hyperparameters) under our solve rule, 120k steps at most."""
    out = []
    for seed in SB3_SOLVE_SEEDS[:1 if q else None]:
        run = measure("sb3_solve", str(seed), "5000" if q else "120000")
        out.append(run)
        log(f"  sb3 seed {seed}: solved={run['solved']} steps={run['steps']} train {run['train_seconds']:.1f}s, "
            f"with evaluations {run['seconds']:.1f}s, last greedy {run['final_greedy']:.1f}")
    return {"budget": 5000 if q else 120_000, "runs": out}


def section_quality(q: bool) -> dict:
    """The agents the MountainCar presets deliver, judged on 1,000 greedy episodes (benchmarks/quality.py)."""
    out: dict[str, list[dict]] = {}
    for preset in QUALITY_PRESETS:
        out[preset] = []
        for seed in QUALITY_SEEDS[:1 if q else None]:
            run = measure("quality", preset, str(seed), "5000" if q else str(10**9))
            out[preset].append(run)
            log(f"  {preset} seed {seed}: solved at {run['solve_steps']:,} steps, best {run['best_greedy1000']:.1f}"
                f", final {run['final_greedy1000']:.1f} over 1,000 episodes")
    return out


def section_tune(q: bool) -> dict:
    """Trials per hour with --jobs 2 vs --jobs 1, and the env steps the median pruner saves."""
    from benchmarks.tune_bench import PRUNED_SEARCH_CARTPOLE, jobs_ratio, pruner_savings

    jobs = jobs_ratio(4 if q else 12, 2_000 if q else 100_000)
    log(f"  trials/hour: {jobs['trials_per_hour']} → {jobs['ratio']:.2f}×")
    pruner = pruner_savings(4 if q else 16, 5_000 if q else 60_000)
    log(f"  pruners: {pruner['share']} of {pruner['none']['env_steps']:,} env steps")
    cartpole = pruner_savings(4 if q else 16, 2_000 if q else 30_000, PRUNED_SEARCH_CARTPOLE)
    log(f"  pruners, CartPole: {cartpole['share']} of {cartpole['none']['env_steps']:,} env steps")
    return {"jobs": jobs, "pruner": pruner, "pruner_cartpole": cartpole}


def section_tune_study(q: bool) -> dict:
    """The headline study (an hour on this machine; --quick: 2 minutes)."""
    import tempfile
    from pathlib import Path

    from benchmarks.tune_bench import headline

    with tempfile.TemporaryDirectory() as tmp:
        out = headline(120 if q else 3_000, Path(tmp) / "headline.db")
    log(f"  {out}")
    return out


def section_gui(q: bool, before: str | None = None) -> dict:
    """Headless training against the real window (plots, the map tab, the render), alternating run by
    run, and `before` (a checkout of an earlier commit) the same way. Per run: steps/s, steps per
    second of the process's CPU time, the GUI thread's CPU share and the machine's load (others' jobs)."""
    seconds = "4" if q else "15"
    contenders: dict[str, tuple[tuple[str, ...], str | None]] = {
        "headless": (("ours", "notebook", "20000" if not q else "5000"), None),
        GUI_RUN: (("gui", "notebook", seconds, "1"), None)}
    if before is not None:
        contenders[GUI_BEFORE] = (("gui", "notebook", seconds, "1"), before)
    out: dict = {"runs": {name: [] for name in contenders}, "cpu": {name: [] for name in contenders},
                 "gui_cpu": {name: [] for name in contenders if name != "headless"}, "load": [],
                 "before": commit_of(before) if before else None}
    for r in range(1 if q else 5):
        for name, (args, code) in contenders.items():
            out["load"].append(os.getloadavg()[0])
            result = measure(*args, code=code)
            out["runs"][name].append(result["steps_per_second"])
            out["cpu"][name].append(result["steps_per_cpu_second"])
            if name != "headless":
                out["gui_cpu"][name].append(result["gui_cpu"])
            log(f"  [{r + 1}] {name}: {result['steps_per_second']:,.0f} steps/s, "
                f"{result['steps_per_cpu_second']:,.0f} per CPU-second (load {out['load'][-1]:.1f})")
    return out


def commit_of(folder: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True,
                          check=True).stdout.strip()


def section_launch(q: bool) -> dict:
    times = []
    for _ in range(1 if q else 5):
        started = time.time()
        shown = measure("launch")["shown_at"]
        times.append(shown - started)
        log(f"  launch: {times[-1]:.2f} s")
    return {"seconds": times}


def section_exit(q: bool) -> dict:
    """Close to exit of the real app, idle and mid-training, beside two busy processes (alternating)."""
    out: dict[str, list[float]] = {"idle": [], "training": []}
    for _ in range(1 if q else 5):
        for mode in out:
            out[mode].append(measure("exit", mode)["seconds"])
            log(f"  exit ({mode}): {out[mode][-1]:.2f} s")
    return out


def section_pause(q: bool, before: str | None = None) -> dict:
    """Pause to paused in the real window, at random moments of greedy evaluations and of training
    (and the same for `before`, a checkout of an earlier commit)."""
    result = measure("pause", "3" if q else "20")
    log(f"  pause: {result}")
    if before is not None:
        result["before"] = {"commit": commit_of(before), **measure("pause", "3" if q else "20", code=before)}
        log(f"  pause, {result['before']['commit']}: {result['before']}")
    return result


def section_recovery(q: bool) -> dict:
    """The recovery copy's cost: save seconds per 30 s of training, with the `fast` preset's memory full."""
    steps = "5000" if q else "60000"  # fast's memory holds 50,000 transitions
    result = measure("recovery", "fast", steps, "3" if q else "7")
    log(f"  recovery: {result}")
    return result


def section_rss(q: bool) -> dict:
    first, second = (100, 1000) if q else (1000, 20000)
    result = measure("rss", str(first), str(second))
    log(f"  rss: {result}")
    return {"first": first, "second": second, **result}


def section_threads(q: bool) -> dict:
    """Ours (torch and BLAS held to one thread at the entry point) vs the plain torch path (the
    notebook's loop with torch's default threads and numpy's own BLAS pool), same hyperparameters,
    for three net sizes, idle and with a busy process beside them."""
    steps = "2000" if q else "6000"
    out: dict = {}
    for units in THREAD_SIZES:
        for load in ("idle", "busy"):
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
            try:
                log(f"  hidden_units {units}, {load}")
                out[f"{units}/{load}"] = alternate({
                    "ours": (("ours", "notebook", steps, f"hidden_units={units}"), None),
                    "plain torch": (("notebook", steps, str(units)), {"RL_BENCH_BLAS": "default"}),
                }, 1 if q else 2)
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    return out


def section_coach(q: bool) -> dict:
    """The coach benchmark (benchmarks/coach.py): rounds and env steps until a solve, per start and seed."""
    from dataclasses import asdict

    from benchmarks.coach import STARTS, learn

    seeds = (0,) if q else (0, 1, 2)
    learners = [learn(start, seed, max_rounds=2 if q else 10) for start in STARTS for seed in seeds]
    return {"learners": [asdict(x) | {"solved": x.solved} for x in learners]}


def section_timeline(q: bool) -> dict:
    """The run's timeline (benchmarks/timeline.py): its cost in training speed, its bytes per 1,000 episodes."""
    from benchmarks.timeline import measure_all

    return measure_all(1 if q else 6, 30 if q else 300, 50 if q else 1000, ["fast", "notebook"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-sized counts (minutes, not a result)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--before", metavar="FOLDER", help="a checkout of an earlier commit (git worktree add "
                        "/tmp/before COMMIT): the gui and pause sections measure its window too, alternating")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; allowed: {', '.join(SECTIONS)}")
    results_file = ROOT / "benchmarks" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() and args.only != parser.get_default(
        "only") else {}
    for name in chosen:
        log(f"== {name}")
        section = globals()[f"section_{name}"]
        results[name] = section(args.quick, args.before) if name in ("gui", "pause") else section(args.quick)
        results_file.write_text(json.dumps(results))
    if "solve" in results:
        plot_curves(results["solve"])
    write_report(results, args.quick)
    log(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
