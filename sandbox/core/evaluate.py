"""Greedy evaluation: the current policy without exploration or learning, on its own env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sandbox.core.agent import DQNAgent
from sandbox.core.envs import ObservationScaler, frame_of, make_env

EVAL_SEED_OFFSET = 10_000


@dataclass(frozen=True)
class EvalResult:
    """Greedy scores; an episode is a success when its score reaches the solve threshold."""

    scores: tuple[float, ...]
    mean: float
    std: float
    min: float
    max: float
    success_rate: float
    threshold: float | None

    @property
    def solved(self) -> bool:
        return self.threshold is not None and self.mean >= self.threshold


@dataclass(frozen=True)
class GreedyStep:
    """One step of a watched episode (greedy or random); `q_values` is None for the random policy."""

    state: np.ndarray
    action: int
    reward: float
    q_values: np.ndarray | None
    score: float
    done: bool
    frame: np.ndarray | None


Policy = Callable[[np.ndarray], tuple[int, np.ndarray | None]]


def policy_steps(policy: Policy, env_id: str, seed: int, render: bool = False) -> Iterator[GreedyStep]:
    """One episode of `policy` (raw observation -> action, Q-values), step by step, on an env seeded with `seed`."""
    env = make_env(env_id, render=render)
    try:
        obs, _ = env.reset(seed=seed)
        score, done = 0.0, False
        while not done:
            action, q = policy(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            score += float(reward)
            done = bool(terminated or truncated)
            yield GreedyStep(obs, action, float(reward), q, score, done, frame_of(env) if render else None)
            obs = next_obs
    finally:
        env.close()


def greedy_steps(agent: DQNAgent, scaler: ObservationScaler, env_id: str, seed: int,
                 render: bool = False) -> Iterator[GreedyStep]:
    """One greedy episode (the notebook's "inference" run)."""
    return policy_steps(lambda obs: agent.act(scaler(obs), greedy=True), env_id, seed, render)


def random_steps(n_actions: int, env_id: str, seed: int, render: bool = False) -> Iterator[GreedyStep]:
    """One episode of the uniformly random policy: the baseline a DQN must beat (the notebook's first step)."""
    rng = np.random.default_rng(seed)
    return policy_steps(lambda obs: (int(rng.integers(n_actions)), None), env_id, seed, render)


class Evaluation:
    """`episodes` greedy episodes on one env seeded once with `seed` (training never touches it), run
    in slices: `advance(max_steps)` until it returns True, then `result()`. The agent does not learn
    meanwhile, so slicing changes nothing: the scores are those of one uninterrupted evaluation."""

    def __init__(self, agent: DQNAgent, scaler: ObservationScaler, env_id: str, episodes: int, seed: int,
                 threshold: float | None) -> None:
        self.agent, self.scaler, self.episodes, self.threshold = agent, scaler, episodes, threshold
        self.env = make_env(env_id)
        self.env.reset(seed=seed)
        self.scores: list[float] = []
        self._obs: np.ndarray | None = None
        self._score = 0.0

    @property
    def done(self) -> bool:
        return len(self.scores) >= self.episodes

    def advance(self, max_steps: int) -> bool:
        """Play up to `max_steps` greedy steps; returns whether the evaluation is complete."""
        for _ in range(max_steps):
            if self.done:
                break
            if self._obs is None:
                self._obs, _ = self.env.reset()
                self._score = 0.0
            action, _ = self.agent.act(self.scaler(self._obs), greedy=True)
            self._obs, reward, terminated, truncated, _ = self.env.step(action)
            self._score += float(reward)
            if terminated or truncated:
                self.scores.append(self._score)
                self._obs = None
        if self.done:
            self.close()
        return self.done

    def result(self) -> EvalResult:
        arr = np.asarray(self.scores)
        success = float(np.mean(arr >= self.threshold)) if self.threshold is not None else 0.0
        return EvalResult(tuple(self.scores), float(arr.mean()), float(arr.std()), float(arr.min()),
                          float(arr.max()), success, self.threshold)

    def close(self) -> None:
        self.env.close()

    def run(self) -> EvalResult:
        """All of it, in one go."""
        try:
            while not self.advance(1_000_000):
                pass
        finally:
            self.close()
        return self.result()


def evaluate(agent: DQNAgent, scaler: ObservationScaler, env_id: str, episodes: int, seed: int,
             threshold: float | None) -> EvalResult:
    """`episodes` greedy episodes on one env seeded once with `seed`, in one go."""
    return Evaluation(agent, scaler, env_id, episodes, seed, threshold).run()
