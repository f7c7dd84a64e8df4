"""Lessons: the notebook's path as data a teacher can write, checked before anything is shown.

A lesson is one TOML file (`resources/lessons/*.toml`, or any file a teacher passes): a title, a
summary, a base preset, and steps. Each step has a short explanation (Markdown source, shown as
plain text: nothing in a lesson is rendered or followed), what to do in the app (`do`), the
experiment's config (the lesson's preset, then the step's `preset` and `set` fields), and a check on
the run the step produced:

    [[step]]
    title = "Meet the env and its random baseline"
    text = '''A random policy pushes left, right or not at all ...'''
    do = "random"            # read | random | train
    episodes = 100           # random: episodes to play; train: at most this many episodes
    set = { seed = 3 }       # optional: config fields for this step (typed as in a config file)
    [step.check]
    metric = "random_mean"   # one of METRICS
    at_most = -195.0         # and/or at_least
    says = "it never reaches the flag in 200 steps"

The file is read with the config files' rules: a regular file of bounded size, its text measured
before TOML parses it, every key known, every value of its exact type and bounded, and the answer a
Lesson or one LessonError line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sandbox.core.config import (
    MAX_CONFIG_KEYS,
    Config,
    ConfigError,
    load_preset,
    parse_bounded,
    preset_names,
    typed,
)
from sandbox.io.files import PathError, read_regular, shown_path
from sandbox.io.text import shown

LESSONS = resources.files("sandbox.resources") / "lessons"
FORMAT = "rl-sandbox-lesson"
MAX_LESSON_BYTES = 256 * 1024
MAX_STEPS = 30
MAX_TITLE = 120
MAX_TEXT = 6000
MAX_EPISODES = 5000
ACTIONS = ("read", "random", "train")
# What a check can measure on the run a step produced (sandbox/app/lesson_run.py computes each).
METRICS = {
    "random_mean": "mean score of the random episodes",
    "best_average": "best moving average of training",
    "final_average": "last moving average of training",
    "collapse": "how far the moving average fell from its best by the end",
    "successes": "training episodes that reached the goal (terminated)",
    "greedy_mean": "mean score of 20 greedy episodes after training",
    "overestimation": "mean of (max target - Double DQN target) over 256 stored transitions",
    "q_gap": "start-state max Q minus the greedy episodes' discounted return",
    "value_jumps": "mean jump of the start state's max Q from one episode to the next (last 50 episodes)",
}
STEP_KEYS = ("title", "text", "do", "episodes", "preset", "set", "check")
CHECK_KEYS = ("metric", "at_most", "at_least", "says")
LESSON_KEYS = ("format", "version", "title", "summary", "preset", "set", "step")


class LessonError(ValueError):
    """A lesson file is unusable; the message names the file, the step and the key."""


@dataclass(frozen=True)
class Check:
    metric: str
    at_most: float | None
    at_least: float | None
    says: str

    def passes(self, value: float) -> bool:
        return (math.isfinite(value) and (self.at_most is None or value <= self.at_most)
                and (self.at_least is None or value >= self.at_least))

    def evidence(self, value: float) -> str:
        """One line: the number, the bound it was held to, and what it means."""
        bounds = [f"≤ {self.at_most:g}" if self.at_most is not None else "",
                  f"≥ {self.at_least:g}" if self.at_least is not None else ""]
        wanted = " and ".join(b for b in bounds if b)
        number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        return f"{METRICS[self.metric]}: {number} (wanted {wanted}) — {self.says}"


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    do: str
    episodes: int
    config: Config
    check: Check | None


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    summary: str
    steps: tuple[Step, ...]


def lesson_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in LESSONS.iterdir() if p.name.endswith(".toml"))


def load_lesson(name_or_path: str | Path) -> Lesson:
    """A shipped lesson by name, or a lesson file; LessonError (one line) for anything unusable."""
    text = str(name_or_path)
    if text in lesson_names():
        return parse_lesson((LESSONS / f"{text}.toml").read_bytes(), text, f"lesson {text!r}")
    path = Path(name_or_path)
    where = f"lesson file {shown_path(path)}"
    if path.suffix.lower() != ".toml":
        known = ", ".join(lesson_names())
        raise LessonError(f"{shown(text)} is neither a shipped lesson ({known}) nor a .toml lesson file")
    try:
        raw = read_regular(path, MAX_LESSON_BYTES, "lesson file")
    except PathError as exc:
        raise LessonError(str(exc)) from None
    return parse_lesson(raw, path.stem, where)


def parse_lesson(raw: bytes, name: str, where: str) -> Lesson:
    try:
        data = parse_bounded(raw, "toml", where)
    except ConfigError as exc:
        raise LessonError(str(exc)) from None
    unknown = [k for k in data if k not in LESSON_KEYS]
    if unknown:
        raise LessonError(f"{where}: unknown key {shown(unknown[0])}; known: {', '.join(LESSON_KEYS)}")
    if data.get("format") != FORMAT or data.get("version") != 1:
        raise LessonError(f"{where}: must start with format = {FORMAT!r} and version = 1")
    title = _text(data.get("title"), f"{where}: title", MAX_TITLE)
    summary = _text(data.get("summary", ""), f"{where}: summary", MAX_TEXT, empty=True)
    base = _config(_preset(data.get("preset", "notebook"), where), data.get("set", {}), where)
    steps = data.get("step")
    if not (isinstance(steps, list) and 1 <= len(steps) <= MAX_STEPS):
        raise LessonError(f"{where}: needs 1 to {MAX_STEPS} [[step]] tables")
    return Lesson(name, title, summary, tuple(_step(s, i + 1, base, where) for i, s in enumerate(steps)))


def _step(raw: Any, number: int, base: Config, where: str) -> Step:
    at = f"{where}, step {number}"
    if not isinstance(raw, dict):
        raise LessonError(f"{at} must be a table")
    unknown = [k for k in raw if k not in STEP_KEYS]
    if unknown:
        raise LessonError(f"{at}: unknown key {shown(unknown[0])}; known: {', '.join(STEP_KEYS)}")
    title = _text(raw.get("title"), f"{at}: title", MAX_TITLE)
    text = _text(raw.get("text"), f"{at}: text", MAX_TEXT)
    do = raw.get("do", "read")
    if do not in ACTIONS:
        raise LessonError(f"{at}: do = {shown(do)}; allowed: {', '.join(ACTIONS)}")
    episodes = raw.get("episodes", 0 if do == "read" else 100)
    if type(episodes) is not int or not (0 if do == "read" else 1) <= episodes <= MAX_EPISODES:
        raise LessonError(f"{at}: episodes = {shown(episodes)}; allowed: an integer from 1 to {MAX_EPISODES:,}")
    config = base
    if "preset" in raw:
        config = load_preset(_preset(raw["preset"], at))
    config = _config(config, raw.get("set", {}), at)
    if do == "train":
        config = config.with_changes(max_episodes=episodes)
    check = _check(raw["check"], at, do) if "check" in raw else None
    return Step(title, text, do, episodes, config, check)


def _check(raw: Any, at: str, do: str) -> Check:
    if not isinstance(raw, dict):
        raise LessonError(f"{at}: check must be a table")
    unknown = [k for k in raw if k not in CHECK_KEYS]
    if unknown:
        raise LessonError(f"{at}: check has unknown key {shown(unknown[0])}; known: {', '.join(CHECK_KEYS)}")
    metric = raw.get("metric")
    if metric not in METRICS:
        raise LessonError(f"{at}: check metric = {shown(metric)}; allowed: {', '.join(METRICS)}")
    if do == "read" or (do == "random") != (metric == "random_mean"):
        raise LessonError(f"{at}: metric {metric!r} cannot be measured by do = {do!r}")
    bounds = [raw.get("at_most"), raw.get("at_least")]
    for key, value in zip(("at_most", "at_least"), bounds, strict=True):
        if value is not None and (type(value) not in (int, float) or not math.isfinite(value) or abs(value) > 1e9):
            raise LessonError(f"{at}: check {key} = {shown(value)}; allowed: a number")
    if bounds == [None, None]:
        raise LessonError(f"{at}: a check needs at_most or at_least")
    says = _text(raw.get("says", ""), f"{at}: check says", MAX_TITLE * 2, empty=True)
    at_most, at_least = (None if b is None else float(b) for b in bounds)
    return Check(metric, at_most, at_least, says)


def _text(value: Any, what: str, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise LessonError(f"{what} must be {'a' if empty else 'a non-empty'} text")
    if len(value) > limit:
        raise LessonError(f"{what} is {len(value):,} characters; at most {limit:,}")
    return value.strip()


def _preset(name: Any, at: str) -> str:
    if name not in preset_names():
        raise LessonError(f"{at}: preset = {shown(name)}; allowed: {', '.join(preset_names())}")
    return str(name)


def _config(base: Config | str, changes: Any, at: str) -> Config:
    config = load_preset(base) if isinstance(base, str) else base
    if not isinstance(changes, dict) or len(changes) > MAX_CONFIG_KEYS:
        raise LessonError(f"{at}: set must be a table of config fields")
    try:
        return config.with_changes(**{str(k): typed(str(k), v) for k, v in changes.items()})
    except ConfigError as exc:
        raise LessonError(f"{at}: {exc}") from None
