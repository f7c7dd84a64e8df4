"""Config files are bounded before a parser sees them: whatever the text, a Config or one ConfigError line.

tomllib's cost grows with the square of a dotted key's depth (120 KB of `gamma.a.a.… = 1` asks for
more than 3 GB), a TOML hex integer can be longer than `repr` will write, and deep headers nest
deeper than `repr` recurses. The attacks run in a subprocess under a memory limit and a timeout:
on code without the bounds they exhaust memory instead of failing a test.
"""

import json
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.core.config import (
    FIELDS,
    MAX_CONFIG_KEYS,
    MAX_KEY_DOTS,
    MAX_NESTING,
    Config,
    ConfigError,
    load_config_file,
)

ROOT = Path(__file__).resolve().parent.parent
# Imports everything, then allows 1 GB more address space than the process holds, and trains on
# each config file in turn: per file, the exit code and what reached stdout and stderr.
_LIMITED = """
import contextlib, io, json, resource, sys
import main
size = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 1024**3, resource.RLIM_INFINITY))
results = {}
for path in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main.main(['train', '--config', path, '--episodes', '1', '--quiet', '--eval-episodes', '0'])
        except BaseException as exc:  # what must never happen: reported, not raised
            code, err = -1, io.StringIO(f'RAISED {type(exc).__name__}: {str(exc)[:500]}')
    results[path] = {'code': code, 'out': out.getvalue(), 'err': err.getvalue()}
print(json.dumps(results))
"""
HEX = "0x" + "f" * 5000
BOMBS = [  # name, text, what the one line must say
    ("dotted.toml", "gamma" + ".a" * 60_000 + ".b = 1\n", "a key with 60,001 dots"),
    ("quoted.toml", "gamma" + '."="' * 400 + " = 1\n", "a key with 400 dots"),  # its '=' signs split nothing
    ("inline.toml", "gamma = {" + "a." * 30_000 + "b = 1}\n", "a key with 30,000 dots"),
    ("header.toml", "[gamma" + ".a" * 20_000 + "]\nb = 1\n", "a key with 20,000 dots"),
    ("arrays.toml", "[[" + "a." * 20_000 + "b]]\n", "a key with 20,000 dots"),
    ("many.toml", "".join(f"x{i} = 1\n" for i in range(20_000)), "20,000 '=' signs"),
    ("tables.toml", "".join(f"[x{i}]\n" for i in range(20_000)), "more than 500 keys and tables"),
    ("many.json", json.dumps({f"x{i}": 1 for i in range(20_000)}), "20,000 ':' signs"),
    ("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
    ("deep.json", '{"a": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
    ("objects.json", '{"a": ' * 400 + "1" + "}" * 400, "nested too deeply"),
    # values `repr` cannot write: too many digits, too deep
    ("hex_seed.toml", f"seed = {HEX}\n", "seed = an integer of about 6,020 digits is not allowed"),
    ("hex_gamma.toml", f"gamma = {HEX}\n", "gamma = an integer of about 6,020 digits is not allowed"),
    ("hex_unknown.toml", f"x = {HEX}\n", "unknown parameter 'x'"),
    ("header_50.toml", "[gamma" + ".a" * 50 + "]\nb = 1\n", "gamma = {'a': {'a': "),
    ("digits.toml", "seed = " + "9" * 5000 + "\n", "not valid TOML: Exceeds the limit (4300 digits)"),
]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("bombs")
    paths = []
    for name, text, _ in BOMBS:
        (folder / name).write_text(text)
        paths.append(str(folder / name))
    proc = subprocess.run([sys.executable, "-c", _LIMITED, *paths], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {Path(path).name: result for path, result in json.loads(proc.stdout).items()}


@pytest.mark.parametrize(("name", "message"), [(name, message) for name, _, message in BOMBS])
def test_parser_bombs_are_one_line_under_a_memory_limit(refusals, name, message):
    got = refusals[name]
    lines = got["err"].strip().splitlines()
    assert got["code"] == 2 and got["out"] == "" and len(lines) == 1, got
    assert lines[0].startswith("error: ") and message in lines[0] and len(lines[0]) < 700, lines


# Loads a config once, then again with only a little more address space than the process holds.
_SHORT_OF_MEMORY = """
import resource, sys
from sandbox.core.config import ConfigError, load_config_file
load_config_file('resources/presets/notebook.toml')
size = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 512 * 1024, resource.RLIM_INFINITY))
try:
    load_config_file(sys.argv[1])
except ConfigError as exc:
    outcome = f'ConfigError: {exc}'
except BaseException as exc:
    outcome = f'RAISED {type(exc).__name__}'
else:
    outcome = 'loaded'
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print(outcome)
"""


def test_running_out_of_memory_is_one_config_error(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text('description = "' + "x" * 1_000_000 + '"\ngamma = 0.5\n')
    proc = subprocess.run([sys.executable, "-c", _SHORT_OF_MEMORY, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.strip() == f"ConfigError: config file {path} is too large to read in the memory available"


def test_the_bounds_fit_every_preset_with_room_to_spare():
    """A real config is flat `name = value` pairs; the limits leave it far more room than it needs."""
    assert 4 * len(FIELDS) <= MAX_CONFIG_KEYS and MAX_NESTING >= 8 and MAX_KEY_DOTS >= 8
    text = "\n".join(f"# {name}: a comment with a = sign. And dots... 1.5 2.5" for name in FIELDS)
    text += '\ndescription = """A long description. It has many sentences. x = 1. [a] {b}"""\ngamma = 0.9\n'
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_text(text)
        assert load_config_file(path).gamma == 0.9


# --- fuzzing: texts built from the parts that hurt, at sizes a pre-scan must catch -----------
_sizes = st.sampled_from([1, 2, 30, 300, 6000])  # hypothesis seldom draws the large end of a range
_keys = st.one_of(st.sampled_from(sorted(FIELDS)), st.sampled_from(["a", '"q"', "'l'", '"="', '"."', "x-1"]))
_dotted = st.builds(lambda first, rest: ".".join([first, *rest]), _keys, st.lists(_keys, max_size=3)) | st.builds(
    lambda key, n: ".".join([key] * n), _keys, _sizes)
_scalars = st.sampled_from(["1", "0.5", "-1e3", "true", '"t"', "'x'", '"\\u001b]52;c;x\\u0007"', "inf", "nan",
                            "1979-05-27", '"""a.b = c"""', "0o17", "0b1", HEX, "0x" + "f" * 40, "9" * 30])
_values = st.one_of(_scalars, st.builds(lambda v, n: "[" * n + v + "]" * n, _scalars, _sizes),
                    st.builds(lambda k, v: "{" + k + " = " + v + "}", _dotted, _scalars))
_lines = st.one_of(st.builds(lambda k, v: f"{k} = {v}", _dotted, _values),
                   st.builds(lambda k: f"[{k}]", _dotted), st.builds(lambda k: f"[[{k}]]", _dotted),
                   st.sampled_from(["# c = 1. 2. 3.", "", "=", "[", "]]]", "{", "a.", "..."]))
_toml = st.builds(lambda lines, n: "\n".join(lines * n), st.lists(_lines, min_size=1, max_size=6), st.integers(1, 50))
_json_values = st.recursive(st.one_of(st.integers(-(10**60), 10**60), st.floats(), st.text(max_size=8)),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                        max_size=3), max_leaves=20)
_json = st.one_of(st.builds(json.dumps, st.dictionaries(st.sampled_from(sorted(FIELDS)), _json_values, max_size=5)),
                  st.builds(lambda n: '{"gamma": ' * n + "1" + "}" * n, _sizes),
                  st.builds(lambda n: '{"gamma": ' + "[" * n + "]" * n + "}", _sizes))
MAX_PEAK_BYTES = 64 * 1024**2  # what a refusal or a small config may allocate, parsing included


def _only_config_or_error(text: str, suffix: str) -> None:
    """`text` saved as a config file of `suffix` loads as a Config or one bounded ConfigError line."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"c{suffix}"
        path.write_text(text, encoding="utf-8")
        _load_bounded(path)


def _load_bounded(path: Path) -> None:
    tracemalloc.start()
    try:
        result = load_config_file(path)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 1200 and message.isprintable(), message
    else:
        assert isinstance(result, Config)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_toml)
def test_any_toml_text_gives_a_config_or_one_bounded_config_error(text):
    _only_config_or_error(text, ".toml")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_json)
def test_any_json_text_gives_a_config_or_one_bounded_config_error(text):
    _only_config_or_error(text, ".json")
