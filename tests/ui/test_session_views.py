"""The symptoms a new user found, one test each: no stale screen after a reset, true counts, inline
errors instead of dialogs, a layout that keeps its proportions, a quick exit."""

import os
import subprocess
import sys
from pathlib import Path

from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtWidgets import QFileDialog, QMessageBox

from sandbox.app.session import State
from tests.ui.helpers import EpisodeCounter, quick_config, settle
from ui import format as fmt
from ui import plain
from ui.dialogs.file_commands import version
from ui.views.render_view import HINT

ROOT = Path(__file__).resolve().parents[2]


def train_episodes(qtbot, window, n):
    count = EpisodeCounter(window)
    for i in range(n):
        window.act_step_episode.trigger()
        qtbot.waitUntil(lambda i=i: len(count) == i + 1, timeout=30_000)
        qtbot.waitUntil(lambda: window.session.state == State.PAUSED, timeout=30_000)
    settle(qtbot, window)
    return count


def curves_are_empty(window):
    p = window.plots
    return all(len(c.getData()[0] if c.getData()[0] is not None else []) == 0
               for c in (p.score_curve, p.average_curve, p.epsilon_curve, p.loss_curve))


def test_after_new_agent_no_curve_readout_or_counter_of_the_old_run_remains(qtbot, window, monkeypatch):
    train_episodes(qtbot, window, 2)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: "reward" in window.render_view.details.text())
    qtbot.waitUntil(lambda: not curves_are_empty(window))  # drawn (the plots redraw a few times a second)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.session.history.episodes == [] and window.worker.trainer.total_steps == 0,
                    timeout=10_000)
    settle(qtbot, window)
    assert curves_are_empty(window)
    labels = window.status_fields.labels
    assert labels["episode"].text() == "episode 0" and labels["steps"].text() == "0 steps"
    assert labels["speed"].text() == "— steps/s"
    assert window.render_view.details.text() == HINT


def test_every_plot_follows_its_data_through_a_reset_and_resizes(qtbot, window, monkeypatch):
    """Under a real X server the score plot froze after a preset (its x range stuck at the first
    episodes): linked plots turn each other's auto-range off whenever one is resized. Offscreen Qt
    sends no such resizes, so the resize is made here and no plot may be linked."""
    train_episodes(qtbot, window, 1)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.session.history.episodes == [], timeout=10_000)
    plots = window.plots
    for plot in (plots.score_plot, plots.loss_plot, plots.epsilon_plot):
        box = plot.getViewBox()
        assert box.linkedView(0) is None and box.autoRangeEnabled()[0], plot.titleLabel.text
    window.resize(window.width() - 40, window.height() - 30)
    train_episodes(qtbot, window, 12)
    for plot in (plots.score_plot, plots.epsilon_plot):  # the view follows on the next redraws
        qtbot.waitUntil(lambda plot=plot: plot.viewRange()[0][0] <= 1 and plot.viewRange()[0][1] >= 12,
                        timeout=30_000)


def test_after_new_each_plot_shows_a_fresh_view_not_the_old_runs_axes(qtbot, window, monkeypatch):
    """With nothing to fit, auto-range keeps whatever range it had: the old run's score, loss and epsilon
    axes stayed after New (seen under Xvfb)."""
    plots = window.plots

    def y_ranges():
        return [[round(v, 3) for v in plot.viewRange()[1]]
                for plot in (plots.score_plot, plots.loss_plot, plots.epsilon_plot)]

    fresh = y_ranges()
    train_episodes(qtbot, window, 3)
    qtbot.waitUntil(lambda: all(a != b for a, b in zip(y_ranges(), fresh, strict=True)), timeout=30_000)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.session.history.episodes == [], timeout=10_000)
    qtbot.waitUntil(lambda: y_ranges() == fresh, timeout=30_000)


def test_the_solved_news_goes_with_its_run(qtbot, window, monkeypatch):
    """The "Solved at episode …" message stayed 20 s into the next run, beside its "Ready · episode 0"."""
    train_episodes(qtbot, window, 1)
    window.session.solved.emit(window.session.history.episodes[0])  # as the session does at a run's solve
    assert window.statusBar().currentMessage().startswith("Solved at episode 1")
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.session.history.episodes == [], timeout=10_000)
    assert window.statusBar().currentMessage() == ""


def test_a_new_env_unticks_other_envs_ghosts_and_names_its_own_actions(qtbot, window):
    window.begin_run(quick_config(max_episodes=1))
    qtbot.waitUntil(lambda: window.session.config.max_episodes == 1, timeout=10_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.runs_view.list.count() == 1, timeout=30_000)
    window.runs_view.list.item(0).setCheckState(Qt.Checked)
    assert len(window.plots.ghosts) == 1
    window.begin_run(quick_config(env_id="CartPole-v1"))
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    assert window.plots.ghosts == [] and curves_are_empty(window)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: "push right" in window.render_view.details.text(), timeout=10_000)
    assert "no push" not in window.render_view.details.text()  # MountainCar's action names are gone
    ticks = window.map_view.bars_plot.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == ["0 (push left)", "1 (push right)"]


def test_after_step_episode_the_status_shows_the_trainers_counts(qtbot, window):
    for n in (1, 2, 3):
        train_episodes(qtbot, window, 1)
        assert window.status_fields.labels["steps"].text() == f"{fmt.count(200 * n)} steps"
        assert window.status_fields.labels["episode"].text() == f"episode {n}"
        assert "step (ε=" in window.render_view.details.text()  # the readout shows where it paused


def test_a_mountaincar_only_setting_on_cartpole_is_reset_inline_without_a_dialog(qtbot, window):
    window.panel.preset_box.setCurrentIndex(window.panel.preset_box.findData("fast"))
    window.panel._preset_activated(window.panel.preset_box.currentIndex())
    qtbot.waitUntil(lambda: window.session.config.reward_shaping == "potential", timeout=10_000)
    assert window.panel.set_value("env_id", "CartPole-v1")
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    assert window.session.config.reward_shaping == "none" and window.error_box is None
    assert "reward_shaping was reset to 'none'" in window.panel.problem.text() and window.panel.problem.isVisible()


def test_compare_configs_and_an_evaluation_leave_the_car_view_its_height(qtbot, window):
    window.resize(1400, 900)
    for rate in (1e-3, 5e-4):
        window.begin_run(quick_config(max_episodes=1, learning_rate=rate))
        qtbot.waitUntil(lambda rate=rate: window.session.config.learning_rate == rate, timeout=10_000)
        window.act_start.trigger()
        qtbot.waitUntil(lambda: window.session.state == State.STOPPED, timeout=30_000)
    window.begin_run(quick_config())
    qtbot.waitUntil(lambda: window.runs_view.list.count() >= 2, timeout=10_000)
    settle(qtbot, window)
    height, size = window.render_view.height(), window.size()
    window.tabs.setCurrentWidget(window.runs_view)
    window.runs_view.list.selectAll()
    window.runs_view.diff_button.click()
    with qtbot.waitSignal(window.worker.evaluated, timeout=60_000):
        window.act_evaluate.trigger()
    qtbot.waitUntil(lambda: "Evaluation" in window.result_label.text())
    assert window.render_view.height() >= 0.9 * height and window.size() == size


def test_every_panel_field_lies_inside_the_viewport_in_one_column(qtbot, window):
    viewport = window.panel.fields_area.viewport()
    lefts = set()
    for name, editor in window.panel.editors.items():
        right = editor.mapTo(viewport, QPoint(editor.width(), 0)).x()
        assert right <= viewport.width(), name
        lefts.add(editor.mapTo(viewport, QPoint(0, 0)).x())
    assert len(lefts) == 1


def test_new_agent_offers_save_pauses_training_and_continues_once_saved(qtbot, window, monkeypatch, tmp_path):
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.session.unsaved, timeout=30_000)
    asked = []

    def answer(*args, **kwargs):
        asked.append((args[2], args[3], window.worker.mode))
        return QMessageBox.Save

    monkeypatch.setattr(plain, "ask", answer)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "kept.agent"), ""))
    window.act_new.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "kept.agent").exists() and window.worker.trainer.total_steps == 0,
                    timeout=30_000)
    assert asked[0][1] & QMessageBox.Save and asked[0][1] & QMessageBox.Discard
    assert asked[0][2] is None  # training paused before the question was asked


def test_watch_random_plays_the_baseline_and_plots_it(qtbot, window):
    with qtbot.waitSignal(window.worker.watch_finished, timeout=60_000) as done:
        window.act_random.trigger()
    assert done.args[0] == State.RANDOM.value and done.args[1] == -200.0
    qtbot.waitUntil(lambda: len(window.plots.random_scores) == 1)
    assert "Random policy" in window.result_label.text() and window.worker.trainer.total_steps == 0
    assert "random policy has no Q-values" in window.render_view.details.text()


def test_about_names_the_version(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda *a: shown.append(a[2]))
    window.act_about.trigger()
    assert version() in shown[0] and version() != "unknown"


CLOSER = """
import sys, time
from PyQt5.QtCore import QTimer
from ui.app import make_application, run_app
from ui.main_window import MainWindow
app = make_application()
def window():
    return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
def close():
    w = window()
    w.session.forget_changes()
    print(time.time(), flush=True)
    w.close()
def begin():
    w = window()
    if sys.argv[1] == "training":
        w.act_start.trigger()
    QTimer.singleShot(1500, close)
QTimer.singleShot(1000, begin)
run_app()
"""


def test_the_process_exits_after_its_window_closes_beside_busy_processes_without_terminating_its_worker(tmp_path):
    """Idle and mid-training: the worker thread ends by itself (no terminate fallback) and the process exits 0.
    How fast it exits is measured in the benchmark (`exit_seconds`), not bounded here."""
    script = tmp_path / "closer.py"
    script.write_text(CLOSER)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RL_SANDBOX_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(ROOT))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for mode in ("idle", "training"):
            proc = subprocess.Popen([sys.executable, str(script), mode], cwd=tmp_path, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = proc.communicate(timeout=120)
            finally:
                proc.kill()  # a hung process must not outlive a failed test
            assert proc.returncode == 0 and out.strip(), (mode, err[-2000:])
            assert "was terminated" not in err, (mode, err[-2000:])
    finally:
        for p in busy:
            p.kill()
            p.wait()

