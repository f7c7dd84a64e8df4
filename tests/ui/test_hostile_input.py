"""Hostile input through the real window: the panel, File > Open and File > Save as."""

import os
import sys

from crafted import EVIL_MODULE, write_evil_module
from PyQt5.QtWidgets import QFileDialog

from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import save_trainer


def test_an_env_id_naming_a_module_is_an_inline_error_and_imports_nothing(qtbot, window, monkeypatch, tmp_path):
    marker = tmp_path / "imported"
    monkeypatch.syspath_prepend(str(write_evil_module(tmp_path / "evil", marker)))
    before = window.worker.trainer.config
    assert not window.panel.set_value("env_id", f"{EVIL_MODULE}:MountainCar-v0")
    assert "'module:Env' ids would make Gymnasium import that module" in window.panel.error_text("env_id")
    assert window.panel.config == before and window.worker.trainer.config == before
    assert not marker.exists() and EVIL_MODULE not in sys.modules


def test_opening_a_fifo_answers_at_once_and_keeps_the_current_agent(qtbot, window, monkeypatch, tmp_path):
    fifo = tmp_path / "pipe.agent"
    os.mkfifo(fifo)
    current = window.worker.trainer
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(fifo), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=10_000)
    assert "is a FIFO (named pipe), not a regular file" in window.error_box.informativeText()
    assert window.worker.trainer is current


def test_save_as_onto_a_folder_says_so_and_keeps_the_run_unsaved(qtbot, window, monkeypatch, tmp_path):
    window.act_step_episode.trigger()
    qtbot.waitUntil(lambda: window.worker.trainer.episodes_done == 1, timeout=30_000)
    (tmp_path / "folder.agent").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "folder.agent"), ""))
    window.act_save_as.trigger()
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=10_000)
    assert "is a directory; choose a file name" in window.error_box.informativeText()
    assert window.isWindowModified()
    window.error_box.close()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "good.agent"), ""))
    with qtbot.waitSignal(window.worker.saved, timeout=30_000):
        window.act_save_as.trigger()
    assert (tmp_path / "good.agent").is_file()


def test_opening_a_file_without_replay_memory_says_resume_is_not_exact(qtbot, window, monkeypatch, tmp_path):
    t = Trainer(load_preset("notebook").with_changes(memory_capacity=300, batch_size=32))
    t.run(1)
    path = tmp_path / "lean.agent"
    save_trainer(t, path, include_memory=False)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.act_open.trigger()
    qtbot.waitUntil(lambda: "has no replay memory" in window.statusBar().currentMessage(), timeout=30_000)
    assert "will not match the uninterrupted run" in window.statusBar().currentMessage()
