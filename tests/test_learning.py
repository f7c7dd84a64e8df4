"""The engine really learns: CartPole-v1 reaches a greedy mean of 195 within a bounded budget."""

from sandbox.core.config import load_preset
from sandbox.core.evaluate import EVAL_SEED_OFFSET, evaluate
from sandbox.core.trainer import Trainer


def test_cartpole_reaches_195_over_20_greedy_episodes():
    config = load_preset("cartpole").with_changes(max_episodes=300)
    trainer = Trainer(config)
    best = -1.0
    while not trainer.finished:
        stats = trainer.run_episode()
        if stats.index >= 60 and stats.index % 10 == 0:
            result = evaluate(trainer.agent, trainer.scaler, config.env_id, 20,
                              config.seed + EVAL_SEED_OFFSET, trainer.threshold)
            best = max(best, result.mean)
            if result.mean >= 195:
                break
    assert best >= 195, f"best greedy mean {best} after {trainer.total_steps} steps"
    assert trainer.total_steps < 60_000
