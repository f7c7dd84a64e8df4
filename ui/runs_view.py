"""The session's runs: tick one to draw it as a ghost behind the current run, pick two to diff their
configs, or run several seeds of the panel's config back to back for a mean ± std band."""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sandbox.runs import RunRecord, config_diff


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
        self.diff_button.setToolTip("Select two runs, then list the parameters in which they differ")
        self.diff_button.setEnabled(False)
        self.seeds = QSpinBox()
        self.seeds.setRange(2, 20)
        self.seeds.setValue(3)
        self.seeds.setToolTip("How many seeds (the panel's seed, +1, +2, …)")
        self.seeds_button = QPushButton("Run seeds")
        self.seeds_button.setToolTip("Train the panel's config with several seeds back to back and draw the mean "
                                     "± std of their moving averages")
        self.diff = QLabel("")
        self.diff.setWordWrap(True)
        self.diff.setTextFormat(Qt.RichText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.diff_button)
        buttons.addStretch(1)
        buttons.addWidget(self.seeds)
        buttons.addWidget(self.seeds_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Finished and replaced runs of this session:"))
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.diff)
        self.list.itemChanged.connect(lambda _item: self.ghosts_changed.emit(self.ticked()))
        self.list.itemSelectionChanged.connect(
            lambda: self.diff_button.setEnabled(len(self.list.selectedItems()) == 2))
        self.diff_button.clicked.connect(self.show_diff)
        self.seeds_button.clicked.connect(lambda: self.run_seeds.emit(self.seeds.value()))

    def put(self, key: int, record: RunRecord) -> None:
        """Add a run, or update it if `key` is already listed (a run that finished, then went on)."""
        self.records[key] = record
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.UserRole) == key:
                item.setText(record.summary())
                self.ghosts_changed.emit(self.ticked())
                return
        item = QListWidgetItem(record.summary())
        item.setData(Qt.UserRole, key)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Unchecked)
        self.list.addItem(item)

    def ticked(self) -> list[RunRecord]:
        return [self.records[self.list.item(i).data(Qt.UserRole)] for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked]

    def show_diff(self) -> None:
        items = self.list.selectedItems()
        if len(items) != 2:
            return
        a, b = (self.records[item.data(Qt.UserRole)] for item in items)
        rows = config_diff(a.config, b.config)
        if not rows:
            self.diff.setText(f"<b>{a.name}</b> and <b>{b.name}</b> have the same config.")
            return
        body = "".join(f"<tr><td><code>{name}</code></td><td>{x}</td><td>{y}</td></tr>" for name, x, y in rows)
        self.diff.setText(f"<table cellspacing='6'><tr><th align='left'>parameter</th><th>{a.name}</th>"
                          f"<th>{b.name}</th></tr>{body}</table>")
