import json

import numpy as np
import pytest

from sandbox.app import runs
from sandbox.app.runs import RunRecord, RunsLog, config_diff, seed_band
from sandbox.core.config import load_preset


def record(name, averages, seed=0, group=None):
    averages = np.asarray(averages, dtype=float)
    return RunRecord(name, load_preset("notebook").with_changes(seed=seed), averages, averages, 200 * len(averages),
                     False, group)


def test_the_band_is_mean_and_std_over_the_episodes_all_seeds_reached():
    runs = [record("a", [-200, -190, -180, -170]), record("b", [-200, -170, -160]), record("c", [-200, -200, -190])]
    x, mean, std = seed_band(runs)
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(mean, [-200, -186.6666667, -176.6666667])
    np.testing.assert_allclose(std, np.std([[-200, -190, -180], [-200, -170, -160], [-200, -200, -190]], axis=0))
    with pytest.raises(ValueError):
        seed_band([])


def test_config_diff_lists_only_what_differs():
    a = load_preset("notebook")
    b = a.with_changes(learning_rate=5e-4, seed=3)
    assert config_diff(a, b) == [("learning_rate", 1e-3, 5e-4), ("seed", 1412, 3)]
    assert config_diff(a, a) == []


def test_summary_names_the_run():
    text = record("run 2", [-200, -150]).summary()
    assert text.startswith("run 2: MountainCar-v0, seed 0, 2 episodes, 400 steps, best average -150.0")


def _record(name: str, episodes: int, config=None) -> RunRecord:
    scores = np.linspace(-200.0, -100.0, episodes)
    return RunRecord(name, config or load_preset("notebook"), scores, scores.copy(), 200 * episodes, False)


def test_the_runs_log_is_written_no_larger_than_it_is_read_the_oldest_runs_leaving_first(tmp_path, monkeypatch):
    """A log written past the size `load` accepts would be refused at the next launch, its runs lost."""
    monkeypatch.setattr(runs, "MAX_LOG_BYTES", 60_000)
    log = RunsLog(tmp_path / "runs.json")
    for key in range(1, 8):
        log.put(key, _record(f"run {key}", 600))
    assert (tmp_path / "runs.json").stat().st_size <= 60_000 and log.problem is None
    again = RunsLog.load(tmp_path / "runs.json")
    assert again.problem is None and max(again.records) == 7 and 1 not in again.records
    assert list(again.records) == list(log.records)


def test_a_run_keeps_at_most_its_first_episodes_in_the_log(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "MAX_RUN_EPISODES", 50)
    log = RunsLog(tmp_path / "runs.json")
    log.put(1, _record("long", 80))
    [kept] = RunsLog.load(tmp_path / "runs.json").records.values()
    assert kept.episodes == 50 and kept.scores[0] == -200.0


def test_a_run_whose_averages_are_not_finite_is_refused(tmp_path):
    log = RunsLog(tmp_path / "runs.json")
    log.put(1, _record("fine", 3))
    data = json.loads((tmp_path / "runs.json").read_text())
    data[0]["averages"] = [1e999, -1e999, 1e999]
    (tmp_path / "runs.json").write_text(json.dumps(data).replace("Infinity", "1e999"))
    damaged = RunsLog.load(tmp_path / "runs.json")
    assert damaged.records == {} and "could not be read" in damaged.problem
