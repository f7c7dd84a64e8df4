"""A word-wrapped label that keeps the height of its wrapped lines wherever it is laid out.

Qt's layouts give a wrapping label the height its width needs only in a top-level layout; inside a
splitter or a scroll area's widget it can be squeezed to one line and cut. Here the label's minimum
height follows its width (and its text, when `fit` is called after setText), so a short pane scrolls
or gives room elsewhere instead.
"""

from __future__ import annotations

from PyQt5.QtCore import QEvent, QObject
from PyQt5.QtWidgets import QLabel


class _Keeper(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Resize and isinstance(watched, QLabel):
            fit(watched)
        return False


def fit(label: QLabel) -> None:
    """Set the label's minimum height to what its text needs at its width."""
    need = label.heightForWidth(label.width())
    if need > 0 and need != label.minimumHeight():
        label.setMinimumHeight(need)


def keep_wrapped_height(label: QLabel) -> None:
    """Make `label` wrap and keep the height of its lines from now on."""
    label.setWordWrap(True)
    label.installEventFilter(_Keeper(label))
    fit(label)
