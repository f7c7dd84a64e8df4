import math

import imageio.v3 as iio
import numpy as np
import pytest

from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.export import ExportError, episodes_from_csv, episodes_to_csv, greedy_video, losses_to_csv


@pytest.fixture(scope="module")
def trainer():
    t = Trainer(load_preset("notebook").with_changes(learning_starts=500))
    t.run(3)
    return t


def test_episode_csv_round_trips_the_history(trainer, tmp_path):
    path = tmp_path / "episodes.csv"
    assert episodes_to_csv(trainer.history, path) == 3
    back = episodes_from_csv(path)
    assert [e.deterministic() for e in back] == [e.deterministic() for e in trainer.history.episodes]
    assert math.isnan(back[0].mean_loss) == math.isnan(trainer.history.episodes[0].mean_loss)


def test_loss_csv_has_every_update(trainer, tmp_path):
    path = tmp_path / "losses.csv"
    n = losses_to_csv(trainer.history, path)
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    assert n == len(trainer.history.losses) == len(table) > 0
    np.testing.assert_allclose(table[:, 1], np.frombuffer(trainer.history.losses, np.float32), rtol=1e-6)


def test_greedy_gif_has_one_frame_per_step(trainer, tmp_path):
    path = tmp_path / "greedy.gif"
    frames, score = greedy_video(trainer.agent, trainer.scaler, "MountainCar-v0", 7, path)
    video = iio.imread(path)
    assert video.shape[0] == frames == -score  # -1 per step, one frame per step
    assert video.shape[1:3] == (400, 600)


def test_a_video_needs_a_known_suffix(trainer, tmp_path):
    with pytest.raises(ExportError, match=r"must end in \.gif or \.mp4"):
        greedy_video(trainer.agent, trainer.scaler, "MountainCar-v0", 7, tmp_path / "x.avi")

