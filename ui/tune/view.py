"""The Tune view, a dock of the main window: a hyperparameter search (`sandbox/tune/search.py`) from the
panel's config.

Pick the fields to search (their ranges come from the config metadata through
`sandbox/tune/space.py`, editable as `low..high` or `a,b`), the objective, seeds per trial, trials,
worker processes and pruner; Start. The search runs in worker processes; a QThread here starts
them and polls the study's storage a few times a second, so the GUI thread never waits on the
database or on training. When the workers end, the study's top trials are re-checked on unseen seeds
(`sandbox/tune/recheck.py`); the best on that re-check (before one, the best value, said to be not
re-checked) is highlighted, and "Use these parameters" starts a new agent with its config through
the window's normal path. The study lives in the same SQLite
file as the CLI's, so `rl-sandbox tune show --study NAME` shows it too.

Stored studies are untrusted input: their names, params and notes are shown as plain text
(`ui/plain.py`: Qt would render a name like `<img src=…>` as rich text and open the path), cut to
fit a cell, and a stored search or a trial's params that the checks refuse is said in the status
line; no slot lets an exception out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QBrush, QColor, QFont
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sandbox.core.config import Config, ConfigError
from sandbox.io.files import PathError, data_dir
from sandbox.io.text import shown
from sandbox.tune.recheck import RECHECK_SEEDS, RECHECK_TOP
from sandbox.tune.results import (
    SearchRun,
    StoredStudy,
    TrialRow,
    best_row,
    read_study,
    stored_study_names,
    study_name_now,
)
from sandbox.tune.search import PRUNERS, make_spec, study_name_problem
from ui import plain, wrapped_height
from ui.tune.cells import counts_text, full_text, state_text, value_cell, value_text
from ui.tune.space_table import SpaceTable, range_text
from ui.tune.threads import ReadThread, SearchThread
from ui.wrapped_height import keep_wrapped_height

BEST_BRUSH = QBrush(QColor("#d6f5d6"))
OBJECTIVES = (("steps", "steps to solve", "Env steps until a greedy check solves the env (fewer is better)"),
              ("score", "best greedy mean", "The best mean of the greedy checks (higher is better)"))


class TuneView(QWidget):
    """Sets up a search from the current config, shows its trials live, applies the best one."""

    def __init__(self, base_config: Callable[[], Config], apply: Callable[[Config, str], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_config, self.apply = base_config, apply
        self.thread_: SearchThread | None = None
        self.searching = False
        self.search: SearchRun | None = None
        self.source: SearchRun | StoredStudy | None = None  # what the trials table shows: a search or a stored study
        self.readers: list[ReadThread] = []
        self.rows: list[TrialRow] = []
        self.columns: list[str] = []
        self.shown_once = False
        self.dock: QDockWidget | None = None  # where the window put it (ui/tune/dock.py)
        self._make_fields()
        self._make_status_and_buttons()
        # Three panes side by side: a dock at the bottom is wide and short, so each gets its full height.
        splitter = QSplitter(Qt.Horizontal)
        for pane in (self._setup_column(), self._options_column(), self.trials_table):
            splitter.addWidget(pane)
        splitter.setStretchFactor(2, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([self.space_table.columnWidth(0) + 170, 380, 500])
        self.splitter = splitter
        # Below its minimum size (a narrow window, a short dock) the panes scroll; the status line and the
        # buttons stay below them, always in view.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(splitter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.use_button.clicked.connect(self.use_best)
        self.refresh_base()

    def _make_fields(self) -> None:
        """The search's fields: what it varies, how a trial is scored, how much each costs."""
        self.study_box = QComboBox()
        self.study_box.setEditable(True)
        self.study_box.setInsertPolicy(QComboBox.NoInsert)
        self.study_box.setToolTip("The study's name in the storage; a new name starts a new study, the name of "
                                  "one with the same search continues it. The list holds the stored studies: "
                                  "pick one to see its trials. rl-sandbox tune show --study NAME prints it.")
        self.study_edit = self.study_box.lineEdit()
        self.study_edit.setText(study_name_now())
        self.study_box.activated[str].connect(self.open_study)
        self.study_edit.textEdited.connect(self._name_edited)
        self.space_table = SpaceTable()

        self.objective = QComboBox()
        for key, label, tip in OBJECTIVES:
            self.objective.addItem(label, key)
            self.objective.setItemData(self.objective.count() - 1, tip, Qt.ToolTipRole)
        self.objective.setToolTip("What a trial scores: the median over its seeds")
        self.seeds = spin(1, 100, 3, "Seeds trained per trial; the trial scores their median")
        self.trials = spin(1, 100_000, 20, "Finished trials the study should hold (a study continued by name "
                                            "counts the ones it has)")
        self.jobs = spin(1, max(1, os.cpu_count() or 1), 1, "Worker processes on this machine (each trains one "
                                                              "trial at a time)")
        self.pruner = QComboBox()
        for name in PRUNERS:
            self.pruner.addItem(name, name)
        self.pruner.setToolTip("Stops hopeless trials early: median is Optuna's median pruner; progress ranks "
                               "trials by value, then by how high their greedy policy swings (MountainCar), and "
                               "cuts those behind half the others")
        self.budget = spin(100, 10**9, 100_000, "Env steps per seed of a trial", step=10_000)
        self.eval_episodes = spin(1, 10_000, 100, "Episodes of each greedy check (no exploration, the env's "
                                                           "true reward, a separately seeded env)")
        self.eval_every = spin(1, 10**6, 20, "Training episodes between greedy checks (each goes to the pruner)")
        self.eval_every.setSuffix(" episodes")
        for widget in (self.study_box, self.seeds, self.trials, self.jobs, self.budget, self.eval_episodes,
                       self.eval_every):
            widget.setMinimumWidth(60)  # a dock at the bottom shares the window's width: no wide minimum

    def _setup_column(self) -> QWidget:
        setup = QWidget()
        left = QVBoxLayout(setup)
        left.setContentsMargins(0, 0, 0, 0)
        self.base_label = plain.label()
        keep_wrapped_height(self.base_label)
        self.base_label.setStyleSheet("color: #666;")
        left.addWidget(self.space_table, 1)
        left.addWidget(self.base_label)
        return setup

    def _options_column(self) -> QWidget:
        """The study's name and options, two pairs a row (the dock is short)."""
        options = QGridLayout()
        options.setContentsMargins(0, 0, 0, 0)
        options.setColumnStretch(1, 1)
        options.setColumnStretch(3, 1)
        options.addWidget(plain.label("Study"), 0, 0)
        options.addWidget(self.study_box, 0, 1, 1, 3)
        pairs = (("Objective", self.objective), ("Pruner", self.pruner), ("Seeds per trial", self.seeds),
                 ("Trials", self.trials), ("Steps per seed", self.budget), ("Jobs (processes)", self.jobs),
                 ("Greedy episodes", self.eval_episodes), ("Check every", self.eval_every))
        for i, (label, widget) in enumerate(pairs):
            options.addWidget(plain.label(label), 1 + i // 2, 2 * (i % 2))
            options.addWidget(widget, 1 + i // 2, 2 * (i % 2) + 1)
        options.setRowStretch(len(pairs) // 2 + 1, 1)
        column = QWidget()
        column.setLayout(options)
        return column

    def _make_status_and_buttons(self) -> None:
        self.status = plain.label("Not started. Each trial trains its seeds in worker processes; training here "
                                  "goes on.")
        self.status.setWordWrap(True)
        # Two lines kept for it: a search's news never moves the panes or the buttons.
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self.trials_table = QTableWidget(0, 0)
        self.trials_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.trials_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.trials_table.verticalHeader().setVisible(False)
        self.trials_table.setMinimumSize(220, 80)  # a short dock scrolls the panes rather than squash it
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start a search from the panel's current config")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the worker processes now (their running trials are marked stopped)")
        self.stop_button.setEnabled(False)
        self.use_button = QPushButton("Use these parameters")
        self.use_button.setToolTip("Start a new agent with the best trial's config (asks before discarding "
                                   "unsaved training)")
        self.use_button.setEnabled(False)

    # --- setting up -------------------------------------------------------------------
    def refresh_base(self) -> None:
        config = self.base_config()
        try:
            where = f"Studies are stored in {data_dir() / 'tune.db'}."
        except PathError as exc:
            where = f"Studies cannot be stored: {exc}."
        self.base_label.setText(f"Trials start from the panel's config ({config.env_id}); unticked fields keep "
                                f"its values. {where}")
        wrapped_height.fit(self.base_label)

    # --- running ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Until the view has shown the end (the poller thread ends before its queued `ended` arrives)."""
        return self.searching

    def start(self) -> None:
        if self.running:
            return
        self.refresh_base()
        try:
            space, fixed = self.space_table.space()
            base = self.base_config().with_changes(**fixed)
            spec = make_spec(base, space, self.objective.currentData(), self.seeds.value(), self.budget.value(),
                             self.eval_every.value(), self.eval_episodes.value())
        except ConfigError as exc:
            self.status.setText(f"Not started: {str(exc).removeprefix('--set ')}")
            return
        name = self.study_edit.text().strip() or study_name_now()
        if problem := study_name_problem(name):
            self.status.setText(f"Not started: the study name {problem}")
            return
        self.study_edit.setText(name)
        try:
            self.search = self.source = SearchRun(spec, name, self.trials.value(), self.jobs.value(),
                                                  self.pruner.currentData())
        except PathError as exc:  # no data folder for the default storage
            self.status.setText(f"Not started: {exc}")
            return
        self._clear_trials(list(spec.space))
        thread = SearchThread(self.search)
        thread.started_search.connect(self._on_started)
        thread.rows_ready.connect(self.show_rows)
        thread.rechecking.connect(self._on_rechecking)
        thread.failed.connect(self._on_failed)
        thread.ended.connect(self._on_ended)
        self.thread_ = thread
        self._set_running(True)
        self.status.setText(f"Starting study {shown(name, 120)}: {self.jobs.value()} worker process"
                            f"{'es' if self.jobs.value() > 1 else ''}…")
        thread.start()

    def stop(self) -> None:
        """Ask the poller to stop the workers; `ended` says what they finished."""
        if self.running and self.thread_ is not None:
            self.thread_.stop_asked.set()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping the worker processes…")

    def shutdown(self, timeout_ms: int = 15_000) -> None:
        """Stop the search and wait for it (the window is closing): no worker process outlives the app."""
        thread = self.thread_
        if thread is None:
            return
        thread.stop_asked.set()
        if not thread.wait(timeout_ms) and self.search is not None:
            self.search.stop(grace=1.0)  # the poller is stuck on the database: end the workers from here
        self.searching = False

    def _set_running(self, running: bool) -> None:
        self.searching = running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.space_table, self.study_box, self.objective, self.seeds, self.trials, self.jobs,
                       self.pruner, self.budget, self.eval_episodes, self.eval_every):
            widget.setEnabled(not running)

    def _on_started(self) -> None:
        s = self.search
        assert s is not None  # its poller started it
        joined = " (continued: it already held trials)" if s.existed else ""
        self.status.setText(f"Study {shown(s.study, 120)}{joined}: {s.jobs} worker process{'es' if s.jobs > 1 else ''} "
                            f"running, objective {s.spec.objective} ({s.direction}).")

    def _on_rechecking(self) -> None:
        self.status.setText(f"Re-checking the top {RECHECK_TOP} trials on {RECHECK_SEEDS} seeds no trial saw, "
                            "before naming the best…")

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.status.setText(f"Not started: {message}")

    def _on_ended(self, rows: list[TrialRow], left: int, stopped: bool) -> None:
        self.rows = []  # shown again: the re-check may name another best than the same rows did
        self.show_rows(rows)
        self._set_running(False)
        done, s = counts_text(rows), self.search
        assert s is not None  # its poller reports its end
        if stopped:
            text = f"Stopped study {shown(s.study, 120)}: {done}"
            if left:
                text += f" ({left} stopped while running)"
        else:
            codes = [p.exitcode for p in s.procs if p.exitcode]
            text = f"Finished study {shown(s.study, 120)}: {done}"
            if codes:
                text += f"; {len(codes)} worker process(es) failed (exit codes {codes})"
            if (best := self.best()) is not None:
                text += f"; best #{best.number}: {self.best_words()}"
        self.status.setText(text + f".\nrl-sandbox tune show --study {s.study} prints it.")
        self.load_names()  # the list holds the study just made

    # --- stored studies ----------------------------------------------------------------
    def load_names(self) -> None:
        """Fill the study list from the storage, off the GUI thread."""
        self._read(stored_study_names, self._show_names)

    def _show_names(self, names: list[str]) -> None:
        text = self.study_edit.text()
        self.study_box.clear()
        self.study_box.addItems(list(reversed(names)))
        self.study_edit.setText(text)

    def open_study(self, name: str) -> None:
        """Show a stored study's trials and search (picked from the list); Start would continue it."""
        if not self.running:
            self.status.setText(f"Reading study {shown(name, 120)}…")
            self._read(lambda: read_study(name), self._show_study, self._study_refused)

    def _name_edited(self, name: str) -> None:
        """Another name typed: the table must not go on showing (and offering) the last study's trials."""
        showing = self.source.study if isinstance(self.source, SearchRun) else getattr(self.source, "name", None)
        if self.running:
            return
        if showing is not None and name.strip() != showing:
            self.source = None
            self._clear_trials(self.columns)
        if self.source is None:
            self.status.setText(f"Study {shown(name.strip(), 120)}: Start begins it, or continues it if it is "
                                "stored.")

    def _show_study(self, study: StoredStudy) -> None:
        if self.running or study.name != self.study_edit.text().strip():  # another name typed while it was read
            return
        spec, self.source = study.spec, study
        self.space_table.set_searched({name: range_text(dist) for name, dist in spec.space.items()})
        self.objective.setCurrentIndex(self.objective.findData(spec.objective))
        for box, value in ((self.seeds, spec.seeds), (self.budget, spec.budget), (self.eval_every, spec.eval_every),
                           (self.eval_episodes, spec.eval_episodes)):
            box.setValue(value)
        self._clear_trials(list(spec.space))
        self.show_rows(study.rows)
        self.status.setText(f"Study {shown(study.name, 120)} (stored): {counts_text(study.rows)}; objective "
                            f"{spec.objective} ({study.direction}), from {spec.base['env_id']}. Start continues it "
                            "from the panel's config.")

    def _study_refused(self, message: str) -> None:
        """A stored study that cannot be shown (its search refused, a damaged database): nothing of it is."""
        if not self.running:
            self.source = None
            self._clear_trials(self.columns)
        self._read_failed(message)

    def _read_failed(self, message: str) -> None:
        self.status.setText(f"Could not read the studies: {message}")

    def _read(self, read: Callable[[], Any], then: Callable[[Any], None],
              failed: Callable[[str], None] | None = None) -> None:
        thread = ReadThread(read)
        thread.done.connect(then)
        thread.failed.connect(failed or self._read_failed)
        thread.finished.connect(lambda: self.readers.remove(thread))
        self.readers.append(thread)
        thread.start()

    # --- trials -----------------------------------------------------------------------
    def _clear_trials(self, columns: list[str]) -> None:
        self.columns, self.rows = columns, []
        self.trials_table.clear()
        self.trials_table.setRowCount(0)
        self.trials_table.setColumnCount(4 + len(columns))
        self.trials_table.setHorizontalHeaderLabels(["#", "state", "value", *columns, "note"])
        header = self.trials_table.horizontalHeaderItem(2)
        assert header is not None  # set by the labels just above
        header.setToolTip(
            "The median over the trial's seeds of: env steps until a greedy check solved (objective steps; an "
            "unsolved seed counts as the budget plus a penalty, and such a value reads 'unsolved'), or the best "
            "greedy mean (score)")
        self.use_button.setEnabled(False)
        self.use_button.setText("Use these parameters")

    def best(self) -> TrialRow | None:
        """The best trial: the best on the study's re-check, or the best value while it has none."""
        if self.source is None:
            return None
        return best_row(self.rows, self.source.direction, self.source.recheck)

    def rechecked(self, best: TrialRow) -> bool:
        recheck = self.source.recheck if self.source is not None else None
        return recheck is not None and recheck.best is not None and recheck.best.number == best.number

    def show_rows(self, rows: list[TrialRow]) -> None:
        if rows == self.rows and self.trials_table.rowCount() == len(rows):
            return
        self.rows = list(rows)
        best = self.best()
        table = self.trials_table
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            raw = [row.number, row.state, row.value, *(row.params.get(name) for name in self.columns), row.note]
            is_best = best is not None and row.number == best.number
            for j, value in enumerate(raw):
                item = table.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(i, j, item)
                text = value_text(value)
                value_tip = ""
                if j == 1:
                    text = state_text(row)
                elif j == 2 and self.source is not None:
                    text, value_tip = value_cell(row, self.source.spec.objective, self.source.spec.budget)
                item.setText(text)
                item.setData(Qt.UserRole, value)
                item.setBackground(BEST_BRUSH if is_best else QBrush())
                font = QFont(item.font())
                font.setBold(is_best)
                item.setFont(font)
                cut_text = j > 2 and isinstance(value, str) and text != full_text(value)  # a cut cell shows more
                tip = [full_text(value)] if cut_text else [value_tip] if value_tip else []
                plain.tooltip(item, "\n".join(tip + ([self.best_words()] if is_best else [])))
        table.resizeColumnsToContents()
        self.use_button.setEnabled(best is not None)
        if best is not None:
            checked = "re-checked" if self.rechecked(best) else "not re-checked"
            self.use_button.setText(f"Use these parameters (#{best.number}, {checked})")

    def best_words(self) -> str:
        """What the highlighted trial is: the best on the re-check (its value and seeds solved there), or the
        best value so far, not re-checked."""
        best = self.best()
        recheck = self.source.recheck if self.source is not None else None
        if best is None or recheck is None or recheck.best is None or not self.rechecked(best):
            return "the best value so far (not re-checked on unseen seeds)"
        r = recheck.best
        return (f"the best on the re-check of the top {len(recheck.trials)} on {len(recheck.seeds)} unseen seeds: "
                f"{r.value:g}, {r.solved}/{len(r.seeds)} solved")

    def best_config(self) -> Config | None:
        """The best trial's full config; ConfigError (one line) when its stored params are refused."""
        best = self.best()
        return None if best is None or self.source is None else self.source.config_for(best)

    def use_best(self) -> None:
        best = self.best()
        try:
            config = self.best_config()
        except ConfigError as exc:  # a trial written elsewhere, with params the config refuses
            self.status.setText(f"Cannot use {exc}")
            return
        if config is not None and best is not None:
            self.apply(config, f"start a new agent with trial {best.number}'s parameters")


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    """A number box of the setup column, with thousands separators and its tooltip."""
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    plain.tooltip(box, tip)
    return box
