import numpy as np
import pytest

from sandbox.app.runs import RunRecord, config_diff, seed_band
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
