"""The Explain tab: "explain this update", one stored transition's learning target taken apart.

Step (S) shows the transition it just stored; the buttons show the newest one again or one drawn at
random from the replay memory, as a learning step would sample it; a heading says which. With n-step
returns the first transition is stored only after n Steps, and the empty tab says so. Every term is a number on
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
from ui import format as fmt
from ui import plain
from ui.views.scrolled import scroll_inside

EMPTY = ("Press Step (S) to store a transition and see its learning target taken apart, or press a button below "
         "once the replay memory holds transitions.")


def empty_text(n_step: int) -> str:
    """What the tab says before the memory holds a transition: with n-step returns, when it will."""
    if n_step <= 1:
        return EMPTY
    return (f"{EMPTY}\n\nWith n step = {n_step}, a transition spans {n_step} env steps: the first is stored after "
            f"{n_step} Steps.")


class UpdateView(QWidget):
    """Shows an `UpdateExplained` as plain text; asks for one with `requested(sample)`."""

    requested = pyqtSignal(bool)  # True: a random stored transition; False: the newest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown: UpdateExplained | None = None
        self.action_names: tuple[str, ...] | None = None
        self.session: Session | None = None
        self.random_asked = False  # the next explanation is the random one asked for
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
        self.newest.clicked.connect(lambda: self._ask(False))
        self.sample.clicked.connect(lambda: self._ask(True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.newest)
        buttons.addWidget(self.sample)
        buttons.addStretch(1)
        inner = QWidget()  # shorter than its text and buttons need, the tab scrolls
        layout = QVBoxLayout(inner)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        scroll_inside(self, inner)

    def bind(self, session: Session) -> None:
        """A new run clears what was explained (it was another agent's)."""
        self.session = session
        session.began.connect(lambda snap: self.clear(profile(snap.spec.env_id, snap.spec.n_actions).action_names,
                                                      snap.config.n_step))

    def clear(self, action_names: tuple[str, ...] | None = None, n_step: int = 1) -> None:
        self.shown, self.action_names, self.random_asked = None, action_names, False
        self.text.setPlainText(empty_text(n_step))

    def _ask(self, sample: bool) -> None:
        self.random_asked = sample
        self.requested.emit(sample)

    def show_update(self, explained: UpdateExplained) -> None:
        self.shown = explained
        status = self.session.status if self.session is not None else None
        if self.random_asked and status is not None:
            heading = f"Drawn at random from the {fmt.plural(status.memory_size, 'transition')} in the replay memory"
        else:
            heading = "Drawn at random from the replay memory" if self.random_asked else "The newest stored transition"
        self.random_asked = False
        self.text.setPlainText("\n\n".join([heading, *describe(explained, self.action_names)]))
