"""The recovery file: autosaved training in the user data directory, offered back after a crash."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sandbox.agent_file import AgentFileError, AgentFileInfo, file_info, load_trainer
from sandbox.files import data_dir


class RecoveryStore:
    """A single recovery file; it exists only while unsaved training is at risk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or data_dir()) / "recovery.agent"

    def pending(self) -> AgentFileInfo | None:
        """The recovery file's summary, or None; one that does not load completely is removed."""
        if not os.path.lexists(self.path):
            return None
        try:
            load_trainer(self.path).close()  # the same load Restore will do: never offer what would fail
            return file_info(self.path)
        except AgentFileError:
            self.discard()
            return None

    def discard(self) -> None:
        """Remove the file (or whatever sits at its path: a link, a FIFO); a folder there is left alone."""
        with contextlib.suppress(IsADirectoryError, PermissionError):
            self.path.unlink(missing_ok=True)
