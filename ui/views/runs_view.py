"""The session's runs: tick one to draw it as a ghost behind the current run, pick two (selected or
ticked) to diff their configs, or run several seeds of the panel's config back to back for a mean ±
std band, whose figures a line under the list keeps. Runs trained elsewhere come in from a TensorBoard
log folder (SB3, CleanRL, or ours), read off the GUI thread, as ghosts of their own for this session:
listed after the runs, drawn when ticked, with no config to compare; they stay ticked when a new run
begins, since they were loaded to compare with whatever runs next."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sandbox.app.ghosts import Ghost, LoadedLog, run_ghost
from sandbox.app.runs import RunRecord, config_diff, short_diff, tree_order
from sandbox.io.files import shown_path
from ui import plain
from ui.plain import escape as esc
from ui.views.log_loader import LogLoader
from ui.views.scrolled import scroll_inside

MAX_TICKED_ON_LOAD = 5  # a log's first runs are drawn at once (as many as the ghost colours); the rest wait a tick


class RunsView(QWidget):
    ghosts_changed = pyqtSignal(object)  # list[Ghost]: the ticked runs', then the ticked logs'
    run_seeds = pyqtSignal(int)
    log_loaded = pyqtSignal(str)  # what a TensorBoard log brought, in one line
    log_failed = pyqtSignal(str)  # why it brought nothing, in one line

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: dict[int, RunRecord] = {}
        self.logs: dict[str, Ghost] = {}  # runs from TensorBoard logs, by "log:N" (run keys are ints)
        self.last_log_dir = ""
        self.loader = LogLoader(self)
        self.loader.loaded.connect(self._log_loaded)
        self.loader.failed.connect(self._log_failed)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setWordWrap(True)  # a run's line wraps to the list's width: no sideways scroll to its best average
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.Adjust)
        self.list.setToolTip("Tick a run to draw its moving average faintly behind the current run; select "
                             "(Ctrl+click) or tick two to compare their configs")
        self.diff_button = QPushButton("Compare configs")
        self.diff_button.setEnabled(False)
        self.seeds = QSpinBox()
        self.seeds.setRange(2, 20)
        self.seeds.setValue(3)
        self.seeds.setToolTip("How many seeds (the panel's seed, +1, +2, …)")
        self.seeds_button = QPushButton("Run seeds")
        self.seeds_button.setToolTip("Train the panel's config with several seeds back to back and draw the mean "
                                     "± std of their moving averages")
        self.diff = QTextBrowser()  # scrolls inside a fixed height: a long diff never resizes the window
        self.diff.setFixedHeight(110)
        self.diff.setVisible(False)
        self.load_button = QPushButton("Load TensorBoard log…")
        self.load_button.setToolTip("Add the runs of a TensorBoard log folder (SB3, CleanRL or RL Sandbox) as "
                                    "ghosts: their episode returns, drawn behind the current run")
        buttons = QHBoxLayout()
        buttons.addWidget(self.diff_button)
        buttons.addStretch(1)
        buttons.addWidget(self.seeds)
        buttons.addWidget(self.seeds_button)
        self.intro = plain.label("Finished and replaced runs, kept across restarts. Tick a run to draw it behind "
                                 "the current one; select (Ctrl+click) or tick two to compare their configs. "
                                 "Load TensorBoard log… adds runs trained elsewhere, for this session.")
        self.intro.setWordWrap(True)
        self.batch_line = plain.label()  # the last seed batch's figures (its band is on the score plot)
        self.batch_line.setWordWrap(True)
        self.batch_line.setVisible(False)
        # Shorter than its texts, list and buttons need (a docked Tune view on a laptop), the tab scrolls.
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.batch_line)
        layout.addLayout(buttons)
        logs = QHBoxLayout()  # a row of its own: beside the others it would widen the column past a laptop's
        logs.addWidget(self.load_button)
        logs.addStretch(1)
        layout.addLayout(logs)
        layout.addWidget(self.diff)
        scroll_inside(self, inner)
        self.list.itemChanged.connect(self._ticks_changed)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.diff_button.clicked.connect(self.show_diff)
        self.seeds_button.clicked.connect(lambda: self.run_seeds.emit(self.seeds.value()))
        self.load_button.clicked.connect(self.choose_log)
        self._selection_changed()

    def show_runs(self, records: dict[int, RunRecord], tick: int | None = None) -> None:
        """List `records` (the session's runs log) as the tree of branches, keeping which runs are
        ticked (and ticking `tick`: the run a branch was taken from, drawn behind it)."""
        ticked = self._ticked_keys()
        if tick is not None:
            ticked.add(tick)
        self.records = dict(records)
        self._fill(ticked)
        self.ghosts_changed.emit(self.ghosts())

    def _ticked_keys(self) -> set[int | str]:
        return {item.data(Qt.UserRole) for item in self._items() if item.checkState() == Qt.Checked}

    def _fill(self, ticked: set[int | str]) -> None:
        """The list anew: the runs (each with what changed from the one before), then the loaded logs."""
        self.list.blockSignals(True)
        self.list.clear()
        previous = None
        for key, depth in tree_order(self.records):
            record = self.records[key]
            changed = f"\n    vs the run before: {short_diff(previous.config, record.config)}" \
                if previous and record.parent is None else ""
            self._add_item(key, "    " * min(depth, 6) + ("↳ " if depth else "") + record.summary() + changed,
                           "\n".join(record.hints) if record.hints else "The coach had nothing to say.", ticked)
            previous = record
        for log_key, ghost in self.logs.items():
            self._add_item(log_key, f"{ghost.name} — from a TensorBoard log", ghost.description, ticked)
        self.list.blockSignals(False)
        self._selection_changed()

    def _add_item(self, key: int | str, text: str, tip: str, ticked: set[int | str]) -> None:
        item = QListWidgetItem(text)
        plain.tooltip(item, tip)
        item.setData(Qt.UserRole, key)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if key in ticked else Qt.Unchecked)
        self.list.addItem(item)

    # --- TensorBoard logs ----------------------------------------------------------------
    def choose_log(self) -> None:
        """Pick a log folder (a --logdir, or one run's folder) and load its runs as ghosts."""
        path = QFileDialog.getExistingDirectory(self, "Load a TensorBoard log folder", self.last_log_dir)
        if path:
            self.last_log_dir = path
            self.load_log(Path(path))

    def load_log(self, folder: Path) -> None:
        """Read `folder` off the GUI thread; `log_loaded` or `log_failed` follows."""
        if self.loader.busy:  # File ▸ Load while the button waits: the read under way goes on
            self.log_failed.emit(f"a TensorBoard log is being read already; {shown_path(folder)} was not loaded")
            return
        self.load_button.setEnabled(False)
        self.load_button.setText("Reading the log…")
        self.loader.start(folder)

    def _log_done(self) -> None:
        self.load_button.setEnabled(True)
        self.load_button.setText("Load TensorBoard log…")

    def _log_loaded(self, result: LoadedLog) -> None:
        self._log_done()
        ticked = self._ticked_keys()
        first = len(self.logs)
        for i, ghost in enumerate(result.ghosts):
            key = f"log:{first + i + 1}"
            self.logs[key] = ghost
            if i < MAX_TICKED_ON_LOAD:
                ticked.add(key)
        self._fill(ticked)
        self.ghosts_changed.emit(self.ghosts())
        self.log_loaded.emit(result.message)

    def _log_failed(self, message: str) -> None:
        self._log_done()
        self.log_failed.emit(message)

    def env_changed(self, env_id: str) -> None:
        """Untick runs of other envs: their curves mean nothing on this env's plot."""
        changed = False
        for item in self._run_items():
            if item.checkState() == Qt.Checked and self.records[item.data(Qt.UserRole)].config.env_id != env_id:
                item.setCheckState(Qt.Unchecked)
                changed = True
        if changed:
            self.ghosts_changed.emit(self.ghosts())

    def untick_all(self) -> None:
        """A new run starts without the comparisons set up for the one before."""
        if self.ticked():
            self.list.blockSignals(True)
            for item in self._run_items():
                item.setCheckState(Qt.Unchecked)
            self.list.blockSignals(False)
            self._ticks_changed()

    def show_batch(self, text: str | None) -> None:
        """The last seed batch's mean ± std in words (None: no batch band on the plot)."""
        self.batch_line.setText(text or "")
        self.batch_line.setVisible(bool(text))

    def _ticks_changed(self, *_item: QListWidgetItem) -> None:
        self.ghosts_changed.emit(self.ghosts())
        self._selection_changed()

    def _compared(self) -> list[QListWidgetItem]:
        """The two runs Compare configs diffs: the two selected, else the two ticked."""
        runs = self._run_items()
        selected = [item for item in runs if item.isSelected()]
        if len(selected) == 2:
            return selected
        ticked = [item for item in runs if item.checkState() == Qt.Checked]
        return ticked if len(ticked) == 2 else []

    def _selection_changed(self) -> None:
        two = bool(self._compared())
        self.diff_button.setEnabled(two)
        self.diff_button.setToolTip("List the parameters in which the two runs differ" if two else
                                    "Select (Ctrl+click) or tick two runs to compare their configs")

    def ticked(self) -> list[RunRecord]:
        """The ticked runs of this session's log (not the loaded logs)."""
        return [self.records[item.data(Qt.UserRole)] for item in self._run_items() if item.checkState() == Qt.Checked]

    def ghosts(self) -> list[Ghost]:
        """What the score plot draws behind the current run: the ticked runs, then the ticked logs."""
        logs = [self.logs[key] for item in self._items()
                if isinstance(key := item.data(Qt.UserRole), str) and item.checkState() == Qt.Checked]
        return [run_ghost(record) for record in self.ticked()] + logs

    def _items(self) -> list[QListWidgetItem]:
        return [item for i in range(self.list.count()) if (item := self.list.item(i)) is not None]

    def _run_items(self) -> list[QListWidgetItem]:
        return [item for item in self._items() if isinstance(item.data(Qt.UserRole), int)]

    def show_diff(self) -> None:
        items = self._compared()
        if not items:
            return
        a, b = (self.records[item.data(Qt.UserRole)] for item in items)
        rows = config_diff(a.config, b.config)
        self.diff.setVisible(True)
        if not rows:
            self.diff.setHtml(f"<b>{esc(a.name)}</b> and <b>{esc(b.name)}</b> have the same config.")
            return
        body = "".join(f"<tr><td><code>{esc(name)}</code></td><td>{esc(str(x))}</td><td>{esc(str(y))}</td></tr>"
                       for name, x, y in rows)
        self.diff.setHtml(f"<table cellspacing='6'><tr><th align='left'>parameter</th><th>{esc(a.name)}</th>"
                          f"<th>{esc(b.name)}</th></tr>{body}</table>")
