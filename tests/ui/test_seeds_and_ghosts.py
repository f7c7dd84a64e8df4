"""Seed batches and ghost runs: a batch ends with its mean ± std said and drawn and the panel back at its
first seed; ghosts are named in the legend, go with the run they were ticked for, and never set the
current run's axes; comparing two runs is found without knowing that selection, not ticks, does it."""

import numpy as np
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QMessageBox

from sandbox.app.session import State
from tests.ui.helpers import quick_config, settle
from ui import plain


def legend_names(window):
    return [label.text for _, label in window.plots.legend.items]


def finished_run(qtbot, window, **changes):
    window.begin_run(quick_config(**changes))
    qtbot.waitUntil(lambda: window.session.config == quick_config(**changes), timeout=10_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.STOPPED, timeout=60_000)
    settle(qtbot, window)


def test_a_seed_batch_ends_with_its_mean_and_std_said_and_the_panel_at_its_first_seed(qtbot, window):
    window.panel.set_config(quick_config(max_episodes=2, seed=5))
    window.runs_view.seeds.setValue(3)
    window.runs_view.seeds_button.click()
    qtbot.waitUntil(lambda: window.session.band is not None, timeout=120_000)
    settle(qtbot, window)
    assert window.panel.config.seed == 5 and window.panel.editors["seed"].text() == "5"
    assert any("mean ± std of 3 seeds" in name for name in legend_names(window))
    summary = window.runs_view.batch_line.text()
    members = [r for r in window.runs_view.records.values() if r.group is not None]
    best = np.array([r.averages.max() for r in members])
    assert "3 seeds" in summary and f"{best.mean():.1f} ± {best.std():.1f}" in summary
    assert window.runs_view.batch_line.isVisibleTo(window.runs_view)


def test_ghosts_are_in_the_legend_and_never_stretch_the_current_runs_axes(qtbot, window, tmp_path):
    finished_run(qtbot, window, max_episodes=30)
    finished_run(qtbot, window, max_episodes=2, learning_rate=5e-4)
    qtbot.waitUntil(lambda: len(window.plots.scores) == 2, timeout=30_000)
    window.runs_view.list.item(0).setCheckState(Qt.Checked)
    assert any(name.startswith("run 1") for name in legend_names(window))
    window.plots.redraw()
    window.plots.redraw()
    (_, right), _ = window.plots.score_plot.viewRange()
    assert right < 15  # the current run's two episodes set the axis, not the ghost's thirty
    window.plots.export(str(tmp_path / "plots.png"))
    (_, right), _ = window.plots.score_plot.viewRange()
    assert right < 15
    window.runs_view.list.item(0).setCheckState(Qt.Unchecked)
    assert not any(name.startswith("run 1") for name in legend_names(window))


def test_ghosts_go_with_the_run_they_were_ticked_for(qtbot, window, monkeypatch):
    finished_run(qtbot, window, max_episodes=1)
    window.runs_view.list.item(0).setCheckState(Qt.Checked)
    assert len(window.plots.ghosts) == 1
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 0, timeout=10_000)
    settle(qtbot, window)
    assert window.plots.ghosts == [] and window.runs_view.ticked() == []


def test_two_ticked_runs_can_be_compared_and_the_tab_says_how(qtbot, window):
    finished_run(qtbot, window, max_episodes=1)
    finished_run(qtbot, window, max_episodes=1, learning_rate=5e-4)
    view = window.runs_view
    qtbot.waitUntil(lambda: view.list.count() == 2, timeout=10_000)
    assert "select" in view.intro.text() and "compare" in view.intro.text()
    for i in range(2):
        view.list.item(i).setCheckState(Qt.Checked)
    view.list.clearSelection()
    assert view.diff_button.isEnabled()
    view.diff_button.click()
    assert "learning_rate" in view.diff.toPlainText()
