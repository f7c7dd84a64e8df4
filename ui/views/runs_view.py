"""The session's runs: tick one to draw it as a ghost behind the current run, pick two (selected or
ticked) to diff their configs, or run several seeds of the panel's config back to back for a mean ±
std band, whose figures a line under the list keeps."""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sandbox.app.runs import RunRecord, config_diff, short_diff, tree_order
from ui import plain
from ui.plain import escape as esc


class RunsView(QWidget):
    ghosts_changed = pyqtSignal(object)  # list[RunRecord] ticked
    run_seeds = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: dict[int, RunRecord] = {}
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
        buttons = QHBoxLayout()
        buttons.addWidget(self.diff_button)
        buttons.addStretch(1)
        buttons.addWidget(self.seeds)
        buttons.addWidget(self.seeds_button)
        self.intro = plain.label("Finished and replaced runs, kept across restarts. Tick a run to draw it behind "
                                 "the current one; select (Ctrl+click) or tick two to compare their configs.")
        self.intro.setWordWrap(True)
        self.batch_line = plain.label()  # the last seed batch's figures (its band is on the score plot)
        self.batch_line.setWordWrap(True)
        self.batch_line.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.batch_line)
        layout.addLayout(buttons)
        layout.addWidget(self.diff)
        self.list.itemChanged.connect(self._ticks_changed)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.diff_button.clicked.connect(self.show_diff)
        self.seeds_button.clicked.connect(lambda: self.run_seeds.emit(self.seeds.value()))
        self._selection_changed()

    def show_runs(self, records: dict[int, RunRecord], tick: int | None = None) -> None:
        """List `records` (the session's runs log) as the tree of branches, keeping which runs are
        ticked (and ticking `tick`: the run a branch was taken from, drawn behind it)."""
        ticked = {item.data(Qt.UserRole) for item in self._items() if item.checkState() == Qt.Checked}
        if tick is not None:
            ticked.add(tick)
        self.records = dict(records)
        self.list.blockSignals(True)
        self.list.clear()
        previous = None
        for key, depth in tree_order(self.records):
            record = self.records[key]
            changed = f"\n    vs the run before: {short_diff(previous.config, record.config)}" \
                if previous and record.parent is None else ""
            item = QListWidgetItem("    " * min(depth, 6) + ("↳ " if depth else "") + record.summary() + changed)
            plain.tooltip(item, "\n".join(record.hints) if record.hints else "The coach had nothing to say.")
            previous = record
            item.setData(Qt.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if key in ticked else Qt.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._selection_changed()
        self.ghosts_changed.emit(self.ticked())

    def env_changed(self, env_id: str) -> None:
        """Untick runs of other envs: their curves mean nothing on this env's plot."""
        changed = False
        for item in self._items():
            if item.checkState() == Qt.Checked and self.records[item.data(Qt.UserRole)].config.env_id != env_id:
                item.setCheckState(Qt.Unchecked)
                changed = True
        if changed:
            self.ghosts_changed.emit(self.ticked())

    def untick_all(self) -> None:
        """A new run starts without the comparisons set up for the one before."""
        if self.ticked():
            self.list.blockSignals(True)
            for item in self._items():
                item.setCheckState(Qt.Unchecked)
            self.list.blockSignals(False)
            self._ticks_changed()

    def show_batch(self, text: str | None) -> None:
        """The last seed batch's mean ± std in words (None: no batch band on the plot)."""
        self.batch_line.setText(text or "")
        self.batch_line.setVisible(bool(text))

    def _ticks_changed(self, *_item: QListWidgetItem) -> None:
        self.ghosts_changed.emit(self.ticked())
        self._selection_changed()

    def _compared(self) -> list[QListWidgetItem]:
        """The two runs Compare configs diffs: the two selected, else the two ticked."""
        selected = self.list.selectedItems()
        if len(selected) == 2:
            return selected
        ticked = [item for item in self._items() if item.checkState() == Qt.Checked]
        return ticked if len(ticked) == 2 else []

    def _selection_changed(self) -> None:
        two = bool(self._compared())
        self.diff_button.setEnabled(two)
        self.diff_button.setToolTip("List the parameters in which the two runs differ" if two else
                                    "Select (Ctrl+click) or tick two runs to compare their configs")

    def ticked(self) -> list[RunRecord]:
        return [self.records[item.data(Qt.UserRole)] for item in self._items() if item.checkState() == Qt.Checked]

    def _items(self) -> list[QListWidgetItem]:
        return [item for i in range(self.list.count()) if (item := self.list.item(i)) is not None]

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
