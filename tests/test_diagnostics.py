"""Each diagnostic fires on a run built to trigger it and stays quiet on a healthy one."""

import pytest

from sandbox.config import load_preset
from sandbox.diagnostics import diagnose
from sandbox.trainer import Trainer


def keys(trainer: Trainer) -> set[str]:
    return {h.key for h in diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon)}


def run(config, episodes, edit=None, more=0) -> Trainer:
    trainer = Trainer(config.with_changes(max_episodes=10**6))
    trainer.run(episodes)
    if edit:
        trainer.apply(edit)
        trainer.run(more)
    return trainer


@pytest.fixture(scope="module")
def healthy():
    return run(load_preset("cartpole"), 80)


def test_a_healthy_run_gets_no_hints(healthy):
    assert keys(healthy) == set()


def test_tiny_memory_is_named_with_its_size_in_episodes():
    trainer = run(load_preset("notebook"), 1)
    hint = next(h for h in diagnose(trainer.history, trainer.config, trainer.spec, 1.0) if h.key == "memory_tiny")
    assert "5.0 episodes of 200 steps" in hint.detail and hint.parameters == ("memory_capacity",)


def test_never_reaching_the_goal_with_epsilon_spent_is_an_exploration_problem():
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=50, steps_per_decay=100),
                  25)
    assert not any(e.terminated for e in trainer.history.episodes)
    assert {"goal_never_reached", "epsilon_too_early"} <= keys(trainer)
    early = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=50), 5)
    assert "goal_never_reached" not in keys(early)  # too soon to say


def test_a_collapse_offers_the_best_agent():
    # Random play (mean ~22 on CartPole), then a frozen untrained greedy policy (~9): the average falls.
    trainer = run(load_preset("cartpole").with_changes(epsilon_start=1.0, epsilon_end=1.0, solve_window=10), 30,
                  dict(epsilon_start=0.0, epsilon_end=0.0, learning_rate=1e-7), 15)
    hint = next(h for h in diagnose(trainer.history, trainer.config, trainer.spec, 0.0) if h.key == "collapsed")
    assert hint.offer_best and "learning_rate" in hint.parameters


def test_a_loss_jump_of_orders_of_magnitude_is_divergence():
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=1), 8,
                  dict(learning_rate=1.0, gradient_clip=0.0), 1)
    assert "loss_diverging" in keys(trainer)


def test_q_values_far_from_the_returns_are_drift():
    # Q learned with gamma 0.99, then gamma 0 and learning frozen: the returns change, Q does not.
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000), 20,
                  dict(gamma=0.0, learning_rate=1e-7), 20)
    assert "q_drift" in keys(trainer)
