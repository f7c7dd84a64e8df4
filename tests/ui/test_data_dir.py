"""The app's own data folder and settings file, broken in every way a disk allows: the app starts,
says in one line what it could not use and what it does instead, and loses nothing that was fine.

Launches run the real app (`ui.app.run_app`) in a subprocess with a watchdog, so a hang fails the
test instead of blocking the suite.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt5.QtWidgets import QMessageBox

from sandbox.app.recovery import AUTOSAVE_SECONDS, FILE_NAME, RecoveryStore
from sandbox.app.runs import RunsLog
from sandbox.app.session import State
from sandbox.core.config import load_preset
from sandbox.io.files import data_dir
from tests.ui.helpers import EpisodeCounter
from ui import plain
from ui.main_window import MainWindow
from ui.settings import Settings, settings_problem

ROOT = Path(__file__).resolve().parents[2]
WATCHDOG_S = 120

# Opens the real app, waits for its first run, prints the status bar's line, then either closes it
# (`report`) or trains until a recovery copy is written and kills itself (`crash`).
LAUNCH = """
import os, signal, sys
from PyQt5.QtCore import QTimer
from ui.app import make_application, run_app
from ui.main_window import MainWindow
app = make_application()
def window():
    return next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)
def poll():
    w = window()
    if w is None or w.session.config is None:
        return
    timer.stop()
    box = w.notice_box
    print("STATUS:", w.statusBar().currentMessage(), "|", box.informativeText() if box else "", flush=True)
    if sys.argv[1] == "crash":
        w.worker.autosaved.connect(lambda steps: os.kill(os.getpid(), signal.SIGKILL))
        w.worker.episodes_finished.connect(lambda _: w.session.unsaved and w.autosave_timer.timeout.emit())
        w.act_start.trigger()
        return
    w.session.forget_changes()
    w.close()
timer = QTimer()
timer.timeout.connect(poll)
timer.start(50)
run_app()
"""


def launch(tmp_path: Path, mode: str = "report", **env_changes: str) -> subprocess.CompletedProcess:
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RL_SANDBOX_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    try:
        return subprocess.run([sys.executable, str(script), mode], cwd=tmp_path, env=env | env_changes,
                              capture_output=True, text=True, timeout=WATCHDOG_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the app hung at launch (killed after {WATCHDOG_S} s)")


def status_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return next(line for line in result.stdout.splitlines() if line.startswith("STATUS:"))


def test_the_app_starts_when_its_data_folder_is_a_file_and_says_what_it_does_instead(tmp_path):
    (tmp_path / "data").write_text("my notes")
    line = status_line(launch(tmp_path))
    assert "started without some of its own files" in line
    assert "The data folder" in line and "it is a regular file" in line
    assert "runs are kept in memory and there is no crash recovery this session" in line
    assert (tmp_path / "data").read_text() == "my notes"


def test_the_app_starts_when_its_settings_file_is_a_fifo(tmp_path):
    settings = tmp_path / "config" / "RL Sandbox" / "rl-sandbox.conf"
    settings.parent.mkdir(parents=True)
    os.mkfifo(settings)
    line = status_line(launch(tmp_path))
    assert "is not a regular file; using the defaults, and settings are not saved this session" in line
    assert settings.is_fifo()


@pytest.mark.parametrize("kind", ["huge", "folder", "device link"])
def test_a_settings_file_that_is_huge_or_not_a_file_is_not_read(tmp_path, kind):
    path = tmp_path / "rl-sandbox.conf"
    if kind == "huge":
        with open(path, "wb") as f:
            f.truncate(300 * 1024 * 1024)  # sparse: QSettings would read all of it into memory
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    problem = settings_problem(path)
    assert problem is not None and "\n" not in problem
    assert ("314,572,800 bytes (at most 4,194,304)" if kind == "huge" else "is not a regular file") in problem
    assert settings_problem(tmp_path / "absent.conf") is None


def test_the_app_starts_when_its_runs_log_is_damaged_and_the_set_aside_name_is_a_folder(tmp_path):
    data = tmp_path / "data"
    (data / "runs.damaged.json").mkdir(parents=True)
    (data / "runs.json").write_text("[{not json")
    line = status_line(launch(tmp_path))
    assert "could not be read" in line and "it was set aside as runs.damaged-2.json" in line
    assert (data / "runs.damaged-2.json").read_text() == "[{not json"  # kept for the user to look at
    assert (data / "runs.damaged.json").is_dir()


@pytest.mark.parametrize("kind", ["folder", "fifo", "device link", "huge"])
def test_a_runs_log_that_is_not_a_small_regular_file_is_left_alone_and_runs_stay_in_memory(tmp_path, kind):
    path = tmp_path / "runs.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device link":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as f:
            f.truncate(65 * 1024 * 1024)  # sparse: past the limit, without the disk space
    log = RunsLog.load(path)
    assert log.path is None and log.records == {}
    assert "runs are kept in memory this session" in log.problem and "\n" not in log.problem
    log.save()  # nothing is written over what is there
    assert os.path.lexists(path) and (kind != "huge" or path.stat().st_size == 65 * 1024 * 1024)


def test_a_runs_log_that_cannot_be_saved_any_more_is_said_once_and_the_runs_stay(qtbot, window, monkeypatch):
    log = window.session.runs.path
    log.unlink(missing_ok=True)
    log.mkdir()  # the log's place taken mid-session (as a full disk would refuse the write)
    monkeypatch.setattr(plain, "ask", lambda *a, **k: QMessageBox.Discard)
    for _ in range(2):
        count = EpisodeCounter(window)
        window.act_step_episode.trigger()
        qtbot.waitUntil(lambda c=count: len(c) == 1, timeout=60_000)
        window.act_new.trigger()  # archives the run into the log
        qtbot.waitUntil(lambda: window.session.history.episodes == [], timeout=10_000)
    assert len(window.runs_view.records) == 2 and window.session.runs.path is None
    assert "is a directory; choose a file name; runs are kept in memory from now on" in \
        window.notice_box.informativeText()
    window.notice_box.close()


def test_the_data_folder_is_refused_in_one_line_when_something_else_is_there(tmp_path, monkeypatch):
    for name, make in (("file", lambda p: p.write_text("x")), ("fifo", os.mkfifo),
                       ("device link", lambda p: p.symlink_to("/dev/null"))):
        path = tmp_path / name
        make(path)
        monkeypatch.setenv("RL_SANDBOX_DATA_DIR", str(path))
        with pytest.raises(ValueError, match=r"the data folder .* (cannot be used|is a system path)"):
            data_dir()


def test_tune_show_says_in_one_line_that_the_data_folder_cannot_be_used(tmp_path):
    (tmp_path / "data").write_text("x")
    env = dict(os.environ, RL_SANDBOX_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "tune", "show", "--study", "s"], env=env,
                            capture_output=True, text=True, timeout=WATCHDOG_S)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "the data folder" in result.stderr, result.stderr


# --- recovery -------------------------------------------------------------------------------
def test_a_recovery_copy_is_written_every_30_seconds_of_unsaved_training_and_only_when_it_moved_on(
        qtbot, window):
    assert AUTOSAVE_SECONDS <= 30 and window.autosave_timer.interval() == AUTOSAVE_SECONDS * 1000
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 2, timeout=60_000)
    with qtbot.waitSignal(window.worker.autosaved, timeout=30_000):
        window.autosave_timer.timeout.emit()  # what the timer does every 30 s
    assert (window.recovery.path.parent / FILE_NAME).is_file() and window.session.state is State.RUNNING
    window.act_pause.trigger()
    qtbot.waitUntil(lambda: window.session.state is State.PAUSED, timeout=10_000)
    qtbot.waitUntil(lambda: window.session.status.total_steps == window.worker.trainer.total_steps, timeout=10_000)
    if window.recovery.due(window.session.status.total_steps):  # trained on since that copy: one more
        with qtbot.waitSignal(window.worker.autosaved, timeout=30_000):
            window.autosave_timer.timeout.emit()
    assert window.recovery.saved_steps == window.worker.trainer.total_steps
    assert not window.recovery.due(window.session.status.total_steps)  # paused: nothing new to write
    assert RecoveryStore(window.recovery.path.parent).pending().total_steps == window.recovery.saved_steps


def test_a_recovery_copy_that_cannot_be_written_says_so_once_and_training_goes_on(qtbot, window):
    (window.recovery.path).mkdir()  # a folder where the copy goes
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 1, timeout=60_000)
    with qtbot.waitSignal(window.worker.autosave_failed, timeout=30_000):
        window.autosave_timer.timeout.emit()
    assert window.statusBar().currentMessage() == "Crash recovery is off for this session."
    assert "The recovery copy could not be written: " in window.notice_box.informativeText()
    assert "is a directory" in window.notice_box.informativeText()
    assert window.error_box is None and not window.recovery.enabled
    window.notice_box.close()
    before = len(count)
    qtbot.waitUntil(lambda: len(count) > before, timeout=60_000)  # still training


def test_an_app_killed_mid_training_offers_its_recovery_copy_at_the_next_launch(qtbot, tmp_path, settings,
                                                                               monkeypatch):
    monkeypatch.setenv("RL_SANDBOX_DATA_DIR", str(tmp_path / "data"))
    result = launch(tmp_path, "crash")
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    pending = RecoveryStore(tmp_path / "data").pending()
    assert pending is not None and pending.episodes >= 1
    asked = []
    monkeypatch.setattr(plain, "ask", lambda *a, **k: asked.append(a[2]) or QMessageBox.Yes)
    window = MainWindow(settings)
    window.show()
    try:
        assert window.files.offer_recovery()
        qtbot.waitUntil(lambda: len(window.session.history.episodes) == pending.episodes, timeout=30_000)
        assert "did not close normally" in asked[0] and window.session.unsaved
    finally:
        window.session.forget_changes()
        window.close()


def test_settings_of_another_kind_fall_back_to_the_defaults(settings):
    settings.setValue("run/config", json.dumps({"gamma": "0.5"}))
    settings.setValue("files/include_memory", "[1, 2]")
    typed = Settings(settings)
    assert typed.config == load_preset("notebook") and typed.include_memory is True


def test_screenshot_neither_reads_nor_writes_a_settings_file_beside_its_output(tmp_path):
    """It once kept its settings in OUT.ini: a user's notes.ini was replaced, a link's target overwritten."""
    (tmp_path / "notes.ini").write_text("my notes")
    (tmp_path / "target.txt").write_text("keep me")
    (tmp_path / "link.ini").symlink_to(tmp_path / "target.txt")
    os.mkfifo(tmp_path / "pipe.ini")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RL_SANDBOX_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(tmp_path))
    for name in ("notes", "link", "pipe"):
        out = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshot", f"{name}.png", "--size",
                              "400x300"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=WATCHDOG_S)
        assert out.returncode == 0 and (tmp_path / f"{name}.png").is_file(), out.stderr[-2000:]
    assert (tmp_path / "notes.ini").read_text() == "my notes" and (tmp_path / "target.txt").read_text() == "keep me"
    assert (tmp_path / "pipe.ini").is_fifo() and not (tmp_path / "config").exists()
    fifo_out = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshot", "pipe.ini"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=WATCHDOG_S)
    assert fifo_out.returncode == 2 and fifo_out.stderr.count("\n") == 1 and "FIFO" in fifo_out.stderr
