"""The training worker: a thin executor of the window's commands, on its own QThread, and the only
code that touches the Trainer.

What runs from its timer is one mode object at a time (training, watching a policy, a human
driving); the worker's state is the mode's, so it is never stored twice. Each tick runs a bounded
slice (a few ms) and emits plain data, so queued commands (pause, step, new parameters, stop) are
handled between two ticks: pause lands exactly between two env steps, and no locks are needed.
Commands with arguments arrive typed (ui/worker/commands.py) through one slot, `command`. Every
command is guarded: an exception stops what was running, keeps the agent and is reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PyQt5.QtCore import QObject, QThread, QTimer, pyqtSignal, pyqtSlot

from sandbox.app.best import BestAgent
from sandbox.app.human import HumanEpisode
from sandbox.app.lesson import Step
from sandbox.app.lesson_run import measure_trainer, random_scores
from sandbox.app.session import Origin, Snapshot, State, Status
from sandbox.core.config import Config
from sandbox.core.env_profiles import profile
from sandbox.core.evaluate import EVAL_SEED_OFFSET, Evaluation, greedy_steps, random_steps
from sandbox.core.explain import explain_row, newest_row
from sandbox.core.trainer import EpisodeStats, StepResult, Trainer, limit_threads
from sandbox.formats.agent_file import KeptBest, file_info, load_agent, resume_note, save_trainer, trainer_at
from sandbox.formats.agent_state import optimizer_info
from sandbox.formats.event_log import TensorBoardLog, log_folder
from sandbox.formats.export import episodes_to_csv, greedy_video, losses_to_csv
from sandbox.formats.timeline import Checkpoint, Timeline
from sandbox.io.files import PathError, data_dir
from ui import format as fmt
from ui.worker import modes
from ui.worker.commands import (
    Apply,
    Autosave,
    Branch,
    CheckStep,
    Command,
    Evaluate,
    Explain,
    Export,
    HumanAction,
    Load,
    NewAgent,
    PlayRandom,
    Save,
    SetLogging,
    SetView,
    ShowCheckpoint,
)
from ui.worker.modes import (
    Doing,
    Driving,
    Evaluating,
    Inspection,
    Throttle,
    Training,
    Watching,
    guarded,
    inspect,
    readable,
    status_of,
)


@dataclass(frozen=True)
class Past:
    """A checkpoint of the timeline as the window shows it: where it stood and a look inside its agent."""

    checkpoint: Checkpoint
    stats: EpisodeStats | None  # the episode that ended there (None at the start)
    inspection: Inspection


class TrainingWorker(QObject):
    began = pyqtSignal(object)  # Snapshot of a new, opened or restored run
    episodes_finished = pyqtSignal(object)  # list[EpisodeStats], batched with the losses (4 Hz at most)
    losses_added = pyqtSignal(object)  # np.ndarray of float32
    frame_ready = pyqtSignal(object)  # np.ndarray (H, W, 3) uint8: an env's own picture
    state_ready = pyqtSignal(object)  # np.ndarray: the observation, for envs the window draws itself
    stepped = pyqtSignal(object)  # StepResult: a single step, watched training, or the last step before a pause
    watched = pyqtSignal(object)  # GreedyStep of a watched greedy or random episode
    watch_finished = pyqtSignal(str, float, int)  # (state value, score, training episodes done)
    evaluated = pyqtSignal(object)  # EvalResult
    edits_applied = pyqtSignal(object)  # list[LiveEdit]
    status = pyqtSignal(object)  # Status
    state_changed = pyqtSignal(str)
    best_changed = pyqtSignal(object)  # BestMark, or None when there is none
    inspected = pyqtSignal(object)  # Inspection
    exported = pyqtSignal(str)  # a sentence saying what was written where
    human_finished = pyqtSignal(float, int)  # (score, training episodes done when it was played)
    saved = pyqtSignal(str, int)
    autosaved = pyqtSignal(int)  # training steps in the recovery copy just written
    autosave_failed = pyqtSignal(str)  # why it could not be written (training goes on)
    run_finished = pyqtSignal()  # training reached max episodes, or solved with stop_when_solved
    failed = pyqtSignal(object, str)  # (Doing: what was being done, readable message)
    explained = pyqtSignal(object)  # UpdateExplained: a stored transition's target taken apart
    random_played = pyqtSignal(object, int)  # (list of random episodes' scores, training episodes done)
    step_checked = pyqtSignal(object)  # Verdict: a lesson step's check on this run
    log_failed = pyqtSignal(str)  # the TensorBoard log could not be written (training goes on)
    timeline_changed = pyqtSignal(object)  # list[Checkpoint]: the run's checkpoints, after each new one
    past_shown = pyqtSignal(object)  # Past: a checkpoint's agent, asked for by ShowCheckpoint
    synced = pyqtSignal()  # answers `sync`: everything queued before it has run and reported
    stopped = pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        self.trainer: Trainer | None = None
        self.timeline: Timeline | None = None  # the current run's checkpoints
        self.best = BestAgent()
        self.mode: Training | Watching | Driving | Evaluating | None = None
        self._held: Training | Watching | Driving | Evaluating | None = None  # paused for a question (`hold`)
        self.timer: QTimer | None = None
        self.render, self.watch = True, False
        self._pending_losses: list[float] = []
        self._pending_episodes: list = []
        self._last_step: StepResult | None = None
        self._batch, self._frame = Throttle(modes.BATCH_SECONDS), Throttle(modes.FAST_FRAME_SECONDS)
        self._inspection, self._status = Throttle(modes.INSPECT_SECONDS), Throttle(modes.BATCH_SECONDS)
        self._readout = Throttle(modes.BATCH_SECONDS)  # the latest step, while training runs too fast to show each
        self._elapsed = self._rate = 0.0
        self._best_elapsed = 0.0  # training time when the kept best agent was taken: its clock when restored
        self._explain_rng = np.random.default_rng()  # "explain a random transition": never the run's streams
        self._log_folder: Path | None = None  # where each run's TensorBoard log goes (None: not logged)
        self._log: TensorBoardLog | None = None
        self.interrupted = False  # set by `interrupt` from the window's thread; cleared at each tick

    def interrupt(self) -> None:
        """Called in the window's thread as it queues a command (a Pause): the slice under way ends at
        its next step or evaluation chunk, so the command waits that long, not a whole slice. A plain
        attribute, read by this thread between steps: setting it needs no lock, and a queued call
        would itself wait behind the slice."""
        self.interrupted = True

    @property
    def state(self) -> State:
        if self.mode is not None:
            return self.mode.state
        t = self.trainer
        if t is not None and t.total_steps and t.finished:
            return State.SOLVED if t.solved else State.STOPPED
        return State.PAUSED if t is not None and t.total_steps else State.IDLE

    # --- lifecycle ---------------------------------------------------------------------
    @pyqtSlot()
    def setup(self) -> None:
        """Runs in the worker thread once it starts, so the timer belongs to that thread."""
        limit_threads()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)

    @pyqtSlot()
    def sync(self) -> None:  # a barrier: signals sent before `synced` reach the window before it
        self.synced.emit()

    @pyqtSlot()
    def stop(self) -> None:
        """Stop everything and end the thread's event loop (the window waits for it)."""
        self._halt()
        self._end_log()
        if self.trainer:
            self.trainer.close()
        self.stopped.emit()
        QThread.currentThread().quit()

    # --- commands that replace the run ---------------------------------------------------
    @pyqtSlot(object)
    def command(self, cmd: Command) -> None:
        """One typed command from the window (ui/worker/commands.py)."""
        match cmd:
            case NewAgent():
                self.new_agent(cmd.config, cmd.origin)
            case Load():
                self.load(cmd.path, cmd.origin)
            case Save():
                self.save(cmd.path, cmd.include_memory)
            case Autosave():
                self.autosave(cmd.path)
            case Apply():
                self.apply(cmd.changes)
            case SetView():
                self.set_view(cmd.render, cmd.watch)
            case Evaluate():
                self.evaluate(cmd.episodes)
            case Export():
                self.export(cmd.kind, cmd.path)
            case HumanAction():
                self.human_action(cmd.action)
            case Explain():
                self.explain(cmd.sample)
            case PlayRandom():
                self.play_random(cmd.episodes)
            case CheckStep():
                self.check_step(cmd.step)
            case SetLogging():
                self.set_logging(cmd.folder)
            case ShowCheckpoint():
                self.show_checkpoint(cmd.episode)
            case Branch():
                self.branch(cmd.episode)

    @guarded(Doing.CREATING)
    def new_agent(self, config: Config, origin: Origin) -> None:
        self._replace(Trainer(config, render=True), origin)

    @guarded(Doing.OPENING)
    def load(self, path: str, origin: Origin) -> None:
        trainer, kept, timeline = load_agent(path, render=True)
        self._replace(trainer, origin, path, note=resume_note(file_info(path)), carried=kept, timeline=timeline)

    @guarded(Doing.SHOWING_PAST)
    def show_checkpoint(self, episode: int | None) -> None:
        """The agent at the timeline's checkpoint at `episode`, looked inside (None: the present again)."""
        t = self.require()
        if episode is None or self.timeline is None:
            self._inspect(force=True)
            return
        index = self.timeline.index_at(episode)
        past = self._checkpoint_trainer(index, render=False)
        try:
            stats = t.history.episodes[episode - 1] if episode else None
            look = inspect(past)
            if len(t.trajectory):  # the present's states, as the past agent values them: the same line, its Q bars
                states = t.trajectory.copy()
                look = replace(look, trajectory=states, q_values=past.agent.q_values(past.scaler(states[-1])).copy())
            self.past_shown.emit(Past(self.timeline.checkpoints[index], stats, look))
        finally:
            past.close()

    @guarded(Doing.BRANCHING)
    def branch(self, episode: int) -> None:
        """A new run from the exact agent at the checkpoint at `episode`; the old run is archived as its parent."""
        if self.timeline is None:
            raise ValueError("this run has no timeline to branch from")
        index = self.timeline.index_at(episode)
        trainer = self._checkpoint_trainer(index, render=True)
        past = self.timeline.until(index)
        past.follow(trainer)
        self._replace(trainer, Origin.BRANCH, timeline=past, branch_episode=episode)

    def _checkpoint_trainer(self, index: int, render: bool) -> Trainer:
        t = self.settled()
        assert self.timeline is not None
        return trainer_at(self.timeline, index, t.history, t.config, optimizer_info(t.agent), render,
                          t.config.device)

    @pyqtSlot()
    @guarded(Doing.RESTORING_BEST)
    def restore_best(self) -> None:
        """Go back to the run's best point (the kept snapshot stays, so this can be done again)."""
        self._replace(self.best.restore(render=True), Origin.BEST, keep_best=True, elapsed=self._best_elapsed)

    def _replace(self, trainer: Trainer, origin: Origin, path: str | None = None, keep_best: bool = False,
                 note: str | None = None, elapsed: float = 0.0, carried: KeptBest | None = None,
                 timeline: Timeline | None = None, branch_episode: int | None = None) -> None:
        """Make `trainer` the run (its timeline: the one given, already following it, or a new one)."""
        self._halt()
        self._pending_losses, self._pending_episodes, self._last_step = [], [], None
        self._end_log()
        if self.trainer:
            self.trainer.close()
        self.trainer, self._elapsed, self._rate = trainer, elapsed, 0.0
        # The timeline observes first, so a checkpoint taken at an episode's end is announced with it.
        self.timeline = timeline if timeline is not None else Timeline.start(trainer, self._spill_folder())
        trainer.observers.append(self)  # its episodes reach the window and the best agent through episode_ended
        self._start_log()  # each run its own TensorBoard subfolder
        if not keep_best:  # a new run's own best, or the one its file carried
            self.best = BestAgent.carried(carried, trainer.config.device)
            self._best_elapsed = 0.0
        self.began.emit(Snapshot(trainer.config, trainer.spec, trainer.history.copy(), trainer.threshold,
                                 self._status_now(), path, note, origin, self.state, branch_episode))
        self.best_changed.emit(self.best.mark)
        self.timeline_changed.emit(list(self.timeline.checkpoints))
        self._set_state()
        if trainer.mid_episode:
            self.show(trainer.trajectory[-1], trainer.render() if self.frames_needed() else None)
        self._inspect(force=True)

    # --- commands on the run -------------------------------------------------------------
    @guarded(Doing.SAVING)
    def save(self, path: str, include_memory: bool) -> None:
        # Without the memory, without the timeline too: its transition log is the memory's past (a small file).
        self.saved.emit(path, save_trainer(self.settled(), path, include_memory, best=self.best.kept(),
                                           timeline=self.timeline if include_memory else None))

    def autosave(self, path: str) -> None:
        """A recovery copy (replay memory included), between two slices; unlike a save the user asked
        for, a failure stops nothing: it is reported, and training goes on."""
        if self.trainer is None:
            return
        try:
            save_trainer(self.settled(), path, True, follow_links=False,  # the app's own file: a link is replaced
                         best=self.best.kept(), timeline=self.timeline)
        except Exception as exc:  # a full disk, a folder at the path, …: never a reason to stop training
            self.autosave_failed.emit(readable(exc))
            return
        self.autosaved.emit(self.trainer.total_steps)

    @pyqtSlot()
    @guarded(Doing.STARTING)
    def start(self) -> None:
        trainer = self.require()
        if trainer.finished or isinstance(self.mode, Training):
            return
        self._run(Training())

    @pyqtSlot()
    @guarded(Doing.STEPPING_EPISODE)
    def step_episode(self) -> None:
        """Run to the end of the current episode (or one whole episode), then pause."""
        if self.mode is None and not self.require().finished:
            self._run(Training(until_episode_end=True))

    @pyqtSlot()
    @guarded(Doing.PAUSING)
    def pause(self) -> None:
        if self.mode is not None:
            self.rest()

    @pyqtSlot()
    @guarded(Doing.PAUSING)
    def hold(self) -> None:
        """Pause for a question, keeping what ran as it was (not closed) for `resume_held`: the pause
        itself knows what it paused (a step-episode that already ended left nothing to hold)."""
        mode = self.mode
        if mode is not None:
            self.mode = None  # stopped, not closed
            self._halt()
            self._held = mode
            self._report(mode)

    @pyqtSlot()
    @guarded(Doing.STARTING)
    def resume_held(self) -> None:
        """The question was cancelled: go on with exactly what `hold` paused (nothing if it paused nothing)."""
        mode, self._held = self._held, None
        if mode is not None and self.mode is None:
            self._run(mode)

    @pyqtSlot()
    @guarded(Doing.STEPPING)
    def step_once(self) -> None:
        """One env step while nothing runs: shows the frame, state, action, reward and Q-values."""
        if self.mode is None and not self.require().finished:
            self.advance(1, True, False)
            self.settled()  # a step that ended an episode ends its evaluation too
            self._inspect(force=True)
            self._set_state()
            self.explain()  # Step shows the update it stored, taken apart

    @guarded(Doing.EXPLAINING)
    def explain(self, sample: bool = False) -> None:
        """Emit the newest stored transition's target taken apart (or a random one's); nothing if the
        memory is empty."""
        t = self.require()
        memory = t.agent.memory
        row = newest_row(memory)
        if row is None:
            return
        if sample:
            row = int(self._explain_rng.integers(len(memory)))
        self.explained.emit(explain_row(t.agent.online, t.agent.target, t.config, memory, row))

    @guarded(Doing.LOGGING)
    def set_logging(self, folder: str | None) -> None:
        """TensorBoard event files for each run from now on (the current one starts its log now)."""
        self._log_folder = Path(folder) if folder else None
        self._end_log()
        self._start_log()

    def _start_log(self) -> None:
        if self._log_folder is None or self.trainer is None:
            return
        self._log = TensorBoardLog(log_folder(self._log_folder, "the TensorBoard folder"), self.trainer.config,
                                   self.log_failed.emit)
        self.trainer.observers.append(self._log)

    def _end_log(self) -> None:
        """Close the current run's log (its hparams and outcome written), if it has one."""
        if self._log is not None and self.trainer is not None:
            self._log.close(self.trainer)
            self.trainer.observers.remove(self._log)
        self._log = None

    @guarded(Doing.PLAYING_RANDOM)
    def play_random(self, episodes: int) -> None:
        """The random baseline: `episodes` random episodes on envs of their own (training's is untouched),
        at full speed; their scores go to the window with the training episodes done so far."""
        t = self.require()
        scores = random_scores(t.spec.env_id, t.spec.n_actions, episodes, t.config.seed + EVAL_SEED_OFFSET)
        self.random_played.emit(scores, t.episodes_done)

    @guarded(Doing.CHECKING)
    def check_step(self, step: Step) -> None:
        """A lesson step's check measured on this run (its greedy episodes on the evaluation seeds)."""
        verdict = measure_trainer(step, self.settled())
        if verdict is not None:
            self.step_checked.emit(verdict)

    @guarded(Doing.EDITING)
    def apply(self, changes: dict[str, Any]) -> None:
        self.edits_applied.emit(self.settled().apply(changes))
        self._status_out(force=True)
        self._inspect(force=True)  # the coach reconsiders at once: an applied suggestion leaves its list
        self._schedule()

    @guarded(Doing.CHANGING_VIEW)
    def set_view(self, render: bool, watch: bool) -> None:
        self.render, self.watch = render, watch
        self._schedule()

    @pyqtSlot()
    @guarded(Doing.WATCHING_GREEDY)
    def watch_greedy(self) -> None:
        """The notebook's "inference" run: the current policy, no exploration, no learning, real time."""
        t = self.require()
        steps = greedy_steps(t.agent, t.scaler, t.spec.env_id, self._watch_seed(), render=self.frames_needed())
        self._run(Watching(steps, State.GREEDY))

    @pyqtSlot()
    @guarded(Doing.WATCHING_RANDOM)
    def watch_random(self) -> None:
        """The notebook's first step: a uniformly random policy, the baseline a DQN must beat."""
        t = self.require()
        steps = random_steps(t.spec.n_actions, t.spec.env_id, self._watch_seed(), render=self.frames_needed())
        self._run(Watching(steps, State.RANDOM))

    @guarded(Doing.EVALUATING)
    def evaluate(self, episodes: int) -> None:
        """Evaluate: `episodes` greedy episodes on an env of their own, a slice per tick (Pause ends it)."""
        t = self.require()
        self._run(Evaluating(Evaluation(t.agent, t.scaler, t.spec.env_id, episodes, t.config.seed + EVAL_SEED_OFFSET,
                                        t.threshold)))

    @guarded(Doing.EXPORTING)
    def export(self, kind: str, path: str) -> None:
        """kind: 'episodes' or 'losses' (CSV), or 'video' (a greedy episode as GIF or MP4)."""
        t = self.settled()
        if kind == "episodes":
            self.exported.emit(f"Wrote {fmt.plural(episodes_to_csv(t.history, path), 'episode')} to {path}")
        elif kind == "losses":
            self.exported.emit(f"Wrote {losses_to_csv(t.history, path):,} losses to {path}")
        else:
            frames, score = greedy_video(t.agent, t.scaler, t.spec.env_id, self._watch_seed(), path)
            self.exported.emit(f"Wrote a greedy episode ({frames:,} frames, score {score:g}) to {path}")

    @pyqtSlot()
    @guarded(Doing.STARTING_HUMAN)
    def human_start(self) -> None:
        """Let the user drive a fresh episode (training pauses; its env is untouched)."""
        t = self.require()
        self._halt()
        env_profile = profile(t.spec.env_id, t.spec.n_actions)
        episode = HumanEpisode(t.spec.env_id, t.config.seed + t.episodes_done)
        idle = env_profile.idle_action if env_profile.idle_action is not None else 0
        self._run(Driving(episode, idle))
        self.show(episode.state, episode.frame() if self.frames_needed() else None)

    @guarded(Doing.DRIVING)
    def human_action(self, action: int) -> None:
        if isinstance(self.mode, Driving) and 0 <= action < self.require().spec.n_actions:
            self.mode.action, self.mode.started = action, True

    @pyqtSlot()
    @guarded(Doing.STOPPING_HUMAN)
    def human_stop(self) -> None:
        if isinstance(self.mode, Driving):
            self.rest()

    # --- the loop ----------------------------------------------------------------------
    def _run(self, mode: Training | Watching | Driving | Evaluating) -> None:
        self._halt()
        self.mode = mode
        self._set_state()
        self._schedule()

    def _schedule(self) -> None:
        if self.mode is None or self.timer is None:
            return
        real_time = not isinstance(self.mode, Training) or (self.render and self.watch)
        self.timer.start(modes.WATCH_INTERVAL_MS if real_time else 0)

    @pyqtSlot()
    def _tick(self) -> None:
        if self.mode is None:
            return
        self.interrupted = False  # what interrupted an earlier slice has run by now
        try:
            self.mode.tick(self)
        except Exception as exc:
            self.fail(self.mode.what, exc)

    def advance(self, max_steps: int | None, emit_steps: bool, until_episode_end: bool) -> None:
        """Run steps for one slice (or `max_steps`), emitting episodes, losses, frames and status."""
        trainer = self.require()
        started = time.perf_counter()
        deadline = started + modes.SLICE_SECONDS
        steps, ended = 0, False
        while not trainer.finished:
            if trainer.evaluation is not None:  # the greedy evaluation after an episode, a slice at a time
                episode = trainer.continue_evaluation(modes.EVAL_SLICE_STEPS)
                if episode is not None and until_episode_end:
                    ended = True
                    break
                if self.interrupted or time.perf_counter() >= deadline:
                    break
                continue
            result = trainer.step(defer_evaluation=True)
            self._last_step = result
            steps += 1
            self._pending_losses.extend(result.losses)
            if emit_steps:
                self.stepped.emit(result)
            if result.episode is not None and until_episode_end:
                ended = True
                break
            if (max_steps is not None and steps >= max_steps) or self.interrupted or time.perf_counter() >= deadline:
                break
        spent = time.perf_counter() - started
        self._elapsed += spent
        if steps:
            self._rate = 0.8 * self._rate + 0.2 * (steps / spent) if self._rate else steps / spent
        stopping = ended or trainer.finished
        if self.render and (emit_steps or self._frame.ready(force=stopping)):
            self.show(trainer.trajectory[-1] if len(trainer.trajectory) else None,
                       trainer.render() if self.frames_needed() else None)
        if stopping and self.mode is not None:
            self.rest()  # flushes everything and reports the truth
            if trainer.finished:
                self.run_finished.emit()
            return
        self._flush(force=emit_steps)
        self._status_out(force=emit_steps)
        if not emit_steps and self._last_step is not None and self._readout.ready():
            self.stepped.emit(self._last_step)  # the readout stays current (4 times a second) after a Resume
        self._inspect()

    def episode_ended(self, trainer: Trainer, episode: EpisodeStats) -> None:
        """The trainer observer: each finished episode goes out with the next batch, and to the best agent."""
        self._pending_episodes.append(episode)
        timeline = self.timeline
        if timeline is not None and timeline.checkpoints and timeline.checkpoints[-1].episodes == trainer.episodes_done:
            self.timeline_changed.emit(list(timeline.checkpoints))  # it took one at this episode's end
        if self.best.offer(trainer, episode):
            self._best_elapsed = self._elapsed  # as of the last slice (a few ms before)
            self.best_changed.emit(self.best.mark)

    def settled(self) -> Trainer:
        """The trainer with no evaluation under way: one is completed now (a save, an edit or an export
        needs the episode before it whole) and its episode is reported like any other."""
        trainer = self.require()
        if trainer.settle() is not None:  # its episode reached episode_ended
            self._flush(force=True)
            self._status_out(force=True)
        return trainer

    # --- helpers -----------------------------------------------------------------------
    @staticmethod
    def _spill_folder() -> Path | None:
        """Where a long run's timeline puts its older checkpoints: the app's data dir (else the system's)."""
        try:
            return data_dir()
        except (OSError, PathError):
            return None

    def require(self) -> Trainer:
        if self.trainer is None:
            raise RuntimeError("there is no agent yet; create one with New agent")
        return self.trainer

    def _halt(self) -> None:
        """Stop whatever the timer runs, and whatever a question held (an unfinished human episode or
        evaluation is closed)."""
        if self.timer:
            self.timer.stop()
        for mode in (self.mode, self._held):
            if isinstance(mode, Driving):
                mode.episode.close()
            if isinstance(mode, Evaluating):
                mode.evaluation.close()
        self.mode = self._held = None

    def rest(self) -> None:
        """Stop the mode and report everything as it now is: episodes, losses, status, last step, state."""
        mode = self.mode
        self._halt()
        self._report(mode)

    def _report(self, stopped: Training | Watching | Driving | Evaluating | None) -> None:
        self._flush(force=True)
        self._status_out(force=True)
        if isinstance(stopped, Training) and self._last_step is not None:
            self.stepped.emit(self._last_step)  # the step readout shows where training paused
            if self.render:  # and the env view the same moment (at full speed it is drawn now and then)
                self.show(self._last_step.state, self.require().render() if self.frames_needed() else None)
        self._set_state()  # before the map and the diagnostics (milliseconds of work): Pause shows at once
        self._inspect(force=True)

    def fail(self, doing: Doing, exc: Exception) -> None:
        self._halt()
        self._flush(force=True)
        message = readable(exc)
        if self.trainer is not None:
            self._status_out(force=True)
            self._set_state(State.STOPPED if self.trainer.total_steps else None)
        self.failed.emit(doing, message)

    def _set_state(self, state: State | None = None) -> None:
        self.state_changed.emit((state or self.state).value)

    def _watch_seed(self) -> int:
        t = self.require()
        return t.config.seed + EVAL_SEED_OFFSET + t.episodes_done

    def frames_needed(self) -> bool:
        t = self.trainer
        return t is not None and not profile(t.spec.env_id, t.spec.n_actions).drawn_from_state

    def show(self, state: np.ndarray | None, frame: np.ndarray | None) -> None:
        """The env as it is now: its state for envs the window draws itself, else its own frame."""
        if frame is not None:
            self.frame_ready.emit(frame)
        elif state is not None and not self.frames_needed():
            self.state_ready.emit(np.array(state, dtype=np.float64))

    def _flush(self, force: bool = False) -> None:
        """Send the finished episodes and the losses gathered since the last flush."""
        if not (self._pending_losses or self._pending_episodes) or not self._batch.ready(force):
            return
        if self._pending_episodes:
            self.episodes_finished.emit(self._pending_episodes)
            self._pending_episodes = []
        if self._pending_losses:
            self.losses_added.emit(np.asarray(self._pending_losses, dtype=np.float32))
            self._pending_losses = []

    def _inspect(self, force: bool = False) -> None:
        """Emit the map and diagnostics: throttled while training, at once when forced."""
        if self.trainer is not None and self._inspection.ready(force):
            self.inspected.emit(inspect(self.trainer))

    def _status_now(self) -> Status:
        return status_of(self.require(), self._rate, self._elapsed)

    def _status_out(self, force: bool = False) -> None:
        if self.trainer is not None and self._status.ready(force):
            self.status.emit(self._status_now())


def start_worker() -> tuple[TrainingWorker, QThread]:
    """A worker living in a started thread; stop it with `worker.stop` (queued) then `thread.wait()`."""
    thread = QThread()
    thread.setObjectName("training")
    worker = TrainingWorker()
    worker.moveToThread(thread)
    thread.started.connect(worker.setup)
    thread.start()
    return worker, thread
