"""The Tune view's parts: the table of fields to search, the threads that run a search (and poll its
trials) or read stored studies, and small formatters (which show stored values as bounded, escaped
text: another machine or an attacker wrote them)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import Qt, QThread, pyqtSignal
from PyQt5.QtWidgets import QHeaderView, QSpinBox, QTableWidget, QTableWidgetItem

from sandbox.core.config import ConfigError
from sandbox.io.text import cut, escaped, line
from sandbox.tune.results import SearchRun, TrialRow
from sandbox.tune.space import DEFAULT_PARAMS, Dist, build_space, default_dist, tunable
from ui import format as fmt
from ui import plain

POLL_SECONDS = 0.3  # how often the poller reads the study's trials
MAX_CELL = 40  # characters of a stored value in a table cell (its tooltip shows up to MAX_TIP)
MAX_TIP = 2000


def range_text(dist: Dist) -> str:
    """A distribution as its editable text: `low..high` or `a,b`."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)

    if dist.kind == "categorical":
        return ",".join(text(c) for c in dist.choices)
    return f"{text(dist.low)}..{text(dist.high)}"


def counts_text(rows: list[TrialRow]) -> str:
    """"3 complete, 1 pruned, 0 failed": how a study's trials ended."""
    return ", ".join(f"{sum(r.state == state for r in rows)} {state}" for state in ("complete", "pruned", "failed"))


def full_text(value: Any, limit: int = MAX_TIP) -> str:
    """A stored value as one line of text, at most about `limit` characters, whatever its type."""
    return escaped(cut(value if isinstance(value, str) else repr(value), limit))


def value_text(value: Any) -> str:
    """A cell's text, as the rest of the app writes numbers: 91,974 steps, learning rate 0.0007413;
    anything else (a stored param or note) escaped and cut to MAX_CELL characters."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return full_text(value if isinstance(value, str) else str(value), MAX_CELL)
    if isinstance(value, int) or abs(value) >= 1000:
        return fmt.count(round(value))
    return f"{value:.4g}"


class SpaceTable(QTableWidget):
    """The fields a search may vary: a tick to search one, its range as editable text."""

    def __init__(self) -> None:
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels(["search", "range"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Tick the fields to search. Ranges come from each field's recommended range; edit them as "
                        "low..high (numbers) or a,b (choices). A single value fixes the field.")
        self.defaults: dict[str, str] = {}
        for name in tunable():
            dist = default_dist(name)
            row = self.rowCount()
            self.insertRow(row)
            tick = QTableWidgetItem(name)
            tick.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
            tick.setCheckState(Qt.Checked if name in DEFAULT_PARAMS else Qt.Unchecked)
            plain.tooltip(tick, dist.describe())
            self.defaults[name] = range_text(dist)
            text = QTableWidgetItem(self.defaults[name])
            plain.tooltip(text, dist.describe() + (" — searched on a log scale" if dist.log else ""))
            self.setItem(row, 0, tick)
            self.setItem(row, 1, text)
        self.resizeRowsToContents()
        self.resizeColumnToContents(0)
        self.setColumnWidth(1, 110)
        self.setMinimumWidth(170)  # narrower: it scrolls sideways

    def space(self) -> tuple[dict[str, Dist], dict[str, Any]]:
        """(searched fields, fixed values) from the table, checked as `tune --params/--set` checks them."""
        names, sets = [], []
        for tick, cell in self._rows():
            name, text = tick.text(), cell.text().strip()
            if tick.checkState() == Qt.Checked:
                names.append(name)
                if text != self.defaults[name]:
                    sets.append(f"{name}={text}")
        return build_space(names, sets)

    def set_searched(self, ranges: dict[str, str | None]) -> None:
        """Tick exactly the fields of `ranges` (None: the default range); untick the others."""
        for tick, cell in self._rows():
            name = tick.text()
            tick.setCheckState(Qt.Checked if name in ranges else Qt.Unchecked)
            cell.setText(ranges.get(name) or self.defaults[name])

    def _rows(self) -> list[tuple[QTableWidgetItem, QTableWidgetItem]]:
        """(the field's tick box, its range cell) of every row: both are made for each field."""
        rows = []
        for row in range(self.rowCount()):
            tick, cell = self.item(row, 0), self.item(row, 1)
            assert tick is not None and cell is not None
            rows.append((tick, cell))
        return rows


class SearchThread(QThread):
    """Starts the search (storage, study, workers), then polls its trials until the workers end or
    Stop is asked; it stops the workers itself, so the GUI thread never waits on them."""

    started_search = pyqtSignal()
    rows_ready = pyqtSignal(object)  # list[TrialRow]
    failed = pyqtSignal(str)
    ended = pyqtSignal(object, int, bool)  # final rows, trials left running (failed as stopped), stopped

    def __init__(self, run: SearchRun) -> None:
        super().__init__()
        self.run_ = run
        self.stop_asked = threading.Event()

    def run(self) -> None:
        try:
            self.run_.start()
        except ConfigError as exc:  # TuneError too: one line
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a broken storage: say it, never crash the window
            self.failed.emit(line(f"{type(exc).__name__}: {' '.join(str(exc).split())}", 200))
            self.run_.stop()
            return
        self.started_search.emit()
        rows: list[TrialRow] = []
        while True:
            stopping = self.stop_asked.is_set()
            left = self.run_.stop() if stopping else 0
            alive = self.run_.alive()
            try:
                rows = self.run_.rows()
                self.rows_ready.emit(rows)
            except Exception:  # a busy database: the next poll reads it
                pass
            if stopping or not alive:
                self.ended.emit(rows, left, stopping)
                return
            self.stop_asked.wait(POLL_SECONDS)


class ReadThread(QThread):
    """Runs one read of the storage (study names, a stored study) off the GUI thread."""

    done = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, read: Callable[[], Any]) -> None:
        super().__init__()
        self.read = read

    def run(self) -> None:
        try:
            self.done.emit(self.read())
        except ConfigError as exc:
            self.failed.emit(line(str(exc), 500))
        except Exception as exc:  # a damaged or locked database: say it, never crash the window
            self.failed.emit(line(f"{type(exc).__name__}: {' '.join(str(exc).split())}", 200))


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    plain.tooltip(box, tip)
    return box
