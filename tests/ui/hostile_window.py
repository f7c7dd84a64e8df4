"""Run as a script by test_plain_text.py: the real window, with hostile text in every place it shows
text from outside, then every widget, tooltip and dialog drawn.

Usage: python hostile_window.py FOLDER [control]

FOLDER is the current directory and holds `probe.fifo`; the test has a writer waiting on it, so if
anything in the window opens the FIFO (Qt loading `<img src=probe.fifo>` as rich text), the writer
leaves a marker file. `control` shows one rich-text label instead, to prove the probe works.
Prints DONE when the window stayed responsive to the end.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

from PyQt5 import sip
from PyQt5.QtCore import QEvent, QEventLoop, QPoint, QSettings, QTimer
from PyQt5.QtWidgets import QApplication, QLabel, QListWidget, QToolTip

FIFO = "probe.fifo"
TAG = f"<img src={FIFO}>"  # relative: it can also sit in a file name


def hostile(folder: Path) -> str:
    return f"{TAG}<img src='{folder / FIFO}'> \x1b[2J"


def wait_for(app: QApplication, done, limit_ms: int = 60_000) -> None:
    """Process events until `done()`; the test's own watchdog bounds the whole script."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: done() and loop.quit())
    timer.start(20)
    QTimer.singleShot(limit_ms, loop.quit)
    loop.exec_()
    timer.stop()
    if not done():
        raise SystemExit("gave up waiting")


def draw_everything(app: QApplication) -> int:
    """Render every widget and show every tooltip (widgets, list items, plot items): what a user's
    pointer and eyes would make Qt lay out. Returns how many tooltips were shown."""
    shown = 0
    app.sendPostedEvents(None, QEvent.DeferredDelete)  # views that replaced their children
    for widget in app.allWidgets():
        if sip.isdeleted(widget):
            continue
        widget.grab()
        tips = [widget.toolTip()]
        if isinstance(widget, QListWidget):
            tips += [widget.item(i).toolTip() for i in range(widget.count())]
        scene = getattr(widget, "scene", None)
        if callable(scene) and scene() is not None:
            tips += [item.toolTip() for item in scene().items()]
        for tip in filter(None, tips):
            QToolTip.showText(QPoint(10, 10), tip, widget)
            app.processEvents()
            shown += 1
    QToolTip.hideText()
    return shown


def check_no_raw_markup(app: QApplication) -> None:
    """No label renders outside text as markup, and no tooltip holds an unescaped tag."""
    from PyQt5.QtCore import Qt

    for widget in app.allWidgets():
        if sip.isdeleted(widget):
            continue
        if isinstance(widget, QLabel) and TAG in widget.text() and widget.textFormat() != Qt.PlainText:
            raise SystemExit(f"a {type(widget).__name__} shows outside text as markup: {widget.text()[:80]!r}")
        if TAG in widget.toolTip():
            raise SystemExit(f"a tooltip of a {type(widget).__name__} holds outside markup")


def agent_file_with_tensor_named(path: Path, name: str) -> None:
    """A saved agent whose first tensor is renamed `name` (the loader refuses it, quoting the name)."""
    from sandbox.core.trainer import Trainer
    from sandbox.formats.agent_file import save_trainer
    from tests.ui.helpers import quick_config

    save_trainer(Trainer(quick_config()), path, include_memory=False)
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    first = next(k for k in header if k != "__metadata__")
    header[name] = header.pop(first)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])


def runs_log(path: Path, text: str) -> None:
    from tests.ui.helpers import quick_config

    config = quick_config().to_dict()
    runs = [{"key": k, "name": f"{text} #{k}", "config": config | {"seed": k}, "scores": [-200.0, -190.0],
             "averages": [-200.0, -195.0], "total_steps": 400, "solved": False, "group": None,
             "hints": [text, f"second line\n{text}"]} for k in (1, 2)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs))


def control(app: QApplication) -> None:
    label = QLabel(TAG)  # Qt's default (AutoText): rich, because it looks like HTML
    label.grab()


def main(folder: Path, mode: str) -> None:
    app = QApplication.instance() or QApplication([])
    if mode == "control":
        control(app)
        print("DONE")
        return
    from PyQt5.QtWidgets import QMessageBox

    from sandbox.core.diagnostics import Hint
    from ui import plain
    from ui.main_window import MainWindow
    from ui.worker.commands import Load

    text = hostile(folder)
    runs_log(folder / "data" / "runs.json", text)
    plain.ask = lambda *a, **k: QMessageBox.Discard  # questions would block: the answer is Discard
    settings = QSettings(str(folder / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings)
    window.resize(1400, 900)
    window.show()
    wait_for(app, lambda: window.session.config is not None)

    # File ▸ Open of a file whose *name* holds the tag, then of one whose tensor name does.
    named = folder / f"{TAG}.agent"
    named.write_bytes(b"not an agent file")
    window.command.emit(Load(str(named)))
    wait_for(app, lambda: window.error_box is not None and window.error_box.isVisible())
    draw_everything(app)
    window.error_box.close()
    window.error_box = None
    tensor = folder / "tensor.agent"
    agent_file_with_tensor_named(tensor, text)
    window.command.emit(Load(str(tensor)))
    wait_for(app, lambda: window.error_box is not None and window.error_box.isVisible())
    for button in window.error_box.buttons():  # "Show Details…" builds the details view
        if window.error_box.buttonRole(button) == QMessageBox.ActionRole:
            button.click()
    draw_everything(app)
    window.error_box.close()

    # A long error with details, the panel's field errors and problem line, the coach, the runs.
    window.show_error("testing", f"{text}\n\n{text}")
    window.panel.set_value("env_id", text)
    window.panel.show_problem(text)
    window.diagnostics.show_hints([Hint("hostile", text, text)])
    window.statusBar().showMessage(text)
    window.tabs.setCurrentWidget(window.runs_view)
    runs = window.runs_view.list
    for i in range(runs.count()):
        runs.item(i).setCheckState(2)  # ticked: ghost curves with the run's name as tooltip
        runs.item(i).setSelected(True)
    window.runs_view.show_diff()
    window.act_tune.trigger()  # the Tune dock, told to read a study of that name
    window.tune_view.study_edit.setText(text)
    window.tune_view.study_edit.textEdited.emit(text)
    window.tune_view.open_study(text)
    wait_for(app, lambda: "Reading study" not in window.tune_view.status.text())
    check_no_raw_markup(app)
    shown = draw_everything(app)

    responsive = []
    QTimer.singleShot(0, lambda: responsive.append(True))
    wait_for(app, lambda: bool(responsive))
    print(f"DONE {shown} tooltips")
    window.session.forget_changes()
    window.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "window")
