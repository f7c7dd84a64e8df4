"""The coach: why is my run not learning, and what exactly to change.

Every hint is one small function of the run's own numbers (history, config, env spec) with its
thresholds named below. Each says what it saw (the evidence, with numbers) and suggests changes with
a direction and a size (`update_interval 5 → 1`). Suggested values lie inside each field's
recommended range (`Config` metadata `tune=(low, high)`), so a click never trades one fault for another.

Two kinds of rules. *Faults* read the config against the run (the discount's horizon against the
episode length, the batch, the target's pace, the step size, how long exploration lasts, how many
gradient steps per env step, the memory); *symptoms* read what happened (no success, a collapse, a
diverging loss, a plateau, Q drifting from the returns). Each hint carries a weight: for a fault,
how many doublings its number lies outside the recommended range, doubled again by each symptom of the
run that this fault explains; for a symptom, the size of its evidence. Hints are ranked by weight, so
the first suggestion of the first hint is the most likely cause by this run's numbers, not by a fixed
order. A solved run gets no fault hints: at most one "polish" hint, labelled as such.
Suggestions are plain data, so the app applies one in a click (through the live-edit or New-agent
path) and `train` prints them. Pure and cheap: run every few seconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.core.config import FIELDS, LIVE_FIELDS, Config, ConfigError
from sandbox.core.envs import EnvSpec
from sandbox.core.trainer import EpisodeStats, History

# Envs whose episodes terminate only by reaching the goal (elsewhere termination can mean failure).
GOAL_TERMINATES = {"MountainCar-v0": "the car never reached the flag", "Acrobot-v1": "the tip never swung up"}
MIN_EPISODES = 20  # before this many episodes, silence: too soon to say
LOW_EPSILON = 0.05  # exploration is "spent" below this
EXPLORE_EPSILON = 0.1  # exploration "lasts" while epsilon stays above this
EXPLORE_EPISODES = 50  # exploration should last at least this many episodes when the goal is rare
SHORT_EXPLORE_EPISODES = 10  # a schedule that is over within this many (full-length) episodes is a fault
MEMORY_EPISODES = 20  # a replay memory should hold at least this many episodes
GOOD_MEMORY = 50_000
MIN_INTENSITY = 0.5  # gradient steps per env step DQN usually needs on these tasks
TARGET_INTENSITY = 1.0  # what the suggestion aims for
SHORT_HORIZON = 0.1  # a discount horizon 1/(1−γ) under this share of the episode length is a fault…
GOOD_HORIZON = 0.5  # …and the suggestion looks at least this share of an episode ahead
MAX_GAMMA = 0.99  # the suggestion's ceiling: DQN's usual discount; beyond it Q grows large and settles slowly
SMALL_BATCH = 0.5  # a batch under this share of the recommended smallest is a fault
FAST_TARGET = 4.0  # a target updated this many times faster than the recommended range allows is a fault
HIGH_RATE = 3.0  # a learning rate this many times the recommended largest is a fault
PLATEAU_EPISODES = 200  # no new best moving average for this long: a plateau
NEAR_THRESHOLD = 0.25  # "within reach": the best is closer to the threshold than 25 % of the way from the start
LOSS_WINDOW, LOSS_FACTOR = 200, 100.0  # a window's mean loss this many times the typical one: a jump
DRIFT_EPISODES = 20
COLLAPSE_LOST = 0.5  # the score lost this share of what it had gained
MIN_EVALS = 3  # greedy evaluations needed before their curve can show a collapse
GREEDY_GAIN = 0.25  # …and their peak must have come this share of the way from the first one to the threshold


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
    weight: float = 1.0  # how strongly this run's numbers point here: hints are ranked by it

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
    """Every hint that applies now, ranked by weight: the one to act on first at the top.

    `finished`: the run has ended; an unsolved run then always says so, with its best vs the threshold.
    """
    threshold = config.solve_threshold if config.solve_threshold is not None else spec.reward_threshold
    run = Run(history.episodes, config, spec, epsilon, threshold, np.frombuffer(history.losses, dtype=np.float32))
    faults = [hint for rule in FAULTS if (hint := rule(run)) is not None]
    if run.solved:
        return [polish(faults)] if faults else []
    symptoms = [hint for rule in SYMPTOMS if (hint := rule(run)) is not None]
    if finished and (end := not_solved(run)) is not None:
        symptoms.append(end)
    seen = {h.key for h in symptoms}
    confirmed = [dataclasses.replace(h, weight=h.weight * 2 ** len(seen & EXPLAINS[h.key])) for h in faults]
    return sorted(confirmed + symptoms, key=lambda h: -h.weight)  # stable: equal weights keep the rules' order


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

    def suggestions(self, *pairs: tuple[str, Any] | None) -> tuple[Suggestion, ...]:
        return tuple(s for pair in pairs if pair is not None and (s := self.suggest(*pair)) is not None)


def tune_range(name: str) -> tuple[float, float]:
    """A field's recommended range as numbers (its metadata's `tune`): where suggestions land."""
    low, high = FIELDS[name].metadata["tune"]
    return low, high


# --- the faults: the config against the run --------------------------------------------------
def memory_tiny(run: Run) -> Hint | None:
    c, length = run.config, run.length
    if not length or c.memory_capacity >= MEMORY_EPISODES * length:
        return None
    target = min(max(GOOD_MEMORY, MEMORY_EPISODES * length), int(tune_range("memory_capacity")[1]))
    return Hint("memory_tiny", "The replay memory is tiny",
                f"memory_capacity = {c.memory_capacity:,} holds only {c.memory_capacity / length:.1f} episodes of "
                f"{length} steps: the agent forgets what it saw almost at once, and its batches come from the same "
                f"few episodes. Hold at least {MEMORY_EPISODES} episodes ({MEMORY_EPISODES * length:,} transitions).",
                run.suggestions(("memory_capacity", target)),
                weight=_doublings(MEMORY_EPISODES * length / c.memory_capacity))


def horizon_short(run: Run) -> Hint | None:
    """The discount looks ahead 1/(1−γ) steps: far fewer than an episode lasts, and the future barely counts."""
    c, length = run.config, run.length
    low, high = tune_range("gamma")
    horizon = 1 / (1 - c.gamma) if c.gamma < 1 else math.inf
    if not length or c.gamma >= low or horizon >= SHORT_HORIZON * length:
        return None
    gamma = min(max(math.floor((1 - 1 / (GOOD_HORIZON * length)) * 1000) / 1000, low), high, MAX_GAMMA)
    better = 1 / (1 - gamma)
    return Hint("horizon_short", "The discount looks only a few steps ahead",
                f"gamma = {c.gamma:g} gives a horizon 1/(1−γ) of {horizon:.0f} steps, in episodes of up to "
                f"{length} steps: a reward {3 * horizon:.0f} steps away counts less than 5 %, so what the agent does "
                f"now is valued only by the next few steps. gamma {gamma:g} looks {better:.0f} steps ahead.",
                run.suggestions(("gamma", gamma)), weight=_doublings(better / horizon))


def batch_small(run: Run) -> Hint | None:
    c = run.config
    low = int(tune_range("batch_size")[0])
    if c.batch_size >= SMALL_BATCH * low:
        return None
    return Hint("batch_small", "The batch is very small",
                f"batch_size = {c.batch_size}: each gradient step averages only {c.batch_size} transitions, so its "
                f"direction is mostly noise and one unlucky batch can undo many good ones. The recommended "
                f"smallest is {low}.", run.suggestions(("batch_size", low)), weight=_doublings(low / c.batch_size))


def target_too_fast(run: Run) -> Hint | None:
    """A target net that follows the online net (almost) every step gives Q a target that moves with it."""
    c = run.config
    pair: tuple[str, Any]
    if c.target_update == "hard":
        low = int(tune_range("target_update_interval")[0])
        if c.target_update_interval * FAST_TARGET >= low:
            return None
        pace = f"target_update_interval = {c.target_update_interval:,}: the target net is copied every " \
               f"{c.target_update_interval:,} env steps"
        pair, factor = ("target_update_interval", low), low / c.target_update_interval
    else:
        high = tune_range("tau")[1]
        if c.tau <= FAST_TARGET * high:
            return None
        pace = f"tau = {c.tau:g}: the target net takes {c.tau:.0%} of the online net every env step"
        pair, factor = ("tau", high), c.tau / high
    return Hint("target_too_fast", "The target network moves too fast",
                f"{pace}, {factor:,.0f}× faster than the recommended pace, so each TD target moves with the very "
                "update it should anchor: Q chases itself, overshoots and collapses.",
                run.suggestions(pair), weight=_doublings(factor))


def learning_rate_high(run: Run) -> Hint | None:
    c = run.config
    high = tune_range("learning_rate")[1]
    if c.learning_rate <= HIGH_RATE * high:
        return None
    return Hint("learning_rate_high", "The learning rate is too high",
                f"learning_rate = {c.learning_rate:g} is {c.learning_rate / high:.0f}× the recommended largest "
                f"({high:g}): each Adam step moves the weights that much further, so Q overshoots its targets and "
                "what one update learns the next one undoes.",
                run.suggestions(("learning_rate", high)), weight=_doublings(c.learning_rate / high))


def exploration_short(run: Run) -> Hint | None:
    """The epsilon schedule is over (below EXPLORE_EPSILON) within SHORT_EXPLORE_EPISODES full-length episodes."""
    c, length = run.config, run.length
    if not length:
        return None
    episodes = _explore_steps(c) / length
    if episodes >= SHORT_EXPLORE_EPISODES:
        return None
    start = ("epsilon_start", float(tune_range("epsilon_start")[1])) if c.epsilon_start <= EXPLORE_EPSILON else None
    decay = _slower_decay(run)
    schedule = (f"epsilon_start = {c.epsilon_start:g}: the agent never explores" if start else
                f"epsilon starts at {c.epsilon_start:g} and is multiplied by {c.epsilon_decay:g} every "
                f"{c.steps_per_decay:,} steps: it is below {EXPLORE_EPSILON} after {_explore_steps(c):,} steps, "
                f"{episodes:.1f} episodes of {length} steps")
    return Hint("exploration_short", "Exploration is over almost at once",
                f"{schedule}. The agent then repeats what its first, untrained values say, and the states that "
                f"would teach it are never visited. With decay {decay} every {c.steps_per_decay:,} steps, epsilon "
                f"stays above {EXPLORE_EPSILON} for about {EXPLORE_EPISODES} episodes.",
                run.suggestions(start, ("epsilon_decay", decay)),
                weight=_doublings(EXPLORE_EPISODES / max(episodes, 0.5)))


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
                _more_learning(run), weight=_doublings(MIN_INTENSITY / run.intensity))


def polish(faults: list[Hint]) -> Hint:
    """A solved run's out-of-range settings: not faults (it solved), but what may make it faster or steadier."""
    return Hint("polish", "Solved. Optional polish, not faults",
                "The run solved with settings outside the recommended ranges; the next run may be faster or "
                "steadier without them: " + "; ".join(f"{h.title.lower()} ({h.suggestions[0]})" for h in faults
                                                     if h.suggestions) + ".",
                tuple(s for h in faults for s in h.suggestions), severity="info", weight=0.0)


# --- the symptoms: what the run did --------------------------------------------------------
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
                    severity="info", weight=0.0)
    c = run.config
    ratio = last / typical if math.isfinite(last) and typical > 0 else math.inf
    return Hint("loss_diverging", "The loss is diverging",
                f"The mean loss jumped from a typical {typical:.3g} to {last:.3g} ({ratio:,.0f}×) and the "
                "Q-values grow without bound: the updates overshoot and feed on themselves; next comes NaN.",
                run.suggestions(_smaller_step(c),
                                ("gradient_clip", float(tune_range("gradient_clip")[0]) if c.gradient_clip == 0
                                 or c.gradient_clip > tune_range("gradient_clip")[1] else c.gradient_clip),
                                ("loss", "huber")),
                severity="error", weight=math.log10(min(ratio, 1e12)))


def collapsed(run: Run) -> Hint | None:
    """The greedy evaluations, or else the training moving average, lost COLLAPSE_LOST of their gain."""
    if run.solved:
        return None
    evals = [e for e in run.episodes if e.evaluated]
    greedy = _collapse([e.greedy_mean for e in evals], MIN_EVALS)
    if greedy is not None and run.threshold is not None and greedy[1] - greedy[2] < GREEDY_GAIN * (
            run.threshold - greedy[2]):
        greedy = None  # a few noisy evaluations near the start, not a skill that was lost
    if greedy is not None:
        best_i, best, first, now = greedy
        what = (f"The greedy evaluations reached {best:.1f} after episode {evals[best_i].index + 1} (from "
                f"{first:.1f}) and the latest scored {now:.1f}")
    else:
        window = run.config.solve_window
        average = _collapse([e.moving_average for e in run.episodes[window - 1:]], 2)
        if average is None:
            return None
        best_i, best, first, now = average
        what = (f"The moving average reached {best:.1f} at episode {best_i + window} (from {first:.1f}) and is now "
                f"{now:.1f}")
    c = run.config
    return Hint("collapsed", "The score peaked, then collapsed",
                f"{what}: the agent unlearned what worked, as DQN often does. Restore the best agent, then train "
                "on with gentler updates: a smaller step and a slower-moving target.",
                run.suggestions(_smaller_step(c), _slower_target(c),
                                ("memory_capacity", max(c.memory_capacity, GOOD_MEMORY))), offer_best=True,
                weight=2 * min((best - now) / (best - first), 1.0))  # 1 (lost half the gain) to 2 (all of it)


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
    knobs, reasons = _knobs(run)
    return Hint("plateau", f"Not solved: best {best:.1f} vs {run.threshold:g}, no progress for {since} episodes",
                f"The {what} peaked at {best:.1f} (episode {at + 1}), {run.threshold - best:.1f} short of the "
                f"threshold, and has not improved since. {_sentence(reasons)}.", knobs)


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
                run.suggestions(("double_dqn", True), _slower_target(c), _smaller_step(c)))


def not_solved(run: Run) -> Hint | None:
    """A finished run that did not solve always says so, with its best against the threshold."""
    if run.solved or run.threshold is None or not run.episodes:
        return None
    best, at, what = run.best()
    knobs, reasons = _knobs(run)
    return Hint("not_solved", f"Not solved: best {best:.1f} vs {run.threshold:g}",
                f"The run ended after {len(run.episodes):,} episodes; its best {what} was {best:.1f} at episode "
                f"{at + 1}. {_sentence(reasons)}.", knobs, severity="error", weight=0.5)


FAULTS: tuple[Callable[[Run], Hint | None], ...] = (
    memory_tiny, horizon_short, batch_small, target_too_fast, learning_rate_high, exploration_short, learning_too_slow)
SYMPTOMS: tuple[Callable[[Run], Hint | None], ...] = (
    goal_never_reached, epsilon_spent_early, loss_diverging, collapsed, plateau, q_drift)
# Which symptoms each fault explains: a fault's weight doubles for each of them the run shows.
EXPLAINS: dict[str, set[str]] = {
    "memory_tiny": {"collapsed", "plateau"},
    "horizon_short": {"goal_never_reached", "plateau", "not_solved"},
    "batch_small": {"loss_diverging", "collapsed", "q_drift"},
    "target_too_fast": {"loss_diverging", "collapsed", "q_drift"},
    "learning_rate_high": {"loss_diverging", "collapsed", "q_drift"},
    "exploration_short": {"goal_never_reached", "epsilon_too_early"},
    "learning_too_slow": {"plateau", "not_solved"},
}


# --- helpers --------------------------------------------------------------------------------
def _knobs(run: Run) -> tuple[tuple[Suggestion, ...], str]:
    """What moves an unsolved run, most effective first (learning intensity, memory, n-step, exploration),
    with the evidence for each: the reasons name exactly what is suggested."""
    c = run.config
    found: list[tuple[tuple[str, Any], str]] = []
    if run.intensity < MIN_INTENSITY:
        found += [(pair, f"{_intensity_text(run)}, below the {MIN_INTENSITY} DQN usually needs")
                  for pair in _pairs_for_more_learning(run)]
    if c.memory_capacity < GOOD_MEMORY and run.length:
        found.append((("memory_capacity", GOOD_MEMORY),
                      f"the memory holds {c.memory_capacity / run.length:,.0f} episodes"))
    if c.n_step < 3:
        found.append((("n_step", 3), f"with n_step {c.n_step} a reward reaches back one step per update"))
    if run.epsilon <= LOW_EPSILON and c.epsilon_end < LOW_EPSILON:
        found.append((("epsilon_end", LOW_EPSILON), f"exploration is spent (epsilon {run.epsilon:.3f})"))
    if not found and c.n_step < tune_range("n_step")[1]:
        longer = min(2 * c.n_step, int(tune_range("n_step")[1]))
        found.append((("n_step", longer), f"no setting is out of range; {longer}-step returns carry the reward "
                                          "back further per update"))
    kept = [(s, why) for pair, why in found if (s := run.suggest(*pair)) is not None]
    if not kept:
        return (), "no setting the coach reads is out of range"
    return tuple(s for s, _ in kept), "; ".join(f"{why} ({s.name} → {_fmt(s.value)})" for s, why in kept)


def _pairs_for_more_learning(run: Run) -> tuple[tuple[str, Any], ...]:
    c = run.config
    if c.update_interval > 1:
        return (("update_interval", max(1, math.floor(c.update_times / TARGET_INTENSITY))),)
    return (("update_times", min(math.ceil(TARGET_INTENSITY * c.update_interval), int(tune_range("update_times")[1]))),)


def _more_learning(run: Run) -> tuple[Suggestion, ...]:
    return run.suggestions(*_pairs_for_more_learning(run))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _doublings(factor: float) -> float:
    """How far a number lies past its bar, in doublings: the weight of a fault."""
    return math.log2(max(factor, 1.0))


def _smaller_step(c: Config) -> tuple[str, Any] | None:
    """A learning rate a third of the current one, inside the recommended range (None at its bottom)."""
    low, high = tune_range("learning_rate")
    value = max(min(_round(c.learning_rate / 3), high), low)
    return None if value >= c.learning_rate else ("learning_rate", value)


def _slower_target(c: Config) -> tuple[str, Any] | None:
    """A target net that moves at most half as fast, inside the recommended range: twice the interval
    between hard copies (at least the range's smallest), or half the tau (None at the slow end)."""
    if c.target_update == "hard":
        low, high = tune_range("target_update_interval")
        interval = int(min(max(2 * c.target_update_interval, low), high))
        return None if interval <= c.target_update_interval else ("target_update_interval", interval)
    low, high = tune_range("tau")
    tau = min(max(_round(c.tau / 2), low), high)
    return None if tau >= c.tau else ("tau", tau)


def _intensity_text(run: Run) -> str:
    c = run.config
    return (f"you do {run.intensity:.2g} gradient steps per env step (update_times {c.update_times} every "
            f"update_interval {c.update_interval})")


def _explore_steps(c: Config) -> int:
    """Env steps until epsilon is at or below EXPLORE_EPSILON (0: it starts there)."""
    if c.epsilon_start <= EXPLORE_EPSILON:
        return 0
    if c.epsilon_end > EXPLORE_EPSILON or c.epsilon_decay >= 1:
        return 10**12
    decays = 1 if c.epsilon_decay <= 0 else math.ceil(math.log(EXPLORE_EPSILON / c.epsilon_start)
                                                      / math.log(c.epsilon_decay))
    return decays * c.steps_per_decay


def _slower_decay(run: Run) -> float:
    """A decay keeping epsilon above 0.1 for about EXPLORE_EPISODES episodes, rounded up to 3 decimals,
    inside the recommended range."""
    c = run.config
    steps = EXPLORE_EPISODES * max(run.length, 1)
    decays = max(steps / c.steps_per_decay, 1.0)
    value = 0.1 ** (1 / decays)
    low, high = tune_range("epsilon_decay")
    return max(c.epsilon_decay, low, min(high, math.ceil(value * 1000) / 1000))


def _round(x: float) -> float:
    """Two significant digits: 3.3e-4, not 0.000333333."""
    return float(f"{x:.2g}")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _collapse(scores: list[float], least: int) -> tuple[int, float, float, float] | None:
    """(best index, best, first, now) when a score curve of at least `least` points lost COLLAPSE_LOST
    of what it had gained since its first point."""
    if len(scores) < least:
        return None
    best_at = int(np.argmax(scores))
    best, first, now = scores[best_at], scores[0], scores[-1]
    gained, lost = best - first, best - now
    if gained <= 0 or lost < COLLAPSE_LOST * gained or lost < 0.05 * abs(best) + 1e-9:
        return None
    return best_at, best, first, now


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
