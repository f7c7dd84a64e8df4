"""MountainCar drawn from its state by Qt itself: crisp at any size, and nearly free.

The env's own renderer (pygame) costs ~2 ms a frame in the training thread plus an image copy and
rescale in the GUI thread; drawing the hill, flag and car from (position, velocity) costs neither.
They are items of a graphics scene in the env's own 600 × 400 frame, which the view scales to fit:
a frame (30 a second while training) only moves and tilts the car item, and Qt paints it in C++
without calling back into Python, so the painting does not hold the GIL that training needs (a
Python `paintEvent` would, for as long as it paints).
"""

from __future__ import annotations

import math

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSize, Qt
from PyQt5.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF
from PyQt5.QtWidgets import (
    QFrame,
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QSizePolicy,
    QWidget,
)

from sandbox.core.env_profiles import mountain_car

_CAR = mountain_car()  # the env's own constants
MIN_X, MAX_X, GOAL_X = _CAR.min_position, _CAR.max_position, _CAR.goal_position
WORLD_W, VIEW_H = 600.0, 400.0  # the env's own frame size: the drawing keeps its proportions
SCALE = WORLD_W / (MAX_X - MIN_X)  # frame pixels per unit of position


def hill(x: float) -> float:
    return float(np.sin(3 * x) * 0.45 + 0.55)


def on_frame(x: float) -> QPointF:
    """The point of the hill at position `x`, in the frame (y downwards, as on screen)."""
    return QPointF((x - MIN_X) * SCALE, VIEW_H - hill(x) * SCALE)


class MountainCarView(QGraphicsView):
    """The hill, the flag and the car at the given position; `states_shown` counts updates."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 120)  # as the frame view: the car stays readable under a docked Tune view
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setRenderHint(QPainter.Antialiasing)
        self.setBackgroundBrush(Qt.white)
        self.position: float | None = None
        self.states_shown = 0
        scene = QGraphicsScene(0, 0, WORLD_W, VIEW_H, self)
        self.setScene(scene)
        line = QPen(QColor(60, 60, 60), 2)
        line.setCosmetic(True)  # 2 px at any size
        outline = QPainterPath()
        outline.addPolygon(QPolygonF([on_frame(x) for x in np.linspace(MIN_X, MAX_X, 100)]))
        scene.addPath(outline, line)
        base = on_frame(GOAL_X)
        top = QPointF(base.x(), base.y() - 50)
        scene.addLine(base.x(), base.y(), top.x(), top.y(), line)
        scene.addPolygon(QPolygonF([top, QPointF(top.x() + 25, top.y() + 5), QPointF(top.x(), top.y() + 10)]),
                         QPen(Qt.NoPen), QBrush(QColor(204, 204, 0)))
        body = QPainterPath()
        body.addRoundedRect(QRectF(-20, -25, 40, 20), 3, 3)
        self.car = QGraphicsPathItem(body)
        self.car.setPen(QPen(Qt.NoPen))
        self.car.setBrush(QColor(20, 20, 20))
        for wheel_x in (-12, 12):
            wheel = QGraphicsEllipseItem(wheel_x - 5, -10, 10, 10, self.car)
            wheel.setPen(QPen(Qt.NoPen))
            wheel.setBrush(QColor(128, 128, 128))
        self.car.setVisible(False)
        scene.addItem(self.car)

    def sizeHint(self) -> QSize:
        return QSize(600, 400)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fitInView(self.sceneRect(), Qt.KeepAspectRatio)

    def show_state(self, state: np.ndarray) -> None:
        x = self.position = float(state[0])
        self.states_shown += 1
        self.car.setPos(on_frame(x))
        self.car.setRotation(-math.degrees(math.cos(3 * x)))  # the env tilts the car by cos(3x) radians
        self.car.setVisible(True)

    def clear(self) -> None:
        self.position = None
        self.car.setVisible(False)
