"""The Tune view's place in the main window: a dock, shown by the window's `tune` action."""

from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import QSize, Qt
from PyQt5.QtWidgets import QAction, QDockWidget, QMainWindow

from sandbox.core.config import Config
from ui.tune.view import TuneView

DOCK_SIZE = QSize(1050, 560)


def install(window: QMainWindow, action: QAction, base_config: Callable[[], Config],
            apply: Callable[[Config, str], object]) -> TuneView:
    """Give the window a Tune dock, shown by `action`: it floats at first (a search wants more room than
    the window's tabs have) and docks at the bottom when dragged there. Trials start from `base_config()`;
    `apply(config, doing)` starts a new agent with a trial's config through the window's usual question."""
    view = TuneView(base_config, apply)
    dock = QDockWidget("Tune: hyperparameter search", window)
    dock.setObjectName("tune")
    dock.setWidget(view)
    window.addDockWidget(Qt.BottomDockWidgetArea, dock)
    dock.hide()

    def show() -> None:
        view.refresh_base()
        if not view.running:
            view.load_names()
        if not dock.isVisible() and not view.shown_once:  # floats the first time (afterwards where the user left it)
            view.shown_once = True
            dock.setFloating(True)
            dock.resize(DOCK_SIZE)
        dock.show()
        dock.raise_()
        dock.activateWindow()

    action.triggered.connect(show)
    view.dock = dock
    return view
