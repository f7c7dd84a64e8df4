"""The best agent so far. DQN on MountainCar often peaks and then collapses, so the peak is kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sandbox.core.trainer import EpisodeStats, Trainer
from sandbox.formats.agent_file import KeptBest, from_bytes, to_bytes
from sandbox.io.files import atomic_write


@dataclass(frozen=True)
class BestMark:
    episode: int  # 0-based index of the episode that set the record
    value: float  # the greedy evaluation's mean, or the training moving average (see `measure`)
    total_steps: int
    measure: str = "moving average"

    def describe(self) -> str:
        return f"episode {self.episode + 1:,}, {self.measure} {self.value:.1f}"


class BestAgent:
    """A complete snapshot (agent-file bytes, memory included) of the run at its best.

    "Best" follows the run's solve rule: the highest greedy evaluation (solve_rule 'greedy'), or the
    highest training moving average once the window is full ('training_mean'), so one lucky early
    episode is never "best". Snapshots are taken at episode boundaries, so training resumed from
    one continues exactly as the run did from that point.
    """

    def __init__(self) -> None:
        self.mark: BestMark | None = None
        self._data: bytes | None = None
        self._device = "cpu"

    def offer(self, trainer: Trainer, stats: EpisodeStats) -> bool:
        """Call right after each episode; keeps a snapshot when `stats` sets a new record."""
        if trainer.config.solve_rule == "greedy":
            if not stats.evaluated:
                return False
            value, measure = stats.greedy_mean, "greedy mean"
        else:
            if stats.index + 1 < trainer.config.solve_window:
                return False
            value, measure = stats.moving_average, "moving average"
        if self.mark is not None and self.mark.measure == measure and value <= self.mark.value:
            return False
        self._data = to_bytes(trainer, include_memory=True)
        self._device = trainer.config.device  # restored where the run is training
        self.mark = BestMark(stats.index, value, stats.total_steps, measure)
        return True

    @classmethod
    def carried(cls, kept: KeptBest | None, device: str) -> BestAgent:
        """The best agent an opened file carried (none if it carried none), restored on `device`."""
        best = cls()
        if kept is not None:
            best._data, best._device = kept.data, device
            best.mark = BestMark(kept.episode, kept.value, kept.total_steps, kept.measure)
        return best

    def kept(self) -> KeptBest | None:
        """The best agent as a saved file carries it (None before there is one)."""
        if self.mark is None or self._data is None:
            return None
        m = self.mark
        return KeptBest(m.episode, m.value, m.total_steps, m.measure, self._data)

    def restore(self, render: bool = False) -> Trainer:
        """A new trainer exactly as the run was at its best."""
        if self._data is None:
            raise ValueError("there is no best agent yet: it is kept at the first evaluation (or once the "
                             "moving-average window is full)")
        return from_bytes(self._data, render, self._device)

    @property
    def data(self) -> bytes:
        """The snapshot as agent-file bytes."""
        if self._data is None:
            raise ValueError("there is no best agent yet: it is kept at the first evaluation (or once the "
                             "moving-average window is full)")
        return self._data

    def save(self, path: str | Path) -> int:
        """Write the best agent as an agent file (atomically); returns its size in bytes."""
        if self._data is None:
            raise ValueError("there is no best agent yet: it is kept at the first evaluation (or once the "
                             "moving-average window is full)")
        atomic_write(path, self._data, "best agent file")
        return len(self._data)
