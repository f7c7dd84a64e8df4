"""Agent files: one safetensors file with JSON metadata. No pickle, validated before anything is built.

Layout: the safetensors header's `__metadata__` holds `format`, `format_version` and `json` (config,
env spec, counters, RNG states, optimizer hyperparameters, live-edit log, versions). Tensors:
`online.*`, `target.*` (network weights), `optim.<i>.*` (Adam moments and step counts),
`memory.*` (replay memory, optional), `history.*` (per-episode stats and every loss).

Resume is exact for saves at an episode boundary. A save made mid-episode keeps everything up to
that step, but the partial episode is dropped: training resumes with a fresh episode.
"""

from __future__ import annotations

import functools
import json
import math
import os
import struct
import tempfile
from dataclasses import asdict, dataclass, fields
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
import torch

from sandbox.config import Config, ConfigError
from sandbox.envs import EnvError
from sandbox.memory import ARRAYS as MEMORY_ARRAYS
from sandbox.trainer import EpisodeStats, History, LiveEdit, Trainer

FORMAT = "rl-sandbox-agent"
FORMAT_VERSION = 1
SUFFIX = ".agent"
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_FILE_BYTES = 8 * 1024**3
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_}
HISTORY_FIELDS = [f.name for f in fields(EpisodeStats)]


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
def to_bytes(trainer: Trainer, include_memory: bool = True) -> bytes:
    """Serialise a trainer completely (see the module docstring for the layout)."""
    agent = trainer.agent
    tensors: dict[str, np.ndarray] = {}
    for prefix, net in (("online", agent.online), ("target", agent.target)):
        for name, value in net.state_dict().items():
            tensors[f"{prefix}.{name}"] = value.detach().cpu().numpy().copy()
    opt = agent.optimizer.state_dict()
    for index, state in opt["state"].items():
        for key, value in state.items():
            tensors[f"optim.{index}.{key}"] = value.detach().cpu().numpy().copy()
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in opt["param_groups"]]
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
        "optimizer": {"param_groups": groups, "state_keys": sorted(opt["state"])},
        "memory": memory_meta,
        "edits": [asdict(e) for e in trainer.history.edits],
        "saved_mid_episode": trainer.mid_episode,
    }
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "json": json.dumps(info)}
    return safetensors.numpy.save(tensors, metadata=meta)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync, then rename over it: a crash leaves the old file whole."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_trainer(trainer: Trainer, path: str | Path, include_memory: bool = True) -> int:
    """Save atomically; returns the file's size in bytes."""
    data = to_bytes(trainer, include_memory)
    atomic_write(path, data)
    return len(data)


# --- loading ---------------------------------------------------------------------------
def read_header(data: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the safetensors framing by hand before any parser sees the bytes."""
    if len(data) < 8:
        raise AgentFileError(f"file is too short to be an agent file ({len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > min(MAX_HEADER_BYTES, len(data) - 8) or header_len < 2:
        raise AgentFileError(
            f"not an agent file: header length {header_len} is impossible for a file of {len(data)} bytes "
            "(is it a pickle, a torch.save archive, or truncated?)"
        )
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise AgentFileError("not an agent file: its header is not JSON") from None
    if not isinstance(header, dict):
        raise AgentFileError("not an agent file: its header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise AgentFileError("not an RL Sandbox agent file (a safetensors file without our format marker)")
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise AgentFileError(
            f"agent file format version {meta.get('format_version')!r} is not supported; "
            f"this version of RL Sandbox reads version {FORMAT_VERSION}"
        )
    body = len(data) - 8 - header_len
    for name, entry in header.items():
        _check_entry(name, entry, body)
    return header, meta


def _check_entry(name: str, entry: Any, body: int) -> None:
    if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
        raise AgentFileError(f"tensor {name!r} has an unsupported dtype; allowed: {', '.join(DTYPES)}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise AgentFileError(f"tensor {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise AgentFileError(f"tensor {name!r} has invalid data offsets")
    start, end = offsets
    expected = math.prod(shape) * np.dtype(DTYPES[entry["dtype"]]).itemsize
    if not (0 <= start <= end <= body) or end - start != expected:
        raise AgentFileError(f"tensor {name!r} lies outside the file or its size does not match its shape "
                             "(the file may be truncated)")


def read_file(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
    """Read and validate a file's framing and metadata; returns tensors, the JSON info and the size."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AgentFileError(f"{path} is {size / 1e9:.1f} GB; agent files are at most "
                                 f"{MAX_FILE_BYTES / 1e9:.0f} GB")
        data = path.read_bytes()
    except OSError as exc:
        raise AgentFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(data, str(path))


def parse(data: bytes, name: str = "agent") -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
    """Validate agent-file bytes; returns tensors, the JSON info and the size. `name` labels errors."""
    _, meta = read_header(data)
    try:
        tensors = safetensors.numpy.load(data)
    except Exception as exc:  # the Rust parser's own checks; report, never crash
        raise AgentFileError(f"{name} is damaged: {exc}") from None
    try:
        info = json.loads(meta["json"])
    except (KeyError, TypeError, ValueError):
        raise AgentFileError(f"{name}: the metadata is missing or not JSON") from None
    if not isinstance(info, dict):
        raise AgentFileError(f"{name}: the metadata is not a JSON object")
    return tensors, info, len(data)


def load_trainer(path: str | Path, render: bool = False) -> Trainer:
    """Rebuild a trainer exactly as it was saved (see the module docstring for mid-episode saves)."""
    return _rebuild(*read_file(path)[:2], str(path), render)


def from_bytes(data: bytes, render: bool = False) -> Trainer:
    """Rebuild a trainer from what `to_bytes` produced (the kept best agent, for one)."""
    return _rebuild(*parse(data)[:2], "agent", render)


def _rebuild(tensors: dict[str, np.ndarray], info: dict[str, Any], name: str, render: bool) -> Trainer:
    try:
        return _build(tensors, info, render)
    except AgentFileError:
        raise
    except (ConfigError, EnvError) as exc:
        raise AgentFileError(f"{name}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        raise AgentFileError(f"{name} is inconsistent: {type(exc).__name__}: {exc}") from None


def file_info(path: str | Path) -> AgentFileInfo:
    _, info, size = read_file(path)
    return AgentFileInfo(Path(path), size, int(info["counters"]["episodes"]), int(info["counters"]["steps"]),
                         info.get("memory") is not None, str(info["config"]["env_id"]))


def _expect(tensors: dict[str, np.ndarray], name: str, like: torch.Tensor) -> torch.Tensor:
    if name not in tensors:
        raise AgentFileError(f"tensor {name!r} is missing")
    value = tensors[name]
    if tuple(value.shape) != tuple(like.shape) or value.dtype != like.detach().cpu().numpy().dtype:
        raise AgentFileError(f"tensor {name!r} has shape {list(value.shape)} and dtype {value.dtype}; this "
                             f"agent needs shape {list(like.shape)} and dtype {like.dtype}".replace("torch.", ""))
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise AgentFileError(f"tensor {name!r} contains NaN or infinite values")
    return torch.from_numpy(value.copy())


def _build(tensors: dict[str, np.ndarray], info: dict[str, Any], render: bool) -> Trainer:
    config = Config.from_dict(info["config"])
    trainer = Trainer(config, render=render)
    saved_spec = info["spec"]
    if (saved_spec["obs_dim"], saved_spec["n_actions"]) != (trainer.spec.obs_dim, trainer.spec.n_actions):
        raise AgentFileError(
            f"the agent was trained on observations of size {saved_spec['obs_dim']} with "
            f"{saved_spec['n_actions']} actions, but {config.env_id} has {trainer.spec.obs_dim} and "
            f"{trainer.spec.n_actions}"
        )
    agent = trainer.agent
    with torch.no_grad():
        for prefix, net in (("online", agent.online), ("target", agent.target)):
            for name, param in net.state_dict().items():
                param.copy_(_expect(tensors, f"{prefix}.{name}", param))
    params = agent.optimizer.param_groups[0]["params"]  # one flat parameter: the weights' buffer
    state = {}
    for index in info["optimizer"]["state_keys"]:
        like = params[int(index)]
        state[int(index)] = {
            "exp_avg": _expect(tensors, f"optim.{index}.exp_avg", like),
            "exp_avg_sq": _expect(tensors, f"optim.{index}.exp_avg_sq", like),
            "step": _expect(tensors, f"optim.{index}.step", torch.zeros((), dtype=torch.float32)),
        }
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in info["optimizer"]["param_groups"]]
    agent.optimizer.load_state_dict({"state": state, "param_groups": groups})
    agent.set_config(config)
    if info["memory"] is not None:
        arrays = {k: tensors[f"memory.{k}"] for k in MEMORY_ARRAYS}
        mem = agent.memory
        for k in ("states", "next_states"):
            if arrays[k].ndim != 2 or arrays[k].shape[1] != mem.obs_dim:
                raise AgentFileError(f"tensor 'memory.{k}' has shape {list(arrays[k].shape)}; "
                                     f"observations here have size {mem.obs_dim}")
        mem.restore(arrays, info["memory"])
    counters = info["counters"]
    agent.steps, agent.updates = int(counters["steps"]), int(counters["updates"])
    agent.rng.bit_generator.state = info["rng"]["agent"]
    columns = {name: tensors[f"history.{name}"] for name in HISTORY_FIELDS}
    n = int(counters["episodes"])
    if any(len(c) != n for c in columns.values()):
        raise AgentFileError(f"the history does not hold {n} episodes")
    history = History(edits=[LiveEdit(**e) for e in info["edits"]])
    for i in range(n):
        row = {name: columns[name][i].item() for name in HISTORY_FIELDS}
        for name in ("index", "length", "total_steps", "updates"):
            row[name] = int(row[name])
        for name in ("terminated", "truncated", "solved"):
            row[name] = bool(row[name])
        history.episodes.append(EpisodeStats(**row))
    history.losses.frombytes(tensors["history.losses"].astype(np.float32).tobytes())
    trainer.restore(info["rng"]["env_seed"], info["rng"]["env"], history)
    return trainer
