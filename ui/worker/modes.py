"""What the worker's timer runs, one mode at a time (training, watching a policy, a human driving,
an evaluation the user asked for), and the small tools the worker is built from: a throttle and a
guard for its slots."""

from __future__ import annotations

import functools
import math
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import numpy as np

from sandbox.app.human import HumanEpisode
from sandbox.app.policy_map import PolicyMap, coverage, policy_map, unavailable_reason
from sandbox.app.session import State, Status
from sandbox.core.config import ConfigError
from sandbox.core.diagnostics import Hint, diagnose
from sandbox.core.evaluate import Evaluation, GreedyStep
from sandbox.core.trainer import Trainer

MAP_RESOLUTION = 64
SLICE_SECONDS = 0.008  # work per tick at full speed; a command the window interrupts it for waits a step
EVAL_SLICE_STEPS = 100  # greedy steps between two looks at the clock and the interrupt while evaluating (~1 ms)
WATCH_INTERVAL_MS = 20  # "watch" speed: one step per tick, ~50 fps
FAST_FRAME_SECONDS = 1 / 30  # "fast" speed: at most ~30 frames per second
BATCH_SECONDS = 0.25  # status, episodes and losses reach the GUI at most 4 times a second while running:
INSPECT_SECONDS = 2.0  # every queued signal costs the GUI thread (and the GIL) a wake-up



class ModeHost(Protocol):
    """What a mode and a guarded slot may use of the worker that runs them (ModeHost is one)."""

    render: bool
    watch: bool
    interrupted: bool  # a command is waiting: end the slice
    watched: Any  # pyqtSignal(GreedyStep)
    watch_finished: Any  # pyqtSignal(str, float, int)
    human_finished: Any  # pyqtSignal(float, int)
    evaluated: Any  # pyqtSignal(EvalResult)

    def advance(self, max_steps: int | None, emit_steps: bool, until_episode_end: bool) -> None: ...
    def show(self, state: np.ndarray | None, frame: np.ndarray | None) -> None: ...
    def rest(self) -> None: ...
    def require(self) -> Trainer: ...
    def frames_needed(self) -> bool: ...
    def fail(self, doing: Doing, exc: Exception) -> None: ...


class Doing(Enum):
    """What the worker was doing when something failed: the kind the window decides on (never its
    words), and the words it shows ("Something went wrong while …")."""

    CREATING = "creating the agent"
    OPENING = "opening the agent file"
    RESTORING_BEST = "restoring the best agent"
    SAVING = "saving the agent"
    STARTING = "starting training"
    STEPPING_EPISODE = "stepping an episode"
    PAUSING = "pausing"
    STEPPING = "stepping"
    EDITING = "changing parameters"
    CHANGING_VIEW = "changing the view"
    WATCHING_GREEDY = "watching the greedy policy"
    WATCHING_RANDOM = "watching the random policy"
    EVALUATING = "evaluating"
    EXPORTING = "exporting"
    EXPLAINING = "explaining an update"
    PLAYING_RANDOM = "playing the random baseline"
    CHECKING = "checking the lesson step"
    LOGGING = "starting the TensorBoard log"
    SHOWING_PAST = "showing a checkpoint of the timeline"
    BRANCHING = "branching from a checkpoint"
    STARTING_HUMAN = "starting human play"
    DRIVING = "driving"
    STOPPING_HUMAN = "stopping human play"
    TRAINING = "training"
    HUMAN_PLAY = "human play"


@dataclass(frozen=True)
class Inspection:
    """A look inside the agent: the map (None for envs without a 2-D map), memory coverage, the
    current or last episode's states, the Q-values of the latest state, and the diagnostics."""

    map: PolicyMap | None
    coverage: np.ndarray | None
    trajectory: np.ndarray
    q_values: np.ndarray | None
    hints: list[Hint]


class Throttle:
    """`ready()` is true at most once per `seconds` (always when forced)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self._last = seconds, -math.inf

    def ready(self, force: bool = False) -> bool:
        now = time.perf_counter()
        if force or now - self._last >= self.seconds:
            self._last = now
            return True
        return False


def guarded(doing: Doing) -> Callable:
    """A slot that reports any exception as `failed(doing, message)` and stops what was running."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def slot(self: ModeHost, *args: Any) -> None:
            try:
                fn(self, *args)
            except Exception as exc:
                self.fail(doing, exc)

        return slot

    return wrap


# --- modes: what the timer runs ----------------------------------------------------------------
class Training:
    state, what = State.RUNNING, Doing.TRAINING

    def __init__(self, until_episode_end: bool = False) -> None:
        self.until_episode_end = until_episode_end

    def tick(self, w: ModeHost) -> None:
        watching = w.render and w.watch
        w.advance(1 if watching else None, watching, self.until_episode_end)


class Watching:
    """One episode of a policy (greedy or random) in real time; training is untouched."""

    def __init__(self, steps: Iterator[GreedyStep], state: State) -> None:
        self.steps, self.state = steps, state
        self.what = Doing.WATCHING_GREEDY if state is State.GREEDY else Doing.WATCHING_RANDOM

    def tick(self, w: ModeHost) -> None:
        step = next(self.steps, None)
        if step is None:
            return
        w.watched.emit(step)
        w.show(step.state, step.frame)
        if step.done:
            w.rest()
            w.watch_finished.emit(self.state.value, step.score, w.require().episodes_done)


class Driving:
    """A human drives a fresh episode; it starts with the first key, so no time is lost before it."""

    state, what = State.HUMAN, Doing.HUMAN_PLAY

    def __init__(self, episode: HumanEpisode, idle_action: int) -> None:
        self.episode, self.action, self.started = episode, idle_action, False

    def tick(self, w: ModeHost) -> None:
        if not self.started:
            return
        self.episode.step(self.action)
        w.show(self.episode.state, self.episode.frame() if w.frames_needed() else None)
        if self.episode.done:
            w.human_finished.emit(self.episode.score, w.require().episodes_done)
            w.rest()


class Evaluating:
    """The user's Evaluate: greedy episodes on an env of their own, a slice per tick, so Pause (which
    ends it unreported) and every other command wait at most one slice."""

    state, what = State.EVALUATING, Doing.EVALUATING

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation

    def tick(self, w: ModeHost) -> None:
        deadline = time.perf_counter() + SLICE_SECONDS
        while not self.evaluation.advance(EVAL_SLICE_STEPS):
            if w.interrupted or time.perf_counter() >= deadline:
                return
        w.rest()
        w.evaluated.emit(self.evaluation.result())


def inspect(t: Trainer) -> Inspection:
    """The map (where the env has one), memory coverage, the trajectory, current Q and the diagnostics."""
    has_map = unavailable_reason(t.spec) is None
    trajectory = t.trajectory.copy()
    q_now = t.agent.q_values(t.scaler(trajectory[-1])).copy() if len(trajectory) else None
    return Inspection(policy_map(t.agent, t.scaler, t.spec, MAP_RESOLUTION) if has_map else None,
                      coverage(t.agent, t.scaler, t.spec, MAP_RESOLUTION) if has_map else None,
                      trajectory, q_now, diagnose(t.history, t.config, t.spec, t.agent.epsilon, finished=t.finished))


def status_of(t: Trainer, rate: float, elapsed: float) -> Status:
    return Status(t.episodes_done, t.total_steps, rate, t.agent.epsilon, len(t.agent.memory), t.agent.memory.capacity,
                  elapsed, t.agent.updates, t.finished)


def readable(exc: Exception) -> str:
    """An expected error's own message; for anything else its type and a short traceback."""
    if isinstance(exc, (ConfigError, ValueError, ArithmeticError, OSError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=3)}"
