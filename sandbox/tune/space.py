"""The search space of `tune`, generated from `Config`'s field metadata.

Numbers search `low`..`high`, narrowed to the field's `recommended` range where it gives one;
integers are int distributions; a range whose low is above 0 and whose high is at least ten times
its low (learning rates, tau, memory sizes, intervals) is searched on a log scale; `choices` fields
and booleans are categorical. The user narrows a field with `--set name=low..high` (numbers) or
`--set name=a,b` (choices, booleans); a plain `--set name=value` fixes the field as `train --set` does,
except for the fields a trial sets itself (`SET_BY_TUNE`: its episodes, stop and solve rule): fixing
one of those would be accepted and ignored, so it is refused with what decides it instead.

A space read back from a study's storage is checked as strictly as one built from arguments
(`space_from_json`): another machine or an attacker wrote it, and Optuna would otherwise fail each
trial on it, or search a field that says what is run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sandbox.core.config import FIELDS, KIND, ConfigError, allowed, check_value, coerce, typed
from sandbox.io.text import shown

# What `tune` searches when --params is not given: the fields that decide whether MountainCar is solved.
DEFAULT_PARAMS = ("learning_rate", "batch_size", "gamma", "update_interval", "update_times", "n_step",
                  "epsilon_decay", "steps_per_decay", "explore_duration", "memory_capacity",
                  "target_update_interval", "hidden_units", "loss")
# Fields that say what is run or how it is judged, never how it learns.
NOT_TUNABLE = frozenset({"env_id", "seed", "device", "backend", "max_episodes", "solve_threshold", "solve_window",
                         "stop_when_solved", "solve_rule", "eval_every", "eval_episodes"})
# Fields a trial sets itself (`SeedRun` in search.py): a `--set` of one would be accepted and ignored,
# so it is refused, naming what decides it instead.
SET_BY_TUNE = {
    "max_episodes": "trials run to --budget (env steps per seed), however many episodes that takes",
    "stop_when_solved": "a seed stops once solved with --objective steps and runs to --budget with --objective score",
    "solve_rule": "trials are judged by greedy evaluations (--eval-every, --eval-episodes)",
    "eval_every": "give --eval-every instead",
    "eval_episodes": "give --eval-episodes instead",
}
# Default ranges for fields whose metadata allows far more than is worth searching and names no
# recommended range (steps_per_decay allows 1 to 10^9).
LOG_RATIO = 10  # a positive range spanning this factor or more is searched on a log scale
DIST_KEYS = ("name", "kind", "low", "high", "log", "choices")  # a stored distribution's keys, all of them


class TuneError(ConfigError):
    """A bad tune argument (name, range, storage, study): one line and exit code 2."""


@dataclass(frozen=True)
class Dist:
    """One searched field: `kind` is 'float', 'int' or 'categorical'."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of a range (a categorical field has none)."""
        assert self.low is not None and self.high is not None, f"{self.name} is searched over choices"
        return self.low, self.high

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"{self.name}: one of {', '.join(_text(c) for c in self.choices)}"
        scale = ", log" if self.log else ""
        return f"{self.name}: {_text(self.low)} .. {_text(self.high)} ({self.kind}{scale})"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high, "log": self.log,
                "choices": list(self.choices)}

    @classmethod
    def from_json(cls, name: str, data: Any) -> Dist:
        """A stored distribution of field `name`, checked against the field; TuneError saying what is wrong."""
        _check_tunable(name, "space")
        if not isinstance(data, dict):
            raise TuneError(f"space {name}: not a JSON object")
        if sorted(data) != sorted(DIST_KEYS):
            odd = sorted(set(data) ^ set(DIST_KEYS), key=str)
            raise TuneError(f"space {name}: keys {', '.join(shown(k) for k in odd[:5])} are wrong; "
                            f"a distribution has {', '.join(DIST_KEYS)}")
        if data["name"] != name:
            raise TuneError(f"space {name}: the distribution is named {shown(data['name'])}")
        kind = _kind(name)
        if data["kind"] != kind:
            raise TuneError(f"space {name}: kind {shown(data['kind'])}; {name} is a {kind} parameter")
        if kind == "categorical":
            return cls(name, kind, choices=_stored_choices(name, data))
        if data["choices"] != [] or not isinstance(data["log"], bool):
            raise TuneError(f"space {name}: a range has no choices and log true or false")
        low, high = (_stored_value(name, data[key]) for key in ("low", "high"))
        if low > high:
            raise TuneError(f"space {name}: the range {shown(low)}..{shown(high)} is reversed")
        if data["log"] and low <= 0:
            raise TuneError(f"space {name}: a log scale needs a range above 0, not from {shown(low)}")
        return cls(name, kind, low, high, data["log"])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


MAX_CHOICES = 100  # choices of one stored categorical field; the fields' own lists are far shorter


def _kind(name: str) -> str:
    f = FIELDS[name]
    if f.metadata["choices"] or KIND[f.name] is bool:
        return "categorical"
    return "int" if KIND[f.name] is int else "float"


def _stored_value(name: str, value: Any) -> Any:
    try:
        value = typed(name, value)
        check_value(name, value)
    except ConfigError as exc:
        raise TuneError(f"space {exc}") from None
    return value


def _stored_choices(name: str, data: dict[str, Any]) -> tuple[Any, ...]:
    choices = data["choices"]
    if data["low"] is not None or data["high"] is not None or data["log"] is not False or not isinstance(choices, list):
        raise TuneError(f"space {name}: a categorical field has a list of choices, no range and no log scale")
    if not choices:
        raise TuneError(f"space {name}: names no choices")
    if len(choices) > MAX_CHOICES:
        raise TuneError(f"space {name}: {len(choices):,} choices; allowed: at most {MAX_CHOICES}")
    values: list[Any] = []
    for choice in choices:
        value = _stored_value(name, choice)
        if value in values:
            raise TuneError(f"space {name}: {shown(value)} is named twice")
        values.append(value)
    return tuple(values)


def space_from_json(data: Any) -> dict[str, Dist]:
    """A stored search space, every field checked as `--params` and `--set` check theirs; TuneError."""
    if not isinstance(data, dict):
        raise TuneError(f"its space is a {type(data).__name__}, not a JSON object")
    if not data:
        raise TuneError("its space names no parameter")
    return {name: Dist.from_json(name, dist) for name, dist in data.items()}


def tunable() -> list[str]:
    """Every field `tune` can search."""
    return [name for name, f in FIELDS.items() if name not in NOT_TUNABLE
            and (f.metadata["choices"] or KIND[f.name] is bool
                 or (f.metadata["low"] is not None and f.metadata["high"] is not None))]


def _check_tunable(name: str, flag: str) -> None:
    if name not in FIELDS:
        raise TuneError(f"{flag}: unknown parameter {shown(name)}; tunable: {', '.join(tunable())}")
    if name not in tunable():
        raise TuneError(f"{flag}: {name} cannot be tuned (it says what is run or how it is judged); "
                        f"tunable: {', '.join(tunable())}")


def _numeric(name: str, low: float, high: float) -> Dist:
    f = FIELDS[name]
    kind = "int" if KIND[f.name] is int else "float"
    if kind == "int":
        low, high = int(low), int(high)
    else:
        low, high = float(low), float(high)
    return Dist(name, kind, low, high, log=low > 0 and high >= LOG_RATIO * low)


def default_dist(name: str) -> Dist:
    """The field's default search range from its metadata."""
    _check_tunable(name, "--params")
    f = FIELDS[name]
    m = f.metadata
    if m["choices"]:
        return Dist(name, "categorical", choices=tuple(m["choices"]))
    if KIND[f.name] is bool:
        return Dist(name, "categorical", choices=(False, True))
    low, high = m["tune"]  # every tunable number field has one (a test checks)
    low, high = max(low, m["low"]), min(high, m["high"])
    return _numeric(name, low, high)


def _narrowed(name: str, text: str) -> Dist:
    """A `--set name=low..high` or `--set name=a,b` value as a distribution, checked against the field."""
    f = FIELDS[name]
    m = f.metadata
    if ".." in text:
        if m["choices"] or KIND[f.name] is bool:
            raise TuneError(f"--set {name}={shown(text)}: {name} takes choices (a,b), not a range; "
                            f"allowed: {allowed(name)}")
        low_text, _, high_text = text.partition("..")
        try:
            low, high = coerce(name, low_text), coerce(name, high_text)
        except ConfigError:
            raise TuneError(f"--set {name}={shown(text)}: the range must be two values, each "
                            f"{allowed(name)}") from None
        if (m["low"] is not None and low < m["low"]) or (m["high"] is not None and high > m["high"]):
            raise TuneError(f"--set {name}={shown(text)} is outside the field's range; allowed: {allowed(name)}")
        if low > high:
            raise TuneError(f"--set {name}={shown(text)} is reversed; write low..high")
        return _numeric(name, low, high)
    values = []
    for part in text.split(","):
        try:
            value = coerce(name, part)
        except ConfigError:
            raise TuneError(f"--set {name}={shown(text)}: {shown(part.strip())} is not allowed; "
                            f"allowed: {allowed(name)}") from None
        if m["choices"] and value not in m["choices"]:
            raise TuneError(f"--set {name}={shown(text)}: {shown(value)} is not allowed; allowed: {allowed(name)}")
        if value not in values:
            values.append(value)
    if not (m["choices"] or KIND[f.name] is bool):
        raise TuneError(f"--set {name}={shown(text)}: {name} is a number; narrow it with low..high")
    return Dist(name, "categorical", choices=tuple(values))


def build_space(params: list[str] | None, sets: list[str]) -> tuple[dict[str, Dist], dict[str, Any]]:
    """(the searched fields, the fixed changes) from `--params a,b` and `--set` items.

    A `--set` with a range (`low..high`) or a list (`a,b`) searches that field (added to the space
    if --params did not name it); a plain value fixes the field and takes it out of the space.
    """
    names = list(DEFAULT_PARAMS) if params is None else params
    if not names:
        raise TuneError("--params: name at least one parameter")
    space: dict[str, Dist] = {}
    for name in names:
        space[name] = default_dist(name)
    fixed: dict[str, Any] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep:
            raise TuneError(f"--set {shown(item)} is not name=low..high, name=a,b or name=value")
        is_range = ".." in value or ("," in value and (name not in FIELDS or name not in tunable()
                                                       or FIELDS[name].metadata["choices"]
                                                       or KIND[name] is bool))
        if is_range:
            _check_tunable(name, "--set")
            space[name] = _narrowed(name, value)
        else:
            if name not in FIELDS:
                raise TuneError(f"--set: unknown parameter {shown(name)}; known: {', '.join(FIELDS)}")
            if name in SET_BY_TUNE:
                raise TuneError(f"--set {name}: tune does not use it: {SET_BY_TUNE[name]}")
            try:
                fixed[name] = coerce(name, value)
            except ConfigError as exc:
                raise TuneError(f"--set {exc}") from None
            space.pop(name, None)
    if not space:
        raise TuneError("nothing left to search: every parameter was fixed with --set")
    return space, fixed


def parse_params(text: str) -> list[str]:
    """`--params a,b,c` as names, each checked."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        _check_tunable(name, "--params")
    return names


def optuna_distribution(dist: Dist) -> Any:
    import optuna

    if dist.kind == "categorical":
        return optuna.distributions.CategoricalDistribution(list(dist.choices))
    low, high = dist.bounds
    if dist.kind == "int":
        return optuna.distributions.IntDistribution(int(low), int(high), log=dist.log)
    return optuna.distributions.FloatDistribution(float(low), float(high), log=dist.log)


def suggest(trial: Any, space: dict[str, Dist]) -> dict[str, Any]:
    """The trial's values for every searched field (an optuna.Trial)."""
    values: dict[str, Any] = {}
    for name, dist in space.items():
        if dist.kind == "categorical":
            values[name] = trial.suggest_categorical(name, list(dist.choices))
        elif dist.kind == "int":
            low, high = dist.bounds
            values[name] = trial.suggest_int(name, int(low), int(high), log=dist.log)
        else:
            low, high = dist.bounds
            value = trial.suggest_float(name, float(low), float(high), log=dist.log)
            values[name] = value if math.isfinite(value) else low
    return values
