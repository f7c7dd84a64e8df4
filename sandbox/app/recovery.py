"""The recovery file: autosaved training in the user data directory, offered back after a crash.

The window asks for a copy every ~30 s of unsaved training; the worker writes it between two
training slices (atomically: a crash mid-write leaves the previous copy). Without a usable data
folder, or once a copy could not be written (a folder or a FIFO at its path, a full disk), there
is no recovery this session, said once, and training goes on.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sandbox.formats.agent_file import AgentFileError, AgentFileInfo, file_info, load_trainer

AUTOSAVE_SECONDS = 30  # at most this much training is lost to a crash
FILE_NAME = "recovery.agent"


class RecoveryStore:
    """A single recovery file; it exists only while unsaved training is at risk."""

    def __init__(self, directory: Path | None) -> None:
        self.path: Path | None = directory / FILE_NAME if directory is not None else None
        self.problem: str | None = None if directory is not None else "there is no data folder"
        self.saved_steps: int | None = None  # training steps in the copy on disk

    @property
    def enabled(self) -> bool:
        return self.path is not None and self.problem is None

    def due(self, total_steps: int) -> bool:
        """Whether a new copy is worth writing: training moved on since the last one."""
        return self.enabled and total_steps != self.saved_steps

    def written(self, total_steps: int) -> None:
        self.saved_steps = total_steps

    def failed(self, message: str) -> str:
        """A copy could not be written: recovery is off for the session; returns what to tell the user."""
        self.problem = message
        return f"The recovery copy could not be written: {message}. Training goes on; save it to keep it."

    def pending(self) -> AgentFileInfo | None:
        """The recovery file's summary, or None; one that does not load completely is removed."""
        if self.path is None or not os.path.lexists(self.path):
            return None
        try:
            load_trainer(self.path).close()  # the same load Restore will do: never offer what would fail
            return file_info(self.path)
        except AgentFileError:
            self.discard()
            return None

    def discard(self) -> None:
        """Remove the file (or whatever sits at its path: a link, a FIFO); a folder there is left alone."""
        self.saved_steps = None
        if self.path is not None:
            with contextlib.suppress(OSError):  # a folder, a read-only mount: left as it is
                self.path.unlink(missing_ok=True)
