"""The live render of the env and, when stepping, what the agent saw and did."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QSize, Qt
from PyQt5.QtGui import QImage, QPixmap
from PyQt5.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from sandbox.core.env_profiles import EnvProfile, profile
from ui import plain, wrapped_height
from ui.views.car_view import MountainCarView
from ui.wrapped_height import keep_wrapped_height

HINT = "Step through training (S) to see the state, the action and each action's Q-value."


def frame_to_image(frame: np.ndarray) -> QImage:
    """An RGB uint8 (H, W, 3) array as a QImage that owns its pixels."""
    frame = np.ascontiguousarray(frame)
    h, w, _ = frame.shape
    return QImage(frame.tobytes(), w, h, 3 * w, QImage.Format_RGB888).copy()


class FrameLabel(QLabel):
    """Shows the latest frame scaled to fit, keeping its aspect ratio."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.PlainText)
        self.setAlignment(Qt.AlignCenter)
        self.setWordWrap(True)  # the hint in place of a frame wraps in a narrow column instead of being cut
        self.setMinimumSize(240, 120)  # the car stays readable under a docked Tune view on a laptop
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setStyleSheet("background: #ffffff; border: 1px solid #ccc;")
        self._image: QImage | None = None
        self.frames_shown = 0

    def show_frame(self, frame: np.ndarray) -> None:
        self._image = frame_to_image(frame)
        self.frames_shown += 1
        self._rescale()

    def clear_frame(self, text: str) -> None:
        self._image = None
        self.clear()
        self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def sizeHint(self) -> QSize:
        return QSize(600, 400)

    def _rescale(self) -> None:
        if self._image is not None:
            pixmap = QPixmap.fromImage(self._image)
            self.setPixmap(pixmap.scaled(self.size() - QSize(2, 2), Qt.KeepAspectRatio, Qt.SmoothTransformation))


class RenderView(QWidget):
    """The frame plus a one-glance readout of the last step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame = FrameLabel()
        self.car = MountainCarView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.frame)
        self.stack.addWidget(self.car)
        self.details = plain.rich_label(HINT)
        keep_wrapped_height(self.details)  # a narrow column gives the picture less, never cuts the readout
        self.details.setStyleSheet("font-family: monospace; padding: 4px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.details)
        self.profile = profile("", 0)

    def _show_details(self, html: str) -> None:
        self.details.setText(html)
        wrapped_height.fit(self.details)

    def set_profile(self, env: EnvProfile, trained: bool = False) -> None:
        """A new run (maybe on another env): nothing of the old run's picture or readout stays; the hint
        says Resume for a run that has trained already (opened, restored), as the toolbar does."""
        self.profile = env
        self._show_details(HINT)
        self.car.clear()
        verb = "resume" if trained else "start"
        self.clear(f"Press Space to {verb} training, S to take one step, X to watch a random policy.")

    def show_frame(self, frame: np.ndarray) -> None:
        """An env's own picture, RGB (H, W, 3)."""
        self.frame.show_frame(frame)
        self.stack.setCurrentWidget(self.frame)

    def show_state(self, state: np.ndarray) -> None:
        """An observation of an env the window draws itself (MountainCar)."""
        self.car.show_state(state)
        self.stack.setCurrentWidget(self.car)

    def clear(self, text: str) -> None:
        self.frame.clear_frame(text)
        self.stack.setCurrentWidget(self.frame)

    def show_step(self, state: np.ndarray, action: int, reward: float, q_values: np.ndarray | None,
                  title: str = "step") -> None:
        name = self.profile.action_name
        if q_values is None:
            qs = "(a random policy has no Q-values)"
        else:
            best = int(np.argmax(q_values))
            qs = "  ".join((f"<b>Q[{name(i)}]={q:.3f}</b>" if i == best else f"Q[{name(i)}]={q:.3f}")
                           for i, q in enumerate(q_values))
        state_text = ", ".join(f"{v:.4f}" for v in state)
        self._show_details(f"<b>{title}</b> state [{state_text}] → action {name(action)}, "
                             f"reward {reward:g}<br>{qs}")
