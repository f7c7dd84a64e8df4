"""The parameter panel, generated from `sandbox.core.config.Config`'s fields: no hand-written field list.

Each field gets an editor by type (choices → combo box, bool → check box, numbers and text → line
edit validated on Enter or focus-out), a tooltip from its explanation and range, and an inline
error label. Live fields stay editable while training; the others are locked while a run exists
and take effect through "New agent".
"""

from __future__ import annotations

from typing import Any, cast

import gymnasium as gym
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from sandbox.core.config import (
    FIELDS,
    GROUPS,
    KIND,
    LIVE_FIELDS,
    Config,
    ConfigError,
    allowed,
    coerce,
    preset_description,
)
from sandbox.core.diagnostics import learning_summary
from sandbox.core.env_profiles import SHAPING_ENVS
from sandbox.core.envs import SUGGESTED_ENVS
from ui import plain

ERROR_STYLE = "color: #b00020;"
FIELD_MIN_WIDTH = 135  # "MountainCar-v0" and "potential" fit, arrow included
LABEL_MAX_WIDTH = 130  # a longer field name wraps onto a second line: the panel fits a laptop's narrow column
INVALID_EDIT_STYLE = "QLineEdit { border: 1px solid #b00020; background: #fff0f0; }"


def tooltip(name: str) -> str:
    """A field's help as plain text, one fact a line (shown through plain.tooltip)."""
    m = FIELDS[name].metadata
    parts = [f"{name}: {m['help']}", f"Allowed: {allowed(name)}."]
    if m["recommended"]:
        parts.append(f"Recommended: {m['recommended']}.")
    parts.append("Can change while training." if name in LIVE_FIELDS else "Needs a new agent to change.")
    return "\n".join(parts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ParameterPanel(QWidget):
    """Edits a Config. Emits `edited(dict)` with one validated change; `config` is always valid."""

    edited = pyqtSignal(object)  # {name: value}, already validated against `config`
    preset_chosen = pyqtSignal(str)
    draft_changed = pyqtSignal(object)  # Config: what the panel shows now, by an edit or set_config

    def __init__(self, config: Config, presets: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._run_exists = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        head = QFormLayout()
        self.preset_box = QComboBox()
        self.preset_box.addItem("— choose a preset —", "")
        for name in presets:
            self.preset_box.addItem(name, name)
            self.preset_box.setItemData(self.preset_box.count() - 1, preset_description(name), Qt.ToolTipRole)
        self.preset_box.setToolTip("Load a named set of hyperparameters (starts a new agent).")
        self.preset_box.activated.connect(self._preset_activated)
        head.addRow("Preset", self.preset_box)
        # Always shown, so the panel never shifts under the pointer when a run starts or ends.
        self.lock_note = plain.label("Fields marked ⟳ need a new agent (File ▸ New agent); the rest change live.")
        self.lock_note.setWordWrap(True)
        self.lock_note.setStyleSheet("color: #666;")
        self.problem = plain.label("")  # what was not applied, or what was reset to fit (persists until the next edit)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setVisible(False)
        outer.addLayout(head)
        outer.addWidget(self.lock_note)
        outer.addWidget(self.problem)
        self.fields_area = self._fields_area()
        outer.addWidget(self.fields_area, 1)
        self.set_config(config)

    # --- building ----------------------------------------------------------------------
    def _fields_area(self) -> QScrollArea:
        """Every field in its group, in one scrolled column whose labels share one width."""
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)  # its width is reserved: no field runs under it
        inner = QWidget()
        column = QVBoxLayout(inner)
        self.labels: list[QLabel] = []
        for group in GROUPS:
            box = QGroupBox(group)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            for name, f in FIELDS.items():
                if f.metadata["group"] == group:
                    self._add_field(form, name)
            if group == "Learning":  # how hard the agent learns, beside the fields that set it
                self.intensity = plain.label()
                self.intensity.setWordWrap(True)
                self.intensity.setStyleSheet("color: #555;")
                self.intensity.setToolTip("Set by update_interval, update_times, batch_size, memory_capacity and "
                                          "gamma. DQN on these tasks usually needs ≥ 0.5 gradient steps per env step.")
                form.addRow(self.intensity)
            column.addWidget(box)
        column.addStretch(1)
        label_width = min(LABEL_MAX_WIDTH, max(label.sizeHint().width() for label in self.labels))
        for label in self.labels:  # one label column width: every group's fields start at the same x
            label.setWordWrap(True)
            label.setFixedWidth(label_width)
        for editor in self.editors.values():
            editor.setMinimumWidth(FIELD_MIN_WIDTH)
        scroll.setWidget(inner)
        self.setMinimumWidth(label_width + FIELD_MIN_WIDTH + 70)  # margins, spacing and the scroll bar
        return scroll

    def _add_field(self, form: QFormLayout, name: str) -> None:
        f = FIELDS[name]
        choices = f.metadata["choices"]
        editor: QWidget
        if name == "env_id":
            env_box = QComboBox()
            env_box.setEditable(True)
            env_box.addItems(SUGGESTED_ENVS)
            env_box.lineEdit().editingFinished.connect(lambda n=name: self._commit_text(n))
            env_box.activated.connect(lambda _i, n=name: self._commit_text(n))
            editor = env_box
        elif choices:
            choice_box = QComboBox()
            for choice in choices:
                choice_box.addItem(str(choice), choice)
            choice_box.activated.connect(lambda _i, box=choice_box, n=name: self._commit(n, box.currentData()))
            editor = choice_box
        elif KIND[f.name] is bool:
            editor = QCheckBox()
            editor.clicked.connect(lambda checked, n=name: self._commit(n, checked))
        else:
            editor = QLineEdit()
            editor.editingFinished.connect(lambda n=name: self._commit_text(n))
        editor.setObjectName(name)
        plain.tooltip(editor, tooltip(name))
        label = plain.label(name.replace("_", " ") + ("" if name in LIVE_FIELDS else " ⟳"))
        plain.tooltip(label, tooltip(name))
        self.labels.append(label)
        error = plain.label()
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.setVisible(False)
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.setSpacing(1)
        cell_layout.addWidget(editor)
        cell_layout.addWidget(error)
        form.addRow(label, cell)
        self.editors[name] = editor
        self.errors[name] = error

    # --- state -------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The config the panel shows (always valid): the draft that New, Run seeds and Tune start from."""
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        changed = config != self._config
        self._config = config
        if changed:
            self.draft_changed.emit(config)

    def set_config(self, config: Config, keep_problem: bool = False) -> None:
        """Show `config` in every editor and clear all errors."""
        self.config = config
        self._show_intensity()
        if not keep_problem:
            self.show_problem(None)
        for name, editor in self.editors.items():
            value = getattr(config, name)
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox) and not editor.isEditable():
                editor.setCurrentIndex(editor.findData(value))
            elif isinstance(editor, QComboBox):
                editor.setEditText(str(value))
            elif isinstance(editor, QLineEdit):
                editor.setText(_text(value))
            editor.blockSignals(False)
            self._show_error(name, None)

    def _show_intensity(self) -> None:
        spec = gym.registry.get(self.config.env_id)
        self.intensity.setText(learning_summary(self.config, spec.max_episode_steps if spec else None))

    @property
    def run_exists(self) -> bool:
        return self._run_exists

    def set_run_exists(self, exists: bool) -> None:
        """Lock the fields that need a new agent while a run exists. A note on how the panel's config was
        made to fit (a reset reward_shaping) is for before the run: it goes once the run trains."""
        if exists and not self._run_exists:
            self.show_problem(None)
        self._run_exists = exists
        for name, editor in self.editors.items():
            editor.setEnabled(name in LIVE_FIELDS or not exists)

    def show_problem(self, message: str | None) -> None:
        """A panel-wide line: what was not applied, or what was reset to fit (None hides it)."""
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))

    def select_preset(self, name: str) -> None:
        self.preset_box.setCurrentIndex(max(self.preset_box.findData(name), 0))

    def set_value(self, name: str, text: str) -> bool:
        """Type `text` into a field as a user would and commit it; returns whether it was accepted."""
        editor = self.editors[name]
        if isinstance(editor, QLineEdit):
            editor.setText(text)
        elif isinstance(editor, QComboBox):
            editor.setEditText(text)
        return self._commit_text(name)

    # --- editing -----------------------------------------------------------------------
    def _commit_text(self, name: str) -> bool:
        editor = self.editors[name]
        text = editor.currentText() if isinstance(editor, QComboBox) else cast(QLineEdit, editor).text()
        try:
            value = coerce(name, text)
        except ConfigError as exc:
            self._show_error(name, str(exc))
            return False
        return self._commit(name, value)

    def _commit(self, name: str, value: Any) -> bool:
        if getattr(self.config, name) == value and type(getattr(self.config, name)) is type(value):
            self._show_error(name, None)
            return True
        changes = {name: value}
        note = None
        if name == "env_id" and self.config.reward_shaping != "none" and value not in SHAPING_ENVS:
            changes["reward_shaping"] = "none"  # an explicit, announced reset: the old env's shaping cannot apply
            note = (f"reward_shaping was reset to 'none': potential shaping is defined for "
                    f"{', '.join(SHAPING_ENVS)} only.")
        try:
            new = self.config.with_changes(**changes)
        except ConfigError as exc:
            self._show_error(name, str(exc))
            return False
        self._show_error(name, None)
        self.show_problem(note)
        self.config = new
        self._show_intensity()
        if note:
            self.set_config(new, keep_problem=True)
        self.preset_box.setCurrentIndex(0)
        self.edited.emit(changes)
        return True

    def _show_error(self, name: str, message: str | None) -> None:
        label, editor = self.errors[name], self.editors[name]
        label.setText(message or "")
        label.setVisible(message is not None)
        if isinstance(editor, QLineEdit):
            editor.setStyleSheet(INVALID_EDIT_STYLE if message else "")

    def error_text(self, name: str) -> str:
        return self.errors[name].text() if self.errors[name].isVisibleTo(self) else ""

    def _preset_activated(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name:
            self.preset_chosen.emit(name)

