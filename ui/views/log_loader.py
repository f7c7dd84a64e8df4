"""A TensorBoard log folder read off the GUI thread.

The reader is bounded (sandbox/formats/event_reader.py: at most 256 MB of event files, 2 million records),
but at those bounds it still takes seconds, and a folder on a slow disk or a network mount takes what it
takes: the window must stay responsive meanwhile. So the read runs on a plain Python thread that owns no
Qt object, and its outcome comes back to the GUI thread through a queued signal; the public signals are
emitted there. One read at a time.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PyQt5.QtCore import QObject, pyqtSignal

from sandbox.app.ghosts import LoadedLog, load_log
from sandbox.formats.event_reader import EventLogError
from sandbox.io.files import shown_path
from sandbox.io.text import cut, escaped


class LogLoader(QObject):
    loaded = pyqtSignal(object)  # a LoadedLog, in the GUI thread
    failed = pyqtSignal(str)  # one line, in the GUI thread
    _finished = pyqtSignal(object)  # LoadedLog or str, from the reading thread (queued to this object's thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.busy = False
        self._finished.connect(self._deliver)

    def start(self, folder: Path) -> None:
        """Read `folder` in the background; `loaded` or `failed` follows. One read at a time (callers
        check `busy`)."""
        assert not self.busy, "a TensorBoard log is being read already"
        self.busy = True
        threading.Thread(target=self._read, args=(folder,), name="tensorboard-log", daemon=True).start()

    def _read(self, folder: Path) -> None:
        outcome: LoadedLog | str
        try:
            outcome = load_log(folder)
        except EventLogError as exc:
            outcome = str(exc)
        except Exception as exc:  # a thread's error must come back as a line, or it is lost
            outcome = f"could not read the TensorBoard log {shown_path(folder)}: {cut(escaped(repr(exc)), 200)}"
        with contextlib.suppress(RuntimeError):  # the window closed while the folder was read: nobody is waiting
            self._finished.emit(outcome)

    def _deliver(self, outcome: LoadedLog | str) -> None:
        self.busy = False
        if isinstance(outcome, str):
            self.failed.emit(outcome)
        else:
            self.loaded.emit(outcome)
