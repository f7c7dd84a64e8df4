"""A tab whose content scrolls when the tab is shorter than it needs (a docked Tune view on a laptop
leaves the tabs little height), so no tab's minimum makes the window taller than the screen."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QScrollArea, QVBoxLayout, QWidget


def scroll_inside(tab: QWidget, content: QWidget) -> None:
    """Make `content` the whole of `tab`, in a vertical scroll area (never a sideways one: texts wrap)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(content)
    outer = QVBoxLayout(tab)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
