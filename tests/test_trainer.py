import math

import numpy as np
import pytest
import torch

from sandbox.core.config import ConfigError, load_preset
from sandbox.core.trainer import Trainer, TrainingDiverged


def quick(**changes):
    base = dict(max_episodes=6, memory_capacity=500, batch_size=32, update_interval=2)
    return load_preset("notebook").with_changes(**(base | changes))


def test_same_seed_same_stats_whether_stepped_by_step_episode_or_run():
    by_run = Trainer(quick()).run()
    t = Trainer(quick())
    by_episode = [t.run_episode() for _ in range(6)]
    t = Trainer(quick())
    by_step = []
    while len(by_step) < 6:
        result = t.step()
        if result.episode:
            by_step.append(result.episode)
    assert [e.deterministic() for e in by_run] == [e.deterministic() for e in by_episode] \
        == [e.deterministic() for e in by_step]
    assert len({e.mean_loss for e in by_run}) > 1  # it really learned along the way


def test_different_seeds_differ():
    a = Trainer(quick(seed=1, max_episodes=2)).run()
    b = Trainer(quick(seed=2, max_episodes=2)).run()
    assert [e.mean_loss for e in a] != [e.mean_loss for e in b]


def test_episode_stats_are_plain_and_consistent():
    t = Trainer(quick(max_episodes=3))
    stats = t.run()
    assert [e.index for e in stats] == [0, 1, 2]
    assert stats[-1].total_steps == sum(e.length for e in stats) == t.total_steps
    assert stats[-1].moving_average == pytest.approx(np.mean([e.score for e in stats]))
    assert all(e.truncated and not e.terminated and e.score == -200 for e in stats)
    assert stats[-1].updates == t.agent.updates and stats[-1].steps_per_second > 0
    assert len(t.history.losses) == t.agent.updates
    assert t.finished and t.run() == []


def test_step_result_carries_what_the_gui_shows():
    t = Trainer(quick())
    r = t.step()
    assert r.state.shape == (2,) and r.next_state.shape == (2,) and r.q_values.shape == (3,)
    assert r.action in (0, 1, 2) and r.reward == -1.0 and not (r.terminated or r.truncated)
    assert r.episode is None and t.mid_episode


@pytest.mark.parametrize(("bootstrap", "stored_stop"), [(True, 0.0), (False, 1.0)])
def test_time_limit_cut_off_bootstraps_unless_notebook_mode(bootstrap, stored_stop):
    t = Trainer(quick(bootstrap_on_truncation=bootstrap, max_episodes=1, memory_capacity=1000))
    t.run()
    stops = t.agent.memory.stops[:200]
    assert stops[199] == stored_stop  # the 200th step was cut by the time limit
    assert not stops[:199].any()


def test_termination_always_stops_bootstrapping():
    t = Trainer(load_preset("cartpole").with_changes(max_episodes=1, learning_starts=10**6))
    stats = t.run()[0]
    assert stats.terminated  # a random CartPole policy falls over
    assert t.agent.memory.stops[stats.length - 1] == 1.0
    assert not t.agent.memory.stops[: stats.length - 1].any()


def test_potential_shaping_changes_the_learning_reward_not_the_score():
    plain = Trainer(quick(max_episodes=1))
    shaped = Trainer(quick(max_episodes=1, reward_shaping="potential", shaping_scale=10.0))
    a, b = plain.run()[0], shaped.run()[0]
    assert a.score == b.score == -200
    assert not np.allclose(shaped.agent.memory.rewards[:200], -1.0)
    np.testing.assert_array_equal(plain.agent.memory.rewards[:200], -1.0)


def test_shaping_is_refused_for_envs_without_a_potential():
    with pytest.raises(ValueError, match="defined for MountainCar-v0"):
        Trainer(load_preset("cartpole").with_changes(reward_shaping="potential"))


def test_live_changes_apply_and_are_logged_but_fixed_ones_are_refused():
    t = Trainer(quick())
    t.run_episode()
    edits = t.apply({"learning_rate": 1e-4, "gamma": 0.9})
    assert {(e.name, e.new) for e in edits} == {("learning_rate", 1e-4), ("gamma", 0.9)}
    assert edits[0].episode == 1 and edits[0].total_steps == 200
    assert t.agent.learner.optimizer.param_groups[0]["lr"] == 1e-4 and t.agent.config.gamma == 0.9
    with pytest.raises(ConfigError, match="hidden_units cannot change during a run"):
        t.apply({"hidden_units": 8})
    with pytest.raises(ConfigError, match="gamma = 3"):
        t.apply({"gamma": 3})
    assert t.config.gamma == 0.9 and len(t.history.edits) == 2


def test_stops_when_solved():
    t = Trainer(quick(max_episodes=50, solve_threshold=-250.0, solve_window=3))
    stats = t.run()
    assert len(stats) == 3 and stats[-1].solved and not stats[1].solved and t.finished


def test_mean_loss_is_nan_before_learning():
    t = Trainer(quick(learning_starts=10**6, max_episodes=1))
    assert math.isnan(t.run()[0].mean_loss)


def test_render_gives_frames_only_when_asked():
    assert Trainer(quick()).render() is None
    t = Trainer(quick(), render=True)
    t.step()
    assert t.render().shape == (400, 600, 3)


def test_a_diverging_update_takes_no_step_so_the_agent_stays_finite_and_savable(tmp_path):
    from sandbox.formats.agent_file import AgentFileError, load_trainer, save_trainer, to_bytes

    t = Trainer(load_preset("notebook").with_changes(memory_capacity=300, batch_size=32, update_interval=1))
    t.run(1)
    before = torch.nn.utils.parameters_to_vector(t.agent.online.parameters())
    updates = t.agent.updates
    t.agent.memory.rewards[: len(t.agent.memory)] = np.nan  # what a broken env's reward would do
    with pytest.raises(TrainingDiverged, match="the loss became nan"):
        t.run(1)
    assert torch.equal(torch.nn.utils.parameters_to_vector(t.agent.online.parameters()), before)
    assert t.agent.updates == updates
    assert len(t.history.losses) == t.agent.updates
    with pytest.raises(AgentFileError, match=r"cannot be saved: tensor 'memory\.rewards' holds values outside"):
        to_bytes(t)  # never a file that the loader would refuse
    save_trainer(t, tmp_path / "kept.agent", include_memory=False)
    assert load_trainer(tmp_path / "kept.agent").agent.updates == updates
    with torch.no_grad():
        next(t.agent.online.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(AgentFileError, match=r"weights are NaN or infinite .* not saved"):
        to_bytes(t)


def test_the_greedy_rule_evaluates_every_n_episodes_and_solves_on_the_evaluation(tmp_path):
    from sandbox.formats.agent_file import load_trainer, save_trainer

    config = load_preset("cartpole").with_changes(max_episodes=7, eval_every=2, eval_episodes=3, solve_threshold=9.0,
                                                   memory_capacity=500, learning_starts=0, stop_when_solved=False)
    t = Trainer(config)
    t.run(3)
    save_trainer(t, tmp_path / "mid.agent")
    rest = t.run()
    evaluated = [e.index for e in t.history.episodes if e.evaluated]
    assert evaluated == [1, 3, 5]
    first = t.history.episodes[1]
    assert first.solved == (first.greedy_mean >= 9.0)  # solved by the evaluation, not the training mean
    resumed = load_trainer(tmp_path / "mid.agent").run()
    assert [e.deterministic() for e in resumed] == [e.deterministic() for e in rest]


def test_version_1_agent_files_load_with_the_rule_they_were_trained_under(tmp_path):
    import json
    import struct

    import safetensors.numpy

    from sandbox.formats.agent_file import load_trainer, save_trainer

    t = Trainer(load_preset("cartpole").with_changes(max_episodes=2, memory_capacity=300))
    t.run(2)
    save_trainer(t, tmp_path / "v2.agent")
    data = (tmp_path / "v2.agent").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    info = json.loads(meta["json"])
    for name in ("solve_rule", "eval_every", "eval_episodes"):
        del info["config"][name]
    tensors = {k: v for k, v in safetensors.numpy.load(data).items() if not k.startswith("history.greedy_")}
    meta |= {"format_version": "1", "json": json.dumps(info)}
    (tmp_path / "v1.agent").write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    old = load_trainer(tmp_path / "v1.agent")
    assert old.config.solve_rule == "training_mean" and old.episodes_done == 2
    assert not any(e.evaluated for e in old.history.episodes)


def test_an_evaluation_run_in_slices_gives_the_run_of_one_in_one_go(tmp_path):
    """The app's worker defers each greedy evaluation and runs it a slice at a time (so Pause never
    waits for one); the run must be the same, step for step, as the headless one."""
    from sandbox.formats.agent_file import load_trainer, save_trainer

    config = load_preset("cartpole").with_changes(max_episodes=6, eval_every=2, eval_episodes=4, memory_capacity=500,
                                                   learning_starts=0, stop_when_solved=False)
    whole = Trainer(config)
    whole.run()
    sliced, slices, refused = Trainer(config), 0, []
    while not sliced.finished:
        if sliced.evaluation is None:
            sliced.step(defer_evaluation=True)
            continue
        slices += 1
        if slices == 3:  # an episode waiting for its evaluation cannot be saved or edited: it has no stats yet
            for attempt in (lambda: save_trainer(sliced, tmp_path / "x.agent"),
                            lambda: sliced.apply({"learning_rate": 1e-4})):
                with pytest.raises(ValueError, match="an evaluation is under way"):
                    attempt()
                refused.append(True)
        sliced.continue_evaluation(7)
    assert slices > 3 * 3 and refused == [True, True]  # three evaluations, each in many slices
    assert [e.deterministic() for e in sliced.history.episodes] == [e.deterministic() for e in whole.history.episodes]
    assert sliced.history.losses == whole.history.losses
    # settle() completes one under way (what the worker does before a save): the file resumes exactly
    again = Trainer(config)
    while not (again.evaluation is not None and again.episodes_done == 3):  # the 4th episode, waiting
        if again.evaluation is not None:
            again.continue_evaluation(5)
        else:
            again.step(defer_evaluation=True)
    again.continue_evaluation(5)
    settled = again.settle()
    assert settled is not None and settled.deterministic() == whole.history.episodes[3].deterministic()
    assert again.evaluation is None
    save_trainer(again, tmp_path / "settled.agent")
    rest = load_trainer(tmp_path / "settled.agent").run()
    assert [e.deterministic() for e in rest] == [e.deterministic() for e in whole.history.episodes[4:]]


def test_observers_hear_each_finished_episode_once_with_the_trainer_whole_at_that_boundary():
    class Heard:
        def __init__(self):
            self.episodes = []

        def episode_ended(self, trainer, stats):
            assert trainer.history.episodes[-1] is stats and trainer.evaluation is None and not trainer.mid_episode
            self.episodes.append(stats)

    config = load_preset("cartpole").with_changes(max_episodes=4, eval_every=2, eval_episodes=2, memory_capacity=500,
                                                   learning_starts=0, stop_when_solved=False)
    for defer in (False, True):
        t, heard = Trainer(config), Heard()
        t.observers.append(heard)
        while not t.finished:
            if t.evaluation is not None:
                t.continue_evaluation(3)
            else:
                t.step(defer_evaluation=defer)
        assert heard.episodes == t.history.episodes and len(heard.episodes) == 4
