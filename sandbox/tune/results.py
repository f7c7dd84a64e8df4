"""What a study found, for people: the best trials, parameter importances, the best config as a
preset file, plain rows for a table, and a search started (and stopped) from the app.

Trials are read from a storage other machines and versions write: an attribute of any JSON type, a
param the config refuses or a name holding terminal escapes is shown as text or refused in one line
(TuneError), never raised on as something else."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.core.config import Config, ConfigError
from sandbox.io.files import PathError, atomic_write, check_output, data_dir, shown_path
from sandbox.io.text import cut, escaped, line, shown
from sandbox.tune.recheck import RECHECK_TOP, Recheck, Rechecked, read_recheck, recheck_from_attrs, top_trials
from sandbox.tune.search import (
    SPEC_ATTR,
    TuneSpec,
    default_storage_url,
    load_study,
    open_storage,
    prepare_study,
    stored_spec,
    study_names,
)
from sandbox.tune.space import TuneError
from sandbox.tune.workers import WorkerPlan, start_workers

if TYPE_CHECKING:
    import optuna


def best_trials(study: optuna.Study, n: int = 5) -> list[Any]:
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.value is not None]
    return sorted(trials, key=lambda t: float(t.value or 0.0), reverse=study.direction.name == "MAXIMIZE")[:n]


@dataclass(frozen=True)
class NamedBest:
    """The trial a study names its best: the best on its re-check, or (none stored) the best value, not re-checked."""

    number: int
    value: float  # the study's value of it
    params: dict[str, Any]
    recheck: Rechecked | None = None  # its re-check; None: not re-checked
    stale: bool = False  # the study's top trials now are not all the re-checked ones (rerun `tune` to re-check)

    def words(self, fresh_seeds: int) -> str:
        """How `tune`, `tune show` and the Tune view name it."""
        if self.recheck is None:
            return f"best: trial #{self.number} (value {self.value:g}; not re-checked on unseen seeds)"
        stale = "; the study's top trials have changed since: rerun tune to re-check them" if self.stale else ""
        return (f"best: trial #{self.number}, re-checked on {fresh_seeds} unseen seeds: value {self.recheck.value:g} "
                f"({self.recheck.solved}/{len(self.recheck.seeds)} solved; in the study {self.value:g}){stale}")


def named_best(study: optuna.Study, recheck: Recheck | None = None) -> NamedBest | None:
    """The best the study names (`recheck`: the one just run, else the stored one); None without a complete trial."""
    recheck = recheck or read_recheck(study)
    complete = {t.number: t for t in top_trials(study, 10**9)}
    if recheck is not None and recheck.best is not None and recheck.best.number in complete:
        trial = complete[recheck.best.number]
        top = {t.number for t in top_trials(study, RECHECK_TOP)}
        stale = not top <= {r.number for r in recheck.trials}
        return NamedBest(trial.number, float(trial.value), dict(trial.params), recheck.best, stale)
    best = top_trials(study, 1)
    return NamedBest(best[0].number, float(best[0].value), dict(best[0].params)) if best else None


def importances(study: optuna.Study) -> dict[str, float] | str:
    """Parameter importances, or why there are none yet."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return f"need at least 2 complete trials (have {len(complete)})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "importances will be equal" for a handful of trials
            return optuna.importance.get_param_importances(study)
    except Exception as exc:  # trials written elsewhere, of any shape: say why, never raise
        return f"not available: {line(' '.join(str(exc).split()), 120)}"


def config_toml(config: Config, description: str) -> str:
    """A preset-style flat TOML file of every field (None fields left out: they are the default)."""
    lines = [f"description = {json.dumps(description)}"]
    for name, value in config.to_dict().items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = json.dumps(str(value))  # JSON's escapes are TOML's
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def export_best(study: optuna.Study, spec: TuneSpec, path: Path) -> Config:
    """Write the best trial's full config (`named_best`: the re-checked best when there is one) to `path`
    (checked, atomic); TuneError if none completed."""
    best = named_best(study)
    if best is None:
        raise TuneError(f"study {shown(study.study_name)} has no complete trial to export yet")
    config = trial_config(spec, best.number, best.params, study.study_name)
    checked = (f"re-checked on unseen seeds: {best.recheck.value:g}, {best.recheck.solved}/{len(best.recheck.seeds)} "
               "solved" if best.recheck is not None else "not re-checked on unseen seeds")
    text = config_toml(config, f"Best trial {best.number} of tune study {study.study_name!r} "
                       f"(objective {spec.objective}: {best.value:g}; {checked}).")
    try:
        atomic_write(path, text.encode("utf-8"), "--export-best file")
    except PathError as exc:
        raise TuneError(str(exc)) from None
    return config


def trial_config(spec: TuneSpec, number: int, params: dict[str, Any], study: str) -> Config:
    """The full config of a stored trial; TuneError (one line) when its params are refused."""
    try:
        return spec.config_for(params)
    except ConfigError as exc:
        raise TuneError(line(f"trial #{number} of study {shown(study)}: {exc}", 500)) from None


def check_export(path: Path | None) -> Path | None:
    if path is None:
        return None
    if path.suffix.lower() != ".toml":
        raise TuneError(f"--export-best {shown_path(path)} must end in .toml (train --config reads it)")
    try:
        return check_output(path, "--export-best")
    except PathError as exc:
        raise TuneError(str(exc)) from None


# --- a search started by the app (the Tune view polls it; Qt-free) ---------------------------
@dataclass(frozen=True)
class TrialRow:
    """One trial as a table shows it: plain values, safe to hand to another thread."""

    number: int
    state: str  # running, pruned, complete, failed, stopped (failed by a Stop in the app), waiting
    value: float | None
    params: dict[str, Any]
    note: str = ""  # why it was pruned, failed or stopped (escaped, cut)
    unsolved: str = ""  # UNSOLVED or PART_UNSOLVED: the value holds an unsolved seed's budget + penalty
    progress: str = ""  # a running trial's seeds done and env steps so far, from what its worker records

    def value_words(self, number: str) -> str:
        """The value as words around `number` (the value as the caller writes numbers)."""
        return value_words(number, self.unsolved)


MAX_NOTE = 300  # characters of a trial's note
UNSOLVED = "unsolved"  # the median seed (or both middle ones) never solved: the value is budget + penalty
PART_UNSOLVED = "part unsolved"  # an even number of seeds, one of the middle two unsolved: a mean with a penalty


def value_words(number: str, unsolved: str) -> str:
    """How a value is written in the Tune table and `tune show` alike: a value holding an unsolved seed's
    penalty never reads as a count of steps."""
    if unsolved == UNSOLVED:
        return f"unsolved ({number} = budget + penalty)"
    if unsolved == PART_UNSOLVED:
        return f"part unsolved ({number} incl. penalty)"
    return number


def _note(value: Any) -> str:
    """A stored attribute as one line of text, whatever its type."""
    return escaped(cut(value, MAX_NOTE)) if isinstance(value, str) else shown(value, MAX_NOTE)


def _seeds(trial: Any) -> list[dict]:
    """The trial's per-seed summaries (`Objective` records them), the well-formed ones only."""
    seeds = trial.user_attrs.get("seeds")
    return [s for s in seeds if isinstance(s, dict)] if isinstance(seeds, list) else []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def trial_state(trial: Any) -> str:
    """A stored trial's state in words: a trial failed by a Stop in the app reads 'stopped'."""
    if trial.state.name == "FAIL":
        return "stopped" if "stopped" in trial.user_attrs else "failed"
    return str(trial.state.name.lower())


def unsolved_part(trial: Any, objective: str, budget: int | None) -> str:
    """UNSOLVED, PART_UNSOLVED or "": whether the trial's value (objective `steps`, the median over its seeds)
    holds an unsolved seed's budget + penalty. From its seeds' summaries; without them (another version
    wrote it), a value above the budget is one."""
    if objective != "steps" or trial.value is None:
        return ""
    seeds = [s for s in _seeds(trial) if _number(s.get("value")) is not None]
    if not seeds:
        return UNSOLVED if budget is not None and trial.value > budget else ""
    seeds.sort(key=lambda s: _number(s.get("value")) or 0.0)
    middle = seeds[(len(seeds) - 1) // 2: len(seeds) // 2 + 1]
    unsolved = [s.get("solved_at") is None for s in middle]
    return UNSOLVED if all(unsolved) else PART_UNSOLVED if any(unsolved) else ""


def trial_progress(trial: Any) -> str:
    """A running trial's progress, e.g. "1/3 seeds done, 12,400 steps", from the seeds' summaries its
    worker records after each greedy check; "" before the first one (or from an older version)."""
    seeds = _seeds(trial)
    if trial.state.name != "RUNNING" or not seeds:
        return ""
    done = sum(s.get("done") is True for s in seeds)
    steps = sum(int(n) for s in seeds if (n := _number(s.get("steps"))) is not None and 0 <= n < 10**15)
    return f"{done}/{len(seeds)} seeds done, {steps:,} steps"


def trial_rows(storage: Any, study_name: str, objective: str = "score", budget: int | None = None) -> list[TrialRow]:
    """Every trial of the study, by number: one cheap query (no deep copies). Other workers and machines
    wrote it: odd attributes are shown as they are, never raised on. `budget`: env steps per seed."""
    study_id = storage.get_study_id_from_name(study_name)
    rows = []
    for t in storage.get_all_trials(study_id, deepcopy=False):
        note = _note(t.user_attrs.get("stopped") or t.user_attrs.get("invalid") or "")
        seeds = t.user_attrs.get("seeds")
        if objective == "steps" and t.state.name == "COMPLETE" and isinstance(seeds, list) and seeds:
            unsolved = sum(not isinstance(s, dict) or s.get("solved_at") is None for s in seeds)
            if unsolved:  # else its value reads as steps to a solve
                note = f"{unsolved}/{len(seeds)} seeds unsolved (each: budget + penalty)"
        retry = t.system_attrs.get("failed_trial")
        if retry is not None:
            note = f"retry of #{shown(retry, 40)}" + (f"; {note}" if note else "")
        rows.append(TrialRow(t.number, trial_state(t), t.value, dict(t.params), note,
                             unsolved_part(t, objective, budget), trial_progress(t)))
    return sorted(rows, key=lambda r: r.number)


def best_row(rows: list[TrialRow], direction: str, recheck: Recheck | None = None) -> TrialRow | None:
    """The best complete trial of `rows` ('minimize' or 'maximize'): the best on `recheck` when it names
    one of them, else the best value (the lowest number on ties)."""
    done = [(r, r.value) for r in rows if r.state == "complete" and r.value is not None]
    if not done:
        return None
    if recheck is not None and recheck.best is not None:
        for row, _value in done:
            if row.number == recheck.best.number:
                return row
    sign = 1 if direction == "minimize" else -1
    return min(done, key=lambda pair: (sign * pair[1], pair[0].number))[0]


@dataclass(frozen=True)
class StoredStudy:
    """A study read back from its storage (made earlier, by the app or the CLI): to show and to use."""

    name: str
    spec: TuneSpec
    rows: list[TrialRow]
    recheck: Recheck | None = None  # its stored re-check (sandbox/tune/recheck.py), if it has one

    @property
    def direction(self) -> str:
        return self.spec.direction

    def config_for(self, row: TrialRow) -> Config:
        return trial_config(self.spec, row.number, row.params, self.name)


def stored_study_names(url: str | None = None) -> list[str]:
    """The studies `tune` made in the storage, newest name last; none (and no file made) if it does not exist."""
    if url is None:
        try:
            if not (data_dir() / "tune.db").exists():
                return []
        except PathError:  # no data folder: no stored studies (the view says why it cannot store any)
            return []
        url = default_storage_url()
    import optuna

    storage = open_storage(url)
    return [name for name in study_names(storage)
            if SPEC_ATTR in optuna.load_study(study_name=name, storage=storage).user_attrs]


def read_study(name: str, url: str | None = None) -> StoredStudy:
    """A stored study's search and trials; TuneError if there is no such study, `tune` did not make it or
    its stored search is refused."""
    storage = open_storage(url or default_storage_url())
    attrs = load_study(storage, name).user_attrs
    spec = stored_spec(name, attrs)
    if spec is None:
        raise TuneError(f"study {shown(name)} was not made by rl-sandbox tune")
    return StoredStudy(name, spec, trial_rows(storage, name, spec.objective, spec.budget),
                       recheck_from_attrs(attrs, spec.direction))


def study_name_now() -> str:
    """A fresh study name for a search started from the app, e.g. app-20250101-120000."""
    return time.strftime("app-%Y%m%d-%H%M%S")


class SearchRun:
    """A study started here and the worker processes running it, on this machine.

    `start` and `rows` talk to the storage (call them off the GUI thread); `stop` ends the workers
    (SIGTERM, then SIGKILL) and marks the trials they were running as failed, so the study shows no
    trial running that nothing runs. Thread-safe: `stop` may come from another thread than `start`.
    """

    def __init__(self, spec: TuneSpec, study: str, trials: int, jobs: int, pruner: str = "median",
                 sampler: str = "tpe", seed: int = 0, url: str | None = None, heartbeat: int = 30) -> None:
        self.spec, self.study, self.trials, self.jobs = spec, study, trials, jobs
        self.url = url or default_storage_url()
        self.plans = [WorkerPlan(self.url, study, trials, None, sampler, seed, pruner, heartbeat, worker=i)
                      for i in range(jobs)]
        self.procs: list[multiprocessing.context.SpawnProcess] = []
        self.recheck: Recheck | None = None  # set once `run_recheck` has re-checked the study's top trials
        self.recheck_stop = threading.Event()
        self.storage: Any = None
        self.existed = False
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Create the study (or join one of the same name and search) and start the workers; TuneError."""
        self.storage = open_storage(self.url)
        _study, self.spec, self.existed = prepare_study(self.storage, self.study, self.spec, explicit=True)
        with self._lock:
            if not self._stopped:
                self.procs = start_workers(self.plans)

    @property
    def direction(self) -> str:
        return self.spec.direction

    def rows(self) -> list[TrialRow]:
        return trial_rows(self.storage, self.study, self.spec.objective, self.spec.budget)

    def config_for(self, row: TrialRow) -> Config:
        return trial_config(self.spec, row.number, row.params, self.study)

    def run_recheck(self) -> Recheck | None:
        """Re-check the study's top trials on unseen seeds (sandbox/tune/recheck.py), in `jobs` worker
        processes; `stop` ends them (RecheckStopped). Call it off the GUI thread once the workers ended."""
        import optuna

        from sandbox.tune.recheck import run_recheck

        study = optuna.load_study(study_name=self.study, storage=self.storage)
        self.recheck = run_recheck(study, self.spec, self.jobs, in_process=False, stop=self.recheck_stop)
        return self.recheck

    def alive(self) -> int:
        return sum(p.is_alive() for p in self.procs)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def stop(self, grace: float = 3.0) -> int:
        """End the workers now; returns how many trials they left running (marked failed, 'stopped')."""
        with self._lock:
            self._stopped = True
            self.recheck_stop.set()
            procs = list(self.procs)
        for p in procs:
            if p.is_alive():
                p.terminate()
        deadline = time.monotonic() + grace
        for p in procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        try:
            return self._fail_orphans({p.pid for p in procs})
        except Exception:  # a busy or lost storage: the workers are gone, and their trials go stale instead
            return 0

    def _fail_orphans(self, pids: set[int | None]) -> int:
        if self.storage is None:
            return 0
        from optuna.trial import TrialState

        study_id = self.storage.get_study_id_from_name(self.study)
        failed = 0
        for t in self.storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            pid = t.user_attrs.get("worker_pid")
            if isinstance(pid, int) and pid in pids:  # another machine's attribute may be of any type
                self.storage.set_trial_user_attr(t._trial_id, "stopped", "stopped from the app")
                self.storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
                failed += 1
        return failed
