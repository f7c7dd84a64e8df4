"""The recovery file: autosaved training in the user data directory, offered back after a crash."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from sandbox.agent_file import AgentFileError, AgentFileInfo, file_info


def data_dir() -> Path:
    """Where RL Sandbox keeps its own files (RL_SANDBOX_DATA_DIR overrides, e.g. in tests)."""
    override = os.environ.get("RL_SANDBOX_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir("rl-sandbox", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


class RecoveryStore:
    """A single recovery file; it exists only while unsaved training is at risk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or data_dir()) / "recovery.agent"

    def pending(self) -> AgentFileInfo | None:
        """The recovery file's summary, or None; an unreadable one is removed."""
        if not self.path.exists():
            return None
        try:
            return file_info(self.path)
        except AgentFileError:
            self.discard()
            return None

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
