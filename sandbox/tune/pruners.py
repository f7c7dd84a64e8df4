"""The `progress` pruner: compares trials by what moves before the first solve.

On unshaped MountainCar every greedy mean is -200 until an agent first reaches the flag, and so is
every training episode's score: a trial's value (and the median pruner's view of it) does not move,
so the median pruner prunes nothing (benchmarks/RESULTS.md §8). What does move from the first
episode on is how high the car swings: its mechanical energy (`sandbox/core/envs.py: potential`,
0 at rest in the valley, 1 at the flag). A trial's progress is, after each greedy check, the mean over
`PROBE_EPISODES` greedy episodes of each one's highest energy (1 for an episode that reached the goal,
and for a seed that solved), the median over its seeds. The training episodes' energy was measured
first and does not tell: it follows the exploration, not what the agent learned (on the 16-trial
benchmark it pruned the trial that came closest to solving at its first check). Neither does the
greedy probe, measured: on the same benchmark it spends 33% of the env steps and loses the best trial
too (RESULTS §8), so `median` stays the default and this pruner is an option, not a fix.

The pruner ranks trials at the same step (episodes per seed) by their value first and their progress
second, and prunes a trial once at least `keep` of the others that reached that step were ahead of it
(successive halving's cut, applied at every greedy check, as the median pruner does). Unlike Optuna's
median pruner it counts pruned trials at the steps they reached and finished trials at the value
they ended with (a trial that solved early stays ahead), so it cuts from the `min_trials`-th trial on
without running the first five to the end. Envs without a progress measure are ranked by value alone.

What each trial reported is its `pruning` user attribute ({step: [value, progress or None]}), so the
pruner needs no intermediate values of its own, and studies of any pruner can be read alike.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.core.env_profiles import SHAPING_ENVS, mountain_car

if TYPE_CHECKING:
    import optuna

PROGRESS_ENVS = SHAPING_ENVS  # envs with a progress measure: the energy MountainCar's shaping uses
PRUNING_ATTR = "pruning"  # the trial's user attribute: {str(step): [value, progress or None]}
PROBE_EPISODES = 3  # greedy episodes after each greedy check, to measure the policy's progress
MIN_TRIALS = 3  # others that reached a step before the pruner judges a trial there
KEEP = 0.5  # pruned once this share (or more) of those others was ahead of it


@cache
def _energy_range() -> tuple[float, float, float]:
    car = mountain_car()
    return car.gravity, -car.gravity / 3, car.gravity / 3 + car.max_speed**2 / 2


def progress_of(env_id: str, state: np.ndarray) -> float:
    """How far `state` is toward the goal, in [0, 1] (MountainCar: its mechanical energy rescaled)."""
    gravity, low, high = _energy_range()
    x, v = float(state[0]), float(state[1])
    return min(1.0, max(0.0, (gravity * math.sin(3 * x) / 3 + v * v / 2 - low) / (high - low)))


def greedy_progress(agent: Any, scaler: Any, env_id: str, seed: int, episodes: int = PROBE_EPISODES) -> float:
    """The mean over `episodes` greedy episodes (an env of their own, seeded with `seed`) of each one's
    highest progress, 1 for one that reached the goal: how far the greedy policy gets before it solves."""
    from sandbox.core.envs import make_env

    env = make_env(env_id)
    peaks = []
    try:
        env.reset(seed=seed)
        for _ in range(episodes):
            obs, _ = env.reset()
            peak = progress_of(env_id, obs)
            while True:
                action, _ = agent.act(scaler(obs), greedy=True)
                obs, _reward, terminated, truncated, _ = env.step(action)
                if terminated:
                    peak = 1.0
                    break
                peak = max(peak, progress_of(env_id, obs))
                if truncated:
                    break
            peaks.append(peak)
    finally:
        env.close()
    return sum(peaks) / len(peaks)


def _entries(trial: Any) -> dict[int, tuple[float, float | None]]:
    """A trial's `pruning` attribute, the well-formed entries only (another version may have written it)."""
    raw = trial.user_attrs.get(PRUNING_ATTR)
    out: dict[int, tuple[float, float | None]] = {}
    if not isinstance(raw, dict):
        return out
    for key, pair in raw.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) < 12 and isinstance(pair, list)
                and len(pair) == 2):
            continue
        value, progress = pair
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            ok = isinstance(progress, int | float) and not isinstance(progress, bool) and math.isfinite(progress)
            out[int(key)] = (float(value), float(progress) if ok else None)
    return out


def at_step(trial: Any, step: int) -> tuple[float, float | None] | None:
    """What `trial` reported at `step`; a complete trial that ended before it, its last report."""
    entries = _entries(trial)
    if step in entries:
        return entries[step]
    if trial.state.name == "COMPLETE" and entries and max(entries) < step:
        return entries[max(entries)]
    return None


def ahead(a: tuple[float, float | None], b: tuple[float, float | None], minimize: bool) -> bool:
    """Whether report `a` is ahead of `b`: a better value, or the same value and more progress."""
    if a[0] != b[0]:
        return a[0] < b[0] if minimize else a[0] > b[0]
    return a[1] is not None and b[1] is not None and a[1] > b[1]


def progress_pruner(min_trials: int = MIN_TRIALS, keep: float = KEEP) -> optuna.pruners.BasePruner:
    import optuna

    class ProgressPruner(optuna.pruners.BasePruner):
        """See the module docstring."""

        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            step = trial.last_step
            if step is None:
                return False
            mine = at_step(trial, step)
            if mine is None:
                return False
            minimize = study.direction.name == "MINIMIZE"
            done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                            optuna.trial.TrialState.PRUNED))
            others = [r for t in done if t.number != trial.number and (r := at_step(t, step)) is not None]
            if len(others) < min_trials:
                return False
            return sum(ahead(o, mine, minimize) for o in others) >= math.ceil(keep * len(others))

    return ProgressPruner()
