"""The main window: parameter panel, live render, plots, controls, status bar, agent files."""

from __future__ import annotations

import json
from pathlib import Path

from PyQt5.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sandbox.agent_file import SUFFIX
from sandbox.best import BestMark
from sandbox.config import LIVE_FIELDS, Config, ConfigError, load_preset, preset_names
from sandbox.evaluate import EvalResult, GreedyStep
from sandbox.policy_map import unavailable_reason
from sandbox.runs import RunRecord, seed_band
from sandbox.trainer import EpisodeStats, StepResult
from ui.inspector import DiagnosticsView, MapView
from ui.parameter_panel import ParameterPanel
from ui.plots import TrainingPlots
from ui.recovery import RecoveryStore
from ui.render_view import RenderView
from ui.runs_view import RunsView
from ui.worker import AgentSnapshot, Inspection, State, Status, start_worker

APP_NAME = "RL Sandbox"
AUTOSAVE_MS = 3 * 60 * 1000
EVAL_EPISODES = 100
FILE_FILTER = f"RL Sandbox agents (*{SUFFIX});;All files (*)"


# Arrow keys -> actions by action count: MountainCar/Acrobot (left, none, right), CartPole (left, right),
# LunarLander (nothing, left engine, main engine, right engine).
HUMAN_KEYS = {
    2: {"press": {Qt.Key_Left: 0, Qt.Key_Right: 1}, "release": None},
    3: {"press": {Qt.Key_Left: 0, Qt.Key_Right: 2}, "release": 1},
    4: {"press": {Qt.Key_Left: 1, Qt.Key_Up: 2, Qt.Key_Right: 3}, "release": 0},
}


def human_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


class MainWindow(QMainWindow):
    """Composes the widgets and sends commands to the training worker through queued signals."""

    # Commands to the worker (queued: the worker lives in its own thread).
    cmd_new_agent = pyqtSignal(object)
    cmd_load = pyqtSignal(str)
    cmd_save = pyqtSignal(str, bool)
    cmd_start = pyqtSignal()
    cmd_pause = pyqtSignal()
    cmd_step = pyqtSignal()
    cmd_step_episode = pyqtSignal()
    cmd_apply = pyqtSignal(object)
    cmd_render = pyqtSignal(bool, bool)
    cmd_greedy = pyqtSignal()
    cmd_evaluate = pyqtSignal(int)
    cmd_restore_best = pyqtSignal()
    cmd_export = pyqtSignal(str, str)
    cmd_human_start = pyqtSignal()
    cmd_human_action = pyqtSignal(int)
    cmd_stop = pyqtSignal()

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.recovery = RecoveryStore()
        self.file_path: str | None = None
        self.state = State.IDLE
        self.snapshot: AgentSnapshot | None = None
        self.last_status: Status | None = None
        self.last_eval: EvalResult | None = None
        self.best: BestMark | None = None
        self.run_config: Config | None = None  # the current run's config with its live edits
        self.run_key = 0  # identifies the current run in the runs list
        self._seed_batch: tuple[int, list[int]] | None = None  # (group, seeds still to run) of "run seeds"
        self._expect_seed_run = False  # the next agent_ready is a seed run of the batch: start it
        self._run_group: int | None = None  # batch of the current run, if it is one
        self.band: tuple | None = None
        self.error_box: QMessageBox | None = None
        self._pending_save_then_close = False
        self._closing = False
        self.setWindowTitle(f"[*]{APP_NAME}")

        config = self._initial_config()
        self.panel = ParameterPanel(config, preset_names())
        self.render_view = RenderView()
        self.render_view.setFocusPolicy(Qt.StrongFocus)  # arrow keys reach the window while driving
        self.plots = TrainingPlots()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.RichText)
        self.map_view = MapView()
        self.diagnostics = DiagnosticsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.map_view, "Policy && value map")
        self.tabs.addTab(self.diagnostics, "Diagnostics")
        self.runs_view = RunsView()
        self.tabs.addTab(self.runs_view, "Runs")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.render_view, 1)
        top_layout.addWidget(self.result_label)
        middle = QSplitter(Qt.Vertical)
        middle.addWidget(top)
        middle.addWidget(self.tabs)
        middle.setSizes([420, 380])
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.panel)
        splitter.addWidget(middle)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 2)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([340, 580, 480])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()
        self._connect_worker()
        self.panel.edited.connect(self._on_panel_edit)
        self.panel.preset_chosen.connect(self._on_preset)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self.cmd_new_agent.emit(config)
        self._update_actions()

    # --- construction ------------------------------------------------------------------
    def _initial_config(self) -> Config:
        saved = self.settings.value("run/config")
        if saved:
            try:
                return Config.from_dict(json.loads(saved))
            except (ConfigError, ValueError, TypeError):
                pass  # settings from another version: fall back to the notebook preset
        return load_preset("notebook")

    def _action(self, text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None,
                tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        shown = action.shortcut().toString(QKeySequence.NativeText)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_new = a("&New agent", self.new_agent, QKeySequence.New,
                         "Start over with the parameters in the panel (discards the current training)")
        self.act_open = a("&Open agent…", self.open_agent, QKeySequence.Open, "Open a saved agent and its history")
        self.act_save = a("&Save agent", self.save_agent, QKeySequence.Save, "Save the agent, its history and memory")
        self.act_save_as = a("Save agent &as…", self.save_agent_as, "Ctrl+Shift+S", "Save to a new file")
        self.act_restore = a("&Restore recovered training…", self.offer_recovery, None,
                             "Restore the training autosaved before the app last closed unexpectedly")
        self.act_include_memory = a(
            "Include replay &memory in saves", self._remember_memory_choice, None,
            "Save the replay memory too, so resumed training continues exactly (files get larger)", checkable=True)
        self.act_include_memory.setChecked(self.settings.value("files/include_memory", True, type=bool))
        self.act_quit = a("&Quit", self.close, QKeySequence.Quit, "Close RL Sandbox")
        self.act_start = a("&Start", self.start, "Space", "Start or resume training")
        self.act_pause = a("&Pause", self.pause, "Space", "Pause training between two env steps")
        self.act_step = a("S&tep", self.step, "S", "One env step: shows the state, the action, the reward and Q")
        self.act_step_episode = a("Step &episode", self.step_episode, "E", "Run one episode, then pause")
        self.act_greedy = a("&Watch greedy", self.watch_greedy, "G",
                            "Run the current policy without exploration or learning, in real time")
        self.act_restore_best = a("Restore &best agent", self.restore_best, "Ctrl+B",
                                  "Go back to the agent at its best moving average (DQN often peaks, then collapses)")
        self.act_evaluate = a("E&valuate", self.evaluate, "Ctrl+E",
                              f"{EVAL_EPISODES} greedy episodes: mean ± std and whether that solves the env")
        self.act_render = a("&Render", self.render_changed, "R", "Show the env while training", checkable=True)
        self.act_render.setChecked(self.settings.value("view/render", True, type=bool))
        self.act_log_loss = a("&Log-scale loss", lambda on: self.plots.set_loss_log(on), "L",
                              "Show the loss on a log scale", checkable=True)
        self.act_about = a("&About RL Sandbox", self.about, None, "What this is")
        self.act_export_episodes = a("&Episodes as CSV…", lambda: self.export("episodes"), None,
                                     "One row per episode: score, length, moving average, epsilon, loss, …")
        self.act_export_losses = a("&Losses as CSV…", lambda: self.export("losses"), None,
                                   "Every learning update's loss")
        self.act_export_png = a("Plots as &PNG…", lambda: self.export_plots("png"), None, "The three plots as an image")
        self.act_export_svg = a("Plots as &SVG…", lambda: self.export_plots("svg"), None,
                                "The three plots as a vector drawing")
        self.act_export_video = a("Greedy episode as &GIF or MP4…", lambda: self.export("video"), None,
                                  "Record the current policy playing one episode (needs the 'video' extra)")
        self.act_human = a("&Drive it yourself", self.human_play, "H",
                           "Play one episode with the arrow keys; your score joins the plot")

    def _build_menus_and_toolbar(self) -> None:
        for act, short in ((self.act_new, "New"), (self.act_open, "Open"), (self.act_save, "Save"),
                           (self.act_step_episode, "Episode"), (self.act_greedy, "Greedy"),
                           (self.act_restore_best, "Best agent"), (self.act_human, "Drive")):
            act.setIconText(short)  # the toolbar's shorter label
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for act in (self.act_new, self.act_open, self.act_save, self.act_save_as, self.act_restore):
            file_menu.addAction(act)
        file_menu.addAction(self.act_include_memory)
        export_menu = file_menu.addMenu("E&xport")
        for act in (self.act_export_episodes, self.act_export_losses, self.act_export_png, self.act_export_svg,
                    self.act_export_video):
            export_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        run_menu = bar.addMenu("&Run")
        for act in (self.act_start, self.act_pause, self.act_step, self.act_step_episode, self.act_greedy,
                    self.act_evaluate, self.act_restore_best, self.act_human):
            run_menu.addAction(act)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_render)
        view_menu.addAction(self.act_log_loss)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)

        toolbar = self.addToolBar("Controls")
        toolbar.setObjectName("controls")
        toolbar.setMovable(False)
        for act in (self.act_new, self.act_open, self.act_save):
            toolbar.addAction(act)
        toolbar.addSeparator()
        for act in (self.act_start, self.act_pause, self.act_step, self.act_step_episode):
            toolbar.addAction(act)
        toolbar.addSeparator()
        for act in (self.act_greedy, self.act_evaluate, self.act_restore_best, self.act_human):
            toolbar.addAction(act)
        toolbar.addSeparator()
        toolbar.addAction(self.act_render)
        self.speed_box = QComboBox()
        self.speed_box.addItem("watch (real time)", True)
        self.speed_box.addItem("fast (a frame now and then)", False)
        self.speed_box.setCurrentIndex(0 if self.settings.value("view/watch", False, type=bool) else 1)
        self.speed_box.setToolTip("Watch: every step at ~50 fps. Fast: full speed, at most ~30 frames/s.")
        self.speed_box.activated.connect(self.render_changed)
        toolbar.addWidget(self.speed_box)

    def _build_status_bar(self) -> None:
        self.status_labels: dict[str, QLabel] = {}
        for key, tip in (("state", "What the trainer is doing"), ("episode", "Episodes finished"),
                         ("steps", "Env steps taken"), ("speed", "Env steps per second while running"),
                         ("epsilon", "Current exploration probability"), ("memory", "Replay memory fill"),
                         ("elapsed", "Time spent training")):
            label = QLabel()
            label.setToolTip(tip)
            label.setMinimumWidth(70 if key != "steps" and key != "memory" else 120)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label
        self._show_state(State.IDLE)

    def _connect_worker(self) -> None:
        self.worker, self.thread = start_worker()
        w = self.worker
        for signal, slot in ((self.cmd_new_agent, w.new_agent), (self.cmd_load, w.load), (self.cmd_save, w.save),
                             (self.cmd_start, w.start), (self.cmd_pause, w.pause), (self.cmd_step, w.step_once),
                             (self.cmd_step_episode, w.step_episode), (self.cmd_apply, w.apply),
                             (self.cmd_render, w.set_render), (self.cmd_greedy, w.watch_greedy),
                             (self.cmd_evaluate, w.evaluate), (self.cmd_restore_best, w.restore_best),
                             (self.cmd_export, w.export), (self.cmd_human_start, w.human_start),
                             (self.cmd_human_action, w.human_action),
                             (self.cmd_stop, w.stop)):
            signal.connect(slot)
        w.agent_ready.connect(self._on_agent_ready)
        w.episodes_finished.connect(self._on_episodes)
        w.losses_added.connect(self.plots.add_losses)
        w.frame_ready.connect(self._on_frame)
        w.stepped.connect(self._on_step)
        w.greedy_step.connect(self._on_greedy_step)
        w.greedy_finished.connect(self._on_greedy_finished)
        w.evaluated.connect(self._on_evaluated)
        w.edits_applied.connect(self._on_edits)
        w.status.connect(self._on_status)
        w.state_changed.connect(self._on_state)
        w.saved.connect(self._on_saved)
        w.best_changed.connect(self._on_best)
        w.inspected.connect(self._on_inspected)
        w.exported.connect(lambda message: self.statusBar().showMessage(message, 8000))
        w.human_finished.connect(self._on_human_finished)
        self.diagnostics.restore_best.connect(self.restore_best)
        self.runs_view.ghosts_changed.connect(
            lambda runs: self.plots.set_ghosts([(r.summary(), r.averages) for r in runs]))
        self.runs_view.run_seeds.connect(self.run_seeds)
        w.failed.connect(self._on_failed)
        self.render_changed()

    # --- commands ----------------------------------------------------------------------
    def start(self) -> None:
        if self.state in (State.SOLVED, State.STOPPED) and self._finished():
            self.statusBar().showMessage("Training has finished: raise max episodes (or turn off stop when solved) "
                                         "to continue, or start a new agent.", 8000)
            return
        self.cmd_start.emit()

    def pause(self) -> None:
        self.cmd_pause.emit()

    def step(self) -> None:
        self.cmd_step.emit()

    def step_episode(self) -> None:
        self.cmd_step_episode.emit()

    def watch_greedy(self) -> None:
        self.result_label.setText("Watching the greedy policy (no exploration, no learning)…")
        self.cmd_greedy.emit()

    def evaluate(self) -> None:
        self.result_label.setText(f"Evaluating {EVAL_EPISODES} greedy episodes…")
        self.cmd_evaluate.emit(EVAL_EPISODES)

    def render_changed(self, *_args) -> None:
        render, watch = self.act_render.isChecked(), bool(self.speed_box.currentData())
        self.settings.setValue("view/render", render)
        self.settings.setValue("view/watch", watch)
        if not render:
            self.render_view.clear("Rendering is off (R): training pays nothing for frames.")
        self.cmd_render.emit(render, watch)

    def new_agent(self) -> None:
        if not self._confirm_discard("start a new agent"):
            return
        self.file_path = None
        self.cmd_new_agent.emit(self.panel.config)

    def open_agent(self) -> None:
        if not self._confirm_discard("open another agent"):
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open agent", self._last_dir(), FILE_FILTER)
        if path:
            self.settings.setValue("files/last_dir", str(Path(path).parent))
            self.statusBar().showMessage(f"Opening {path}…")
            self.cmd_load.emit(path)

    def save_agent(self) -> bool:
        if self.file_path is None:
            return self.save_agent_as()
        self.cmd_save.emit(self.file_path, self.act_include_memory.isChecked())
        return True

    def save_agent_as(self) -> bool:
        default = str(Path(self._last_dir()) / f"{self.panel.config.env_id}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save agent", default, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX) and not Path(path).suffix:
            path += SUFFIX
        self.settings.setValue("files/last_dir", str(Path(path).parent))
        self.file_path = path
        self.cmd_save.emit(path, self.act_include_memory.isChecked())
        return True

    def export(self, kind: str) -> None:
        name, filters = {"episodes": ("episodes.csv", "CSV files (*.csv)"),
                         "losses": ("losses.csv", "CSV files (*.csv)"),
                         "video": ("greedy.gif", "GIF animation (*.gif);;MP4 video (*.mp4)")}[kind]
        path, _ = QFileDialog.getSaveFileName(self, "Export", str(Path(self._last_dir()) / name), filters)
        if path:
            self.settings.setValue("files/last_dir", str(Path(path).parent))
            self.statusBar().showMessage(f"Exporting to {path}…")
            self.cmd_export.emit(kind, path)

    def export_plots(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plots", str(Path(self._last_dir()) / f"plots.{kind}"),
                                              f"{kind.upper()} files (*.{kind})")
        if not path:
            return
        try:
            self.plots.export(path)
        except (OSError, ValueError, RuntimeError) as exc:
            self._show_error("exporting the plots", str(exc))
            return
        self.statusBar().showMessage(f"Wrote the plots to {path}", 8000)

    def human_play(self) -> None:
        keys = "←/→ (↑ for the main engine)" if self.snapshot and self.snapshot.spec.n_actions == 4 else "← and →"
        self.result_label.setText(f"<b>You are driving</b>: hold {keys}; release for no push. "
                                  "Your score joins the score plot as an orange diamond.")
        self.render_view.setFocus()
        self.cmd_human_start.emit()

    def _on_human_finished(self, score: float, episodes: int) -> None:
        self.plots.add_human(episodes, score)
        self.result_label.setText(f"<b>Your score</b>: {score:g} (orange diamond on the score plot)")
        self.statusBar().showMessage(f"You scored {score:g}", 8000)

    def keyPressEvent(self, event) -> None:
        if not self._drive(event, pressed=True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if not self._drive(event, pressed=False):
            super().keyReleaseEvent(event)

    def _drive(self, event, pressed: bool) -> bool:
        """Send an arrow key's action while the user drives; False when the key is not ours."""
        action = self._human_key(event.key(), pressed)
        if action is None:
            return False
        if not event.isAutoRepeat():
            self.cmd_human_action.emit(action)
        return True

    def _human_key(self, key: int, pressed: bool) -> int | None:
        """The action for an arrow key while the user drives (None: not ours to handle)."""
        if self.state != State.HUMAN or self.snapshot is None:
            return None
        keys = HUMAN_KEYS.get(self.snapshot.spec.n_actions, HUMAN_KEYS[3])
        if key not in keys["press"]:
            return None
        return keys["press"][key] if pressed else keys["release"]

    def archive_run(self) -> None:
        """Put the current run in the session's runs list (or update its entry)."""
        if self.run_config is None or not len(self.plots.scores):
            return
        status = self.last_status
        name = f"run {self.run_key}" + (f" (seeds {self._run_group})" if self._run_group is not None else "")
        self.runs_view.put(self.run_key, RunRecord(
            name, self.run_config, self.plots.scores.values.copy(), self.plots.averages.values.copy(),
            status.total_steps if status else 0, self.plots.solved_at is not None, self._run_group))

    def run_seeds(self, count: int) -> None:
        """Train the panel's config with `count` seeds back to back; their band appears at the end."""
        if not self._confirm_discard(f"run {count} seeds"):
            return
        base = self.panel.config
        self._seed_batch = (self.run_key + 1, [base.seed + i for i in range(count)])
        self.plots.set_band(None)
        self.statusBar().showMessage(f"Running {count} seeds of the panel's config back to back…", 8000)
        self._next_seed()

    def _next_seed(self) -> None:
        seed = self._seed_batch[1].pop(0)
        self._expect_seed_run = True
        self.file_path = None
        self.setWindowModified(False)
        self.cmd_new_agent.emit(self.panel.config.with_changes(seed=seed))

    def _on_run_finished(self) -> None:
        self.archive_run()
        group = self._run_group
        if group is None or self._seed_batch is None:
            return
        if self._seed_batch[1]:
            self._next_seed()
            return
        self._seed_batch = None
        members = [r for r in self.runs_view.records.values() if r.group == group]
        x, mean, std = seed_band(members)
        self.plots.set_band(x, mean, std, f"mean ± std of {len(members)} seeds")
        self.band = (x, mean, std)
        self.tabs.setCurrentWidget(self.runs_view)
        self.statusBar().showMessage(f"{len(members)} seeds done: the band shows their mean ± std", 8000)

    def _remember_memory_choice(self, on: bool) -> None:
        self.settings.setValue("files/include_memory", on)

    def restore_best(self) -> None:
        best = self.best
        if best is None:
            return
        answer = QMessageBox.question(
            self, "Restore best agent?",
            f"Go back to the agent after episode {best.episode + 1} ({best.total_steps:,} steps), when the "
            f"moving average peaked at {best.moving_average:.1f}? Training after that point is discarded "
            "(save it first to keep it).",
            QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Yes)
        if answer == QMessageBox.Yes:
            self.cmd_restore_best.emit()

    def autosave(self) -> None:
        """Every few minutes of unsaved training, a recovery copy goes to the user data directory."""
        if self.isWindowModified() and self.snapshot is not None:
            self.cmd_save.emit(str(self.recovery.path), True)

    def offer_recovery(self) -> bool:
        """Offer to restore the recovery file left by a crash; returns whether it was restored."""
        info = self.recovery.pending()
        if info is None:
            self.statusBar().showMessage("No recovered training to restore.", 5000)
            return False
        answer = QMessageBox.question(
            self, "Restore training?",
            f"RL Sandbox did not close normally. Training of {info.env_id} was autosaved after "
            f"{info.episodes} episodes ({info.total_steps} steps). Restore it?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer == QMessageBox.Yes:
            self.cmd_load.emit(str(info.path))
            return True
        self.recovery.discard()
        return False

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          "<b>RL Sandbox</b><br>Train a Double-DQN agent, watch it learn and steer it live.<br>"
                          "Space: start/pause · S: step · E: step episode · G: watch greedy · R: render")

    # --- worker events -----------------------------------------------------------------
    def _on_agent_ready(self, snap: AgentSnapshot) -> None:
        self.archive_run()
        self.run_key += 1
        self.run_config = snap.config
        if self._expect_seed_run and self._seed_batch is not None:
            self._run_group = self._seed_batch[0]
        else:  # the user replaced the agent: any seed batch is abandoned
            self._run_group, self._seed_batch = None, None
        self.snapshot = snap
        recovered = snap.path == str(self.recovery.path)
        if snap.path and not recovered:
            self.file_path = snap.path
        elif recovered:
            self.file_path = None
        self.panel.set_config(snap.config)
        self.render_view.env_id = snap.spec.env_id
        self.map_view.set_env(snap.spec.env_id, unavailable_reason(snap.spec), snap.spec.n_actions)
        self.plots.reset(snap.history, snap.threshold)
        self.panel.set_run_exists(bool(snap.history.episodes) or snap.history.losses.buffer_info()[1] > 0)
        self.settings.setValue("run/config", json.dumps(snap.config.to_dict()))
        # A recovered run, or a restored best agent (no file, but training in it), is not saved yet.
        self.setWindowModified(recovered or (snap.path is None and bool(snap.history.episodes)))
        self.setWindowFilePath(self.file_path or "")
        self._update_title()
        self.result_label.setText("")
        if snap.path:
            note = f" — {snap.note}" if snap.note else ""
            self.statusBar().showMessage(f"Opened {snap.path}: {len(snap.history.episodes)} episodes{note}",
                                         15000 if note else 5000)
        else:
            self.render_view.clear("Press Space to start training, S to take one step.")
        if self._expect_seed_run:
            self._expect_seed_run = False
            self.cmd_start.emit()

    def _on_episodes(self, episodes: list[EpisodeStats]) -> None:
        for stats in episodes:
            self.plots.add_episode(stats)
        self._mark_trained()

    def _on_step(self, result: StepResult) -> None:
        self.render_view.show_step(result.state, result.action, result.reward, result.q_values,
                                   f"step (ε={result.epsilon:.3f})")
        self._mark_trained()

    def _on_frame(self, frame) -> None:
        if self.act_render.isChecked():
            self.render_view.display(frame)

    def _on_greedy_step(self, step: GreedyStep) -> None:
        self.render_view.show_step(step.state, step.action, step.reward, step.q_values, "greedy")

    def _on_greedy_finished(self, score: float) -> None:
        self.result_label.setText(f"<b>Greedy run</b>: score {score:g}")
        self.statusBar().showMessage(f"Greedy run finished with score {score:g}", 8000)

    def _on_evaluated(self, result: EvalResult) -> None:
        self.last_eval = result
        verdict = ("<span style='color:#080'>solved</span>" if result.solved else "not solved") \
            if result.threshold is not None else "no threshold"
        self.result_label.setText(
            f"<b>Evaluation</b> ({len(result.scores)} greedy episodes): mean {result.mean:.1f} ± {result.std:.1f}, "
            f"min {result.min:g}, max {result.max:g}, success {result.success_rate:.0%} — {verdict}")
        self.statusBar().showMessage(f"Evaluation: mean {result.mean:.1f} ± {result.std:.1f}", 8000)

    def _on_edits(self, edits: list) -> None:
        for edit in edits:
            if self.run_config is not None:
                self.run_config = self.run_config.with_changes(**{edit.name: edit.new})
            self.plots.add_edit(edit)
            self.statusBar().showMessage(f"{edit.name}: {edit.old} → {edit.new}", 5000)
            if edit.name in ("solve_threshold",) and self.snapshot:
                self.plots.set_threshold(edit.new if edit.new is not None else self.snapshot.spec.reward_threshold)
        if edits:
            self.setWindowModified(True)

    def _on_status(self, status: Status) -> None:
        self.last_status = status
        minutes, seconds = divmod(int(status.elapsed), 60)
        texts = {
            "episode": f"episode {status.episodes}",
            "steps": f"{status.total_steps:,} steps",
            "speed": f"{status.steps_per_second:,.0f} steps/s",
            "epsilon": f"ε {status.epsilon:.3f}",
            "memory": f"memory {status.memory_size:,}/{status.memory_capacity:,}",
            "elapsed": f"{minutes // 60:d}:{minutes % 60:02d}:{seconds:02d}",
        }
        for key, text in texts.items():
            label = self.status_labels[key]
            if label.text() != text:  # each change relays out and repaints the status bar
                label.setText(text)

    def _on_state(self, state: str) -> None:
        finished = state in (State.SOLVED, State.STOPPED) and self.state == State.RUNNING
        self.state = state
        if finished:
            self._on_run_finished()
        self._show_state(state)
        self._update_actions()
        if state == State.STOPPED and self._pending_save_then_close:
            return
        if state not in (State.IDLE, State.HUMAN, State.GREEDY, State.EVALUATING):
            self.panel.set_run_exists(True)  # training happened: fixed fields need a new agent now

    def _on_saved(self, path: str, size: int) -> None:
        if path == str(self.recovery.path):
            return
        self.recovery.discard()
        self.setWindowModified(False)
        self.setWindowFilePath(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path} ({human_size(size)})", 5000)
        if self._pending_save_then_close:
            self.close()

    def _on_inspected(self, inspection: Inspection) -> None:
        if inspection.map is not None:
            self.map_view.show_map(inspection.map, inspection.coverage)
            self.map_view.show_trajectory(inspection.trajectory)
        elif inspection.q_values is not None:
            self.map_view.show_q(inspection.q_values)
        self.diagnostics.show_hints(inspection.hints)
        count = len(inspection.hints)
        self.tabs.setTabText(1, f"Diagnostics ({count})" if count else "Diagnostics")

    def _on_best(self, best: BestMark | None) -> None:
        self.best = best
        self._update_actions()
        if best is None:
            self.plots.set_best(None, None)
            return
        self.plots.set_best(best.episode + 1, best.moving_average)
        self.act_restore_best.setStatusTip(f"Go back to episode {best.episode + 1}, moving average "
                                           f"{best.moving_average:.1f} (the best so far)")

    def _on_failed(self, what: str, message: str) -> None:
        self._pending_save_then_close = False
        if what == "changing parameters":
            self.statusBar().showMessage(f"Not applied: {message}", 8000)
        if what in ("training", "stepping") and self.isWindowModified():
            self.cmd_save.emit(str(self.recovery.path), True)
        self._show_error(what, message)

    def _show_error(self, what: str, message: str) -> None:
        """A readable, window-modal error (never blocks the event loop; tests find it in error_box)."""
        box = QMessageBox(QMessageBox.Critical, f"{APP_NAME}: error while {what}",
                          f"Something went wrong while {what}.", QMessageBox.Ok, self)
        box.setInformativeText(message.split("\n\n")[0])
        if "\n\n" in message:
            box.setDetailedText(message)
        box.setWindowModality(Qt.WindowModal)
        box.open()
        self.error_box = box

    # --- panel -------------------------------------------------------------------------
    def _on_panel_edit(self, change: dict) -> None:
        name = next(iter(change))
        if name in LIVE_FIELDS and self.snapshot is not None:
            self.cmd_apply.emit(change)
        elif self.panel.isEnabled():
            # Only possible while no run exists: rebuild the (untrained) agent with the new value.
            self.cmd_new_agent.emit(self.panel.config)

    def _on_preset(self, name: str) -> None:
        if not self._confirm_discard(f"load the {name} preset"):
            self.panel.select_preset("")
            return
        config = load_preset(name)
        self.panel.set_config(config)
        self.file_path = None
        self.cmd_new_agent.emit(config)

    # --- helpers -----------------------------------------------------------------------
    def _finished(self) -> bool:
        snap, status = self.snapshot, self.last_status
        if snap is None or status is None:
            return False
        return status.episodes >= self.panel.config.max_episodes or (
            self.state == State.SOLVED and self.panel.config.stop_when_solved)

    def _mark_trained(self) -> None:
        if not self.isWindowModified():
            self.setWindowModified(True)
            self._update_title()

    def _update_title(self) -> None:
        name = Path(self.file_path).name if self.file_path else "untitled"
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")

    def _show_state(self, state: str) -> None:
        colors = {State.RUNNING: "#1565c0", State.SOLVED: "#2e7d32", State.STOPPED: "#b00020"}
        self.status_labels["state"].setText(f"<b style='color:{colors.get(state, '#333')}'>{state}</b>")

    def _update_actions(self) -> None:
        busy = self.state in (State.RUNNING, State.GREEDY, State.EVALUATING)
        self.act_start.setEnabled(not busy)
        self.act_start.setText("&Resume" if self.state == State.PAUSED else "&Start")
        self.act_pause.setEnabled(self.state in (State.RUNNING, State.GREEDY))
        self.act_step.setEnabled(not busy)
        self.act_step_episode.setEnabled(not busy)
        self.act_greedy.setEnabled(self.state != State.EVALUATING and self.state != State.GREEDY)
        self.act_evaluate.setEnabled(self.state != State.EVALUATING)
        self.act_restore_best.setEnabled(self.best is not None and self.state != State.EVALUATING)

    def _last_dir(self) -> str:
        return str(self.settings.value("files/last_dir", str(Path.home())))

    def _confirm_discard(self, doing: str) -> bool:
        """Ask before throwing away unsaved training; True when it is fine to go on."""
        if not self.isWindowModified():
            return True
        answer = QMessageBox.question(
            self, "Discard training?", f"The current training is not saved. Discard it and {doing}?",
            QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing and self.isWindowModified():
            self.pause()
            answer = QMessageBox.question(
                self, "Save training?", "The training has unsaved changes. Save the agent before closing?",
                QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
            if answer == QMessageBox.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.Save and not self._pending_save_then_close:
                if self.save_agent():
                    self._pending_save_then_close = True  # close again once the worker reports the save
                event.ignore()
                return
        self._closing = True
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("run/config", json.dumps(self.panel.config.to_dict()))
        self.autosave_timer.stop()
        self.shutdown()
        if not self._pending_save_then_close or not self.isWindowModified():
            self.recovery.discard()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker and wait for its thread (at most a few seconds)."""
        if self.thread.isRunning():
            self.cmd_stop.emit()
            if not self.thread.wait(5000):
                self.thread.terminate()
                self.thread.wait()
