import numpy as np
import pytest

from sandbox.core.memory import NStepBuffer, ReplayMemory


def _fill(mem: ReplayMemory, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        mem.add(np.full(2, i, np.float32), i % 3, float(i), np.full(2, i + 1, np.float32), i % 2 == 0)


def test_wraps_around_keeping_the_newest():
    mem = ReplayMemory(5, 2, seed=0)
    _fill(mem, 7)
    assert len(mem) == 5 and mem.position == 2
    assert sorted(mem.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert mem.states[0, 0] == 5 and mem.states[1, 0] == 6  # oldest two overwritten


def test_sample_returns_consistent_transitions_from_the_filled_part():
    mem = ReplayMemory(100, 2, seed=1)
    _fill(mem, 10)
    s, a, r, s2, d, h = mem.sample(64)
    assert s.shape == (64, 2) and a.dtype == np.int64 and r.shape == (64,)
    assert set(r.tolist()) <= set(range(10))
    np.testing.assert_array_equal(s[:, 0], r)
    np.testing.assert_array_equal(s2[:, 0], r + 1)
    np.testing.assert_array_equal(a, r.astype(int) % 3)
    np.testing.assert_array_equal(d, (r.astype(int) % 2 == 0).astype(np.float32))
    np.testing.assert_array_equal(h, np.ones(64, np.float32))


def test_sampling_is_seeded_and_independent_of_global_state():
    a, b = ReplayMemory(50, 2, seed=7), ReplayMemory(50, 2, seed=7)
    _fill(a, 30)
    _fill(b, 30)
    first = a.sample(16)[2].copy()
    np.random.default_rng().random(100)  # unrelated randomness must not matter
    np.testing.assert_array_equal(first, b.sample(16)[2])


def test_export_restore_continues_identically():
    mem = ReplayMemory(8, 2, seed=3)
    _fill(mem, 11)
    mem.sample(4)
    arrays, meta = mem.export()
    clone = ReplayMemory(8, 2, seed=999)
    clone.restore(arrays, meta)
    _fill(mem, 3, start=11)
    _fill(clone, 3, start=11)
    for _ in range(3):
        for x, y in zip(mem.sample(5), clone.sample(5), strict=True):
            np.testing.assert_array_equal(x, y)


def test_restore_refuses_a_different_capacity():
    mem = ReplayMemory(8, 2, seed=3)
    _fill(mem, 3)
    arrays, meta = mem.export()
    with pytest.raises(ValueError, match="capacity 8"):
        ReplayMemory(4, 2, seed=0).restore(arrays, meta)


def test_empty_memory_cannot_be_sampled():
    with pytest.raises(ValueError, match="empty"):
        ReplayMemory(4, 2, seed=0).sample(1)


def test_n_step_buffer_sums_discounted_rewards_and_flushes_at_episode_end():
    buf = NStepBuffer(3)
    obs = [np.full(2, i, np.float32) for i in range(6)]
    out = []
    for t in range(4):  # an episode of 4 steps, rewards 1, 2, 3, 4, ending in a terminal state
        out += buf.push(obs[t], t, float(t + 1), obs[t + 1], t == 3, t == 3, 0.5)
    assert [(int(s[0]), a, r, int(s2[0]), stop, h) for s, a, r, s2, stop, h in out] == [
        (0, 0, 1 + 0.5 * 2 + 0.25 * 3, 3, False, 3),
        (1, 1, 2 + 0.5 * 3 + 0.25 * 4, 4, True, 3),
        (2, 2, 3 + 0.5 * 4, 4, True, 2),
        (3, 3, 4.0, 4, True, 1),
    ]
    # The next episode starts clean: nothing leaks across the boundary.
    assert buf.push(obs[0], 0, 1.0, obs[1], False, False, 0.5) == []


def test_one_step_buffer_passes_transitions_through():
    s, s2 = np.zeros(2, np.float32), np.ones(2, np.float32)
    assert NStepBuffer(1).push(s, 2, -1.0, s2, False, False, 0.99) == [(s, 2, -1.0, s2, False, 1)]
