"""Replay memory: a preallocated numpy ring buffer with its own seeded generator."""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

import numpy as np


class ReplayBatch(NamedTuple):
    """A sampled batch, column by column (rows match): what a learning step reads."""

    states: np.ndarray  # (batch, obs_dim) float32, the agent's (scaled) observations
    actions: np.ndarray  # (batch,) int64
    rewards: np.ndarray  # (batch,) float32: the n-step discounted reward sum
    next_states: np.ndarray  # (batch, obs_dim) float32
    stops: np.ndarray  # (batch,) float32: 1 where the target must not bootstrap
    horizons: np.ndarray  # (batch,) float32: env steps from state to next_state (discount gamma**horizon)
Transition = tuple[np.ndarray, int, float, np.ndarray, bool, int]
ARRAYS = ("states", "actions", "rewards", "next_states", "stops", "horizons")
DTYPES = {"states": np.float32, "actions": np.int64, "rewards": np.float32, "next_states": np.float32,
          "stops": np.float32, "horizons": np.float32}
INITIAL_ROWS = 4096


class ReplayMemory:
    """Holds the last `capacity` transitions (s, a, r, s', stop, horizon) and samples batches uniformly.

    `stop` is 1.0 where the target must not bootstrap from s' (a true terminal state, or a
    time-limit cut-off in the notebook-compatible mode). `horizon` is the number of env steps
    between s and s' (1, or up to n for n-step returns): the target discounts s' by gamma**horizon.
    Sampling draws indices with replacement
    from the generator seeded here, so it costs O(batch) and never touches global random state.
    Batches are written into reused arrays: no allocation per step.

    The arrays grow (doubling, up to `capacity`) as the memory fills, so a large capacity costs
    memory only once it is used, and an agent file declaring one allocates nothing up front.
    """

    # The stored columns (ARRAYS), made by _allocate.
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    stops: np.ndarray
    horizons: np.ndarray

    def __init__(self, capacity: int, obs_dim: int, seed: int | np.random.SeedSequence) -> None:
        self.capacity = capacity
        self.obs_dim = obs_dim
        self._allocate(min(capacity, INITIAL_ROWS))
        self.position = 0
        self.size = 0
        self.added = 0  # transitions ever added (not saved: the run's timeline counts what it has logged)
        self.rng = np.random.default_rng(seed)
        self._batch: ReplayBatch | None = None

    def __len__(self) -> int:
        return self.size

    def _allocate(self, rows: int) -> None:
        """(Re)allocate every array with `rows` rows, keeping what the old arrays held."""
        for name in ARRAYS:
            old = getattr(self, name, None)
            shape = (rows, self.obs_dim) if name in ("states", "next_states") else (rows,)
            new = np.ones(shape, DTYPES[name]) if name == "horizons" else np.zeros(shape, DTYPES[name])
            if old is not None:
                new[: len(old)] = old
            setattr(self, name, new)

    def reserve(self, rows: int) -> None:
        """Make room for `rows` transitions (at most `capacity`) without changing what is stored."""
        if rows > len(self.states):
            self._allocate(min(self.capacity, max(rows, 2 * len(self.states))))

    def add(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, stop: bool,
            horizon: int = 1) -> None:
        i = self.position
        if i == len(self.states):
            self.reserve(i + 1)
        self.states[i] = state
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_states[i] = next_state
        self.stops[i] = stop
        self.horizons[i] = horizon
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        self.added += 1

    def sample(self, batch_size: int) -> ReplayBatch:
        """A uniformly drawn batch; the returned arrays are reused by the next call."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay memory")
        idx = self.rng.integers(0, self.size, size=batch_size)
        if self._batch is None or len(self._batch.actions) != batch_size:
            self._batch = ReplayBatch(
                np.empty((batch_size, self.obs_dim), np.float32),
                np.empty(batch_size, np.int64),
                np.empty(batch_size, np.float32),
                np.empty((batch_size, self.obs_dim), np.float32),
                np.empty(batch_size, np.float32),
                np.empty(batch_size, np.float32),
            )
        s, a, r, s2, d, h = self._batch
        np.take(self.states, idx, axis=0, out=s)
        np.take(self.actions, idx, out=a)
        np.take(self.rewards, idx, out=r)
        np.take(self.next_states, idx, axis=0, out=s2)
        np.take(self.stops, idx, out=d)
        np.take(self.horizons, idx, out=h)
        return self._batch

    def newest(self, count: int) -> dict[str, np.ndarray]:
        """Copies of the last `count` transitions added (at most `size`), oldest first."""
        count = min(count, self.size)
        idx = (self.position - count + np.arange(count)) % self.capacity
        return {name: getattr(self, name)[idx] for name in ARRAYS}

    def export(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The filled slots as they lie (not reordered: sampled indices must keep meaning the same
        transitions), the write position and the generator state."""
        n = self.size
        arrays = {name: getattr(self, name)[:n].copy() for name in ARRAYS}
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
        self.reserve(max(size, position))
        for name in ARRAYS:
            getattr(self, name)[:size] = arrays[name]
        self.size = size
        self.position = position
        self.rng.bit_generator.state = meta["rng"]


class NStepBuffer:
    """Turns one-step transitions into n-step ones: (s_t, a_t, r_t + g r_t+1 + ... , s_t+k, stop, k).

    A transition leaves once n rewards are summed; at an episode's end the rest leave with
    shorter horizons, so nothing crosses an episode boundary. With n = 1 it passes transitions through.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._pending: deque[tuple[np.ndarray, int, float]] = deque()

    def push(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray, stop: bool,
             episode_end: bool, gamma: float) -> list[Transition]:
        if self.n == 1:
            return [(state, action, reward, next_state, stop, 1)]
        self._pending.append((state, action, reward))
        out: list[Transition] = []
        if len(self._pending) == self.n:
            out.append(self._emit(next_state, stop, gamma))
        if episode_end:
            while self._pending:
                out.append(self._emit(next_state, stop, gamma))
        return out

    def clear(self) -> None:
        self._pending.clear()

    def _emit(self, next_state: np.ndarray, stop: bool, gamma: float) -> Transition:
        ret = 0.0
        for _, _, r in reversed(self._pending):
            ret = r + gamma * ret
        state, action, _ = self._pending.popleft()
        return state, action, ret, next_state, stop, len(self._pending) + 1
