"""Every hyperparameter of a run: default, allowed values, explanation, and whether it can change live.

`Config` is the single source of truth. Presets, `--set key=value`, agent files and the GUI's
parameter panel all use these field names; the panel is generated from the metadata here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"

GROUPS = ("Environment", "Network", "Learning", "Exploration", "Replay memory", "Target network", "Run")


class ConfigError(ValueError):
    """A config value or file is invalid; the message names the field, the value and what is allowed."""


def param(
    default: Any,
    help: str,
    group: str,
    *,
    live: bool = False,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[Any, ...] | None = None,
    recommended: str = "",
) -> Any:
    """A config field with the metadata the validator and the parameter panel read."""
    meta = {
        "help": help,
        "group": group,
        "live": live,
        "low": low,
        "high": high,
        "choices": choices,
        "recommended": recommended,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Config:
    """A complete, validated run configuration. Frozen: changes go through `with_changes`."""

    # Environment
    env_id: str = param("MountainCar-v0", "Gymnasium environment id (Discrete actions, 1-D Box observations).",
                        "Environment")
    reward_shaping: str = param("none", "Extra reward to speed learning: 'potential' adds gamma*phi(s')-phi(s) "
                                "with phi = the car's mechanical energy (MountainCar only; policy-invariant).",
                                "Environment", choices=("none", "potential"))
    shaping_scale: float = param(10.0, "Size of the shaping potential phi (at most this value).", "Environment",
                                 low=0.0, high=1000.0, recommended="1 – 100")
    bootstrap_on_truncation: bool = param(True, "Keep bootstrapping when the time limit cuts an episode "
                                          "(correct). Off = the notebook's behaviour: the 200-step cut-off "
                                          "is treated as a terminal state.", "Environment")
    normalize_observations: bool = param(False, "Rescale observations to [-1, 1] using the observation "
                                         "space's bounds (where they are finite).", "Environment")
    # Network
    network: str = param("mlp", "Q-network kind: 'mlp' (the notebook's 3-layer net) or 'dueling' "
                         "(separate value and advantage heads).", "Network", choices=("mlp", "dueling"))
    hidden_units: int = param(64, "Units in each hidden layer.", "Network", low=1, high=4096,
                              recommended="64 – 512")
    hidden_layers: int = param(2, "Number of hidden layers.", "Network", low=1, high=6, recommended="2")
    # Learning
    learning_rate: float = param(1e-3, "Adam step size.", "Learning", live=True, low=1e-7, high=1.0,
                                 recommended="1e-4 – 1e-3")
    batch_size: int = param(64, "Transitions sampled from memory per gradient step.", "Learning", live=True,
                            low=1, high=65536, recommended="64 – 256")
    gamma: float = param(0.99, "Discount factor for future rewards.", "Learning", live=True, low=0.0, high=1.0,
                         recommended="0.95 – 0.999")
    loss: str = param("mse", "TD loss: 'mse' (notebook) or 'huber' (robust to large errors).", "Learning",
                      live=True, choices=("mse", "huber"))
    double_dqn: bool = param(True, "Double DQN: the online net picks the next action, the target net "
                             "scores it (reduces over-estimation).", "Learning", live=True)
    gradient_clip: float = param(1.0, "Clip the gradient's global norm to this value (0 = no clipping).",
                                 "Learning", live=True, low=0.0, high=1e6, recommended="1 – 10")
    update_interval: int = param(5, "Learn every this many env steps.", "Learning", live=True, low=1,
                                 high=100000, recommended="1 – 16")
    update_times: int = param(1, "Gradient steps each time the agent learns.", "Learning", live=True, low=1,
                              high=1000, recommended="1 – 8")
    n_step: int = param(1, "Multi-step returns: learn from the discounted sum of the next n rewards plus "
                        "the value n steps later (1 = one-step DQN). Larger n spreads a rare reward "
                        "back faster.", "Learning", low=1, high=100, recommended="1 – 10")
    learning_starts: int = param(0, "Env steps before the first gradient step (memory must also hold a "
                                 "batch).", "Learning", live=True, low=0, high=10**9)
    # Exploration
    epsilon_start: float = param(1.0, "Probability of a random action at the start.", "Exploration", live=True,
                                 low=0.0, high=1.0)
    epsilon_end: float = param(0.001, "Lowest exploration probability.", "Exploration", live=True, low=0.0,
                               high=1.0, recommended="0.001 – 0.05")
    epsilon_decay: float = param(0.9, "Epsilon is multiplied by this every `steps_per_decay` env steps.",
                                 "Exploration", live=True, low=0.0, high=1.0, recommended="0.9 – 0.999")
    steps_per_decay: int = param(200, "Env steps between two epsilon decays (the notebook's `tpe`).",
                                 "Exploration", live=True, low=1, high=10**9)
    explore_duration: int = param(1, "ez-greedy: a random action is held for a heavy-tailed number of steps, "
                                  "at most this many (1 = plain epsilon-greedy). Long holds build momentum.",
                                  "Exploration", live=True, low=1, high=10000, recommended="1, or 10 – 100")
    # Replay memory
    memory_capacity: int = param(1000, "Transitions kept in the replay memory (oldest dropped first).",
                                 "Replay memory", low=1, high=10**8, recommended="10,000 – 100,000")
    # Target network
    target_update: str = param("soft", "'soft': blend tau of the online net into the target every step; "
                               "'hard': copy it every `target_update_interval` steps.", "Target network",
                               live=True, choices=("soft", "hard"))
    tau: float = param(1e-3, "Soft-update blend factor per step.", "Target network", live=True, low=0.0, high=1.0,
                       recommended="1e-3 – 1e-2")
    target_update_interval: int = param(1000, "Env steps between hard copies.", "Target network", live=True,
                                        low=1, high=10**9, recommended="500 – 10,000")
    # Run
    seed: int = param(1412, "Seeds the network, the env, exploration and memory sampling.", "Run", low=0,
                      high=2**31 - 1)
    max_episodes: int = param(1000, "Training stops after this many episodes.", "Run", live=True, low=1,
                              high=10**9)
    solve_threshold: float | None = param(None, "Solved when the mean score over `solve_window` episodes "
                                          "exceeds this (empty = the env's registered threshold).", "Run",
                                          live=True)
    solve_window: int = param(100, "Episodes in the moving average used for the solve rule.", "Run", live=True,
                              low=1, high=100000)
    stop_when_solved: bool = param(True, "Stop training once solved.", "Run", live=True)
    device: str = param("auto", "Torch device: 'auto' picks cuda when available, else cpu.", "Run",
                        choices=("auto", "cpu", "cuda"))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check(f, getattr(self, f.name))
        if self.epsilon_end > self.epsilon_start:
            raise ConfigError(
                f"epsilon_end = {self.epsilon_end} is above epsilon_start = {self.epsilon_start}; "
                "allowed: epsilon_end <= epsilon_start"
            )

    def with_changes(self, **changes: Any) -> Config:
        """A new validated config; unknown names raise ConfigError listing the known ones."""
        for name in changes:
            if name not in FIELDS:
                raise ConfigError(f"unknown parameter {name!r}; known: {', '.join(FIELDS)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        return cls().with_changes(**{k: coerce(k, v) for k, v in data.items()})

    def diff(self, other: Config) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: name -> (self's value, other's value)."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Config)}
LIVE_FIELDS = frozenset(name for name, f in FIELDS.items() if f.metadata["live"])


def allowed(name: str) -> str:
    """Human description of what a field accepts, e.g. 'a number from 0 to 1'."""
    f = FIELDS[name]
    m = f.metadata
    if m["choices"]:
        return "one of " + ", ".join(repr(c) for c in m["choices"])
    if f.type == "bool":
        return "true or false"
    kind = "an integer" if f.type == "int" else "a number"
    if name == "solve_threshold":
        return "a number, or empty for the env's threshold"
    if m["low"] is not None and m["high"] is not None:
        return f"{kind} from {m['low']:g} to {m['high']:g}"
    return kind if f.type != "str" else "a text"


def _check(f: dataclasses.Field, value: Any) -> None:
    m = f.metadata
    bad = ConfigError(f"{f.name} = {value!r} is not allowed; allowed: {allowed(f.name)}")
    if f.name == "solve_threshold" and value is None:
        return
    if f.type == "bool":
        if not isinstance(value, bool):
            raise bad
        return
    if f.type == "str":
        if not isinstance(value, str) or not value or (m["choices"] and value not in m["choices"]):
            raise bad
        return
    if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise bad
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad
    if (m["low"] is not None and value < m["low"]) or (m["high"] is not None and value > m["high"]):
        raise bad


def coerce(name: str, value: Any) -> Any:
    """Convert text (from `--set`, the panel) or JSON numbers to the field's type; ConfigError if impossible."""
    if name not in FIELDS:
        raise ConfigError(f"unknown parameter {name!r}; known: {', '.join(FIELDS)}")
    f = FIELDS[name]
    bad = ConfigError(f"{name} = {value!r} is not allowed; allowed: {allowed(name)}")
    if not isinstance(value, str):
        if f.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if f.type == "float | None" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    text = value.strip()
    if f.type == "bool":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise bad
    if f.type == "int":
        try:
            return int(text.replace("_", "").replace(",", ""))
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                raise bad from None
            if as_float.is_integer():
                return int(as_float)
            raise bad from None
    if f.type in ("float", "float | None"):
        if f.type == "float | None" and text.lower() in ("", "none", "auto"):
            return None
        try:
            return float(text)
        except ValueError:
            raise bad from None
    return text


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """Parse `key=value` strings into typed changes (unvalidated ranges; Config validates)."""
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r} is not key=value")
        changes[key.strip()] = coerce(key.strip(), value)
    return changes


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_preset(name: str) -> Config:
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; available: {', '.join(preset_names())}")
    return load_config_file(path)


def load_config_file(path: str | Path) -> Config:
    """Read a TOML or JSON config file (flat `name = value` pairs)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold name = value pairs")
    data.pop("description", None)
    return Config.from_dict(data)


def preset_description(name: str) -> str:
    data = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    return str(data.get("description", ""))
