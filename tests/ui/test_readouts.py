"""No stale readout: the step readout, the car, the Q bars and the panel's notes say what is true now."""

import re

from PyQt5.QtWidgets import QMessageBox

from sandbox.app.session import State
from tests.ui.helpers import EpisodeCounter, quick_config, settle
from ui import plain


def readout_epsilon(window):
    found = re.search(r"ε=([0-9.]+)", window.render_view.details.text())
    return found.group(1) if found else None


def pause(qtbot, window):
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED, timeout=10_000)
    settle(qtbot, window)


def test_after_resume_the_step_readout_follows_training(qtbot, window):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    pause(qtbot, window)
    paused_text = window.render_view.details.text()
    assert readout_epsilon(window) == f"{window.session.status.epsilon:.3f}"
    window.act_start.trigger()  # Resume, at full speed (no step is drawn one by one)
    qtbot.waitUntil(lambda: window.render_view.details.text() != paused_text, timeout=30_000)
    pause(qtbot, window)
    last = window.worker._last_step
    assert readout_epsilon(window) == f"{last.epsilon:.3f}" == f"{window.session.status.epsilon:.3f}"


def test_on_pause_the_car_stands_where_the_readout_says(qtbot, window):
    window.act_render.setChecked(True)
    window.speed_box.setCurrentIndex(1)  # fast: a frame now and then
    window.render_changed()
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    pause(qtbot, window)
    state = window.worker._last_step.state
    assert f"[{state[0]:.4f}, " in window.render_view.details.text()
    assert window.render_view.car.position == float(state[0])


def test_an_env_switch_gives_the_q_bars_the_new_envs_actions_before_any_step(qtbot, window):
    window.begin_run(quick_config(env_id="CartPole-v1"))
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: len(window.map_view.bars.opts["height"]) == 2, timeout=10_000)
    window.begin_run(quick_config(env_id="Acrobot-v1"))
    qtbot.waitUntil(lambda: window.session.spec.env_id == "Acrobot-v1", timeout=10_000)
    settle(qtbot, window)
    (left, right), _ = window.map_view.bars_plot.viewRange()
    assert left < 0 and 2 < right < 3  # three slots, 0 to 2, and no more
    ticks = window.map_view.bars_plot.getAxis("bottom")._tickLevels[0]
    assert len(ticks) == 3


def test_the_reward_shaping_note_goes_at_the_next_run_and_at_new(qtbot, window, monkeypatch):
    window.panel.preset_box.setCurrentIndex(window.panel.preset_box.findData("fast"))
    window.panel._preset_activated(window.panel.preset_box.currentIndex())
    qtbot.waitUntil(lambda: window.session.config.reward_shaping == "potential", timeout=10_000)
    assert window.panel.set_value("env_id", "CartPole-v1")
    qtbot.waitUntil(lambda: window.session.spec.env_id == "CartPole-v1", timeout=10_000)
    assert window.panel.problem.isVisibleTo(window.panel)  # said once, where the change was made
    window.act_step.trigger()  # the run begins: the note has been read
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 1, timeout=10_000)
    settle(qtbot, window)
    assert not window.panel.problem.isVisibleTo(window.panel)
    # and a note still up when New is pressed goes with the old run
    window.panel.show_problem("reward_shaping was reset to 'none': …")
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 0, timeout=10_000)
    settle(qtbot, window)
    assert not window.panel.problem.isVisibleTo(window.panel)
