"""Text from outside is plain text in every widget: the real window with hostile strings in every
place that shows one, in a subprocess with a watchdog (a hang fails the test instead of the suite).

The probe is a FIFO named in `<img src=…>` tags: a writer waits on it, and if Qt ever renders the
text as rich text it opens the FIFO to load the "image", which lets the writer leave a marker.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("hostile_window.py")
WATCHDOG_S = 120
# Each open of the FIFO by a reader lets one open for writing return: the writer marks it, closes
# (the reader sees an empty file) and waits for the next, so a window that opens it does not hang.
WRITER = """
import os, sys
while True:
    os.close(os.open(sys.argv[1], os.O_WRONLY))
    open(sys.argv[2], "w").write("opened")
"""


def run_probe(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess, bool]:
    """Run the script with a writer waiting on the FIFO; returns its result and whether the FIFO was opened."""
    fifo, marker = tmp_path / "probe.fifo", tmp_path / "opened"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(fifo), str(marker)])
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "RL_SANDBOX_DATA_DIR": str(tmp_path / "data"),
                        "PYTHONPATH": str(ROOT), "XDG_RUNTIME_DIR": str(tmp_path)}
    try:
        result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), mode], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=WATCHDOG_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the window hung (killed after {WATCHDOG_S} s): the FIFO was opened and blocked it")
    finally:
        writer.kill()
        writer.wait()
    return result, marker.exists()


def test_the_probe_detects_rich_text_that_names_the_fifo(tmp_path):
    """Without this, the window test below could pass because the probe sees nothing."""
    result, opened = run_probe(tmp_path, "control")
    assert result.returncode == 0, result.stderr[-2000:]
    assert opened


def test_hostile_text_everywhere_in_the_window_is_shown_plain_and_opens_nothing(tmp_path):
    result, opened = run_probe(tmp_path, "window")
    assert result.returncode == 0 and "DONE" in result.stdout, result.stdout[-2000:] + result.stderr[-3000:]
    assert not opened, "a widget rendered outside text as rich text and opened the path it named"
    shown = int(result.stdout.split("DONE ")[1].split()[0])
    assert shown > 20  # the walk really showed the tooltips (every action has one)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            yield node, owner, name


def _constant_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.BinOp):
        return _constant_text(node.left) and _constant_text(node.right)
    if isinstance(node, ast.IfExp):
        return _constant_text(node.body) and _constant_text(node.orelse)
    return False


def test_every_view_makes_labels_boxes_and_tooltips_through_the_plain_text_helper():
    """So a new view cannot forget: outside ui/plain.py no QLabel or QMessageBox is built directly, no
    question is asked past it, and a tooltip set directly is a literal of ours."""
    problems = []
    sources = [p for p in sorted((ROOT / "ui").rglob("*.py")) if p != ROOT / "ui" / "plain.py"]
    assert {"views", "tune", "dialogs", "worker"} <= {p.parent.name for p in sources}  # every subpackage is read
    for path in sources:
        for node, owner, name in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in ("QLabel", "QMessageBox") and not owner:
                problems.append(f"{where}: {name}(…) outside ui/plain.py")
            if owner == "QMessageBox" and name in ("question", "warning", "critical", "information"):
                problems.append(f"{where}: QMessageBox.{name} shows its text as AutoText; use plain.ask/message_box")
            if name == "setToolTip" and node.args and not _constant_text(node.args[0]):
                problems.append(f"{where}: setToolTip with a computed string; use plain.tooltip")
    assert not problems, "\n".join(problems)
