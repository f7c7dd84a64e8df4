"""Starting the desktop app."""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import PyQt5
from PyQt5.QtCore import QEvent, QTimer
from PyQt5.QtWidgets import QApplication, QWidget

from ui.settings import APPLICATION, ORGANIZATION


def make_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("RL Sandbox")
    return app


def dispose(window: QWidget) -> None:
    """Delete the window's C++ objects now, while QApplication still exists: left to Python's
    teardown at exit, pyqtgraph items can be destroyed after the app and crash the process."""
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)


XCB_PACKAGES = ("libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 "
                "libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0")


def display_problem() -> str | None:
    """Why Qt could not open a window here, or None. Checked before QApplication exists, because
    when its platform plugin fails Qt aborts the process with a message few users can act on."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, …: Qt's own business
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return None
    if not os.environ.get("DISPLAY"):
        return ("there is no display to open the window on (DISPLAY is not set). Run it in a desktop session, "
                "or use the headless commands: python main.py train|evaluate|screenshot")
    plugin = Path(PyQt5.__file__).parent / "Qt5" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        missing = str(exc).split(":")[0] if ".so" in str(exc) else str(exc)
        return (f"Qt's X11 plugin cannot load: {missing} is missing. On Debian or Ubuntu install the X11 "
                f"libraries Qt needs: sudo apt-get install {XCB_PACKAGES}")
    return None


def run_app(agent_file: Path | None = None) -> int:
    """Open the main window (and the given agent file, or offer crash recovery); returns the exit code."""
    problem = display_problem()
    if problem:
        print(f"error: cannot open the RL Sandbox window: {problem}", file=sys.stderr)
        return 2
    app = make_application()
    from ui.main_window import MainWindow
    from ui.worker.commands import Load

    window = MainWindow()
    window.show()
    if agent_file is not None:
        window.command.emit(Load(str(agent_file)))
    else:
        QTimer.singleShot(0, lambda: window.recovery.pending() and window.files.offer_recovery())
    code = app.exec_()
    dispose(window)
    window.settings.store.sync()
    # The window is closed and its worker stopped: nothing is left to save. Skip the interpreter's
    # teardown (torch, Qt and pyqtgraph modules), which on a busy machine kept the process alive for
    # seconds after its window had gone.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
