"""A trainer's state as an agent file lays it out: tensors by name and a JSON metadata block.

Two writers need the same parts: the agent file (`agent_file.to_bytes`, everything at once) and the
run's timeline (`timeline.Timeline`, which keeps only what a checkpoint cannot share with the rest of
the run, and puts a whole file back together when one is restored). Both end in `encode`, which
checks what it writes against the loader's own schema, so a restored checkpoint is exactly as
trustworthy as a saved file.
"""

from __future__ import annotations

import functools
import json
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np
import safetensors.numpy

from sandbox.core.agent import DQNAgent
from sandbox.core.trainer import EpisodeStats, Trainer
from sandbox.formats.agent_schema import HISTORY_FIELDS, SchemaError, check_info, check_table, check_values
from sandbox.io.files import strict_json

FORMAT = "rl-sandbox-agent"
FORMAT_VERSION = 2  # 2: greedy evaluations in the history; version 1 files still load
DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"),
                               "U8": np.dtype("u1")}


class StateError(ValueError):
    """What would be written does not pass the loader's schema; the message says why."""


@functools.cache
def versions() -> dict[str, str]:
    """The versions of the packages that trained an agent, as its file records them."""
    out = {}
    for name in ("rl-sandbox", "torch", "numpy", "gymnasium", "safetensors"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def learned_tensors(agent: DQNAgent) -> dict[str, np.ndarray]:
    """Copies of both nets' weights (`online.*`, `target.*`) and Adam's state (`optim.0.*`, once it has stepped)."""
    tensors: dict[str, np.ndarray] = {}
    for prefix, net in (("online", agent.online), ("target", agent.target)):
        for name, value in net.state_dict().items():
            tensors[f"{prefix}.{name}"] = value.detach().cpu().numpy().copy()
    adam = agent.learner.adam_state()  # one form whichever backend trained it (learner.AdamState)
    if adam is not None:
        for key, value in adam._asdict().items():
            tensors[f"optim.0.{key}"] = value.detach().cpu().numpy().copy()
    return tensors


def optimizer_info(agent: DQNAgent) -> dict[str, Any]:
    """Adam's settings as the file's `optimizer` block."""
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in agent.learner.adam_settings().items()}
    return {"param_groups": [{**settings, "params": [0]}],
            "state_keys": [] if agent.learner.adam_state() is None else [0]}


def rng_info(trainer: Trainer) -> dict[str, Any]:
    """Every generator a continuation needs: exploration, the env (or its seed still to apply), sampling."""
    env_seed, env_rng = trainer.env_rng()
    agent = trainer.agent
    return {"agent": agent.rng.bit_generator.state, "env": env_rng, "env_seed": env_seed,
            "memory": agent.memory.rng.bit_generator.state}


def history_tensors(episodes: list[EpisodeStats], losses: np.ndarray) -> dict[str, np.ndarray]:
    """The run's per-episode stats, column by column, and every loss."""
    tensors: dict[str, np.ndarray] = {
        f"history.{name}": np.array([getattr(e, name) for e in episodes], dtype=np.float64) for name in HISTORY_FIELDS}
    tensors["history.losses"] = np.asarray(losses, dtype=np.float32).copy()
    return tensors


def encode(info: dict[str, Any], tensors: dict[str, np.ndarray]) -> bytes:
    """The file's bytes, once what is written passes what is read: the loader's schema, applied first."""
    text = json.dumps(info)
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header = {name: {"dtype": names.get(value.dtype.newbyteorder("<"), str(value.dtype)), "shape": list(value.shape)}
              for name, value in tensors.items()}
    try:
        plan = check_info(strict_json(text))
        check_table(plan, header)
        for name, value in tensors.items():
            check_values(name, value, plan)
    except (SchemaError, ValueError) as exc:
        raise StateError(f"this agent cannot be saved: {exc}") from None
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "json": text}
    return safetensors.numpy.save(tensors, metadata=meta)
