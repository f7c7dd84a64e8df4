import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.core.config import (
    FIELDS,
    GROUPS,
    LIVE_FIELDS,
    Config,
    ConfigError,
    coerce,
    load_config_file,
    load_preset,
    parse_assignments,
    preset_names,
)


def test_every_field_is_documented_and_grouped():
    for name, f in FIELDS.items():
        assert f.metadata["help"], name
        assert f.metadata["group"] in GROUPS, name


def test_notebook_preset_has_the_notebooks_hyperparameters():
    c = load_preset("notebook")
    assert (c.learning_rate, c.batch_size, c.hidden_units, c.gradient_clip, c.gamma, c.tau) == (
        1e-3, 64, 64, 1.0, 0.99, 1e-3)
    assert (c.update_interval, c.update_times, c.steps_per_decay, c.memory_capacity) == (5, 1, 200, 1000)
    assert (c.epsilon_start, c.epsilon_end, c.epsilon_decay, c.seed) == (1.0, 0.001, 0.9, 1412)
    assert c.env_id == "MountainCar-v0" and c.target_update == "soft" and not c.bootstrap_on_truncation


def test_all_presets_load():
    names = preset_names()
    assert {"notebook", "cartpole", "acrobot", "lunarlander"} <= set(names)
    for name in names:
        assert isinstance(load_preset(name), Config)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gamma": 1.5}, "gamma = 1.5 is not allowed; allowed: a number from 0 to 1"),
        ({"batch_size": 0}, "batch_size = 0 is not allowed; allowed: an integer from 1 to 65536"),
        ({"batch_size": 3.5}, "batch_size = 3.5 is not allowed"),
        ({"loss": "l1"}, "loss = 'l1' is not allowed; allowed: one of 'mse', 'huber'"),
        ({"double_dqn": "yes"}, "double_dqn = 'yes' is not allowed; allowed: true or false"),
        ({"learning_rate": float("nan")}, "learning_rate = nan is not allowed"),
        ({"epsilon_start": 0.1, "epsilon_end": 0.5}, "epsilon_end = 0.5 is above epsilon_start = 0.1"),
        ({"nonsense": 1}, "unknown parameter 'nonsense'"),
    ],
)
def test_validation_names_field_value_and_what_is_allowed(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config().with_changes(**changes)


def test_set_assignments_are_typed():
    changes = parse_assignments(["learning_rate=5e-4", "batch_size=128", "double_dqn=false",
                                 "solve_threshold=", "network=dueling"])
    assert changes == {"learning_rate": 5e-4, "batch_size": 128, "double_dqn": False,
                       "solve_threshold": None, "network": "dueling"}
    assert Config().with_changes(**changes).batch_size == 128
    with pytest.raises(ConfigError, match="not key=value"):
        parse_assignments(["gamma"])
    with pytest.raises(ConfigError, match="batch_size = 'many'"):
        coerce("batch_size", "many")


def test_live_fields_are_the_ones_the_app_may_change_while_training():
    assert {"learning_rate", "gamma", "tau", "epsilon_decay", "batch_size", "update_interval"} <= LIVE_FIELDS
    assert not {"env_id", "hidden_units", "memory_capacity", "seed", "network"} & LIVE_FIELDS


def test_config_files_toml_and_json(tmp_path):
    (tmp_path / "a.toml").write_text('gamma = 0.95\nbatch_size = 32\n')
    (tmp_path / "b.json").write_text('{"gamma": 0.9, "tau": 0.01}')
    assert load_config_file(tmp_path / "a.toml").batch_size == 32
    assert load_config_file(tmp_path / "b.json").tau == 0.01
    (tmp_path / "bad.toml").write_text("gamma = = 2")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_file(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"unknown preset .nope.; available: .*notebook"):
        load_preset("nope")


def test_round_trip_through_dict_and_diff():
    c = load_preset("cartpole")
    assert Config.from_dict(c.to_dict()) == c
    assert c.diff(c.with_changes(gamma=0.9)) == {"gamma": (c.gamma, 0.9)}


# --- fuzzing: whatever comes in, only ConfigError (one line, capped) comes out ------------
_numberish = st.text(alphabet="0123456789١٢٣.,_eE+- naifNAIF\u00a0", max_size=30)
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(10**500), 10**500), st.floats(),
                    st.text(max_size=200), _numberish, st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_names = st.one_of(st.sampled_from(sorted(FIELDS)), st.text(max_size=20))


def _only_config_error(fn) -> Config | None:
    try:
        return fn()
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 1200, message
        return None


@settings(max_examples=600, deadline=None)
@given(name=_names, value=_values)
def test_any_value_for_any_field_gives_a_valid_config_or_a_config_error(name, value):
    for build in (lambda: Config().with_changes(**{name: coerce(name, value)}),
                  lambda: Config.from_dict({name: value}),
                  lambda: Config().with_changes(**parse_assignments([f"{name}={value}"]))):
        config = _only_config_error(build)
        if config is not None:  # accepted: then it really is valid
            got = getattr(config, name)
            assert not isinstance(got, float) or math.isfinite(got)
            assert type(got) in (type(getattr(Config(), name)), float, type(None))


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.dictionaries(_names, _values, max_size=4), _values),
       suffix=st.sampled_from([".json", ".toml", ".JSON", ".Toml", ".txt"]), raw=st.binary(max_size=64))
def test_any_config_file_gives_a_config_or_a_config_error(data, suffix, raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"c{suffix}"
        path.write_text(json.dumps(data, default=str))
        _only_config_error(lambda: load_config_file(path))
        path.write_bytes(raw)
        _only_config_error(lambda: load_config_file(path))


@pytest.mark.parametrize(("text", "value"), [("5e-4", 5e-4), ("+0.5", 0.5), (".5", 0.5), ("1E3", 1000.0)])
def test_numbers_are_plain_ascii_decimal_or_scientific(text, value):
    assert coerce("learning_rate", text) == value
    assert coerce("memory_capacity", "1e5") == 100_000 and coerce("memory_capacity", "50000") == 50_000
    for bad in ("1,000", "1_000", "١٢", "0x10", "1e5.5", "inf", "nan", "½"):
        with pytest.raises(ConfigError):
            coerce("memory_capacity", bad)


def test_typed_sources_never_turn_text_into_numbers():
    for bad in ({"gamma": "0.5"}, {"double_dqn": "true"}, {"batch_size": 64.0}, {"seed": True}):
        with pytest.raises(ConfigError):
            Config.from_dict(bad)
    assert Config.from_dict({"gamma": 1}).gamma == 1.0  # an integer where a number goes is fine


def test_messages_cap_what_they_echo_and_print_limits_as_typed():
    with pytest.raises(ConfigError) as info:
        coerce("seed", "7" * 5000)
    assert len(str(info.value)) < 200 and "2147483647" in str(info.value) and "e+09" not in str(info.value)


def test_a_config_file_saved_with_a_byte_order_mark_loads(tmp_path):
    for suffix, text in ((".toml", "gamma = 0.95\n"), (".json", '{"gamma": 0.95}')):
        path = tmp_path / f"bom{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert load_config_file(path).gamma == 0.95
