"""The Explain tab: "explain this update", one stored transition's learning target taken apart.

Step (S) shows the transition it just stored; the buttons show the newest one again or one drawn at
random from the replay memory, as a learning step would sample it. Every term is a number on
screen: r, γ^h, Q_online(s′, ·) and the action it picks, Q_target(s′, ·), both rules' targets and
their difference (Double DQN's correction), Q_online(s, a), the TD error and the loss term. The
worker computes it (`sandbox.core.explain`) from the nets as they are: the run is not changed.
"""

from __future__ import annotations

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from sandbox.app.session import Session
from sandbox.core.env_profiles import profile
from sandbox.core.explain import UpdateExplained, describe
from ui import plain

EMPTY = ("Press Step (S) to store a transition and see its learning target taken apart, or press a button below "
         "once the replay memory holds transitions.")


class UpdateView(QWidget):
    """Shows an `UpdateExplained` as plain text; asks for one with `requested(sample)`."""

    requested = pyqtSignal(bool)  # True: a random stored transition; False: the newest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown: UpdateExplained | None = None
        self.action_names: tuple[str, ...] | None = None
        intro = plain.label("What one learning step moves Q_online(s, a) toward: the TD target, every number of it.")
        intro.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.text.setPlainText(EMPTY)
        self.newest = QPushButton("&Newest transition")
        self.sample = QPushButton("A &random one")
        plain.tooltip(self.newest, "The transition the agent stored last (Step stores one).")
        plain.tooltip(self.sample, "A transition drawn uniformly from the replay memory, as a learning step samples "
                                   "its batch (drawn apart from the run's random streams: the run is unchanged).")
        self.newest.clicked.connect(lambda: self.requested.emit(False))
        self.sample.clicked.connect(lambda: self.requested.emit(True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.newest)
        buttons.addWidget(self.sample)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)

    def bind(self, session: Session) -> None:
        """A new run clears what was explained (it was another agent's)."""
        session.began.connect(lambda snap: self.clear(profile(snap.spec.env_id, snap.spec.n_actions).action_names))

    def clear(self, action_names: tuple[str, ...] | None = None) -> None:
        self.shown, self.action_names = None, action_names
        self.text.setPlainText(EMPTY)

    def show_update(self, explained: UpdateExplained) -> None:
        self.shown = explained
        self.text.setPlainText("\n\n".join(describe(explained, self.action_names)))
