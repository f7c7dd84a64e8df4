"""Every hyperparameter of a run: default, allowed values, explanation, and whether it can change live.

`Config` is the single source of truth. Presets, `--set key=value`, agent files and the GUI's
parameter panel all use these field names; the panel is generated from the metadata here.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field
from importlib import resources
from itertools import accumulate
from pathlib import Path
from typing import Any

from sandbox.core.env_profiles import SHAPING_ENVS
from sandbox.core.envs import SUGGESTED_ENVS, env_id_problem
from sandbox.io.files import PathError, read_regular, shown_path, strict_json
from sandbox.io.text import escaped, shown  # `shown` is also imported from here across the package

MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_DEVICE = "cpu"  # for nets this small, a GPU's per-step synchronisation costs more than it saves
# A config is flat `name = value` pairs (about 40 fields). Its text is measured against these bounds
# before a parser sees it: tomllib's work grows with the square of a dotted key's depth (120 KB of
# `gamma.a.a.… = 1` asks for gigabytes), and nesting is parsed by recursion. Real configs have no
# dotted keys and no brackets; the bounds leave room for comments and a description.
MAX_CONFIG_KEYS = 500  # '=' signs (TOML) or ':' signs (JSON), and TOML table headers
MAX_KEY_DOTS = 64  # dots in the keys of one TOML line
MAX_NESTING = 32  # brackets and braces open at once
MAX_LEARNING_WORK = 2e10  # FLOP per env step: a file or a field can ask for heavy learning, never for a hang
# Package data (setup.cfg [options.package_data]): found the same way in a checkout, an editable
# install and a wheel.
PRESETS = resources.files("sandbox.resources") / "presets"

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
    tune: tuple[float, float] | None = None,
) -> Any:
    """A config field with the metadata the validator, the parameter panel and the Tune space read.

    `recommended` is prose for a person (the panel's tooltip); `tune` is the range a search explores
    by default, as numbers (choices and booleans search all their values; fields without a range
    are not searched unless a range is given).
    """
    meta = {
        "help": help,
        "group": group,
        "live": live,
        "low": low,
        "high": high,
        "choices": choices,
        "recommended": recommended,
        "tune": tune,
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
                                 low=0.0, high=1000.0, recommended="1 – 100", tune=(1, 100))
    bootstrap_on_truncation: bool = param(True, "Keep bootstrapping when the time limit cuts an episode "
                                          "(correct). Off = the notebook's behaviour: the 200-step cut-off "
                                          "is treated as a terminal state. The trade-off: on, with a sparse "
                                          "reward, the loss rises sharply when the goal is first reached (expected), "
                                          "and learning can be slower with few gradient steps per env step.",
                                          "Environment")
    normalize_observations: bool = param(False, "Rescale observations to [-1, 1] using the observation "
                                         "space's bounds (where they are finite).", "Environment")
    # Network
    network: str = param("mlp", "Q-network kind: 'mlp' (the notebook's 3-layer net) or 'dueling' "
                         "(separate value and advantage heads).", "Network", choices=("mlp", "dueling"))
    hidden_units: int = param(64, "Units in each hidden layer.", "Network", low=1, high=4096,
                              recommended="64 – 512", tune=(64, 512))
    hidden_layers: int = param(2, "Number of hidden layers.", "Network", low=1, high=6, recommended="2", tune=(1, 6))
    # Learning
    learning_rate: float = param(1e-3, "Adam step size.", "Learning", live=True, low=1e-7, high=1.0,
                                 recommended="1e-4 – 1e-3", tune=(0.0001, 0.001))
    batch_size: int = param(64, "Transitions sampled from memory per gradient step.", "Learning", live=True,
                            low=1, high=65536, recommended="64 – 256", tune=(64, 256))
    gamma: float = param(0.99, "Discount factor for future rewards.", "Learning", live=True, low=0.0, high=1.0,
                         recommended="0.95 – 0.999", tune=(0.95, 0.999))
    loss: str = param("mse", "TD loss: 'mse' (notebook) or 'huber' (robust to large errors).", "Learning",
                      live=True, choices=("mse", "huber"))
    double_dqn: bool = param(True, "Double DQN: the online net picks the next action, the target net "
                             "scores it (reduces over-estimation).", "Learning", live=True)
    gradient_clip: float = param(1.0, "Clip the gradient's global norm to this value (0 = no clipping).",
                                 "Learning", live=True, low=0.0, high=1e6, recommended="1 – 10", tune=(1, 10))
    update_interval: int = param(5, "Learn every this many env steps. update_times / update_interval is the "
                                 "number of gradient steps per env step; DQN on these tasks usually needs ≥ 0.5.",
                                 "Learning", live=True, low=1, high=100000,
                                 recommended="1 – 2 with update_times 1 (the notebook's 5 gives 0.2)", tune=(1, 16))
    update_times: int = param(1, "Gradient steps each time the agent learns.", "Learning", live=True, low=1,
                              high=1000, recommended="1 – 8", tune=(1, 8))
    n_step: int = param(1, "Multi-step returns: learn from the discounted sum of the next n rewards plus "
                        "the value n steps later (1 = one-step DQN). Larger n spreads a rare reward "
                        "back faster.", "Learning", low=1, high=100, recommended="1 – 10", tune=(1, 10))
    learning_starts: int = param(0, "Env steps before the first gradient step (memory must also hold a "
                                 "batch).", "Learning", live=True, low=0, high=10**9, tune=(0, 10_000))
    # Exploration
    epsilon_start: float = param(1.0, "Probability of a random action at the start.", "Exploration", live=True,
                                 low=0.0, high=1.0, tune=(0, 1))
    epsilon_end: float = param(0.001, "Lowest exploration probability.", "Exploration", live=True, low=0.0,
                               high=1.0, recommended="0.001 – 0.05", tune=(0.001, 0.05))
    epsilon_decay: float = param(0.9, "Epsilon is multiplied by this every `steps_per_decay` env steps.",
                                 "Exploration", live=True, low=0.0, high=1.0,
                                 recommended="0.9 – 0.999", tune=(0.9, 0.999))
    steps_per_decay: int = param(200, "Env steps between two epsilon decays (the notebook's `tpe`).",
                                 "Exploration", live=True, low=1, high=10**9, tune=(50, 5000))
    explore_duration: int = param(1, "ez-greedy: a random action is held for a heavy-tailed number of steps, "
                                  "at most this many (1 = plain epsilon-greedy). Long holds build momentum.",
                                  "Exploration", live=True, low=1, high=10000,
                                  recommended="1, or 10 – 100", tune=(1, 100))
    # Replay memory
    memory_capacity: int = param(1000, "Transitions kept in the replay memory (oldest dropped first).",
                                 "Replay memory", low=1, high=10**8,
                                 recommended="10,000 – 100,000", tune=(10_000, 100_000))
    # Target network
    target_update: str = param("soft", "'soft': blend tau of the online net into the target every step; "
                               "'hard': copy it every `target_update_interval` steps.", "Target network",
                               live=True, choices=("soft", "hard"))
    tau: float = param(1e-3, "Soft-update blend factor per step.", "Target network", live=True, low=0.0, high=1.0,
                       recommended="1e-3 – 1e-2", tune=(0.001, 0.01))
    target_update_interval: int = param(1000, "Env steps between hard copies.", "Target network", live=True,
                                        low=1, high=10**9, recommended="500 – 10,000", tune=(500, 10_000))
    # Run
    seed: int = param(1412, "Seeds the network, the env, exploration and memory sampling.", "Run", low=0,
                      high=2**31 - 1)
    max_episodes: int = param(1000, "Training stops after this many episodes.", "Run", live=True, low=1,
                              high=10**9)
    solve_rule: str = param("greedy", "When a run counts as solved. 'greedy': a periodic evaluation of the "
                            "greedy policy (no exploration, no learning) on its own env and the env's true reward "
                            "reaches the threshold. 'training_mean': the notebook's rule, the moving average of the "
                            "training episodes (exploration and shaping included, so it lags the agent).", "Run",
                            live=True, choices=("greedy", "training_mean"))
    solve_threshold: float | None = param(None, "The score that counts as solved (empty = the env's registered "
                                          "threshold).", "Run", live=True)
    eval_every: int = param(20, "Training episodes between two greedy evaluations (solve_rule 'greedy').", "Run",
                            live=True, low=1, high=10**6, recommended="10 – 50")
    eval_episodes: int = param(100, "Greedy episodes in each evaluation; their mean is compared with the "
                               "threshold.", "Run", live=True, low=1, high=10000, recommended="100")
    solve_window: int = param(100, "Episodes in the training moving average (the 'training_mean' rule and the "
                              "score plot's curve).", "Run", live=True, low=1, high=100000)
    stop_when_solved: bool = param(True, "Stop training once solved.", "Run", live=True)
    device: str = param(DEFAULT_DEVICE, "Torch device for this run: 'cpu' (for nets this small, faster than a GPU's "
                        "per-step synchronisation), 'cuda', or 'auto' (cuda when available). The running machine's "
                        "choice, not the agent's: a saved agent opens on whichever device is chosen then.", "Run",
                        choices=("auto", "cpu", "cuda"))
    backend: str = param("fast", "How each learning step is computed: 'fast' (flat buffers, a hand-written backward "
                         "pass, numpy on the CPU: several times quicker for nets this small) or 'reference' (the "
                         "textbook step: autograd, torch.optim.Adam, clip_grad_norm_). The same maths; a test holds "
                         "the two together. A run resumes exactly on the backend it was trained with.", "Run",
                         choices=("fast", "reference"))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check(f, getattr(self, f.name))
        if self.reward_shaping == "potential" and self.env_id not in SHAPING_ENVS:
            raise ConfigError(f"reward_shaping = 'potential' is defined for {', '.join(SHAPING_ENVS)} only, not "
                              f"{self.env_id}; allowed here: 'none'")
        if (work := self.learning_work()) > MAX_LEARNING_WORK:
            raise ConfigError(
                f"this config asks for ~{work / 1e9:,.0f} GFLOP of learning per env step (batch_size × update_times "
                f"/ update_interval × the net's size); allowed: at most {MAX_LEARNING_WORK / 1e9:.0f} (seconds per "
                "step on a CPU already)")
        if self.epsilon_end > self.epsilon_start:
            raise ConfigError(
                f"epsilon_end = {self.epsilon_end} is above epsilon_start = {self.epsilon_start}; "
                "allowed: epsilon_end <= epsilon_start"
            )

    def learning_work(self) -> float:
        """Floating-point operations of learning per env step, roughly: each update runs the net
        forward and backward on the batch (~6 per weight) and forward twice on next states (~4)."""
        weights = self.hidden_units**2 * (self.hidden_layers - 1) + 16 * self.hidden_units
        return 10 * weights * self.batch_size * self.update_times / self.update_interval

    def with_changes(self, **changes: Any) -> Config:
        """A new validated config; unknown names raise ConfigError listing the known ones."""
        for name in changes:
            if name not in FIELDS:
                raise ConfigError(f"unknown parameter {shown(name)}; known: {', '.join(FIELDS)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Config:
        """A config from typed values (JSON, TOML, an agent file); fields not given keep their defaults."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be name = value pairs, not {type(data).__name__}")
        return cls().with_changes(**{str(k): typed(str(k), v) for k, v in data.items()})

    def diff(self, other: Config) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: name -> (self's value, other's value)."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Config)}
LIVE_FIELDS = frozenset(name for name, f in FIELDS.items() if f.metadata["live"])


def _value_kind(annotation: Any) -> tuple[type, bool]:
    """(the type a field's values have, whether it may be None), from its resolved annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return (args[0], True) if args else (annotation, False)


# Each field's value type as a type object (int, float, bool, str), from the class's resolved type
# hints: what validation, coercion, the panel and the Tune space test against.
_KINDS = {name: _value_kind(hint) for name, hint in typing.get_type_hints(Config).items()}
KIND: dict[str, type] = {name: kind for name, (kind, _) in _KINDS.items()}
NULLABLE = frozenset(name for name, (_, nullable) in _KINDS.items() if nullable)


def allowed(name: str) -> str:
    """Human description of what a field accepts, e.g. 'a number from 0 to 1'."""
    f = FIELDS[name]
    m = f.metadata
    if m["choices"]:
        return "one of " + ", ".join(repr(c) for c in m["choices"])
    if KIND[name] is bool:
        return "true or false"
    if name == "env_id":
        return "a registered Gymnasium id without a module part, e.g. " + ", ".join(SUGGESTED_ENVS)
    if name == "solve_threshold":
        return "a number, or empty for the env's threshold"
    kind = "an integer" if KIND[name] is int else "a number"
    if m["low"] is not None and m["high"] is not None:
        return f"{kind} from {_number(m['low'], KIND[name])} to {_number(m['high'], KIND[name])}"
    return kind if KIND[name] is not str else "a text"


def _number(value: float, kind: type) -> str:
    return str(int(value)) if kind is int else f"{value:g}"  # as it must be typed: no separators


def _check(f: dataclasses.Field, value: Any) -> None:
    m = f.metadata
    bad = ConfigError(f"{f.name} = {shown(value)} is not allowed; allowed: {allowed(f.name)}")
    kind = KIND[f.name]
    if f.name in NULLABLE and value is None:
        return
    if kind is bool:
        if not isinstance(value, bool):
            raise bad
        return
    if kind is str:
        if not isinstance(value, str) or not value or (m["choices"] and value not in m["choices"]):
            raise bad
        if f.name == "env_id" and (problem := env_id_problem(value)):
            raise ConfigError(f"env_id = {shown(value)} is not allowed: {problem}; allowed: {allowed('env_id')}")
        return
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise bad
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    if (m["low"] is not None and value < m["low"]) or (m["high"] is not None and value > m["high"]):
        raise bad


def check_value(name: str, value: Any) -> None:
    """ConfigError unless `value` is allowed for field `name` on its own (no cross-field rules)."""
    _check(FIELDS[name], value)


def typed(name: str, value: Any) -> Any:
    """A value from a typed source (JSON, TOML, an agent file) as the field's type, or ConfigError.

    Typed sources must use their own types: no strings for numbers or booleans, no floats for
    integers. The one conversion is an integer where a number is expected (`gamma = 1`).
    """
    if name not in FIELDS:
        raise ConfigError(f"unknown parameter {shown(name)}; known: {', '.join(FIELDS)}")
    if KIND[name] is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{name} = {shown(value)} is not allowed; allowed: {allowed(name)}") from None
    return value


# One way to write a number: plain ASCII digits, an optional sign, decimal point and exponent.
_INT_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
MAX_TEXT = 64


def coerce(name: str, value: Any) -> Any:
    """Convert text (from `--set`, the panel) to the field's type; ConfigError if impossible.

    Non-text values go through `typed`. Numbers are plain ASCII digits (`1e-3`, `50000`): no
    thousands separators, underscores, other scripts' digits, `nan` or `inf`.
    """
    if not isinstance(value, str):
        return typed(name, value)
    if name not in FIELDS:
        raise ConfigError(f"unknown parameter {shown(name)}; known: {', '.join(FIELDS)}")
    kind = KIND[name]
    bad = ConfigError(f"{name} = {shown(value)} is not allowed; allowed: {allowed(name)}")
    text = value.strip()
    if len(text) > MAX_TEXT and kind is not str:
        raise bad
    if kind is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise bad
    if kind is int:
        if _INT_TEXT.fullmatch(text):
            return int(text)
        if _FLOAT_TEXT.fullmatch(text):  # 1e5 is an integer written in scientific notation
            as_float = float(text)
            if math.isfinite(as_float) and as_float.is_integer():
                return int(as_float)
        raise bad
    if kind is float:
        if name in NULLABLE and text.lower() in ("", "none", "auto"):
            return None
        if not _FLOAT_TEXT.fullmatch(text):
            raise bad
        return float(text)
    return text


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """Parse `key=value` strings into typed changes (unvalidated ranges; Config validates)."""
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {shown(item)} is not key=value")
        changes[key.strip()] = coerce(key.strip(), value)
    return changes


def preset_names() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in PRESETS.iterdir() if p.name.endswith(".toml") and p.is_file())


def load_preset(name: str) -> Config:
    if name not in preset_names():  # also keeps a name like '../x' from reaching the file system
        raise ConfigError(f"unknown preset {shown(name)}; available: {', '.join(preset_names())}")
    with resources.as_file(PRESETS / f"{name}.toml") as path:  # a real file unless installed zipped
        return load_config_file(path)


def load_config_file(path: str | Path) -> Config:
    """Read a TOML or JSON config file (flat `name = value` pairs); the suffix says which.

    Whatever the file holds, the answer is a Config or one ConfigError line.
    """
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("toml", "json"):
        raise ConfigError(f"config file {shown_path(path)} must end in .toml or .json")
    where = f"config file {shown_path(path)}"
    try:
        raw = read_regular(path, MAX_CONFIG_BYTES, "config file")
        return _parse_config(raw, kind, where)
    except PathError as exc:
        raise ConfigError(str(exc)) from None
    except MemoryError:
        raise ConfigError(f"{where} is too large to read in the memory available") from None


def parse_bounded(raw: bytes, kind: str, where: str) -> dict[str, Any]:
    """The table a TOML or JSON file's bytes hold, its text measured before a parser sees it (config
    files here, lesson files in sandbox.app.lesson); one ConfigError line for anything else."""
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as some Windows editors write, is not a key
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text") from None
    if problem := _shape_problem(text, kind):
        raise ConfigError(f"{where} {problem}; it must hold flat name = value pairs")
    try:
        data = strict_json(text) if kind == "json" else tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{where} is nested too deeply; it must hold name = value pairs") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:  # also a decimal integer longer than Python converts
        raise ConfigError(f"{where} is not valid {kind.upper()}: {escaped(str(exc)[:120])}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold name = value pairs")
    return data


def _parse_config(raw: bytes, kind: str, where: str) -> Config:
    data = parse_bounded(raw, kind, where)
    data.pop("description", None)
    try:
        return Config.from_dict(data)
    except RecursionError:
        raise ConfigError(f"{where} holds a value nested too deeply to check") from None


_TOML_KEY_LINE = re.compile(r"^[ \t]*\[[^\n]*|^[^\n]*=", re.MULTILINE)  # a header line; a line up to its last '='
_BRACKET_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _shape_problem(text: str, kind: str) -> str | None:
    """What makes `text` too costly to parse, or None; linear in its length.

    A TOML key lies on one line, so the dots before a line's last '=' (or on a header line) bound
    its depth; an '=' or a dot inside a string only makes the count larger. Brackets inside strings
    can hide nesting from the count: the parsers' recursion limit (RecursionError, caught) is then
    what stops them.
    """
    sign = "=" if kind == "toml" else ":"
    if (signs := text.count(sign)) > MAX_CONFIG_KEYS:
        return f"holds {signs:,} {sign!r} signs, more than the {MAX_CONFIG_KEYS:,} a config may"
    if kind == "toml":
        for count, match in enumerate(_TOML_KEY_LINE.finditer(text), 1):
            if count > MAX_CONFIG_KEYS:
                return f"holds more than {MAX_CONFIG_KEYS:,} keys and tables"
            if (dots := match.group().count(".")) > MAX_KEY_DOTS:
                return f"has a key with {dots:,} dots (at most {MAX_KEY_DOTS} are allowed)"
    steps = map(_BRACKET_STEPS.__getitem__, _NOT_BRACKETS.sub("", text))
    depth = max(accumulate(steps, lambda level, step: max(level + step, 0), initial=0))
    if depth > MAX_NESTING:
        return f"is nested too deeply ({depth:,} levels of brackets; at most {MAX_NESTING})"
    return None


def preset_description(name: str) -> str:
    data = tomllib.loads((PRESETS / f"{name}.toml").read_text(encoding="utf-8"))
    return str(data.get("description", ""))
