"""The re-check: before a study names its best, its top trials train again on seeds no trial saw.

A study's best value is the best of many draws on the same few seeds: the winner is partly the config
and partly its luck on those seeds (the hour-long MountainCar study's best solved its 3 seeds and 2 of
5 fresh ones, benchmarks/RESULTS.md §8). So the `RECHECK_TOP` trials with the best values are each
trained on `RECHECK_SEEDS` fresh seeds, scored as trials are (the same objective, the median over the
seeds), and the study's best is the best of them on that re-check.

The fresh seeds are taken in order from `SEED_OFFSET` above the base config's seed, skipping every seed
a trial trained (from the spec and from each trial's recorded seeds): reproducible, and disjoint from
them. The results are stored in the study (user attribute `RECHECK_ATTR`), keyed by trial, so `tune
show` and the app read them back, and a continued study re-checks only trials it has not re-checked on
those seeds. A stored re-check is untrusted input like the rest of a study: what is malformed in it is
left out, never raised on.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import statistics
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.core.config import Config, ConfigError
from sandbox.tune.search import TuneSpec, run_trial, trial_seeds

if TYPE_CHECKING:
    import optuna

RECHECK_ATTR = "rl_sandbox_recheck"
RECHECK_TOP = 3  # trials re-checked
RECHECK_SEEDS = 5  # fresh seeds each
SEED_OFFSET = 1_000_000  # fresh seeds start this far above the base config's seed
MAX_STORED = 1000  # re-checked trials read back from a stored re-check


@dataclass(frozen=True)
class Rechecked:
    """One trial's re-check: its study value, its value on the fresh seeds and their summaries."""

    number: int
    study_value: float
    value: float
    seeds: tuple[dict, ...]

    @property
    def solved(self) -> int:
        return sum(isinstance(s, dict) and s.get("solved_at") is not None for s in self.seeds)


@dataclass(frozen=True)
class Recheck:
    """A study's re-check: the fresh seeds, the trials re-checked (best study value first) and the best of them."""

    seeds: tuple[int, ...]
    trials: tuple[Rechecked, ...]
    best: Rechecked | None


def top_trials(study: optuna.Study, n: int) -> list[Any]:
    """The `n` complete trials with the best values (the lowest number first on ties)."""
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None
              and math.isfinite(t.value)]
    sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0
    return sorted(trials, key=lambda t: (sign * float(t.value or 0.0), t.number))[:n]


def trained_seeds(study: optuna.Study, spec: TuneSpec) -> set[int]:
    """Every seed a trial of the study trained: the spec's, and those its trials recorded."""
    used = set(trial_seeds(Config.from_dict(spec.base), spec))
    for t in study.get_trials(deepcopy=False):
        seeds = t.user_attrs.get("seeds")
        for s in seeds if isinstance(seeds, list) else []:
            seed = s.get("seed") if isinstance(s, dict) else None
            if isinstance(seed, int) and not isinstance(seed, bool):
                used.add(seed)
    return used


def fresh_seeds(study: optuna.Study, spec: TuneSpec, n: int = RECHECK_SEEDS) -> list[int]:
    """`n` seeds no trial trained, in order from SEED_OFFSET above the base seed."""
    used = trained_seeds(study, spec)
    seed, out = (int(spec.base.get("seed", 0)) + SEED_OFFSET) % 2**31, list[int]()
    while len(out) < n:
        if seed not in used:
            out.append(seed)
        seed = (seed + 1) % 2**31
    return out


def _quiet(step: int, value: float, final: bool) -> None:
    """No pruner in a re-check: every seed trains to its end."""


def run_seed(spec_json: str, params: dict[str, Any], seed: int) -> tuple[float, dict]:
    """One fresh seed of one trial's config: (its value, its summary). A process pool's task."""
    spec = TuneSpec.from_json(spec_json)
    value, summaries = run_trial(spec.config_for(params), spec, _quiet, seeds=[seed])
    return value, summaries[0]


def _init_worker() -> None:
    from sandbox.core.trainer import limit_threads

    limit_threads()


class RecheckStopped(Exception):
    """`stop` was set during a re-check: its processes are ended and nothing is stored."""


def _in_processes(tasks: list[tuple[str, dict, int]], jobs: int,
                  stop: threading.Event | None) -> list[tuple[float, dict]]:
    """`run_seed` over `tasks` in `jobs` spawned processes; ended (RecheckStopped) as soon as `stop` is set."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(min(jobs, len(tasks)), initializer=_init_worker) as pool:  # leaving it terminates the processes
        pending = [pool.apply_async(run_seed, task) for task in tasks]
        for job in pending:
            while stop is not None and not job.ready():
                if stop.wait(0.2):
                    raise RecheckStopped("stopped during the re-check")
        return [job.get() for job in pending]


def run_recheck(study: optuna.Study, spec: TuneSpec, jobs: int = 1, top: int = RECHECK_TOP,
                n_seeds: int = RECHECK_SEEDS, in_process: bool | None = None,
                stop: threading.Event | None = None) -> Recheck | None:
    """Re-check the study's `top` trials on `n_seeds` fresh seeds (in `jobs` spawned processes; here when
    `in_process`, by default with one job), store the results in the study and return them; None without a
    complete trial. Trials already re-checked on the same seeds are not run again."""
    chosen = top_trials(study, top)
    if not chosen:
        return None
    seeds = fresh_seeds(study, spec, n_seeds)
    known = read_recheck(study)
    cached = {r.number: r for r in known.trials} if known is not None and list(known.seeds) == seeds else {}
    tasks = []
    for t in chosen:
        if t.number in cached:
            continue
        try:
            spec.config_for(t.params)
        except ConfigError:  # a stored trial whose params this version refuses: it cannot be re-checked
            continue
        tasks += [(t, seed) for seed in seeds]
    spec_json = spec.to_json()
    work = [(spec_json, dict(t.params), seed) for t, seed in tasks]
    if not work:
        results = []
    elif in_process if in_process is not None else jobs <= 1:
        results = [run_seed(*task) for task in work]
    else:
        results = _in_processes(work, max(1, jobs), stop)
    runs: dict[int, list[tuple[float, dict]]] = {}
    for (t, _seed), result in zip(tasks, results, strict=True):
        runs.setdefault(t.number, []).append(result)
    trials = []
    for t in chosen:
        if t.number in cached:
            trials.append(Rechecked(t.number, float(t.value), cached[t.number].value, cached[t.number].seeds))
        elif t.number in runs:
            got = runs[t.number]
            trials.append(Rechecked(t.number, float(t.value), statistics.median(v for v, _ in got),
                                    tuple(s for _, s in got)))
    done = Recheck(tuple(seeds), tuple(trials), best_of(trials, spec.direction))
    store = {"seeds": seeds, "trials": {str(r.number): {"study_value": r.study_value, "value": r.value,
                                                        "seeds": list(r.seeds)} for r in trials}}
    study.set_user_attr(RECHECK_ATTR, store)
    return done


def best_of(trials: list[Rechecked], direction: str) -> Rechecked | None:
    """The best on the re-check; ties go to the better study value, then the lower number."""
    if not trials:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    return min(trials, key=lambda r: (sign * r.value, sign * r.study_value, r.number))


def _finite(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def recheck_from_attrs(attrs: dict[str, Any], direction: str) -> Recheck | None:
    """A study's stored re-check (its user attributes `attrs`), the well-formed part; None if it has none."""
    raw = attrs.get(RECHECK_ATTR)
    if not isinstance(raw, dict):
        return None
    seeds = raw.get("seeds")
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        return None
    stored = raw.get("trials")
    trials = []
    for key, entry in list(stored.items())[:MAX_STORED] if isinstance(stored, dict) else []:
        if not (isinstance(key, str) and key.isdigit() and len(key) < 12 and isinstance(entry, dict)):
            continue
        value, study_value = _finite(entry.get("value")), _finite(entry.get("study_value"))
        summaries = entry.get("seeds")
        if value is None or study_value is None or not isinstance(summaries, list):
            continue
        trials.append(Rechecked(int(key), study_value, value,
                                tuple(s for s in summaries[:len(seeds)] if isinstance(s, dict))))
    if not trials:
        return None
    return Recheck(tuple(seeds[:100]), tuple(trials), best_of(trials, direction))


def read_recheck(study: optuna.Study) -> Recheck | None:
    return recheck_from_attrs(study.user_attrs, "maximize" if study.direction.name == "MAXIMIZE" else "minimize")


def recheck_json(recheck: Recheck) -> str:
    """The re-check as one JSON line (for benchmarks and logs)."""
    return json.dumps({"seeds": list(recheck.seeds), "best": recheck.best.number if recheck.best else None,
                       "trials": [{"number": r.number, "study_value": r.study_value, "value": r.value,
                                   "solved": r.solved} for r in recheck.trials]})
