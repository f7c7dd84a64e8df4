"""The Tune view's work off the GUI thread: the poller of a running search (it starts the workers,
reads the trials and stops the workers itself, so the window never waits on them) and one-off
reads of the storage."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QThread, pyqtSignal

from sandbox.core.config import ConfigError
from sandbox.io.text import line
from sandbox.tune.results import SearchRun, TrialRow

POLL_SECONDS = 0.3  # how often the poller reads the study's trials


class SearchThread(QThread):
    """Starts the search (storage, study, workers), then polls its trials until the workers end or
    Stop is asked; it stops the workers itself, so the GUI thread never waits on them."""

    started_search = pyqtSignal()
    rechecking = pyqtSignal()  # the workers ended; the study's top trials are being re-checked
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
            if not stopping and not alive:
                self._recheck()
                stopping = self.stop_asked.is_set()
                with contextlib.suppress(Exception):  # a busy database: the rows of the last poll
                    rows = self.run_.rows()
            if stopping or not alive:
                self.ended.emit(rows, left, stopping)
                return
            self.stop_asked.wait(POLL_SECONDS)


    def _recheck(self) -> None:
        """Re-check the top trials (in worker processes: Stop ends them); a failed re-check leaves the
        study's best named as not re-checked."""
        if any(p.exitcode for p in self.run_.procs):
            return  # a worker failed: the study is not finished
        self.rechecking.emit()
        with contextlib.suppress(Exception):  # stopped (RecheckStopped), or a busy or broken storage
            self.run_.run_recheck()


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
