"""The Tune view's place in the main window: a dock, shown by the window's `tune` action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt5.QtCore import QSize, Qt
from PyQt5.QtWidgets import QDockWidget

from sandbox.config import Config
from ui.tune_view import TuneView

if TYPE_CHECKING:
    from ui.main_window import MainWindow

DOCK_SIZE = QSize(1050, 560)


def install(window: MainWindow) -> TuneView:
    """Give the window a Tune dock, shown by its `tune` action: it floats at first (a search wants more room
    than the window's tabs have) and docks at the bottom when dragged there."""
    def apply(config: Config, doing: str) -> None:
        window.files.after_discard(doing, lambda: window.begin_run(config))

    view = TuneView(lambda: window.panel.config, apply)
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

    window.act_tune.triggered.connect(show)
    view.dock = dock
    return view
