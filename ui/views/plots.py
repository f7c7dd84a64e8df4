"""Live training plots: score with moving average, threshold and solve point; loss per update; epsilon.

Curves are created once and fed with `setData` from growing numpy buffers; a timer redraws at
most every 400 ms (painting shares the GIL with training, so fewer redraws mean faster training).
A curve is given at most two points per pixel column, each column's minimum and maximum
(`ui/views/envelope.py`, kept between redraws and extended by the new points), so it draws every
extreme of 10,000 episodes and 1,000,000 updates for the cost of a few hundred points; only a curve
whose data, width or zoom changed is given new points; and nothing is drawn while the plots cannot be
seen (a minimised window): they catch up the moment they come into view (`ui/views/on_screen.py`).

Each plot keeps MIN_PLOT_HEIGHT px of data area: a short column (a laptop, the Tune dock docked under
the run) scrolls, the score plot first, rather than squash the three plots to slivers. The legend names
only what is drawn (a mark appears in it with its first point), so on a narrow column it is a few rows.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QApplication, QFrame, QScrollArea, QVBoxLayout, QWidget

from sandbox.app.ghosts import Ghost
from sandbox.app.session import Session
from sandbox.core.trainer import EpisodeStats, History, LiveEdit
from sandbox.io.files import check_output
from ui import plain
from ui.views.envelope import Envelope, slice_indices
from ui.views.on_screen import ShowWatch, on_screen

REDRAW_MS = 400
TICK_SCALE = 0.85  # tick numbers' size, of the application font's
SCORE_COLOR = (150, 160, 175)
AVERAGE_COLOR = (31, 119, 180)
LOSS_COLOR = (214, 39, 40)
EPSILON_COLOR = (44, 160, 44)
MARKER_COLOR = (200, 120, 0)
MIN_WIDTH = 240  # the plot column's narrowest: axes, ticks and a few episodes still readable
MIN_PLOT_HEIGHT = 120  # each plot's data area (its viewbox) at the least; the column scrolls below that
LEGEND_MARGIN = 6  # px between the legend and each side of the plot column (the layout's margin and a little)
GHOST_COLORS = [(31, 119, 180, 70), (214, 39, 40, 70), (44, 160, 44, 70), (148, 103, 189, 70), (140, 86, 75, 70)]


class Series:
    """An append-only float array with amortised O(1) appends and a view of the filled part."""

    def __init__(self, dtype: type = np.float64, capacity: int = 1024) -> None:
        self._data: np.ndarray = np.empty(capacity, dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, values: np.ndarray | list[float]) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self._n + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : need] = values
        self._n = need

    def clear(self) -> None:
        self._n = 0

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._n]


def small_ticks(plot: pg.PlotItem) -> None:
    """Tick numbers a little smaller than the text around them, as plots usually have: narrow columns
    keep room for the data."""
    font = QFont(QApplication.font())
    font.setPointSizeF(max(7.0, font.pointSizeF() * TICK_SCALE))
    for name in ("left", "bottom", "right"):
        plot.getAxis(name).setStyle(tickFont=font)


def fixed_labels(plot: pg.PlotItem) -> None:
    """Axis labels without an SI prefix: with one, every range change (each redraw of a growing run)
    rebuilds each axis's label as rich text, the hidden top and right axes' too."""
    for name in ("left", "bottom", "right", "top"):
        plot.getAxis(name).enableAutoSIPrefix(False)


def _plot(layout: pg.GraphicsLayoutWidget, row: int, title: str, x_label: str, y_label: str) -> pg.PlotItem:
    plot = layout.addPlot(row=row, col=0, title=title)
    small_ticks(plot)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    fixed_labels(plot)
    plot.getViewBox().setMinimumHeight(MIN_PLOT_HEIGHT)
    return plot


class TrainingPlots(QWidget):
    """Score, loss and epsilon plots of the current run (and markers for live parameter edits)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.ci.setContentsMargins(2, 2, 2, 2)  # the room goes to the plots (and a scroll bar)
        self.layout_widget.ci.setSpacing(4)
        self.scroll_area = QScrollArea()  # scrolls only when the column is shorter than the plots' minimum
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the legend and axes fit the width
        self.scroll_area.setWidget(self.layout_widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)
        self.setMinimumWidth(MIN_WIDTH)
        self.layout_widget.sigDeviceRangeChanged.connect(lambda *_: self.fit_legend())  # the view was resized
        self._build_score_plot()
        self.loss_plot = _plot(self.layout_widget, 2, "Loss per update", "learning update", "loss")
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen(LOSS_COLOR, width=1))
        self.epsilon_plot = _plot(self.layout_widget, 3, "Exploration (epsilon)", "episode", "epsilon")
        self.epsilon_curve = self.epsilon_plot.plot(pen=pg.mkPen(EPSILON_COLOR, width=2))
        # Not X-linked to the score plot though both count episodes: a pyqtgraph link turns the follower's
        # auto-range off whenever either plot is resized, and the score plot then froze mid-run.

        self.episodes = Series(np.int64)
        self.scores = Series()
        self.averages = Series()
        self.epsilons = Series()
        self.losses = Series(np.float32)
        # Each curve, its plot and its series (x None: the update count, 1, 2, …), decimated by its envelope.
        self.lines = [Line(self.score_curve, self.score_plot, self.episodes, self.scores),
                      Line(self.average_curve, self.score_plot, self.episodes, self.averages),
                      Line(self.epsilon_curve, self.epsilon_plot, self.episodes, self.epsilons),
                      Line(self.loss_curve, self.loss_plot, None, self.losses)]
        for plot in (self.score_plot, self.epsilon_plot, self.loss_plot):
            box = plot.getViewBox()
            box.sigXRangeChanged.connect(self._view_moved)  # a zoom or pan: the visible slice, decimated afresh
            box.sigResized.connect(self._view_moved)  # a new width: as many points as it has columns
            box.sigStateChanged.connect(self._view_moved)  # auto-range back on: the whole series again
        self.markers: list[pg.InfiniteLine] = []
        self.solved_at: tuple[int, float] | None = None
        self.best: tuple[int, float] | None = None  # (1-based episode, moving average) of the kept best agent
        # What the marks show: (greedy points, the solved mark, the best mark).
        self._marks_drawn: tuple[int, tuple[int, float] | None, tuple[int, float] | None] = (0, None, None)
        self._dirty = False
        self._watch = ShowWatch(self, self.redraw)  # come into view: drawn at once, before it is painted
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    def _build_score_plot(self) -> None:
        """The score plot with its marks (threshold, solved, best, greedy, yours, random) and the legend."""
        # The legend gets its own strip above the plots, where it can never hide a curve.
        self.legend = pg.LegendItem(colCount=4, horSpacing=4, verSpacing=-4)
        self.layout_widget.addItem(self.legend, row=0, col=0)
        self.score_plot = _plot(self.layout_widget, 1, "Score per episode", "episode", "score")
        self.score_curve = self.score_plot.plot(pen=pg.mkPen(SCORE_COLOR, width=1), name="score")
        self.average_curve = self.score_plot.plot(pen=pg.mkPen(AVERAGE_COLOR, width=2.5), name="moving avg")
        threshold_pen = pg.mkPen((0, 150, 0), width=1.5, style=Qt.DashLine)
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False, pen=threshold_pen)
        self.threshold_line.setVisible(False)
        self.score_plot.addItem(self.threshold_line)  # in the auto-range: the goal is always in view
        # Named in the legend, not on the line, where the solved star and the curves would cover its label.
        self.threshold_sample = pg.PlotDataItem(pen=threshold_pen, name="solve threshold")
        self.solved_point = pg.ScatterPlotItem(symbol="star", size=18, brush=pg.mkBrush(255, 200, 0),
                                               pen=pg.mkPen("k"), name="solved")
        self.solved_point.setZValue(10)  # above the best-agent dot, which often sits at the same point
        self.score_plot.addItem(self.solved_point)
        self.human_points = pg.ScatterPlotItem(symbol="d", size=13, brush=pg.mkBrush(255, 140, 0),
                                               pen=pg.mkPen("k"), name="you")
        self.score_plot.addItem(self.human_points)
        self.random_points = pg.ScatterPlotItem(symbol="x", size=12, brush=pg.mkBrush(90, 90, 90),
                                                pen=pg.mkPen((90, 90, 90), width=2), name="random")
        self.score_plot.addItem(self.random_points)
        # The random policy's mean: the line a DQN must beat (a lesson's baseline plays 100 episodes).
        self.random_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen((90, 90, 90), width=1.5,
                                                                                 style=Qt.DotLine))
        self.random_line.setVisible(False)
        self.score_plot.addItem(self.random_line)
        self.human_scores: list[tuple[float, float]] = []
        self.random_scores: list[tuple[float, float]] = []
        self.greedy_points = pg.ScatterPlotItem(symbol="s", size=8, brush=pg.mkBrush(0, 150, 0),
                                                pen=pg.mkPen("w", width=1), name="greedy eval")
        self.score_plot.addItem(self.greedy_points)
        self.greedy: list[tuple[float, float]] = []  # (episode, greedy mean) of the solve rule's evaluations
        self.ghost_runs: list[Ghost] = []
        self.ghosts: list[pg.PlotDataItem] = []
        self.bands: list[pg.GraphicsObject] = []
        # The timeline checkpoint the map shows (the bar under the plots): where it lies on the run.
        self.past_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((200, 140, 0), width=2),
                                         label="shown", labelOpts={"position": 0.06, "color": (160, 100, 0)})
        self.past_line.setVisible(False)
        self.score_plot.addItem(self.past_line, ignoreBounds=True)
        self.best_point = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush(31, 119, 180),
                                             pen=pg.mkPen("w", width=1.5), name="best kept")
        self.score_plot.addItem(self.best_point)

        # What the legend may name, in its order; `_sync_legend` shows those drawn (ghosts and a band follow).
        self.legend_names: dict[pg.GraphicsObject, str] = {
            item: item.opts["name"] for item in (self.score_curve, self.average_curve, self.threshold_sample,
                                                 self.greedy_points, self.solved_point, self.best_point,
                                                 self.human_points, self.random_points)}
        self._sync_legend()

    def _drawn(self, item: pg.GraphicsObject) -> bool:
        if item is self.threshold_sample:
            return self.threshold_line.isVisible()
        return len(item.data) > 0 if isinstance(item, pg.ScatterPlotItem) else True

    def _sync_legend(self) -> None:
        """The legend names what the plot draws, in `legend_names`' order."""
        wanted = [(item, name) for item, name in self.legend_names.items() if self._drawn(item)]
        if wanted != [(sample.item, label.text) for sample, label in self.legend.items]:
            self.legend.clear()
            for item, name in wanted:
                self.legend.addItem(item, name)
            self.fit_legend()

    def fit_legend(self) -> None:
        """As many legend columns as the plot column's width holds (at most 4): a narrow column gets
        more rows, and no entry runs off the right edge."""
        room = self.layout_widget.viewport().width() - 2 * LEGEND_MARGIN
        before = self.legend.columnCount
        for columns in range(min(4, max(1, len(self.legend.items))), 0, -1):
            self.legend.setColumnCount(columns)
            if self.legend.layout.effectiveSizeHint(Qt.PreferredSize).width() <= room:
                break
        if self.legend.columnCount != before:  # a wider legend had widened the scene: back to the view's width
            self.legend.updateGeometry()
            self.layout_widget.ci.setGeometry(self.layout_widget.range)
        # Narrower than its plots' axes and titles need, the scene would run off the right edge; shorter
        # than the legend and the plots' data areas need, it scrolls.
        minimum = self.layout_widget.ci.effectiveSizeHint(Qt.MinimumSize)
        need = max(MIN_WIDTH, math.ceil(minimum.width()) + 2 + self.scroll_area.verticalScrollBar().sizeHint().width())
        if need != self.minimumWidth():
            self.setMinimumWidth(need)
        if math.ceil(minimum.height()) + 2 != self.layout_widget.minimumHeight():
            self.layout_widget.setMinimumHeight(math.ceil(minimum.height()) + 2)

    # --- data in -----------------------------------------------------------------------
    def bind(self, session: Session) -> None:
        """Draw the session's run: it begins, grows, is edited, gets a best mark, a watched random or
        human episode, a seed band."""
        session.began.connect(lambda snap: self.reset(snap.history, snap.threshold))
        session.episodes_added.connect(self.add_episodes)
        session.losses_added.connect(self.add_losses)

        def edited(edits: list[LiveEdit]) -> None:
            for edit in edits:
                self.add_edit(edit)
            self.set_threshold(session.threshold)

        session.edits_applied.connect(edited)
        session.best_changed.connect(
            lambda best: self.set_best(None if best is None else best.episode + 1,
                                       None if best is None else best.value))
        session.watch_result_added.connect(
            lambda r: (self.add_random if r.kind == "random" else self.add_human)(r.episodes, r.score))
        session.band_changed.connect(self.set_band)

    def mark_past(self, episodes: int | None) -> None:
        """Mark where the shown timeline checkpoint lies (after `episodes` episodes), or nothing (None)."""
        self.past_line.setVisible(episodes is not None)
        if episodes is not None:
            self.past_line.setValue(episodes)

    def reset(self, history: History, threshold: float | None) -> None:
        """Show a new run: its history so far, its threshold, its edit markers."""
        self.mark_past(None)
        for series in (self.episodes, self.scores, self.averages, self.epsilons, self.losses):
            series.clear()
        for line in self.lines:
            line.reset()
        self._marks_drawn = (-1, None, None)
        for plot in (self.score_plot, self.epsilon_plot):
            for marker in self.markers:
                if marker in plot.items:
                    plot.removeItem(marker)
        self.markers.clear()
        self.solved_at = None
        self.set_best(None, None)
        for scores, points in ((self.human_scores, self.human_points), (self.random_scores, self.random_points),
                               (self.greedy, self.greedy_points)):
            scores.clear()
            points.setData([], [])
        self.random_line.setVisible(False)
        self.set_threshold(threshold)
        self.add_episodes(history.episodes)
        self.add_losses(np.frombuffer(history.losses, dtype=np.float32))
        for edit in history.edits:
            self.add_edit(edit)
        self._dirty = True  # even with no episodes: the old run's curves must go
        self.redraw()
        empty = not history.episodes
        low, high = sorted((0.0, threshold if threshold is not None else 1.0))
        high = max(high, low + 1.0)  # a threshold of 0 would make an empty range, which keeps the old one
        for plot, y_range, no_data in ((self.score_plot, (low, high), empty), (self.epsilon_plot, (0, 1), empty),
                                       (self.loss_plot, (0, 1), not history.losses)):
            plot.enableAutoRange()  # nor may the old run's axis ranges stay: with nothing to fit, a fresh view
            if no_data:
                plot.getViewBox().setRange(xRange=(0, 10), yRange=y_range, disableAutoRange=False)

    def set_threshold(self, threshold: float | None) -> None:
        self.threshold_line.setVisible(threshold is not None)
        self._legend_text(self.threshold_sample, "solve threshold" if threshold is None else
                          f"solve threshold {threshold:g}")
        if threshold is not None:
            self.threshold_line.setValue(threshold)
        self._sync_legend()

    def _legend_text(self, item: pg.GraphicsObject, text: str) -> None:
        self.legend_names[item] = text
        label = self.legend.getLabel(item)
        if label is not None and label.text != text:
            label.setText(text)

    def add_episodes(self, episodes: list[EpisodeStats]) -> None:
        if not episodes:
            return
        self.episodes.extend([e.index + 1 for e in episodes])
        self.scores.extend([e.score for e in episodes])
        self.averages.extend([e.moving_average for e in episodes])
        self.epsilons.extend([e.epsilon for e in episodes])
        self.greedy.extend((e.index + 1, e.greedy_mean) for e in episodes if e.evaluated)
        solved = next((e for e in episodes if e.solved), None)
        if solved is not None and self.solved_at is None:
            self.solved_at = (solved.index + 1, solved.greedy_mean if solved.evaluated else solved.moving_average)
        self._dirty = True

    def add_losses(self, losses: np.ndarray) -> None:
        if len(losses):
            self.losses.extend(losses)
            self._dirty = True

    def add_edit(self, edit: LiveEdit) -> None:
        """A labelled vertical marker at the episode where a parameter changed."""
        text = f"{edit.name} → {_short(edit.new)}"
        for plot in (self.score_plot, self.epsilon_plot):
            line = pg.InfiniteLine(pos=edit.episode + 0.5, angle=90, movable=False,
                                   pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.DotLine),
                                   label=text if plot is self.score_plot else None,
                                   labelOpts={"position": 0.9, "color": MARKER_COLOR, "rotateAxis": (1, 0)})
            plain.tooltip(line, f"episode {edit.episode}, step {edit.total_steps}: {edit.name} {edit.old} → {edit.new}")
            plot.addItem(line, ignoreBounds=True)
            self.markers.append(line)

    def set_best(self, episode: int | None, moving_average: float | None) -> None:
        """Mark where the kept best agent was taken (1-based episode), or clear the mark: with the next
        redraw (early in a run the best changes several times a second; each mark drawn at once would
        paint the plots once more)."""
        self.best = None if episode is None or moving_average is None else (episode, moving_average)
        self._dirty = True

    def add_human(self, episodes_done: int, score: float) -> None:
        """A human's score, placed at the training episode it was played after."""
        self.human_scores.append((episodes_done + 0.5, score))
        self.human_points.setData(*zip(*self.human_scores, strict=True))
        self._sync_legend()

    def add_random(self, episodes_done: int, score: float) -> None:
        """The random policy's score: the baseline the agent must beat."""
        self.random_scores.append((episodes_done + 0.5, score))
        self.random_points.setData(*zip(*self.random_scores, strict=True))
        self.random_line.setValue(float(np.mean([s for _, s in self.random_scores])))
        self.random_line.setVisible(True)
        self._sync_legend()

    def set_ghosts(self, ghosts: list[Ghost]) -> None:
        """Earlier runs' moving averages (or a TensorBoard log's returns), faint behind the current run, each
        named in the legend. They never set the axes: the current run does (a ghost of 1,000 episodes
        would squash a run of 50 into the left edge)."""
        for item in self.ghosts:
            self.score_plot.removeItem(item)
            del self.legend_names[item]
        self.ghosts = []
        self.ghost_runs = list(ghosts)
        for i, ghost in enumerate(ghosts):
            color = GHOST_COLORS[i % len(GHOST_COLORS)]
            item = pg.PlotDataItem(ghost.episodes, ghost.values, pen=pg.mkPen(color, width=2))
            item.setZValue(-10)
            plain.tooltip(item, ghost.description)
            self.score_plot.addItem(item, ignoreBounds=True)
            self.legend_names[item] = plain.escape(f"{ghost.name} (ghost)")  # a legend label is rich text
            self.ghosts.append(item)
        self._sync_legend()
        self._dirty = True  # the axes fit the current run again

    def set_band(self, band: tuple[np.ndarray, np.ndarray, np.ndarray, str] | None) -> None:
        """Mean ± std of several seeds' moving averages, (x, mean, std, label); None clears it."""
        for item in self.bands:
            self.score_plot.removeItem(item)
            self.legend_names.pop(item, None)
        self.bands = []
        if band is None:
            self._sync_legend()
            return
        x, mean, std, label = band
        upper = pg.PlotDataItem(x, mean + std, pen=pg.mkPen(None))
        lower = pg.PlotDataItem(x, mean - std, pen=pg.mkPen(None))
        fill = pg.FillBetweenItem(upper, lower, brush=pg.mkBrush(148, 103, 189, 60))
        line = pg.PlotDataItem(x, mean, pen=pg.mkPen((148, 103, 189), width=2, style=Qt.DashLine), name=label)
        for item in (upper, lower, fill, line):
            item.setZValue(-5)
            self.score_plot.addItem(item)
            self.bands.append(item)
        self.legend_names[line] = label
        self._sync_legend()

    def export(self, path: str) -> None:
        """The three plots as PNG (at twice the screen size) or SVG, chosen by the suffix."""
        from pyqtgraph import exporters

        suffix = Path(path).suffix.lower()
        if suffix == ".png":
            exporter = exporters.ImageExporter(self.layout_widget.ci)
            exporter.parameters()["width"] = int(2 * self.layout_widget.width())
        elif suffix == ".svg":
            exporter = exporters.SVGExporter(self.layout_widget.ci)
        else:
            raise ValueError(f"{Path(path).name}: plots export to .png or .svg")
        exporter.export(str(check_output(path, "plot image")))
        if not Path(path).is_file():
            raise OSError(f"could not write {path}")

    def set_loss_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.loss_plot.getAxis("left").setStyle(maxTickLevel=0 if on else 1)  # log ticks: decades only, no overlap

    # --- drawing -----------------------------------------------------------------------
    def _view_moved(self, *_args: object) -> None:
        self._dirty = True

    def redraw(self) -> None:
        """Push what changed to the curves and marks, if the plots can be seen (else they wait for it)."""
        if not self._dirty or not on_screen(self):
            return
        self._dirty = False
        for line in self.lines:
            line.draw()
        marks = (len(self.greedy), self.solved_at, self.best)
        if marks != self._marks_drawn:
            self._marks_drawn = marks
            self.greedy_points.setData(*(zip(*self.greedy, strict=True) if self.greedy else ([], [])))
            for item, point in ((self.solved_point, self.solved_at), (self.best_point, self.best)):
                item.setData(*(([point[0]], [point[1]]) if point else ([], [])))
        self._legend_text(self.solved_point, f"solved at episode {self.solved_at[0]:,}" if self.solved_at else
                          "solved")  # the solve stays told for the whole run
        self._sync_legend()
        # The views fit their new data now, not while painting: a range changed during a paint (the axes
        # with it) would ask for a second paint of the plots right after the first.
        self.layout_widget.scene().prepareForPaint()


class Line:
    """One curve of a growing series, given at most two points per pixel column of its plot: all the
    series in a view that follows the data (its envelope, extended by the new points), the visible
    slice in a zoomed one. A curve is given new points only when its data, width or zoom changed."""

    def __init__(self, curve: pg.PlotDataItem, plot: pg.PlotItem, x: Series | None, y: Series) -> None:
        self.curve, self.plot, self.x, self.y = curve, plot, x, y
        self.envelope = Envelope()
        self._shown: tuple | None = None  # (points, columns, x range or None) of what the curve has

    def reset(self) -> None:
        self.envelope.reset()
        self._shown = None

    def draw(self) -> None:
        box = self.plot.getViewBox()
        columns = max(1, int(box.width()))
        follows = bool(box.autoRangeEnabled()[0])
        x_range = None if follows else tuple(box.viewRange()[0])
        shown = (len(self.y), columns, x_range)
        if shown == self._shown:
            return
        self._shown = shown
        y = self.y.values
        if x_range is None:
            index = self.envelope.indices(y, columns)
        else:
            left, right = x_range
            if self.x is None:  # update k is at x = k + 1
                start, stop = math.floor(left) - 1, math.ceil(right)
            else:
                start = int(np.searchsorted(self.x.values, left))
                stop = int(np.searchsorted(self.x.values, right, side="right"))
            index = slice_indices(y, max(0, start), max(0, stop), columns)
        self.curve.setData(index + 1 if self.x is None else self.x.values[index], y[index])


def _short(value: object) -> str:
    if isinstance(value, float) and value != 0 and not math.isnan(value):
        return f"{value:.3g}"
    return str(value)
