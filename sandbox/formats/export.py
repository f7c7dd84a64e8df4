"""Exports a learner can take elsewhere: per-episode CSV, the loss series, a video of a greedy episode."""

from __future__ import annotations

import csv
import io
import math
import typing
from dataclasses import astuple, fields
from pathlib import Path

import numpy as np

from sandbox.core.agent import DQNAgent
from sandbox.core.envs import ObservationScaler
from sandbox.core.evaluate import greedy_steps
from sandbox.core.trainer import EpisodeStats, History
from sandbox.io.files import atomic_write, check_output

EPISODE_COLUMNS = [f.name for f in fields(EpisodeStats)]
VIDEO_SUFFIXES = (".gif", ".mp4")


class ExportError(ValueError):
    """The export cannot be made; the message says why and what to do."""


def episodes_to_csv(history: History, path: str | Path) -> int:
    """One row per episode, one column per EpisodeStats field; returns the number of rows.

    Written atomically (PathError for an unsuitable path): a failed export never leaves half a file."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(EPISODE_COLUMNS)
    for e in history.episodes:
        writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in astuple(e)])
    atomic_write(path, text.getvalue().encode("utf-8"), "episode CSV")
    return len(history.episodes)


def episodes_from_csv(path: str | Path) -> list[EpisodeStats]:
    """Read back what `episodes_to_csv` wrote (for comparing runs, or checking an export)."""
    types = typing.get_type_hints(EpisodeStats)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(EPISODE_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ExportError(f"{path} is not an episode CSV: missing columns {', '.join(sorted(missing))}")
        return [EpisodeStats(**{k: _parse(types[k], row[k]) for k in EPISODE_COLUMNS}) for row in reader]  # type: ignore[arg-type]  # each column parsed to its field's type


def _parse(kind: type, text: str) -> object:
    if kind is bool:
        return text == "True"
    if kind is int:
        return int(text)
    return float(text) if text else math.nan


def _draw_progress(frames: list[np.ndarray], height: int = 4) -> None:
    """A thin time bar along the bottom of each frame: shows where in the episode it is, and keeps
    frames distinct (GIF writers merge identical consecutive frames)."""
    for i, frame in enumerate(frames):
        width = round(frame.shape[1] * (i + 1) / len(frames))
        frame[-height:, :width] = (60, 60, 60)


def losses_to_csv(history: History, path: str | Path) -> int:
    """`update,loss` for every learning update; returns the number of rows."""
    losses = np.frombuffer(history.losses, dtype=np.float32)
    table = np.column_stack([np.arange(1, len(losses) + 1), losses])
    out = io.BytesIO()
    np.savetxt(out, table, fmt=["%d", "%.9g"], delimiter=",", header="update,loss", comments="")
    atomic_write(path, out.getvalue(), "loss CSV")
    return len(losses)


def greedy_video(agent: DQNAgent, scaler: ObservationScaler, env_id: str, seed: int, path: str | Path,
                 fps: int = 30) -> tuple[int, float]:
    """Record one greedy episode as a GIF or MP4 (by suffix); returns (frames, score).

    Needs the `video` extra (imageio; imageio-ffmpeg for MP4)."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ExportError(f"{path.name}: a video must end in {' or '.join(VIDEO_SUFFIXES)}")
    path = check_output(path, "video")
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ExportError("video export needs the 'video' extra: pip install 'rl-sandbox[video]'") from None
    frames: list[np.ndarray] = []
    score = 0.0
    for step in greedy_steps(agent, scaler, env_id, seed, render=True):
        assert step.frame is not None  # rendered: every step carries its frame
        frames.append(step.frame)
        score = step.score
    _draw_progress(frames)
    try:
        if path.suffix.lower() == ".gif":
            iio.imwrite(path, np.stack(frames), duration=1000 / fps, loop=0)
        else:
            iio.imwrite(path, np.stack(frames), fps=fps, codec="libx264")
    except (ImportError, RuntimeError, OSError) as exc:
        raise ExportError(f"cannot write {path.name}: {exc} (MP4 needs imageio-ffmpeg, part of the 'video' "
                          "extra)") from None
    return len(frames), score
