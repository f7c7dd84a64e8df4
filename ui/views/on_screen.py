"""Whether a view can be seen now, and a call when it may have come into view.

Painting shares the GIL with training, so a view nobody can see (a tab not chosen, a minimised
window, one the window system reports fully covered) draws nothing: it keeps
its newest data and draws it when it comes into view. `ShowWatch` calls the view back at that moment,
before Qt paints it, so what appears is never the stale picture of an earlier moment.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import QEvent, QObject
from PyQt5.QtGui import QWindow
from PyQt5.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    """Shown (in the chosen tab too), in a window neither minimised nor unexposed."""
    if not widget.isVisible():
        return False
    top = widget.window()
    handle = top.windowHandle()
    return not top.isMinimized() and handle is not None and handle.isExposed()


class ShowWatch(QObject):
    """Calls `back` when `widget` is shown (a tab chosen, the window restored) or its window is exposed
    again (un-minimised, uncovered); the view then draws what it kept."""

    def __init__(self, widget: QWidget, back: Callable[[], None]) -> None:
        super().__init__(widget)
        self.widget, self.back = widget, back
        self.watched: QWindow | None = None  # the window the widget is in, once it has one
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if obj is self.widget and kind == QEvent.Show:
            self._watch_window()
            self.back()
        elif obj is self.watched and kind == QEvent.Expose and self.watched.isExposed():
            self.back()
        return False

    def _watch_window(self) -> None:
        """Follow the widget's window (it may be reparented into another before it is first shown)."""
        handle = self.widget.window().windowHandle()
        if handle is not self.watched:
            if self.watched is not None:
                self.watched.removeEventFilter(self)
            if handle is not None:
                handle.installEventFilter(self)
            self.watched = handle
