"""File ▸ Log runs for TensorBoard: each run of the app writes its own event files, read back with
TensorBoard's reader; the setting is remembered."""

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.ui.helpers import EpisodeCounter, quick_config


def runs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def test_each_run_gets_its_own_event_files_and_the_setting_is_kept(qtbot, window, tmp_path):
    folder = tmp_path / "data" / "tensorboard"
    window.act_tensorboard.trigger()  # on
    assert window.settings.tensorboard is True
    count = EpisodeCounter(window)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: len(count) >= 2, timeout=60_000)
    window.pause()
    qtbot.waitUntil(lambda: len(runs(folder)) == 1, timeout=10_000)
    window.begin_run(quick_config(seed=9))  # a new run: the first one's log is closed, a second begins
    qtbot.waitUntil(lambda: window.session.config is not None and window.session.config.seed == 9, timeout=30_000)
    first = next(r for r in runs(folder) if "seed9" not in r.name)
    events = EventAccumulator(str(first))
    events.Reload()
    assert len(events.Scalars("charts/episodic_return")) >= 2
    assert (first / "hparams").is_dir()  # closed: its config and outcome went in as hparams
    qtbot.waitUntil(lambda: any("seed9" in r.name for r in runs(folder)), timeout=10_000)
    window.act_tensorboard.trigger()  # off
    assert window.settings.tensorboard is False
