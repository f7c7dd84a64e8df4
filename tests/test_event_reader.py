"""TensorBoard log folders read back as ghosts: SB3's, CleanRL's and our own `train --tensorboard` output,
and every hostile folder refused (or bounded) in one line."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sandbox.app.ghosts import LOG_WINDOW, load_log, moving_average
from sandbox.formats.event_reader import (
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_FILES,
    MAX_RECORD_BYTES,
    MAX_RECORDS,
    MAX_TOTAL_BYTES,
    EventLogError,
    read_log_folder,
)
from tests.tb_logs import event_file, record, scalar_event, write_cleanrl_log, write_sb3_log

ROOT = Path(__file__).resolve().parent.parent


def refusal(folder: Path) -> str:
    """The one line a hostile folder is refused with (through the app's loader, which reads it all)."""
    with pytest.raises(EventLogError) as caught:
        load_log(folder)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError) and "\n" not in message and "\x1b" not in message
    return message


# --- what learners bring ------------------------------------------------------------------
def test_an_sb3_log_becomes_a_ghost_at_episodes_estimated_from_its_steps(tmp_path):
    write_sb3_log(tmp_path, episodes=40, length=200, log_interval=4)
    (run,) = read_log_folder(tmp_path)
    assert run.name == "DQN_1" and run.files == 1
    assert {tag: len(s.values) for tag, s in run.series.items()} == {
        "rollout/ep_rew_mean": 10, "rollout/ep_len_mean": 10, "rollout/exploration_rate": 10, "train/loss": 10,
        "time/fps": 10}
    assert run.series["rollout/ep_rew_mean"].steps.tolist() == [800 * i for i in range(1, 11)]  # total timesteps
    loaded = load_log(tmp_path)
    (ghost,) = loaded.ghosts
    assert ghost.name == "DQN_1: rollout/ep_rew_mean, episodes estimated"
    np.testing.assert_allclose(ghost.episodes, [4 * i for i in range(1, 11)])  # 800 steps ÷ 200 per episode
    np.testing.assert_allclose(ghost.values, [np.mean([-200.0 + e for e in range(1, 4 * i + 1)])
                                              for i in range(1, 11)])
    assert "mean return of the last 100 episodes" in ghost.description and "estimated" in ghost.description
    assert "train/loss (10 points)" in ghost.description  # named, not drawn
    assert loaded.message.startswith("Loaded 1 ghost from the TensorBoard log") and "DQN_1" in loaded.message


def test_a_cleanrl_folder_gives_a_ghost_per_run_drawn_as_episodes_and_their_moving_average(tmp_path):
    first = [float(i) for i in range(150)]
    write_cleanrl_log(tmp_path, "CartPole-v1__dqn__1__1700000000", first)
    write_cleanrl_log(tmp_path, "CartPole-v1__dqn__2__1700000001", [10.0, 20.0, 30.0])
    loaded = load_log(tmp_path)
    assert [g.name for g in loaded.ghosts] == ["CartPole-v1__dqn__1__1700000000: charts/episodic_return",
                                               "CartPole-v1__dqn__2__1700000001: charts/episodic_return"]
    a, b = loaded.ghosts
    assert a.episodes.tolist() == list(range(1, 151))
    np.testing.assert_allclose(a.values, moving_average(np.array(first), LOG_WINDOW))
    assert a.values[-1] == pytest.approx(np.mean(first[-100:]))  # the window is the trainer's: the last 100
    assert b.values.tolist() == [10.0, 15.0, 20.0]
    assert "150 episodes up to step 15,000" in a.description


def test_our_own_tensorboard_output_loads_back_with_the_right_counts(tmp_path):
    out = subprocess.run([sys.executable, "main.py", "train", "--quiet", "--eval-episodes", "0", "--preset",
                          "notebook", "--episodes", "5", "--set", "eval_every=2", "--set", "eval_episodes=1",
                          "--set", "solve_rule=greedy", "--tensorboard", str(tmp_path / "tb")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    runs = {run.name: run for run in read_log_folder(tmp_path / "tb")}
    (name,) = (n for n in runs if not n.endswith("/hparams"))
    assert name.startswith("MountainCar-v0__seed") and f"{name}/hparams" in runs  # tensorboardX's hparams run
    series = runs[name].series
    for tag in ("charts/episodic_return", "charts/episodic_length", "charts/epsilon", "losses/q_values"):
        assert len(series[tag].values) == 5, tag
    assert series["charts/episodic_return"].steps.tolist() == [200, 400, 600, 800, 1000]
    assert len(series["eval/mean_return"].values) == 2  # after episodes 2 and 4
    loaded = load_log(tmp_path / "tb")
    (ghost,) = loaded.ghosts  # the hparams folder holds no returns, and is left out without a word
    assert ghost.episodes.tolist() == [1, 2, 3, 4, 5] and ghost.values.tolist() == [-200.0] * 5
    assert "left out" not in loaded.message
    (hparams,) = (run for n, run in runs.items() if n.endswith("/hparams"))
    assert "hparam/best_average" in hparams.series


def test_non_finite_values_are_left_out_and_said_and_a_log_of_only_those_is_refused(tmp_path):
    event_file(tmp_path / "run", *(record(scalar_event("charts/episodic_return", v, i))
                                   for i, v in enumerate([1.0, math.nan, 3.0, math.inf, -math.inf, 5.0])))
    (ghost,) = load_log(tmp_path).ghosts
    assert ghost.episodes.tolist() == [1, 2, 3] and ghost.values.tolist() == [1.0, 2.0, 3.0]
    assert "3 non-finite values (NaN, ±inf) were left out" in ghost.description
    event_file(tmp_path / "nan", record(scalar_event("charts/episodic_return", math.nan, 1)))
    assert "no run in the TensorBoard log" in refusal(tmp_path / "nan")


def test_tags_and_folder_names_from_outside_are_kept_as_text_and_escaped_in_every_line(tmp_path):
    evil = "<img src=/dev/zero>\x1b]52;c;aGk=\x07\nnext"
    event_file(tmp_path / "tags", record(scalar_event(evil, 1.0, 1)))
    (run,) = read_log_folder(tmp_path / "tags")
    assert list(run.series) == [evil]  # the core keeps the tag; whoever shows it shows it as plain text
    message = refusal(tmp_path / "tags")
    assert "<img src=/dev/zero>\\x1b]52;c;aGk=\\x07\\nnext" in message
    folder = tmp_path / "names" / "run\x1b[2J\n<b>x</b>"
    event_file(folder, record(scalar_event("charts/episodic_return", 1.0, 1)))
    loaded = load_log(tmp_path / "names")
    (ghost,) = loaded.ghosts
    for text in (ghost.name, ghost.description, loaded.message):
        assert "\x1b" not in text and "\n" not in text.split("\nAlso")[0] and "run\\x1b[2J\\n<b>x</b>" in text


# --- hostile folders: one line each, bounded -----------------------------------------------
def valid_file(folder: Path) -> Path:
    return event_file(folder, *(record(scalar_event("charts/episodic_return", float(i), i)) for i in range(5)))


def test_a_truncated_record_is_refused_in_one_line(tmp_path):
    path = valid_file(tmp_path / "data")
    path.write_bytes(path.read_bytes()[:-3])  # the last record's data cut short
    assert "record 6: its length" in refusal(tmp_path / "data") and "truncated" in refusal(tmp_path / "data")
    path = valid_file(tmp_path / "header")
    whole = path.read_bytes()
    path.write_bytes(whole + record(b"x")[:7])  # a header cut mid-way, as a writer killed mid-flush leaves it
    assert "record 7: cut short: the file is truncated" in refusal(tmp_path / "header")


def test_a_wrong_crc_is_refused_in_one_line(tmp_path):
    path = valid_file(tmp_path / "data")
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0x01  # a bit of the last record's data
    path.write_bytes(bytes(raw))
    assert "the data's CRC is wrong" in refusal(tmp_path / "data")
    event_file(tmp_path / "length", record(b"", length_crc=12345))
    assert "the length's CRC is wrong" in refusal(tmp_path / "length")


def test_a_length_of_2_to_the_63_is_refused_before_anything_is_allocated(tmp_path):
    event_file(tmp_path / "good_crc", record(b"", length=2**63))
    event_file(tmp_path / "bad_crc", record(b"", length=2**63, length_crc=0))
    tracemalloc.start()
    try:
        first, second = refusal(tmp_path / "good_crc"), refusal(tmp_path / "bad_crc")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "its length, 9,223,372,036,854,775,808 bytes, runs past the file's end" in first
    assert "the length's CRC is wrong" in second
    assert peak < 8 * 2**20


def test_a_record_too_long_to_be_a_scalar_is_skipped_unread(tmp_path):
    event_file(tmp_path / "run", record(bytes(MAX_RECORD_BYTES + 1)),
               record(scalar_event("charts/episodic_return", 7.0, 1)))
    tracemalloc.start()
    try:
        (run,) = read_log_folder(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert run.skipped_records == 1 and run.series["charts/episodic_return"].values.tolist() == [7.0]
    assert peak < 8 * 2**20  # the 16 MB record was never read


def test_a_record_that_is_no_event_is_refused_in_one_line(tmp_path):
    event_file(tmp_path / "run", record(b"\xff\xff\xff\xff not a protobuf"))
    assert "record 2: not a TensorBoard event" in refusal(tmp_path / "run")


def test_a_huge_folder_is_refused_after_a_bounded_look(tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    for i in range(MAX_ENTRIES + 1):
        (folder / f"f{i}").touch()
    assert f"holds more than {MAX_ENTRIES:,} files and folders" in refusal(folder)


def test_too_many_event_files_or_bytes_or_records_are_refused(tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(MAX_FILES + 1):
        (many / f"events.out.tfevents.{i}").touch()
    assert f"more than {MAX_FILES} event files" in refusal(many)
    sparse = tmp_path / "big" / "events.out.tfevents.1"
    sparse.parent.mkdir()
    with open(sparse, "wb") as f:
        f.truncate(MAX_TOTAL_BYTES + 1)  # sparse: no disk, but its size is what counts
    assert f"more than {MAX_TOTAL_BYTES // 2**20} MB in all" in refusal(tmp_path / "big")
    empty = record(b"")  # the smallest record there is: 16 bytes
    event_file(tmp_path / "records" / "a", empty * (MAX_RECORDS // 2))
    event_file(tmp_path / "records" / "b", empty * (MAX_RECORDS // 2))  # the bound is the folder's, not a file's
    assert f"more than {MAX_RECORDS:,} records" in refusal(tmp_path / "records")


def test_folders_ten_thousand_deep_are_looked_into_only_so_far(tmp_path):
    top = tmp_path / "deep"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(10_000):  # deeper than any path can name: made one level at a time
            os.mkdir("d", dir_fd=fd)
            below = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = below
        with open(os.open("events.out.tfevents.1", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
            f.write(valid_file(tmp_path / "valid").read_bytes())
    finally:
        os.close(fd)
    try:
        assert f"holds no TensorBoard event files (names with 'tfevents') in it or {MAX_DEPTH} levels below" \
            in refusal(top)
        shallow = top.joinpath(*["d"] * MAX_DEPTH)
        valid_file(shallow)
        (run,) = read_log_folder(top)  # at the deepest level looked into, a run is found
        assert run.name == "/".join(["d"] * MAX_DEPTH)
    finally:
        remove_deep(top)


def remove_deep(top: Path) -> None:
    """Remove a folder chain too deep for shutil.rmtree's recursion (and any path): down to the bottom, then
    up through '..', one descriptor held at a time."""
    fd, depth = os.open(top, os.O_RDONLY), 0
    while "d" in os.listdir(fd):
        below = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, depth = below, depth + 1
    while True:
        for name in os.listdir(fd):
            os.unlink(name, dir_fd=fd)  # the event files; the folder below is gone already
        if depth == 0:
            break
        above = os.open("..", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        os.rmdir("d", dir_fd=above)
        fd, depth = above, depth - 1
    os.close(fd)


def test_fifos_devices_and_link_loops_are_refused_or_not_followed(tmp_path):
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "events.out.tfevents.1")
    assert "is a FIFO (named pipe), not a regular file" in refusal(fifo)
    zero = tmp_path / "zero"
    zero.mkdir()
    (zero / "events.out.tfevents.1").symlink_to("/dev/zero")
    assert "is a system path (dev)" in refusal(zero)
    loop = tmp_path / "loop"
    valid_file(loop / "run")
    (loop / "run" / "again").symlink_to(loop)  # a folder link back up: not followed, so read once
    (run,) = read_log_folder(loop)
    assert run.name == "run" and len(run.series["charts/episodic_return"].values) == 5
    assert "not a folder" in refusal(valid_file(tmp_path / "file"))


def test_a_scalar_written_as_a_tensor_is_read_as_tensorflow_2_writes_it(tmp_path):
    from tensorboardX.proto.event_pb2 import Event

    event = Event(step=3)
    value = event.summary.value.add()
    value.tag = "charts/episodic_return"
    value.tensor.dtype = 1  # DT_FLOAT, shape [], as tf.summary.scalar writes it
    value.tensor.tensor_content = struct.pack("<f", 2.5)
    event_file(tmp_path / "tf2", record(event.SerializeToString()))
    (run,) = read_log_folder(tmp_path)
    assert run.series["charts/episodic_return"].values.tolist() == [2.5]
