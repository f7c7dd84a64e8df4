"""Human play: the learner drives the env with the keyboard, to feel what the agent is up against."""

from __future__ import annotations

import numpy as np

from sandbox.core.envs import frame_of, make_env

HUMAN_SEED_OFFSET = 20_000


class HumanEpisode:
    """One episode on its own env (training is untouched), advanced one chosen action at a time."""

    def __init__(self, env_id: str, seed: int) -> None:
        self.env = make_env(env_id, render=True)
        self.state, _ = self.env.reset(seed=seed + HUMAN_SEED_OFFSET)
        self.score = 0.0
        self.steps = 0
        self.done = False

    def step(self, action: int) -> None:
        """Apply `action`. After the episode ends, further steps do nothing."""
        if not self.done:
            self.state, reward, terminated, truncated, _ = self.env.step(action)
            self.score += float(reward)
            self.steps += 1
            self.done = bool(terminated or truncated)

    def frame(self) -> np.ndarray | None:
        """The env's own picture of the current state (rendered only when asked for)."""
        return frame_of(self.env)

    def close(self) -> None:
        self.env.close()
