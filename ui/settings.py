"""The app's persistent settings: every key and default in one place, typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QByteArray, QSettings

from sandbox.config import Config, ConfigError, load_preset


class Setting:
    """A typed QSettings entry as an attribute: `render = Setting("view/render", True)`."""

    def __init__(self, key: str, default: Any) -> None:
        self.key, self.default = key, default

    def __get__(self, settings: Settings, owner: type) -> Any:
        return settings.store.value(self.key, self.default, type=type(self.default))

    def __set__(self, settings: Settings, value: Any) -> None:
        settings.store.setValue(self.key, value)


class Settings:
    """A typed view of QSettings (the platform's settings store, or an INI file in tests)."""

    render = Setting("view/render", True)
    watch = Setting("view/watch", False)
    include_memory = Setting("files/include_memory", True)
    last_dir = Setting("files/last_dir", str(Path.home()))

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings()

    @property
    def config(self) -> Config:
        """The last run's config; the notebook preset when there is none or it no longer validates."""
        saved = self.store.value("run/config")
        if saved:
            try:
                return Config.from_dict(json.loads(saved))
            except (ConfigError, ValueError, TypeError, RecursionError):
                pass  # settings from another version
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
