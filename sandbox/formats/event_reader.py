"""TensorBoard event files read back: the scalar series of a log folder (SB3's, CleanRL's, ours), by run and tag.

A learner compares a run here with one trained elsewhere, so the folder they pick comes from outside and
is read under the same rules as any other file from outside (`sandbox.io.files`): event files are opened
as regular files only (a FIFO, a device or a link into /dev or /proc is refused in one line, before a byte
is read), symlinked folders are not followed (no cycles, no escaping the chosen folder), and every count
that costs time or memory is bounded before it can grow: the folder entries looked at, the depth, the
number of event files and their total size, the records, the distinct tags, the scalar points.

An event file is a TFRecord stream: each record is a little-endian uint64 length, the masked CRC-32C of
those 8 bytes, the data, and the masked CRC-32C of the data. Both CRCs are checked (with the `crc32c`
package, which tensorboardX itself uses when present: C and hardware-accelerated, where a pure-Python
CRC would read 5 MB/s), so a damaged or truncated file is refused in one line, never half-read as
garbage. The data is a TensorBoard `Event` protobuf, parsed with the message classes tensorboardX ships
(the `tensorboard` package, with its grpcio and web server, is not needed). Scalars come as
`simple_value` (tensorboardX, torch.utils.tensorboard: SB3 and CleanRL) or as a 0-d float tensor
(TensorFlow 2's `tf.summary.scalar`). Non-finite values (a diverged loss) are left out and counted.

Every failure is an `EventLogError`: one line, with paths and tags escaped for a terminal. Tags are kept
as the text they are; whoever shows one shows it as plain text.
"""

from __future__ import annotations

import io
import math
import os
import stat
import struct
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import crc32c
import numpy as np
from google.protobuf.message import DecodeError
from tensorboardX.proto.event_pb2 import Event

from sandbox.io.files import PathError, open_regular, shown_path
from sandbox.io.text import cut, escaped

MAX_DEPTH = 6  # folder levels below the chosen one (SB3 and CleanRL put a run one level down, ours two)
MAX_ENTRIES = 10_000  # files and folders looked at in all: a home folder picked by mistake is refused quickly
MAX_FILES = 200  # event files (one per run and restart)
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # of event files in all: about 5 million scalar events
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a longer record (an image, a big histogram) holds no scalar: skipped unread
MAX_RECORDS = 2_000_000  # records in all
MAX_POINTS = 1_000_000  # scalar points kept in all
MAX_TAGS = 1_000  # distinct tags in a run
MAX_TAG_CHARS = 200  # a longer tag is kept cut to this
HEADER = struct.Struct("<QI")
CRC = struct.Struct("<I")
READ_BUFFER = 1024 * 1024


class EventLogError(ValueError):
    """A log folder or event file cannot be read as asked; the message says which and why, in one line."""


@dataclass(frozen=True)
class Scalars:
    """One tag's points in the order they were written: env steps (TensorBoard's `step`) and finite values."""

    steps: np.ndarray  # int64
    values: np.ndarray  # float64, all finite
    non_finite: int = 0  # NaN or ±inf points left out


@dataclass(frozen=True)
class LoggedRun:
    """The scalar series of one run: a folder holding event files (several files are its restarts, read
    in name order, which is TensorBoard's time order)."""

    name: str  # the folder, relative to the one chosen (its own name when the files lie in it)
    series: dict[str, Scalars]
    files: int
    skipped_records: int = 0  # records too long to hold a scalar, skipped unread


def is_event_file(name: str) -> bool:
    """TensorBoard's own rule: an event file's name contains 'tfevents'."""
    return "tfevents" in name


def masked_crc(data: bytes | memoryview) -> int:
    """TFRecord's masked CRC-32C: rotated right by 15 bits, plus a constant."""
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def find_event_files(folder: Path) -> dict[Path, list[Path]]:
    """The event files under `folder` by the folder holding them, each list in name order.

    Walks breadth first without following symlinked folders, at most MAX_DEPTH levels down, looking at
    no more than MAX_ENTRIES entries; EventLogError if `folder` is not a folder, has too many entries or
    holds too many event files, or none.
    """
    what = f"the TensorBoard log folder {shown_path(folder)}"
    try:
        if not stat.S_ISDIR(os.stat(folder).st_mode):
            raise EventLogError(f"{what} is not a folder")
    except OSError as exc:
        raise EventLogError(f"cannot read {what}: {exc.strerror or exc}") from None
    found: dict[Path, list[Path]] = {}
    count = seen = 0
    level = [folder]
    for _depth in range(MAX_DEPTH + 1):
        below: list[Path] = []
        for here in level:
            try:
                with os.scandir(here) as entries:
                    for entry in entries:
                        seen += 1
                        if seen > MAX_ENTRIES:
                            raise EventLogError(f"{what} holds more than {MAX_ENTRIES:,} files and folders; "
                                                "choose the folder of the runs you want to load")
                        if entry.is_dir(follow_symlinks=False):
                            below.append(Path(entry.path))
                        elif is_event_file(entry.name):
                            count += 1
                            if count > MAX_FILES:
                                raise EventLogError(f"{what} holds more than {MAX_FILES} event files; choose "
                                                    "the folder of fewer runs")
                            found.setdefault(here, []).append(Path(entry.path))
            except OSError as exc:
                if here == folder:
                    raise EventLogError(f"cannot read {what}: {exc.strerror or exc}") from None
                continue  # an unreadable subfolder holds no run we can show
        level = sorted(below)
        if not level:
            break
    if not found:
        raise EventLogError(f"{what} holds no TensorBoard event files (names with 'tfevents') in it or "
                            f"{MAX_DEPTH} levels below")
    return {run: sorted(files) for run, files in sorted(found.items())}


class _Budget:
    """What is left of the bounds shared by every file of one folder's read."""

    def __init__(self) -> None:
        self.bytes = MAX_TOTAL_BYTES
        self.records = MAX_RECORDS
        self.points = MAX_POINTS


def _scalar(value: Any) -> float | None:
    """The number a Summary.Value holds, if it is a scalar: `simple_value`, or a 0-d float tensor."""
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind != "tensor":
        return None
    tensor = value.tensor
    if tensor.tensor_shape.dim:
        return None
    if tensor.float_val:
        return float(tensor.float_val[0])
    if tensor.double_val:
        return float(tensor.double_val[0])
    content = tensor.tensor_content
    if tensor.dtype == 1 and len(content) == 4:  # DT_FLOAT
        return float(struct.unpack("<f", content)[0])
    if tensor.dtype == 2 and len(content) == 8:  # DT_DOUBLE
        return float(struct.unpack("<d", content)[0])
    return None


class _Run:
    """A run's series as they grow (compact arrays, not lists of Python floats)."""

    def __init__(self) -> None:
        self.steps: dict[str, array] = {}
        self.values: dict[str, array] = {}
        self.non_finite: dict[str, int] = {}
        self.skipped = 0

    def add(self, tag: str, step: int, value: float, budget: _Budget, where: str) -> None:
        tag = tag[:MAX_TAG_CHARS]
        if tag not in self.steps:
            if len(self.steps) >= MAX_TAGS:
                raise EventLogError(f"{where} has more than {MAX_TAGS:,} tags")
            self.steps[tag], self.values[tag], self.non_finite[tag] = array("q"), array("d"), 0
        if not math.isfinite(value):
            self.non_finite[tag] += 1
            return
        budget.points -= 1
        if budget.points < 0:
            raise EventLogError(f"the folder holds more than {MAX_POINTS:,} scalar points; choose the folder of "
                                "fewer runs")
        self.steps[tag].append(step)
        self.values[tag].append(value)

    def finished(self, name: str, files: int) -> LoggedRun:
        series = {tag: Scalars(np.frombuffer(self.steps[tag], dtype=np.int64).copy(),
                               np.frombuffer(self.values[tag], dtype=np.float64).copy(), self.non_finite[tag])
                  for tag in self.steps}
        return LoggedRun(name, series, files, self.skipped)


def _read_file(path: Path, run: _Run, budget: _Budget) -> None:
    """Every record of one event file into `run`; EventLogError at the first fault."""
    what = f"the event file {shown_path(path)}"
    try:
        fd = open_regular(path, "the event file")
    except PathError as exc:
        raise EventLogError(str(exc)) from None
    with io.FileIO(fd, closefd=True) as raw, io.BufferedReader(raw, READ_BUFFER) as stream:
        size = os.fstat(fd).st_size  # what is written after this (a run still logging) waits for the next load
        budget.bytes -= size
        if budget.bytes < 0:
            raise EventLogError(f"the folder's event files are more than {MAX_TOTAL_BYTES // 2**20} MB in all; "
                                "choose the folder of fewer runs")
        offset = index = 0
        try:
            while offset < size:
                index += 1
                if index > budget.records:
                    raise EventLogError(f"the folder's event files hold more than {MAX_RECORDS:,} records; "
                                        "choose the folder of fewer runs")
                header = stream.read(HEADER.size)
                if len(header) < HEADER.size:
                    raise _Fault("cut short: the file is truncated (or still being written)")
                length, length_crc = HEADER.unpack(header)
                if masked_crc(header[:8]) != length_crc:
                    raise _Fault("the length's CRC is wrong: the file is damaged")
                if length > size - offset - HEADER.size - CRC.size:
                    raise _Fault(f"its length, {length:,} bytes, runs past the file's end: the file is truncated "
                                 "or damaged")
                offset += HEADER.size + length + CRC.size
                if length > MAX_RECORD_BYTES:
                    stream.seek(offset)
                    run.skipped += 1
                    continue
                data = stream.read(length + CRC.size)
                if len(data) < length + CRC.size:
                    raise _Fault("cut short: the file is truncated (or was shortened while read)")
                body = memoryview(data)[:length]
                if masked_crc(body) != CRC.unpack_from(data, length)[0]:
                    raise _Fault("the data's CRC is wrong: the file is damaged")
                try:
                    event = Event.FromString(body)
                except (DecodeError, RecursionError, ValueError) as exc:
                    raise _Fault(f"not a TensorBoard event ({cut(escaped(str(exc)), 80)})") from None
                if event.WhichOneof("what") == "summary":
                    for value in event.summary.value:
                        number = _scalar(value)
                        if number is not None:
                            run.add(value.tag, event.step, number, budget, what)
        except _Fault as fault:
            raise EventLogError(f"{what}, record {index:,}: {fault}") from None
        except OSError as exc:
            raise EventLogError(f"{what}, record {index:,}: read error: {exc.strerror or exc}") from None
        budget.records -= index


class _Fault(Exception):
    """A record's fault, said after the record's place (raised as EventLogError with it)."""


def read_log_folder(folder: Path) -> list[LoggedRun]:
    """The runs under `folder` (a TensorBoard --logdir, or one run's folder), with their scalar series by tag.

    EventLogError (one line) for anything that cannot be read as an event log, within the bounds above.
    """
    runs = []
    budget = _Budget()
    for here, files in find_event_files(folder).items():
        run = _Run()
        for path in files:
            _read_file(path, run, budget)
        name = folder.name if here == folder else here.relative_to(folder).as_posix()
        runs.append(run.finished(name or str(folder), len(files)))
    return runs
