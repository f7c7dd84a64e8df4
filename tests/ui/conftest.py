"""Fixtures that build the real main window (offscreen) with a small, fast config."""

import json

import pytest
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QMessageBox

from tests.ui.helpers import quick_config
from ui import plain
from ui.main_window import MainWindow


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    s.setValue("run/config", json.dumps(quick_config().to_dict()))
    s.setValue("view/render", False)
    return s


def _unexpected_dialog(*args, **kwargs):
    raise AssertionError(f"unexpected modal dialog: {args[2] if len(args) > 2 else args}")


@pytest.fixture(autouse=True)
def no_blocking_dialogs(monkeypatch):
    """A real modal question would block the offscreen test run forever: fail instead.

    Tests that expect a question patch `ui.plain.ask` (every question the app asks) themselves.
    """
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, _unexpected_dialog)
    monkeypatch.setattr(plain, "ask", _unexpected_dialog)


@pytest.fixture
def window(qtbot, settings, monkeypatch, tmp_path):
    """The real main window. Not registered with qtbot.addWidget: pytest-qt would close it before
    this fixture clears the unsaved mark, and the close would ask a (blocking) question."""
    monkeypatch.setenv("RL_SANDBOX_DATA_DIR", str(tmp_path / "data"))
    w = MainWindow(settings)
    w.show()
    qtbot.waitUntil(lambda: w.session.config is not None, timeout=30_000)
    yield w
    w.session.forget_changes()
    w.close()
    assert w.worker_thread.isFinished()
