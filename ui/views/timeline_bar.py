"""The timeline under the plots: drag to any checkpoint of the run to see that agent (the map, its
Q-values and readouts, marked as the past) while training goes on, and branch a new run from there.

The slider's positions are the run's checkpoints (sandbox/formats/timeline.py) and, at its right
end, the present; the bar is one row across the window's bottom. Dragging only names the position;
releasing it (or a key) asks the worker for that checkpoint's agent, which comes back as a `Past`
and is shown by the window.
"""

from __future__ import annotations

import math

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QPushButton, QSlider, QWidget

from sandbox.formats.timeline import Checkpoint
from ui import format as fmt
from ui import plain


class TimelineBar(QWidget):
    show_past = pyqtSignal(object)  # the checkpoint's episode, or None for the present
    branch = pyqtSignal(int)  # the shown checkpoint's episode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkpoints: list[Checkpoint] = []
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setTracking(False)  # a drag asks for one agent, where it is released
        self.slider.setPageStep(1)
        self.slider.setToolTip("The run's timeline: its exact checkpoints (at every greedy evaluation and at least "
                               "every 20 episodes). Drag to one to see that agent; the right end is now")
        self.label = plain.label("")  # one short line: where the slider is (the map's banner says more)
        plain.tooltip(self.label, "The run's timeline: drag the slider to a checkpoint to see that agent; the "
                                  "right end is now")
        widest = max(("Now (1,000 checkpoints kept)", "The past: episode 10,000,000"),
                     key=self.label.fontMetrics().horizontalAdvance)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance(widest) + 4)  # the slider never jumps
        self.branch_button = QPushButton("&Branch here")
        self.branch_button.setToolTip("Start a new run from exactly this agent (its memory, optimizer and random "
                                      "states too): change a setting and train on. This run stays in the Runs tab")
        self.now_button = QPushButton("&Now")
        self.now_button.setToolTip("Back to now: show the agent being trained again")
        # One row across the window, under the plots and the views: the slider gets the width (a
        # checkpoint every few pixels) and the bar one line of height, docked Tune view or not.
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 2)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.branch_button)
        layout.addWidget(self.now_button)
        self.slider.sliderMoved.connect(self._name)
        self.slider.valueChanged.connect(self._chosen)
        self.branch_button.clicked.connect(self._branch)
        self.now_button.clicked.connect(lambda: self.slider.setValue(self.slider.maximum()))
        self.set_checkpoints([])

    @property
    def at_present(self) -> bool:
        return self.slider.value() >= len(self.checkpoints)

    def set_checkpoints(self, checkpoints: list[Checkpoint]) -> None:
        """The run's checkpoints now; the slider stays where it is (at the present, it follows it)."""
        present = self.at_present or not self.checkpoints or checkpoints[:1] != self.checkpoints[:1]
        self.checkpoints = list(checkpoints)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.checkpoints))
        if present:
            self.slider.setValue(len(self.checkpoints))
        self.slider.blockSignals(False)
        self.slider.setEnabled(bool(self.checkpoints))
        self._buttons()
        if self.at_present:
            self._name(self.slider.value())

    @staticmethod
    def readout(checkpoint: Checkpoint, score: float | None, greedy: float | None) -> str:
        """What the shown checkpoint's agent had done, in one sentence (its episode's score and greedy
        evaluation, if any), for the map's banner."""
        parts = [f"episode {fmt.count(checkpoint.episodes)}", fmt.plural(checkpoint.steps, "step")]
        if score is not None:
            parts.append(f"last score {score:.0f}")
        if greedy is not None and not math.isnan(greedy):
            parts.append(f"greedy {greedy:.1f}")
        return "The past: the agent at " + " · ".join(parts) + " (not the one training)"

    def _name(self, position: int) -> None:
        if position >= len(self.checkpoints):
            kept = fmt.plural(len(self.checkpoints), "checkpoint")
            self.label.setText(f"Now ({kept} kept)" if self.checkpoints else "Timeline")
        else:
            self.label.setText(f"The past: episode {fmt.count(self.checkpoints[position].episodes)}")

    def _chosen(self, position: int) -> None:
        self._buttons()
        if position >= len(self.checkpoints):
            self._name(position)
            self.show_past.emit(None)
        else:
            self._name(position)
            self.show_past.emit(self.checkpoints[position].episodes)

    def _branch(self) -> None:
        if not self.at_present:
            self.branch.emit(self.checkpoints[self.slider.value()].episodes)

    def _buttons(self) -> None:
        past = not self.at_present
        self.branch_button.setEnabled(past)
        self.now_button.setEnabled(past)
