"""The recovery file: autosaved training in the user data directory, offered back after a crash."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sandbox.agent_file import AgentFileError, AgentFileInfo, file_info
from sandbox.files import data_dir


class RecoveryStore:
    """A single recovery file; it exists only while unsaved training is at risk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or data_dir()) / "recovery.agent"

    def pending(self) -> AgentFileInfo | None:
        """The recovery file's summary, or None; one that would not load (every tensor is checked) is removed."""
        if not os.path.lexists(self.path):
            return None
        try:
            return file_info(self.path, verify=True)
        except AgentFileError:
            self.discard()
            return None

    def discard(self) -> None:
        """Remove the file (or whatever sits at its path: a link, a FIFO); a folder there is left alone."""
        with contextlib.suppress(IsADirectoryError, PermissionError):
            self.path.unlink(missing_ok=True)
