"""Helpers for the UI tests: a quick config, a deliberately faulty env, an episode counter.

In a module of their own (not conftest): imported under one name, so the env is registered once.
"""

import gymnasium as gym
import numpy as np

from sandbox.core.config import load_preset

QUICK = dict(memory_capacity=500, batch_size=32, update_interval=2, max_episodes=1000)


class FaultyEnv(gym.Env):
    """A real env with a bug: it raises on its 50th step (to exercise the worker's error path)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        if self.t >= 50:
            raise RuntimeError("sensor cable unplugged")
        return np.zeros(2, np.float32), 0.0, False, False, {}

    def render(self):
        return np.zeros((40, 60, 3), np.uint8)


gym.register("FaultyEnv-v0", entry_point=FaultyEnv, max_episode_steps=1000)


def quick_config(**changes):
    return load_preset("notebook").with_changes(**(QUICK | changes))



class EpisodeCounter:
    """Collects finished episodes from the same batched signal the window draws from (connected
    after the window, so when the counter has them, the window has them too)."""

    def __init__(self, window):
        self.episodes = []
        window.worker.episodes_finished.connect(self.episodes.extend)

    def __len__(self):
        return len(self.episodes)


def settle(qtbot, window, timeout=10_000):
    """Wait until the worker has run everything queued so far and the window has its reports."""
    with qtbot.waitSignal(window.worker.synced, timeout=timeout):
        window.worker_call("sync")
