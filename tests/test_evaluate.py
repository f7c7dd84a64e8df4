from sandbox.core.config import load_preset
from sandbox.core.evaluate import evaluate, greedy_steps
from sandbox.core.trainer import Trainer


def test_evaluation_is_greedy_reproducible_and_leaves_training_alone():
    t = Trainer(load_preset("cartpole").with_changes(max_episodes=2))
    t.run()
    steps_before, rng_state = t.total_steps, t.agent.rng.bit_generator.state
    a = evaluate(t.agent, t.scaler, "CartPole-v1", 5, seed=3, threshold=t.threshold)
    b = evaluate(t.agent, t.scaler, "CartPole-v1", 5, seed=3, threshold=t.threshold)
    assert a == b and len(a.scores) == 5
    assert a.min <= a.mean <= a.max and a.success_rate == 0.0 and not a.solved
    assert t.total_steps == steps_before and t.agent.rng.bit_generator.state == rng_state


def test_greedy_episode_yields_every_step_with_frames():
    t = Trainer(load_preset("notebook"))
    steps = list(greedy_steps(t.agent, t.scaler, "MountainCar-v0", seed=0, render=True))
    assert len(steps) == 200 and steps[-1].done and steps[-1].score == -200
    assert steps[0].frame.shape == (400, 600, 3)
    assert all(s.action == int(s.q_values.argmax()) for s in steps)
