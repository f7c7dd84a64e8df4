"""The run's timeline: exact checkpoints restored as trainers that continue the original run bit for bit,
in memory, through an agent file and from the CLI; bounded; a hostile timeline is one line."""

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import AgentFileError, load_agent, save_trainer, to_bytes, trainer_at
from sandbox.formats.agent_state import FORMAT, FORMAT_VERSION, optimizer_info
from sandbox.formats.timeline import CHECKPOINT_EVERY, Timeline

ROOT = Path(__file__).resolve().parents[1]


def config(**changes):
    base = {"max_episodes": 26, "update_interval": 2, "batch_size": 32, "memory_capacity": 500, "n_step": 3,
            "solve_rule": "greedy", "eval_every": 7, "eval_episodes": 2}
    return load_preset("notebook").with_changes(**(base | changes))


def stats(episodes):
    """Every deterministic field of each episode, NaN-safe to compare."""
    return np.array([e.deterministic() for e in episodes], dtype=float)


def losses(trainer):
    return np.frombuffer(trainer.history.losses, dtype=np.float32)


def trained(**changes):
    trainer = Trainer(config(**changes))
    timeline = Timeline.start(trainer)
    trainer.run()
    return trainer, timeline


def branch(timeline, episode, trainer):
    return trainer_at(timeline, timeline.index_at(episode), trainer.history, trainer.config,
                      optimizer_info(trainer.agent))


def test_checkpoints_at_the_start_every_greedy_evaluation_and_every_20_episodes():
    _, timeline = trained()
    assert [c.episodes for c in timeline.checkpoints] == [0, 7, 14, 21]  # evaluations every 7
    quiet = Trainer(config(solve_rule="training_mean"))
    line = Timeline.start(quiet)
    quiet.run()
    assert [c.episodes for c in line.checkpoints] == [0, CHECKPOINT_EVERY]  # no evaluations: every 20


@pytest.mark.parametrize("changes", [{}, {"memory_capacity": 150, "n_step": 1}, {"backend": "reference"}],
                         ids=["n-step", "memory-smaller-than-an-episode", "reference-backend"])
def test_a_checkpoint_restored_continues_the_original_run_bit_for_bit(changes):
    trainer, timeline = trained(**changes)
    for episode in (0, 14):
        again = branch(timeline, episode, trainer)
        assert again.episodes_done == episode
        np.testing.assert_array_equal(stats(again.history.episodes), stats(trainer.history.episodes[:episode]))
        again.run()
        np.testing.assert_array_equal(stats(again.history.episodes), stats(trainer.history.episodes))
        np.testing.assert_array_equal(losses(again), losses(trainer))
        for a, b in zip(again.agent.online.parameters(), trainer.agent.online.parameters(), strict=True):
            assert bool((a == b).all())


def test_a_branch_with_a_change_differs_only_after_the_branch_point():
    trainer, timeline = trained()
    changed = branch(timeline, 7, trainer)
    changed.apply({"learning_rate": trainer.config.learning_rate * 3})
    changed.run()
    np.testing.assert_array_equal(stats(changed.history.episodes[:7]), stats(trainer.history.episodes[:7]))
    later = stats(changed.history.episodes[7:])[:, 1:]  # the index aside
    assert not np.array_equal(later, stats(trainer.history.episodes[7:])[:, 1:])
    assert [(e.episode, e.name) for e in changed.history.edits] == [(7, "learning_rate")]


def test_live_edits_made_after_a_checkpoint_are_undone_when_it_is_restored():
    trainer = Trainer(config(max_episodes=10))
    timeline = Timeline.start(trainer)
    trainer.run(8)
    trainer.apply({"learning_rate": 1e-2, "epsilon_end": 0.2})
    trainer.run()
    restored = branch(timeline, 7, trainer)
    assert restored.config == config(max_episodes=10)
    assert restored.history.edits == []


def test_a_branch_keeps_its_past_and_can_be_branched_again():
    trainer, timeline = trained()
    first = branch(timeline, 14, trainer)
    past = timeline.until(timeline.index_at(14))
    past.follow(first)
    first.run()
    assert [c.episodes for c in past.checkpoints] == [0, 7, 14, 21]
    second = branch(past, 7, first)
    second.run()
    np.testing.assert_array_equal(stats(second.history.episodes), stats(trainer.history.episodes))


def test_the_timeline_travels_in_the_agent_file_and_a_file_without_one_still_loads(tmp_path):
    trainer, timeline = trained()
    save_trainer(trainer, tmp_path / "with.agent", timeline=timeline)
    save_trainer(trainer, tmp_path / "without.agent")
    assert load_agent(tmp_path / "without.agent").timeline is None
    loaded = load_agent(tmp_path / "with.agent")
    assert [c.episodes for c in loaded.timeline.checkpoints] == [0, 7, 14, 21, 26]  # and where the file ends
    again = trainer_at(loaded.timeline, 2, loaded.trainer.history, loaded.trainer.config,
                       optimizer_info(loaded.trainer.agent))
    again.run()
    np.testing.assert_array_equal(stats(again.history.episodes), stats(trainer.history.episodes))


def test_spilled_checkpoints_leave_memory_and_still_restore_exactly(tmp_path):
    trainer = Trainer(config())
    timeline = Timeline.start(trainer, spill_folder=tmp_path, memory_limit=0)
    trainer.run()
    newest = timeline.tensors(len(timeline.checkpoints) - 1)
    assert timeline.held_bytes() == timeline.log.nbytes + sum(v.nbytes for v in newest.values())
    again = branch(timeline, 7, trainer)
    again.run()
    np.testing.assert_array_equal(stats(again.history.episodes), stats(trainer.history.episodes))
    assert list(tmp_path.iterdir()) == []  # an anonymous file: nothing is left behind


def test_beyond_its_checkpoint_limit_the_timeline_thins_itself_out():
    trainer = Trainer(config(eval_every=1, max_episodes=12))
    timeline = Timeline.start(trainer, max_checkpoints=4)
    trainer.run()
    kept = [c.episodes for c in timeline.checkpoints]
    assert len(kept) <= 4 and kept[0] == 0 and kept[-1] == 12


def test_no_checkpoint_at_the_asked_episode_names_the_nearest_ones():
    _, timeline = trained()
    with pytest.raises(ValueError, match=r"no checkpoint at episode 9 \(nearest: 7 and 14"):
        timeline.index_at(9)


def rewritten(data: bytes, change) -> bytes:
    """The file with its metadata and tensors changed by `change(info, tensors)`."""
    (n,) = struct.unpack("<Q", data[:8])
    info = json.loads(json.loads(data[8:8 + n])["__metadata__"]["json"])
    tensors = safetensors.numpy.load(data)
    change(info, tensors)
    return safetensors.numpy.save(tensors, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION),
                                                     "json": json.dumps(info)})


def _backwards(info, tensors):
    info["timeline"]["checkpoints"][2]["episodes"] = 3


def _past_the_run(info, tensors):
    info["timeline"]["checkpoints"][-1]["steps"] = info["counters"]["steps"] + 1


def _bad_action(info, tensors):
    tensors["timeline.log.actions"][5] = 7


def _nan_weight(info, tensors):
    name = next(k for k in tensors if k.startswith("timeline.online."))
    tensors[name].reshape(-1)[0] = np.nan


def _log_not_the_memory(info, tensors):
    tensors["timeline.log.rewards"][-1] += 1


def _too_many(info, tensors):
    info["timeline"]["checkpoints"] *= 600


@pytest.mark.parametrize("attack, says", [
    (_backwards, r"timeline.checkpoints\[2\].episodes = 3"),
    (_past_the_run, r"timeline.checkpoints\[2\].steps = 3001; expected an integer from"),
    (_bad_action, r"timeline.log.actions' holds values outside actions 0 to 2"),
    (_nan_weight, r"timeline.online.* contains NaN"),
    (_log_not_the_memory, "does not end with the file's replay memory"),
    (_too_many, "1 to 1,000 checkpoints"),
])
def test_a_damaged_timeline_is_refused_in_one_line(tmp_path, attack, says):
    trainer, timeline = trained(max_episodes=15)
    path = tmp_path / "bad.agent"
    path.write_bytes(rewritten(to_bytes(trainer, timeline=timeline), attack))
    with pytest.raises(AgentFileError, match=says) as caught:
        load_agent(path)
    assert "\n" not in str(caught.value)


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_train_from_episode_reproduces_the_original_run_from_there(tmp_path):
    common = ["--quiet", "--eval-episodes", "0"]
    sets = [f"--set={k}={v}" for k, v in config(max_episodes=20).to_dict().items()
            if k in ("update_interval", "batch_size", "memory_capacity", "n_step", "solve_rule", "eval_every",
                     "eval_episodes")]
    first = run_cli("train", "--preset", "notebook", "--episodes", "20", *sets, "--save", "a.agent",
                    "--log-jsonl", "a.jsonl", *common, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_cli("train", "--resume", "a.agent", "--from-episode", "7", "--log-jsonl", "b.jsonl", *common,
                     cwd=tmp_path)
    assert second.returncode == 0, second.stderr

    def episodes(name):
        rows = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        return [{k: v for k, v in r.items() if k != "steps_per_second"} for r in rows if "index" in r]

    assert episodes("b.jsonl") == episodes("a.jsonl")[7:]
    missing = run_cli("train", "--resume", "a.agent", "--from-episode", "8", *common, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "error: a.agent: the timeline has no checkpoint at episode 8 (nearest: 7 and 14; 4 checkpoints from 0 to 20)"]
    plain = run_cli("train", "--preset", "notebook", "--episodes", "2", "--no-timeline", "--save", "c.agent",
                    *common, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    refused = run_cli("train", "--resume", "c.agent", "--from-episode", "0", *common, cwd=tmp_path)
    assert refused.returncode == 2 and "has no timeline" in refused.stderr
