"""The report `make bench` writes: benchmarks/RESULTS.md (targets, one table per section) and the
solve curves, from the sections' results (benchmarks/run.py measures them)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
CURVES = ROOT / "docs" / "solve_curves.png"
GUI_RUN, GUI_BEFORE = "window, plots, map, render 30 fps", "the same window, before"  # section gui's contenders
NOTES = """Where a target is missed, what limits it (profiled on this machine):

- **SB3 at 256×256, batch 128, 8 gradient steps every 16 env steps** is dense-matrix work that both
  engines pay: per gradient step ours spends ~270 µs on the TD targets, ~800 µs on forward and
  backward (six 128×256×256-sized products, ~85 GFLOP/s on one core) and ~540 µs in fused Adam over
  67k weights; the Python overhead we removed is a small share here. Using the second core for the
  products helped +9 % (with numpy's BLAS held to one thread; without that, both libraries' thread
  pools fight and throughput falls to ~150 steps/s). 2× would need the FLOPs themselves to shrink
  (bf16 matmuls, a smaller net or fewer gradient steps), not engine overhead.
- **GUI overhead** comes from the GIL. PyQt5 holds it through a Python `paintEvent`, C++ QPainter calls
  included (a thread spinning beside a `drawPath` kept 0.6 % of its speed), and each signal the worker
  emits lets the window's slots take it while training waits. Done (issue 24): each curve is given at
  most two points per pixel column (its minimum and maximum, kept between redraws and extended by the
  new points), only a changed curve is redrawn, the views fit their ranges before the paint (one paint
  per redraw, not two), no axis label is rebuilt at each range change, the best mark waits for the
  redraw, views nobody can see draw nothing and catch up when shown, and MountainCar is a scene Qt
  paints in C++. The GUI thread's CPU share fell from 10 % to 5 %; the window went from 83 % to 87 %
  of headless (85 % in CPU time). What is left is mostly the worker's own: the kept best agent is a
  full agent-file snapshot (`to_bytes`, with diagnostics and a self-check) at every new best moving
  average, ~5 ms each, 83 of them in the first 80,000 notebook steps (2.9 % of training, growing with
  the history); then the map and diagnostics every 2 s (~3 ms) and the GUI thread's remaining Python
  (pyqtgraph's paint ~5 ms per redraw). 95 % needs the best snapshot kept in memory and serialised only
  when it is saved or restored, or training in a subprocess.
- **Tune's median pruner saves nothing at a 60k-step budget on MountainCar** (on CartPole it spends
  48 %; Hyperband spends 72 % on MountainCar but loses the best trial there, 62 % on CartPole).
  What the pruner sees now tells unsolved trials apart by their training moving average (greedy
  means are all -200 until the first flag), but the median pruner only cuts a trial worse than the
  median, and here 7 of the 16 sampled configs never reach the flag even in training, among them
  all 5 startup trials: the median *is* the hopeless value for most of the study, and a tie with it
  is not pruned. (The 6 it "pruned" in the previous run were cut at their last report, fully
  trained; a last report no longer prunes.) In the hour-long study (120k steps, 3 seeds, TPE,
  measured before these changes) it pruned 39 of 59 trials."""



def median(values: list[float]) -> float:
    return statistics.median(values)


def gui_lines(g: dict) -> list[str]:
    """§4: the method, a table of the contenders' medians and ratios, and the load the runs ran beside."""
    lines = ["Headless training (20,000 env steps) and the real main window (offscreen; 15 s of training with the "
             "plots updating, the map tab shown and MountainCar drawn live in fast mode) alternate run by run, each "
             "in a fresh process" + (f", and so does the same window at commit {g['before']} (measured by this "
             "commit's script: `python -m benchmarks.run --only gui --before FOLDER`)" if g.get("before") else "")
             + ". Wall clock: steps/s. CPU: steps per second of the process's CPU time, all its threads: painting "
             "holds the GIL (PyQt5 keeps it during QPainter calls), so the window's CPU time is what training "
             "loses, and other processes on the machine disturb this figure far less than the wall clock.", "",
             "| contender | steps/s (median) | runs | ÷ headless | steps per CPU-second (median) | ÷ headless | "
             "GUI thread's CPU share |", "|---|---:|---|---:|---:|---:|---:|"]
    h_wall, h_cpu = median(g["runs"]["headless"]), median(g["cpu"]["headless"])
    for name, runs in g["runs"].items():
        wall, cpu = median(runs), median(g["cpu"][name])
        share = f"{median(g['gui_cpu'][name]):.1%}" if name in g["gui_cpu"] else "—"
        ratio = "—" if name == "headless" else f"**{wall / h_wall:.0%}**"
        cpu_ratio = "—" if name == "headless" else f"**{cpu / h_cpu:.0%}**"
        lines.append(f"| {name} | {wall:,.0f} | {', '.join(f'{r:,.0f}' for r in runs)} | {ratio} | {cpu:,.0f} | "
                     f"{cpu_ratio} | {share} |")
    load = g["load"]
    lines += ["", f"Load average (1 min) when each run started: {min(load):.1f}–{max(load):.1f}, median "
              f"{median(load):.1f}, on {os.cpu_count()} cores: other agents' jobs ran beside these runs, so the wall "
              "clock varies from run to run by more than the differences measured; the CPU figure is the steadier."]
    return lines


def pause_lines(p: dict) -> list[str]:
    """§5's pause line: the method and the distribution (and an earlier commit's, when measured)."""
    def spread(data: dict) -> str:
        return " · ".join(f"{where}: median **{median(data[where]) * 1000:.1f} ms**, max {max(data[where]) * 1000:.1f} "
                          f"ms ({len(data[where])} pauses)" for where in ("evaluating", "training"))

    lines = ["- Pause to paused, measured in the real window (offscreen) from the action to the paused state "
             "reaching the window's session (the moment its signal is delivered in the window's own event loop), "
             "at a random moment (0–120 ms in) of a greedy evaluation (200 MountainCar episodes after every "
             f"episode) and of training, alternately: {spread(p)}."]
    if "before" in p:
        lines.append(f"  The same measurement of commit {p['before']['commit']}: {spread(p['before'])}.")
    lines.append("  Before the evaluation ran in slices, a pause during one waited for all of it (0.3–0.7 s for 100 "
                 "MountainCar episodes).")
    return lines


def threads_table(data: dict) -> list[str]:
    rows = ["| hidden units | beside | ours (steps/s) | plain torch path (steps/s) | ours ÷ plain |",
            "|---|---|---|---|---|"]
    for key, runs in data.items():
        units, load = key.split("/")
        ours, plain = median(runs["ours"]), median(runs["plain torch"])
        rows.append(f"| {units} | {'a busy process' if load == 'busy' else 'nothing'} | {ours:,.0f} | {plain:,.0f} | "
                    f"**{ours / plain:.2f}×** |")
    return rows


def timeline_lines(data: dict) -> list[str]:
    """§9: training speed with and without the timeline, and what it holds after 1,000 episodes."""
    lines = [f"Training speed, env steps per CPU-second of the process ({data['episodes']} episodes, seed 11, fresh "
             "processes, the two alternating round by round; medians):", "",
             "| preset | without a timeline | with | change | rounds |", "|---|---:|---:|---:|---:|"]
    for preset, runs in data["speed"].items():
        off, on = statistics.median(runs["off"]), statistics.median(runs["on"])
        lines.append(f"| {preset} | {off:,.0f} | {on:,.0f} | {100 * (on / off - 1):+.1f} % | {len(runs['off'])} |")
    lines += ["", "Run to run, those medians move by more than the timeline costs. Its own CPU time, measured inside "
              "the run, is the share in the next table: what it adds, with no other process in the figure.", "",
              "| preset | episodes | env steps | time in the timeline | checkpoints | held in memory | agent file "
              "without → with it | to encode without → with | to load with it |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in data["sizes"]:
        lines.append(f"| {s['preset']} | {s['episodes']:,} | {s['steps']:,} | {100 * s['timeline_share']:.2f} % | "
                     f"{s['checkpoints']} | {s['held_bytes'] / 1e6:.1f} MB ({s['log_bytes'] / 1e6:.1f} MB log, "
                     f"{s['checkpoint_bytes'] / 1e6:.1f} MB checkpoints) | {s['file_without_bytes'] / 1e6:.1f} → "
                     f"{s['file_with_bytes'] / 1e6:.1f} MB | {s['file_without_seconds']:.2f} → "
                     f"{s['file_with_seconds']:.2f} s | {s['load_with_seconds']:.2f} s |")
    lines += ["", "A checkpoint is taken at the start, after every greedy evaluation and at least every 20 episodes; "
              "the log holds 36 bytes a MountainCar transition. Beyond 48 MB the oldest checkpoints move to an "
              "anonymous file in the data folder, so a longer run's memory stays bounded."]
    return lines


def coach_lines(data: dict) -> list[str]:
    """§7: per start and seed, the outcome; then, round by round, the hint whose top suggestion was applied."""
    from benchmarks.coach import BUDGETS, STARTS

    learners = data["learners"]
    starts = list(dict.fromkeys(x["start"] for x in learners))
    solved = sum(x["solved"] for x in learners)
    seeds = sorted({x["seed"] for x in learners})
    lines = ["Each start is a shipped preset with one or two faults planted; train one run (at most "
             + ", ".join(f"{b // 1000}k env steps on {e}" for e, b in BUDGETS.items())
             + "), apply the diagnostics' top suggestion and nothing else, repeat, at most 10 rounds; each run "
             "judged by the app's solve rule (a 100-episode greedy evaluation every 20 episodes). Goal: every "
             f"start solved within 10 rounds on every seed. Ran: {len(starts)} starts × seeds "
             f"{', '.join(map(str, seeds))}: **{solved} of {len(learners)} solved**; "
             f"{sum(not x['rounds'][0]['solved'] for x in learners)} of them needed coaching (the rest solved "
             "despite the planted faults, in round 1).", "",
             "| start | env | planted | seed | solved | rounds | env steps in all | best greedy mean, last round |",
             "|---|---|---|---|---|---|---|---|"]
    for x in learners:
        planted = ", ".join(f"{k} {v}" for k, v in STARTS[x["start"]].faults.items())
        lines.append(f"| {x['start']} | {x['env_id']} | {planted} | {x['seed']} | {'yes' if x['solved'] else 'no'} | "
                     f"{len(x['rounds'])} | {sum(r['steps'] for r in x['rounds']):,} | {x['rounds'][-1]['best']:.1f} |")
    lines += ["", "Which hint fired after each unsolved round, and the change applied (its top suggestion):", "",
              "| start | seed | round: hint → change |", "|---|---|---|"]
    for x in learners:
        rounds = x["rounds"]
        fired = [f"{i + 1}: {r['hint']} → {rounds[i + 1]['config_change']}" for i, r in enumerate(rounds[:-1])]
        end = "solved" if x["solved"] else (f"{x['rounds'][-1]['hint']} (rounds used up)" if x["rounds"][-1]["hint"]
                                            else "the coach was silent")
        fired.append(f"{len(x['rounds'])}: {end}")
        lines.append(f"| {x['start']} | {x['seed']} | {' · '.join(fired)} |")
    return lines


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("torch", "gymnasium", "numpy", "PyQt5",
                                                                 "stable-baselines3") if _installed(p))
    return f"{cpu}, {os.cpu_count()} cores, no GPU; Python {platform.python_version()}; {versions}"


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def throughput_table(data: dict, ours: str) -> list[str]:
    runs = data["runs"]
    best_peer = max(median(v) for k, v in runs.items() if k != ours)
    lines = ["| contender | steps/s (median) | runs | ratio ours / this |", "|---|---:|---|---:|"]
    for name, values in runs.items():
        ratio = "—" if name == ours else f"**{median(runs[ours]) / median(values):.2f}×**"
        lines.append(f"| {name} | {median(values):,.0f} | {', '.join(f'{v:,.0f}' for v in values)} | {ratio} |")
    lines.append(f"\nOurs vs the faster peer setting: **{median(runs[ours]) / best_peer:.2f}×** "
                 f"({data['steps']:,} env steps per run, from a fresh agent).")
    return lines


def solve_table(data: dict) -> list[str]:
    lines = ["| preset | seed | solved | env steps | train s | s incl. evaluations | final greedy | best greedy |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for preset, runs in data.items():
        for r in runs:
            lines.append(f"| {preset} | {r['seed']} | {'yes' if r['solved'] else 'no'} | {r['steps']:,} | "
                         f"{r['train_seconds']:.1f} | {r['seconds']:.1f} | {r['final_greedy']:.1f} | "
                         f"{r['best_greedy']:.1f} |")
    lines.append("")
    for preset, runs in data.items():
        solved = [r for r in runs if r["solved"]]
        summary = f"- **{preset}**: solved {len(solved)}/{len(runs)}"
        if solved:
            summary += (f"; env steps median {median([r['steps'] for r in solved]):,.0f}, max "
                        f"{max(r['steps'] for r in solved):,}; wall s (incl. evaluations) max "
                        f"{max(r['seconds'] for r in solved):.1f}; greedy at solve mean "
                        f"{statistics.mean(r['final_greedy'] for r in solved):.1f}")
        lines.append(summary)
    return lines


def sb3_contenders(results: dict) -> dict[str, list[dict]]:
    """SB3's time-to-solve runs and ours (section 3) on the same seeds, by contender."""
    runs = {"SB3 DQN (RL Zoo)": results["sb3_solve"]["runs"]}
    seeds = [r["seed"] for r in runs["SB3 DQN (RL Zoo)"]]
    return runs | {p: [r for r in results.get("solve", {}).get(p, []) if r["seed"] in seeds] for p in ("nstep", "fast")}


def sb3_solve_table(results: dict) -> list[str]:
    budget = results["sb3_solve"]["budget"]
    lines = ["| contender | seed | solved | env steps | train s | s to solve incl. evaluations | last greedy |",
             "|---|---:|---|---:|---:|---:|---:|"]
    runs = sb3_contenders(results)
    for name, rs in runs.items():
        lines += [f"| {name} | {r['seed']} | {'yes' if r['solved'] else 'no'} | {r['steps']:,} | "
                  f"{r['train_seconds']:.1f} | {r['seconds']:.1f} | {r['final_greedy']:.1f} |" for r in rs]
    medians = {name: median([r["seconds"] for r in rs]) for name, rs in runs.items() if rs}
    sb3 = medians.pop("SB3 DQN (RL Zoo)")
    lines += ["", f"Budget {budget:,} env steps; an unsolved run counts the seconds its whole budget took. Median "
              f"seconds to a solved agent: SB3 {sb3:.1f}; " + "; ".join(
                  f"{name} {m:.1f} (**{sb3 / m:.1f}×** faster)" for name, m in medians.items()) + "."]
    return lines


def quality_table(data: dict) -> list[str]:
    lines = ["| preset | seed | solved at (env steps) | s to solve | greedy at solve: 100 / 1,000 ep. | best kept: "
             "100 / 1,000 ep. (at steps) | final agent, 1,000 ep. | env steps | training s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for preset, runs in data.items():
        lines += [f"| {preset} | {r['seed']} | {r['solve_steps']:,} | {r['solve_seconds']:.1f} | "
                  f"{r['solve_greedy100']:.1f} / {r['solve_greedy1000']:.1f} | {r['best_greedy100']:.1f} / "
                  f"{r['best_greedy1000']:.1f} ({r['best_steps']:,}) | {r['final_greedy1000']:.1f} | {r['steps']:,} | "
                  f"{r['seconds']:.1f} |" for r in runs]
    return lines


def tune_lines(results: dict) -> list[str]:
    lines = ["## 8. Tune", ""]
    if "tune" in results:
        jobs = results["tune"]["jobs"]
        per_hour = jobs["trials_per_hour"]
        lines += [f"- **Worker processes**: {jobs['trials']} equal trials ({jobs['budget']:,} env steps each, "
                  f"one seed), two alternating repeats: `--jobs 1` {', '.join(f'{x:,.0f}' for x in per_hour['1'])}"
                  f" trials/hour, `--jobs 2` {', '.join(f'{x:,.0f}' for x in per_hour['2'])}: "
                  f"**{jobs['ratio']:.2f}×**."]
        for key, env in (("pruner", "unshaped MountainCar"), ("pruner_cartpole", "CartPole")):
            if key in results["tune"]:
                p = results["tune"][key]
                spent = "; ".join(f"the {name} pruner {p[name]['env_steps']:,} (**{p['share'][name]:.0%}**), pruning "
                                  f"{p[name]['pruned']}, best value {p[name]['best']:,.0f}" for name in p["share"])
                lines.append(f"- **Pruners, {env}**: the same {p['trials']} random-sampled "
                             f"trials (one seed) spent {p['none']['env_steps']:,} env steps without pruning, best "
                             f"value {p['none']['best']:,.0f}; {spent}.")
        lines.append("")
    if "tune_study" in results:
        h = results["tune_study"]
        from benchmarks.tune_bench import HEADLINE

        lines += [f"**From the notebook's values to a solve** (`rl-sandbox tune {' '.join(HEADLINE)} --timeout "
                  f"3000`, unshaped MountainCar, the knobs the coach names): {h['trials']} trials in "
                  f"{h['seconds'] / 60:.0f} minutes ({h['complete']} complete, {h['pruned']} pruned); "
                  f"{h['solving_3_of_3']} of them solved all 3 of their seeds."]
        if h.get("best_params"):
            params = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in h["best_params"].items())
            lines += ["", f"Best of those: trial #{h['best_trial']} (median {h['best_value']:,.0f} env steps to "
                      f"solve), found {h['found_after_seconds'] / 60:.0f} minutes in: {params}.", "",
                      "That config on 5 fresh seeds (same solve rule, 120k steps):", "",
                      "| seed | solved | env steps | s incl. evaluations | greedy at the end |",
                      "|---:|---|---:|---:|---:|",
                      *[f"| {c['seed']} | {'yes' if c['solved'] else 'no'} | {c['steps']:,} | {c['seconds']:.1f} | "
                        f"{c['greedy']:.1f} |" for c in h["check"]],
                      "", "A config found on 3 seeds that solves them late in the budget generalises to about "
                      "half of fresh seeds within the same budget: 3 seeds per trial keep a lucky trial from "
                      "winning, not an unlucky seed from failing. For comparison, the shipped `nstep` preset "
                      "(random actions held up to 100 steps, 5-step returns) solves 5/5 seeds well inside 120k "
                      "steps (section 3)."]
        lines.append("")
    return lines


def plot_curves(data: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(data), figsize=(5 * len(data), 3.8), sharey=True)
    for ax, (preset, runs) in zip(axes, data.items(), strict=True):
        for i, r in enumerate(runs):
            color = plt.cm.tab10(i)
            steps = [p[0] for p in r["curve"]]
            ax.plot(steps, [p[1] for p in r["curve"]], color=color, lw=1, alpha=0.8,
                    label=f"seed {r['seed']} mean100" if i == 0 else None)
            evals = [(p[0], p[2]) for p in r["curve"] if p[2] is not None]
            if evals:
                ax.plot(*zip(*evals, strict=True), "o", color=color, ms=3, alpha=0.9,
                        label="greedy eval (100 ep.)" if i == 0 else None)
        ax.axhline(-110, color="green", ls="--", lw=1, label="solved (-110)")
        ax.set_title(f"{preset}: {sum(r['solved'] for r in runs)}/{len(runs)} seeds solved")
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("score")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    CURVES.parent.mkdir(exist_ok=True)
    fig.savefig(CURVES, dpi=90)


def targets(results: dict) -> list[str]:
    """The issue's targets against this run's figures."""
    rows = []

    def ratio(section: str, ours: str) -> float:
        runs = results[section]["runs"]
        return median(runs[ours]) / max(median(v) for k, v in runs.items() if k != ours)

    if "throughput" in results:
        r = ratio("throughput", "ours (notebook preset)")
        rows.append(("throughput ≥ 3× the notebook loop", f"{r:.2f}×", r >= 3))
    if "sb3" in results:
        r = ratio("sb3", "ours (RL Zoo hyperparameters)")
        rows.append(("throughput ≥ 2× SB3 DQN", f"{r:.2f}×", r >= 2))
    if "solve" in results:
        fast = results["solve"].get("fast", [])
        ok = [x for x in fast if x["solved"] and x["seconds"] <= 60]
        rows.append(("`fast` solves 5/5 seeds in ≤ 60 s each", f"{len(ok)}/{len(fast)}", len(ok) == 5))
        unshaped = results["solve"].get("nstep", [])
        ok = [x for x in unshaped if x["solved"] and x["steps"] <= 120_000]
        rows.append(("unshaped preset (`nstep`) solves 5/5 within 120k steps", f"{len(ok)}/{len(unshaped)}",
                     len(ok) == 5))
        best = max((statistics.mean(x["final_greedy"] for x in runs), name)
                   for name, runs in results["solve"].items() if all(x["solved"] for x in runs))
        rows.append(("greedy mean of the best preset ≥ -105", f"{best[0]:.1f} ({best[1]})", best[0] >= -105))
    if "quality" in results:
        runs = [r for rs in results["quality"].values() for r in rs]
        worst = min(r["best_greedy1000"] for r in runs)
        final = min(r["final_greedy1000"] for r in runs)
        rows.append(("MountainCar presets' best agent ≥ -101 over 1,000 greedy episodes, unseen seeds (worst seed)",
                     f"{worst:.1f} (final agent: worst {final:.1f})", worst >= -101 and all(r["solved"] for r in runs)))
    if "sb3_solve" in results and "solve" in results:
        runs = sb3_contenders(results)
        sb3 = median([r["seconds"] for r in runs["SB3 DQN (RL Zoo)"]])
        ours = median([r["seconds"] for r in runs["nstep"]])
        rows.append(("time to a solved agent ≥ 5× faster than SB3 (unshaped `nstep` vs SB3, medians)",
                     f"{sb3 / ours:.1f}×", sb3 / ours >= 5))
    if "tune" in results:
        r = results["tune"]["jobs"]["ratio"]
        rows.append(("Tune: trials/hour with --jobs 2 ≥ 1.8× --jobs 1", f"{r:.2f}×", r >= 1.8))
        pruned = {env: results["tune"][key] for key, env in (("pruner", "MountainCar"), ("pruner_cartpole", "CartPole"))
                  if key in results["tune"]}

        def kept_best(p: dict, name: str) -> bool:  # the steps objective: within 10 % of the unpruned best
            return p[name]["best"] <= 1.1 * p["none"]["best"]

        rows.append(("Tune: a pruner spends ≤ 50 % of the env steps and keeps the best trial (within 10 %)",
                     " · ".join(f"{env}: " + ", ".join(
                         f"{name} {share:.0%}{'' if kept_best(p, name) else ' (lost the best)'}"
                         for name, share in p["share"].items()) for env, p in pruned.items()),
                     all(any(share <= 0.5 and kept_best(p, name) for name, share in p["share"].items())
                         for p in pruned.values())))
    if "timeline" in results:
        t = results["timeline"]
        share = max(s["timeline_share"] for s in t["sizes"])
        rows.append(("Timeline: training speed cost ≤ 3 % (CPU time inside it)", f"{100 * share:.2f} %", share <= 0.03))
        held = max(s["held_bytes"] * 1000 / s["episodes"] for s in t["sizes"])
        rows.append(("Timeline: ≤ 50 MB in memory per 1,000 MountainCar episodes", f"{held / 1e6:.1f} MB",
                     held <= 50e6))
    if "tune_study" in results:
        h = results["tune_study"]
        fresh = sum(c["solved"] for c in h["check"])
        rows.append(("Tune from the notebook's values, ≤ 60 min: a config solving 3/3 (then 5 fresh seeds)",
                     f"{h['solving_3_of_3']} found; {fresh}/5 fresh seeds solve", h["solving_3_of_3"] > 0))
    if "gui" in results:
        g = results["gui"]
        wall, cpu = (median(g[key][GUI_RUN]) / median(g[key]["headless"]) for key in ("runs", "cpu"))
        before = ""
        if GUI_BEFORE in g["runs"]:
            b_wall, b_cpu = (median(g[key][GUI_BEFORE]) / median(g[key]["headless"]) for key in ("runs", "cpu"))
            before = f"; before ({g['before']}): {b_wall:.0%}, CPU {b_cpu:.0%}"
        rows.append(("GUI (plots, map, render) ≥ 95 % of headless", f"{wall:.0%}, CPU time {cpu:.0%}{before}",
                     wall >= 0.95))
    if "launch" in results:
        t = median(results["launch"]["seconds"])
        rows.append(("launch ≤ 3 s", f"{t:.2f} s", t <= 3))
    if "exit" in results:
        t = max(median(results["exit"]["idle"]), median(results["exit"]["training"]))
        rows.append(("exit ≤ 1 s after the window closes, beside 2 busy processes", f"{t:.2f} s", t <= 1))
    if "pause" in results:
        p = results["pause"]
        worst = max(max(p["evaluating"]), max(p["training"]))
        rows.append(("Pause lands within a tick, during an evaluation too (≤ 20 ms; window round trip)",
                     f"median {median(p['evaluating']) * 1000:.0f} ms in evaluations, "
                     f"{median(p['training']) * 1000:.0f} ms in training; worst {worst * 1000:.0f} ms",
                     max(median(p["evaluating"]), median(p["training"])) <= 0.02))
    if "recovery" in results:
        r = results["recovery"]
        cost = median(r["seconds"]) / r["interval"]
        rows.append((f"recovery copy every {r['interval']} s costs < 2 % of training", f"{cost:.2%}", cost < 0.02))
    if "rss" in results:
        r = results["rss"]
        grow = r[str(r["second"])] - r[str(r["first"])]
        rows.append(("memory flat, 1,000 → 20,000 episodes", f"+{grow:.0f} MB", grow < 50))
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if met else '**no**'} |" for name, value, met in rows]
    return lines


def write_report(results: dict, quick: bool) -> None:
    note = " (--quick: smoke-sized counts, not a result)" if quick else ""
    lines = ["# Benchmark results", "",
             f"Written by `make bench` on {time.strftime('%Y-%m-%d')}{note}.",
             f"Machine: {machine()}.", "", "## Targets", "", *targets(results), "", NOTES, ""]
    if "throughput" in results:
        lines += ["## 1. Throughput vs the notebook's loop (notebook hyperparameters)", "",
                  *throughput_table(results["throughput"], "ours (notebook preset)"), ""]
    if "sb3" in results:
        lines += ["## 2. Throughput vs Stable-Baselines3 DQN (RL Zoo's MountainCar hyperparameters)", "",
                  "Train every 16 steps, 8 gradient steps, batch 128, 256×256, buffer 10k; SB3's DQN is not Double "
                  "DQN, so ours runs with `double_dqn = false` too.", "",
                  *throughput_table(results["sb3"], "ours (RL Zoo hyperparameters)"), ""]
    if "solve" in results:
        lines += ["## 3. Time to solve MountainCar-v0", "",
                  "Training until a 100-episode greedy evaluation (every 20 episodes, on the env's true reward, "
                  "separately seeded) reaches -110. `train s` excludes the evaluations.", "",
                  *solve_table(results["solve"]), "", "![solve curves](../docs/solve_curves.png)", ""]
    if "sb3_solve" in results:
        lines += ["## 3b. Time to a solved agent vs Stable-Baselines3", "",
                  "SB3 DQN with RL Zoo's MountainCar hyperparameters under our solve rule (a 100-episode greedy "
                  "evaluation every 20 training episodes, each on its own env seeded from (seed, k), the env's "
                  "true reward; stop at the first reaching -110), same seeds; ours from section 3.", "",
                  *sb3_solve_table(results), ""]
    if "quality" in results:
        lines += ["## 3c. How good the delivered agent is (`python -m benchmarks.quality`)", "",
                  "The MountainCar presets train on after solving to their budget (`stop_when_solved = false`, "
                  "1,000 episodes) and keep the best agent by greedy evaluation. On seeds no preset was tuned "
                  "on, each agent is judged on 1,000 greedy episodes of a fresh env. RL Zoo's published "
                  "DQN score is -100.8 ± 9.9.", "", *quality_table(results["quality"]), ""]
    if "gui" in results:
        lines += ["## 4. GUI overhead (notebook preset)", "", *gui_lines(results["gui"]), ""]
    if "launch" in results:
        secs = results["launch"]["seconds"]
        lines += ["## 5. Launch and memory", "",
                  f"- Launch to window shown with its agent ready: median **{median(secs):.2f} s** "
                  f"(runs: {', '.join(f'{s:.2f}' for s in secs)}).", ""]
    if "exit" in results:
        e = results["exit"]
        lines += [f"- Window closed to process exited, beside two busy processes: idle median "
                  f"**{median(e['idle']):.2f} s**, mid-training **{median(e['training']):.2f} s** (runs: "
                  f"{', '.join(f'{s:.2f}' for s in e['idle'])} / {', '.join(f'{s:.2f}' for s in e['training'])}).", ""]
    if "pause" in results:
        lines += [*pause_lines(results["pause"]), ""]
    if "recovery" in results:
        r = results["recovery"]
        secs = median(r["seconds"])
        lines += [f"- Recovery copy (`fast` preset, {r['memory']:,} transitions in memory, {r['bytes'] / 1e6:.1f} MB): "
                  f"median **{secs * 1000:.0f} ms** of the worker's time every {r['interval']} s of unsaved "
                  f"training = **{secs / r['interval']:.2%}** of training time (runs: "
                  f"{', '.join(f'{s * 1000:.0f}' for s in r['seconds'])} ms).", ""]
    if "rss" in results:
        r = results["rss"]
        first, second = r[str(r["first"])], r[str(r["second"])]
        lines += [f"- Peak RSS headless (CartPole, random policy, learning every 5 steps): {first:.0f} MB after "
                  f"{r['first']:,} episodes, {second:.0f} MB after {r['second']:,} episodes ({r['steps']:,} steps, "
                  f"{r['losses']:,} losses kept): +{second - first:.0f} MB, the history itself.", ""]
    if "threads" in results:
        lines += ["## 6. Thread pools under load", "",
                  "Same hyperparameters (the notebook's, at three net sizes); ours holds torch and numpy's BLAS "
                  "to one thread at its entry point (threadpoolctl); the plain torch path keeps torch's default "
                  "threads and numpy's own BLAS pool, which spin-waits.", "", *threads_table(results["threads"]), ""]
    if "coach" in results:
        lines += ["## 7. The coach alone leads to a solve (`python -m benchmarks.coach`)", "",
                  *coach_lines(results["coach"]), ""]
    if "tune" in results or "tune_study" in results:
        lines += tune_lines(results)
    if "timeline" in results:
        lines += ["## 9. The run's timeline (`python -m benchmarks.timeline`)", "",
                  *timeline_lines(results["timeline"]), ""]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
