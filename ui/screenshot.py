"""`python main.py screenshot OUT.png`: the real main window, optionally after training, as a PNG."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PyQt5.QtWidgets import QApplication

from sandbox.app.session import State
from sandbox.core.config import load_preset
from sandbox.io.files import check_output, shown_path
from ui.settings import MemoryStore


def wait_until(app: QApplication, condition, timeout: float) -> bool:
    """Process events until `condition()` holds or `timeout` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def take_screenshot(out: Path, episodes: int, size: tuple[int, int], preset: str | None,
                    timeout: float = 900.0) -> int:
    """Build the window offscreen (unless a display is set), train `episodes` through the real worker, save."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.app import dispose, make_application
    from ui.main_window import MainWindow

    out = check_output(out, "screenshot")  # before any work: a folder, a FIFO, /dev/… is one line
    app = make_application()
    window = MainWindow(MemoryStore())  # the user's settings are neither read nor changed, and nothing is left
    window.resize(*size)
    window.show()
    if not wait_until(app, lambda: window.session.config is not None, 60):
        print("error: the agent was not created in time", file=sys.stderr)
        return 1
    if preset:
        window.panel.select_preset(preset)
        window.begin_run(load_preset(preset))
        wait_until(app, lambda: window.session.config == load_preset(preset), 60)
    if episodes:
        window.start()
        reached = wait_until(app, lambda: len(window.plots.scores) >= episodes or window.session.finished, timeout)
        window.pause()
        wait_until(app, lambda: window.session.state is not State.RUNNING, 10)
        if not reached:
            print(f"warning: stopped after {len(window.plots.scores)} episodes (timeout)", file=sys.stderr)
    # Let the last frame, status and redraws land (the plots settle on the tick after a change).
    wait_until(app, lambda: False, 0.5)
    ok = window.grab().save(str(out), "PNG")
    window.session.forget_changes()  # a screenshot's training is not the user's: close without asking
    window.close()
    episodes = len(window.plots.scores)
    dispose(window)
    if not ok:
        print(f"error: cannot write {shown_path(out)}", file=sys.stderr)
        return 1
    print(f"saved {shown_path(out)} ({size[0]}x{size[1]}, {episodes} episodes)")
    return 0
