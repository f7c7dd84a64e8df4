"""Agent files: one safetensors file with JSON metadata. No pickle, validated before anything is built.

Layout: the safetensors header's `__metadata__` holds `format`, `format_version` and `json` (config,
env spec, counters, RNG states, optimizer hyperparameters, live-edit log, versions). Tensors:
`online.*`, `target.*` (network weights), `optim.0.*` (Adam's moments over the online net's parameters,
concatenated, and its step count: `learner.AdamState`, the same whichever backend trained the agent),
`memory.*` (replay memory, optional), `history.*` (per-episode stats and every loss), `best.agent`
(optional: the run's kept best agent, itself a whole agent file as bytes, its mark in the JSON's
`best`; it is parsed with the same checks when it is restored).

Resume is exact for saves at an episode boundary, on the device the run was on. A save made
mid-episode keeps everything up to that step, but the partial episode is dropped: training
resumes with a fresh episode.

The device is the loading machine's choice, not the file's: tensors are stored on no device, and
the config's `device` (the one it was trained on) is replaced by the one asked for at load
(default cpu). A file saved on CUDA opens on a machine without it, and the reverse.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import safetensors.numpy
import torch

from sandbox.core.config import DEFAULT_DEVICE, ConfigError, shown
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
from sandbox.io.files import PathError, atomic_write, open_regular, pread_exact, pread_into, shown_path, strict_json

T = TypeVar("T")

FORMAT = "rl-sandbox-agent"
FORMAT_VERSION = 2  # 2: greedy evaluations in the history; version 1 files still load
READABLE_VERSIONS = ("1", "2")
SUFFIX = ".agent"
MAX_HEADER_BYTES = 4 * 1024 * 1024  # the JSON of 10,000 live edits fits; its parse stays ~100 MB
MAX_FILE_BYTES = 8 * 1024**3
MAX_JSON_OBJECTS = 50_000  # a live edit is one object; RNG states a few each
DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"),
                               "U8": np.dtype("u1")}


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


@functools.cache
def _versions() -> dict[str, str]:
    out = {}
    for name in ("rl-sandbox", "torch", "numpy", "gymnasium", "safetensors"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


# --- saving ----------------------------------------------------------------------------
def to_bytes(trainer: Trainer, include_memory: bool = True, best: KeptBest | None = None) -> bytes:
    """Serialise a trainer completely, with the run's kept best agent if given (see the module
    docstring for the layout).

    A diverged agent (NaN or infinite weights) is refused: written, it would replace a good file
    with one that no loader accepts.
    """
    if trainer.evaluation is not None:  # its episode has no stats yet: the file would lose it
        raise ValueError("an evaluation is under way; settle() the trainer before saving it")
    agent = trainer.agent
    if not agent.finite():
        raise AgentFileError("the agent's weights are NaN or infinite (training diverged); it was not saved")
    # Everything else is checked against the loader's own schema just before writing (`_self_check`).
    tensors: dict[str, np.ndarray] = {}
    for prefix, net in (("online", agent.online), ("target", agent.target)):
        for name, value in net.state_dict().items():
            tensors[f"{prefix}.{name}"] = value.detach().cpu().numpy().copy()
    adam = agent.learner.adam_state()  # one form whichever backend trained it (learner.AdamState)
    if adam is not None:
        for key, value in adam._asdict().items():
            tensors[f"optim.0.{key}"] = value.detach().cpu().numpy().copy()
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in agent.learner.adam_settings().items()}
    groups = [{**settings, "params": [0]}]
    memory_meta = None
    if include_memory:
        arrays, memory_meta = agent.memory.export()
        tensors |= {f"memory.{k}": v for k, v in arrays.items()}
    episodes = trainer.history.episodes
    for name in HISTORY_FIELDS:
        tensors[f"history.{name}"] = np.array([getattr(e, name) for e in episodes], dtype=np.float64)
    tensors["history.losses"] = np.frombuffer(trainer.history.losses, dtype=np.float32).copy()
    env_seed, env_rng = trainer.env_rng()
    info = {
        "versions": dict(_versions()),
        "config": trainer.config.to_dict(),
        "spec": asdict(trainer.spec),
        "counters": {"steps": agent.steps, "updates": agent.updates, "episodes": trainer.episodes_done},
        "rng": {"agent": agent.rng.bit_generator.state, "env": env_rng, "env_seed": env_seed,
                "memory": agent.memory.rng.bit_generator.state},
        "optimizer": {"param_groups": groups, "state_keys": [] if adam is None else [0]},
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
    text = json.dumps(info)
    _self_check(text, tensors)
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "json": text}
    return safetensors.numpy.save(tensors, metadata=meta)


def _self_check(info_json: str, tensors: dict[str, np.ndarray]) -> None:
    """What we write must pass what we read: the loader's schema, applied before writing."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header = {name: {"dtype": names.get(value.dtype.newbyteorder("<"), str(value.dtype)), "shape": list(value.shape)}
              for name, value in tensors.items()}
    try:
        plan = check_info(strict_json(info_json))
        check_table(plan, header)
        for name, value in tensors.items():
            check_values(name, value, plan)
    except (SchemaError, ValueError) as exc:
        raise AgentFileError(f"this agent cannot be saved: {exc}") from None


def save_trainer(trainer: Trainer, path: str | Path, include_memory: bool = True, follow_links: bool = True,
                 best: KeptBest | None = None) -> int:
    """Save atomically; returns the file's size in bytes. AgentFileError for a diverged agent,
    PathError when the path is unsuitable or the write fails (the old file is then untouched).
    `follow_links=False` for the app's own files: a link at the path is replaced, not followed."""
    data = to_bytes(trainer, include_memory, best)
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
    return load_agent(path, render, device)[0]


def load_agent(path: str | Path, render: bool = False,
               device: str = DEFAULT_DEVICE) -> tuple[Trainer, KeptBest | None]:
    """`load_trainer`, and the run's kept best agent if the file carries one (from the same open file)."""
    with _opened(path) as source:
        parsed = _guarded(source.name, lambda: parse(source))
        trainer = _guarded(source.name, lambda: _build(parsed, render, device))
        try:
            best = _guarded(source.name, lambda: _kept_best(parsed))
        except BaseException:
            trainer.close()
            raise
        return trainer, best


def _kept_best(parsed: Parsed) -> KeptBest | None:
    mark = parsed.plan.info.get("best")
    if mark is None:
        return None
    return KeptBest(mark["episode"], mark["value"], mark["total_steps"], mark["measure"],
                    parsed.tensor("best.agent").tobytes())


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
