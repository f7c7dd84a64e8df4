"""The coach: why is my run not learning, and what exactly to change.

Every hint is one small function of the run's own numbers (history, config, env spec) with its
thresholds named below. Each says what it saw (the evidence, with numbers) and suggests changes with
a direction and a size (`update_interval 5 → 1`), ordered so the first suggestion of the first hint
is the one to try first. Suggestions are plain data, so the app applies one in a click (through the
live-edit or New-agent path) and `train` prints them. Pure and cheap: run every few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.core.config import LIVE_FIELDS, Config, ConfigError
from sandbox.core.envs import EnvSpec
from sandbox.core.trainer import EpisodeStats, History

# Envs whose episodes terminate only by reaching the goal (elsewhere termination can mean failure).
GOAL_TERMINATES = {"MountainCar-v0": "the car never reached the flag", "Acrobot-v1": "the tip never swung up"}
MIN_EPISODES = 20  # before this many episodes, silence: too soon to say
LOW_EPSILON = 0.05  # exploration is "spent" below this
EXPLORE_EPISODES = 50  # exploration should last at least this many episodes when the goal is rare
MEMORY_EPISODES = 20  # a replay memory should hold at least this many episodes
GOOD_MEMORY = 50_000
MIN_INTENSITY = 0.5  # gradient steps per env step DQN usually needs on these tasks
TARGET_INTENSITY = 1.0  # what the suggestion aims for
PLATEAU_EPISODES = 200  # no new best moving average for this long: a plateau
NEAR_THRESHOLD = 0.25  # "within reach": the best is closer to the threshold than 25 % of the way from the start
LOSS_WINDOW, LOSS_FACTOR = 200, 100.0  # a window's mean loss this many times the typical one: a jump
DRIFT_EPISODES = 20
COLLAPSE_LOST = 0.5  # the moving average lost this share of what it had gained


@dataclass(frozen=True)
class Suggestion:
    """Change `name` to `value`; `live` when it can change during the run (else it needs a new agent)."""

    name: str
    old: Any
    value: Any

    @property
    def live(self) -> bool:
        return self.name in LIVE_FIELDS

    def __str__(self) -> str:
        return f"{self.name} {_fmt(self.old)} → {_fmt(self.value)}"


@dataclass(frozen=True)
class Hint:
    key: str
    title: str
    detail: str  # the evidence, with the run's numbers
    suggestions: tuple[Suggestion, ...] = ()
    severity: str = "warning"  # "info", "warning" or "error"
    offer_best: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.suggestions)

    def line(self) -> str:
        """One line for a terminal or a log: the title, the top suggestion, the evidence."""
        top = f" — try {self.suggestions[0]}" if self.suggestions else ""
        return f"{self.title}{top}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "detail": self.detail, "severity": self.severity,
                "suggestions": [{"name": s.name, "from": s.old, "to": s.value} for s in self.suggestions]}


def diagnose(history: History, config: Config, spec: EnvSpec, epsilon: float, finished: bool = False) -> list[Hint]:
    """Every hint that applies now, the one to act on first at the top.

    `finished`: the run has ended; an unsolved run then always says so, with its best vs the threshold.
    """
    threshold = config.solve_threshold if config.solve_threshold is not None else spec.reward_threshold
    run = Run(history.episodes, config, spec, epsilon, threshold, np.frombuffer(history.losses, dtype=np.float32))
    rules = (memory_tiny, goal_never_reached, epsilon_spent_early, loss_diverging, collapsed, plateau,
             learning_too_slow, q_drift, not_solved if finished else None)
    return [hint for rule in rules if rule is not None and (hint := rule(run)) is not None]


@dataclass(frozen=True)
class Run:
    """What the rules read."""

    episodes: list[EpisodeStats]
    config: Config
    spec: EnvSpec
    epsilon: float
    threshold: float | None
    losses: np.ndarray

    @property
    def length(self) -> int:
        return self.spec.max_episode_steps or (max(e.length for e in self.episodes) if self.episodes else 0)

    @property
    def solved(self) -> bool:
        return bool(self.episodes) and self.episodes[-1].solved

    @property
    def first_goal(self) -> EpisodeStats | None:
        return next((e for e in self.episodes if e.terminated), None)

    @property
    def intensity(self) -> float:
        """Gradient steps per env step."""
        return self.config.update_times / self.config.update_interval

    def best(self) -> tuple[float, int, str]:
        """(best score by the solve rule, its episode index, what it is)."""
        evals = [e for e in self.episodes if e.evaluated]
        if self.config.solve_rule == "greedy" and evals:
            top = max(evals, key=lambda e: e.greedy_mean)
            return top.greedy_mean, top.index, "greedy mean"
        top = max(self.episodes, key=lambda e: e.moving_average)
        return top.moving_average, top.index, "moving average"

    def suggest(self, name: str, value: Any) -> Suggestion | None:
        """A suggestion, if `value` is allowed and differs from the current one."""
        old = getattr(self.config, name)
        try:
            self.config.with_changes(**{name: value})
        except ConfigError:
            return None
        return None if value == old else Suggestion(name, old, value)

    def suggestions(self, *pairs: tuple[str, Any]) -> tuple[Suggestion, ...]:
        return tuple(s for name, value in pairs if (s := self.suggest(name, value)) is not None)


# --- the rules ------------------------------------------------------------------------------
def memory_tiny(run: Run) -> Hint | None:
    c, length = run.config, run.length
    if not length or c.memory_capacity >= MEMORY_EPISODES * length:
        return None
    target = max(GOOD_MEMORY, MEMORY_EPISODES * length)
    return Hint("memory_tiny", "The replay memory is tiny",
                f"memory_capacity = {c.memory_capacity:,} holds only {c.memory_capacity / length:.1f} episodes of "
                f"{length} steps: the agent forgets what it saw almost at once, and its batches come from the same "
                f"few episodes. Hold at least {MEMORY_EPISODES} episodes ({MEMORY_EPISODES * length:,} transitions).",
                run.suggestions(("memory_capacity", target)))


def goal_never_reached(run: Run) -> Hint | None:
    if run.spec.env_id not in GOAL_TERMINATES or run.first_goal or len(run.episodes) < MIN_EPISODES:
        return None
    c, steps = run.config, run.episodes[-1].total_steps
    return Hint("goal_never_reached", "The goal has never been reached",
                f"In {len(run.episodes)} episodes ({steps:,} steps) {GOAL_TERMINATES[run.spec.env_id]}: every "
                f"episode scored {run.episodes[-1].score:g}, so every reward is the same and Q has nothing to learn "
                "from. This is an exploration problem: hold random actions long enough to build momentum, and "
                "spread the rare reward back further.",
                run.suggestions(("explore_duration", 100 if c.explore_duration < 100 else c.explore_duration),
                                ("n_step", 5 if c.n_step < 5 else c.n_step),
                                ("epsilon_decay", _slower_decay(run))))


def epsilon_spent_early(run: Run) -> Hint | None:
    """Exploration fell below LOW_EPSILON before the goal was first reached (or it never was)."""
    if run.spec.env_id not in GOAL_TERMINATES or run.solved or len(run.episodes) < MIN_EPISODES:
        return None
    spent = next((e for e in run.episodes if e.epsilon <= LOW_EPSILON), None)
    goal = run.first_goal
    if spent is None or (goal is not None and goal.index <= spent.index):
        return None
    decay = _slower_decay(run)
    when = f"first reached at episode {goal.index + 1}" if goal else "never reached"
    return Hint("epsilon_too_early", "Exploration was spent before the first success",
                f"epsilon fell to {spent.epsilon:.3f} by episode {spent.index + 1}, but the goal was {when}: the "
                f"agent was repeating what it believed before it had ever seen success. With decay {decay} every "
                f"{run.config.steps_per_decay} steps, epsilon stays above 0.1 for about {EXPLORE_EPISODES} episodes.",
                run.suggestions(("epsilon_decay", decay)))


def loss_diverging(run: Run) -> Hint | None:
    jump = _loss_jump(run.losses)
    if jump is None:
        return None
    typical, last, at_update = jump
    goal = run.first_goal
    if goal is not None and math.isfinite(last) and goal.updates >= at_update - 2 * LOSS_WINDOW \
            and not _q_growing(run):
        return Hint("loss_rose_at_success", "The loss rose when the goal was first reached (expected)",
                    f"The mean loss went from a typical {typical:.3g} to {last:.3g} around update {at_update:,}, "
                    f"just as the goal was first reached (episode {goal.index + 1}): the new, better returns are "
                    "far from what Q predicted, so the error grows while Q catches up. Nothing to change.",
                    severity="info")
    c = run.config
    return Hint("loss_diverging", "The loss is diverging",
                f"The mean loss jumped from a typical {typical:.3g} to {last:.3g} ({last / typical:,.0f}×) and the "
                "Q-values grow without bound: the updates overshoot and feed on themselves; next comes NaN.",
                run.suggestions(("learning_rate", _round(c.learning_rate / 3)),
                                ("gradient_clip", 1.0 if c.gradient_clip == 0 or c.gradient_clip > 10 else
                                 c.gradient_clip), ("loss", "huber")), severity="error")


def collapsed(run: Run) -> Hint | None:
    found = _collapse(run.episodes, run.config.solve_window)
    if found is None or run.solved:
        return None
    best_i, best, first, now = found
    c = run.config
    return Hint("collapsed", "The score peaked, then collapsed",
                f"The moving average reached {best:.1f} at episode {best_i + 1} (from {first:.1f}) and is now "
                f"{now:.1f}: the agent unlearned what worked, as DQN often does. Restore the best agent, then train "
                "on with gentler updates: a smaller step and a slower-moving target.",
                run.suggestions(("learning_rate", _round(c.learning_rate / 3)), _slower_target(c),
                                ("memory_capacity", max(c.memory_capacity, GOOD_MEMORY))), offer_best=True)


def plateau(run: Run) -> Hint | None:
    """Unsolved, the best within reach of the threshold, and no new best for PLATEAU_EPISODES."""
    if run.solved or run.threshold is None or len(run.episodes) < run.config.solve_window + PLATEAU_EPISODES:
        return None
    best, at, what = run.best()
    start = run.episodes[min(run.config.solve_window, len(run.episodes)) - 1].moving_average
    since = len(run.episodes) - 1 - at
    reach = run.threshold - best <= NEAR_THRESHOLD * max(run.threshold - start, 1.0)
    if since < PLATEAU_EPISODES or not reach:
        return None
    return Hint("plateau", f"Not solved: best {best:.1f} vs {run.threshold:g}, no progress for {since} episodes",
                f"The {what} peaked at {best:.1f} (episode {at + 1}), {run.threshold - best:.1f} short of the "
                f"threshold, and has not improved since. The agent learns, but not enough per step: "
                f"{_intensity_text(run)}" + ("" if run.epsilon > LOW_EPSILON else
                                              f"; exploration is spent (epsilon {run.epsilon:.3f})") + ".",
                _knobs(run))


def learning_too_slow(run: Run) -> Hint | None:
    """Few gradient steps per env step on a run that is not getting there."""
    if run.intensity >= MIN_INTENSITY or run.solved or len(run.episodes) < run.config.solve_window:
        return None
    if plateau(run) is not None:
        return None  # the plateau hint already leads with it
    best, _, _ = run.best()
    if run.threshold is not None and best >= run.threshold:
        return None
    return Hint("learning_too_slow", "Too few gradient steps per env step",
                f"{_sentence(_intensity_text(run))}; DQN on this task usually needs ≥ {MIN_INTENSITY}.",
                _more_learning(run))


def q_drift(run: Run) -> Hint | None:
    recent = run.episodes[-DRIFT_EPISODES:]
    if len(run.episodes) < 2 * DRIFT_EPISODES or not len(run.losses):
        return None
    expected = float(np.mean([e.start_value for e in recent]))
    got = float(np.mean([e.discounted_return for e in recent]))
    if abs(expected - got) <= max(abs(got), 1.0):
        return None
    c = run.config
    return Hint("q_drift", "Q-values have drifted from the returns",
                f"Over the last {DRIFT_EPISODES} episodes the agent expected {expected:.1f} from the start state but "
                f"got {got:.1f} (discounted, as Q counts it): its values no longer describe what happens.",
                run.suggestions(("double_dqn", True), _slower_target(c),
                                ("learning_rate", _round(c.learning_rate / 3))))


def not_solved(run: Run) -> Hint | None:
    """A finished run that did not solve always says so, with its best against the threshold."""
    if run.solved or run.threshold is None or not run.episodes:
        return None
    best, at, what = run.best()
    return Hint("not_solved", f"Not solved: best {best:.1f} vs {run.threshold:g}",
                f"The run ended after {len(run.episodes):,} episodes; its best {what} was {best:.1f} at episode "
                f"{at + 1}. {_sentence(_intensity_text(run))}.", _knobs(run), severity="error")


# --- helpers --------------------------------------------------------------------------------
def _knobs(run: Run) -> tuple[Suggestion, ...]:
    """What moves an unsolved run, most effective first: learning intensity, memory, n-step, exploration."""
    c = run.config
    pairs = []
    if run.intensity < MIN_INTENSITY:
        pairs += list(_pairs_for_more_learning(run))
    if c.memory_capacity < GOOD_MEMORY:
        pairs.append(("memory_capacity", GOOD_MEMORY))
    if c.n_step < 3:
        pairs.append(("n_step", 3))
    if run.epsilon <= LOW_EPSILON and c.epsilon_end < 0.05:
        pairs.append(("epsilon_end", 0.05))
    return run.suggestions(*pairs)


def _pairs_for_more_learning(run: Run) -> tuple[tuple[str, Any], ...]:
    c = run.config
    if c.update_interval > 1:
        return (("update_interval", max(1, math.floor(c.update_times / TARGET_INTENSITY))),)
    return (("update_times", math.ceil(TARGET_INTENSITY * c.update_interval)),)


def _more_learning(run: Run) -> tuple[Suggestion, ...]:
    return run.suggestions(*_pairs_for_more_learning(run))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slower_target(c: Config) -> tuple[str, Any]:
    """A target net that moves half as fast: twice the interval between hard copies, or half the tau."""
    if c.target_update == "hard":
        return "target_update_interval", min(c.target_update_interval * 2, 10_000)
    return "tau", _round(c.tau / 2)


def _intensity_text(run: Run) -> str:
    c, length = run.config, run.length
    held = f", and the memory holds {c.memory_capacity / length:,.0f} episodes" if length else ""
    return (f"you do {run.intensity:.2g} gradient steps per env step (update_times {c.update_times} every "
            f"update_interval {c.update_interval}){held}")


def _slower_decay(run: Run) -> float:
    """A decay keeping epsilon above 0.1 for about EXPLORE_EPISODES episodes, rounded up to 3 decimals."""
    c = run.config
    steps = EXPLORE_EPISODES * max(run.length, 1)
    decays = max(steps / c.steps_per_decay, 1.0)
    value = 0.1 ** (1 / decays)
    return max(c.epsilon_decay, min(0.999, math.ceil(value * 1000) / 1000))


def _round(x: float) -> float:
    """Two significant digits: 3.3e-4, not 0.000333333."""
    return float(f"{x:.2g}")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _collapse(episodes: list[EpisodeStats], window: int) -> tuple[int, float, float, float] | None:
    """(best index, best, first full-window average, now) when the average lost COLLAPSE_LOST of its gain."""
    if len(episodes) < window + 1:
        return None
    averages = [e.moving_average for e in episodes[window - 1:]]
    best_at = int(np.argmax(averages))
    best, first, now = averages[best_at], averages[0], averages[-1]
    gained, lost = best - first, best - now
    if gained <= 0 or lost < COLLAPSE_LOST * gained or lost < 0.05 * abs(best) + 1e-9:
        return None
    return best_at + window - 1, best, first, now


def _loss_jump(losses: np.ndarray) -> tuple[float, float, int] | None:
    """(typical window mean, last window mean, update where the last window starts) when the last
    window's mean loss is LOSS_FACTOR times the median of the earlier ones: orders of magnitude, not
    the ordinary rise as values are learned."""
    window = LOSS_WINDOW
    if len(losses) < 4 * window:
        return None
    usable = len(losses) // window * window
    means = losses[len(losses) - usable:].reshape(-1, window).mean(axis=1, dtype=np.float64)
    typical, last = float(np.median(means[:-1])), float(means[-1])
    if not math.isfinite(last) or (typical > 0 and last > LOSS_FACTOR * typical):
        return typical, last, len(losses) - window
    return None


def _q_growing(run: Run) -> bool:
    """Q at the start state beyond 10× any return seen: values growing without bound."""
    recent = run.episodes[-DRIFT_EPISODES:]
    if not recent:
        return False
    biggest_return = max(abs(e.discounted_return) for e in run.episodes) or 1.0
    return max(abs(e.start_value) for e in recent) > 10 * biggest_return



def learning_summary(config: Config, episode_length: int | None) -> str:
    """How hard the agent learns, in the numbers the fields set: shown beside them in the panel."""
    intensity = config.update_times / config.update_interval
    ratio = config.batch_size * intensity
    horizon = 1 / (1 - config.gamma) if config.gamma < 1 else math.inf
    parts = [f"{intensity:.2g} gradient steps per env step" + (" (low)" if intensity < MIN_INTENSITY else ""),
             f"each transition replayed ~{ratio:.3g}× per step of data"]
    if episode_length:
        parts.append(f"memory holds {config.memory_capacity / episode_length:,.1f} episodes")
        parts.append(f"horizon 1/(1−γ) = {horizon:,.0f} steps vs {episode_length}-step episodes")
    return " · ".join(parts)
