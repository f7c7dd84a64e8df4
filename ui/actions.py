"""Every menu and toolbar action in one declarative table: text, shortcut, tooltip, where it shows.

The window connects each action by name: to a worker slot directly (queued across threads) when
the command needs nothing from the window, else to one of its own methods.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QComboBox, QMenu, QMenuBar, QToolBar, QWidget

from sandbox.app.session import BUSY, State
from ui import plain
from ui.play_button import PlayButton

EVAL_EPISODES = 100
MENUS = ("&File", "E&xport", "&Run", "&View", "&Help")


@dataclass(frozen=True)
class ActionSpec:
    name: str  # the window's attribute is act_<name>
    text: str
    tip: str
    shortcut: str | QKeySequence.StandardKey | None = None
    menu: str | None = None  # one of MENUS
    toolbar: int | None = None  # toolbar group (separators between groups)
    short: str | None = None  # the toolbar's shorter label
    checkable: bool = False
    separator_before: bool = False  # in its menu


ACTIONS = (
    ActionSpec("new", "&New agent", "Start over with the parameters in the panel (asks before discarding training)",
               QKeySequence.New, "&File", 0, "New"),
    ActionSpec("open", "&Open agent…", "Open a saved agent and its history", QKeySequence.Open, "&File", 0, "Open"),
    ActionSpec("save", "&Save agent", "Save the agent, its history and memory", QKeySequence.Save, "&File", 0, "Save"),
    ActionSpec("save_as", "Save agent &as…", "Save to a new file", "Ctrl+Shift+S", "&File"),
    ActionSpec("restore", "&Restore recovered training…",
               "Restore the training autosaved before the app last closed unexpectedly", None, "&File"),
    ActionSpec("include_memory", "Include replay &memory in saves",
               "Save the replay memory and the run's timeline too, so resumed training continues exactly and "
               "can branch from any checkpoint (files get larger)", None,
               "&File", checkable=True),
    ActionSpec("export_episodes", "&Episodes as CSV…", "One row per episode: score, length, moving average, "
               "epsilon, loss, …", None, "E&xport"),
    ActionSpec("export_losses", "&Losses as CSV…", "Every learning update's loss", None, "E&xport"),
    ActionSpec("export_png", "Plots as &PNG…", "The three plots as an image", None, "E&xport"),
    ActionSpec("export_svg", "Plots as &SVG…", "The three plots as a vector drawing", None, "E&xport"),
    ActionSpec("export_video", "Greedy episode as &GIF or MP4…",
               "Record the current policy playing one episode (needs the 'video' extra)", None, "E&xport"),
    ActionSpec("tensorboard", "Log runs for &TensorBoard",
               "Write each run's event files (CleanRL's tags, the config as hparams) into the data folder's "
               "tensorboard/ subfolder: open them with `tensorboard --logdir` beside SB3 and CleanRL runs", None,
               "&File", checkable=True),
    ActionSpec("load_log", "&Load TensorBoard log…",
               "Add the runs of a TensorBoard log folder (SB3, CleanRL or RL Sandbox) to the Runs tab as ghosts: "
               "their episode returns, drawn behind the current run", None, "&File"),
    ActionSpec("quit", "&Quit", "Close RL Sandbox", QKeySequence.Quit, "&File", separator_before=True),
    ActionSpec("start", "&Start", "Start or resume training", "Space", "&Run", 1),
    ActionSpec("pause", "&Pause", "Pause between two env steps", "Space", "&Run", 1),
    ActionSpec("step", "S&tep", "One env step: shows the state, the action, the reward and Q", "S", "&Run", 1),
    ActionSpec("step_episode", "Step &episode", "Run one episode, then pause", "E", "&Run", 1, "Episode"),
    ActionSpec("random", "Watch &random", "One episode of a uniformly random policy: the baseline DQN must beat "
               "(its score joins the score plot)", "X", "&Run", 2, "Random", separator_before=True),
    ActionSpec("greedy", "&Watch greedy", "Run the current policy without exploration or learning, in real time",
               "G", "&Run", 2, "Greedy"),
    ActionSpec("evaluate", "E&valuate", f"{EVAL_EPISODES} greedy episodes: mean ± std and whether that solves "
               "the env", "Ctrl+E", "&Run", 2),
    ActionSpec("restore_best", "Restore &best agent", "Go back to the agent at its best moving average (DQN often "
               "peaks, then collapses)", "Ctrl+B", "&Run", 2, "Best"),
    ActionSpec("human", "&Drive it yourself", "Play one episode with the arrow keys; your score joins the plot",
               "H", "&Run", 2, "Drive"),
    ActionSpec("tune", "&Tune…", "Search hyperparameters from the panel's config in worker processes (the Tune view)",
               "Ctrl+T", "&Run", separator_before=True),
    ActionSpec("render", "&Render", "Show the env while training", "R", "&View", 3, checkable=True),
    ActionSpec("log_loss", "&Log-scale loss", "Show the loss on a log scale", "L", "&View", checkable=True),
    ActionSpec("quick_start", "&Quick start", "The steps a new user takes, in order", QKeySequence.HelpContents,
               "&Help"),
    ActionSpec("presets", "&Presets", "What each preset of the panel is for", None, "&Help"),
    ActionSpec("about", "&About RL Sandbox", "What this is, and its version", None, "&Help"),
)


def build_actions(window: QWidget, menubar: QMenuBar, toolbar: QToolBar) -> dict[str, QAction]:
    """Create every action of the table, add it to its menu and toolbar group; returns them by name."""
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    group = None
    for spec in ACTIONS:
        action = QAction(spec.text, window)
        if spec.shortcut is not None:
            action.setShortcut(QKeySequence(spec.shortcut))
        shown = action.shortcut().toString(QKeySequence.NativeText)
        plain.tooltip(action, f"{spec.tip} ({shown})" if shown else spec.tip)
        action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        if spec.short:
            action.setIconText(spec.short)
        window.addAction(action)
        if spec.menu:
            if spec.menu not in menus:
                parent = menus["&File"] if spec.menu == "E&xport" else menubar
                menus[spec.menu] = parent.addMenu(spec.menu)
            if spec.separator_before:
                menus[spec.menu].addSeparator()
            menus[spec.menu].addAction(action)
        if spec.toolbar is not None:
            if group is not None and spec.toolbar != group:
                toolbar.addSeparator()
            group = spec.toolbar
            if spec.name == "pause":  # Start's toolbar button shows Pause while training runs
                toolbar.addWidget(PlayButton(actions["start"], action, toolbar))
            elif spec.name != "start":
                toolbar.addAction(action)
        actions[spec.name] = action
    return actions


def update_enabled(actions: dict[str, QAction], state: State, has_best: bool) -> None:
    """Enable what makes sense in `state` (and name Start "Resume" when paused)."""
    busy = state in BUSY
    actions["start"].setEnabled(not busy)
    actions["start"].setText("&Resume" if state == State.PAUSED else "&Start")
    actions["pause"].setEnabled(state in (State.RUNNING, State.GREEDY, State.RANDOM, State.HUMAN))
    for name in ("step", "step_episode"):
        actions[name].setEnabled(not busy)
    actions["greedy"].setEnabled(state not in (State.EVALUATING, State.GREEDY))
    actions["random"].setEnabled(state not in (State.EVALUATING, State.RANDOM))
    actions["evaluate"].setEnabled(state != State.EVALUATING)
    actions["restore_best"].setEnabled(has_best and state != State.EVALUATING)


def speed_box(watch: bool) -> QComboBox:
    """The toolbar's speed choice: every step at ~50 fps, or full speed with a frame now and then."""
    box = QComboBox()
    box.addItem("watch", True)  # short: the toolbar keeps every button on a laptop's 1024 px
    box.addItem("fast", False)
    box.setItemData(0, "Every step in real time, at ~50 fps", Qt.ToolTipRole)
    box.setItemData(1, "Full speed, with a frame now and then (at most ~30 frames/s)", Qt.ToolTipRole)
    box.setCurrentIndex(0 if watch else 1)
    box.setToolTip("Watch: every step in real time, at ~50 fps. Fast: full speed, at most ~30 frames/s.")
    return box
