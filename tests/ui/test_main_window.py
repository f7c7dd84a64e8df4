
import imageio.v3 as iio
import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFileDialog, QMessageBox

from sandbox.app.policy_map import policy_map
from sandbox.app.session import State, ViewSettings
from sandbox.core.trainer import Trainer
from sandbox.formats.export import episodes_from_csv
from tests.ui.helpers import EpisodeCounter, quick_config, settle
from ui import plain
from ui.format import size as human_size
from ui.main_window import MainWindow
from ui.views.car_view import MIN_X
from ui.worker.modes import MAP_RESOLUTION


def wait_state(qtbot, window, state, timeout=30_000):
    qtbot.waitUntil(lambda: window.session.state == state, timeout=timeout)


def test_start_delivers_episode_signals_and_status(qtbot, window):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 3, timeout=60_000)
    assert [e.index for e in count.episodes[:3]] == [0, 1, 2]
    assert window.status_fields.labels["state"].text().count("Running") == 1
    qtbot.waitUntil(lambda: window.session.status is not None and window.session.status.episodes >= 3)
    labels = window.status_fields.labels
    assert "memory" in labels["memory"].text() and "steps/s" in labels["speed"].text()
    qtbot.waitUntil(lambda: len(window.plots.scores) >= 3)  # the window draws episodes in batches
    assert window.isWindowModified()
    assert not window.act_start.isEnabled() and window.act_pause.isEnabled()


def test_pause_stops_episodes_and_resume_continues(qtbot, window):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    window.act_pause.trigger()
    wait_state(qtbot, window, State.PAUSED)
    settle(qtbot, window)
    seen, steps = len(count), window.worker.trainer.total_steps
    assert window.worker.mode is None and not window.worker.timer.isActive()  # nothing left to run
    settle(qtbot, window)
    assert len(count) == seen and window.worker.trainer.total_steps == steps
    assert window.act_start.text() == "&Resume"
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) > seen, timeout=30_000)


def test_step_takes_exactly_one_env_step_and_shows_it(qtbot, window):
    with qtbot.waitSignal(window.worker.stepped, timeout=10_000) as blocker:
        window.act_step.trigger()
    settle(qtbot, window)
    assert window.worker.trainer.total_steps == 1
    result = blocker.args[0]
    text = window.render_view.details.text()
    assert "action" in text and "reward -1" in text and f"{result.q_values[0]:.3f}" in text
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 2)


def test_step_episode_runs_exactly_one_episode(qtbot, window):
    count = EpisodeCounter(window)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 1)
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: len(count) == 1, timeout=30_000)
    wait_state(qtbot, window, State.PAUSED)
    settle(qtbot, window)
    assert len(count) == 1 and window.worker.trainer.total_steps == 200
    assert not window.worker.trainer.mid_episode


def test_pausing_and_stepping_do_not_change_the_outcome(qtbot, window):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    window.act_pause.trigger()
    wait_state(qtbot, window, State.PAUSED)
    steps = window.worker.trainer.total_steps
    for _ in range(7):
        window.act_step.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == steps + 7)
    settle(qtbot, window)  # an episode those steps finished reaches the counter
    before = len(count)
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED and len(count) == before + 1, timeout=30_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= before + 4, timeout=60_000)
    window.act_pause.trigger()
    wait_state(qtbot, window, State.PAUSED)
    alone = Trainer(quick_config()).run(5)
    assert [e.deterministic() for e in count.episodes[:5]] == [e.deterministic() for e in alone]


def test_live_learning_rate_edit_reaches_the_optimizer_and_leaves_a_marker(qtbot, window):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    assert window.panel.editors["learning_rate"].isEnabled()
    assert not window.panel.editors["hidden_units"].isEnabled()  # needs a new agent
    assert window.panel.set_value("learning_rate", "2.5e-4")
    optimizer = window.worker.trainer.agent.learner.optimizer
    qtbot.waitUntil(lambda: optimizer.param_groups[0]["lr"] == 2.5e-4, timeout=10_000)
    qtbot.waitUntil(lambda: len(window.plots.markers) == 2)
    assert "learning_rate → 0.00025" in window.plots.markers[0].label.textItem.toPlainText()
    assert window.worker.trainer.history.edits[-1].new == 2.5e-4


@pytest.mark.parametrize(("text", "message"), [
    ("1.5", "gamma = 1.5 is not allowed; allowed: a number from 0 to 1"),
    ("abc", "gamma = 'abc' is not allowed"),
])
def test_invalid_entry_shows_an_error_and_changes_nothing(qtbot, window, text, message):
    before = window.worker.trainer.config
    assert not window.panel.set_value("gamma", text)
    assert message in window.panel.error_text("gamma")
    settle(qtbot, window)
    assert window.worker.trainer.config == before and window.panel.config == before
    assert window.panel.set_value("gamma", "0.95")
    assert window.panel.error_text("gamma") == ""
    qtbot.waitUntil(lambda: window.worker.trainer.config.gamma == 0.95)


def test_new_agent_asks_then_resets(qtbot, window, monkeypatch):
    count = EpisodeCounter(window)
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: len(count) == 1, timeout=30_000)
    asked = []
    monkeypatch.setattr(plain, "ask", lambda *a, **k: asked.append(a[2]) or QMessageBox.Cancel)
    window.act_new.trigger()
    settle(qtbot, window)
    assert asked and window.worker.trainer.total_steps == 200  # cancelled: nothing lost
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    old = window.worker.trainer
    window.act_new.trigger()
    # The worker swaps its trainer first; the window resets the plots when agent_ready arrives.
    qtbot.waitUntil(lambda: window.worker.trainer is not old and len(window.plots.scores) == 0, timeout=10_000)
    assert window.worker.trainer.total_steps == 0
    assert not window.isWindowModified() and window.panel.editors["hidden_units"].isEnabled()


def test_save_then_open_round_trip_through_the_real_actions(qtbot, window, monkeypatch, tmp_path):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 2, timeout=30_000)
    window.act_pause.trigger()
    wait_state(qtbot, window, State.PAUSED)
    settle(qtbot, window)
    before = len(count)
    window.act_step_episode.trigger()  # finish the current episode (or, paused at a boundary, one more)
    qtbot.waitUntil(lambda: len(count) == before + 1 and window.session.state == State.PAUSED, timeout=30_000)
    settle(qtbot, window)
    assert not window.worker.trainer.mid_episode
    episodes, losses = window.worker.trainer.episodes_done, len(window.worker.trainer.history.losses)
    path = tmp_path / "run"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.act_save.trigger()
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=30_000)
    saved = tmp_path / "run.agent"
    assert saved.exists() and "run.agent" in window.windowTitle()

    window.act_new.trigger()  # saved: no question asked
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 0 and len(window.plots.scores) == 0,
                    timeout=10_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: len(window.plots.scores) == episodes, timeout=30_000)
    assert window.worker.trainer.episodes_done == episodes and len(window.plots.losses) == losses
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.episodes_done > episodes, timeout=30_000)


def test_open_a_damaged_file_shows_a_readable_error(qtbot, window, monkeypatch, tmp_path):
    bad = tmp_path / "bad.agent"
    bad.write_bytes(b"\x80\x04\x95 this is a pickle, not an agent")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=10_000)
    assert "not an agent file" in window.error_box.informativeText()
    assert window.worker.trainer is not None  # the current agent is untouched


def test_closing_during_training_stops_the_worker_on_request(qtbot, window, monkeypatch, qtlog):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    terminated, terminate = [], window.worker_thread.terminate
    monkeypatch.setattr(window.worker_thread, "terminate", lambda: terminated.append(True) or terminate())
    window.close()
    # The worker ends on request, never by the 5 s fallback (the benchmark measures how fast).
    assert window.worker_thread.isFinished() and not terminated
    warnings = [r.message for r in qtlog.records if "propagateSizeHints" not in r.message]
    assert warnings == []


def test_closing_with_unsaved_training_can_be_cancelled(qtbot, window, monkeypatch):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.episodes_done == 1 and window.isWindowModified(), timeout=30_000)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Cancel)
    window.close()
    assert window.isVisible() and window.worker_thread.isRunning()


def test_a_worker_exception_stops_training_keeps_the_agent_and_shows_a_dialog(qtbot, window):
    window.begin_run(quick_config(env_id="FaultyEnv-v0", solve_threshold=0.0))
    qtbot.waitUntil(lambda: window.session.config.env_id == "FaultyEnv-v0", timeout=10_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=10_000)
    assert "sensor cable unplugged" in window.error_box.informativeText()
    assert "while training" in window.error_box.text()
    assert window.session.state == State.STOPPED and window.worker.trainer.total_steps == 49


def test_evaluate_and_watch_greedy_report_scores(qtbot, window):
    with qtbot.waitSignal(window.worker.evaluated, timeout=60_000):
        window.act_evaluate.trigger()
    assert "mean -200.0" in window.result_label.text() and "not solved" in window.result_label.text()
    with qtbot.waitSignal(window.worker.watch_finished, timeout=60_000) as blocker:
        window.act_greedy.trigger()
    assert blocker.args == [State.GREEDY.value, -200.0, 0] and "score -200" in window.result_label.text()
    assert window.worker.trainer.total_steps == 0  # greedy runs never train


def test_render_draws_the_car_from_its_state_while_training(qtbot, window):
    window.act_render.setChecked(True)
    window.render_changed()
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.render_view.car.states_shown >= 3, timeout=30_000)
    assert window.render_view.stack.currentWidget() is window.render_view.car
    assert MIN_X <= window.render_view.car.position <= 0.6
    image = window.render_view.car.grab().toImage()
    assert image.width() > 0 and image.pixelColor(image.width() // 2, image.height() // 2).isValid()


def test_render_and_speed_go_through_the_session_to_the_worker_and_the_settings(qtbot, window, settings):
    window.act_render.setChecked(False)
    window.render_changed()
    assert window.session.view == ViewSettings(render=False, watch=bool(window.speed_box.currentData()))
    qtbot.waitUntil(lambda: not window.worker.render, timeout=10_000)  # the typed SetView command arrived
    assert window.settings.render is False
    window.act_render.setChecked(True)
    window.speed_box.setCurrentIndex(window.speed_box.findData(True))
    window.render_changed()
    qtbot.waitUntil(lambda: window.worker.render and window.worker.watch, timeout=10_000)
    assert window.session.view == ViewSettings(render=True, watch=True) and window.settings.watch is True


def test_the_sessions_draft_is_what_the_panel_shows_and_what_new_and_tune_start_from(qtbot, window):
    assert window.panel.set_value("gamma", "0.9")  # a live field: applied, and the draft follows
    assert window.session.draft.gamma == 0.9
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.session.trained, timeout=30_000)
    window.pause()
    assert window.panel.set_value("hidden_units", "32")  # a fixed field of a trained run: only the draft changes
    assert window.session.draft.hidden_units == 32 and window.session.config.hidden_units != 32
    assert window.tune_view.base_config().hidden_units == 32


def test_other_envs_show_the_envs_own_frames(qtbot, window):
    window.begin_run(quick_config(env_id="CartPole-v1"))
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    window.act_render.setChecked(True)
    window.render_changed()
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.render_view.frame.frames_shown >= 3, timeout=30_000)
    assert window.render_view.stack.currentWidget() is window.render_view.frame
    assert not window.render_view.frame.pixmap().isNull()


def test_geometry_and_settings_persist(qtbot, window, settings, monkeypatch):
    window.resize(1111, 777)
    window.panel.set_value("learning_rate", "0.0005")
    qtbot.waitUntil(lambda: window.worker.trainer.config.learning_rate == 5e-4)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.close()
    assert '"learning_rate": 0.0005' in settings.value("run/config")
    again = MainWindow(settings)
    try:
        qtbot.waitUntil(lambda: again.session.config is not None, timeout=30_000)
        assert (again.width(), again.height()) == (1111, 777)
        assert again.panel.config.learning_rate == 5e-4
    finally:
        again.close()


def test_restore_best_goes_back_to_the_peak_of_the_moving_average(qtbot, window, monkeypatch):
    window.begin_run(quick_config(solve_window=2, max_episodes=8))
    qtbot.waitUntil(lambda: window.session.config.solve_window == 2, timeout=10_000)
    assert not window.act_restore_best.isEnabled()  # nothing kept before the window is full
    window.act_start.trigger()
    wait_state(qtbot, window, State.STOPPED, timeout=60_000)
    episodes = window.worker.trainer.history.episodes
    peak = max(range(1, 8), key=lambda i: (episodes[i].moving_average, -i))
    assert window.session.best.episode == peak and window.act_restore_best.isEnabled()
    window.plots.redraw()  # the best mark is drawn with the plots' next redraw
    x, y = window.plots.best_point.getData()
    assert list(x) == [peak + 1] and list(y) == [episodes[peak].moving_average]
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Yes)
    window.act_restore_best.trigger()
    qtbot.waitUntil(lambda: len(window.plots.scores) == peak + 1 and window.session.state == State.PAUSED,
                    timeout=10_000)
    assert window.worker.trainer.total_steps == episodes[peak].total_steps
    assert window.isWindowModified()


def test_saving_without_replay_memory_makes_a_smaller_file(qtbot, window, monkeypatch, tmp_path):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.episodes_done == 1, timeout=30_000)
    sizes = {}
    for include in (True, False):
        window.act_include_memory.setChecked(include)
        window.act_include_memory.triggered.emit(include)
        path = tmp_path / f"memory-{include}.agent"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, p=path, **k: (str(p), ""))
        with qtbot.waitSignal(window.worker.saved, timeout=30_000) as saved:
            window.act_save_as.trigger()
        sizes[include] = saved.args[1]
        assert f"({human_size(saved.args[1])})" in window.statusBar().currentMessage()
    assert sizes[False] < sizes[True]
    assert window.settings.include_memory is False


def test_the_map_shows_the_networks_q_and_the_episodes_trajectory(qtbot, window):
    qtbot.waitUntil(lambda: window.map_view.map is not None, timeout=10_000)  # the new agent's map
    for image in (window.map_view.value_image, window.map_view.policy_image):
        r = image.mapRectToParent(image.boundingRect())  # the images cover the observation space
        assert (r.left(), r.right(), r.top(), r.bottom()) == pytest.approx((-1.2, 0.6, -0.07, 0.07), abs=1e-4)
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED and window.map_view.map is not None
                    and len(window.plots.scores) == 1, timeout=30_000)
    settle(qtbot, window)  # the forced inspection after the episode lands
    trainer = window.worker.trainer
    expected = policy_map(trainer.agent, trainer.scaler, trainer.spec, MAP_RESOLUTION)
    np.testing.assert_array_equal(window.map_view.map.q, expected.q)
    np.testing.assert_array_equal(window.map_view.value_image.image, expected.value.T)
    x, y = window.map_view.trajectories[0].getData()
    np.testing.assert_array_equal(np.column_stack([x, y]), trainer.trajectory)
    assert len(x) == 201  # 200 steps: the states before each, and the last
    window.map_view.coverage_box.setChecked(True)
    assert window.map_view.value_plot.titleLabel.text.startswith("Memory coverage")


def test_diagnostics_tab_lists_hints_for_the_notebook_preset(qtbot, window):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: bool(window.diagnostics.hints), timeout=30_000)
    assert [h.key for h in window.diagnostics.hints] == ["memory_tiny"]
    assert window.tabs.tabText(1) == "Diagnostics (1)"
    assert "memory_capacity" in window.diagnostics.text


def test_envs_without_a_2d_map_show_q_bars_and_say_why(qtbot, window):
    window.begin_run(quick_config(env_id="CartPole-v1"))
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 1, timeout=10_000)
    settle(qtbot, window)
    assert window.map_view.bars_plot.isVisible() and not window.map_view.value_plot.isVisible()
    assert "observes 4 numbers" in window.map_view.note.text()
    heights = window.map_view.bars.opts["height"]
    assert len(heights) == 2


def test_exports_write_csv_plots_and_a_gif(qtbot, window, monkeypatch, tmp_path):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: len(window.plots.scores) == 1, timeout=30_000)
    settle(qtbot, window)
    targets = iter([tmp_path / "episodes.csv", tmp_path / "plots.png", tmp_path / "plots.svg",
                    tmp_path / "greedy.gif"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(next(targets)), ""))
    with qtbot.waitSignal(window.worker.exported, timeout=30_000):
        window.act_export_episodes.trigger()
    assert [e.deterministic() for e in episodes_from_csv(tmp_path / "episodes.csv")] == \
        [e.deterministic() for e in window.worker.trainer.history.episodes]
    window.act_export_png.trigger()
    width = int(2 * window.plots.layout_widget.width())
    assert iio.imread(tmp_path / "plots.png").shape[1] == width
    window.act_export_svg.trigger()
    assert (tmp_path / "plots.svg").read_text().lstrip().startswith("<?xml")
    with qtbot.waitSignal(window.worker.exported, timeout=60_000) as done:
        window.act_export_video.trigger()
    frames = int(done.args[0].split("(")[1].split(" frames")[0])
    assert iio.imread(tmp_path / "greedy.gif").shape[0] == frames


def test_a_human_drives_with_the_arrow_keys_and_the_score_is_plotted(qtbot, window):
    window.act_human.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.HUMAN, timeout=10_000)
    assert window.worker.mode.episode.steps == 0  # the episode waits for the first key
    qtbot.keyPress(window, Qt.Key_Right)
    qtbot.waitUntil(lambda: window.worker.mode.action == 2, timeout=30_000)
    qtbot.waitUntil(lambda: window.worker.mode is not None and window.worker.mode.episode.steps > 5, timeout=10_000)
    qtbot.keyRelease(window, Qt.Key_Right)
    qtbot.waitUntil(lambda: window.worker.mode.action == 1, timeout=30_000)
    with qtbot.waitSignal(window.worker.human_finished, timeout=30_000) as done:
        pass  # holding nothing: the car idles until the 200-step limit
    assert done.args[0] == -200.0
    qtbot.waitUntil(lambda: len(window.plots.human_scores) == 1, timeout=30_000)
    assert window.plots.human_scores[0][1] == -200.0 and window.worker.trainer.total_steps == 0
    wait_state(qtbot, window, State.IDLE)  # nothing was trained: still a fresh agent
    assert window.panel.editors["hidden_units"].isEnabled()


def test_replaced_runs_are_listed_drawn_as_ghosts_and_diffed(qtbot, window):
    window.begin_run(quick_config(max_episodes=2))
    qtbot.waitUntil(lambda: window.session.config.max_episodes == 2, timeout=10_000)
    window.act_start.trigger()
    wait_state(qtbot, window, State.STOPPED, timeout=60_000)
    qtbot.waitUntil(lambda: window.runs_view.list.count() == 1, timeout=30_000)  # finished: listed at once
    first = next(iter(window.runs_view.records.values()))
    assert first.episodes == 2 and first.config.max_episodes == 2
    window.begin_run(quick_config(max_episodes=2, learning_rate=5e-4))
    qtbot.waitUntil(lambda: window.session.config.learning_rate == 5e-4, timeout=10_000)
    window.act_start.trigger()
    wait_state(qtbot, window, State.STOPPED, timeout=60_000)
    qtbot.waitUntil(lambda: window.runs_view.list.count() == 2, timeout=30_000)
    window.runs_view.list.item(0).setCheckState(Qt.Checked)
    assert len(window.plots.ghosts) == 1
    np.testing.assert_array_equal(window.plots.ghosts[0].getData()[1], first.averages)
    window.runs_view.list.selectAll()
    window.runs_view.diff_button.click()
    text = window.runs_view.diff.toPlainText()
    assert "learning_rate" in text and "0.001" in text and "0.0005" in text and "seed" not in text


def test_several_seeds_run_back_to_back_and_draw_a_band(qtbot, window):
    window.panel.set_config(quick_config(max_episodes=2, seed=5))
    window.runs_view.seeds.setValue(3)
    window.runs_view.seeds_button.click()
    qtbot.waitUntil(lambda: window.session.band is not None, timeout=120_000)
    members = [r for r in window.runs_view.records.values() if r.group is not None]
    assert sorted(r.config.seed for r in members) == [5, 6, 7]
    episodes, mean, std, _ = window.session.band
    stacked = np.stack([r.averages for r in members])
    np.testing.assert_allclose(mean, stacked.mean(axis=0))
    np.testing.assert_array_equal(episodes, np.arange(1, 3))
    np.testing.assert_allclose(std, stacked.std(axis=0))
    assert len(window.plots.bands) == 4


def test_every_action_of_the_table_is_a_declared_attribute_of_the_window():
    """The window sets `act_<name>` from ui/actions.py's table; the declarations let the type checker see them."""
    from ui.actions import ACTIONS
    from ui.main_window import MainWindow

    declared = {name for name in MainWindow.__annotations__ if name.startswith("act_")}
    assert declared == {f"act_{spec.name}" for spec in ACTIONS}
