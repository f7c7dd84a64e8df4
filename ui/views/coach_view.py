"""The Diagnostics tab: the coach's hints, each with its evidence and one button per suggestion.

A button applies its change through the window's normal path (a live edit, with its marker on
the plots, or a new agent after the usual question), so nothing happens behind the user's back.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from sandbox.core.diagnostics import Hint, Suggestion
from ui import plain
from ui.plain import escape as esc

BUTTONS_PER_ROW = 2
COLORS = {"error": "#b00020", "warning": "#b35c00", "info": "#1565c0"}
QUIET = ("<b>Nothing looks wrong.</b> Hints appear here when a run stops learning: the goal never reached, "
         "exploration spent too early, too few gradient steps per env step, a plateau short of the threshold, a "
         "collapse after a peak, a diverging loss, a tiny replay memory, or Q-values far from the returns. Each "
         "names a change with its size; a button applies it.")


class CoachView(QWidget):
    apply_suggestion = pyqtSignal(object)  # Suggestion
    restore_best = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hints: list[Hint] = []
        self.buttons: list[QPushButton] = []
        self.inner = QWidget()
        self.column = QVBoxLayout(self.inner)
        self.column.setAlignment(Qt.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # text wraps to the width instead
        scroll.setWidget(self.inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_hints([])

    @property
    def text(self) -> str:
        """Everything the tab says, as plain text (for tests and the clipboard)."""
        return "\n".join(label.text() for label in self.inner.findChildren(QLabel))

    def show_hints(self, hints: list[Hint]) -> None:
        if hints == self.hints and self.column.count():
            return  # unchanged: keep the widgets (and the pointer's target) where they are
        self.hints = list(hints)
        while self.column.count():
            item = self.column.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons = []
        if not hints:
            self.column.addWidget(self._label(QUIET))
        for hint in hints:
            color = COLORS.get(hint.severity, "#333")
            self.column.addWidget(self._label(f"<b style='color:{color}'>{esc(hint.title)}</b><br>{esc(hint.detail)}"))
            buttons = [self._button(s) for s in hint.suggestions]
            if hint.offer_best:
                best = QPushButton("Restore best agent")
                best.setToolTip("Go back to the agent at its best, then apply a suggestion")
                best.clicked.connect(self.restore_best)
                buttons.append(best)
            for i in range(0, len(buttons), BUTTONS_PER_ROW):  # short rows: nothing runs off the right edge
                row = QHBoxLayout()
                row.setContentsMargins(0, 0, 0, 0)
                for button in buttons[i:i + BUTTONS_PER_ROW]:
                    row.addWidget(button)
                row.addStretch(1)
                holder = QWidget()
                holder.setLayout(row)
                self.column.addWidget(holder)

    def _button(self, suggestion: Suggestion) -> QPushButton:
        button = QPushButton(str(suggestion))
        how = "changes it now, leaving a marker on the plots" if suggestion.live else "starts a new agent with it"
        plain.tooltip(button, f"Set {suggestion.name} to {suggestion.value}: {how}")
        button.clicked.connect(lambda _checked=False, s=suggestion: self.apply_suggestion.emit(s))
        self.buttons.append(button)
        return button

    @staticmethod
    def _label(html: str) -> QLabel:
        """Our markup; every outside string in it went through `esc`."""
        label = plain.rich_label(html)
        label.setWordWrap(True)
        return label
