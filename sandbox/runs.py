"""Runs of a session, kept for comparison: ghost curves, config diffs, and mean ± std over seeds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.config import Config


@dataclass(frozen=True)
class RunRecord:
    """A finished or replaced run: its config (live edits applied) and its per-episode curves."""

    name: str
    config: Config
    scores: np.ndarray
    averages: np.ndarray
    total_steps: int
    solved: bool
    group: int | None = None  # runs started together by "run seeds" share a group

    @property
    def episodes(self) -> int:
        return len(self.scores)

    def summary(self) -> str:
        best = f", best average {self.averages.max():.1f}" if len(self.averages) else ""
        return (f"{self.name}: {self.config.env_id}, seed {self.config.seed}, {self.episodes} episodes, "
                f"{self.total_steps:,} steps{best}{', solved' if self.solved else ''}")


def config_diff(a: Config, b: Config) -> list[tuple[str, object, object]]:
    """(field, a's value, b's value) for every field that differs, in the config's order."""
    return [(name, old, new) for name, (old, new) in a.diff(b).items()]


def seed_band(records: list[RunRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Episode numbers (1-based), mean and std of the moving averages across `records`, over the
    episodes every record reached (so each point is over all seeds)."""
    if not records:
        raise ValueError("a band needs at least one run")
    n = min(r.episodes for r in records)
    stacked = np.stack([r.averages[:n] for r in records])
    return np.arange(1, n + 1), stacked.mean(axis=0), stacked.std(axis=0)
