"""Tune's figures: trials per hour with 2 worker processes vs 1, env steps the pruner saves, and the
headline: from the notebook's values, a study of at most an hour finds a config that solves
unshaped MountainCar on 3/3 of its seeds, which is then checked on 5 fresh seeds.

Every study runs through the real CLI (`main.py tune`) on a SQLite file of its own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Equal work per trial (a range too narrow to matter), so trials per hour measures the workers alone.
# No re-check in these (`--recheck 0`): they measure the search's own cost.
EVEN_TRIALS = ["--recheck", "0", "--preset", "notebook", "--params", "learning_rate", "--set",
               "learning_rate=1e-3..1.0001e-3", "--objective", "score", "--seeds", "1", "--eval-every", "10",
               "--eval-episodes", "10", "--pruner", "none"]
# A wide search on unshaped MountainCar, where the median pruner has bad trials to cut (the headline's
# knobs: the net's size would make a few trials take most of the time).
PRUNED_SEARCH = ["--recheck", "0", "--preset", "notebook", "--objective", "steps", "--seeds", "1", "--eval-every",
                 "20", "--eval-episodes", "20", "--sampler", "random", "--seed", "3", "--params",
                 "learning_rate,gamma,update_interval,n_step,epsilon_decay,explore_duration,memory_capacity"]
# The knobs the coach names for this run (learning intensity, memory, returns, exploration), not the
# net's size: at 60 minutes, trials of 2-3 gradient steps per env step through a 512-unit net would
# leave TPE a dozen trials.
# The same on CartPole, whose scores differ between configs from the first greedy check on.
PRUNED_SEARCH_CARTPOLE = ["--recheck", "0", "--preset", "cartpole", "--objective", "steps", "--seeds", "1",
                          "--eval-every", "10", "--eval-episodes", "10", "--sampler", "random", "--seed", "3",
                          "--params", "learning_rate,gamma,update_interval,n_step,epsilon_decay,memory_capacity,"
                          "target_update_interval"]
HEADLINE = ["--preset", "notebook", "--objective", "steps", "--seeds", "3", "--budget", "120000", "--jobs", "2",
            "--pruner", "median", "--trials", "500", "--params",
            "learning_rate,gamma,update_interval,n_step,epsilon_decay,explore_duration,memory_capacity"]


def tune(storage: Path, study: str, *args: str) -> float:
    """Run one `tune` to completion; returns its wall seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "main.py", "tune", "--study", study, "--storage", f"sqlite:///{storage}",
                    *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def trials_study(storage: Path, study: str) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=study, storage=f"sqlite:///{storage}")


def trials(storage: Path, study: str) -> list:
    return trials_study(storage, study).get_trials(deepcopy=False)


def jobs_ratio(n_trials: int, budget: int) -> dict:
    """Trials per hour with --jobs 2 and --jobs 1 (alternating, two repeats each), equal trials."""
    out: dict[str, list[float]] = {"1": [], "2": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(2):
            for jobs in ("1", "2"):
                db = Path(tmp) / f"jobs{jobs}_{repeat}.db"
                seconds = tune(db, "even", *EVEN_TRIALS, "--budget", str(budget), "--trials", str(n_trials),
                               "--jobs", jobs)
                out[jobs].append(n_trials / seconds * 3600)
    return {"trials": n_trials, "budget": budget, "trials_per_hour": out,
            "ratio": statistics.median(out["2"]) / statistics.median(out["1"])}


PRUNERS = ("progress", "median", "hyperband", "none")


def pruner_savings(n_trials: int, budget: int, search: list[str] = PRUNED_SEARCH,
                   pruners: tuple[str, ...] = PRUNERS) -> dict:
    """Env steps spent by the same sampled trials (random sampler, one seed) with each pruner and without
    ("none" must be among `pruners`), and whether each kept the best trial (within 10% of its value)."""
    out: dict = {"env": search[search.index("--preset") + 1], "trials": n_trials}
    with tempfile.TemporaryDirectory() as tmp:
        for pruner in pruners:
            db = Path(tmp) / f"{pruner}.db"
            seconds = tune(db, "pruned", *search, "--budget", str(budget), "--trials", str(n_trials),
                           "--pruner", pruner, "--jobs", "2")
            done = trials(db, "pruned")
            out[pruner] = {"seconds": seconds, "env_steps": sum(t.user_attrs.get("env_steps", 0) for t in done),
                           "pruned": sum(t.state.name == "PRUNED" for t in done),
                           "best": min((t.value for t in done if t.state.name == "COMPLETE" and t.value is not None),
                                       default=None)}
    compared = [p for p in pruners if p != "none"]
    out["share"] = {p: out[p]["env_steps"] / out["none"]["env_steps"] for p in compared}
    best = out["none"]["best"]
    out["best_kept"] = {p: None if best is None or out[p]["best"] is None
                        else abs(out[p]["best"] - best) <= 0.1 * abs(best) for p in compared}
    return out


def headline(timeout: int, storage: Path, check_seeds: tuple[int, ...] = (1000, 1001, 1002, 1003, 1004)) -> dict:
    """The hour-long study (then `tune`'s re-check of its top 3 on 5 unseen seeds), then the best it names
    trained on `check_seeds`, fresh too."""
    seconds = tune(storage, "headline", *HEADLINE, "--timeout", str(timeout))
    return {"seconds": seconds, **found(storage, "headline", check_seeds)}


def found(storage: Path, study: str, check_seeds: tuple[int, ...]) -> dict:
    """What a study found: the best it names (re-checked by `tune` on 5 unseen seeds), and, as before the
    re-check, its best config among those that solved every seed; the named one checked on `check_seeds`."""
    from benchmarks.solve import time_to_solve
    from sandbox.tune.recheck import read_recheck, recheck_json
    from sandbox.tune.results import named_best
    from sandbox.tune.search import SPEC_ATTR, TuneSpec

    loaded = trials_study(storage, study)
    named = named_best(loaded)
    recheck = read_recheck(loaded)
    done = loaded.get_trials(deepcopy=False)
    solving = [t for t in done if t.state.name == "COMPLETE" and all(
        s["solved_at"] is not None for s in t.user_attrs.get("seeds", []))]
    out = {"trials": len(done), "complete": sum(t.state.name == "COMPLETE" for t in done),
           "pruned": sum(t.state.name == "PRUNED" for t in done), "solving_3_of_3": len(solving), "check": [],
           "recheck": json.loads(recheck_json(recheck)) if recheck is not None else None}
    if solving:
        plain = min(solving, key=lambda t: t.value)
        out |= {"best_3_of_3_trial": plain.number, "best_3_of_3_value": plain.value}
    if named is None:
        return out
    best = loaded.trials[named.number]
    out |= {"best_trial": best.number, "best_value": best.value, "best_params": best.params,
            "rechecked": named.recheck is not None,
            "found_after_seconds": (best.datetime_complete - done[0].datetime_start).total_seconds()}
    config = TuneSpec.from_json(loaded.user_attrs[SPEC_ATTR]).config_for(best.params)
    for seed in check_seeds:
        run = time_to_solve("tuned", config.with_changes(seed=seed), max_steps=120_000)
        out["check"].append({"seed": seed, "solved": run.solved, "steps": run.steps, "seconds": run.seconds,
                             "greedy": run.final_greedy})
    return out
