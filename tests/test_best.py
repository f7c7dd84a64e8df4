import pytest

from sandbox.app.best import BestAgent
from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import load_trainer


def config():
    return load_preset("notebook").with_changes(max_episodes=40, solve_window=3, update_interval=2,
                                                batch_size=32, memory_capacity=500, n_step=3)


def train_keeping_best(episodes: int) -> tuple[Trainer, BestAgent, list]:
    trainer, best, offered = Trainer(config()), BestAgent(), []
    for _ in range(episodes):
        stats = trainer.run_episode()
        offered.append((stats.index, best.offer(trainer, stats)))
    return trainer, best, offered


def test_keeps_the_record_moving_average_once_the_window_is_full():
    trainer, best, offered = train_keeping_best(12)
    assert [i for i, kept in offered[:2] if kept] == []  # window of 3 not yet full
    averages = [e.moving_average for e in trainer.history.episodes]
    record = max(range(2, 12), key=lambda i: (averages[i], -i))
    assert best.mark.episode == record and best.mark.value == averages[record]
    assert best.mark.measure == "moving average"  # the notebook preset's rule
    assert offered[2] == (2, True)


def test_restoring_the_best_continues_exactly_as_the_run_did_from_there(tmp_path):
    _, best, _ = train_keeping_best(12)
    at = best.mark.episode + 1
    restored = best.restore()
    assert restored.episodes_done == at and restored.total_steps == best.mark.total_steps
    reference = Trainer(config())
    reference.run(at + 3)
    continued = restored.run(3)
    assert [e.deterministic() for e in continued] == [e.deterministic() for e in reference.history.episodes[at:]]
    size = best.save(tmp_path / "best.agent")
    assert size == (tmp_path / "best.agent").stat().st_size
    assert load_trainer(tmp_path / "best.agent").episodes_done == at


def test_without_a_record_there_is_nothing_to_restore():
    with pytest.raises(ValueError, match="no best agent yet"):
        BestAgent().restore()


def test_with_the_greedy_rule_the_best_is_the_best_greedy_evaluation():
    greedy = config().with_changes(solve_rule="greedy", eval_every=3, eval_episodes=2)
    trainer, best = Trainer(greedy), BestAgent()
    kept = []
    for _ in range(12):
        stats = trainer.run_episode()
        kept.append(best.offer(trainer, stats))
    evaluated = [e for e in trainer.history.episodes if e.evaluated]
    assert [e.index for e in evaluated] == [2, 5, 8, 11]
    top = max(evaluated, key=lambda e: (e.greedy_mean, -e.index))
    assert best.mark.episode == top.index and best.mark.value == top.greedy_mean
    assert best.mark.measure == "greedy mean" and not any(kept[i] for i in (0, 1, 3, 4))
