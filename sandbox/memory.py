"""Replay memory: a preallocated numpy ring buffer with its own seeded generator."""

from __future__ import annotations

from typing import Any

import numpy as np

Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class ReplayMemory:
    """Holds the last `capacity` transitions (s, a, r, s', stop) and samples batches uniformly.

    `stop` is 1.0 where the target must not bootstrap from s' (a true terminal state, or a
    time-limit cut-off in the notebook-compatible mode). Sampling draws indices with replacement
    from the generator seeded here, so it costs O(batch) and never touches global random state.
    Batches are written into reused arrays: no allocation per step.
    """

    def __init__(self, capacity: int, obs_dim: int, seed: int | np.random.SeedSequence) -> None:
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.stops = np.zeros(capacity, dtype=np.float32)
        self.position = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)
        self._batch: Batch | None = None

    def __len__(self) -> int:
        return self.size

    def add(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, stop: bool) -> None:
        i = self.position
        self.states[i] = state
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_states[i] = next_state
        self.stops[i] = stop
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """A uniformly drawn batch; the returned arrays are reused by the next call."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay memory")
        idx = self.rng.integers(0, self.size, size=batch_size)
        if self._batch is None or len(self._batch[1]) != batch_size:
            self._batch = (
                np.empty((batch_size, self.obs_dim), np.float32),
                np.empty(batch_size, np.int64),
                np.empty(batch_size, np.float32),
                np.empty((batch_size, self.obs_dim), np.float32),
                np.empty(batch_size, np.float32),
            )
        s, a, r, s2, d = self._batch
        np.take(self.states, idx, axis=0, out=s)
        np.take(self.actions, idx, out=a)
        np.take(self.rewards, idx, out=r)
        np.take(self.next_states, idx, axis=0, out=s2)
        np.take(self.stops, idx, out=d)
        return self._batch

    def export(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The filled slots as they lie (not reordered: sampled indices must keep meaning the same
        transitions), the write position and the generator state."""
        n = self.size
        arrays = {
            "states": self.states[:n].copy(),
            "actions": self.actions[:n].copy(),
            "rewards": self.rewards[:n].copy(),
            "next_states": self.next_states[:n].copy(),
            "stops": self.stops[:n].copy(),
        }
        meta = {"capacity": self.capacity, "size": n, "position": self.position, "rng": self.rng.bit_generator.state}
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Load what `export` produced into a memory of the same capacity and obs_dim.

        Afterwards the memory samples exactly what the original would have.
        """
        size, position = int(meta["size"]), int(meta["position"])
        fits = 0 <= size <= self.capacity and 0 <= position < self.capacity
        if int(meta["capacity"]) != self.capacity or not fits:
            raise ValueError(
                f"memory (capacity {meta['capacity']}, size {size}, position {position}) "
                f"does not fit a memory of capacity {self.capacity}"
            )
        for name in ("states", "actions", "rewards", "next_states", "stops"):
            getattr(self, name)[:size] = arrays[name]
        self.size = size
        self.position = position
        self.rng.bit_generator.state = meta["rng"]
