"""Ghost curves: earlier runs drawn faintly behind the current one, on the score plot's episode axis, from
this session's runs log or from a TensorBoard log trained elsewhere (SB3, CleanRL, or RL Sandbox's own).

The score plot counts episodes and a run of ours is drawn as its moving average; a TensorBoard log counts
env steps. Each kind is drawn the way that says least that is not true:

- CleanRL and RL Sandbox log `charts/episodic_return` once per episode (at the step it ended on): its
  points are episodes 1, 2, … in order, drawn as their moving average over LOG_WINDOW episodes, the
  very curve a run of ours draws with the default solve window.
- SB3 logs `rollout/ep_rew_mean`, already the mean return of the last 100 episodes, every few episodes
  or rollouts, against `time/total_timesteps`. It is drawn as logged, each point at an *estimated*
  episode: the steps since the point before divided by that point's `rollout/ep_len_mean` (the mean
  length of the same 100 episodes), summed. The legend says "episodes estimated".

Other tags (losses, exploration, evaluations) are named in the ghost's description, not drawn: they are
logged against steps, which no plot here counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sandbox.app.runs import MAX_RUN_EPISODES, RunRecord
from sandbox.formats.event_reader import EventLogError, LoggedRun, Scalars, read_log_folder
from sandbox.io.files import shown_path
from sandbox.io.text import cut, escaped

LOG_WINDOW = 100  # the moving average's window for per-episode returns: our default solve window, and SB3's
EPISODIC = "charts/episodic_return"  # CleanRL's tag, and ours
SB3_MEAN, SB3_LENGTH = "rollout/ep_rew_mean", "rollout/ep_len_mean"
MAX_NAME_CHARS = 40  # of a run's folder in the legend (the description has it whole)
MAX_TAGS_NAMED = 12  # other tags named in a description


@dataclass(frozen=True)
class Ghost:
    """A curve drawn behind the current run: its name (the legend adds "(ghost)"), a description, the curve."""

    name: str  # plain text, one line (the legend escapes it)
    description: str
    episodes: np.ndarray  # x: 1-based episode numbers (estimated ones may be fractional)
    values: np.ndarray  # y: a moving average of returns


@dataclass(frozen=True)
class LoadedLog:
    """What one "Load TensorBoard log" found: a ghost per run that logged episode returns, and a line saying so."""

    folder: str  # as shown
    ghosts: list[Ghost]
    message: str


def run_ghost(record: RunRecord) -> Ghost:
    """A run of this session's log as a ghost: its moving average per episode."""
    return Ghost(record.name, record.summary(), np.arange(1, record.episodes + 1), record.averages)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values at each point (fewer at the start), as the trainer's moving average."""
    sums = np.concatenate(([0.0], np.cumsum(values)))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def _others(run: LoggedRun, drawn: set[str]) -> str:
    rest = [f"{escaped(cut(tag, 60))} ({len(s.values):,} points)" for tag, s in run.series.items() if tag not in drawn]
    if not rest:
        return ""
    more = f", +{len(rest) - MAX_TAGS_NAMED} more" if len(rest) > MAX_TAGS_NAMED else ""
    return f"\nAlso logged, not drawn (against steps): {', '.join(rest[:MAX_TAGS_NAMED])}{more}."


def _name(run: LoggedRun) -> str:
    """A run's folder for a one-line label: escaped, cut."""
    return escaped(cut(run.name, MAX_NAME_CHARS))


def _left_out(series: Scalars) -> str:
    return f" {series.non_finite:,} non-finite values (NaN, ±inf) were left out." if series.non_finite else ""


def _sb3_episodes(mean: Scalars, length: Scalars) -> tuple[np.ndarray, np.ndarray]:
    """SB3's means at estimated episodes: the steps since the point before ÷ that point's mean length."""
    lengths = dict(zip(length.steps.tolist(), length.values.tolist(), strict=True))
    keep = [i for i, step in enumerate(mean.steps.tolist()) if lengths.get(step, 0.0) >= 1.0]
    steps = mean.steps[keep].astype(np.float64)
    per_episode = np.array([lengths[s] for s in mean.steps[keep].tolist()], dtype=np.float64)
    gained = np.maximum(np.diff(steps, prepend=0.0), 0.0)  # a step going back (a restart) adds no episodes
    return np.maximum(np.cumsum(gained / per_episode), 1.0), mean.values[keep]


def log_ghost(run: LoggedRun, folder_name: str) -> Ghost | None:
    """The run's returns as a ghost (per-episode returns preferred, then SB3's mean), or None if it logged neither."""
    name = _name(run)
    where = f"{escaped(run.name)}, from the TensorBoard log {folder_name}"
    if (series := run.series.get(EPISODIC)) is not None and len(series.values):
        scores = series.values[:MAX_RUN_EPISODES]
        cut_note = f" Only its first {MAX_RUN_EPISODES:,} episodes are drawn." if len(series.values) > len(scores) \
            else ""
        return Ghost(f"{name}: {EPISODIC}",
                     f"{where}: {EPISODIC}, one point per episode: {len(scores):,} episodes up to step "
                     f"{int(series.steps[len(scores) - 1]):,}, drawn as their moving average over {LOG_WINDOW} "
                     f"episodes.{cut_note}{_left_out(series)}{_others(run, {EPISODIC})}",
                     np.arange(1, len(scores) + 1), moving_average(scores, LOG_WINDOW))
    mean, length = run.series.get(SB3_MEAN), run.series.get(SB3_LENGTH)
    if mean is not None and length is not None:
        episodes, values = _sb3_episodes(mean, length)
        if len(values):
            return Ghost(f"{name}: {SB3_MEAN}, episodes estimated",
                         f"{where}: SB3's {SB3_MEAN}, the mean return of the last 100 episodes, logged "
                         f"{len(values):,} times up to step {int(mean.steps.max()):,}. Each point is drawn at an "
                         f"estimated episode (about {episodes[-1]:,.0f} in all): the steps since the point before ÷ "
                         f"{SB3_LENGTH}.{_left_out(mean)}{_others(run, {SB3_MEAN, SB3_LENGTH})}",
                         episodes, values)
    return None


def load_log(folder: Path) -> LoadedLog:
    """Every run under `folder` that logged episode returns, as a ghost; EventLogError (one line) when the
    folder cannot be read or no run in it logged any."""
    shown = shown_path(folder)
    runs = read_log_folder(folder)
    ghosts: list[Ghost] = []
    loaded: list[str] = []
    without: list[str] = []
    for run in runs:
        ghost = log_ghost(run, shown)
        if ghost is not None:
            ghosts.append(ghost)
            loaded.append(_name(run))
        elif not all(tag.startswith("hparam/") for tag in run.series):  # tensorboardX's hparams subfolder
            without.append(_name(run))
    if not ghosts:
        tags = sorted({escaped(cut(tag, 60)) for run in runs for tag in run.series})
        listed = ", ".join(tags[:MAX_TAGS_NAMED]) + (f", +{len(tags) - MAX_TAGS_NAMED} more" if
                                                      len(tags) > MAX_TAGS_NAMED else "")
        raise EventLogError(f"no run in the TensorBoard log {shown} logged episode returns ({EPISODIC}, or SB3's "
                            f"{SB3_MEAN} with {SB3_LENGTH}); its tags: {listed or 'none'}")
    names = ", ".join(loaded[:5]) + (f", +{len(loaded) - 5} more" if len(loaded) > 5 else "")
    skipped = f"; left out, without episode returns: {', '.join(without[:5])}" + \
              (f", +{len(without) - 5} more" if len(without) > 5 else "") if without else ""
    count = f"{len(ghosts)} ghost{'s' if len(ghosts) != 1 else ''}"
    return LoadedLog(shown, ghosts, cut(f"Loaded {count} from the TensorBoard log {shown}: {names}{skipped}", 300))
