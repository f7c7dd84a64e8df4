"""The session model without Qt: one begin() for every way a run starts, runs kept across restarts."""

import dataclasses
import json

import numpy as np
import pytest

from sandbox.app.runs import RunsLog
from sandbox.app.session import Origin, Session, Snapshot, State, Status, ViewSettings, WatchResult
from sandbox.core.config import load_preset
from sandbox.core.trainer import History, Trainer


def small(**changes):
    return load_preset("notebook").with_changes(**({"memory_capacity": 300, "batch_size": 32} | changes))


def snapshot(trainer: Trainer, origin: Origin = Origin.NEW, path: str | None = None) -> Snapshot:
    t = trainer
    status = Status(t.episodes_done, t.total_steps, 0.0, t.agent.epsilon, len(t.agent.memory),
                    t.agent.memory.capacity, 0.0, t.agent.updates, t.finished)
    history = History(list(t.history.episodes), edits=list(t.history.edits))
    history.losses.extend(t.history.losses)
    return Snapshot(t.config, t.spec, history, t.threshold, status, path, None, origin)


class Recorder:
    def __init__(self, session: Session) -> None:
        self.events: list[tuple[str, object]] = []
        for name in ("began", "episodes_added", "status_changed", "file_changed", "runs_changed", "band_changed"):
            getattr(session, name).connect(lambda *args, n=name: self.events.append((n, args)))

    def names(self) -> list[str]:
        return [n for n, _ in self.events]


@pytest.fixture
def trained():
    t = Trainer(small(max_episodes=3))
    t.run(3)
    return t


def test_begin_replaces_everything_of_the_old_run_and_archives_it(tmp_path, trained):
    session = Session(RunsLog(tmp_path / "runs.json"))
    events = Recorder(session)
    session.begin(snapshot(Trainer(small(max_episodes=3))))
    session.add_episodes(trained.history.episodes)
    assert session.unsaved and len(session.history.episodes) == 3
    fresh = Trainer(small(env_id="CartPole-v1"))
    session.begin(snapshot(fresh))
    assert session.spec.env_id == "CartPole-v1" and session.history.episodes == []
    assert session.status.episodes == 0 and session.status.total_steps == 0
    assert session.best is None and session.last_eval is None and not session.unsaved and session.path is None
    assert [r.config.env_id for r in session.runs.records.values()] == ["MountainCar-v0"]
    assert events.names().count("began") == 2 and "runs_changed" in events.names()


def test_begin_carries_the_new_runs_state_so_the_old_one_is_never_shown_with_it(tmp_path, trained):
    session = Session(RunsLog(tmp_path / "runs.json"))
    session.set_state(State.STOPPED)  # the old run ended
    seen: list[tuple[State, int]] = []
    session.began.connect(lambda snap: seen.append((session.state, len(session.history.episodes))))
    session.begin(dataclasses.replace(snapshot(trained, Origin.OPENED, "/x/a.agent"), state=State.PAUSED))
    assert seen == [(State.PAUSED, 3)] and session.state is State.PAUSED


@pytest.mark.parametrize(("origin", "path", "unsaved", "kept_path"), [
    (Origin.NEW, None, False, None), (Origin.OPENED, "/x/a.agent", False, "/x/a.agent"),
    (Origin.RECOVERED, "/data/recovery.agent", True, None), (Origin.BEST, None, True, None),
])
def test_the_origin_decides_the_file_path_and_the_unsaved_flag(trained, origin, path, unsaved, kept_path):
    session = Session()
    session.begin(snapshot(trained, origin, path))
    assert (session.unsaved, session.path) == (unsaved, kept_path)


def test_a_save_clears_the_unsaved_flag_of_a_recovered_run(trained):
    session = Session()
    session.begin(snapshot(trained, Origin.RECOVERED))
    assert session.unsaved and session.path is None
    session.saved("/x/b.agent")
    assert not session.unsaved and session.path == "/x/b.agent"


def test_live_edits_update_the_config_the_threshold_and_the_history(trained):
    session = Session()
    session.begin(snapshot(trained))
    edits = trained.apply({"learning_rate": 5e-4, "solve_threshold": -150.0})
    session.apply_edits(edits)
    assert session.config.learning_rate == 5e-4 and session.threshold == -150.0
    assert session.history.edits == edits and session.unsaved


def test_a_seed_batch_runs_each_seed_then_draws_their_band(tmp_path):
    session = Session(RunsLog(tmp_path / "runs.json"))
    config = session.start_batch(small(max_episodes=2, seed=5), 2)
    seeds = []
    while config is not None:
        t = Trainer(config)
        session.begin(snapshot(t, Origin.SEED))
        t.run()
        session.add_episodes(t.history.episodes)
        seeds.append(config.seed)
        config = session.finish_run()
    assert seeds == [5, 6] and session.band is not None
    _, mean, _, label = session.band
    members = [r for r in session.runs.records.values() if r.group is not None]
    assert label == "mean ± std of 2 seeds" and [m.name for m in members] == ["run 1 (seed batch 1)",
                                                                                "run 2 (seed batch 1)"]
    np.testing.assert_allclose(mean, np.mean([m.averages for m in members], axis=0))
    session.begin(snapshot(Trainer(small())))  # a new run of its own: the band goes
    assert session.band is None


def test_the_runs_log_survives_a_restart_and_a_damaged_one_is_set_aside(tmp_path, trained):
    path = tmp_path / "runs.json"
    session = Session(RunsLog(path))
    session.begin(snapshot(Trainer(small(max_episodes=3))))
    session.add_episodes(trained.history.episodes)
    session.archive()
    again = RunsLog.load(path)
    [record] = again.records.values()
    assert record.episodes == 3 and record.config == trained.config and again.problem is None
    path.write_text(json.dumps([{"key": 1, "name": "x", "config": {"gamma": "0.5"}}]))
    damaged = RunsLog.load(path)
    assert damaged.records == {} and "could not be read" in damaged.problem
    assert (tmp_path / "runs.damaged.json").exists() and not path.exists()


def test_state_and_status_are_reported_as_given():
    session = Session()
    seen = []
    session.state_changed.connect(seen.append)
    session.set_state(State.RUNNING)
    assert seen == [State.RUNNING] and session.state is State.RUNNING
    status = Status(1, 200, 100.0, 0.5, 200, 1000, 1.0, 40, finished=True)
    session.set_status(status)
    assert session.finished


def test_solving_is_announced_once_per_run_with_its_first_solved_episode(tmp_path, trained):
    t = Trainer(small(solve_rule="greedy", solve_threshold=-1_000.0, eval_every=1, eval_episodes=1,
                      stop_when_solved=False, max_episodes=10))
    t.run(3)
    session, heard = Session(RunsLog(tmp_path / "runs.json")), []
    session.solved.connect(heard.append)
    session.begin(snapshot(trained))
    session.add_episodes(t.history.episodes[:2])
    session.add_episodes(t.history.episodes[2:])
    assert heard == [t.history.episodes[0]] and heard[0].solved
    session.begin(snapshot(trained))
    session.add_episodes(t.history.episodes[1:])
    assert len(heard) == 2


def test_the_draft_view_settings_watch_results_and_trained_flag_live_in_the_session_with_events(tmp_path, trained):
    session = Session(RunsLog(tmp_path / "runs.json"))
    heard: list[tuple[str, object]] = []
    for name in ("draft_changed", "view_changed", "watch_result_added", "trained_changed"):
        getattr(session, name).connect(lambda value, n=name: heard.append((n, value)))
    session.begin(snapshot(Trainer(small())))
    assert session.draft == small() and not session.trained
    assert ("draft_changed", small()) in heard and ("trained_changed", False) in heard
    heard.clear()
    session.set_draft(small(gamma=0.9))
    session.set_draft(small(gamma=0.9))  # no change, no event
    session.set_view(ViewSettings(render=False, watch=True))
    session.add_watch_result(WatchResult("random", -200.0, 0))
    session.set_state(State.RUNNING)  # training happened: fixed fields need a new agent now
    session.set_state(State.PAUSED)
    assert heard == [("draft_changed", small(gamma=0.9)), ("view_changed", ViewSettings(False, True)),
                     ("watch_result_added", WatchResult("random", -200.0, 0)), ("trained_changed", True)]
    assert session.trained and session.watch_results == [WatchResult("random", -200.0, 0)]
    session.begin(snapshot(trained))  # a run that has trained begins trained, with its own draft and no watches
    assert session.trained and session.draft == trained.config and session.watch_results == []
    assert session.view == ViewSettings(False, True)  # how the window shows training is not the run's
