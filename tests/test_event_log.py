"""`train --tensorboard`: event files TensorBoard's own reader reads back, with CleanRL's tags."""

import subprocess
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parent.parent
TAGS = {"charts/episodic_return", "charts/episodic_length", "charts/epsilon", "charts/SPS", "losses/td_loss",
        "losses/q_values", "charts/discounted_return", "eval/mean_return"}


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "train", "--quiet", "--eval-episodes", "0", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_a_run_writes_event_files_with_cleanrls_tags_and_its_config_as_hparams(tmp_path):
    out = train("--preset", "notebook", "--episodes", "6", "--set", "eval_every=3", "--set", "solve_rule=greedy",
                "--set", "eval_episodes=2", "--tensorboard", str(tmp_path / "tb"))
    assert out.returncode == 0, out.stderr
    (run,) = (tmp_path / "tb").iterdir()
    assert run.name.startswith("MountainCar-v0__seed")
    events = EventAccumulator(str(run))
    events.Reload()
    assert set(events.Tags()["scalars"]) >= TAGS
    returns = events.Scalars("charts/episodic_return")
    assert [e.value for e in returns] == [-200.0] * 6  # the notebook's first episodes never reach the flag
    assert [e.step for e in returns] == [200 * (i + 1) for i in range(6)]  # at the env step each ended on
    assert len(events.Scalars("eval/mean_return")) == 2  # evaluations after episodes 3 and 6
    hparams = EventAccumulator(str(run / "hparams"))
    hparams.Reload()
    assert "hparam/best_average" in hparams.Tags()["scalars"]
    plugin = hparams.PluginTagToContent("hparams")
    assert plugin  # the config went in as TensorBoard hparams


def test_a_folder_that_cannot_be_one_is_refused_in_one_line_before_training(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for target in (a_file, Path("/dev/null"), a_file / "below"):
        out = train("--episodes", "1", "--tensorboard", str(target))
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "--tensorboard" in out.stderr and out.stdout == ""
