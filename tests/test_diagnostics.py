"""Each hint fires on a real run built to trigger it, with a direction and a size, and stays quiet on
healthy runs."""

import pytest

from sandbox.core.config import load_preset
from sandbox.core.diagnostics import Hint, diagnose, learning_summary
from sandbox.core.trainer import Trainer


def hints(trainer: Trainer, finished: bool = False) -> dict[str, Hint]:
    return {h.key: h for h in diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon,
                                       finished)}


def run(config, episodes, edit=None, more=0) -> Trainer:
    trainer = Trainer(config.with_changes(max_episodes=10**6))
    trainer.run(episodes)
    if edit:
        trainer.apply(edit)
        trainer.run(more)
    return trainer


def suggestion(hint: Hint, name: str):
    return next(s for s in hint.suggestions if s.name == name)


@pytest.fixture(scope="module")
def healthy():
    return run(load_preset("cartpole"), 80)


def test_a_healthy_run_gets_no_hints(healthy):
    assert hints(healthy) == {}


def test_the_fast_preset_gets_no_hints_while_it_learns_and_solves():
    trainer = Trainer(load_preset("fast"))
    trainer.run()
    assert trainer.solved and hints(trainer, finished=True) == {}


def test_tiny_memory_names_its_size_in_episodes_and_a_target():
    trainer = run(load_preset("notebook"), 1)
    hint = hints(trainer)["memory_tiny"]
    assert "5.0 episodes of 200 steps" in hint.detail
    assert str(hint.suggestions[0]) == "memory_capacity 1,000 → 50,000" and not hint.suggestions[0].live


def test_never_reaching_the_goal_suggests_holding_random_actions_and_longer_returns():
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=50, steps_per_decay=100),
                  25)
    found = hints(trainer)
    assert not any(e.terminated for e in trainer.history.episodes)
    assert [str(s) for s in found["goal_never_reached"].suggestions[:2]] == ["explore_duration 1 → 100",
                                                                             "n_step 1 → 5"]
    spent = found["epsilon_too_early"]
    assert "before the first success" in spent.title and "never reached" in spent.detail
    decay = suggestion(spent, "epsilon_decay")
    assert decay.old == 0.9 and decay.value == 0.978 and decay.live  # 0.978 ** 100 decays (50 episodes) ≈ 0.1
    early = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=50), 5)
    assert "goal_never_reached" not in hints(early)  # too soon to say


def test_a_collapse_offers_the_best_agent_and_gentler_updates():
    # Random play (mean ~22 on CartPole), then a frozen untrained greedy policy (~9): the average falls.
    trainer = run(load_preset("cartpole").with_changes(epsilon_start=1.0, epsilon_end=1.0, solve_window=10), 30,
                  dict(epsilon_start=0.0, epsilon_end=0.0, learning_rate=3e-4), 15)
    hint = hints(trainer)["collapsed"]
    assert hint.offer_best and "reached" in hint.detail
    # Random play's average barely rose before it fell: the weight is capped at 2 (all the gain lost), so a
    # fault that explains the collapse outranks it instead of a ratio to a near-zero gain.
    assert 1.0 <= hint.weight <= 2.0
    assert str(suggestion(hint, "learning_rate")) == "learning_rate 0.0003 → 0.0001"
    assert str(suggestion(hint, "target_update_interval")) == "target_update_interval 500 → 1,000"


def test_a_loss_jump_of_orders_of_magnitude_is_divergence_with_a_smaller_step():
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000, update_interval=1), 8,
                  dict(learning_rate=1.0, gradient_clip=0.0), 1)
    hint = hints(trainer)["loss_diverging"]
    assert hint.severity == "error" and "×" in hint.detail
    assert str(suggestion(hint, "learning_rate")) == "learning_rate 1 → 0.001"  # into the recommended range
    assert str(suggestion(hint, "gradient_clip")) == "gradient_clip 0 → 1"


def test_the_loss_rising_at_the_first_success_is_not_divergence():
    """The notebook's case: bootstrapping past the time limit, the goal finally reached, the loss rises."""
    config = load_preset("fast").with_changes(reward_shaping="none", solve_rule="training_mean", seed=3)
    trainer = Trainer(config.with_changes(max_episodes=10**6))
    while not any(e.terminated for e in trainer.history.episodes) and trainer.episodes_done < 400:
        trainer.run_episode()
    first = next(e for e in trainer.history.episodes if e.terminated)
    trainer.run(3)
    losses = list(trainer.history.losses)
    before = sum(losses[first.updates - 400:first.updates - 200]) / 200
    after = sum(losses[-200:]) / 200
    found = hints(trainer)
    assert "loss_diverging" not in found
    if after > 100 * before:  # when this seed's loss jumped that much, the coach explains it instead
        assert found["loss_rose_at_success"].severity == "info"


def test_q_values_far_from_the_returns_are_drift_with_a_slower_target():
    # Q learned with gamma 0.99, then gamma 0 and learning frozen: the returns change, Q does not.
    trainer = run(load_preset("notebook").with_changes(memory_capacity=10_000, tau=0.004), 20,
                  dict(gamma=0.0, learning_rate=1e-7), 20)
    hint = hints(trainer)["q_drift"]
    assert str(suggestion(hint, "tau")) == "tau 0.004 → 0.002"
    assert "learning_rate" not in hint.parameters  # 1e-7 is already below the recommended range


def test_a_slower_target_stays_inside_the_recommended_range():
    """Half of tau 0.001 or twice a copy every 20 steps would still be outside 1e-3 – 1e-2 and 500 – 10,000."""
    soft = run(load_preset("notebook").with_changes(memory_capacity=10_000), 20, dict(gamma=0.0, learning_rate=1e-7),
               20)
    assert "tau" not in hints(soft)["q_drift"].parameters
    hard = run(load_preset("cartpole").with_changes(epsilon_start=1.0, epsilon_end=1.0, solve_window=10,
                                                     target_update_interval=20), 30,
               dict(epsilon_start=0.0, epsilon_end=0.0), 15)
    found = diagnose(hard.history, hard.config, hard.spec, hard.agent.epsilon)
    assert str(suggestion(found[0], "target_update_interval")) == "target_update_interval 20 → 500"
    # The collapse confirms the fast target: the cause ranks above the symptom.
    keys = [h.key for h in found]
    assert keys[0] == "target_too_fast" and "collapsed" in keys


def test_too_few_gradient_steps_per_env_step_is_named_with_its_ratio():
    trainer = run(load_preset("cartpole").with_changes(update_interval=10, solve_window=20), 25)
    hint = hints(trainer)["learning_too_slow"]
    assert "0.1 gradient steps per env step" in hint.detail
    assert str(hint.suggestions[0]) == "update_interval 10 → 1" and hint.suggestions[0].live


def test_a_finished_unsolved_run_says_so_with_its_numbers_and_what_to_change():
    trainer = run(load_preset("notebook").with_changes(max_episodes=30), 30)
    hint = hints(trainer, finished=True)["not_solved"]
    best = max(e.moving_average for e in trainer.history.episodes)
    assert hint.title == f"Not solved: best {best:.1f} vs -110"
    assert [s.name for s in hint.suggestions][:3] == ["update_interval", "memory_capacity", "n_step"]
    assert "not_solved" not in hints(trainer, finished=False)


def test_a_plateau_within_reach_of_the_threshold_leads_with_learning_intensity():
    """A policy that barely learns (seeded: its moving average peaks at 16.9 at episode 93, from 12.9)
    against a threshold of 18: within reach, never reached, no new best for 207 episodes."""
    trainer = run(load_preset("cartpole").with_changes(update_interval=4, solve_window=10, solve_threshold=18.0,
                                                       solve_rule="training_mean", learning_rate=1e-7,
                                                       epsilon_end=0.5, epsilon_start=0.5), 300)
    hint = hints(trainer)["plateau"]
    assert hint.title == "Not solved: best 16.9 vs 18, no progress for 207 episodes"
    assert hint.suggestions[0].name == "update_interval" and str(hint.suggestions[0]) == "update_interval 4 → 1"


def test_the_learning_summary_names_intensity_replay_memory_and_horizon():
    text = learning_summary(load_preset("notebook"), 200)
    assert text == ("0.2 gradient steps per env step (low) · each transition replayed ~12.8× per step of data · "
                    "memory holds 5.0 episodes · horizon 1/(1−γ) = 100 steps vs 200-step episodes")


def faults(preset: str, episodes: int = 1, **changes) -> dict[str, Hint]:
    return hints(run(load_preset(preset).with_changes(**changes), episodes))


def test_the_shipped_presets_plant_no_fault():
    for preset in ("cartpole", "acrobot", "fast", "nstep"):
        assert faults(preset) == {}, preset


def test_a_discount_horizon_far_below_the_episode_length_suggests_half_an_episode_ahead():
    hint = faults("cartpole", gamma=0.85)["horizon_short"]
    assert "horizon 1/(1−γ) of 7 steps, in episodes of up to 500 steps" in hint.detail
    assert str(hint.suggestions[0]) == "gamma 0.85 → 0.99" and hint.suggestions[0].live  # capped at 0.99
    assert str(faults("notebook", gamma=0.9)["horizon_short"].suggestions[0]) == "gamma 0.9 → 0.99"  # 100 of 200
    assert "horizon_short" not in faults("cartpole", gamma=0.95)  # inside the recommended range


def test_a_tiny_batch_suggests_the_recommended_smallest():
    hint = faults("cartpole", batch_size=8)["batch_small"]
    assert "averages only 8 transitions" in hint.detail and str(hint.suggestions[0]) == "batch_size 8 → 64"
    assert "batch_small" not in faults("cartpole", batch_size=32)


def test_a_target_copied_every_step_or_blended_fast_suggests_the_recommended_pace():
    hard = faults("cartpole", target_update_interval=1)["target_too_fast"]
    assert "copied every 1 env steps, 500× faster" in hard.detail
    assert str(hard.suggestions[0]) == "target_update_interval 1 → 500"
    soft = faults("cartpole", target_update="soft", tau=0.5)["target_too_fast"]
    assert "takes 50% of the online net every env step" in soft.detail and str(soft.suggestions[0]) == "tau 0.5 → 0.01"
    assert "target_too_fast" not in faults("acrobot")  # its copy every 250 steps is slow enough


def test_a_learning_rate_far_above_the_range_suggests_its_largest():
    hint = faults("cartpole", learning_rate=0.01)["learning_rate_high"]
    assert "10× the recommended largest (0.001)" in hint.detail
    assert str(hint.suggestions[0]) == "learning_rate 0.01 → 0.001"
    assert "learning_rate_high" not in faults("cartpole", learning_rate=0.002)


def test_exploration_over_within_a_few_episodes_suggests_a_decay_that_lasts_50():
    hint = faults("cartpole", epsilon_decay=0.5)["exploration_short"]
    assert "below 0.1 after 2,000 steps, 4.0 episodes of 500 steps" in hint.detail
    assert str(hint.suggestions[0]) == "epsilon_decay 0.5 → 0.955"  # 0.955 ** 50 decays of 500 steps ≈ 0.1
    none = faults("cartpole", epsilon_start=0.0, epsilon_end=0.0)["exploration_short"]
    assert "never explores" in none.detail and str(none.suggestions[0]) == "epsilon_start 0 → 1"


def test_the_bigger_fault_ranks_first_whatever_the_rules_order():
    assert list(faults("cartpole", batch_size=16, learning_rate=0.1))[:2] == ["learning_rate_high", "batch_small"]
    assert list(faults("cartpole", batch_size=4, learning_rate=0.004))[:2] == ["batch_small", "learning_rate_high"]


def test_a_solved_run_gets_no_fault_hint_only_labelled_polish():
    trainer = run(load_preset("cartpole").with_changes(batch_size=8, solve_rule="training_mean", solve_window=5,
                                                       solve_threshold=12.0), 5)
    assert trainer.solved
    found = diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon, finished=True)
    assert [(h.key, h.severity, h.title) for h in found] == [("polish", "info", "Solved. Optional polish, not faults")]
    assert [str(s) for s in found[0].suggestions] == ["batch_size 8 → 64"]


def test_a_collapse_of_the_greedy_evaluations_counts_as_a_collapse():
    """Seeded: the greedy policy scores 9.6, then 48.0 after episode 12, then 9.0; the training moving
    average (a 100-episode window) has not even started."""
    trainer = run(load_preset("cartpole").with_changes(eval_every=3, eval_episodes=5, solve_threshold=100.0,
                                                       learning_starts=200, epsilon_decay=0.5, steps_per_decay=200,
                                                       seed=4), 18)
    hint = hints(trainer)["collapsed"]
    assert hint.detail.startswith("The greedy evaluations reached 48.0 after episode 12 (from 9.6) and the latest "
                                  "scored 9.0") and hint.offer_best


def test_the_evidence_names_what_the_suggestions_change():
    """A run that already does a gradient step per env step is not told it learns 'not enough per step'."""
    hint = hints(run(load_preset("cartpole").with_changes(max_episodes=3), 3), finished=True)["not_solved"]
    assert "gradient steps" not in hint.detail
    assert "With n_step 1 a reward reaches back one step per update (n_step → 3)." in hint.detail
    assert str(hint.suggestions[0]) == "n_step 1 → 3"
