"""The toolbar's one Start/Resume/Pause button: it shows whichever of the two actions can be used now.

Start and Pause are never both of use (Space is each one's shortcut for the same reason), so the
toolbar gives them one place, as wide as its widest text: no button beside it shifts when Start
becomes Resume or Pause, and the toolbar keeps every button on a laptop's 1024 px.
"""

from __future__ import annotations

from PyQt5.QtWidgets import QAction, QToolButton, QWidget

TEXTS = ("Start", "Resume", "Pause")


class PlayButton(QToolButton):
    def __init__(self, start: QAction, pause: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start, self.pause = start, pause
        self.setDefaultAction(start)
        self.setAutoRaise(True)  # flat, as the toolbar's own buttons
        metrics = self.fontMetrics()
        self.setMinimumWidth(self.sizeHint().width() - metrics.horizontalAdvance(self.text())
                             + max(metrics.horizontalAdvance(text) for text in TEXTS))
        for action in (start, pause):
            action.changed.connect(self.follow)
        self.follow()

    def follow(self) -> None:
        """Show Pause while it can be used, else Start (or Resume)."""
        wanted, shown = self.pause if self.pause.isEnabled() else self.start, self.defaultAction()
        if shown is not wanted:
            self.setDefaultAction(wanted)
            self.removeAction(shown)  # one action: a button of two would show a menu arrow
