"""The app's persistent settings: every key and default in one place, typed."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt5.QtCore import QByteArray, QSettings

from sandbox.config import Config, ConfigError, load_preset


class Settings:
    """A typed view of QSettings (the platform's settings store, or an INI file in tests)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store or QSettings()

    def _bool(self, key: str, default: bool) -> bool:
        return self.store.value(key, default, type=bool)

    def _set(self, key: str, value: object) -> None:
        self.store.setValue(key, value)

    @property
    def render(self) -> bool:
        return self._bool("view/render", True)

    @render.setter
    def render(self, on: bool) -> None:
        self._set("view/render", on)

    @property
    def watch(self) -> bool:
        return self._bool("view/watch", False)

    @watch.setter
    def watch(self, on: bool) -> None:
        self._set("view/watch", on)

    @property
    def include_memory(self) -> bool:
        return self._bool("files/include_memory", True)

    @include_memory.setter
    def include_memory(self, on: bool) -> None:
        self._set("files/include_memory", on)

    @property
    def last_dir(self) -> str:
        return str(self.store.value("files/last_dir", str(Path.home())))

    @last_dir.setter
    def last_dir(self, folder: str) -> None:
        self._set("files/last_dir", folder)

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
        self._set("run/config", json.dumps(config.to_dict()))

    def geometry(self, name: str) -> QByteArray | None:
        """A saved window geometry or splitter state ('window', 'splitter', 'middle')."""
        value = self.store.value(f"layout/{name}")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, name: str, state: QByteArray) -> None:
        self._set(f"layout/{name}", state)
