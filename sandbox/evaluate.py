"""Greedy evaluation: the current policy without exploration or learning, on its own env."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sandbox.agent import DQNAgent
from sandbox.envs import ObservationScaler, make_env

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
    state: np.ndarray
    action: int
    reward: float
    q_values: np.ndarray
    score: float
    done: bool
    frame: np.ndarray | None


def greedy_steps(agent: DQNAgent, scaler: ObservationScaler, env_id: str, seed: int,
                 render: bool = False) -> Iterator[GreedyStep]:
    """One greedy episode, step by step (the notebook's "inference" run); the env is seeded with `seed`."""
    env = make_env(env_id, render=render)
    try:
        obs, _ = env.reset(seed=seed)
        score, done = 0.0, False
        while not done:
            action, q = agent.act(scaler(obs), greedy=True)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            score += float(reward)
            done = bool(terminated or truncated)
            yield GreedyStep(obs, action, float(reward), q, score, done, env.render() if render else None)
            obs = next_obs
    finally:
        env.close()


def evaluate(agent: DQNAgent, scaler: ObservationScaler, env_id: str, episodes: int, seed: int,
             threshold: float | None) -> EvalResult:
    """`episodes` greedy episodes on one env seeded once with `seed` (training never touches it)."""
    env = make_env(env_id)
    scores: list[float] = []
    try:
        env.reset(seed=seed)
        for _ in range(episodes):
            obs, _ = env.reset()
            score, done = 0.0, False
            while not done:
                action, _ = agent.act(scaler(obs), greedy=True)
                obs, reward, terminated, truncated, _ = env.step(action)
                score += float(reward)
                done = terminated or truncated
            scores.append(score)
    finally:
        env.close()
    arr = np.asarray(scores)
    success = float(np.mean(arr >= threshold)) if threshold is not None else 0.0
    return EvalResult(tuple(scores), float(arr.mean()), float(arr.std()), float(arr.min()), float(arr.max()),
                      success, threshold)
