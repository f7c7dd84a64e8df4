"""File ▸ commands and the prompts around them: open, save, export, recovery, and asking before
unsaved training is discarded (with Save offered, and training paused while the user decides)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QFileDialog, QMessageBox, QWidget

from sandbox.app.best import BestMark
from sandbox.app.session import Origin
from sandbox.formats.agent_file import SUFFIX
from ui import format as fmt
from ui import plain
from ui.worker.commands import Autosave, Export, ExportKind, Load, Save
from ui.worker.modes import Doing

if TYPE_CHECKING:
    from PyQt5.QtWidgets import QAction, QStatusBar

    from sandbox.app.recovery import RecoveryStore
    from sandbox.app.session import Session
    from ui.settings import Settings
    from ui.views.plots import TrainingPlots


class Window(Protocol):
    """What the file commands use of the main window (MainWindow is one): its model, its stores, the
    worker's commands, and where they report."""

    session: Session
    settings: Settings
    recovery: RecoveryStore
    plots: TrainingPlots
    act_include_memory: QAction
    command: Any  # pyqtSignal(object): a ui.worker.commands.Command for the worker

    def statusBar(self) -> QStatusBar: ...
    def close(self) -> bool: ...
    def pause_now(self) -> None: ...
    def resume_after_question(self) -> None: ...
    def show_error(self, what: str, message: str) -> None: ...
    def show_notice(self, text: str, detail: str) -> None: ...

FILE_FILTER = f"RL Sandbox agents (*{SUFFIX});;All files (*)"
EXPORTS = {"episodes": ("episodes.csv", "CSV files (*.csv)"), "losses": ("losses.csv", "CSV files (*.csv)"),
           "video": ("greedy.gif", "GIF animation (*.gif);;MP4 video (*.mp4)")}


def error_box(parent: QWidget, title: str, text: str, message: str) -> QMessageBox:
    """A window-modal error that never blocks the event loop: the first paragraph shown, the rest as
    details, all as plain text (the message quotes file names and file contents)."""
    box = plain.message_box(parent, QMessageBox.Critical, title, text, message.split("\n\n")[0],
                            message if "\n\n" in message else "")
    box.setWindowModality(Qt.WindowModal)
    box.open()
    return box


def version() -> str:
    try:
        return metadata.version("rl-sandbox")
    except metadata.PackageNotFoundError:
        return "unknown"


class FileCommands:
    def __init__(self, window: Window, parent: QWidget) -> None:
        self.w, self.parent = window, parent  # the window's parts; the widget dialogs open over
        self._after_save: Callable[[], None] | None = None  # what waits for the save in flight
        self._closing = False

    # --- prompts -----------------------------------------------------------------------
    def after_discard(self, doing: str, proceed: Callable[[], None]) -> bool:
        """Run `proceed` now, or once the user saved or chose to discard unsaved training.

        Training pauses while the question is open, and goes on if nothing is done (Cancel, or Save with
        its file dialog cancelled). Returns False when the user cancelled.
        """
        if not self.w.session.unsaved:
            proceed()
            return True
        answer = self._ask(doing)
        if answer == QMessageBox.Save and self.save_agent():
            self._after_save = proceed
            return True
        if answer != QMessageBox.Discard:
            self.w.resume_after_question()
            return False
        self.w.recovery.discard()
        proceed()
        return True

    def may_close(self) -> bool:
        """Whether the window may close now; with unsaved training, Save closes once the save landed."""
        if self._closing or not self.w.session.unsaved:
            self.w.recovery.discard()
            return True
        answer = self._ask("close")
        if answer == QMessageBox.Save and self.save_agent():
            self._after_save = self._close_now
            return False
        if answer != QMessageBox.Discard:
            self.w.resume_after_question()  # not closing: what was running goes on
            return False
        self.w.recovery.discard()
        return True

    def _close_now(self) -> None:
        self._closing = True
        self.w.close()

    def _ask(self, doing: str) -> int:
        self.w.pause_now()  # nothing trains on behind the question
        return plain.ask(
            self.parent, "Save training?", f"The current training is not saved. Save it before you {doing}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)

    def confirm_restore_best(self, best: BestMark) -> bool:
        answer = plain.ask(
            self.parent, "Restore best agent?",
            f"Go back to the agent after episode {fmt.count(best.episode + 1)} ({fmt.count(best.total_steps)} "
            f"steps), when its {best.measure} peaked at {best.value:.1f}? Training after that point is "
            "discarded (save it first to keep it).", QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    # --- open and save ------------------------------------------------------------------
    def open_agent(self) -> None:
        def choose() -> None:
            path, _ = QFileDialog.getOpenFileName(self.parent, "Open agent", self.w.settings.last_dir, FILE_FILTER)
            if path:
                self.w.settings.last_dir = str(Path(path).parent)
                self.w.statusBar().showMessage(f"Opening {Path(path).name}…")
                self.w.command.emit(Load(path, Origin.OPENED))

        self.after_discard("open another agent", choose)

    def save_agent(self) -> bool:
        if self.w.session.path is None:
            return self.save_agent_as()
        self.w.command.emit(Save(self.w.session.path, self.w.act_include_memory.isChecked()))
        return True

    def save_agent_as(self) -> bool:
        config = self.w.session.config
        default = str(Path(self.w.settings.last_dir) / f"{config.env_id if config else 'agent'}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save agent", default, FILE_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += SUFFIX
        self.w.settings.last_dir = str(Path(path).parent)
        self.w.command.emit(Save(path, self.w.act_include_memory.isChecked()))
        return True

    def on_saved(self, path: str, size: int) -> None:
        self.w.session.saved(path)
        self.w.recovery.discard()
        self.w.statusBar().showMessage(f"Saved {Path(path).name} ({fmt.size(size)})", 5000)
        after, self._after_save = self._after_save, None
        if after is not None:
            after()

    def on_failed(self, doing: Doing) -> None:
        self._after_save, self._closing = None, False  # the save (or what waited for it) did not happen
        if doing in (Doing.TRAINING, Doing.STEPPING) and self.w.session.unsaved:
            self.autosave()

    def autosave(self) -> None:
        """Every ~30 s of unsaved training, a recovery copy goes to the user data directory."""
        status, recovery = self.w.session.status, self.w.recovery
        if self.w.session.unsaved and status is not None and recovery.due(status.total_steps):
            self.w.command.emit(Autosave(str(recovery.path)))

    def on_autosave_failed(self, message: str) -> None:
        self.w.show_notice("Crash recovery is off for this session.", self.w.recovery.failed(message))

    def offer_recovery(self) -> bool:
        """Offer to restore the recovery file left by a crash; returns whether it was restored."""
        info = self.w.recovery.pending()
        if info is None:
            self.w.statusBar().showMessage("No recovered training to restore.", 5000)
            return False
        answer = plain.ask(
            self.parent, "Restore training?",
            f"RL Sandbox did not close normally. Training of {info.env_id} was autosaved after "
            f"{fmt.plural(info.episodes, 'episode')} ({fmt.plural(info.total_steps, 'step')}). Restore it?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer == QMessageBox.Yes:
            self.w.command.emit(Load(str(info.path), Origin.RECOVERED))
            return True
        self.w.recovery.discard()
        return False

    # --- exports ------------------------------------------------------------------------
    def export(self, kind: ExportKind) -> None:
        name, filters = EXPORTS[kind]
        default = str(Path(self.w.settings.last_dir) / name)
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export", default, filters)
        if path:
            self.w.settings.last_dir = str(Path(path).parent)
            self.w.statusBar().showMessage(f"Exporting to {path}…")
            self.w.command.emit(Export(kind, path))

    def export_plots(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export plots",
                                              str(Path(self.w.settings.last_dir) / f"plots.{kind}"),
                                              f"{kind.upper()} files (*.{kind})")
        if not path:
            return
        try:
            self.w.plots.export(path)
        except (OSError, ValueError, RuntimeError) as exc:
            self.w.show_error("exporting the plots", str(exc))
            return
        self.w.statusBar().showMessage(f"Wrote the plots to {path}", 8000)

    def about(self) -> None:
        QMessageBox.about(self.parent, "About RL Sandbox",
                          f"<b>RL Sandbox</b> {version()}<br>Train a Double-DQN agent, watch it learn and steer it "
                          "live.<br>Space: start/pause · S: step · E: step episode · X: watch random · G: watch "
                          "greedy · H: drive · R: render")
