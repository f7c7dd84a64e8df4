"""MountainCar drawn from its state with QPainter: crisp at any size, and nearly free.

The env's own renderer (pygame) costs ~2 ms a frame in the training thread plus an image copy and
rescale in the GUI thread; drawing the hill, flag and car from (position, velocity) costs neither.
The hill and the flag are drawn once per widget size into a pixmap; a frame (30 a second while
training) copies it and draws the car: painting holds the GIL that training needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPixmap, QPolygonF
from PyQt5.QtWidgets import QSizePolicy, QWidget

from sandbox.core.env_profiles import mountain_car

_CAR = mountain_car()  # the env's own constants
MIN_X, MAX_X, GOAL_X = _CAR.min_position, _CAR.max_position, _CAR.goal_position
WORLD_W, VIEW_H = 600.0, 400.0  # the env's own frame size: the drawing keeps its proportions


def hill(x: float) -> float:
    return float(np.sin(3 * x) * 0.45 + 0.55)


class MountainCarView(QWidget):
    """The hill, the flag and the car at the given position; `states_shown` counts updates."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 120)  # as the frame view: the car stays readable under a docked Tune view
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.position: float | None = None
        self.states_shown = 0
        xs = np.linspace(MIN_X, MAX_X, 100)
        self._hill = [(x, float(hill(x))) for x in xs]
        self._scenery: tuple[QSize, QPixmap] | None = None  # the hill and the flag, and the size drawn for

    def sizeHint(self) -> QSize:
        return QSize(600, 400)

    def show_state(self, state: np.ndarray) -> None:
        self.position = float(state[0])
        self.states_shown += 1
        self.update()

    def clear(self) -> None:
        self.position = None
        self.update()

    def paintEvent(self, event) -> None:
        scale_px = min(self.width() / WORLD_W, self.height() / VIEW_H)
        ox = (self.width() - WORLD_W * scale_px) / 2
        oy = (self.height() + VIEW_H * scale_px) / 2  # bottom of the drawing area
        world = WORLD_W / (MAX_X - MIN_X)  # env pixels per unit of position

        def to_screen(x: float, y_px: float) -> QPointF:
            return QPointF(ox + (x - MIN_X) * world * scale_px, oy - y_px * scale_px)

        if self._scenery is None or self._scenery[0] != self.size():
            self._scenery = (self.size(), self._draw_scenery(to_screen, scale_px, world))
        p = QPainter(self)
        p.drawPixmap(0, 0, self._scenery[1])
        if self.position is None:
            return
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        x = self.position
        base = to_screen(x, hill(x) * world)
        p.translate(base)
        p.rotate(-math.degrees(math.cos(3 * x)))  # the env tilts the car by cos(3x) radians
        s = scale_px
        body = QPainterPath()
        body.addRoundedRect(QRectF(-20 * s, -25 * s, 40 * s, 20 * s), 3 * s, 3 * s)
        p.fillPath(body, QColor(20, 20, 20))
        p.setBrush(QColor(128, 128, 128))
        for wheel_x in (-12 * s, 12 * s):
            p.drawEllipse(QPointF(wheel_x, -5 * s), 5 * s, 5 * s)

    def _draw_scenery(self, to_screen: Callable[[float, float], QPointF], scale_px: float, world: float) -> QPixmap:
        """The hill and the flag at this size, drawn once: each frame then only copies it and adds the car."""
        ratio = self.devicePixelRatioF()  # sharp on a high-density screen too
        pixmap = QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.white)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(QPen(QColor(60, 60, 60), 2))
        p.drawPolyline(QPolygonF([to_screen(x, y * world) for x, y in self._hill]))
        flag_base = to_screen(GOAL_X, hill(GOAL_X) * world)
        pole_top = QPointF(flag_base.x(), flag_base.y() - 50 * scale_px)
        p.drawLine(flag_base, pole_top)
        p.setBrush(QBrush(QColor(204, 204, 0)))
        p.setPen(Qt.NoPen)
        p.drawPolygon(QPolygonF([pole_top, QPointF(pole_top.x() + 25 * scale_px, pole_top.y() + 5 * scale_px),
                                 QPointF(pole_top.x(), pole_top.y() + 10 * scale_px)]))
        p.end()
        return pixmap
