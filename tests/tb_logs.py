"""TensorBoard logs as SB3 and CleanRL write them, and raw TFRecord records, for the event reader's tests.

Written with tensorboardX (what SB3's and CleanRL's torch.utils.tensorboard writer writes: `simple_value`
scalars in TFRecord event files), with each library's tag names and step convention:

- SB3 (`tensorboard_log=DIR`): a run folder `DIR/DQN_1`; every `log_interval` episodes one dump of
  `rollout/ep_rew_mean` and `rollout/ep_len_mean` (the means over the last 100 episodes),
  `rollout/exploration_rate`, `train/loss`, `time/fps`, all at step `num_timesteps`.
- CleanRL (`runs/{run_name}`): `charts/episodic_return` and `charts/episodic_length` once per episode at
  its `global_step`, `losses/td_loss` every 100 steps.

Raw records use tensorboardX's own masked CRC-32C, not the reader's, so the two are checked against each other.
"""

from __future__ import annotations

import struct
from collections import deque
from pathlib import Path

from tensorboardX import SummaryWriter
from tensorboardX.proto.event_pb2 import Event
from tensorboardX.record_writer import masked_crc32c


def write_sb3_log(folder: Path, episodes: int = 40, length: int = 200, log_interval: int = 4) -> Path:
    """An SB3 DQN run of `episodes` episodes of `length` steps, returns -200 then rising; its run folder."""
    run = folder / "DQN_1"
    writer = SummaryWriter(logdir=str(run))
    returns: deque[float] = deque(maxlen=100)
    lengths: deque[int] = deque(maxlen=100)
    steps = 0
    for episode in range(1, episodes + 1):
        steps += length
        returns.append(-200.0 + episode)
        lengths.append(length)
        if episode % log_interval == 0:
            for tag, value in (("rollout/ep_rew_mean", sum(returns) / len(returns)),
                               ("rollout/ep_len_mean", sum(lengths) / len(lengths)),
                               ("rollout/exploration_rate", max(0.05, 1 - steps / 10_000)),
                               ("train/loss", 1.0 / episode), ("time/fps", 900.0)):
                writer.add_scalar(tag, value, steps)
    writer.close()
    return run


def write_cleanrl_log(folder: Path, name: str, returns: list[float], length: int = 100) -> Path:
    """A CleanRL DQN run with one episode per value of `returns`; its run folder."""
    run = folder / name
    writer = SummaryWriter(logdir=str(run))
    step = 0
    for value in returns:
        for _ in range(length):
            step += 1
            if step % 100 == 0:
                writer.add_scalar("losses/td_loss", 0.5, step)
        writer.add_scalar("charts/episodic_return", value, step)
        writer.add_scalar("charts/episodic_length", length, step)
    writer.close()
    return run


def record(data: bytes, length: int | None = None, length_crc: int | None = None) -> bytes:
    """One TFRecord record: its length (or a stated one), the length's masked CRC (or a given one), data, CRC."""
    header = struct.pack("<Q", len(data) if length is None else length)
    crc = masked_crc32c(header) if length_crc is None else length_crc
    return header + struct.pack("<I", crc) + data + struct.pack("<I", masked_crc32c(data))


def scalar_event(tag: str, value: float, step: int) -> bytes:
    event = Event(step=step, wall_time=1.0)
    entry = event.summary.value.add()
    entry.tag = tag
    entry.simple_value = value
    return event.SerializeToString()


def event_file(folder: Path, *records: bytes) -> Path:
    """An event file of these records in `folder` (made if missing), named as TensorBoard names them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.out.tfevents.1700000000.host.1.0"
    path.write_bytes(record(Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()) +
                     b"".join(records))
    return path
