"""The session: everything the window shows about the current run, in one Qt-free model.

napari's pattern: the model emits events and knows nothing of its views; the Qt views observe
it. The training worker owns the Trainer in its own thread and reports what happened; the window
feeds those reports in here and every view draws from here. Every way of replacing the run (New
agent, a preset, an env switch, Open, restore best, recovery, the next seed of a batch) goes
through `begin`, so nothing of the old run can stay on screen.

Events are psygnal signals (napari's Qt-free signals): typed, connect/disconnect/blocking built in,
and no Qt import, so the model is unit-tested without a QApplication.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from psygnal import Signal

from sandbox.app.best import BestMark
from sandbox.app.runs import MAX_CHANGES, RunRecord, RunsLog, seed_band
from sandbox.core.config import Config
from sandbox.core.envs import EnvSpec
from sandbox.core.evaluate import EvalResult
from sandbox.core.trainer import EpisodeStats, History, LiveEdit


class State(StrEnum):
    IDLE = "Ready"
    RUNNING = "Running"
    PAUSED = "Paused"
    SOLVED = "Solved"
    STOPPED = "Stopped"
    GREEDY = "Watching greedy"
    RANDOM = "Watching random"
    HUMAN = "You are driving"
    EVALUATING = "Evaluating"


BUSY = frozenset({State.RUNNING, State.GREEDY, State.RANDOM, State.EVALUATING})


class Origin(StrEnum):
    """Why a run began: it decides the file path and whether it starts unsaved."""

    NEW = "new"
    OPENED = "opened"
    RECOVERED = "recovered"
    BEST = "best"
    SEED = "seed"
    BRANCH = "branch"  # from a checkpoint of the run before it (the timeline's "Branch here")


@dataclass(frozen=True)
class Status:
    """The trainer's counters as the worker last reported them."""

    episodes: int
    total_steps: int
    steps_per_second: float
    epsilon: float
    memory_size: int
    memory_capacity: int
    elapsed: float
    updates: int
    finished: bool = False


@dataclass(frozen=True)
class Snapshot:
    """A run as it begins (new, opened, restored): copies, safe to keep in the GUI thread."""

    config: Config
    spec: EnvSpec
    history: History
    threshold: float | None
    status: Status
    path: str | None = None
    note: str | None = None  # what the user must know about the file (no replay memory: not exact)
    origin: Origin = Origin.NEW
    state: State = State.IDLE  # the worker's state with this run: the session never shows the old run's
    branch_episode: int | None = None  # Origin.BRANCH: the checkpoint's episode in the run it branched from


@dataclass(frozen=True)
class ViewSettings:
    """How the window shows training: frames drawn at all (`render`), and every step at ~50 fps
    (`watch`) or full speed with a frame now and then."""

    render: bool = True
    watch: bool = False


@dataclass(frozen=True)
class WatchResult:
    """An episode the user watched or played beside training: a random policy's or their own."""

    kind: str  # "random" or "human"
    score: float
    episodes: int  # training episodes done when it was played: where it sits on the score plot


TRAINING_STATES = frozenset({State.RUNNING, State.PAUSED, State.SOLVED, State.STOPPED})


@dataclass
class SeedBatch:
    """Several seeds of one config trained back to back ("Run seeds")."""

    group: int
    config: Config
    seeds: list[int]
    done: int = 0

    @property
    def next_config(self) -> Config | None:
        return self.config.with_changes(seed=self.seeds[self.done]) if self.done < len(self.seeds) else None


@dataclass
class Session:
    """The current run, the draft config, the view settings, the runs log and the file state: the
    window's one state surface. Views connect to the signals below; everything that changes a
    field goes through a method here, which emits its signal."""

    runs: RunsLog = field(default_factory=RunsLog)
    config: Config | None = None  # the run's config with its live edits applied
    spec: EnvSpec | None = None
    threshold: float | None = None
    history: History = field(default_factory=History)
    status: Status | None = None
    state: State = State.IDLE
    best: BestMark | None = None
    last_eval: EvalResult | None = None
    path: str | None = None
    unsaved: bool = False
    run_key: int = 0
    batch: SeedBatch | None = None
    group: int | None = None  # the seed batch the current run belongs to
    branch: tuple[int, int] | None = None  # (parent run's key, episode) when the run branched from another
    band: tuple[np.ndarray, np.ndarray, np.ndarray, str] | None = None
    hints: list[str] = field(default_factory=list)  # the coach's latest hints, one line each: kept with the run
    draft: Config | None = None  # the panel's config: what New, Run seeds and Tune start from
    view: ViewSettings = field(default_factory=ViewSettings)
    watch_results: list[WatchResult] = field(default_factory=list)  # the current run's random and human episodes
    trained: bool = False  # the run has trained (fixed fields then need a new agent)

    began = Signal(object)  # Snapshot: every view starts over from it
    episodes_added = Signal(object)  # list[EpisodeStats]
    losses_added = Signal(object)  # np.ndarray of float32
    edits_applied = Signal(object)  # list[LiveEdit]
    status_changed = Signal(object)  # Status
    state_changed = Signal(object)  # State
    best_changed = Signal(object)  # BestMark | None
    evaluated = Signal(object)  # EvalResult
    file_changed = Signal()  # path or unsaved flag
    runs_changed = Signal()
    band_changed = Signal(object)  # (x, mean, std, label) or None
    solved = Signal(object)  # EpisodeStats: the run's first solved episode, once per run
    draft_changed = Signal(object)  # Config
    view_changed = Signal(object)  # ViewSettings
    watch_result_added = Signal(object)  # WatchResult
    trained_changed = Signal(bool)

    # --- a run begins ------------------------------------------------------------------
    def begin(self, snap: Snapshot) -> None:
        """Replace the current run (archived to the runs log first) by `snap`."""
        origin = snap.origin
        self.archive()
        parent = self.run_key if origin is Origin.BRANCH and self.config is not None else None
        self.branch = (parent, snap.branch_episode) if parent is not None and snap.branch_episode is not None \
            else None
        self.run_key = self.runs.next_key()
        if origin is Origin.SEED and self.batch is not None:
            self.group = self.batch.group
        else:
            self.batch, self.group = None, None
            if self.band is not None:
                self.band = None
                self.band_changed.emit(None)
        self.config, self.spec, self.threshold = snap.config, snap.spec, snap.threshold
        self.history = snap.history.copy()
        self.status, self.best, self.last_eval, self.hints = snap.status, None, None, []
        self.path = snap.path if origin is Origin.OPENED else None
        # A recovered run, or a restored best agent (training in it, no file), is not saved yet.
        self.unsaved = origin is Origin.RECOVERED or (origin in (Origin.BEST, Origin.BRANCH)
                                                      and bool(snap.history.episodes))
        self.state = snap.state
        self.watch_results = []
        self.trained = bool(snap.history.episodes) or len(snap.history.losses) > 0 or snap.status.total_steps > 0
        self.draft = snap.config
        self.began.emit(snap)
        self.draft_changed.emit(snap.config)
        self.state_changed.emit(self.state)
        self.trained_changed.emit(self.trained)
        self.file_changed.emit()

    # --- the run goes on -----------------------------------------------------------------
    def add_episodes(self, episodes: list[EpisodeStats]) -> None:
        was_solved = bool(self.history.episodes) and self.history.episodes[-1].solved
        self.history.episodes.extend(episodes)
        self._touch()
        self.episodes_added.emit(episodes)
        first = next((e for e in episodes if e.solved), None)
        if first is not None and not was_solved:
            self.solved.emit(first)

    def add_losses(self, losses: np.ndarray) -> None:
        self.history.losses.extend(losses.tolist() if isinstance(losses, np.ndarray) else losses)
        self.losses_added.emit(losses)

    def apply_edits(self, edits: list[LiveEdit]) -> None:
        if not edits or self.config is None:
            return
        for edit in edits:
            self.config = self.config.with_changes(**{edit.name: edit.new})
            if edit.name == "solve_threshold" and self.spec is not None:
                self.threshold = edit.new if edit.new is not None else self.spec.reward_threshold
        self.history.edits.extend(edits)
        self._touch()
        self.edits_applied.emit(edits)

    def set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            self.status_changed.emit(status)

    def set_state(self, state: State) -> None:
        self.state = State(state)
        self.state_changed.emit(self.state)
        if self.state in TRAINING_STATES and not self.trained:
            self.trained = True
            self.trained_changed.emit(True)

    def set_draft(self, config: Config) -> None:
        """The config the panel shows (a run begins with the draft set to its own config)."""
        if config != self.draft:
            self.draft = config
            self.draft_changed.emit(config)

    def set_view(self, view: ViewSettings) -> None:
        if view != self.view:
            self.view = view
            self.view_changed.emit(view)

    def add_watch_result(self, result: WatchResult) -> None:
        self.watch_results.append(result)
        self.watch_result_added.emit(result)

    def set_hints(self, hints: list[str]) -> None:
        """The coach's latest hints, one line each (kept with the run in the runs log)."""
        self.hints = list(hints)

    def forget_changes(self) -> None:
        """Treat the run as saved without saving it (a screenshot's or a benchmark's training)."""
        if self.unsaved:
            self.unsaved = False
            self.file_changed.emit()

    def set_best(self, mark: BestMark | None) -> None:
        self.best = mark
        self.best_changed.emit(mark)

    def set_evaluation(self, result: EvalResult) -> None:
        self.last_eval = result
        self.evaluated.emit(result)

    def saved(self, path: str) -> None:
        """A save the user asked for finished (a recovery copy is not one: it changes nothing here)."""
        self.path, self.unsaved = path, False
        self.file_changed.emit()

    @property
    def finished(self) -> bool:
        """The trainer's own rule (max episodes, or solved with stop_when_solved), as last reported."""
        return self.status is not None and self.status.finished

    # --- runs and seed batches ---------------------------------------------------------------
    def archive(self) -> None:
        """Put the current run in the runs log (or update its entry); runs without episodes are skipped."""
        if self.config is None or not self.history.episodes:
            return
        scores = np.array([e.score for e in self.history.episodes])
        averages = np.array([e.moving_average for e in self.history.episodes])
        batch = f" (seed batch {self.group})" if self.group is not None else ""
        steps = self.status.total_steps if self.status else self.history.episodes[-1].total_steps
        parent, at = self.branch if self.branch is not None else (None, None)
        changes = ", ".join(f"{e.name} {e.old} → {e.new}" for e in self.history.edits
                            if at is not None and e.episode >= at and e.name != "max_episodes")
        self.runs.put(self.run_key, RunRecord(f"run {self.run_key}{batch}", self.config, scores, averages, steps,
                                              any(e.solved for e in self.history.episodes), self.group,
                                              tuple(self.hints), parent, at, changes[:MAX_CHANGES]))
        self.runs_changed.emit()

    def start_batch(self, config: Config, count: int) -> Config:
        """Begin `count` seeds of `config` (seed, seed + 1, …); returns the first run's config."""
        seeds = [config.seed + i for i in range(count)]
        self.batch = SeedBatch(self.runs.next_key(), config, seeds)
        first = self.batch.next_config
        assert first is not None, "a seed batch has at least one seed"
        return first

    def finish_run(self) -> Config | None:
        """The worker says the run finished: archive it; returns the next seed's config, if a batch goes on."""
        self.archive()
        batch = self.batch
        if batch is None or self.group != batch.group:
            return None
        batch.done += 1
        if batch.next_config is not None:
            return batch.next_config
        members = [r for r in self.runs.records.values() if r.group == batch.group]
        x, mean, std = seed_band(members)
        self.band = (x, mean, std, f"mean ± std of {len(members)} seeds")
        self.batch = None
        self.band_changed.emit(self.band)
        return None

    def _touch(self) -> None:
        if not self.unsaved:
            self.unsaved = True
            self.file_changed.emit()

