"""See inside the agent: the policy and value map, or the Q-values as bars.

The map sits in a tab: while another tab is chosen (or the window is minimised) it keeps the newest
map, line and Q-values it was given and draws them when it comes into view (`ui/views/on_screen.py`):
painting shares the GIL with training.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtWidgets import QCheckBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from sandbox.app.policy_map import PolicyMap
from sandbox.core.env_profiles import EnvProfile
from ui import plain
from ui.views.on_screen import ShowWatch, on_screen
from ui.views.plots import fixed_labels, small_ticks

TICK_ROOM = 6  # px for tick labels that grow with the data after the map was laid out
ACTION_COLORS = [(31, 119, 180), (190, 190, 190), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def policy_image(policy: np.ndarray) -> np.ndarray:
    """Greedy actions [iy, ix] as an RGB image indexed [ix, iy] (pyqtgraph's column-major order)."""
    colors = np.array(ACTION_COLORS * (1 + policy.max() // len(ACTION_COLORS)), dtype=np.uint8)
    return colors[policy].transpose(1, 0, 2)


class MapView(QWidget):
    """Value (max Q) or memory coverage, and the greedy policy, over position × velocity, with the
    trajectory on top; bars of the current Q-values for envs without a 2-D map."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.coverage_box = QCheckBox("Show memory coverage")
        self.coverage_box.setToolTip("Show the replay memory's coverage instead of the value: where the agent's "
                                     "remembered states lie (log scale); it can only learn about places it has been")
        self.note = plain.label("")
        self.note.setWordWrap(True)
        self.past_note = plain.label("")  # a checkpoint's agent is shown, not the one training
        self.past_note.setWordWrap(True)
        self.past_note.setStyleSheet("background: #ffe8a8; color: #4a3800; padding: 3px;")
        self.past_note.hide()
        self.inner = QWidget()
        layout = QVBoxLayout(self.inner)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.past_note)
        layout.addWidget(self.graphics, 1)
        self.legend = plain.rich_label("")
        self.legend.setWordWrap(True)
        layout.addWidget(self.legend)
        layout.addWidget(self.coverage_box)
        layout.addWidget(self.note)
        # Shorter than the maps and their texts need (a docked Tune view on a laptop), the tab scrolls.
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QScrollArea.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.area.setWidget(self.inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.area)

        self.value_plot = self.graphics.addPlot(row=0, col=0, title="Value (max Q)")
        self.policy_plot = self.graphics.addPlot(row=0, col=1, title="Greedy action")
        self.value_image, self.policy_image = pg.ImageItem(), pg.ImageItem()
        self.value_image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.value_bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=10)
        self.value_bar.setImageItem(self.value_image, insert_in=self.value_plot)
        self.trajectories: list[pg.PlotDataItem] = []
        self.goal_lines: list[pg.InfiniteLine] = []
        for plot, image in ((self.value_plot, self.value_image), (self.policy_plot, self.policy_image)):
            plot.addItem(image)
            plot.setLabel("bottom", "position")
            plot.setLabel("left", "velocity")
            plot.setMouseEnabled(False, False)
            small_ticks(plot)
            fixed_labels(plot)
            trajectory = pg.PlotDataItem(pen=pg.mkPen("w", width=2), symbol=None)
            plot.addItem(trajectory)
            self.trajectories.append(trajectory)
            goal = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((255, 215, 0), width=2, style=Qt.DashLine),
                                   label="goal", labelOpts={"position": 0.95, "color": (160, 130, 0)})
            goal.setVisible(False)
            plot.addItem(goal, ignoreBounds=True)
            self.goal_lines.append(goal)
        self.policy_plot.hideAxis("left")  # the same velocity axis as the value map's, just beside it
        self.policy_plot.setYLink(self.value_plot)
        self.bars_plot = self.graphics.addPlot(row=1, col=0, colspan=2, title="Q-values of the current state")
        self.bars_plot.setLabel("bottom", "action")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush=pg.mkBrush(31, 119, 180))
        self.bars_plot.addItem(self.bars)
        self.bars_plot.hide()
        self.map: PolicyMap | None = None
        self.counts: np.ndarray | None = None
        self.keep_room()
        self.coverage_box.toggled.connect(lambda _on: self._later("map", self._draw_map))
        self.env_id = ""
        self.has_map = True
        self._waiting: dict[str, Callable[[], None]] = {}  # the newest drawing of each kind, until in view
        self._watch = ShowWatch(self, self._catch_up)

    def set_env(self, env: EnvProfile, reason: str | None, n_actions: int) -> None:
        """Switch between the map and the Q bars for a new run (maybe on another env)."""
        self.env_id = env.env_id
        has_map = reason is None
        for item in (self.value_plot, self.policy_plot):
            item.setVisible(has_map)
        self.coverage_box.setVisible(has_map)
        self.bars_plot.setVisible(not has_map)
        self.has_map = has_map
        self.note.setText(reason or "")
        for line in self.goal_lines:
            line.setVisible(has_map and env.goal is not None)
            if env.goal is not None:
                line.setValue(env.goal)
        names = [env.action_name(a) for a in range(n_actions)]
        self.bars_plot.getAxis("bottom").setTicks([list(enumerate(names))])
        self.bars.setOpts(x=[], height=[])
        self.bars_plot.setXRange(-0.6, n_actions - 0.4, padding=0)  # this env's slots, before its first Q-values
        self.bars_plot.setYRange(-1, 1, padding=0)
        self.legend.setText("Greedy action: " + " ".join(
            f"<span style='color:rgb{ACTION_COLORS[a % len(ACTION_COLORS)]}'>■</span> {plain.escape(name)}"
            for a, name in enumerate(names)))
        self.legend.setVisible(has_map)
        self.keep_room()
        self.map, self.counts = None, None
        self._waiting.clear()  # the old run's pictures are never drawn
        self.value_image.clear()
        self.policy_image.clear()
        for t in self.trajectories:
            t.setData([], [])

    def set_past(self, text: str | None) -> None:
        """Mark what the view shows as the past (a timeline checkpoint's agent), or as the present (None)."""
        self.past_note.setText(text or "")
        self.past_note.setVisible(text is not None)
        self.keep_room()

    def keep_room(self) -> None:
        """The room the maps need: side by side (narrower, they would run off the right edge; their axes'
        ticks change with the data), which the splitter keeps; and the height of the maps and of the
        legend and note wrapped to the width (a splitter knows nothing of wrapping), which the tab
        scrolls to when it is shorter."""
        minimum = self.graphics.ci.effectiveSizeHint(Qt.MinimumSize)
        bar = self.area.verticalScrollBar().sizeHint().width()
        width = math.ceil(minimum.width()) + 2 * self.graphics.frameWidth() + TICK_ROOM + bar
        inner = self.width() - bar  # the inner widget may not have been resized yet
        shown = [w for w in (self.past_note, self.legend, self.coverage_box, self.note) if not w.isHidden()]
        height = math.ceil(minimum.height()) + 2 * self.graphics.frameWidth() + sum(
            w.heightForWidth(inner) if isinstance(w, QLabel) else w.sizeHint().height() for w in shown)
        height += self.inner.layout().spacing() * len(shown)
        if width != self.minimumWidth():
            self.setMinimumWidth(width)
        if height != self.inner.minimumHeight():
            self.inner.setMinimumHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.keep_room()

    def _later(self, kind: str, draw: Callable[[], None]) -> None:
        """Draw now if the view can be seen; else keep it (the newest of its kind) for when it can."""
        self._waiting[kind] = draw
        self._catch_up()

    def _catch_up(self) -> None:
        if self._waiting and on_screen(self):
            waiting, self._waiting = self._waiting, {}
            for draw in waiting.values():
                draw()

    def show_map(self, m: PolicyMap, counts: np.ndarray | None) -> None:
        self.map, self.counts = m, counts
        self._later("map", self._draw_map)

    def _draw_map(self) -> None:
        m = self.map
        if m is None:
            return
        dx, dy = m.xs[1] - m.xs[0], m.ys[1] - m.ys[0]
        self._rect = QRectF(m.xs[0] - dx / 2, m.ys[0] - dy / 2, dx * len(m.xs), dy * len(m.ys))
        self.policy_image.setImage(policy_image(m.policy), autoLevels=False, levels=(0, 255))
        self.policy_image.setRect(self._rect)  # after setImage: the rect scales the image it has
        self._draw_value()

    def show_trajectory(self, states: np.ndarray, what: str = "the current (or last) training episode") -> None:
        """Draw `states` as the white line; the caption says what it is, or that there is none yet."""
        self._later("trajectory", lambda: self._draw_trajectory(states, what))

    def _draw_trajectory(self, states: np.ndarray, what: str) -> None:
        x, y = (states[:, 0], states[:, 1]) if len(states) else ([], [])
        for t in self.trajectories:
            t.setData(x, y)
        if self.has_map:
            self.note.setText("The map is refreshed every two seconds while training; " + (
                f"the white line is {what}." if len(states) else
                "no episode has run since this agent was made or restored, so there is no white line yet."))

    def show_q(self, q_values: np.ndarray) -> None:
        """Bars from zero to each action's Q; the axis follows the values (Q is often far from 0–1)."""
        self._later("q", lambda: self._draw_q(q_values))

    def _draw_q(self, q_values: np.ndarray) -> None:
        self.bars.setOpts(x=np.arange(len(q_values)), height=q_values)
        low, high = min(0.0, float(q_values.min())), max(0.0, float(q_values.max()))
        pad = 0.1 * (high - low) or 1.0
        self.bars_plot.setYRange(low - pad, high + pad, padding=0)
        self.bars_plot.setXRange(-0.6, len(q_values) - 0.4, padding=0)

    def _draw_value(self) -> None:
        m = self.map
        if m is None:
            return
        if self.coverage_box.isChecked() and self.counts is not None:
            data = np.log1p(self.counts).T
            self.value_plot.setTitle("Memory coverage (log)")  # as short as the value's title: nothing clips
        else:
            data = m.value.T
            self.value_plot.setTitle("Value (max Q)")
        low, high = float(data.min()), float(data.max())
        self.value_image.setImage(data, autoLevels=False)
        self.value_image.setRect(self._rect)
        self.value_bar.setLevels((low, high if high > low else low + 1e-6))
        self.keep_room()
