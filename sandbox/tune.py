"""Hyperparameter search on Optuna: trials, their scoring and the study's storage.

A trial trains several seeds of one config and is scored by their median (one lucky seed proves
little in DQN). The objective is either `steps` (env steps until a 100-episode greedy evaluation on
a separately seeded env reaches the solve threshold; unsolved runs get the step budget plus a
penalty for how far they stayed from it) or `score` (the best greedy mean). Studies live in an
Optuna storage (SQLite in the user data folder by default, PostgreSQL to share one study between
machines); `--jobs K` starts K worker processes that join the same study; a worker that dies is
noticed by its missing heartbeat and its trial is retried by the next worker that looks.

Qt-free, like all of `sandbox`; the worker processes are in `sandbox/tune_workers.py`, the CLI in
`sandbox/tune_cli.py`.
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
from typing import TYPE_CHECKING, Any

from sandbox.config import Config, ConfigError, shown
from sandbox.files import PathError, check_output, data_dir
from sandbox.trainer import Trainer, TrainingDiverged
from sandbox.tune_space import Dist, TuneError

if TYPE_CHECKING:
    import optuna

SPEC_ATTR = "rl_sandbox_spec"  # the study's user attribute holding its TuneSpec as JSON
OBJECTIVES = ("steps", "score")
PRUNERS = ("median", "hyperband", "none")
SAMPLERS = ("tpe", "random")
MAX_RETRY = 3  # a trial whose worker died is run again at most this many times
DONE_STATES = ("COMPLETE", "PRUNED")
TIE_BREAK = 1e-6  # weight of the training moving average in what the pruner sees (see SeedRun.pruning_value)


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
    def direction(self) -> str:
        return "minimize" if self.objective == "steps" else "maximize"

    def config_for(self, params: dict[str, Any]) -> Config:
        """The full config of a trial (ConfigError when the values break a cross-field rule)."""
        return Config.from_dict(self.base).with_changes(**params)

    def to_json(self) -> str:
        data = {"base": self.base, "space": {k: d.to_json() for k, d in self.space.items()},
                "objective": self.objective, "seeds": self.seeds, "budget": self.budget,
                "eval_every": self.eval_every, "eval_episodes": self.eval_episodes}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TuneSpec:
        data = json.loads(text)
        space = {k: Dist.from_json(d) for k, d in data.pop("space").items()}
        return cls(space=space, **data)


def make_spec(base: Config, space: dict[str, Dist], objective: str = "steps", seeds: int = 3,
              budget: int = 100_000, eval_every: int = 20, eval_episodes: int = 100) -> TuneSpec:
    """A checked TuneSpec: the objective `steps` needs a solve threshold."""
    if objective not in OBJECTIVES:
        raise TuneError(f"--objective {shown(objective)}; allowed: {', '.join(OBJECTIVES)}")
    if objective == "steps" and threshold_of(base) is None:
        raise TuneError(f"--objective steps needs a solve threshold and {base.env_id} registers none; "
                        "give --set solve_threshold=VALUE or use --objective score")
    return TuneSpec(base.to_dict(), dict(space), objective, seeds, budget, eval_every, eval_episodes)


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

    def value(self) -> float:
        if self.spec.objective == "score":
            return self.best_mean
        if self.solved_at is not None:
            return float(self.solved_at)
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
                "solved_at": self.solved_at, "diverged": self.diverged, "value": self.value()}


def run_trial(config: Config, spec: TuneSpec, report: Callable[[int, float, bool], None],
              record: Callable[[list[dict]], None] | None = None) -> tuple[float, list[dict]]:
    """Train `spec.seeds` seeds of `config` (seed, seed+1, …) and return (their median value, per-seed summaries).

    The seeds run interleaved: each round trains every unfinished seed `eval_every` more episodes
    and evaluates it, then reports the median of the seeds' pruning values at step = episodes per
    seed. So the pruner sees every seed from the first report on (a trial that one lucky seed carries
    is not kept, one that one unlucky seed drags is not pruned), and all trials are compared at the
    same amount of training. A seed that solved (objective `steps`) or spent its budget keeps its
    final value. `report(step, value, final)` may raise optuna.TrialPruned (not when `final`: nothing is
    left to save, and a fully trained trial keeps its real value); `record` gets the per-seed summaries however
    the trial ends (pruned trials too: what they cost is part of the study's record).
    """
    runs: list[SeedRun] = []
    try:
        for i in range(spec.seeds):
            runs.append(SeedRun(config.with_changes(seed=(config.seed + i) % 2**31), spec))
        rounds = 0
        while not all(r.done for r in runs):
            rounds += 1
            for run in runs:
                if not run.done:
                    run.advance()
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

        from sandbox.tune_space import suggest

        trial.set_user_attr("claimed", trial.number)  # first: see sandbox/tune_workers.py
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

        return run_trial(config, self.spec, prune_hook(trial), record)[0]


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

    if kind == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=eval_every, reduction_factor=3)
    return optuna.pruners.NopPruner()


def study_names(storage: Any) -> list[str]:
    import optuna

    return sorted(optuna.study.get_all_study_names(storage))


def load_study(storage: Any, name: str, **kwargs: Any) -> optuna.Study:
    """The named study; TuneError naming the studies there if it is missing."""
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage, **kwargs)
    except KeyError:
        names = study_names(storage)
        raise TuneError(f"no study {shown(name)} in this storage; studies: {', '.join(names) or 'none'}") from None


def prepare_study(storage: Any, name: str, spec: TuneSpec, explicit: bool) -> tuple[optuna.Study, TuneSpec, bool]:
    """Create the study, or join it: (study, the spec it runs, whether it already existed).

    A study keeps the spec it was made with; joining without search options takes it as it is, and
    joining with options that define another search is refused (pick another --study)."""
    import optuna

    if name in study_names(storage):
        study = optuna.load_study(study_name=name, storage=storage)
        stored = study.user_attrs.get(SPEC_ATTR)
        if stored is None:
            raise TuneError(f"study {shown(name)} was not made by rl-sandbox tune; pick another --study")
        stored_spec = TuneSpec.from_json(stored)
        if explicit and json.loads(stored) != json.loads(spec.to_json()):
            raise TuneError(f"study {shown(name)} already searches something else (objective {stored_spec.objective}, "
                            f"{', '.join(stored_spec.space)}); join it without search options or pick another --study")
        return study, stored_spec, True
    study = optuna.create_study(study_name=name, storage=storage, direction=spec.direction, load_if_exists=True)
    study.set_user_attr(SPEC_ATTR, spec.to_json())
    return study, spec, False


def count(study: optuna.Study, *states: str) -> int:
    return sum(t.state.name in states for t in study.get_trials(deepcopy=False))
