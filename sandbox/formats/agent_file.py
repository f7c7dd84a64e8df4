"""Agent files: one safetensors file with JSON metadata. No pickle, validated before anything is built.

Layout: the safetensors header's `__metadata__` holds `format`, `format_version` and `json` (config,
env spec, counters, RNG states, optimizer hyperparameters, live-edit log, versions). Tensors:
`online.*`, `target.*` (network weights), `optim.0.*` (Adam's moments over the online net's parameters,
concatenated, and its step count: `learner.AdamState`, the same whichever backend trained the agent),
`memory.*` (replay memory, optional), `history.*` (per-episode stats and every loss), `best.agent`
(optional: the run's kept best agent, itself a whole agent file as bytes, its mark in the JSON's
`best`; it is parsed with the same checks when it is restored), `timeline.*` (optional: the run's
exact checkpoints, stacked, and the transition log their memories are slices of; the JSON's
`timeline` block says where each checkpoint stood: see `sandbox.formats.timeline`).

Resume is exact for saves at an episode boundary, on the device the run was on. A save made
mid-episode keeps everything up to that step, but the partial episode is dropped: training
resumes with a fresh episode.

The device is the loading machine's choice, not the file's: tensors are stored on no device, and
the config's `device` (the one it was trained on) is replaced by the one asked for at load
(default cpu). A file saved on CUDA opens on a machine without it, and the reverse.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch

from sandbox.core.config import DEFAULT_DEVICE, Config, ConfigError, shown
from sandbox.core.diagnostics import diagnose
from sandbox.core.envs import EnvError
from sandbox.core.learning.learner import AdamState
from sandbox.core.memory import ARRAYS as MEMORY_ARRAYS
from sandbox.core.trainer import EpisodeStats, History, LiveEdit, Trainer
from sandbox.formats.agent_schema import (
    HISTORY_FIELDS,
    MAX_HINT_CHARS,
    MAX_HINTS,
    Plan,
    SchemaError,
    check_info,
    check_table,
    check_values,
)
from sandbox.formats.agent_state import (
    DTYPES,
    FORMAT,
    StateError,
    encode,
    history_tensors,
    learned_tensors,
    optimizer_info,
    rng_info,
    versions,
)
from sandbox.formats.timeline import Timeline
from sandbox.io.files import PathError, atomic_write, open_regular, pread_exact, pread_into, shown_path, strict_json

T = TypeVar("T")

READABLE_VERSIONS = ("1", "2")
SUFFIX = ".agent"
MAX_HEADER_BYTES = 4 * 1024 * 1024  # the JSON of 10,000 live edits fits; its parse stays ~100 MB
MAX_FILE_BYTES = 8 * 1024**3
MAX_JSON_OBJECTS = 50_000  # a live edit is one object; RNG states a few each


@dataclass(frozen=True)
class KeptBest:
    """A run's best agent as a file carries it: where it was taken, and its snapshot (agent-file bytes)."""

    episode: int  # 0-based
    value: float
    total_steps: int
    measure: str
    data: bytes


class AgentFileError(ValueError):
    """The file cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class AgentFileInfo:
    """What a file holds, for the Open dialog and the status bar."""

    path: Path
    bytes: int
    episodes: int
    total_steps: int
    has_memory: bool
    env_id: str
    hints: tuple[str, ...] = ()  # the coach's hints when the file was saved


# --- saving ----------------------------------------------------------------------------
def to_bytes(trainer: Trainer, include_memory: bool = True, best: KeptBest | None = None,
             timeline: Timeline | None = None) -> bytes:
    """Serialise a trainer completely, with the run's kept best agent and its timeline if given (see
    the module docstring for the layout).

    A diverged agent (NaN or infinite weights) is refused: written, it would replace a good file
    with one that no loader accepts.
    """
    if trainer.evaluation is not None:  # its episode has no stats yet: the file would lose it
        raise ValueError("an evaluation is under way; settle() the trainer before saving it")
    agent = trainer.agent
    if not agent.finite():
        raise AgentFileError("the agent's weights are NaN or infinite (training diverged); it was not saved")
    # Everything else is checked against the loader's own schema as it is encoded.
    tensors = learned_tensors(agent)
    memory_meta = None
    if include_memory:
        arrays, memory_meta = agent.memory.export()
        tensors |= {f"memory.{k}": v for k, v in arrays.items()}
    tensors |= history_tensors(trainer.history.episodes, np.frombuffer(trainer.history.losses, dtype=np.float32))
    info = {
        "versions": dict(versions()),
        "config": trainer.config.to_dict(),
        "spec": asdict(trainer.spec),
        "counters": {"steps": agent.steps, "updates": agent.updates, "episodes": trainer.episodes_done},
        "rng": rng_info(trainer),
        "optimizer": optimizer_info(agent),
        "memory": memory_meta,
        "edits": [asdict(e) for e in trainer.history.edits],
        "saved_mid_episode": trainer.mid_episode,
        "hints": [h.line()[:MAX_HINT_CHARS] for h in diagnose(trainer.history, trainer.config, trainer.spec,
                                                              agent.epsilon, trainer.finished)][:MAX_HINTS],
    }
    if best is not None:
        info["best"] = {"episode": best.episode, "value": float(best.value), "total_steps": best.total_steps,
                        "measure": best.measure, "bytes": len(best.data)}
        tensors["best.agent"] = np.frombuffer(best.data, np.uint8).copy()
    if timeline is not None:
        info["timeline"], timeline_tensors = timeline.to_file()
        tensors |= timeline_tensors
    try:
        return encode(info, tensors)
    except StateError as exc:
        raise AgentFileError(str(exc)) from None


def save_trainer(trainer: Trainer, path: str | Path, include_memory: bool = True, follow_links: bool = True,
                 best: KeptBest | None = None, timeline: Timeline | None = None) -> int:
    """Save atomically; returns the file's size in bytes. AgentFileError for a diverged agent,
    PathError when the path is unsuitable or the write fails (the old file is then untouched).
    `follow_links=False` for the app's own files: a link at the path is replaced, not followed."""
    data = to_bytes(trainer, include_memory, best, timeline)
    atomic_write(path, data, "agent file", follow_links)
    return len(data)


# --- loading ---------------------------------------------------------------------------
class Source:
    """An agent file's bytes: an open regular file read on demand, or bytes in memory."""

    def __init__(self, name: str, *, fd: int | None = None, data: bytes | None = None) -> None:
        self.name, self.fd, self.data = name, fd, data
        self.size = os.fstat(fd).st_size if fd is not None else len(data or b"")

    def read(self, offset: int, size: int) -> bytes:
        if self.fd is not None:
            return pread_exact(self.fd, size, offset)
        assert self.data is not None  # a source is a descriptor or bytes
        return bytes(self.data[offset:offset + size])

    def array(self, offset: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        out = np.empty(shape, DTYPES[dtype])
        if self.fd is not None:
            pread_into(self.fd, out, offset)
        else:
            assert self.data is not None
            out.reshape(-1).view(np.uint8)[:] = np.frombuffer(self.data, np.uint8, out.nbytes, offset)
        return out


@dataclass
class Parsed:
    """A file whose framing, header and metadata passed every check; tensors are read on demand."""

    source: Source
    header: dict[str, Any]
    body: int  # offset of the first tensor byte
    plan: Plan

    def tensor(self, name: str) -> np.ndarray:
        entry = self.header[name]
        start = entry["data_offsets"][0]
        value = self.source.array(self.body + start, entry["dtype"], tuple(entry["shape"]))
        check_values(name, value, self.plan)
        return value


def read_header(source: Source) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Check the safetensors framing by hand; returns the tensor table, the metadata and the body offset."""
    size = source.size
    if size < 8:
        raise AgentFileError(f"file is too short to be an agent file ({size} bytes)")
    (header_len,) = struct.unpack("<Q", source.read(0, 8))
    if header_len > min(MAX_HEADER_BYTES, size - 8) or header_len < 2:
        raise AgentFileError(
            f"not an agent file: header length {header_len} is impossible for a file of {size} bytes "
            "(is it a pickle, a torch.save archive, or truncated?)"
        )
    try:
        header = strict_json(source.read(8, header_len).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AgentFileError("not an agent file: its header is not JSON") from None
    if not isinstance(header, dict):
        raise AgentFileError("not an agent file: its header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise AgentFileError("not an RL Sandbox agent file (a safetensors file without our format marker)")
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise AgentFileError(
            f"agent file format version {shown(meta.get('format_version'))} is not supported; "
            f"this version of RL Sandbox reads versions {', '.join(READABLE_VERSIONS)}"
        )
    body = size - 8 - header_len
    spans = sorted(_check_entry(name, entry, body) for name, entry in header.items())
    covered = 0
    for start, end in spans:  # as safetensors requires: tensors tile the body, no gaps, no overlaps
        if start != covered:
            raise AgentFileError("tensor data overlaps or leaves gaps (the file is damaged)")
        covered = end
    if covered != body:
        raise AgentFileError(f"the file holds {body - covered:,} bytes no tensor accounts for (damaged?)")
    return header, meta, 8 + header_len


def _check_entry(name: str, entry: Any, body: int) -> tuple[int, int]:
    if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
        raise AgentFileError(f"tensor {shown(name)} has an unsupported dtype; allowed: {', '.join(DTYPES)}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and len(shape) <= 8 and all(type(d) is int and d >= 0 for d in shape)):
        raise AgentFileError(f"tensor {shown(name)} has an invalid shape {shown(shape)}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
        raise AgentFileError(f"tensor {shown(name)} has invalid data offsets")
    start, end = offsets
    expected = math.prod(shape) * np.dtype(DTYPES[entry["dtype"]]).itemsize
    if not (0 <= start <= end <= body) or end - start != expected:
        raise AgentFileError(f"tensor {shown(name)} lies outside the file or its size does not match its shape "
                             "(the file may be truncated)")
    return start, end


def parse(source: Source) -> Parsed:
    """Check framing, header, metadata and the tensor table; reads no tensor data."""
    header, meta, body = read_header(source)
    text = meta.get("json")
    if isinstance(text, str) and text.count("{") > MAX_JSON_OBJECTS:  # parsed objects cost ~100 bytes each
        raise AgentFileError(f"{source.name}: the metadata holds more than {MAX_JSON_OBJECTS:,} objects")
    try:
        info = strict_json(text) if isinstance(text, str) else None
    except ValueError as exc:
        raise AgentFileError(f"{source.name}: the metadata is not valid JSON ({exc})") from None
    if info is None:
        raise AgentFileError(f"{source.name}: the metadata is missing")
    try:
        plan = check_info(info, int(meta["format_version"]))
        check_table(plan, header)
    except SchemaError as exc:
        raise AgentFileError(f"{source.name}: {exc}") from None
    return Parsed(source, header, body, plan)


@contextlib.contextmanager
def _opened(path: str | Path) -> Iterator[Source]:
    try:
        fd = open_regular(path, "agent file")
    except PathError as exc:
        raise AgentFileError(str(exc)) from None
    try:
        size = os.fstat(fd).st_size
        if size > MAX_FILE_BYTES:
            raise AgentFileError(f"{shown_path(path)} is {size / 1e9:.1f} GB; agent files are at most "
                                 f"{MAX_FILE_BYTES / 1e9:.0f} GB")
        yield Source(shown_path(path), fd=fd)
    finally:
        os.close(fd)


def _guarded(name: str, fn: Callable[[], T]) -> T:
    """Run a loading step; whatever goes wrong becomes one AgentFileError line."""
    try:
        return fn()
    except AgentFileError:
        raise
    except PathError as exc:
        raise AgentFileError(f"{name}: {exc}") from None
    except (ConfigError, EnvError, SchemaError) as exc:
        raise AgentFileError(f"{name}: {exc}") from None
    except MemoryError:
        raise AgentFileError(f"{name}: not enough memory to load this agent") from None
    except Exception as exc:  # a check we have not thought of: still one line, never a traceback
        raise AgentFileError(f"{name} is inconsistent: {type(exc).__name__}: {shown(str(exc), 200)}") from None


def load_trainer(path: str | Path, render: bool = False, device: str = DEFAULT_DEVICE) -> Trainer:
    """Rebuild a trainer exactly as it was saved, on `device` (see the module docstring for
    mid-episode saves and devices)."""
    return load_agent(path, render, device).trainer


class LoadedAgent(NamedTuple):
    """What an agent file gives back: the trainer, the run's kept best agent, the run's timeline
    (following the trainer; None when the file has none)."""

    trainer: Trainer
    best: KeptBest | None
    timeline: Timeline | None


def load_agent(path: str | Path, render: bool = False, device: str = DEFAULT_DEVICE) -> LoadedAgent:
    """`load_trainer`, with the run's kept best agent and timeline if the file carries them (from the
    same open file)."""
    with _opened(path) as source:
        parsed = _guarded(source.name, lambda: parse(source))
        trainer = _guarded(source.name, lambda: _build(parsed, render, device))
        try:
            best = _guarded(source.name, lambda: _kept_best(parsed))
            timeline = _guarded(source.name, lambda: _timeline(parsed, trainer))
        except BaseException:
            trainer.close()
            raise
        return LoadedAgent(trainer, best, timeline)


def _kept_best(parsed: Parsed) -> KeptBest | None:
    mark = parsed.plan.info.get("best")
    if mark is None:
        return None
    return KeptBest(mark["episode"], mark["value"], mark["total_steps"], mark["measure"],
                    parsed.tensor("best.agent").tobytes())


def _timeline(parsed: Parsed, trainer: Trainer) -> Timeline | None:
    block = parsed.plan.info.get("timeline")
    if block is None:
        return None
    tensors = {name: parsed.tensor(name) for name in parsed.plan.tensors if name.startswith("timeline.")}
    timeline = Timeline.from_file(block, tensors, trainer.spec, trainer.config.memory_capacity)
    try:
        timeline.resume(trainer)
    except ValueError as exc:
        raise AgentFileError(f"{parsed.source.name}: {exc}") from None
    return timeline


def trainer_at(timeline: Timeline, index: int, history: History, config: Config, optimizer: dict[str, Any],
               render: bool = False, device: str = DEFAULT_DEVICE) -> Trainer:
    """The exact trainer of checkpoint `index` (see `Timeline.agent_bytes`): what a resumed file would be."""
    try:
        data = timeline.agent_bytes(index, history, config, optimizer)
    except StateError as exc:
        raise AgentFileError(f"checkpoint at episode {timeline.checkpoints[index].episodes:,}: {exc}") from None
    return from_bytes(data, render, device)


def from_bytes(data: bytes, render: bool = False, device: str = DEFAULT_DEVICE) -> Trainer:
    """Rebuild a trainer from what `to_bytes` produced (the kept best agent, for one), on `device`."""
    source = Source("agent", data=data)
    return _guarded("agent", lambda: _build(parse(source), render, device))


def file_info(path: str | Path) -> AgentFileInfo:
    """What a file holds, from its checked metadata (no tensor is read)."""
    with _opened(path) as source:
        plan = _guarded(source.name, lambda: parse(source)).plan
    counters = plan.info["counters"]
    return AgentFileInfo(Path(path), source.size, counters["episodes"], counters["steps"],
                         plan.info["memory"] is not None, plan.config.env_id, tuple(plan.info.get("hints", ())))


def resume_note(info: AgentFileInfo) -> str | None:
    """What a user must know before continuing from this file, or None."""
    if info.has_memory or info.total_steps == 0:
        return None
    return (f"{info.path.name} has no replay memory: training continues with an empty memory, so it will not "
            "match the uninterrupted run")


def _build(parsed: Parsed, render: bool, device: str) -> Trainer:
    plan, info = parsed.plan, parsed.plan.info
    trainer = Trainer(plan.config.with_changes(device=device), render=render)
    if (plan.obs_dim, plan.n_actions) != (trainer.spec.obs_dim, trainer.spec.n_actions):
        trainer.close()
        raise AgentFileError(
            f"the agent was trained on observations of size {plan.obs_dim} with {plan.n_actions} actions, but "
            f"{plan.config.env_id} has {trainer.spec.obs_dim} and {trainer.spec.n_actions}"
        )
    try:
        _fill(trainer, parsed, info)
    except BaseException:
        trainer.close()
        raise
    return trainer


def _fill(trainer: Trainer, parsed: Parsed, info: dict[str, Any]) -> None:
    agent = trainer.agent
    with torch.no_grad():
        for prefix, net in (("online", agent.online), ("target", agent.target)):
            for name, param in net.state_dict().items():
                param.copy_(torch.from_numpy(parsed.tensor(f"{prefix}.{name}")))
    counters = info["counters"]
    if counters["updates"]:
        # The file's Adam settings were only checked: the learner keeps its own.
        agent.learner.load_adam_state(AdamState(*(torch.from_numpy(parsed.tensor(f"optim.0.{name}")).to(agent.device)
                                                  for name in AdamState._fields)))
    if info["memory"] is not None:
        agent.memory.restore({k: parsed.tensor(f"memory.{k}") for k in MEMORY_ARRAYS}, info["memory"])
    agent.steps, agent.updates = counters["steps"], counters["updates"]
    agent.rng.bit_generator.state = info["rng"]["agent"]
    n = counters["episodes"]
    columns = {name: parsed.tensor(f"history.{name}") if f"history.{name}" in parsed.plan.tensors
               else np.full(n, np.nan) for name in HISTORY_FIELDS}  # version 1: no evaluations
    history = History(edits=[LiveEdit(**e) for e in info["edits"]])
    for i in range(counters["episodes"]):
        row = {name: columns[name][i].item() for name in HISTORY_FIELDS}
        for name in ("index", "length", "total_steps", "updates"):
            row[name] = int(row[name])
        for name in ("terminated", "truncated", "solved"):
            row[name] = bool(row[name])
        history.episodes.append(EpisodeStats(**row))
    history.losses.frombytes(parsed.tensor("history.losses").tobytes())
    trainer.restore(info["rng"]["env_seed"], info["rng"]["env"], history)
    _check_outputs(trainer)


def _check_outputs(trainer: Trainer) -> None:
    """Finite weights can still overflow: the net's Q-values must be finite where the agent has been
    (a sample of its memory) and at the centre of the observation space."""
    memory = trainer.agent.memory
    probes = [trainer.scaler(np.zeros(trainer.spec.obs_dim, np.float32))[None]]
    if len(memory):
        probes.append(memory.states[np.linspace(0, len(memory) - 1, min(len(memory), 256)).astype(int)])
    with torch.no_grad(), np.errstate(all="ignore"):
        for net in (trainer.agent.online, trainer.agent.target):
            q = net(torch.from_numpy(np.concatenate(probes)).to(trainer.agent.device))
            if not torch.isfinite(q).all():
                raise AgentFileError("the network's Q-values are not finite (its weights overflow)")
