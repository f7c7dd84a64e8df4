"""Why is my run not learning? Plain-word hints tied to the run's own numbers, each naming the
parameters to try. Pure functions of the history and config, cheap enough to run every episode."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sandbox.config import Config
from sandbox.envs import EnvSpec
from sandbox.trainer import History

# Envs whose episodes terminate only by reaching the goal (elsewhere termination can mean failure).
GOAL_TERMINATES = {"MountainCar-v0": "the car never reached the flag", "Acrobot-v1": "the tip never swung up"}
MIN_EPISODES = 20
LOW_EPSILON = 0.05
MEMORY_EPISODES = 20
DRIFT_EPISODES = 20


@dataclass(frozen=True)
class Hint:
    key: str
    title: str
    detail: str
    parameters: tuple[str, ...]
    severity: str = "warning"  # "warning" or "error"
    offer_best: bool = False


def diagnose(history: History, config: Config, spec: EnvSpec, epsilon: float) -> list[Hint]:
    """Every hint that applies now, most fundamental first."""
    episodes = history.episodes
    hints: list[Hint] = []
    length = spec.max_episode_steps or (max(e.length for e in episodes) if episodes else 0)
    if length and config.memory_capacity < MEMORY_EPISODES * length:
        hints.append(Hint(
            "memory_tiny", "The replay memory is tiny",
            f"memory_capacity = {config.memory_capacity:,} holds only {config.memory_capacity / length:.1f} episodes "
            f"of {length} steps: the agent forgets what it saw almost at once, and its batches come from the "
            "same few episodes, so they are strongly correlated.",
            ("memory_capacity",)))
    reached = any(e.terminated for e in episodes)
    if spec.env_id in GOAL_TERMINATES and not reached and len(episodes) >= MIN_EPISODES:
        steps = episodes[-1].total_steps
        hints.append(Hint(
            "goal_never_reached", "The goal has never been reached",
            f"In {len(episodes)} episodes ({steps:,} steps) {GOAL_TERMINATES[spec.env_id]}: every episode scored "
            f"{episodes[-1].score:g}, so every reward is the same and Q has nothing to learn from. This is an "
            "exploration problem, not a learning one.",
            ("explore_duration", "steps_per_decay", "epsilon_decay", "n_step", "reward_shaping")))
        if epsilon <= LOW_EPSILON:
            hints.append(Hint(
                "epsilon_too_early", "Exploration ended before the first success",
                f"epsilon is {epsilon:.3f} after {steps:,} steps and the goal was never reached: the agent now "
                f"repeats what it believes, and it has never seen success. epsilon_decay = {config.epsilon_decay} "
                f"every steps_per_decay = {config.steps_per_decay} steps decays it too fast for this env.",
                ("steps_per_decay", "epsilon_decay", "epsilon_end")))
    collapse = _collapse(history, config.solve_window)
    if collapse is not None:
        best_i, best, first, now = collapse
        hints.append(Hint(
            "collapsed", "The score peaked, then collapsed",
            f"The moving average reached {best:.1f} at episode {best_i + 1} (from {first:.1f}) and is now "
            f"{now:.1f}: the agent has unlearned what worked, as DQN often does. Restore the best agent, then "
            "train on with gentler updates.",
            ("learning_rate", "target_update_interval", "tau", "memory_capacity"), offer_best=True))
    diverging = _loss_growth(np.frombuffer(history.losses, dtype=np.float32))
    if diverging is not None:
        early, late = diverging
        hints.append(Hint(
            "loss_diverging", "The loss is diverging",
            f"The mean loss jumped from a typical {early:.3g} to {late:.3g} ({late / early:,.0f}×): the updates "
            "overshoot and feed on themselves; next comes NaN.",
            ("learning_rate", "gradient_clip", "loss", "target_update_interval"), severity="error"))
    drift = _value_drift(history)
    if drift is not None:
        expected, got = drift
        hints.append(Hint(
            "q_drift", "Q-values have drifted from the returns",
            f"Over the last {DRIFT_EPISODES} episodes the agent expected {expected:.1f} from the start state but "
            f"got {got:.1f} (discounted, as Q counts it): its values no longer describe what happens.",
            ("learning_rate", "double_dqn", "target_update_interval", "tau", "gamma")))
    return hints


def _collapse(history: History, window: int) -> tuple[int, float, float, float] | None:
    """(best index, best, first full-window average, now) when the average lost half of what it gained."""
    episodes = history.episodes
    if len(episodes) < window + 1:
        return None
    averages = [e.moving_average for e in episodes[window - 1:]]
    best_at = int(np.argmax(averages))
    best, first, now = averages[best_at], averages[0], averages[-1]
    gained, lost = best - first, best - now
    if gained <= 0 or lost < 0.5 * gained or lost < 0.05 * abs(best) + 1e-9:
        return None
    return best_at + window - 1, best, first, now


def _loss_growth(losses: np.ndarray, window: int = 200, factor: float = 100.0) -> tuple[float, float] | None:
    """(typical window mean, last window mean) when the last window's mean loss is `factor` times the
    median of the earlier ones: orders of magnitude, not the ordinary rise as values are learned."""
    if len(losses) < 4 * window:
        return None
    usable = len(losses) // window * window
    means = losses[len(losses) - usable:].reshape(-1, window).mean(axis=1, dtype=np.float64)
    typical, last = float(np.median(means[:-1])), float(means[-1])
    if not math.isfinite(last) or (typical > 0 and last > factor * typical):
        return typical, last
    return None


def _value_drift(history: History) -> tuple[float, float] | None:
    """(mean expected, mean obtained) discounted return when they differ by more than the return itself.

    Early in training Q lags behind the returns; being off by more than 100% is drift, not lag.
    """
    recent = history.episodes[-DRIFT_EPISODES:]
    if len(history.episodes) < 2 * DRIFT_EPISODES or not history.losses:
        return None
    expected = float(np.mean([e.start_value for e in recent]))
    got = float(np.mean([e.discounted_return for e in recent]))
    if abs(expected - got) > max(abs(got), 1.0):
        return expected, got
    return None
