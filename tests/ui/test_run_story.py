"""The run's story stays told: the solve stays marked, Restore best keeps the run's clock, a reopened
file keeps its best agent, and the map's white line is there whenever its caption says so."""

import numpy as np
from PyQt5.QtWidgets import QFileDialog, QMessageBox

from sandbox.app.session import State
from tests.ui.helpers import EpisodeCounter, quick_config, settle
from ui import plain

SOLVES_AT_ONCE = dict(solve_window=1, solve_threshold=-1000.0, stop_when_solved=False)


def legend_names(window):
    return [label.text for _, label in window.plots.legend.items]


def run_episodes(qtbot, window, config, n):
    window.begin_run(config)
    qtbot.waitUntil(lambda: window.session.config == config, timeout=10_000)
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= n, timeout=60_000)
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED, timeout=10_000)
    settle(qtbot, window)
    window.plots.redraw()


def test_the_solve_stays_marked_on_the_plot_and_in_the_status_bar(qtbot, window):
    run_episodes(qtbot, window, quick_config(**SOLVES_AT_ONCE), 3)
    window.statusBar().clearMessage()  # the news line times out; the marks stay
    assert "solved at episode 1" in legend_names(window)
    assert "solved at episode 1" in window.status_fields.text("state")


def test_the_solved_star_never_covers_the_threshold_label(qtbot, window):
    run_episodes(qtbot, window, quick_config(**SOLVES_AT_ONCE), 3)
    plots = window.plots
    star = plots.solved_point.sceneBoundingRect()
    assert not star.isEmpty()
    label = getattr(plots.threshold_line, "label", None)  # the line's own label, if it has one
    assert label is None or not label.sceneBoundingRect().intersects(star)
    assert any(name.startswith("solve threshold") for name in legend_names(window))


def test_after_restore_best_the_clock_goes_on_from_the_best_point(qtbot, window, monkeypatch):
    run_episodes(qtbot, window, quick_config(solve_window=2), 4)
    assert window.session.best is not None
    spent = window.session.status.elapsed
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Yes)
    window.act_restore_best.trigger()
    qtbot.waitUntil(lambda: len(window.plots.scores) == window.session.best.episode + 1, timeout=10_000)
    settle(qtbot, window)
    assert 0 < window.session.status.elapsed <= spent


def test_the_map_draws_the_line_its_caption_promises_after_a_restore_and_a_greedy_run(qtbot, window,
                                                                                          monkeypatch):
    run_episodes(qtbot, window, quick_config(solve_window=2), 4)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Yes)
    window.act_restore_best.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED and len(window.plots.scores) <= 4,
                    timeout=10_000)
    settle(qtbot, window)
    line = window.map_view.trajectories[0].getData()[0]
    drawn = line is not None and len(line) > 0
    assert drawn or "no white line" in window.map_view.note.text()  # never a promise of a line not there
    with qtbot.waitSignal(window.worker.watch_finished, timeout=30_000):
        window.act_greedy.trigger()
    settle(qtbot, window)
    xs = window.map_view.trajectories[0].getData()[0]
    assert xs is not None and len(xs) >= 200  # the greedy episode just watched (MountainCar: 200 steps)
    assert "greedy" in window.map_view.note.text()


def test_a_reopened_file_keeps_its_best_agent(qtbot, window, monkeypatch, tmp_path):
    run_episodes(qtbot, window, quick_config(solve_window=2), 4)
    best = window.session.best
    assert best is not None
    path = tmp_path / "kept.agent"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.worker.saved, timeout=30_000):
        window.act_save_as.trigger()
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.session.best is None, timeout=10_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: window.session.path == str(path), timeout=30_000)
    settle(qtbot, window)
    assert window.session.best == best and window.act_restore_best.isEnabled()
    assert window.render_view.frame.text().startswith("Press Space to resume training")  # as the toolbar says
    window.plots.redraw()  # the best mark is drawn with the plots' next redraw
    x, y = window.plots.best_point.getData()
    assert list(x) == [best.episode + 1] and np.isclose(y[0], best.value)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Yes)
    window.act_restore_best.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == best.total_steps, timeout=10_000)
