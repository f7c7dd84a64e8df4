"""Starting the desktop app."""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt5.QtCore import QEvent, QTimer
from PyQt5.QtWidgets import QApplication, QWidget

ORGANIZATION = "RL Sandbox"
APPLICATION = "rl-sandbox"


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("RL Sandbox")
    return app


def dispose(window: QWidget) -> None:
    """Delete the window's C++ objects now, while QApplication still exists: left to Python's
    teardown at exit, pyqtgraph items can be destroyed after the app and crash the process."""
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def run_app(agent_file: Path | None = None) -> int:
    """Open the main window (and the given agent file, or offer crash recovery); returns the exit code."""
    app = make_application()
    from ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if agent_file is not None:
        window.cmd_load.emit(str(agent_file))
    else:
        QTimer.singleShot(0, lambda: window.recovery.pending() and window.offer_recovery())
    code = app.exec_()
    dispose(window)
    return code
