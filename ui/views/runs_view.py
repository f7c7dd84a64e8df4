"""The session's runs: tick one to draw it as a ghost behind the current run, pick two to diff their
configs, or run several seeds of the panel's config back to back for a mean ± std band."""

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

from sandbox.app.runs import RunRecord, config_diff, short_diff
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
        self.list.setToolTip("Tick a run to draw its moving average faintly behind the current run; select two "
                             "to compare their configs")
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
        layout = QVBoxLayout(self)
        title = plain.label("Finished and replaced runs (kept across restarts):")
        title.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.diff)
        self.list.itemChanged.connect(lambda _item: self.ghosts_changed.emit(self.ticked()))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.diff_button.clicked.connect(self.show_diff)
        self.seeds_button.clicked.connect(lambda: self.run_seeds.emit(self.seeds.value()))
        self._selection_changed()

    def show_runs(self, records: dict[int, RunRecord]) -> None:
        """List `records` (the session's runs log), keeping which runs are ticked."""
        ticked = {item.data(Qt.UserRole) for item in self._items() if item.checkState() == Qt.Checked}
        self.records = dict(records)
        self.list.blockSignals(True)
        self.list.clear()
        previous = None
        for key, record in self.records.items():
            changed = f"\n    vs the run before: {short_diff(previous.config, record.config)}" if previous else ""
            item = QListWidgetItem(record.summary() + changed)
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

    def _selection_changed(self) -> None:
        two = len(self.list.selectedItems()) == 2
        self.diff_button.setEnabled(two)
        self.diff_button.setToolTip("List the parameters in which the two selected runs differ" if two else
                                    "Select two runs (Ctrl+click) to compare their configs")

    def ticked(self) -> list[RunRecord]:
        return [self.records[item.data(Qt.UserRole)] for item in self._items() if item.checkState() == Qt.Checked]

    def _items(self) -> list[QListWidgetItem]:
        return [item for i in range(self.list.count()) if (item := self.list.item(i)) is not None]

    def show_diff(self) -> None:
        items = self.list.selectedItems()
        if len(items) != 2:
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
