"""Fixtures that build the real main window (offscreen) with a small, fast config."""

import json

import gymnasium as gym
import numpy as np
import pytest
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QMessageBox

from sandbox.config import load_preset
from ui.main_window import MainWindow

QUICK = dict(memory_capacity=500, batch_size=32, update_interval=2, max_episodes=1000)


class FaultyEnv(gym.Env):
    """A real env with a bug: it raises on its 50th step (to exercise the worker's error path)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.render_mode = render_mode
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        if self.t >= 50:
            raise RuntimeError("sensor cable unplugged")
        return np.zeros(2, np.float32), 0.0, False, False, {}

    def render(self):
        return np.zeros((40, 60, 3), np.uint8)


gym.register("FaultyEnv-v0", entry_point=FaultyEnv, max_episode_steps=1000)


def quick_config(**changes):
    return load_preset("notebook").with_changes(**(QUICK | changes))


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    s.setValue("run/config", json.dumps(quick_config().to_dict()))
    s.setValue("view/render", False)
    return s


def _unexpected_dialog(*args, **kwargs):
    raise AssertionError(f"unexpected modal dialog: {args[2] if len(args) > 2 else args}")


@pytest.fixture(autouse=True)
def no_blocking_dialogs(monkeypatch):
    """A real modal question would block the offscreen test run forever: fail instead.

    Tests that expect a question patch `QMessageBox.question` themselves.
    """
    for name in ("question", "warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, _unexpected_dialog)


@pytest.fixture
def window(qtbot, settings, monkeypatch, tmp_path):
    """The real main window. Not registered with qtbot.addWidget: pytest-qt would close it before
    this fixture clears the unsaved mark, and the close would ask a (blocking) question."""
    monkeypatch.setenv("RL_SANDBOX_DATA_DIR", str(tmp_path / "data"))
    w = MainWindow(settings)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None, timeout=30_000)
    yield w
    w.setWindowModified(False)
    w.close()
    assert w.thread.isFinished()


class EpisodeCounter:
    """Collects finished episodes from the same batched signal the window draws from (connected
    after the window, so when the counter has them, the window has them too)."""

    def __init__(self, window):
        self.episodes = []
        window.worker.episodes_finished.connect(self.episodes.extend)

    def __len__(self):
        return len(self.episodes)
