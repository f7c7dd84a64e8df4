"""Small things a person reads: counts in their number's form ("1 step"), a speed that holds still while
nothing trains, and a Help menu with a quick start and the presets' own descriptions."""

from PyQt5.QtWidgets import QMessageBox

from sandbox.app.session import State
from sandbox.core.config import preset_description, preset_names
from tests.ui.helpers import quick_config, settle


def test_one_step_reads_1_step(qtbot, window):
    window.act_step.trigger()
    settle(qtbot, window)
    qtbot.waitUntil(lambda: window.status_fields.text("steps") == "1 step")


def test_the_speed_holds_still_while_paused(qtbot, window):
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.status_fields.text("speed") not in ("", "— steps/s"), timeout=20_000)
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state == State.PAUSED)
    settle(qtbot, window)
    shown = window.status_fields.text("speed")
    steps = window.session.status.total_steps
    for _ in range(5):
        window.act_step.trigger()
    qtbot.waitUntil(lambda: window.session.status.total_steps == steps + 5)
    settle(qtbot, window)
    assert window.status_fields.text("speed") == shown
    window.session.forget_changes()
    window.begin_run(quick_config(seed=9))  # a new run has no rate yet: not the last run's
    qtbot.waitUntil(lambda: window.session.status.total_steps == 0)
    settle(qtbot, window)
    assert window.status_fields.text("speed") == "— steps/s"


def test_help_has_a_quick_start_and_each_presets_description_from_its_file(qtbot, window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert [a.text() for a in help_menu.actions()][:2] == ["&Quick start", "&Presets"]
    window.act_quick_start.trigger()
    box = window.help_box
    assert isinstance(box, QMessageBox) and box.isVisible() and not box.isModal()
    assert 6 <= box.informativeText().count("\n\n") + 1 <= 8
    box.close()
    window.act_presets.trigger()
    text = window.help_box.informativeText()
    for name in preset_names():
        assert preset_description(name) and f"{name}: {preset_description(name)}" in text
    window.help_box.close()
