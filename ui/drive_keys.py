"""The arrow keys while the user drives: an event filter on the window that turns them into actions
through the env's profile (which key pushes which way, and what releasing does)."""

from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtCore import QEvent, QObject, Qt
from PyQt5.QtGui import QKeyEvent

from sandbox.app.session import Session, State
from sandbox.core.env_profiles import profile

ARROWS: dict[int, str] = {Qt.Key_Left: "Left", Qt.Key_Right: "Right", Qt.Key_Up: "Up"}


class DriveKeys(QObject):
    def __init__(self, session: Session, send: Callable[[int], None], parent: QObject) -> None:
        super().__init__(parent)
        self.session, self.send = session, send

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.KeyPress, QEvent.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        spec = self.session.spec
        if self.session.state != State.HUMAN or spec is None or event.key() not in ARROWS:
            return False
        pressed = event.type() == QEvent.KeyPress
        action = profile(spec.env_id, spec.n_actions).key_action(ARROWS[event.key()], pressed)
        if action is None:
            return False
        if not event.isAutoRepeat():
            self.send(action)
        return True
