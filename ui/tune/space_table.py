"""The Tune view's table of fields to search: tick a field to search it, edit its range (`low..high`)
or its choices (`a,b`); read back as a checked space, exactly as `tune --params/--set` check theirs."""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from sandbox.tune.space import DEFAULT_PARAMS, Dist, build_space, default_dist, tunable
from ui import plain


def range_text(dist: Dist) -> str:
    """A distribution as its editable text: `low..high` or `a,b`."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:g}" if isinstance(value, float) else str(value)

    if dist.kind == "categorical":
        return ",".join(text(c) for c in dist.choices)
    return f"{text(dist.low)}..{text(dist.high)}"


class SpaceTable(QTableWidget):
    """The fields a search may vary: a tick to search one, its range as editable text."""

    def __init__(self) -> None:
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels(["search", "range"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Tick the fields to search. Ranges come from each field's recommended range; edit them as "
                        "low..high (numbers) or a,b (choices). A single value fixes the field.")
        self.defaults: dict[str, str] = {}
        for name in tunable():
            dist = default_dist(name)
            row = self.rowCount()
            self.insertRow(row)
            tick = QTableWidgetItem(name)
            tick.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
            tick.setCheckState(Qt.Checked if name in DEFAULT_PARAMS else Qt.Unchecked)
            plain.tooltip(tick, dist.describe())
            self.defaults[name] = range_text(dist)
            text = QTableWidgetItem(self.defaults[name])
            plain.tooltip(text, dist.describe() + (" — searched on a log scale" if dist.log else ""))
            self.setItem(row, 0, tick)
            self.setItem(row, 1, text)
        self.resizeRowsToContents()
        self.resizeColumnToContents(0)
        self.setColumnWidth(1, 110)
        self.setMinimumWidth(170)  # narrower: it scrolls sideways

    def space(self) -> tuple[dict[str, Dist], dict[str, Any]]:
        """(searched fields, fixed values) from the table, checked as `tune --params/--set` checks them."""
        names, sets = [], []
        for tick, cell in self._rows():
            name, text = tick.text(), cell.text().strip()
            if tick.checkState() == Qt.Checked:
                names.append(name)
                if text != self.defaults[name]:
                    sets.append(f"{name}={text}")
        return build_space(names, sets)

    def set_searched(self, ranges: dict[str, str | None]) -> None:
        """Tick exactly the fields of `ranges` (None: the default range); untick the others."""
        for tick, cell in self._rows():
            name = tick.text()
            tick.setCheckState(Qt.Checked if name in ranges else Qt.Unchecked)
            cell.setText(ranges.get(name) or self.defaults[name])

    def _rows(self) -> list[tuple[QTableWidgetItem, QTableWidgetItem]]:
        """(the field's tick box, its range cell) of every row: both are made for each field."""
        rows = []
        for row in range(self.rowCount()):
            tick, cell = self.item(row, 0), self.item(row, 1)
            assert tick is not None and cell is not None
            rows.append((tick, cell))
        return rows
