"""File ▸ Load TensorBoard log… in the real window: an SB3 run becomes a ghost, named and described plainly,
that outlives a new run; a damaged log is said in one line and the button comes back; names from outside
are shown as text, never as markup."""

from pathlib import Path

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFileDialog

from tests.tb_logs import event_file, record, scalar_event, write_sb3_log
from ui.views.runs_view import MAX_TICKED_ON_LOAD


def legend_names(window):
    return [label.text for _, label in window.plots.legend.items]


def pick(monkeypatch, folder: Path) -> None:
    """The folder dialog answers with `folder` (a real dialog would block the offscreen run)."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))


def test_an_sb3_log_loads_as_a_ghost_from_the_file_menu_and_stays_for_the_next_run(qtbot, window, monkeypatch,
                                                                                  tmp_path):
    write_sb3_log(tmp_path / "sb3", episodes=40, length=200)
    pick(monkeypatch, tmp_path / "sb3")
    view = window.runs_view
    with qtbot.waitSignal(view.log_loaded, timeout=30_000) as loaded:
        window.act_load_log.trigger()
    assert loaded.args[0].startswith("Loaded 1 ghost from the TensorBoard log")
    assert window.statusBar().currentMessage() == loaded.args[0]
    assert window.tabs.currentWidget() is view
    assert "DQN_1: rollout/ep_rew_mean, episodes estimated (ghost)" in legend_names(window)
    (item,) = window.plots.ghosts
    x, y = item.getData()
    assert x.tolist() == [4.0 * i for i in range(1, 11)] and y[0] == -197.5  # at estimated episodes 4, 8, …
    (row,) = [view.list.item(i) for i in range(view.list.count())]
    assert row.text() == "DQN_1: rollout/ep_rew_mean, episodes estimated — from a TensorBoard log"
    assert row.checkState() == Qt.Checked and "estimated" in row.toolTip()
    assert view.load_button.isEnabled() and view.ticked() == []  # a log is no run of ours: no config to compare
    view.untick_all()  # what a new run does to the runs ticked for the one before
    assert len(window.plots.ghosts) == 1  # the log was loaded to compare with whatever runs next
    row.setCheckState(Qt.Unchecked)
    assert window.plots.ghosts == []
    assert not any("DQN_1" in name for name in legend_names(window))


def test_a_damaged_log_is_said_in_one_line_and_the_button_comes_back(qtbot, window, monkeypatch, tmp_path):
    path = event_file(tmp_path / "log" / "run", record(scalar_event("charts/episodic_return", 1.0, 1)))
    path.write_bytes(path.read_bytes()[:-2])
    pick(monkeypatch, tmp_path / "log")
    view = window.runs_view
    with qtbot.waitSignal(view.log_failed, timeout=30_000) as failed:
        view.load_button.click()
    assert "\n" not in failed.args[0] and "truncated" in failed.args[0]
    assert window.error_box is not None and window.error_box.isVisible()
    assert "truncated" in window.error_box.informativeText()
    assert view.load_button.isEnabled() and view.list.count() == 0 and window.plots.ghosts == []


def test_a_logs_folder_names_are_shown_as_text_never_as_markup(qtbot, window, monkeypatch, tmp_path):
    logs = tmp_path / "logs"
    for i in range(MAX_TICKED_ON_LOAD + 1):
        event_file(logs / f"<img src=/dev/zero>{i}", record(scalar_event("charts/episodic_return", float(i), 1)))
    pick(monkeypatch, logs)
    view = window.runs_view
    with qtbot.waitSignal(view.log_loaded, timeout=30_000):
        view.load_button.click()
    rows = [view.list.item(i) for i in range(view.list.count())]
    assert [row.text() for row in rows] == [f"<img src=/dev/zero>{i}: charts/episodic_return — from a TensorBoard "
                                            "log" for i in range(MAX_TICKED_ON_LOAD + 1)]  # item texts are plain
    assert [row.checkState() for row in rows] == [Qt.Checked] * MAX_TICKED_ON_LOAD + [Qt.Unchecked]
    assert all("&lt;img" in row.toolTip() and "<img" not in row.toolTip() for row in rows)
    ghosts = [name for name in legend_names(window) if "(ghost)" in name]
    assert len(ghosts) == MAX_TICKED_ON_LOAD
    assert all(name.startswith("&lt;img src=/dev/zero&gt;") for name in ghosts)  # the legend is rich text


def test_a_second_load_while_one_is_read_is_refused_and_the_first_goes_on(qtbot, window, monkeypatch, tmp_path):
    write_sb3_log(tmp_path / "sb3")
    pick(monkeypatch, tmp_path / "other")
    view = window.runs_view
    with qtbot.waitSignal(view.log_loaded, timeout=30_000):
        view.load_log(tmp_path / "sb3")  # its outcome comes back through the event loop, so it is still busy…
        with qtbot.waitSignal(view.log_failed) as failed:
            window.act_load_log.trigger()  # …when File ▸ Load asks for another
        assert "being read already" in failed.args[0] and not view.load_button.isEnabled()
    assert view.load_button.isEnabled() and len(window.plots.ghosts) == 1
