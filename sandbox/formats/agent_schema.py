"""What a valid agent file holds, checked field by field before anything is built.

The JSON metadata is checked first (types, ranges, cross-field consistency). From it follows the
exact table of tensors the file must hold: names, dtypes and shapes, derived from the config
(the net is built on torch's `meta` device, which allocates nothing). The file's own table must
match it exactly, so every later allocation is bounded by the file's real size. Tensor values are
checked as they are read (finite, inside their ranges, actions inside the action space).
A file is either fully valid or refused with one line naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from sandbox.core.config import LIVE_FIELDS, Config, ConfigError, check_value, shown, typed
from sandbox.core.memory import ARRAYS as MEMORY_ARRAYS
from sandbox.core.networks import build_network
from sandbox.core.trainer import EpisodeStats

INFO_KEYS = ("versions", "config", "spec", "counters", "rng", "optimizer", "memory", "edits", "saved_mid_episode")
# The coach's hints at save time, the run's kept best agent and its timeline (files from before them have none).
OPTIONAL_INFO_KEYS = ("hints", "best", "timeline")
BEST_KEYS = ("episode", "value", "total_steps", "measure", "bytes")
BEST_MEASURES = ("greedy mean", "moving average")
TIMELINE_KEYS = ("log_start", "log_end", "checkpoints")
CHECKPOINT_KEYS = ("episodes", "steps", "updates", "losses", "edits", "log_end", "memory_size", "memory_position",
                   "rng")
MAX_CHECKPOINTS = 1000  # a timeline thins itself out beyond this (timeline.Timeline)
HISTORY_FIELDS = [f.name for f in fields(EpisodeStats)]
V1_HISTORY_FIELDS = [name for name in HISTORY_FIELDS if not name.startswith("greedy_")]  # before evaluations
MAY_BE_NAN = ("mean_loss", "greedy_mean", "greedy_std")  # no update in the episode; no evaluation after it
MAX_COUNT = 10**13  # steps, updates, episodes: far beyond any run, far below float64's exact integers
MAX_DIM = 100_000  # observation size or action count
MAX_EDITS = 10_000
MAX_HINTS = 20
MAX_HINT_CHARS = 2_000
MAX_ABS_HISTORY = 1e12  # scores, averages, returns, Q: beyond this a run is garbage (and sums overflow)
MAX_ABS_LOSS = 1e30
MAX_ABS_REWARD = 1e6  # a learning reward (n-step sums and shaping included) beyond this is garbage
ADAM = {"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "amsgrad": False, "maximize": False,
        "capturable": False, "differentiable": False}  # what DQNAgent creates; nothing else is accepted


class SchemaError(ValueError):
    """A field of the file is missing, of the wrong type or out of range; the message names it."""


@dataclass(frozen=True)
class TensorSpec:
    dtype: str  # safetensors' name: F32, F64, I64, U8
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """A checked metadata block and the tensors the file must therefore hold."""

    info: dict[str, Any]
    config: Config
    obs_dim: int
    n_actions: int
    tensors: dict[str, TensorSpec]


# --- small checks ------------------------------------------------------------------------
def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _int(value: Any, where: str, low: int = 0, high: int = MAX_COUNT) -> int:
    if not _is_int(value, low, high):
        raise SchemaError(f"{where} = {shown(value)}; expected an integer from {low:,} to {high:,}")
    return value


def _dict(value: Any, where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(f"{where} is {type(value).__name__}; expected an object")
    missing, extra = [k for k in keys if k not in value], [k for k in value if k not in keys + optional]
    if missing or extra:
        raise SchemaError(f"{where} " + (f"lacks {', '.join(missing)}" if missing else
                                         f"has unknown fields {shown(extra)}"))
    return value


def check_rng(value: Any, where: str) -> dict[str, Any]:
    """A numpy PCG64 state as `bit_generator.state` returns it."""
    _dict(value, where, ("bit_generator", "state", "has_uint32", "uinteger"))
    if value["bit_generator"] != "PCG64":
        raise SchemaError(f"{where}.bit_generator = {shown(value['bit_generator'])}; expected 'PCG64'")
    inner = _dict(value["state"], f"{where}.state", ("state", "inc"))
    for key in ("state", "inc"):
        _int(inner[key], f"{where}.state.{key}", 0, 2**128 - 1)
    _int(value["has_uint32"], f"{where}.has_uint32", 0, 1)
    _int(value["uinteger"], f"{where}.uinteger", 0, 2**32 - 1)
    return value


# --- the metadata ------------------------------------------------------------------------
def check_info(info: Any, version: int = 2) -> Plan:
    """Check the JSON metadata completely; returns the tensor table it implies.

    Version 1 files predate greedy evaluations: their runs used the training moving average as
    the solve rule, so that is what a config without `solve_rule` gets.
    """
    _dict(info, "metadata", INFO_KEYS, OPTIONAL_INFO_KEYS)
    versions = info["versions"]
    if not (isinstance(versions, dict) and all(isinstance(v, str) for v in versions.values())):
        raise SchemaError("versions must map package names to version strings")
    try:
        data = info["config"]
        if version == 1 and isinstance(data, dict):
            data = {"solve_rule": "training_mean"} | data
        config = Config.from_dict(data)
    except ConfigError as exc:
        raise SchemaError(f"config: {exc}") from None
    spec = info["spec"]
    if not isinstance(spec, dict):
        raise SchemaError("spec is not an object")
    obs_dim = _int(spec.get("obs_dim"), "spec.obs_dim", 1, MAX_DIM)
    n_actions = _int(spec.get("n_actions"), "spec.n_actions", 1, MAX_DIM)
    if spec.get("env_id") != config.env_id:
        raise SchemaError(f"spec.env_id = {shown(spec.get('env_id'))} differs from config.env_id")
    counters = _dict(info["counters"], "counters", ("steps", "updates", "episodes"))
    steps = _int(counters["steps"], "counters.steps")
    updates = _int(counters["updates"], "counters.updates")
    episodes = _int(counters["episodes"], "counters.episodes", 0, steps)
    _check_rngs(info["rng"])
    _check_optimizer(info["optimizer"], config, updates)
    memory_size = _check_memory(info["memory"], config)
    _check_edits(info["edits"], episodes, steps)
    if not isinstance(info["saved_mid_episode"], bool):
        raise SchemaError("saved_mid_episode must be true or false")
    _check_hints(info.get("hints", []))
    tensors = _tensor_table(config, obs_dim, n_actions, updates, episodes, memory_size,
                            HISTORY_FIELDS if version >= 2 else V1_HISTORY_FIELDS)
    if "best" in info:
        tensors["best.agent"] = TensorSpec("U8", (_check_best(info["best"], episodes, steps),))
    if "timeline" in info:
        tensors |= _check_timeline(info["timeline"], config, obs_dim, counters, len(info["edits"]), tensors)
    return Plan(info, config, obs_dim, n_actions, tensors)


def _check_timeline(timeline: Any, config: Config, obs_dim: int, counters: dict[str, int], edits: int,
                    tensors: dict[str, TensorSpec]) -> dict[str, TensorSpec]:
    """The run's timeline (`timeline.Timeline`): its checkpoints in order, inside the run's counters,
    each memory a slice of the log; returns its tensors (each checkpoint restored later is checked in
    full again, as a whole agent file)."""
    _dict(timeline, "timeline", TIMELINE_KEYS)
    start = _int(timeline["log_start"], "timeline.log_start")
    end = _int(timeline["log_end"], "timeline.log_end", start)
    checkpoints = timeline["checkpoints"]
    if not (isinstance(checkpoints, list) and 1 <= len(checkpoints) <= MAX_CHECKPOINTS):
        raise SchemaError(f"timeline.checkpoints must be a list of 1 to {MAX_CHECKPOINTS:,} checkpoints")
    previous = {"episodes": -1, "steps": 0, "updates": 0, "losses": 0, "edits": 0, "log_end": start}
    for i, c in enumerate(checkpoints):
        where = f"timeline.checkpoints[{i}]"
        _dict(c, where, CHECKPOINT_KEYS)
        limits = {"episodes": counters["episodes"], "steps": counters["steps"], "updates": counters["updates"],
                  "losses": counters["updates"], "edits": edits, "log_end": end}
        for key, high in limits.items():  # each grows with the run: never back, never past the run's end
            low = previous[key] + 1 if key == "episodes" else previous[key]
            previous[key] = _int(c[key], f"{where}.{key}", low, high)
        size = _int(c["memory_size"], f"{where}.memory_size", 0, min(config.memory_capacity, c["log_end"] - start))
        if size == config.memory_capacity:
            _int(c["memory_position"], f"{where}.memory_position", 0, size - 1)
        elif c["memory_position"] != size:
            raise SchemaError(f"{where}.memory_position = {shown(c['memory_position'])}; a memory still filling "
                              f"writes at its size, {size:,}")
        _check_rngs(c["rng"], f"{where}.rng")
    k, rows = len(checkpoints), end - start
    out = {f"timeline.log.{name}": _memory_spec(name, rows, obs_dim) for name in MEMORY_ARRAYS}
    for name, spec in tensors.items():
        if name.startswith(("online.", "target.")):
            out[f"timeline.{name}"] = TensorSpec("F32", (k, *spec.shape))
    n_params = sum(math.prod(spec.shape) for name, spec in tensors.items() if name.startswith("online."))
    out |= {"timeline.optim.exp_avg": TensorSpec("F32", (k, n_params)),
            "timeline.optim.exp_avg_sq": TensorSpec("F32", (k, n_params)),
            "timeline.optim.step": TensorSpec("F32", (k,))}
    return out


def _memory_spec(name: str, rows: int, obs_dim: int) -> TensorSpec:
    two_d = name in ("states", "next_states")
    return TensorSpec("I64" if name == "actions" else "F32", (rows, obs_dim) if two_d else (rows,))


def _check_best(best: Any, episodes: int, steps: int) -> int:
    """The kept best agent's mark; returns the size of its snapshot (an agent file of its own, checked
    in full by the same loader when it is restored)."""
    _dict(best, "best", BEST_KEYS)
    _int(best["episode"], "best.episode", 0, max(episodes - 1, 0))
    _int(best["total_steps"], "best.total_steps", 0, steps)
    if not (isinstance(best["value"], float) and abs(best["value"]) <= MAX_ABS_HISTORY):
        raise SchemaError(f"best.value = {shown(best['value'])} is not a finite score")
    if best["measure"] not in BEST_MEASURES:
        raise SchemaError(f"best.measure = {shown(best['measure'])}; allowed: {', '.join(BEST_MEASURES)}")
    return _int(best["bytes"], "best.bytes", 1)


def _check_hints(hints: Any) -> None:
    if not (isinstance(hints, list) and all(isinstance(h, str) for h in hints)):
        raise SchemaError("hints must be a list of strings")
    if len(hints) > MAX_HINTS or any(len(h) > MAX_HINT_CHARS for h in hints):
        raise SchemaError(f"hints: more than {MAX_HINTS} or one longer than {MAX_HINT_CHARS:,} characters")


def _check_rngs(rng: Any, where: str = "rng") -> None:
    _dict(rng, where, ("agent", "env", "env_seed", "memory"))
    check_rng(rng["agent"], f"{where}.agent")
    check_rng(rng["memory"], f"{where}.memory")
    if (rng["env_seed"] is None) == (rng["env"] is None):
        raise SchemaError(f"{where}: exactly one of env_seed and env must be given")
    if rng["env"] is None:
        _int(rng["env_seed"], f"{where}.env_seed", 0, 2**64 - 1)
    else:
        check_rng(rng["env"], f"{where}.env")


def _check_optimizer(optimizer: Any, config: Config, updates: int) -> None:
    """Adam's settings must be the ones the agent uses: nothing in a file can change how it learns."""
    _dict(optimizer, "optimizer", ("param_groups", "state_keys"))
    groups = optimizer["param_groups"]
    if not (isinstance(groups, list) and len(groups) == 1 and isinstance(groups[0], dict)):
        raise SchemaError("optimizer.param_groups must hold exactly one group")
    group = groups[0]
    if group.get("lr") != config.learning_rate:
        raise SchemaError(f"optimizer lr = {shown(group.get('lr'))} differs from learning_rate = "
                          f"{config.learning_rate}")
    if group.get("params") != [0]:
        raise SchemaError("optimizer.param_groups[0].params must be [0]")
    for key, value in group.items():
        if key in ADAM:
            if value != ADAM[key] or type(value) is not type(ADAM[key]):
                raise SchemaError(f"optimizer {key} = {shown(value)}; RL Sandbox's Adam uses {ADAM[key]!r}")
        elif key not in ("lr", "params") and value not in (None, True, False):
            raise SchemaError(f"optimizer {shown(key)} = {shown(value)}; expected true, false or null")
    missing = [k for k in ADAM if k not in group]
    if missing:
        raise SchemaError(f"optimizer.param_groups[0] lacks {', '.join(missing)}")
    expected = [0] if updates else []
    if optimizer["state_keys"] != expected:
        raise SchemaError(f"optimizer.state_keys = {shown(optimizer['state_keys'])}; with {updates:,} updates "
                          f"expected {expected}")


def _check_memory(memory: Any, config: Config) -> int | None:
    """The memory's size (None when the file has no memory)."""
    if memory is None:
        return None
    _dict(memory, "memory", ("capacity", "size", "position", "rng"))
    capacity = _int(memory["capacity"], "memory.capacity", 1, 10**9)
    if capacity != config.memory_capacity:
        raise SchemaError(f"memory.capacity = {capacity:,} differs from memory_capacity = {config.memory_capacity:,}")
    size = _int(memory["size"], "memory.size", 0, capacity)
    if size == capacity:
        _int(memory["position"], "memory.position", 0, capacity - 1)
    elif memory["position"] != size:
        raise SchemaError(f"memory.position = {shown(memory['position'])}; a memory still filling writes "
                          f"at its size, {size:,}")
    check_rng(memory["rng"], "memory.rng")
    return size


def _check_edits(edits: Any, episodes: int, steps: int) -> None:
    if not isinstance(edits, list) or len(edits) > MAX_EDITS:
        raise SchemaError(f"edits must be a list of at most {MAX_EDITS:,} entries")
    for i, edit in enumerate(edits):
        where = f"edits[{i}]"
        _dict(edit, where, ("episode", "total_steps", "name", "old", "new"))
        _int(edit["episode"], f"{where}.episode", 0, episodes)
        _int(edit["total_steps"], f"{where}.total_steps", 0, steps)
        name = edit["name"]
        if name not in LIVE_FIELDS:
            raise SchemaError(f"{where}.name = {shown(name)} is not a live parameter")
        try:
            for key in ("old", "new"):
                check_value(name, typed(name, edit[key]))
        except ConfigError as exc:
            raise SchemaError(f"{where}: {exc}") from None


def _tensor_table(config: Config, obs_dim: int, n_actions: int, updates: int, episodes: int,
                  memory_size: int | None, history_fields: list[str]) -> dict[str, TensorSpec]:
    with torch.device("meta"):  # shapes only: nothing is allocated
        net = build_network(config.network, obs_dim, n_actions, config.hidden_units, config.hidden_layers)
    shapes = {name: tuple(p.shape) for name, p in net.state_dict().items()}
    table = {f"{prefix}.{name}": TensorSpec("F32", shape) for prefix in ("online", "target")
             for name, shape in shapes.items()}
    if updates:
        n_params = sum(math.prod(s) for s in shapes.values())
        table |= {"optim.0.exp_avg": TensorSpec("F32", (n_params,)),
                  "optim.0.exp_avg_sq": TensorSpec("F32", (n_params,)), "optim.0.step": TensorSpec("F32", ())}
    if memory_size is not None:
        table |= {f"memory.{name}": _memory_spec(name, memory_size, obs_dim) for name in MEMORY_ARRAYS}
    table |= {f"history.{name}": TensorSpec("F64", (episodes,)) for name in history_fields}
    table["history.losses"] = TensorSpec("F32", (updates,))
    return table


def check_table(plan: Plan, header: dict[str, Any]) -> None:
    """The file's tensor table must be exactly the one the metadata implies."""
    for name, want in plan.tensors.items():
        got = header.get(name)
        if got is None:
            raise SchemaError(f"tensor {shown(name)} is missing")
        if got["dtype"] != want.dtype or tuple(got["shape"]) != want.shape:
            raise SchemaError(f"tensor {shown(name)} has shape {got['shape']} and dtype {got['dtype']}; this agent "
                              f"needs shape {list(want.shape)} and dtype {want.dtype}")
    extra = [name for name in header if name not in plan.tensors]
    if extra:
        raise SchemaError(f"unexpected tensor {shown(extra[0])}")


# --- tensor values -----------------------------------------------------------------------
def check_values(name: str, value: np.ndarray, plan: Plan) -> None:
    """Range checks for one tensor, by what it holds."""
    info = plan.info
    kind = name.split(".", 1)[0]
    if kind == "timeline":
        _check_timeline_values(name, value, plan)
        return
    if kind in ("online", "target", "optim") and not np.isfinite(value).all():
        raise SchemaError(f"tensor {shown(name)} contains NaN or infinite values")
    if name == "optim.0.exp_avg_sq" and (value < 0).any():
        raise SchemaError("tensor 'optim.0.exp_avg_sq' holds negative second moments")
    if name == "optim.0.step" and not (1 <= float(value) <= info["counters"]["updates"]
                                       and float(value).is_integer()):
        raise SchemaError(f"optimizer step count {float(value):g} does not fit {info['counters']['updates']:,} updates")
    if kind == "memory":
        _check_memory_values(name, value, plan)
    if kind == "history":
        _check_history_values(name, value, info)


def _check_timeline_values(name: str, value: np.ndarray, plan: Plan) -> None:
    """The log is checked as a memory is, the stacked weights and moments as the agent's own."""
    if name.startswith("timeline.log."):
        _check_memory_values(name, value, plan)
    elif not np.isfinite(value).all():
        raise SchemaError(f"tensor {shown(name)} contains NaN or infinite values")
    elif name in ("timeline.optim.exp_avg_sq", "timeline.optim.step") and (value < 0).any():
        raise SchemaError(f"tensor {shown(name)} holds negative values")


def _check_memory_values(name: str, value: np.ndarray, plan: Plan) -> None:
    bad = {
        "states": lambda v: not np.isfinite(v).all(),
        "next_states": lambda v: not np.isfinite(v).all(),
        "actions": lambda v: ((v < 0) | (v >= plan.n_actions)).any(),
        "rewards": lambda v: not (np.isfinite(v) & (np.abs(v) <= MAX_ABS_REWARD)).all(),
        "stops": lambda v: not np.isin(v, (0.0, 1.0)).all(),
        "horizons": lambda v: not np.isin(v, np.arange(1, plan.config.n_step + 1)).all(),
    }[name.rsplit(".", 1)[1]]
    if bad(value):
        field = name.rsplit(".", 1)[1]
        allowed = {"actions": f"actions 0 to {plan.n_actions - 1}", "rewards": f"finite rewards up to "
                   f"±{MAX_ABS_REWARD:g}", "stops": "0 or 1", "horizons": f"1 to n_step = {plan.config.n_step}"}
        raise SchemaError(f"tensor {shown(name)} holds values outside {allowed.get(field, 'finite numbers')}")


_FLAGS = ("terminated", "truncated", "solved")
_COUNTS = ("index", "length", "total_steps", "updates")


def _check_history_values(name: str, value: np.ndarray, info: dict[str, Any]) -> None:
    field = name.split(".", 1)[1]
    counters = info["counters"]
    limit = MAX_ABS_LOSS if field == "losses" else MAX_ABS_HISTORY
    with np.errstate(invalid="ignore"):
        ok = bool(np.all(np.abs(value[~np.isnan(value)] if field in MAY_BE_NAN else value) <= limit))
    if ok and field in _FLAGS:
        ok = bool(np.isin(value, (0.0, 1.0)).all())
    if ok and field == "index":
        ok = np.array_equal(value, np.arange(len(value)))
    if ok and field in _COUNTS[1:]:
        limit = counters["updates"] if field == "updates" else counters["steps"]
        ok = bool(((value >= (1 if field == "length" else 0)) & (value <= limit) & (value == np.round(value))).all())
        if ok and field != "length":
            ok = bool((np.diff(value) >= 0).all())
    if ok and field == "epsilon":
        ok = bool(((value >= 0) & (value <= 1)).all())
    if ok and field == "steps_per_second":
        ok = bool((value >= 0).all())
    if not ok:
        raise SchemaError(f"tensor {shown(name)} holds values a run cannot produce (NaN, infinite or out of range)")

