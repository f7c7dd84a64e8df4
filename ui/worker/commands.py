"""The window's commands to the training worker, as typed values.

Each is a frozen dataclass sent through one queued signal (`MainWindow.command` → `Worker.command`),
so a command carries named, typed fields instead of positional signal arguments, and the worker
decides on its type. Commands without arguments (start, pause, step, …) stay plain slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sandbox.app.lesson import Step
from sandbox.app.session import Origin
from sandbox.core.config import Config


@dataclass(frozen=True)
class NewAgent:
    """Build a fresh agent from `config` and begin a run with it."""

    config: Config
    origin: Origin = Origin.NEW


@dataclass(frozen=True)
class Load:
    """Open an agent file (the user's, or a recovery copy)."""

    path: str
    origin: Origin = Origin.OPENED


@dataclass(frozen=True)
class Save:
    path: str
    include_memory: bool


@dataclass(frozen=True)
class Autosave:
    """Write the recovery copy (memory included); a failure is reported and stops nothing."""

    path: str


@dataclass(frozen=True)
class Apply:
    """Live edits: field name → new value."""

    changes: dict[str, Any]


@dataclass(frozen=True)
class SetView:
    render: bool
    watch: bool


@dataclass(frozen=True)
class Evaluate:
    episodes: int


ExportKind = Literal["episodes", "losses", "video"]


@dataclass(frozen=True)
class Export:
    """Episodes or losses as CSV, or a greedy episode as GIF or MP4."""

    kind: ExportKind
    path: str


@dataclass(frozen=True)
class HumanAction:
    """The action the user's key now holds while driving."""

    action: int


@dataclass(frozen=True)
class Explain:
    """Take apart the learning target of a stored transition: the newest one, or one drawn at random
    (from the worker's own generator: the run's random streams are untouched)."""

    sample: bool = False


@dataclass(frozen=True)
class SetLogging:
    """Write each run's TensorBoard event files into `folder` (None: stop)."""

    folder: str | None


@dataclass(frozen=True)
class PlayRandom:
    """Play `episodes` episodes of the uniformly random policy on the run's env (a baseline to beat)."""

    episodes: int


@dataclass(frozen=True)
class CheckStep:
    """Measure a lesson step's check on the run being trained."""

    step: Step


@dataclass(frozen=True)
class ShowCheckpoint:
    """Show the agent of the timeline's checkpoint at `episode` (the map, Q-values, readouts), or the
    present again (None). Training goes on meanwhile."""

    episode: int | None


@dataclass(frozen=True)
class Branch:
    """Replace the run by the exact agent of its checkpoint at `episode`: a new run, whose past is
    the old run's up to there."""

    episode: int


Command = (NewAgent | Load | Save | Autosave | Apply | SetView | Evaluate | Export | HumanAction | Explain
           | PlayRandom | CheckStep | SetLogging | ShowCheckpoint | Branch)
