import os
import subprocess
import sys
from pathlib import Path

import main
from ui.app import display_problem

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_display_the_app_says_so_instead_of_crashing(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "DISPLAY is not set" in display_problem()
    assert main.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the RL Sandbox window") and "train|evaluate|screenshot" in err


def test_offscreen_needs_no_display(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert display_problem() is None


def test_the_screenshot_command_trains_then_closes_on_its_own(tmp_path):
    """Its training is unsaved: closing must not wait on a question nobody can answer offscreen."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "screenshot", str(tmp_path / "s.png"),
                           "--episodes", "2", "--size", "1000x700"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "episodes)" in proc.stdout
