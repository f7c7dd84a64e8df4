"""The Tune view's parts: the thread that runs a search and polls its trials, and small formatters."""

from __future__ import annotations

import threading
from typing import Any

from PyQt5.QtCore import QThread, pyqtSignal
from PyQt5.QtWidgets import QSpinBox

from sandbox.config import ConfigError
from sandbox.tune_results import SearchRun, TrialRow
from sandbox.tune_space import Dist

POLL_SECONDS = 0.3  # how often the poller reads the study's trials


def range_text(dist: Dist) -> str:
    """A distribution as its editable text: `low..high` or `a,b`."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)

    if dist.kind == "categorical":
        return ",".join(text(c) for c in dist.choices)
    return f"{text(dist.low)}..{text(dist.high)}"


def value_text(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


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
            self.failed.emit(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
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


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    box.setToolTip(tip)
    return box
