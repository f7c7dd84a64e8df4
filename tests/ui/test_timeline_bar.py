"""The timeline under the plots, in the real window: a checkpoint's agent is shown as the past (its
Q-values are those of the same run stopped there, trained headless), Back to now shows the present,
and Branch here starts a run that, unchanged, continues the original bit for bit; the Runs tab then
shows it under its parent, which is drawn behind it."""

import numpy as np
from PyQt5.QtCore import Qt

from sandbox.app.policy_map import policy_map
from sandbox.app.session import Origin, State
from sandbox.core.trainer import Trainer
from tests.ui.helpers import quick_config, settle
from ui.worker.modes import MAP_RESOLUTION

CONFIG = quick_config(max_episodes=8, solve_rule="greedy", eval_every=3, eval_episodes=2, seed=5)


def stats(episodes):
    return np.array([e.deterministic() for e in episodes], dtype=float)


def train_to_the_end(qtbot, window):
    with qtbot.waitSignal(window.worker.run_finished, timeout=120_000):
        window.act_start.trigger()
    settle(qtbot, window)


def show_checkpoint(qtbot, window, position):
    with qtbot.waitSignal(window.worker.past_shown, timeout=20_000):
        window.timeline_bar.slider.setValue(position)


def test_a_checkpoint_is_shown_as_the_past_with_that_agents_values(qtbot, window):
    window.begin_run(CONFIG)
    qtbot.waitUntil(lambda: window.session.config == CONFIG, timeout=10_000)
    train_to_the_end(qtbot, window)
    bar = window.timeline_bar
    assert [c.episodes for c in bar.checkpoints] == [0, 3, 6]
    assert bar.at_present and not bar.branch_button.isEnabled()

    show_checkpoint(qtbot, window, 1)
    reference = Trainer(CONFIG)  # the same run, trained headless to episode 3
    reference.run(3)
    expected = policy_map(reference.agent, reference.scaler, reference.spec, MAP_RESOLUTION)
    np.testing.assert_array_equal(window.map_view.map.q, expected.q)
    assert window.map_view.past_note.isVisibleTo(window) and "episode 3" in window.map_view.past_note.text()
    assert bar.label.text() == "The past: episode 3" and bar.branch_button.isEnabled()
    assert "last score" in window.map_view.past_note.text()  # the readout: what that agent had done
    assert window.plots.past_line.isVisible() and window.plots.past_line.value() == 3  # where it lies on the run

    bar.now_button.click()
    settle(qtbot, window)
    now = window.worker.trainer
    np.testing.assert_array_equal(window.map_view.map.q,
                                  policy_map(now.agent, now.scaler, now.spec, MAP_RESOLUTION).q)
    assert not window.map_view.past_note.isVisibleTo(window) and bar.label.text().startswith("Now (")
    assert not window.plots.past_line.isVisible()


def test_branch_here_continues_the_original_run_and_the_runs_tab_shows_the_tree(qtbot, window):
    window.begin_run(CONFIG)
    qtbot.waitUntil(lambda: window.session.config == CONFIG, timeout=10_000)
    train_to_the_end(qtbot, window)
    original = stats(window.session.history.episodes)
    parent = window.session.run_key
    show_checkpoint(qtbot, window, 1)
    with qtbot.waitSignal(window.session.began, timeout=20_000) as began:
        window.timeline_bar.branch_button.click()
    assert began.args[0].origin is Origin.BRANCH
    settle(qtbot, window)
    assert len(window.session.history.episodes) == 3 and window.session.branch == (parent, 3)
    np.testing.assert_array_equal(stats(window.session.history.episodes), original[:3])
    assert window.timeline_bar.at_present and [c.episodes for c in window.timeline_bar.checkpoints] == [0, 3]
    ticked = [window.runs_view.list.item(i) for i in range(window.runs_view.list.count())]
    assert [item.data(Qt.UserRole) for item in ticked if item.checkState() == Qt.Checked] == [parent]

    train_to_the_end(qtbot, window)
    assert window.session.state in (State.STOPPED, State.SOLVED)
    np.testing.assert_array_equal(stats(window.session.history.episodes), original)
    window.begin_run(CONFIG.with_changes(seed=6))  # the branch is archived under its parent
    qtbot.waitUntil(lambda: window.session.config.seed == 6, timeout=10_000)
    lines = [window.runs_view.list.item(i).text() for i in range(window.runs_view.list.count())]
    assert lines[0].startswith(f"run {parent}:")
    assert lines[1].startswith("    ↳ run ") and f"branched from run {parent} at episode 3 (no change)" in lines[1]


def test_without_a_map_the_past_agents_q_values_of_the_current_state_are_shown(qtbot, window):
    from sandbox.core.config import load_preset

    config = load_preset("cartpole").with_changes(max_episodes=6, solve_rule="greedy", eval_every=3, eval_episodes=2,
                                                  memory_capacity=500, batch_size=32, learning_starts=64)
    window.begin_run(config)
    qtbot.waitUntil(lambda: window.session.config == config, timeout=10_000)
    train_to_the_end(qtbot, window)
    show_checkpoint(qtbot, window, 1)
    reference = Trainer(config)
    reference.run(3)
    state = window.worker.trainer.trajectory[-1]
    expected = reference.agent.q_values(reference.scaler(state))
    np.testing.assert_array_equal(window.map_view.bars.opts["height"], expected)
    assert window.map_view.past_note.isVisibleTo(window)


def test_a_save_carries_the_timeline_with_the_memory_and_leaves_both_out_without(qtbot, window, tmp_path):
    from sandbox.formats.agent_file import load_agent
    from ui.worker.commands import Save

    window.begin_run(CONFIG.with_changes(max_episodes=4))
    qtbot.waitUntil(lambda: window.session.config is not None and window.session.config.max_episodes == 4,
                    timeout=10_000)
    train_to_the_end(qtbot, window)
    for name, include in (("with.agent", True), ("without.agent", False)):
        with qtbot.waitSignal(window.worker.saved, timeout=20_000):
            window.command.emit(Save(str(tmp_path / name), include))
    loaded = load_agent(tmp_path / "with.agent")
    assert [c.episodes for c in loaded.timeline.checkpoints] == [0, 3, 4]
    assert load_agent(tmp_path / "without.agent").timeline is None
