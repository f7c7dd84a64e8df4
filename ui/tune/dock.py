"""The Tune view's place in the main window: a dock, shown by the window's `tune` action.

It opens docked at the bottom, under the run (the run's views keep the height they need), and floats as
a window of its own from its title bar; floating, it is sized and placed to fit the screen it is on.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import QRect, QSize, Qt
from PyQt5.QtWidgets import QAction, QDockWidget, QMainWindow

from sandbox.core.config import Config
from ui.tune.view import TuneView

FLOAT_SIZE = QSize(1050, 560)  # as its own window, at most this (and never more than the screen)
DOCKED_SHARE = 0.36  # of the window's height, the first time it docks


def fit_floating(dock: QDockWidget) -> None:
    """As its own window: FLOAT_SIZE or the screen's available size if smaller, wholly on that screen."""
    screen = dock.screen().availableGeometry()
    size = FLOAT_SIZE.boundedTo(screen.size())
    dock.resize(size)
    frame = QRect(dock.pos(), size)
    dock.move(min(max(frame.left(), screen.left()), screen.right() - size.width() + 1),
              min(max(frame.top(), screen.top()), screen.bottom() - size.height() + 1))


def install(window: QMainWindow, action: QAction, base_config: Callable[[], Config],
            apply: Callable[[Config, str], object]) -> TuneView:
    """Give the window a Tune dock, shown by `action`. Trials start from `base_config()`; `apply(config,
    doing)` starts a new agent with a trial's config through the window's usual question."""
    view = TuneView(base_config, apply)
    dock = QDockWidget("Tune: hyperparameter search", window)
    dock.setObjectName("tune")
    dock.setWidget(view)
    window.addDockWidget(Qt.BottomDockWidgetArea, dock)
    dock.hide()
    dock.topLevelChanged.connect(lambda floating: fit_floating(dock) if floating else None)

    def show() -> None:
        view.refresh_base()
        if not view.running:
            view.load_names()
        dock.show()
        if not view.shown_once and not dock.isFloating():  # the first time: a good share of the height
            view.shown_once = True
            window.resizeDocks([dock], [int(window.height() * DOCKED_SHARE)], Qt.Vertical)
        dock.raise_()
        dock.activateWindow()

    action.triggered.connect(show)
    view.dock = dock
    return view
