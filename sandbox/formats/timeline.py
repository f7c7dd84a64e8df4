"""The run's timeline: exact checkpoints, from any of which the run continues bit for bit.

DQN on MountainCar peaks, collapses and recovers, and the question is always "what if I had changed
X back there?". A checkpoint is taken after every greedy evaluation and at least every
`CHECKPOINT_EVERY` episodes (and where the timeline begins). It holds what an agent file holds minus
the two parts that only grow, which the timeline keeps once for the whole run:

- the history: a checkpoint records how many episodes, losses and live edits the run had then, and
  is restored with that prefix of the run's own history;
- the replay memory: the transitions it took are in an append-only `TransitionLog`, and the memory
  at a checkpoint is the log's last `memory_size` rows before the checkpoint's `log_end`, laid out
  from the memory's write position.

What stays per checkpoint is the nets, Adam's moments, the counters and the four generators' states
(about 280 KB for the `fast` preset). Restoring one puts a whole agent file back together and
encodes it with the loader's own checks (`agent_state.encode`); `agent_file.from_bytes` builds the
trainer, so a restored checkpoint is exactly a resumed file, whose continuation is bit-exact.

Bounded: checkpoints beyond `MEMORY_LIMIT` bytes move, oldest first, to an anonymous file in the
spill folder (the app's data dir), and beyond `MAX_CHECKPOINTS` every other one is dropped, so the
spacing doubles instead of the memory growing. The log costs 36 bytes a transition for MountainCar.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.core.config import Config
from sandbox.core.envs import EnvSpec
from sandbox.core.memory import ARRAYS, DTYPES, ReplayMemory
from sandbox.core.trainer import EpisodeStats, History, Trainer
from sandbox.formats.agent_schema import MAX_CHECKPOINTS  # beyond this, every other one is dropped
from sandbox.formats.agent_state import encode, history_tensors, learned_tensors, rng_info, versions

CHECKPOINT_EVERY = 20  # episodes: at most this far apart (greedy evaluations add their own)
MEMORY_LIMIT = 48 * 2**20  # bytes of checkpoints held in memory before the oldest are spilled to disk


@dataclass(frozen=True)
class Checkpoint:
    """Where the run stood at an episode boundary: counters, generators and the memory's shape."""

    episodes: int  # episodes done: the continuation's next episode has this index
    steps: int
    updates: int
    losses: int  # len(history.losses) then
    edits: int  # len(history.edits) then
    log_end: int  # the transition log's length then
    memory_size: int
    memory_position: int
    rng: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class TransitionLog:
    """The transitions the replay memory took, in order: append-only growing columns whose last rows
    are always the memory's contents.

    Row 0 is the log's transition number `start` (a log restored from a file keeps only the rows
    its checkpoints need).
    """

    def __init__(self, obs_dim: int, start: int = 0, columns: dict[str, np.ndarray] | None = None) -> None:
        self.obs_dim = obs_dim
        self.start = start
        self.rows = 0
        self.columns: dict[str, np.ndarray] = {}
        for name in ARRAYS:
            shape = (0, obs_dim) if name in ("states", "next_states") else (0,)
            self.columns[name] = np.zeros(shape, DTYPES[name])
        if columns is not None:
            self.append(columns)

    @property
    def end(self) -> int:
        return self.start + self.rows

    @property
    def nbytes(self) -> int:
        return sum(c[: self.rows].nbytes for c in self.columns.values())

    def append(self, columns: dict[str, np.ndarray]) -> None:
        count = len(columns["actions"])
        need = self.rows + count
        if need > len(self.columns["actions"]):
            grown = max(need, 2 * len(self.columns["actions"]), 1024)
            for name, old in self.columns.items():
                new = np.zeros((grown, *old.shape[1:]), old.dtype)
                new[: self.rows] = old[: self.rows]
                self.columns[name] = new
        for name in ARRAYS:
            self.columns[name][self.rows:need] = columns[name]
        self.rows = need

    def slice(self, begin: int, end: int) -> dict[str, np.ndarray]:
        """Copies of the log's transitions `begin` to `end` (end excluded)."""
        if not self.start <= begin <= end <= self.end:
            raise ValueError(f"the transition log holds {self.start:,} to {self.end:,}, not {begin:,} to {end:,}")
        a, b = begin - self.start, end - self.start
        return {name: c[a:b].copy() for name, c in self.columns.items()}


class _Spill:
    """Checkpoint tensors moved out of memory: an anonymous file (gone when closed), read back on demand."""

    def __init__(self, folder: Path | None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder, prefix="timeline-")  # noqa: SIM115 (open as long as the timeline)
        self._end = 0

    def put(self, tensors: dict[str, np.ndarray]) -> list[tuple[str, int, np.dtype, tuple[int, ...]]]:
        entries = []
        for name, value in tensors.items():
            data = np.ascontiguousarray(value).tobytes()
            written = os.pwrite(self._file.fileno(), data, self._end)
            if written != len(data):
                raise OSError("short write to the timeline's spill file")
            entries.append((name, self._end, value.dtype, value.shape))
            self._end += len(data)
        return entries

    def get(self, entries: list[tuple[str, int, np.dtype, tuple[int, ...]]]) -> dict[str, np.ndarray]:
        out = {}
        for name, offset, dtype, shape in entries:
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            data = os.pread(self._file.fileno(), size, offset)
            if len(data) != size:
                raise OSError("the timeline's spill file is shorter than what was written to it")
            out[name] = np.frombuffer(data, dtype).reshape(shape).copy()
        return out


class _Tensors:
    """One checkpoint's tensors, in memory or in the spill file."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self.held: dict[str, np.ndarray] | None = tensors
        self.spilled: tuple[_Spill, list[tuple[str, int, np.dtype, tuple[int, ...]]]] | None = None
        self.nbytes = sum(v.nbytes for v in tensors.values())

    def get(self) -> dict[str, np.ndarray]:
        if self.held is not None:
            return self.held
        assert self.spilled is not None
        spill, entries = self.spilled
        return spill.get(entries)

    def spill(self, spill: _Spill) -> None:
        assert self.held is not None
        self.spilled = (spill, spill.put(self.held))
        self.held = None


class Timeline:
    """A run's checkpoints and transition log; an observer of the trainer it follows (`follow`)."""

    def __init__(self, spec: EnvSpec, capacity: int, spill_folder: Path | None = None,
                 log: TransitionLog | None = None, memory_limit: int = MEMORY_LIMIT,
                 max_checkpoints: int = MAX_CHECKPOINTS) -> None:
        self.spec = spec
        self.capacity = capacity
        self.spill_folder = spill_folder
        self.memory_limit = memory_limit
        self.max_checkpoints = max_checkpoints
        self.log = log if log is not None else TransitionLog(spec.obs_dim)
        self.checkpoints: list[Checkpoint] = []
        self._tensors: list[_Tensors] = []
        self._spill: _Spill | None = None
        self._spill_failed = False
        self._memory: ReplayMemory | None = None
        self._seen = 0  # memory.added when the log last caught up with the memory

    # --- following a run -------------------------------------------------------------
    @classmethod
    def start(cls, trainer: Trainer, spill_folder: Path | None = None, memory_limit: int = MEMORY_LIMIT,
              max_checkpoints: int = MAX_CHECKPOINTS) -> Timeline:
        """A timeline beginning where `trainer` stands (its memory's contents become the log's first rows)."""
        timeline = cls(trainer.spec, trainer.config.memory_capacity, spill_folder, None, memory_limit, max_checkpoints)
        memory = trainer.agent.memory
        timeline.log.append(memory.newest(memory.size))
        timeline.follow(trainer)
        return timeline

    def follow(self, trainer: Trainer) -> None:
        """Observe `trainer` from now on; its memory must be the log's last rows. Takes a checkpoint at
        once when the trainer stands at an episode boundary the timeline has none for."""
        self._memory = trainer.agent.memory
        self._seen = self._memory.added
        if self not in trainer.observers:
            trainer.observers.append(self)
        at_boundary = not trainer.mid_episode and trainer.evaluation is None
        if at_boundary and not any(c.episodes == trainer.episodes_done for c in self.checkpoints):
            self.capture(trainer)

    def episode_ended(self, trainer: Trainer, stats: EpisodeStats) -> None:
        last = self.checkpoints[-1].episodes if self.checkpoints else -CHECKPOINT_EVERY
        if stats.evaluated or trainer.episodes_done - last >= CHECKPOINT_EVERY:
            self.capture(trainer)
        else:
            self.catch_up()

    def catch_up(self) -> None:
        """Log the transitions the memory took since the last call. Only the memory's last `size` can
        be in any checkpoint's memory, so when more came (a long episode in a small memory) the
        older ones, already overwritten, are not logged: the log's last rows are always the memory."""
        memory = self._memory
        if memory is not None and memory.added > self._seen:
            self.log.append(memory.newest(memory.added - self._seen))
            self._seen = memory.added

    def capture(self, trainer: Trainer) -> Checkpoint:
        """A checkpoint of `trainer`, which stands at an episode boundary."""
        if trainer.mid_episode or trainer.evaluation is not None:
            raise ValueError("a checkpoint is taken at an episode boundary, not inside an episode")
        self.catch_up()
        agent, memory = trainer.agent, trainer.agent.memory
        checkpoint = Checkpoint(trainer.episodes_done, agent.steps, agent.updates, len(trainer.history.losses),
                                len(trainer.history.edits), self.log.end, memory.size, memory.position,
                                rng_info(trainer))
        if self.checkpoints and self.checkpoints[-1].episodes == checkpoint.episodes:
            self.checkpoints.pop()  # the same boundary again (a live edit since): the newer state wins
            self._tensors.pop()
        self.checkpoints.append(checkpoint)
        self._tensors.append(_Tensors(learned_tensors(agent)))
        self._bound()
        return checkpoint

    def _bound(self) -> None:
        if len(self.checkpoints) > self.max_checkpoints:
            keep = [i for i in range(len(self.checkpoints)) if i % 2 == 0 or i == len(self.checkpoints) - 1]
            self.checkpoints = [self.checkpoints[i] for i in keep]
            self._tensors = [self._tensors[i] for i in keep]
        if self._spill_failed:
            return
        held = [t for t in self._tensors[:-1] if t.held is not None]
        while held and self.held_bytes() > self.memory_limit:
            try:
                if self._spill is None:
                    self._spill = _Spill(self.spill_folder)
                held.pop(0).spill(self._spill)
            except OSError:  # a full disk or an unwritable folder: keep it in memory, lose nothing
                self._spill_failed = True
                return

    # --- reading ---------------------------------------------------------------------
    def held_bytes(self) -> int:
        """Bytes this timeline holds in memory: checkpoints not spilled, and the transition log."""
        return sum(t.nbytes for t in self._tensors if t.held is not None) + self.log.nbytes

    def index_at(self, episodes: int) -> int:
        """The checkpoint taken when `episodes` episodes were done; ValueError naming the nearest ones."""
        for i, c in enumerate(self.checkpoints):
            if c.episodes == episodes:
                return i
        have = [c.episodes for c in self.checkpoints]
        before = [e for e in have if e < episodes][-1:]
        after = [e for e in have if e > episodes][:1]
        near = " and ".join(str(e) for e in before + after) or "none"
        raise ValueError(f"the timeline has no checkpoint at episode {episodes:,} (nearest: {near}; "
                         f"{len(have):,} checkpoints from {have[0] if have else 0:,} to {have[-1] if have else 0:,})")

    def tensors(self, index: int) -> dict[str, np.ndarray]:
        """The nets' weights and Adam's state at checkpoint `index`."""
        return self._tensors[index].get()

    def memory_at(self, index: int) -> dict[str, np.ndarray]:
        """The replay memory's filled slots at checkpoint `index`, as they lay."""
        c = self.checkpoints[index]
        rows = self.log.slice(c.log_end - c.memory_size, c.log_end)
        slots = (c.memory_position - c.memory_size + np.arange(c.memory_size)) % self.capacity
        out = {}
        for name, column in rows.items():
            placed = np.empty_like(column)
            placed[slots] = column
            out[name] = placed
        return out

    def agent_bytes(self, index: int, history: History, config: Config, optimizer: dict[str, Any]) -> bytes:
        """Checkpoint `index` as a whole agent file, replay memory included.

        `history` and `config` are the run's as they are now (the checkpoint takes their prefix, and
        undoes the live edits made after it); `optimizer` is the run's optimizer block
        (`agent_state.optimizer_info`).
        """
        c = self.checkpoints[index]
        edits = history.edits[: c.edits]
        for edit in reversed(history.edits[c.edits:]):
            config = config.with_changes(**{edit.name: edit.old})
        group = {**optimizer["param_groups"][0], "lr": config.learning_rate}
        info = {
            "versions": dict(versions()), "config": config.to_dict(), "spec": asdict(self.spec),
            "counters": {"steps": c.steps, "updates": c.updates, "episodes": c.episodes}, "rng": c.rng,
            "optimizer": {"param_groups": [group], "state_keys": [0] if c.updates else []},
            "memory": {"capacity": self.capacity, "size": c.memory_size, "position": c.memory_position,
                       "rng": c.rng["memory"]},
            "edits": [asdict(e) for e in edits], "saved_mid_episode": False,
        }
        tensors = dict(self.tensors(index))
        tensors |= {f"memory.{k}": v for k, v in self.memory_at(index).items()}
        losses = np.frombuffer(history.losses, dtype=np.float32)[: c.losses]
        tensors |= history_tensors(history.episodes[: c.episodes], losses)
        return encode(info, tensors)

    # --- in an agent file ------------------------------------------------------------
    def to_file(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The file's `timeline` block and tensors: checkpoints stacked, and the log from the oldest row
        a checkpoint (or the memory now) still needs."""
        self.catch_up()
        now = self._memory.size if self._memory is not None else 0
        begin = min([c.log_end - c.memory_size for c in self.checkpoints] + [self.log.end - now])
        tensors = {f"timeline.log.{k}": v for k, v in self.log.slice(begin, self.log.end).items()}
        parts = [self.tensors(i) for i in range(len(self.checkpoints))]
        for name in parts[-1]:
            if name.startswith(("online.", "target.")):
                tensors[f"timeline.{name}"] = np.stack([p[name] for p in parts])
        n_params = sum(v.size for k, v in parts[-1].items() if k.startswith("online."))
        for key in ("exp_avg", "exp_avg_sq"):  # zeros where Adam had not stepped yet (its step count 0)
            tensors[f"timeline.optim.{key}"] = np.stack([p.get(f"optim.0.{key}", np.zeros(n_params, np.float32))
                                                         for p in parts])
        tensors["timeline.optim.step"] = np.array([p.get("optim.0.step", np.float32(0)) for p in parts], np.float32)
        block = {"log_start": begin, "log_end": self.log.end, "checkpoints": [c.to_json() for c in self.checkpoints]}
        return block, tensors

    @classmethod
    def from_file(cls, block: dict[str, Any], tensors: dict[str, np.ndarray], spec: EnvSpec,
                  capacity: int) -> Timeline:
        """A timeline from a file's checked block and tensors (`to_file`'s form)."""
        log = TransitionLog(spec.obs_dim, block["log_start"],
                            {name: tensors[f"timeline.log.{name}"] for name in ARRAYS})
        timeline = cls(spec, capacity, log=log)
        timeline.checkpoints = [Checkpoint(**c) for c in block["checkpoints"]]
        weights = {k.removeprefix("timeline."): v for k, v in tensors.items()
                   if k.startswith(("timeline.online.", "timeline.target."))}
        for i, c in enumerate(timeline.checkpoints):
            part = {name: value[i] for name, value in weights.items()}
            if c.updates:
                part |= {f"optim.0.{key}": tensors[f"timeline.optim.{key}"][i] for key in ("exp_avg", "exp_avg_sq")}
                part["optim.0.step"] = tensors["timeline.optim.step"][i:i + 1].reshape(())
            timeline._tensors.append(_Tensors(part))
        return timeline

    def resume(self, trainer: Trainer) -> None:
        """Follow a trainer loaded from the file this timeline came from: its memory must be the log's end."""
        memory = trainer.agent.memory
        newest = memory.newest(memory.size)
        if memory.size > self.log.rows or any(
                not np.array_equal(newest[k], v) for k, v in self.log.slice(self.log.end - memory.size,
                                                                            self.log.end).items()):
            raise ValueError("the timeline's transition log does not end with the file's replay memory")
        self.follow(trainer)

    def until(self, index: int) -> Timeline:
        """A new timeline holding checkpoints up to `index` and the log up to it: a branch's past."""
        c = self.checkpoints[index]
        log = TransitionLog(self.spec.obs_dim, self.log.start, self.log.slice(self.log.start, c.log_end))
        out = Timeline(self.spec, self.capacity, self.spill_folder, log, self.memory_limit, self.max_checkpoints)
        out.checkpoints = self.checkpoints[: index + 1]
        out._tensors = self._tensors[: index + 1]  # shared: a checkpoint's tensors never change
        out._bound()
        return out
