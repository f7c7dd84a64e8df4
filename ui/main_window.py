"""The main window: views bound to the session, and the commands that drive the worker.

The session (`sandbox/app/session.py`) holds the run; the worker reports into it, and every view here
draws from it. Actions come from one table (`ui/actions.py`); settings from one typed wrapper
(`ui/settings.py`); file dialogs and prompts live in `ui/dialogs/file_commands.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QMetaObject, QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent
from PyQt5.QtWidgets import QAction, QMainWindow, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from sandbox.app.lesson import Step
from sandbox.app.policy_map import unavailable_reason
from sandbox.app.recovery import AUTOSAVE_SECONDS, RecoveryStore
from sandbox.app.runs import RunsLog, seed_summary
from sandbox.app.session import Origin, Session, Snapshot, State, ViewSettings, WatchResult
from sandbox.core.config import LIVE_FIELDS, Config, load_preset, preset_names
from sandbox.core.env_profiles import profile
from sandbox.core.evaluate import EvalResult, GreedyStep
from sandbox.core.trainer import StepResult
from sandbox.io.files import PathError, data_dir
from ui import format as fmt
from ui import plain
from ui.actions import EVAL_EPISODES, build_actions, speed_box, update_enabled
from ui.dialogs import help as help_texts
from ui.dialogs.file_commands import FileCommands, error_box
from ui.drive_keys import DriveKeys
from ui.settings import MemoryStore, Settings
from ui.tune.dock import install as install_tune_view
from ui.views.coach_view import CoachView
from ui.views.inspector import MapView
from ui.views.lesson_view import LessonView
from ui.views.parameter_panel import ParameterPanel
from ui.views.plots import TrainingPlots
from ui.views.render_view import RenderView
from ui.views.result_line import ResultLine
from ui.views.runs_view import RunsView
from ui.views.status_bar import StatusFields
from ui.views.timeline_bar import TimelineBar
from ui.views.update_view import UpdateView
from ui.worker.commands import (
    Apply,
    Branch,
    CheckStep,
    Evaluate,
    Explain,
    HumanAction,
    NewAgent,
    PlayRandom,
    SetLogging,
    SetView,
    ShowCheckpoint,
)
from ui.worker.modes import Doing, Inspection
from ui.worker.worker import Past, start_worker

APP_NAME = "RL Sandbox"
DEFAULT_SIZE = (1400, 900)  # the first window, made smaller on a smaller screen
# Commands connected straight to the worker's slot of the same name (queued across threads).
STOP_WAIT_SECONDS = 15  # 5 s ran out in the exit test beside two busy loops and two other test runs on 2 cores
DIRECT = {"pause": "pause", "step": "step_once", "step_episode": "step_episode", "greedy": "watch_greedy",
          "random": "watch_random"}


class MainWindow(QMainWindow):
    """Composes the views, binds them to the session and sends the worker its commands."""

    # Commands that carry arguments (queued: the worker lives in its own thread).
    command = pyqtSignal(object)  # a ui.worker.commands.Command, queued to the worker's `command` slot

    # One attribute per action of the table in ui/actions.py, set from it (a test keeps the two alike).
    act_new: QAction
    act_open: QAction
    act_save: QAction
    act_save_as: QAction
    act_restore: QAction
    act_include_memory: QAction
    act_tensorboard: QAction
    act_load_log: QAction
    act_export_episodes: QAction
    act_export_losses: QAction
    act_export_png: QAction
    act_export_svg: QAction
    act_export_video: QAction
    act_quit: QAction
    act_start: QAction
    act_pause: QAction
    act_step: QAction
    act_step_episode: QAction
    act_random: QAction
    act_greedy: QAction
    act_evaluate: QAction
    act_restore_best: QAction
    act_human: QAction
    act_tune: QAction
    act_render: QAction
    act_log_loss: QAction
    act_quick_start: QAction
    act_presets: QAction
    act_about: QAction

    def __init__(self, settings: QSettings | MemoryStore | None = None) -> None:
        super().__init__()
        self.settings = Settings(settings)
        problems = [self.settings.problem]
        try:
            folder: Path | None = data_dir()
        except PathError as exc:
            folder = None
            problems.append(f"{exc}; runs are kept in memory and there is no crash recovery this session")
        self.recovery = RecoveryStore(folder)
        self.session = Session(RunsLog.load(folder / "runs.json") if folder else RunsLog(),
                               view=ViewSettings(self.settings.render, self.settings.watch))
        problems.append(self.session.runs.problem)
        self._runs_problem_said = self.session.runs.problem
        self.error_box: QMessageBox | None = None
        self._watch_path: list[np.ndarray] | None = None  # a watched greedy/random episode's states, for the map
        self._past: Past | None = None  # a timeline checkpoint the map shows instead of the present
        self.notice_box: QMessageBox | None = None
        self.help_box: QMessageBox | None = None  # the Help menu's text last shown
        self.setWindowTitle(f"[*]{APP_NAME}")
        self._build_views()
        self.status_fields = StatusFields(self.statusBar(), self.session)
        self.toolbar = self.addToolBar("Controls")
        self.toolbar.setObjectName("controls")
        self.toolbar.setMovable(False)
        self.toolbar.layout().setSpacing(0)  # the buttons have margins of their own: every one fits 1024 px
        self.actions_ = build_actions(self, self.menuBar(), self.toolbar)
        for name, action in self.actions_.items():
            setattr(self, f"act_{name}", action)
        self._build_speed_box()
        self.files = FileCommands(self, self)
        self.installEventFilter(DriveKeys(self.session, lambda action: self.command.emit(HumanAction(action)), self))
        self._bind_session()
        self._connect_worker()
        self._connect_actions()
        self.tune_view = install_tune_view(  # the Tune dock, shown by its action
            self, self.act_tune, self.draft,
            lambda config, doing: self.files.after_discard(doing, lambda: self.begin_run(config)))
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_SECONDS * 1000)
        self.autosave_timer.timeout.connect(self.files.autosave)
        self.autosave_timer.start()
        self._restore_layout()
        if said := [p[0].upper() + p[1:] + "." for p in problems if p]:
            self.show_notice("RL Sandbox started without some of its own files.", "\n\n".join(said))
        self.begin_run(self.settings.config)
        self._update_actions()

    # --- construction ------------------------------------------------------------------
    def _build_views(self) -> None:
        self.panel = ParameterPanel(self.settings.config, preset_names())
        self.render_view = RenderView()
        self.render_view.setFocusPolicy(Qt.StrongFocus)  # arrow keys reach the window while driving
        self.plots = TrainingPlots()
        self.timeline_bar = TimelineBar()
        self.result_label = ResultLine()
        self.map_view, self.diagnostics, self.runs_view = MapView(), CoachView(), RunsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.map_view, "Policy && value map")
        self.tabs.addTab(self.diagnostics, "Diagnostics")
        self.tabs.addTab(self.runs_view, "Runs")
        self.update_view = UpdateView()
        self.tabs.addTab(self.update_view, "Explain update")
        self.lesson_view = LessonView(self.settings)
        self.tabs.addTab(self.lesson_view, "Lesson")
        self.middle = QSplitter(Qt.Vertical)
        self.middle.addWidget(self.render_view)
        self.middle.addWidget(self.result_label)
        self.middle.addWidget(self.tabs)
        self.middle.setCollapsible(0, False)
        self.middle.setSizes([420, 24, 380])
        self.splitter = QSplitter(Qt.Horizontal)
        for i, (widget, stretch) in enumerate(((self.panel, 0), (self.middle, 2), (self.plots, 3))):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(i, stretch)
        self.splitter.setChildrenCollapsible(False)  # a narrow window shrinks the columns, never hides one
        self.splitter.setSizes([360, 560, 480])
        central = QWidget()  # the three columns, and under them the run's timeline
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.timeline_bar)
        self.setCentralWidget(central)

    def _build_speed_box(self) -> None:
        self.speed_box = speed_box(self.settings.watch)
        self.speed_box.activated.connect(self.render_changed)
        self.toolbar.addWidget(self.speed_box)
        self.act_render.setChecked(self.settings.render)
        self.act_include_memory.setChecked(self.settings.include_memory)
        self.act_tensorboard.setChecked(self.settings.tensorboard)

    def _restore_layout(self) -> None:
        geometry = self.settings.layout("window")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()  # a laptop's 1024×700 gets a window that fits it
            self.resize(min(DEFAULT_SIZE[0], max(screen.width(), self.minimumSizeHint().width())),
                        min(DEFAULT_SIZE[1], max(screen.height(), self.minimumSizeHint().height())))
            rest = self.width() - self.panel.minimumWidth()  # the panel at its width, the rest 55:45
            self.splitter.setSizes([self.panel.minimumWidth(), rest * 55 // 100, rest * 45 // 100])
        for name, splitter in (("splitter", self.splitter), ("middle", self.middle)):
            state = self.settings.layout(name)
            if state is not None:
                splitter.restoreState(state)

    def _bind_session(self) -> None:
        s = self.session
        self.plots.bind(s)  # the plots draw the session's run themselves
        s.began.connect(self._on_began)
        s.edits_applied.connect(self._on_edits)
        s.state_changed.connect(self._on_state)
        s.best_changed.connect(self._on_best)
        s.evaluated.connect(self._on_evaluated)
        s.file_changed.connect(self._update_title)
        s.runs_changed.connect(self._on_runs_changed)
        s.band_changed.connect(self._on_band)
        s.trained_changed.connect(self.panel.set_run_exists)
        s.set_draft(self.panel.config)
        self.panel.draft_changed.connect(s.set_draft)
        s.draft_changed.connect(self._on_draft)
        s.view_changed.connect(self._on_view)
        self.runs_view.show_runs(s.runs.records)

    def _connect_worker(self) -> None:
        self.worker, self.worker_thread = start_worker()
        w, s = self.worker, self.session
        self.command.connect(w.command)
        self.command.connect(self.worker_interrupt)  # in this thread, after the command was queued
        w.began.connect(s.begin)
        w.episodes_finished.connect(s.add_episodes)
        w.losses_added.connect(s.add_losses)
        w.edits_applied.connect(s.apply_edits)
        w.status.connect(s.set_status)
        w.state_changed.connect(lambda value: s.set_state(State(value)))
        w.best_changed.connect(s.set_best)
        w.evaluated.connect(s.set_evaluation)
        w.frame_ready.connect(self._on_frame)
        w.state_ready.connect(self._on_state_drawn)
        w.stepped.connect(self._on_step)
        w.watched.connect(self._on_watched)
        w.watch_finished.connect(self._on_watch_finished)
        w.inspected.connect(self._on_inspected)
        w.timeline_changed.connect(self.timeline_bar.set_checkpoints)
        w.past_shown.connect(self._on_past)
        self.timeline_bar.show_past.connect(self._show_past)
        self.timeline_bar.branch.connect(lambda episode: self.command.emit(Branch(episode)))
        w.exported.connect(lambda message: self.statusBar().showMessage(message, 8000))
        w.human_finished.connect(self._on_human_finished)
        w.saved.connect(self.files.on_saved)
        w.autosaved.connect(self.recovery.written)
        w.autosave_failed.connect(self.files.on_autosave_failed)
        w.run_finished.connect(self._on_run_finished)
        w.failed.connect(self._on_failed)
        self.diagnostics.restore_best.connect(self.restore_best)
        self.diagnostics.apply_suggestion.connect(self.apply_suggestion)
        self.runs_view.ghosts_changed.connect(self.plots.set_ghosts)
        self.runs_view.log_loaded.connect(self._on_log_loaded)
        self.runs_view.log_failed.connect(lambda message: self.show_error("loading a TensorBoard log", message))
        self.runs_view.run_seeds.connect(self.run_seeds)
        self.update_view.bind(s)
        self.lesson_view.bind(s)
        self.lesson_view.perform.connect(self.perform_step)
        self.lesson_view.check_trainer.connect(lambda step: self.command.emit(CheckStep(step)))
        w.step_checked.connect(self.lesson_view.show_verdict)
        w.random_played.connect(self._on_random_played)
        w.explained.connect(self.update_view.show_update)
        self.update_view.requested.connect(lambda sample: self.command.emit(Explain(sample)))
        self.panel.edited.connect(self._on_panel_edit)
        self.panel.preset_chosen.connect(self._on_preset)
        self._on_view(self.session.view)  # the worker starts with the view settings the session holds
        w.log_failed.connect(lambda message: self.statusBar().showMessage(message, 15_000))
        if self.settings.tensorboard:
            self.set_tensorboard(True)

    def _on_frame(self, frame: np.ndarray) -> None:
        if self.session.view.render:
            self.render_view.show_frame(frame)

    def _on_state_drawn(self, state: np.ndarray) -> None:
        if self.session.view.render:
            self.render_view.show_state(state)

    def _connect_actions(self) -> None:
        for name, worker_slot in DIRECT.items():
            self.actions_[name].triggered.connect(getattr(self.worker, worker_slot))
            self.actions_[name].triggered.connect(self.worker_interrupt)
        f = self.files
        slots: tuple[tuple[str, Callable[..., object]], ...] = (
            ("new", self.new_agent), ("open", f.open_agent), ("save", f.save_agent),
            ("save_as", f.save_agent_as), ("restore", f.offer_recovery), ("quit", self.close),
            ("include_memory", lambda on: setattr(self.settings, "include_memory", on)),
            ("tensorboard", self.set_tensorboard), ("load_log", self.runs_view.choose_log),
            ("export_episodes", lambda: f.export("episodes")), ("export_losses", lambda: f.export("losses")),
            ("export_png", lambda: f.export_plots("png")), ("export_svg", lambda: f.export_plots("svg")),
            ("export_video", lambda: f.export("video")), ("start", self.start), ("evaluate", self.evaluate),
            ("restore_best", self.restore_best), ("human", self.human_play), ("render", self.render_changed),
            ("log_loss", self.plots.set_loss_log), ("about", f.about),
            ("quick_start", lambda: setattr(self, "help_box", help_texts.quick_start(self))),
            ("presets", lambda: setattr(self, "help_box", help_texts.presets(self))))
        for name, slot in slots:
            self.actions_[name].triggered.connect(slot)

    # --- commands ----------------------------------------------------------------------
    def begin_run(self, config: Config, origin: Origin = Origin.NEW) -> None:
        """Ask the worker for a new agent; the session begins the run when it is ready."""
        self.command.emit(NewAgent(config, origin))

    def start(self) -> None:
        if self.session.finished:
            self.statusBar().showMessage("Training has finished: raise max episodes (or turn off stop when solved) "
                                         "to continue, or start a new agent.", 8000)
            return
        self.worker_call("start")

    def worker_call(self, slot: str) -> None:
        """Queue a call of one of the worker's argument-free slots."""
        QMetaObject.invokeMethod(self.worker, slot, Qt.QueuedConnection)
        self.worker.interrupt()

    def worker_interrupt(self, *_args: object) -> None:
        """A command was queued: the worker's slice under way ends at its next step (ui/worker/worker.py)."""
        self.worker.interrupt()

    def pause(self) -> None:
        self.worker_call("pause")

    def pause_now(self) -> None:
        """Pause for a question and wait until the worker has (a tick is a few ms; the worker never waits
        on the window); the worker keeps what it paused, for `resume_after_question`."""
        if self.worker_thread.isRunning():
            QMetaObject.invokeMethod(self.worker, "hold", Qt.BlockingQueuedConnection)

    def resume_after_question(self) -> None:
        """The question was cancelled: what it paused goes on, exactly (an ended episode step stays ended)."""
        self.worker_call("resume_held")

    def evaluate(self) -> None:
        self.command.emit(Evaluate(EVAL_EPISODES))

    def render_changed(self, *_args) -> None:
        """The Render action or the speed box changed: the session's view settings follow."""
        self.session.set_view(ViewSettings(self.act_render.isChecked(), bool(self.speed_box.currentData())))

    def _on_view(self, view: ViewSettings) -> None:
        self.settings.render, self.settings.watch = view.render, view.watch
        if not view.render:
            self.render_view.clear("Rendering is off (R): training pays nothing for frames.")
        self.command.emit(SetView(view.render, view.watch))

    def _on_draft(self, config: Config) -> None:
        self.settings.config = config  # the next launch opens with the config the panel shows

    def new_agent(self) -> None:
        def go() -> None:
            self.panel.show_problem(None)  # a note about the old run's config goes with it
            self.begin_run(self.draft())

        self.files.after_discard("start a new agent", go)

    def draft(self) -> Config:
        """The config the panel shows (the session's draft): what New, Run seeds and Tune start from."""
        assert self.session.draft is not None, "the session holds the panel's config from the start"
        return self.session.draft

    def restore_best(self) -> None:
        if self.session.best is not None and self.files.confirm_restore_best(self.session.best):
            self.worker_call("restore_best")

    def apply_suggestion(self, suggestion) -> None:
        """The coach's change, through the normal paths: a live edit (with its marker), or a new agent."""
        config = self.session.config
        if config is None:
            return
        if suggestion.live:
            self.command.emit(Apply({suggestion.name: suggestion.value}))
            return
        changed = config.with_changes(**{suggestion.name: suggestion.value})
        self.files.after_discard(f"start a new agent with {suggestion}", lambda: self.begin_run(changed))

    def run_seeds(self, count: int) -> None:
        """Train the panel's config with `count` seeds back to back; their band appears at the end."""
        def go() -> None:
            first = self.session.start_batch(self.draft(), count)
            self.statusBar().showMessage(f"Running {count} seeds of the panel's config back to back…", 8000)
            self.begin_run(first, Origin.SEED)

        self.files.after_discard(f"run {count} seeds", go)

    def set_tensorboard(self, on: bool) -> None:
        """Each run's TensorBoard event files in the data folder's tensorboard/ subfolder (or none)."""
        self.settings.tensorboard = on
        folder = self.tensorboard_folder() if on else None
        if on and folder is None:
            self.statusBar().showMessage("No data folder this session: there is nowhere to write TensorBoard logs",
                                         8000)
        self.command.emit(SetLogging(str(folder) if folder else None))
        if folder is not None:
            self.statusBar().showMessage(f"Logging each run for TensorBoard in {folder}", 8000)

    def tensorboard_folder(self) -> Path | None:
        try:
            return data_dir() / "tensorboard"
        except PathError:
            return None

    def perform_step(self, step: Step) -> None:
        """A lesson step's action, through the normal paths: its config as a new agent (after the usual
        question), then Start; or the random baseline played on the current run's env."""
        if step.do == "random":
            self.statusBar().showMessage(f"Playing {fmt.count(step.episodes)} random episodes…", 5000)
            self.command.emit(PlayRandom(step.episodes))
        elif step.do == "train":
            def go() -> None:
                self.begin_run(step.config)
                self.worker_call("start")  # queued after the new agent: it starts that run

            self.files.after_discard(f"start the lesson's run ({step.title})", go)

    def _on_random_played(self, scores: list[float], episodes: int) -> None:
        for score in scores:
            self.session.add_watch_result(WatchResult("random", score, episodes))
        mean = sum(scores) / len(scores)
        self.statusBar().showMessage(f"Random policy: mean {mean:.1f} over {fmt.count(len(scores))} episodes "
                                     "(the dotted line on the score plot)", 10_000)

    def human_play(self) -> None:
        self.result_label.show_driving(self.session.spec.n_actions if self.session.spec else 3)
        self.render_view.setFocus()
        self.worker_call("human_start")

    # --- session events ------------------------------------------------------------------
    def _on_began(self, snap: Snapshot) -> None:
        env = profile(snap.spec.env_id, snap.spec.n_actions)
        self.panel.set_config(snap.config, keep_problem=snap.config == self.panel.config)
        if snap.origin in (Origin.NEW, Origin.OPENED, Origin.RECOVERED):
            self.runs_view.untick_all()  # ghosts were ticked to compare with the run before
        self.runs_view.env_changed(snap.spec.env_id)
        self.render_view.set_profile(env, trained=self.session.trained)
        self.map_view.set_env(env, unavailable_reason(snap.spec), snap.spec.n_actions)
        self.diagnostics.show_hints([])
        self.result_label.setText("")
        self._watch_path = None
        self._past = None
        self.map_view.set_past(None)
        self.timeline_bar.set_checkpoints([])  # the new run's own come next, with the bar at the present
        if snap.origin is Origin.BRANCH and self.session.branch is not None:
            parent, at = self.session.branch
            self.runs_view.show_runs(self.session.runs.records, tick=parent)  # drawn behind its branch
            self.statusBar().showMessage(f"Branched at episode {fmt.count(at)} of run {parent}", 10000)
        if snap.path and snap.origin is Origin.OPENED:
            note = f" — {snap.note}" if snap.note else ""
            # The file's name (its folder was just picked; the title shows the name too): a path would be cut
            # off by the status fields on a laptop.
            self.statusBar().showMessage(f"Opened {Path(snap.path).name}: "
                                         f"{fmt.plural(len(snap.history.episodes), 'episode')}{note}",
                                         15000 if note else 5000)
        if snap.origin is Origin.BEST:
            self.statusBar().showMessage(f"Restored the best agent (episode {fmt.count(len(snap.history.episodes))})",
                                         8000)
        if snap.origin is Origin.SEED:
            self.worker_call("start")

    def _on_step(self, result: StepResult) -> None:
        self._watch_path = None  # training moved on: the map draws its episode again
        self.render_view.show_step(result.state, result.action, result.reward, result.q_values,
                                   f"step (ε={result.epsilon:.3f})")

    def _on_watched(self, step: GreedyStep) -> None:
        title = "greedy" if step.q_values is not None else "random"
        self.render_view.show_step(step.state, step.action, step.reward, step.q_values, title)
        if self._watch_path is not None:  # the watched episode is the map's white line until training goes on
            self._watch_path.append(np.asarray(step.state, dtype=np.float64))
            self.map_view.show_trajectory(np.array(self._watch_path), f"the {title} episode just watched")

    def _on_watch_finished(self, kind: str, score: float, episodes: int) -> None:
        if kind == State.RANDOM.value:
            self.session.add_watch_result(WatchResult("random", score, episodes))
        self.statusBar().showMessage(self.result_label.show_watch(kind, score), 8000)

    def _on_human_finished(self, score: float, episodes: int) -> None:
        self.session.add_watch_result(WatchResult("human", score, episodes))
        self.statusBar().showMessage(self.result_label.show_human(score), 8000)


    def _on_evaluated(self, result: EvalResult) -> None:
        self.statusBar().showMessage(self.result_label.show_evaluation(result), 8000)

    def _on_edits(self, edits: list) -> None:
        if self.session.config is not None:
            self.panel.set_config(self.session.config, keep_problem=True)  # an edit from the coach shows there too
        for edit in edits:
            self.statusBar().showMessage(f"{edit.name}: {edit.old} → {edit.new}", 5000)

    def _on_state(self, state: State) -> None:
        self._update_actions()
        self.result_label.show_state(state)
        if state in (State.GREEDY, State.RANDOM):
            self._watch_path = []

    def _on_run_finished(self) -> None:
        batch = self.session.batch
        next_config = self.session.finish_run()
        if next_config is not None:
            self.begin_run(next_config, Origin.SEED)
        elif self.session.band is not None and self.session.batch is None and self.session.group is not None:
            if batch is not None:  # the panel is back at the batch's config, its first seed
                self.panel.set_config(batch.config, keep_problem=True)
            self.tabs.setCurrentWidget(self.runs_view)
            self.statusBar().showMessage("Seed batch done: the band on the plot", 8000)  # the Runs tab says more

    def _on_band(self, band: tuple | None) -> None:
        group = self.session.group
        members = [r for r in self.session.runs.records.values() if r.group == group] if band else []
        self.runs_view.show_batch(seed_summary(members) if members else None)

    def _show_past(self, episode: int | None) -> None:
        """The timeline bar asks for a checkpoint's agent (None: the present again)."""
        if episode is None:
            self._past = None
            self.map_view.set_past(None)
        self.plots.mark_past(episode)
        self.command.emit(ShowCheckpoint(episode))

    def _on_past(self, past: Past) -> None:
        if self.timeline_bar.at_present:  # the bar went back to now before this answer came
            return
        self._past = past
        checkpoint = past.checkpoint
        self.map_view.set_past(TimelineBar.readout(checkpoint, past.stats.score if past.stats else None,
                                                   past.stats.greedy_mean if past.stats else None))
        self._draw_inspection(past.inspection)

    def _on_inspected(self, inspection: Inspection) -> None:
        if self._past is None:  # while a checkpoint is shown, the map keeps showing it
            self._draw_inspection(inspection)
        self.diagnostics.show_hints(inspection.hints)
        self.session.set_hints([h.line() for h in inspection.hints])
        count = len(inspection.hints)
        self.tabs.setTabText(1, f"Diagnostics ({count})" if count else "Diagnostics")

    def _draw_inspection(self, inspection: Inspection) -> None:
        if inspection.map is not None:
            self.map_view.show_map(inspection.map, inspection.coverage)
            if self._watch_path is None:
                self.map_view.show_trajectory(inspection.trajectory)
        elif inspection.q_values is not None:
            self.map_view.show_q(inspection.q_values)

    def _on_runs_changed(self) -> None:
        self.runs_view.show_runs(self.session.runs.records)
        problem = self.session.runs.problem
        if problem and problem != self._runs_problem_said:  # a save of the log failed: said once
            self._runs_problem_said = problem
            self.show_notice("The runs log could not be saved.", problem[0].upper() + problem[1:] + ".")

    def _on_log_loaded(self, message: str) -> None:
        self.tabs.setCurrentWidget(self.runs_view)  # where the loaded runs are listed
        self.statusBar().showMessage(message, 15_000)

    def _on_best(self, best) -> None:
        self._update_actions()

    def _on_failed(self, doing: Doing, message: str) -> None:
        self.files.on_failed(doing)
        if doing is Doing.EDITING:
            self.statusBar().showMessage(f"Not applied: {message}", 8000)
        if doing is Doing.CREATING and self.session.config is not None:
            self.panel.set_config(self.session.config)  # the panel shows the agent that exists
            self.panel.show_problem(f"Not applied: {message}")
            return
        self.show_error(doing.value, message)

    def show_notice(self, text: str, detail: str) -> None:
        """What could not be used and what the app does instead: said once, in full, without blocking
        (a status-bar line would be cut off beside the status fields; tests find it in notice_box)."""
        self.notice_box = plain.message_box(self, QMessageBox.Warning, APP_NAME, text, detail)
        self.notice_box.setWindowModality(Qt.WindowModal)
        self.notice_box.open()
        self.statusBar().showMessage(text, 30_000)

    def show_error(self, what: str, message: str) -> None:
        """A readable, window-modal error (never blocks the event loop; tests find it in error_box)."""
        self.error_box = error_box(self, f"{APP_NAME}: error while {what}", f"Something went wrong while {what}.",
                                   message)

    # --- panel -------------------------------------------------------------------------
    def _on_panel_edit(self, change: dict) -> None:
        if set(change) <= LIVE_FIELDS and self.session.config is not None:
            self.command.emit(Apply(change))
        elif not self.session.trained:
            self.begin_run(self.draft())  # no run yet: rebuild the untrained agent with the new value

    def _on_preset(self, name: str) -> None:
        if not self.files.after_discard(f"load the {name} preset", lambda: self.begin_run(load_preset(name))):
            self.panel.select_preset("")

    # --- helpers -----------------------------------------------------------------------
    def _update_title(self) -> None:
        self.setWindowModified(self.session.unsaved)
        self.setWindowFilePath(self.session.path or "")
        name = Path(self.session.path).name if self.session.path else "untitled"
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")

    def _update_actions(self) -> None:
        update_enabled(self.actions_, self.session.state, self.session.best is not None)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.may_close():
            event.ignore()
            return
        self.settings.set_layout("window", self.saveGeometry())
        self.settings.set_layout("splitter", self.splitter.saveState())
        self.settings.set_layout("middle", self.middle.saveState())
        self.settings.config = self.draft()
        self.autosave_timer.stop()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the worker and wait for its thread: a tick is a few ms, so this is quick, unless a command
        is under way (a new agent being built, a random baseline): that one finishes first, however busy
        the machine (terminating a thread mid-command is the last resort)."""
        self.tune_view.shutdown()  # a running search's worker processes end with the window
        if self.worker_thread.isRunning():
            self.worker_call("stop")
            if not self.worker_thread.wait(STOP_WAIT_SECONDS * 1000):
                print(f"warning: the training thread did not stop within {STOP_WAIT_SECONDS} s of closing; it was "
                      "terminated", file=sys.stderr)
                self.worker_thread.terminate()
                self.worker_thread.wait()
