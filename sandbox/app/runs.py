"""Runs kept for comparison (ghost curves, config diffs, mean ± std over seeds), across restarts.

The log lives in the user data directory as one JSON file, written atomically after each change
and read back with the same strictness as any file from outside: a damaged log is set aside (and
said so), never a reason not to start.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.core.config import Config, ConfigError
from sandbox.formats.agent_schema import MAX_HINT_CHARS, MAX_HINTS
from sandbox.io.files import PathError, atomic_write, read_regular, shown_path, strict_json
from sandbox.io.text import cut, escaped

MAX_RUNS = 100  # the oldest runs leave the log first
MAX_RUN_EPISODES = 100_000  # episodes of a run's curves kept (about 4 MB written)
MAX_LOG_BYTES = 64 * 1024 * 1024
MAX_SET_ASIDE = 20  # damaged logs kept beside the live one
MAX_CHANGES = 300  # characters of a branch's "what changed"


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
    hints: tuple[str, ...] = ()  # the coach's hints when the run ended or was replaced
    parent: int | None = None  # a branch: the key of the run it branched from,
    branch_episode: int | None = None  # at the checkpoint after this many episodes,
    changes: str = ""  # and the live edits it made from there

    @property
    def episodes(self) -> int:
        return len(self.scores)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "config": self.config.to_dict(), "scores": self.scores.tolist(),
                "averages": self.averages.tolist(), "total_steps": self.total_steps, "solved": self.solved,
                "group": self.group, "hints": list(self.hints), "parent": self.parent,
                "branch_episode": self.branch_episode, "changes": self.changes}

    @classmethod
    def from_json(cls, data: Any) -> RunRecord:
        """ValueError (or ConfigError) for anything but what `to_json` wrote."""
        if not isinstance(data, dict):
            raise ValueError("a run is not an object")
        scores = np.asarray(data["scores"], dtype=np.float64)
        averages = np.asarray(data["averages"], dtype=np.float64)
        group = data["group"]
        if scores.shape != averages.shape or scores.ndim != 1 or not (np.isfinite(scores).all() and
                                                                       np.isfinite(averages).all()):
            raise ValueError("a run's curves are malformed")
        if not (isinstance(data["name"], str) and type(data["total_steps"]) is int and
                isinstance(data["solved"], bool) and (group is None or type(group) is int)):
            raise ValueError("a run's fields are malformed")
        hints = data.get("hints", [])
        if not (isinstance(hints, list) and all(isinstance(h, str) for h in hints)):
            raise ValueError("a run's hints are malformed")
        parent, at, changes = data.get("parent"), data.get("branch_episode"), data.get("changes", "")
        if not ((parent is None) == (at is None) and (parent is None or (type(parent) is int and type(at) is int
                                                                         and 0 <= at <= len(scores)))
                and isinstance(changes, str)):
            raise ValueError("a run's branch point is malformed")
        return cls(data["name"][:200], Config.from_dict(data["config"]), scores, averages, data["total_steps"],
                   data["solved"], group, tuple(h[:MAX_HINT_CHARS] for h in hints[:MAX_HINTS]), parent, at,
                   changes[:MAX_CHANGES])

    def summary(self) -> str:
        best = f", best average {self.averages.max():.1f}" if len(self.averages) else ""
        branch = ""
        if self.parent is not None:
            branch = (f", branched from run {self.parent} at episode {self.branch_episode:,} "
                      f"({self.changes or 'no change'})")
        return (f"{self.name}: {self.config.env_id}, seed {self.config.seed}, {self.episodes} episodes, "
                f"{self.total_steps:,} steps{best}{', solved' if self.solved else ''}{branch}")


def tree_order(records: dict[int, RunRecord]) -> list[tuple[int, int]]:
    """(key, depth) of every run, each branch right after the run it branched from (oldest first),
    so a list reads as the tree of branches; a branch whose parent is gone is a root."""
    children: dict[int | None, list[int]] = {}
    for key, record in records.items():
        parent = record.parent if record.parent in records and record.parent != key else None
        children.setdefault(parent, []).append(key)
    out: list[tuple[int, int]] = []
    stack = [(key, 0) for key in reversed(children.get(None, []))]
    seen: set[int] = set()
    while stack:
        key, depth = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        out.append((key, depth))
        stack += [(child, depth + 1) for child in reversed(children.get(key, []))]
    return out + [(key, 0) for key in records if key not in seen]  # a cycle in a hand-edited log: flat


def config_diff(a: Config, b: Config) -> list[tuple[str, object, object]]:
    """(field, a's value, b's value) for every field that differs, in the config's order."""
    return [(name, old, new) for name, (old, new) in a.diff(b).items()]


def short_diff(a: Config, b: Config, limit: int = 3) -> str:
    """What changed from `a` to `b` in one short line: 'learning_rate 0.001 → 0.0005, seed 1 → 2'."""
    rows = config_diff(a, b)
    text = ", ".join(f"{name} {old:g} → {new:g}" if isinstance(old, float) and isinstance(new, float)
                     else f"{name} {old} → {new}" for name, old, new in rows[:limit])
    return text + (f", +{len(rows) - limit} more" if len(rows) > limit else "") if rows else "same config"


def seed_band(records: list[RunRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Episode numbers (1-based), mean and std of the moving averages across `records`, over the
    episodes every record reached (so each point is over all seeds)."""
    if not records:
        raise ValueError("a band needs at least one run")
    n = min(r.episodes for r in records)
    stacked = np.stack([r.averages[:n] for r in records])
    return np.arange(1, n + 1), stacked.mean(axis=0), stacked.std(axis=0)


def seed_summary(records: list[RunRecord]) -> str:
    """A seed batch in one line: its seeds, the mean ± std of their best moving averages, how many solved."""
    best = np.array([r.averages.max() for r in records if len(r.averages)])
    seeds = ", ".join(str(r.config.seed) for r in records)
    figures = f"best moving average {best.mean():.1f} ± {best.std():.1f} (mean ± std), " if len(best) else ""
    return (f"Seed batch: {len(records)} seeds ({seeds}): {figures}solved {sum(r.solved for r in records)} of "
            f"{len(records)}; the band on the score plot is the mean ± std of their moving averages.")


@dataclass
class RunsLog:
    """Runs by key, oldest first; saved to `path` (if given) whenever it changes."""

    path: Path | None = None
    records: dict[int, RunRecord] = field(default_factory=dict)
    problem: str | None = None  # why an existing log could not be read (it was set aside)

    @classmethod
    def load(cls, path: Path) -> RunsLog:
        """The log at `path`. One that is not a regular file or is too big is left alone and the runs
        are kept in memory this session; a damaged one is set aside (and said so)."""
        log = cls(path)
        if not os.path.lexists(path):
            return log
        try:
            raw = read_regular(path, MAX_LOG_BYTES, "the runs log")
        except PathError as exc:
            log.path, log.problem = None, f"{exc}; runs are kept in memory this session"
            return log
        try:
            data = strict_json(raw.decode("utf-8"))
            if not isinstance(data, list):
                raise ValueError("it is not a list of runs")
            for entry in data[-MAX_RUNS:]:
                key = entry.get("key") if isinstance(entry, dict) else None
                if type(key) is not int:
                    raise ValueError("a run has no key")
                log.records[key] = RunRecord.from_json(entry)
        except (ValueError, KeyError, TypeError, ConfigError, UnicodeDecodeError, MemoryError) as exc:
            log.records.clear()
            log.set_aside(f"the runs log {shown_path(path)} could not be read ({cut(escaped(str(exc)), 120)})")
        return log

    def set_aside(self, why: str) -> None:
        """Move the damaged log out of the way (under a name not taken); if it cannot be moved, run in memory."""
        assert self.path is not None
        names = [self.path.with_suffix(".damaged.json")] + \
                [self.path.with_suffix(f".damaged-{i}.json") for i in range(2, MAX_SET_ASIDE + 1)]
        target = next((n for n in names if not os.path.lexists(n)), None)
        try:
            if target is None:
                raise OSError(f"{MAX_SET_ASIDE} damaged logs are already kept beside it")
            os.rename(self.path, target)
        except OSError as exc:
            self.path = None
            self.problem = f"{why}; it could not be set aside ({exc.strerror or exc}), so runs are kept in memory " \
                           "this session"
            return
        self.problem = f"{why}; it was set aside as {shown_path(target.name)}"

    def next_key(self) -> int:
        return max(self.records, default=0) + 1

    def put(self, key: int, record: RunRecord) -> None:
        if record.episodes > MAX_RUN_EPISODES:  # a run's first episodes are what a ghost curve compares
            record = dataclasses.replace(record, scores=record.scores[:MAX_RUN_EPISODES],
                                         averages=record.averages[:MAX_RUN_EPISODES])
        self.records[key] = record
        for old in sorted(self.records)[:-MAX_RUNS]:
            del self.records[old]
        self.save()

    def encoded(self) -> bytes:
        """The log as written: compact JSON, the oldest runs left out until it fits the size `load` reads."""
        while True:
            data = [{"key": key} | record.to_json() for key, record in self.records.items()]
            raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
            if len(raw) <= MAX_LOG_BYTES or len(self.records) <= 1:
                return raw
            del self.records[min(self.records)]

    def save(self) -> None:
        if self.path is None:
            return
        try:
            atomic_write(self.path, self.encoded(), "the runs log", follow_links=False)
        except PathError as exc:  # a full disk, a folder put in its place: the runs stay, in memory
            self.path, self.problem = None, f"{exc}; runs are kept in memory from now on"
