"""The training worker: a QObject on its own QThread that alone touches the Trainer.

Training runs from a QTimer in the worker thread. Each tick runs a bounded slice of
`trainer.step()` calls (a few ms) and emits plain data, so queued commands (pause, step, new
parameters, stop) are handled between two ticks: pause lands exactly between two env steps, and
no locks are needed. The GUI thread never runs training code.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5.QtCore import QObject, QThread, QTimer, pyqtSignal, pyqtSlot

from sandbox.agent_file import file_info, load_trainer, resume_note, save_trainer
from sandbox.best import BestAgent
from sandbox.config import Config, ConfigError
from sandbox.diagnostics import Hint, diagnose
from sandbox.envs import EnvSpec
from sandbox.evaluate import EVAL_SEED_OFFSET, evaluate, greedy_steps
from sandbox.export import episodes_to_csv, greedy_video, losses_to_csv
from sandbox.human import HumanEpisode
from sandbox.policy_map import PolicyMap, coverage, policy_map, unavailable_reason
from sandbox.trainer import History, Trainer
from ui.render_view import STATE_VIEWS

SLICE_SECONDS = 0.008  # work per tick at full speed: short enough that commands wait at most this long
WATCH_INTERVAL_MS = 20  # "watch" speed: one step per tick, ~50 fps
FAST_FRAME_SECONDS = 1 / 30  # "fast" speed: at most ~30 frames per second
STATUS_SECONDS = 0.25  # status and losses reach the GUI at most 4 times a second while running:
LOSS_SECONDS = 0.25  # every queued signal costs the GUI thread (and the GIL) a wake-up
INSPECT_SECONDS = 2.0  # map and diagnostics refresh while training (tens of episodes apart at full speed)
MAP_RESOLUTION = 64


class State:
    IDLE = "Ready"
    RUNNING = "Running"
    PAUSED = "Paused"
    SOLVED = "Solved"
    STOPPED = "Stopped"
    GREEDY = "Watching greedy"
    HUMAN = "You are driving"
    EVALUATING = "Evaluating"


@dataclass(frozen=True)
class AgentSnapshot:
    """What the window needs after a new or loaded agent: copies, safe to keep in the GUI thread."""

    config: Config
    spec: EnvSpec
    history: History
    threshold: float | None
    path: str | None
    note: str | None = None  # what the user must know about the file (no replay memory: not exact)


@dataclass(frozen=True)
class Status:
    episodes: int
    total_steps: int
    steps_per_second: float
    epsilon: float
    memory_size: int
    memory_capacity: int
    elapsed: float
    updates: int


@dataclass(frozen=True)
class Inspection:
    """A look inside the agent: the map (None for envs without a 2-D map), memory coverage, the
    current or last episode's states, the Q-values of the latest state, and the diagnostics."""

    map: PolicyMap | None
    coverage: np.ndarray | None
    trajectory: np.ndarray
    q_values: np.ndarray | None
    hints: list[Hint]


def _copy_history(history: History) -> History:
    out = History(list(history.episodes), edits=list(history.edits))
    out.losses.extend(history.losses)
    return out


class TrainingWorker(QObject):
    agent_ready = pyqtSignal(object)  # AgentSnapshot
    episodes_finished = pyqtSignal(object)  # list[EpisodeStats], sent with the losses at most 4 times a second
    losses_added = pyqtSignal(object)  # np.ndarray of float32
    frame_ready = pyqtSignal(object)  # np.ndarray (H, W, 3) uint8
    stepped = pyqtSignal(object)  # StepResult, when stepping one env step or watching
    greedy_step = pyqtSignal(object)  # GreedyStep
    greedy_finished = pyqtSignal(float)
    evaluated = pyqtSignal(object)  # EvalResult
    edits_applied = pyqtSignal(object)  # list[LiveEdit]
    status = pyqtSignal(object)  # Status
    state_changed = pyqtSignal(str)
    best_changed = pyqtSignal(object)  # BestMark, or None when there is none
    inspected = pyqtSignal(object)  # Inspection
    exported = pyqtSignal(str)  # a sentence saying what was written where
    human_finished = pyqtSignal(float, int)  # (score, training episodes done when it was played)
    saved = pyqtSignal(str, int)
    failed = pyqtSignal(str, str)  # (what was being done, readable message)
    stopped = pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        self.trainer: Trainer | None = None
        self.best = BestAgent()
        self.timer: QTimer | None = None
        self.render = True
        self.watch = False
        self.state = State.IDLE
        self._until_episode_end = False
        self._greedy = None
        self._human: HumanEpisode | None = None
        self._human_action = 1
        self._greedy_score = 0.0
        self._last_frame = 0.0
        self._last_status = 0.0
        self._last_inspect = 0.0
        self._pending_losses: list[float] = []
        self._pending_episodes: list = []
        self._last_losses = 0.0
        self._elapsed = 0.0
        self._rate = 0.0

    # --- lifecycle ---------------------------------------------------------------------
    @pyqtSlot()
    def setup(self) -> None:
        """Runs in the worker thread once it starts, so the timer belongs to that thread."""
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

    @pyqtSlot()
    def stop(self) -> None:
        """Stop everything and end the thread's event loop (the window waits for it)."""
        if self.timer:
            self.timer.stop()
        self._greedy = None
        if self.trainer:
            self.trainer.close()
        self.stopped.emit()
        QThread.currentThread().quit()

    # --- commands ----------------------------------------------------------------------
    @pyqtSlot(object)
    def new_agent(self, config: Config) -> None:
        self._guard("creating the agent", self._new_agent, config)

    def _new_agent(self, config: Config) -> None:
        self._halt()
        self._replace(Trainer(config, render=True), None)

    @pyqtSlot(str)
    def load(self, path: str) -> None:
        self._guard("opening the agent file", self._load, path)

    def _load(self, path: str) -> None:
        self._halt()
        trainer = load_trainer(path, render=True)
        self._replace(trainer, path, note=resume_note(file_info(path)))

    def _replace(self, trainer: Trainer, path: str | None, keep_best: bool = False, note: str | None = None) -> None:
        self._pending_losses, self._pending_episodes = [], []  # the old run's: the new history replaces them
        if self.trainer:
            self.trainer.close()
        self.trainer = trainer
        self._elapsed = 0.0
        if not keep_best:
            self.best = BestAgent()
        self._announce(path, note)
        self.best_changed.emit(self.best.mark)
        self._inspect(force=True)

    @pyqtSlot()
    def restore_best(self) -> None:
        """Go back to the run's best point (the kept snapshot stays, so this can be done again)."""
        self._guard("restoring the best agent", self._restore_best)

    def _restore_best(self) -> None:
        self._halt()
        self._replace(self.best.restore(render=True), None, keep_best=True)

    @pyqtSlot(str, bool)
    def save(self, path: str, include_memory: bool) -> None:
        self._guard("saving the agent", self._save, path, include_memory)

    def _save(self, path: str, include_memory: bool) -> None:
        size = save_trainer(self._require(), path, include_memory)
        self.saved.emit(path, size)

    @pyqtSlot()
    def start(self) -> None:
        trainer = self.trainer
        if trainer is None or trainer.finished or self.state == State.RUNNING:
            return
        self._halt()
        self._set_state(State.RUNNING)
        self._schedule()

    @pyqtSlot()
    def pause(self) -> None:
        if self.state == State.HUMAN:
            self.human_stop()
        elif self.state in (State.RUNNING, State.GREEDY):
            self.timer.stop()
            self._greedy = None
            self._until_episode_end = False
            self._flush_losses(force=True)
            self._emit_status(force=True)
            self._inspect(force=True)
            self._set_state(self._resting_state())

    @pyqtSlot()
    def step_once(self) -> None:
        """One env step while not running: shows the frame, state, action, reward and Q-values."""
        if self.trainer is None or self.state in (State.RUNNING, State.GREEDY, State.HUMAN) or self.trainer.finished:
            return
        self._guard("stepping", self._advance, 1, True)
        self._inspect(force=True)
        if self.state not in (State.STOPPED, State.SOLVED):
            self._set_state(State.PAUSED)

    @pyqtSlot()
    def step_episode(self) -> None:
        """Run to the end of the current episode (or one whole episode), then pause."""
        if self.trainer is None or self.state in (State.RUNNING, State.GREEDY, State.HUMAN) or self.trainer.finished:
            return
        self._until_episode_end = True
        self._set_state(State.RUNNING)
        self._schedule()

    @pyqtSlot(object)
    def apply(self, changes: dict[str, Any]) -> None:
        self._guard("changing parameters", self._apply, changes)

    def _apply(self, changes: dict[str, Any]) -> None:
        edits = self._require().apply(changes)
        self.edits_applied.emit(edits)
        self._schedule()

    @pyqtSlot(bool, bool)
    def set_render(self, render: bool, watch: bool) -> None:
        self.render, self.watch = render, watch
        self._schedule()

    @pyqtSlot()
    def watch_greedy(self) -> None:
        """The notebook's "inference" run: the current policy, no exploration, no learning, real time."""
        trainer = self._require()
        if self.state == State.RUNNING:
            self.timer.stop()
        seed = trainer.config.seed + EVAL_SEED_OFFSET + trainer.episodes_done
        drawn = trainer.spec.env_id in STATE_VIEWS
        self._greedy = greedy_steps(trainer.agent, trainer.scaler, trainer.spec.env_id, seed, render=not drawn)
        self._set_state(State.GREEDY)
        self.timer.start(WATCH_INTERVAL_MS)

    @pyqtSlot(int)
    def evaluate(self, episodes: int) -> None:
        self._guard("evaluating", self._evaluate, episodes)

    def _evaluate(self, episodes: int) -> None:
        trainer = self._require()
        previous = self.state
        if previous == State.RUNNING:
            self.pause()
            previous = State.PAUSED
        self._set_state(State.EVALUATING)
        result = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, episodes,
                          trainer.config.seed + EVAL_SEED_OFFSET, trainer.threshold)
        self._set_state(previous)
        self.evaluated.emit(result)

    @pyqtSlot(str, str)
    def export(self, kind: str, path: str) -> None:
        """kind: 'episodes' or 'losses' (CSV), or 'video' (a greedy episode as GIF or MP4)."""
        self._guard("exporting", self._export, kind, path)

    def _export(self, kind: str, path: str) -> None:
        t = self._require()
        if kind == "episodes":
            self.exported.emit(f"Wrote {episodes_to_csv(t.history, path)} episodes to {path}")
        elif kind == "losses":
            self.exported.emit(f"Wrote {losses_to_csv(t.history, path)} losses to {path}")
        else:
            seed = t.config.seed + EVAL_SEED_OFFSET + t.episodes_done
            frames, score = greedy_video(t.agent, t.scaler, t.spec.env_id, seed, path)
            self.exported.emit(f"Wrote a greedy episode ({frames} frames, score {score:g}) to {path}")

    @pyqtSlot()
    def human_start(self) -> None:
        """Let the user drive a fresh episode (training pauses; its env is untouched)."""
        self._guard("starting human play", self._human_start)

    def _human_start(self) -> None:
        t = self._require()
        if self.state == State.RUNNING:
            self.pause()
        self._halt()  # also ends an earlier human episode
        self._human = HumanEpisode(t.spec.env_id, t.config.seed + len(t.history.episodes))
        self._human_action = 1 if t.spec.n_actions > 2 else 0
        self.frame_ready.emit(self._human_frame())
        self._set_state(State.HUMAN)
        self.timer.start(WATCH_INTERVAL_MS)

    @pyqtSlot(int)
    def human_action(self, action: int) -> None:
        if self._human is not None and 0 <= action < self._require().spec.n_actions:
            self._human_action = action

    @pyqtSlot()
    def human_stop(self) -> None:
        if self._human is not None:
            self.timer.stop()
            self._human.close()
            self._human = None
            self._set_state(self._resting_state())

    def _human_frame(self) -> np.ndarray:
        human = self._human
        if self._require().spec.env_id in STATE_VIEWS:
            return np.array(human.state, dtype=np.float64)
        return human.frame()

    def _human_tick(self) -> None:
        human = self._human
        human.step(self._human_action)
        self.frame_ready.emit(self._human_frame())
        if human.done:
            self.human_finished.emit(human.score, self._require().episodes_done)
            self.human_stop()

    # --- the loop ----------------------------------------------------------------------
    def _schedule(self) -> None:
        if self.state == State.RUNNING and self.timer is not None:
            self.timer.start(WATCH_INTERVAL_MS if self.render and self.watch else 0)

    @pyqtSlot()
    def _tick(self) -> None:
        if self._human is not None:
            self._guard("human play", self._human_tick)
        elif self._greedy is not None:
            self._guard("watching the greedy policy", self._greedy_tick)
        elif self.state == State.RUNNING:
            watching = self.render and self.watch
            self._guard("training", self._advance, 1 if watching else None, watching)

    def _greedy_tick(self) -> None:
        step = next(self._greedy, None)
        if step is None:
            return
        self.greedy_step.emit(step)
        self.frame_ready.emit(step.frame if step.frame is not None else np.array(step.state, dtype=np.float64))
        if step.done:
            self.timer.stop()
            self._greedy = None
            self._set_state(self._resting_state())
            self.greedy_finished.emit(step.score)

    def _advance(self, max_steps: int | None, emit_steps: bool) -> None:
        """Run steps for one slice (or `max_steps`), emitting episodes, losses, frames and status."""
        trainer = self._require()
        started = time.perf_counter()
        deadline = started + SLICE_SECONDS
        losses = self._pending_losses
        steps = 0
        while not trainer.finished:
            result = trainer.step()
            steps += 1
            losses.extend(result.losses)
            if emit_steps:
                self.stepped.emit(result)
            if result.episode is not None:
                self._pending_episodes.append(result.episode)
                if self.best.offer(trainer, result.episode):
                    self.best_changed.emit(self.best.mark)
                if self._until_episode_end:
                    self._until_episode_end = False
                    self.timer.stop()
                    self._flush_losses(force=True)
                    self._inspect(force=True)
                    self._set_state(State.PAUSED)
                    break
            if (max_steps is not None and steps >= max_steps) or time.perf_counter() >= deadline:
                break
        spent = time.perf_counter() - started
        self._elapsed += spent
        self._rate = 0.8 * self._rate + 0.2 * (steps / spent) if self._rate else steps / spent
        self._flush_losses(force=emit_steps or self.state != State.RUNNING or trainer.finished)
        now = time.perf_counter()
        if self.render and (emit_steps or now - self._last_frame >= FAST_FRAME_SECONDS):
            self._last_frame = now
            self._emit_frame(trainer.trajectory[-1] if len(trainer.trajectory) else None)
        self._emit_status(force=emit_steps)
        self._inspect()
        if trainer.finished:
            self.timer.stop()
            self._emit_status(force=True)
            self._inspect(force=True)
            self._set_state(State.SOLVED if trainer.solved else State.STOPPED)

    # --- helpers -----------------------------------------------------------------------
    def _require(self) -> Trainer:
        if self.trainer is None:
            raise RuntimeError("there is no agent yet; create one with New agent")
        return self.trainer

    def _guard(self, what: str, fn, *args) -> None:
        """Run a command; any exception stops training, keeps the agent and reports a readable message."""
        try:
            fn(*args)
        except Exception as exc:
            if self.timer:
                self.timer.stop()
            self._greedy = None
            self._until_episode_end = False
            self._flush_losses(force=True)
            known = isinstance(exc, (ConfigError, ValueError, ArithmeticError, OSError))
            message = str(exc) if known else f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=3)}"
            if self.trainer is not None and self.state in (State.RUNNING, State.GREEDY, State.EVALUATING):
                self._set_state(State.STOPPED)
            self.failed.emit(what, message)

    def _halt(self) -> None:
        if self.timer:
            self.timer.stop()
        if self._human is not None:
            self._human.close()
            self._human = None
        self._greedy = None
        self._until_episode_end = False

    def _announce(self, path: str | None, note: str | None = None) -> None:
        trainer = self._require()
        self.agent_ready.emit(AgentSnapshot(trainer.config, trainer.spec, _copy_history(trainer.history),
                                            trainer.threshold, path, note))
        self._set_state(State.SOLVED if trainer.solved else (State.PAUSED if trainer.total_steps else State.IDLE))
        self._emit_status(force=True)
        if trainer.mid_episode:
            self._emit_frame(trainer.trajectory[-1])

    def _emit_frame(self, state: np.ndarray | None) -> None:
        """The training env as it is now: its state for envs the window draws itself, else a frame."""
        trainer = self._require()
        if trainer.spec.env_id in STATE_VIEWS:
            if state is not None:
                self.frame_ready.emit(np.array(state, dtype=np.float64))
            return
        frame = trainer.render()
        if frame is not None:
            self.frame_ready.emit(frame)

    def _resting_state(self) -> str:
        """After a greedy run, human play or a pause: Paused once there is training, else Ready."""
        return State.PAUSED if self.trainer is not None and self.trainer.total_steps else State.IDLE

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
        self.state_changed.emit(state)

    def _flush_losses(self, force: bool = False) -> None:
        """Send the finished episodes and the losses gathered since the last flush."""
        now = time.perf_counter()
        if not (self._pending_losses or self._pending_episodes):
            return
        if force or now - self._last_losses >= LOSS_SECONDS:
            self._last_losses = now
            if self._pending_episodes:
                self.episodes_finished.emit(self._pending_episodes)
                self._pending_episodes = []
            if self._pending_losses:
                self.losses_added.emit(np.asarray(self._pending_losses, dtype=np.float32))
                self._pending_losses = []

    def _inspect(self, force: bool = False) -> None:
        """Emit the map and diagnostics: throttled while training, at once when forced."""
        now = time.perf_counter()
        t = self.trainer
        if t is None or (not force and now - self._last_inspect < INSPECT_SECONDS):
            return
        self._last_inspect = now
        has_map = unavailable_reason(t.spec) is None
        trajectory = t.trajectory.copy()
        q_now = t.agent.q_values(t.scaler(trajectory[-1])).copy() if len(trajectory) else None
        self.inspected.emit(Inspection(
            policy_map(t.agent, t.scaler, t.spec, MAP_RESOLUTION) if has_map else None,
            coverage(t.agent, t.scaler, t.spec, MAP_RESOLUTION) if has_map else None,
            trajectory, q_now, diagnose(t.history, t.config, t.spec, t.agent.epsilon)))

    def _emit_status(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.trainer is None or (not force and now - self._last_status < STATUS_SECONDS):
            return
        self._last_status = now
        t = self.trainer
        self.status.emit(Status(t.episodes_done, t.total_steps, self._rate, t.agent.epsilon, len(t.agent.memory),
                                t.agent.memory.capacity, self._elapsed, t.agent.updates))


def start_worker() -> tuple[TrainingWorker, QThread]:
    """A worker living in a started thread; stop it with `worker.stop` (queued) then `thread.wait()`."""
    thread = QThread()
    thread.setObjectName("training")
    worker = TrainingWorker()
    worker.moveToThread(thread)
    thread.started.connect(worker.setup)
    thread.start()
    return worker, thread

