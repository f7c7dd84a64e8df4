"""The questions the window asks: cancelling one puts back exactly what was running, and their
buttons carry mnemonics a keyboard user can press."""

from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtWidgets import QApplication, QMessageBox

from sandbox.app.session import State
from tests.ui.helpers import EpisodeCounter, settle
from ui import plain
from ui.plain import ask as real_ask  # bound before the autouse fixture patches plain.ask
from ui.worker.modes import Training


def test_cancel_on_the_close_question_lets_training_go_on(qtbot, window, monkeypatch):
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=30_000)
    seen = []
    monkeypatch.setattr(plain, "ask", lambda *a, **k: seen.append(window.worker.mode) or QMessageBox.Cancel)
    window.close()
    assert window.isVisible() and seen == [None]  # paused while asked
    qtbot.waitUntil(lambda: window.session.state == State.RUNNING, timeout=10_000)
    before = len(count)
    qtbot.waitUntil(lambda: len(count) > before, timeout=30_000)  # it trains on
    assert isinstance(window.worker.mode, Training) and not window.worker.mode.until_episode_end


def test_cancel_after_a_finished_episode_step_starts_nothing(qtbot, window, monkeypatch):
    """The E step ended before the question: Cancel must not turn it into full training."""
    count = EpisodeCounter(window)
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: len(count) == 1 and window.session.state == State.PAUSED, timeout=30_000)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Cancel)
    window.act_new.trigger()
    settle(qtbot, window)
    assert window.worker.mode is None and window.session.state == State.PAUSED
    assert window.worker.trainer.total_steps == 200


def test_cancel_during_an_episode_step_finishes_that_episode_only(qtbot, window, monkeypatch):
    count = EpisodeCounter(window)
    window.act_step.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.total_steps == 1)
    window.act_step_episode.trigger()  # queued before the question's pause: it is running when asked
    seen = []
    monkeypatch.setattr(plain, "ask", lambda *a, **k: seen.append(window.worker.mode) or QMessageBox.Cancel)
    window.session.unsaved = True
    window.act_new.trigger()
    qtbot.waitUntil(lambda: len(count) == 1 and window.session.state == State.PAUSED, timeout=30_000)
    settle(qtbot, window)
    assert seen == [None] and window.worker.trainer.total_steps == 200 and window.worker.mode is None


def answer_with_key(qtbot, key):
    """Press Alt+`key` on the question box once it is up; returns its buttons' texts (filled then)."""
    pressed = []

    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        pressed.append([b.text() for b in box.buttons()])
        box.activateWindow()
        qtbot.waitUntil(box.isActiveWindow)  # keys go to the active window, as a person's would
        qtbot.keyClick(QApplication.focusWidget(), key, Qt.AltModifier)
        QTimer.singleShot(2000, box.reject)  # the mnemonic clicks (animated, ~100 ms) or did nothing: never hang

    QTimer.singleShot(0, press)
    return pressed


def test_the_save_question_answers_discard_to_alt_d(qtbot, window):
    pressed = answer_with_key(qtbot, Qt.Key_D)
    answer = real_ask(window, "Save training?", "Save it before you close?",
                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
    assert answer == QMessageBox.Discard
    assert sorted(pressed[0]) == ["&Cancel", "&Discard", "&Save"]


def test_a_yes_no_question_answers_no_to_alt_n(qtbot, window):
    answer_with_key(qtbot, Qt.Key_N)
    assert real_ask(window, "Restore training?", "Restore it?", QMessageBox.Yes | QMessageBox.No,
                    QMessageBox.Yes) == QMessageBox.No
