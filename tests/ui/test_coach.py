"""The coach in the window: its buttons apply exactly their change, through the normal paths."""

from PyQt5.QtWidgets import QMessageBox

from sandbox.app.session import State
from sandbox.core.diagnostics import Suggestion
from tests.ui.helpers import settle
from ui import plain


def test_a_suggestion_that_needs_a_new_agent_starts_one_with_exactly_that_change(qtbot, window, monkeypatch):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED and window.worker.trainer.total_steps == 200,
                    timeout=30_000)
    qtbot.waitUntil(lambda: any(h.key == "memory_tiny" for h in window.diagnostics.hints), timeout=30_000)
    before = window.session.config
    asked = []
    monkeypatch.setattr(plain, "ask", lambda *a, **k: asked.append(a[2]) or QMessageBox.Discard)
    button = next(b for b in window.diagnostics.buttons if b.text().startswith("memory_capacity"))
    assert button.text() == "memory_capacity 500 → 50,000"
    button.click()
    qtbot.waitUntil(lambda: window.session.config.memory_capacity == 50_000, timeout=10_000)
    assert before.diff(window.session.config) == {"memory_capacity": (500, 50_000)}
    assert asked and "memory_capacity 500 → 50,000" in asked[0]  # the unsaved run was not dropped silently
    assert window.worker.trainer.total_steps == 0 and window.panel.config.memory_capacity == 50_000


def test_a_live_suggestion_is_a_live_edit_with_its_marker(qtbot, window):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED and window.worker.trainer.total_steps == 200,
                    timeout=30_000)
    window.apply_suggestion(Suggestion("update_interval", 2, 1))
    qtbot.waitUntil(lambda: window.worker.trainer.config.update_interval == 1, timeout=10_000)
    settle(qtbot, window)
    assert [(e.name, e.new) for e in window.session.history.edits] == [("update_interval", 1)]
    assert "update_interval → 1" in window.plots.markers[0].label.textItem.toPlainText()
    assert window.panel.editors["update_interval"].text() == "1" and window.worker.trainer.total_steps == 200


def test_a_run_ends_unsolved_keeps_its_hints_in_the_runs_list(qtbot, window):
    window.begin_run(window.session.config.with_changes(max_episodes=2))
    qtbot.waitUntil(lambda: window.session.config.max_episodes == 2, timeout=10_000)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: any(h.key == "not_solved" for h in window.diagnostics.hints), timeout=60_000)
    hint = next(h for h in window.diagnostics.hints if h.key == "not_solved")
    assert hint.title == "Not solved: best -200.0 vs -110"
    window.begin_run(window.session.config.with_changes(max_episodes=3))
    qtbot.waitUntil(lambda: window.runs_view.list.count() >= 1, timeout=10_000)
    item = window.runs_view.list.item(window.runs_view.list.count() - 1)
    assert "Not solved: best -200.0 vs -110" in item.toolTip()
