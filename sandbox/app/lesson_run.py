"""A lesson step's experiment on the real engine, and its check measured on the run it produced.

The same measurements judge the learner's own run in the app (the Lesson view asks the worker,
which holds the trainer) and the teacher's `rl-sandbox lesson check`, which runs every step headless
so that a lesson can never claim what the engine does not do. Every experiment is seeded (the
step's config seed; evaluations on the evaluation seeds), so a check's number is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sandbox.app.lesson import Step
from sandbox.core.envs import make_env, spec_of
from sandbox.core.evaluate import EVAL_SEED_OFFSET, evaluate, policy_steps, random_steps
from sandbox.core.explain import explain_row
from sandbox.core.trainer import Trainer

GREEDY_EPISODES = 20
Q_GAP_EPISODES = 5
OVERESTIMATION_ROWS = 256
VALUE_JUMP_EPISODES = 50


@dataclass(frozen=True)
class Verdict:
    """A step's check on one run: its number, whether it held, and the line that says so."""

    value: float
    passed: bool
    evidence: str


def random_scores(env_id: str, n_actions: int, episodes: int, seed: int) -> list[float]:
    """Scores of `episodes` uniformly random episodes (episode i on seed + i)."""
    scores = []
    for i in range(episodes):
        score = 0.0
        for step in random_steps(n_actions, env_id, seed + i):
            score = step.score
        scores.append(score)
    return scores


def _best_average(t: Trainer) -> float:
    return max((e.moving_average for e in t.history.episodes), default=float("nan"))


def _final_average(t: Trainer) -> float:
    return t.history.episodes[-1].moving_average if t.history.episodes else float("nan")


def _collapse(t: Trainer) -> float:
    return _best_average(t) - _final_average(t)


def _successes(t: Trainer) -> float:
    return float(sum(e.terminated for e in t.history.episodes))


def _greedy_mean(t: Trainer) -> float:
    seed = t.config.seed + EVAL_SEED_OFFSET
    return evaluate(t.agent, t.scaler, t.spec.env_id, GREEDY_EPISODES, seed, t.threshold).mean


def _overestimation(t: Trainer) -> float:
    """How much the max rule's target exceeds Double DQN's, on average over stored transitions."""
    memory = t.agent.memory
    if len(memory) == 0:
        return float("nan")
    rows = np.random.default_rng(0).integers(0, len(memory), size=OVERESTIMATION_ROWS)  # never the run's streams
    gaps = [e.max_target - e.double_target
            for e in (explain_row(t.agent.online, t.agent.target, t.config, memory, int(i)) for i in rows)]
    return float(np.mean(gaps))


def _q_gap(t: Trainer) -> float:
    """Start-state max Q minus the discounted return the greedy policy then collects (env rewards)."""
    gaps = []
    for i in range(Q_GAP_EPISODES):
        q0: float | None = None
        ret, discount = 0.0, 1.0
        for step in policy_steps(lambda obs: t.agent.act(t.scaler(obs), greedy=True), t.spec.env_id,
                                 t.config.seed + EVAL_SEED_OFFSET + i):
            if q0 is None:
                assert step.q_values is not None
                q0 = float(np.max(step.q_values))
            ret += discount * step.reward
            discount *= t.config.gamma
        assert q0 is not None, "an episode has at least one step"
        gaps.append(q0 - ret)
    return float(np.mean(gaps))


def _value_jumps(t: Trainer) -> float:
    """How far the start state's max Q moves from one episode to the next, on average over the last
    VALUE_JUMP_EPISODES episodes: a value chasing a target that moves with every update jumps."""
    values = [e.start_value for e in t.history.episodes[-VALUE_JUMP_EPISODES - 1:]]
    if len(values) < 2:
        return float("nan")
    return float(np.mean(np.abs(np.diff(values))))


TRAINER_METRICS: dict[str, Callable[[Trainer], float]] = {
    "best_average": _best_average, "final_average": _final_average, "collapse": _collapse,
    "successes": _successes, "greedy_mean": _greedy_mean, "overestimation": _overestimation, "q_gap": _q_gap,
    "value_jumps": _value_jumps,
}


def judge(step: Step, value: float) -> Verdict | None:
    """The step's check held against `value` (None when the step has no check)."""
    if step.check is None:
        return None
    return Verdict(value, step.check.passes(value), step.check.evidence(value))


def measure_trainer(step: Step, trainer: Trainer) -> Verdict | None:
    """The step's check on a run that has trained (the learner's, or the experiment's)."""
    if step.check is None or step.check.metric not in TRAINER_METRICS:
        return None
    return judge(step, TRAINER_METRICS[step.check.metric](trainer))


def measure_random(step: Step, scores: list[float]) -> Verdict | None:
    """The step's check on random episodes' scores."""
    if step.check is None or not scores:
        return None
    return judge(step, float(np.mean(scores)))


def run_experiment(step: Step) -> Verdict | None:
    """The step's experiment as its config says, headless, and its check (None for a step without one)."""
    if step.check is None:
        return None
    c = step.config
    if step.do == "random":
        env = make_env(c.env_id)
        try:
            n_actions = spec_of(env).n_actions
        finally:
            env.close()
        return measure_random(step, random_scores(c.env_id, n_actions, step.episodes, c.seed))
    trainer = Trainer(c)
    try:
        trainer.run()
        return measure_trainer(step, trainer)
    finally:
        trainer.close()
