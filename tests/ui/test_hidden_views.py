"""Views nobody can see draw nothing (painting shares the GIL with training) and catch up the moment
they come into view: the map in a tab not chosen, the plots in a minimised window. The real window,
the real worker: what was kept back is what the window received, and it is drawn before any wait."""

import numpy as np

from sandbox.app.session import State
from tests.ui.helpers import EpisodeCounter, settle


def train_episodes(qtbot, window, n):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= n, timeout=60_000)
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state is State.PAUSED, timeout=10_000)
    settle(qtbot, window)  # the pause's own report (map, episodes, losses) has reached the window


def test_the_map_in_a_hidden_tab_catches_up_when_its_tab_is_chosen(qtbot, window):
    view = window.map_view
    qtbot.waitUntil(lambda: view.map is not None and view.value_image.image is not None, timeout=10_000)
    untrained = view.value_image.image.copy()
    window.tabs.setCurrentWidget(window.diagnostics)
    train_episodes(qtbot, window, 3)  # learning starts within the first episode: the values move
    assert not np.array_equal(view.map.value.T, untrained)  # the window has a newer map …
    np.testing.assert_array_equal(view.value_image.image, untrained)  # … and has not drawn it
    assert len(view.trajectories[0].getData()[0] or []) == 0
    window.tabs.setCurrentWidget(view)  # chosen: drawn at once, no waiting
    np.testing.assert_array_equal(view.value_image.image, view.map.value.T)
    x, _ = view.trajectories[0].getData()
    np.testing.assert_array_equal(x, window.worker.trainer.trajectory[:, 0])


def test_plots_of_a_minimised_window_catch_up_when_it_is_restored(qtbot, window):
    plots = window.plots
    train_episodes(qtbot, window, 1)
    plots.redraw()
    drawn = len(plots.score_curve.getData()[0])
    window.showMinimized()
    qtbot.waitUntil(window.isMinimized)
    train_episodes(qtbot, window, 3)
    plots.redraw()  # as its timer does: nothing is drawn while minimised
    assert len(plots.scores) > drawn and len(plots.score_curve.getData()[0]) == drawn
    window.showNormal()
    x, y = plots.score_curve.getData()  # restored: drawn at once, before it is painted; no redraw tick waited for
    np.testing.assert_array_equal(x, plots.episodes.values)
    np.testing.assert_array_equal(y, plots.scores.values)
    assert plots.loss_curve.getData()[0][-1] == len(plots.losses)
