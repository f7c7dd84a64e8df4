"""The app's persistent settings: every key and default in one place, typed.

QSettings reads its whole file when it is made, and a FIFO there blocks that read for ever (a
huge file costs memory in proportion). So the file is checked first, like any file from outside:
if it is not a regular file of sane size, the app starts with the defaults, keeps this session's
settings in memory, and says so in one line; the file is left as it is.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QByteArray, QSettings, QStandardPaths

from sandbox.app.lesson import MAX_STEPS
from sandbox.core.config import Config, ConfigError, load_preset
from sandbox.io.files import shown_path, strict_json

ORGANIZATION = "RL Sandbox"
APPLICATION = "rl-sandbox"
MAX_SETTINGS_BYTES = 4 * 1024 * 1024  # ours is a few KB: window layout, the last config, a folder
MAX_LESSONS_KEPT = 50  # lessons whose progress is remembered
MAX_PROGRESS_TEXT = 64 * 1024


class MemoryStore:
    """The part of QSettings' interface the app uses, kept in memory: this session's settings when
    the settings file cannot be used."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def value(self, key: str, default: Any = None, type: type | None = None) -> Any:
        return self.values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value

    def sync(self) -> None:
        """Nothing to write: QSettings' call, kept so the app treats both stores alike."""


def settings_file() -> Path:
    """Where QSettings() keeps this app's settings on Linux: $XDG_CONFIG_HOME/<organization>/<app>.conf."""
    config_home = QStandardPaths.writableLocation(QStandardPaths.GenericConfigLocation)
    return Path(config_home) / ORGANIZATION / f"{APPLICATION}.conf"


def settings_problem(path: Path) -> str | None:
    """Why the settings file at `path` must not be read, or None (absent is fine: QSettings makes it)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"the settings file {shown_path(path)} cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"the settings file {shown_path(path)} is not a regular file"
    if info.st_size > MAX_SETTINGS_BYTES:
        return f"the settings file {shown_path(path)} is {info.st_size:,} bytes (at most {MAX_SETTINGS_BYTES:,})"
    return None


def open_store() -> tuple[QSettings | MemoryStore, str | None]:
    """The platform's settings store, or an in-memory one and the line that says why."""
    if os.name == "posix" and (problem := settings_problem(settings_file())):
        return MemoryStore(), f"{problem}; using the defaults, and settings are not saved this session"
    return QSettings(), None


class Setting:
    """A typed QSettings entry as an attribute: `render = Setting("view/render", True)`."""

    def __init__(self, key: str, default: Any) -> None:
        self.key, self.default = key, default

    def __get__(self, settings: Settings, owner: type) -> Any:
        try:
            value = settings.store.value(self.key, self.default, type=type(self.default))
        except TypeError:  # a stored value of another kind (settings from another version, or edited)
            return self.default
        return value if isinstance(value, type(self.default)) else self.default

    def __set__(self, settings: Settings, value: Any) -> None:
        settings.store.setValue(self.key, value)


class Settings:
    """A typed view of QSettings (the platform's settings store, an INI file in tests, or memory)."""

    render = Setting("view/render", True)
    watch = Setting("view/watch", False)
    include_memory = Setting("files/include_memory", True)
    tensorboard = Setting("files/tensorboard", False)
    last_dir = Setting("files/last_dir", str(Path.home()))

    def __init__(self, store: QSettings | MemoryStore | None = None) -> None:
        self.problem: str | None = None
        self.store: QSettings | MemoryStore
        if store is not None:
            self.store = store
        else:
            self.store, self.problem = open_store()

    @property
    def config(self) -> Config:
        """The last run's config; the notebook preset when there is none or it no longer validates."""
        saved = self.store.value("run/config")
        if isinstance(saved, str) and saved:
            try:
                return Config.from_dict(strict_json(saved))
            except (ConfigError, ValueError, TypeError, MemoryError):
                pass  # settings from another version, or damaged
        return load_preset("notebook")

    @config.setter
    def config(self, config: Config) -> None:
        self.store.setValue("run/config", json.dumps(config.to_dict()))

    def layout(self, name: str) -> QByteArray | None:
        """A saved window geometry or splitter state ('window', 'splitter', 'middle')."""
        value = self.store.value(f"layout/{name}")
        return value if isinstance(value, QByteArray) else None

    def set_layout(self, name: str, state: QByteArray) -> None:
        self.store.setValue(f"layout/{name}", state)

    def lesson_progress(self, name: str) -> tuple[int, frozenset[int]]:
        """(the step the learner is at, the steps whose check passed) in lesson `name`; a fresh start
        when nothing, or nothing usable, is stored."""
        entry = self._lessons().get(name)
        if not isinstance(entry, dict):
            return 0, frozenset()
        step, passed = entry.get("step"), entry.get("passed")
        if type(step) is not int or not 0 <= step < MAX_STEPS or not isinstance(passed, list):
            return 0, frozenset()
        return step, frozenset(p for p in passed if type(p) is int and 0 <= p < MAX_STEPS)

    def set_lesson_progress(self, name: str, step: int, passed: frozenset[int]) -> None:
        lessons = self._lessons()
        lessons.pop(name, None)
        lessons[name] = {"step": step, "passed": sorted(passed)}
        while len(lessons) > MAX_LESSONS_KEPT:  # the oldest lesson's progress goes first
            lessons.pop(next(iter(lessons)))
        self.store.setValue("lessons/progress", json.dumps(lessons))

    def _lessons(self) -> dict[str, Any]:
        raw = self.store.value("lessons/progress")
        if not isinstance(raw, str) or len(raw) > MAX_PROGRESS_TEXT:
            return {}
        try:
            data = strict_json(raw)
        except (ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}
