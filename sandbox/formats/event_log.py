"""TensorBoard event files for a run, written through the trainer's observer hook.

The tags are the ones practitioners already read in CleanRL's and SB3's logs, so an RL Sandbox run
opens in TensorBoard beside theirs:

    charts/episodic_return   the episode's score (the env's own reward)
    charts/episodic_length   its steps
    charts/epsilon           exploration at its end
    charts/SPS               env steps per second of wall time
    losses/td_loss           the mean TD loss of its updates (absent while no update ran)
    losses/q_values          max Q of the episode's first state: what the agent expected
    charts/discounted_return what it then got (sum of gamma^t * r), to read against q_values
    eval/mean_return         a greedy evaluation's mean, when one ran after the episode

each at the env step the episode ended on. When the run ends the config goes in as TensorBoard
hparams, with the best moving average and the last greedy mean as their metrics. The writer is
tensorboardX (maintained, no TensorBoard install needed to write). Each run gets a subfolder of the
given folder. A write that fails (a full disk, a folder removed) stops the log with one line,
never the training.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from tensorboardX import SummaryWriter

from sandbox.core.config import Config
from sandbox.core.trainer import EpisodeStats, Trainer
from sandbox.io.files import PathError, shown_path

FLUSH_SECONDS = 10


def log_folder(path: Path, what: str = "--tensorboard") -> Path:
    """`path` as a folder event files may go in (made if missing); PathError in one line if it cannot
    be one (a file, a device, a FIFO, a link to one), before any training."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise PathError(f"{what} {shown_path(path)}: cannot make the folder ({exc.strerror or exc})") from None
        return path
    except OSError as exc:
        raise PathError(f"{what} {shown_path(path)}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise PathError(f"{what} {shown_path(path)} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise PathError(f"{what} {shown_path(path)} is not a folder you can write in")
    return path


def run_name(config: Config) -> str:
    """A run's subfolder, as CleanRL names them: env, seed, start time."""
    return f"{config.env_id}__seed{config.seed}__{time.strftime('%Y%m%d-%H%M%S')}"


class TensorBoardLog:
    """An EpisodeObserver writing one run's event files under `folder/run_name`."""

    def __init__(self, folder: Path, config: Config, on_error: Callable[[str], None]) -> None:
        self.folder = folder / run_name(config)
        self.config = config
        self.on_error = on_error
        self.error: str | None = None
        self.episodes = 0
        self.writer: SummaryWriter | None = SummaryWriter(logdir=str(self.folder), flush_secs=FLUSH_SECONDS)

    def episode_ended(self, trainer: Trainer, stats: EpisodeStats) -> None:
        step = stats.total_steps
        values = {"charts/episodic_return": stats.score, "charts/episodic_length": stats.length,
                  "charts/epsilon": stats.epsilon, "charts/SPS": stats.steps_per_second,
                  "losses/td_loss": stats.mean_loss, "losses/q_values": stats.start_value,
                  "charts/discounted_return": stats.discounted_return, "eval/mean_return": stats.greedy_mean}
        self._write(lambda w: [w.add_scalar(tag, float(v), step) for tag, v in values.items() if math.isfinite(v)])
        self.episodes += 1

    def close(self, trainer: Trainer) -> None:
        """The config as hparams, the run's outcome as their metrics, and the files flushed."""
        episodes = trainer.history.episodes
        metrics = {"hparam/best_average": max((e.moving_average for e in episodes), default=math.nan),
                   "hparam/greedy_mean": next((e.greedy_mean for e in reversed(episodes) if e.evaluated), math.nan)}
        hparams = {k: (v if isinstance(v, (bool, int, float, str)) else str(v))
                   for k, v in self.config.to_dict().items()}
        self._write(lambda w: w.add_hparams(hparams, {k: v for k, v in metrics.items() if math.isfinite(v)},
                                            name="hparams", global_step=trainer.total_steps))
        self._write(lambda w: w.close())
        self.writer = None

    def _write(self, action: Callable[[SummaryWriter], object]) -> None:
        if self.writer is None:
            return
        try:
            action(self.writer)
        except OSError as exc:
            self.error = f"could not write the TensorBoard log in {shown_path(self.folder)}: {exc.strerror or exc}"
            self.on_error(f"{self.error}; logging stopped, training continues")
            self.writer = None
