"""Hyperparameter search on Optuna: trials, their scoring and the study's storage.

A trial trains several seeds of one config and is scored by their median (one lucky seed proves
little in DQN). The objective is either `steps` (env steps until a 100-episode greedy evaluation on
a separately seeded env reaches the solve threshold; unsolved runs get the step budget plus a
penalty for how far they stayed from it) or `score` (the best greedy mean). Studies live in an
Optuna storage (SQLite in the user data folder by default, PostgreSQL to share one study between
machines); `--jobs K` starts K worker processes that join the same study; a worker that dies is
noticed by its missing heartbeat and its trial is retried by the next worker that looks.

A stored study is untrusted input: another machine, an older version or an attacker wrote it. Its
spec is checked when it is read (`TuneSpec.from_json`) with the limits the CLI puts on its own
arguments (`SPEC_LIMITS`), and an env is made once here before a study or trial is created
(`check_env`), so a search that cannot run is refused in one line instead of failing every trial.

Qt-free, like all of `sandbox`; the worker processes are in `sandbox/tune/workers.py`, the CLI in
`sandbox/cli/tune.py`.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sandbox.core.config import Config, ConfigError, typed
from sandbox.core.envs import EnvError, make_env
from sandbox.core.trainer import Trainer, TrainingDiverged
from sandbox.io.files import PathError, check_output, data_dir, strict_json
from sandbox.io.text import line, shown
from sandbox.tune.pruners import PROGRESS_ENVS, PRUNING_ATTR, greedy_progress, progress_pruner
from sandbox.tune.space import Dist, TuneError, space_from_json

if TYPE_CHECKING:
    import optuna

SPEC_ATTR = "rl_sandbox_spec"  # the study's user attribute holding its TuneSpec as JSON
OBJECTIVES = ("steps", "score")
PRUNERS = ("median", "progress", "hyperband", "none")
SAMPLERS = ("tpe", "random")
MAX_RETRY = 3  # a trial whose worker died is run again at most this many times
DONE_STATES = ("COMPLETE", "PRUNED")
PROBE_STREAM = 0x7072  # seeds the progress pruner's greedy probes apart from training and evaluation
TIE_BREAK = 1e-6  # weight of the training moving average in what the pruner sees (see SeedRun.pruning_value)
# What a search may ask for, from its arguments (`tune --seeds` …, the Tune view) or from a stored study alike.
SPEC_LIMITS: dict[str, tuple[int, int]] = {"seeds": (1, 100), "budget": (1, 10**9), "eval_every": (1, 10**6),
                                           "eval_episodes": (1, 10**4)}
TRIALS_LIMIT = (1, 10**6)  # finished trials a study is asked to hold
SPEC_KEYS = ("base", "space", "objective", *SPEC_LIMITS)
MAX_SPEC_CHARS = 1_000_000  # a stored spec is a few kB; a longer one is not parsed at all
MAX_STUDY_NAME = 100
MAX_NAMES_SHOWN = 20  # studies listed in an error about a missing one


# --- what a study searches and how it scores ---------------------------------------------
@dataclass(frozen=True)
class TuneSpec:
    """Everything that defines a study's trials; stored in the study, so joining workers need only its name."""

    base: dict[str, Any]  # Config.to_dict() of the config every trial starts from
    space: dict[str, Dist]
    objective: str = "steps"
    seeds: int = 3
    budget: int = 100_000  # env steps per seed run of a trial
    eval_every: int = 20  # episodes between greedy evaluations (each one reported to the pruner)
    eval_episodes: int = 100

    @property
    def direction(self) -> Literal["minimize", "maximize"]:
        return "minimize" if self.objective == "steps" else "maximize"

    def config_for(self, params: dict[str, Any]) -> Config:
        """The full config of a trial: ConfigError when a value or a cross-field rule is refused, or a
        param (a stored trial's, written elsewhere) is not one this study searches."""
        for name in params:
            if name not in self.space:
                raise TuneError(f"{shown(name)} is not a parameter this study searches ({', '.join(self.space)})")
        return Config.from_dict(self.base).with_changes(**{name: typed(name, v) for name, v in params.items()})

    def to_json(self) -> str:
        data = {"base": self.base, "space": {k: d.to_json() for k, d in self.space.items()},
                "objective": self.objective, "seeds": self.seeds, "budget": self.budget,
                "eval_every": self.eval_every, "eval_episodes": self.eval_episodes}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: Any) -> TuneSpec:
        """A stored spec, checked as `make_spec` checks arguments; TuneError saying what is refused."""
        if not isinstance(text, str):
            raise TuneError(f"it is a {type(text).__name__}, not JSON text")
        if len(text) > MAX_SPEC_CHARS:
            raise TuneError(f"it is {len(text):,} characters; allowed: at most {MAX_SPEC_CHARS:,}")
        try:
            data = strict_json(text)
        except ValueError as exc:
            raise TuneError(f"it is not valid JSON: {line(str(exc), 120)}") from None
        if not isinstance(data, dict):
            raise TuneError(f"it must be a JSON object, not a {type(data).__name__}")
        if missing := [key for key in SPEC_KEYS if key not in data]:
            raise TuneError(f"it lacks {', '.join(missing)}")
        if extra := [key for key in data if key not in SPEC_KEYS]:
            raise TuneError(f"unknown key {shown(extra[0])}; a spec has {', '.join(SPEC_KEYS)}")
        space = space_from_json(data["space"])
        try:
            base = Config.from_dict(data["base"])
        except ConfigError as exc:
            raise TuneError(f"base config: {exc}") from None
        return make_spec(base, space, data["objective"], seeds=data["seeds"], budget=data["budget"],
                         eval_every=data["eval_every"], eval_episodes=data["eval_episodes"], stored=True)


def make_spec(base: Config, space: dict[str, Dist], objective: str = "steps", seeds: int = 3,
              budget: int = 100_000, eval_every: int = 20, eval_episodes: int = 100, stored: bool = False) -> TuneSpec:
    """A checked TuneSpec: sizes within SPEC_LIMITS, and the objective `steps` needs a solve threshold.
    `stored`: the values come from a study's storage, and messages name them as it does."""
    def name(key: str) -> str:
        return key if stored else "--" + key.replace("_", "-")

    if objective not in OBJECTIVES:
        raise TuneError(f"{name('objective')} = {shown(objective)} is not allowed; allowed: {', '.join(OBJECTIVES)}")
    sizes = {"seeds": seeds, "budget": budget, "eval_every": eval_every, "eval_episodes": eval_episodes}
    for key, value in sizes.items():
        low, high = SPEC_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise TuneError(f"{name(key)} = {shown(value)} is not allowed; allowed: an integer from {low} to {high}")
    if objective == "steps" and threshold_of(base) is None:
        raise TuneError(f"{name('objective')} steps needs a solve threshold and {base.env_id} registers none; "
                        "give --set solve_threshold=VALUE or use --objective score")
    return TuneSpec(base.to_dict(), dict(space), objective, seeds, budget, eval_every, eval_episodes)


def stored_spec(name: str, attrs: dict[str, Any]) -> TuneSpec | None:
    """The spec study `name` holds (its user attributes `attrs`), or None if `tune` did not make it;
    TuneError, one line, if what it holds is refused."""
    if SPEC_ATTR not in attrs:
        return None
    try:
        return TuneSpec.from_json(attrs[SPEC_ATTR])
    except TuneError as exc:
        raise TuneError(line(f"study {shown(name)}: its stored search is refused: {exc}", 500)) from None


def check_env(env_id: str) -> None:
    """TuneError unless the env can be made on this machine: made once, as `train` makes it, before a
    study or trial is created (an env needing a missing extra would otherwise fail every trial)."""
    try:
        make_env(env_id).close()
    except EnvError as exc:  # a missing extra, an action or observation space a DQN cannot use
        raise TuneError(line(str(exc), 300)) from None
    except Exception as exc:  # the env's own constructor failing: its registration is not ours
        raise TuneError(line(f"cannot make env {shown(env_id)}: {type(exc).__name__}: {exc}", 300)) from None


def study_name_problem(name: str) -> str | None:
    """Why `name` cannot name a study (from `--study` or the Tune view), or None."""
    if not name or len(name) > MAX_STUDY_NAME or not name.isprintable():
        return f"{shown(name)} is not allowed; allowed: 1 to {MAX_STUDY_NAME} printable characters"
    return None


def threshold_of(config: Config) -> float | None:
    import gymnasium

    if config.solve_threshold is not None:
        return config.solve_threshold
    return gymnasium.spec(config.env_id).reward_threshold


def unsolved_value(budget: int, best_mean: float, threshold: float) -> float:
    """The `steps` value of a run that never solved: the budget plus up to one budget more, in
    proportion to how far its best greedy mean stayed below the threshold (so the sampler still
    learns which unsolved configs came close)."""
    gap = (threshold - best_mean) / max(abs(threshold), 1.0) if math.isfinite(best_mean) else 1.0
    return budget * (1.0 + min(1.0, max(0.0, gap)))


class SeedRun:
    """One seed of a trial, trained from one of the trainer's greedy evaluations to the next."""

    def __init__(self, config: Config, spec: TuneSpec) -> None:
        self.spec = spec
        # The trainer's own solve rule judges the run, as in the app and `train`: a greedy evaluation
        # of `eval_episodes` every `eval_every` episodes, on its own seeded env and the true reward.
        self.trainer = Trainer(config.with_changes(solve_rule="greedy", eval_every=spec.eval_every,
                                                   eval_episodes=spec.eval_episodes, stop_when_solved=False))
        self.threshold = self.trainer.threshold
        self.best_mean = -math.inf
        self.first_training: float | None = None  # the training moving average at the first evaluation
        self.best_training = -math.inf  # and the best one at an evaluation since
        self.solved_at: int | None = None
        self.progress: float | None = None  # what the progress pruner compares (sandbox/tune/pruners.py)
        self.checks = 0
        self.diverged = ""
        self.done = False

    def advance(self) -> None:
        """Train up to the trainer's next greedy evaluation (or the budget) and take its verdict."""
        trainer, spec = self.trainer, self.spec
        evaluated = None
        try:
            while evaluated is None and trainer.total_steps < spec.budget:  # step by step: the budget is exact
                episode = trainer.step().episode
                evaluated = episode if episode is not None and episode.evaluated else None
        except TrainingDiverged as exc:
            self.diverged, self.done = str(exc), True  # the agent is kept as before the bad update
        # Stopped before a scheduled evaluation (budget, divergence): the rule's evaluation, once more.
        mean = evaluated.greedy_mean if evaluated is not None else trainer.evaluate_greedy().mean
        self.best_mean = max(self.best_mean, mean)
        episodes = trainer.history.episodes
        if episodes:
            if self.first_training is None:
                self.first_training = episodes[-1].moving_average
            self.best_training = max(self.best_training, episodes[-1].moving_average)
        if spec.objective == "steps" and self.threshold is not None and mean >= self.threshold:
            self.solved_at, self.done = trainer.total_steps, True
        if trainer.total_steps >= spec.budget:
            self.done = True
        self.checks += 1
        if self.solved_at is not None:
            self.progress = 1.0
        elif trainer.config.env_id in PROGRESS_ENVS:
            words = [trainer.config.seed, PROBE_STREAM, self.checks]
            probe = int(np.random.SeedSequence(words).generate_state(1)[0])
            self.progress = greedy_progress(trainer.agent, trainer.scaler, trainer.config.env_id, probe)

    def value(self) -> float:
        if self.spec.objective == "score":
            return self.best_mean
        if self.solved_at is not None:
            return float(self.solved_at)
        assert self.threshold is not None  # make_spec refuses the steps objective without one
        return unsolved_value(self.spec.budget, self.best_mean, self.threshold)

    def pruning_value(self) -> float:
        """What the pruner compares: the value, its ties broken by how far the training moving average
        rose. On MountainCar every greedy mean is -200 until the agent first reaches the flag, so by the
        value alone all unsolved trials tie; the training average moves well before. The bonus is
        weighted far below one greedy step, so it never reorders different values, and it is zero
        without progress (a study begun before it compares alike)."""
        value = self.value()
        if self.solved_at is not None or self.first_training is None:
            return value
        bonus = TIE_BREAK * max(0.0, self.best_training - self.first_training)
        return value + bonus if self.spec.objective == "score" else value - bonus

    def summary(self) -> dict[str, Any]:
        return {"seed": self.trainer.config.seed, "steps": self.trainer.total_steps,
                "episodes": self.trainer.episodes_done, "best_greedy_mean": self.best_mean,
                "solved_at": self.solved_at, "diverged": self.diverged, "value": self.value(), "done": self.done}


def trial_seeds(config: Config, spec: TuneSpec) -> list[int]:
    """The seeds a trial of `config` trains: seed, seed+1, … (`spec.seeds` of them)."""
    return [(config.seed + i) % 2**31 for i in range(spec.seeds)]


def _median_progress(runs: list[SeedRun]) -> float | None:
    measured = [r.progress for r in runs if r.progress is not None]
    return statistics.median(measured) if measured else None


def run_trial(config: Config, spec: TuneSpec, report: Callable[[int, float, bool], None],
              record: Callable[[list[dict]], None] | None = None,
              observe: Callable[[int, float, float | None], None] | None = None,
              seeds: list[int] | None = None) -> tuple[float, list[dict]]:
    """Train `spec.seeds` seeds of `config` (`trial_seeds`, or `seeds` when given) and return (their median
    value, per-seed summaries).

    The seeds run interleaved: each round trains every unfinished seed `eval_every` more episodes
    and evaluates it, then reports the median of the seeds' pruning values at step = episodes per
    seed. So the pruner sees every seed from the first report on (a trial that one lucky seed carries
    is not kept, one that one unlucky seed drags is not pruned), and all trials are compared at the
    same amount of training. A seed that solved (objective `steps`) or spent its budget keeps its
    final value. `report(step, value, final)` may raise optuna.TrialPruned (not when `final`: nothing is
    left to save, and a fully trained trial keeps its real value); `record` gets the per-seed summaries once
    the seeds are made, after each seed's greedy check (how far a running trial got: the Tune table shows
    it) and however the trial ends (pruned trials too: what they cost is part of the study's record).
    `observe(step, median value, median progress)` comes before each report (what the progress pruner reads).
    """
    runs: list[SeedRun] = []
    try:
        for seed in trial_seeds(config, spec) if seeds is None else seeds:
            runs.append(SeedRun(config.with_changes(seed=seed), spec))
        if record is not None:  # no steps yet: a retried trial shows none of the progress it copied
            record([r.summary() for r in runs])
        rounds = 0
        while not all(r.done for r in runs):
            rounds += 1
            for run in runs:
                if not run.done:
                    run.advance()
                    if record is not None and not all(r.done for r in runs):
                        record([r.summary() for r in runs])
            if observe is not None:
                observe(rounds * spec.eval_every, statistics.median(r.value() for r in runs), _median_progress(runs))
            report(rounds * spec.eval_every, statistics.median(r.pruning_value() for r in runs),
                   all(r.done for r in runs))
        return statistics.median(r.value() for r in runs), [r.summary() for r in runs]
    finally:
        if record is not None:
            record([r.summary() for r in runs])
        for run in runs:
            run.trainer.close()


def prune_hook(trial: optuna.Trial) -> Callable[[int, float, bool], None]:
    """Report an intermediate value to the study's pruner; raise TrialPruned when it says stop."""
    import optuna

    def report(step: int, value: float, final: bool) -> None:
        trial.report(value, step)
        if not final and trial.should_prune():
            raise optuna.TrialPruned(f"pruned at episode {step} (value {value:g})")

    return report


@dataclass
class Objective:
    """The function a worker's `study.optimize` calls: one trial, recorded with the worker that ran it."""

    spec: TuneSpec
    worker: int = 0

    def __call__(self, trial: optuna.Trial) -> float:
        import optuna

        from sandbox.tune.space import suggest

        trial.set_user_attr("claimed", trial.number)  # first: see sandbox/tune/workers.py
        trial.set_user_attr("worker_pid", os.getpid())
        trial.set_user_attr("worker_host", socket.gethostname())
        trial.set_user_attr("worker", self.worker)
        params = suggest(trial, self.spec.space)
        try:
            config = self.spec.config_for(params)
        except ConfigError as exc:  # e.g. a combination asking for too much learning work
            trial.set_user_attr("invalid", str(exc))
            raise optuna.TrialPruned(f"invalid config: {exc}") from None
        started = time.perf_counter()

        def record(seeds: list[dict]) -> None:
            trial.set_user_attr("seeds", seeds)
            trial.set_user_attr("env_steps", sum(s["steps"] for s in seeds))
            trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))

        pruning: dict[str, list] = {}

        def observe(step: int, value: float, progress: float | None) -> None:
            pruning[str(step)] = [value, progress]
            trial.set_user_attr(PRUNING_ATTR, pruning)

        return run_trial(config, self.spec, prune_hook(trial), record, observe)[0]


# --- storage, sampler, pruner ------------------------------------------------------------
def default_storage_url() -> str:
    return f"sqlite:///{data_dir() / 'tune.db'}"


def shown_url(url: str) -> str:
    """The URL as it may be printed: its password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return shown(make_url(url).render_as_string(hide_password=True), 120)
    except Exception:  # an unparsable URL is shown cut, as typed
        return shown(url, 120)


def open_storage(url: str | None, heartbeat: int = 30) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats: a trial whose worker stops beating for 3 heartbeats is failed
    and queued again (Optuna's RetryHeartbeatStaleTrialCallback, the successor of RetryFailedTrialCallback
    since Optuna 4.9) by the next worker that checks. TuneError for a bad URL."""
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = url or default_storage_url()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise TuneError(f"--storage {shown_url(url)} is not a database URL, e.g. sqlite:///tune.db or "
                        "postgresql+psycopg://user:password@host/db") from None
    engine_kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise TuneError(f"--storage {shown_url(url)}: an in-memory SQLite study cannot be shared; name a file")
        try:
            check_output(database, "--storage")
        except PathError as exc:
            raise TuneError(str(exc)) from None
        engine_kwargs["connect_args"] = {"timeout": 60}  # several workers write one file
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    try:
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat, grace_period=3 * heartbeat,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY))
    except Exception as exc:  # driver, network and auth errors all become one line
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise TuneError(f"--storage {shown_url(url)}: cannot open: {reason}") from None


def make_sampler(kind: str, seed: int) -> optuna.samplers.BaseSampler:
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(kind: str, eval_every: int) -> optuna.pruners.BasePruner:
    import optuna

    if kind == "progress":
        return progress_pruner()
    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=eval_every, reduction_factor=3)
    return optuna.pruners.NopPruner()


def study_names(storage: Any) -> list[str]:
    import optuna

    return sorted(optuna.study.get_all_study_names(storage))


def load_study(storage: Any, name: str, **kwargs: Any) -> optuna.Study:
    """The named study; TuneError naming (escaped, a few) the studies there if it is missing."""
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage, **kwargs)
    except KeyError:
        names = study_names(storage)
        listed = ", ".join(shown(n, 40) for n in names[:MAX_NAMES_SHOWN]) or "none"
        if len(names) > MAX_NAMES_SHOWN:
            listed += f" and {len(names) - MAX_NAMES_SHOWN:,} more"
        raise TuneError(f"no study {shown(name)} in this storage; studies: {listed}") from None


def prepare_study(storage: Any, name: str, spec: TuneSpec, explicit: bool) -> tuple[optuna.Study, TuneSpec, bool]:
    """Create the study, or join it: (study, the spec it runs, whether it already existed).

    A study keeps the spec it was made with; joining without search options takes it as it is, and
    joining with options that define another search is refused (pick another --study). Either way the
    stored spec is checked and the env made once here before anything is written (TuneError)."""
    import optuna

    if name in study_names(storage):
        study = optuna.load_study(study_name=name, storage=storage)
        joined = stored_spec(name, study.user_attrs)
        if joined is None:
            raise TuneError(f"study {shown(name)} was not made by rl-sandbox tune; pick another --study")
        if explicit and json.loads(joined.to_json()) != json.loads(spec.to_json()):
            raise TuneError(f"study {shown(name)} already searches something else (objective {joined.objective}, "
                            f"{', '.join(joined.space)}); join it without search options or pick another --study")
        check_env(joined.base["env_id"])
        return study, joined, True
    check_env(spec.base["env_id"])
    study = optuna.create_study(study_name=name, storage=storage, direction=spec.direction, load_if_exists=True)
    study.set_user_attr(SPEC_ATTR, spec.to_json())
    return study, spec, False


def count(study: optuna.Study, *states: str) -> int:
    return sum(t.state.name in states for t in study.get_trials(deepcopy=False))
