"""Reading only regular files, checking outputs before work, atomic writes that leave nothing behind."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.io.files import TEMP_SUFFIX, PathError, atomic_write, check_output, read_regular, strict_json
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_read_regular_refuses_fifos_devices_folders_and_oversized_files(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "big").write_bytes(b"x" * 2000)
    (tmp_path / "ok").write_bytes(b"hello")
    cases = {"pipe": "is a FIFO", "zero": r"is a system path \(dev\)", ".": "is a directory",
             "big": "is 2,000 bytes; at most 1,000", "missing": "No such file"}
    for name, message in cases.items():
        with pytest.raises(PathError, match=message):
            read_regular(tmp_path / name, 1000, "config file")
    assert read_regular(tmp_path / "ok", 1000, "config file") == b"hello"


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"a": NaN}', "NaN is not a valid number"),
    ('{"a": ' + "9" * 400 + "}", "400 digits is too long"),
])
def test_strict_json_refuses_what_would_crash_or_corrupt(text, message):
    with pytest.raises(ValueError, match=message):
        strict_json(text)


def test_strict_json_keeps_infinite_bounds_and_rng_sized_integers():
    assert strict_json('{"high": Infinity, "state": 340282366920938463463374607431768211455}') == {
        "high": float("inf"), "state": 2**128 - 1}


def test_output_checks_happen_before_any_work(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    cases = {tmp_path / "no" / "x.agent": "the folder .* does not exist", tmp_path: "is a directory",
             tmp_path / "pipe": r"is a FIFO \(named pipe\); choose a file name",
             Path("/proc/self/status"): r"is a system path \(proc\)", Path("/dev/null"): r"system path \(dev\)",
             "": "the path is empty"}
    for path, message in cases.items():
        with pytest.raises(PathError, match=message):
            check_output(path, "--save")
    assert check_output(tmp_path / "new.agent", "--save") == tmp_path / "new.agent"
    assert list(tmp_path.iterdir()) == [tmp_path / "pipe"]  # the writability probe leaves nothing


def test_a_save_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    (tmp_path / "real.agent").write_bytes(b"old")
    (tmp_path / "link.agent").symlink_to(tmp_path / "real.agent")
    atomic_write(tmp_path / "link.agent", b"new")
    assert (tmp_path / "link.agent").is_symlink() and (tmp_path / "real.agent").read_bytes() == b"new"


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_killed_saves_leave_temps_that_the_next_save_removes(tmp_path):
    target = tmp_path / "k.agent"
    target.write_bytes(b"old")
    blob = tmp_path / "blob"
    blob.write_bytes(os.urandom(1024) * 200_000)  # 200 MB: long enough to be killed mid-write
    code = ("from pathlib import Path; from sandbox.io.files import atomic_write; "
            f"atomic_write({str(target)!r}, Path({str(blob)!r}).read_bytes())")
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
        wait_for(lambda proc=proc: _temps(tmp_path) or proc.poll() is not None, what="a temp file or the save's end")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() in (b"old", blob.read_bytes())
    assert _temps(tmp_path), "no save was killed mid-write"
    atomic_write(target, b"fresh")
    assert _temps(tmp_path) == [] and target.read_bytes() == b"fresh"


def test_a_temp_held_by_a_live_writer_is_not_removed(tmp_path):
    import fcntl

    live = tmp_path / f".x.agent.abc{TEMP_SUFFIX}"
    with open(live, "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        atomic_write(tmp_path / "y.agent", b"data")
        assert live.exists()
    atomic_write(tmp_path / "y.agent", b"data")
    assert not live.exists()


def test_the_apps_own_files_replace_a_link_planted_at_their_path_instead_of_writing_through_it(tmp_path):
    """A link to another file in the data folder (the runs log, the recovery copy) must not make the
    app overwrite that file: the link is replaced by the app's own file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's")
    link = tmp_path / "runs.json"
    link.symlink_to(victim)
    atomic_write(link, b"[]", "the runs log", follow_links=False)
    assert victim.read_text() == "someone else's" and not link.is_symlink() and link.read_bytes() == b"[]"
    (tmp_path / "dev.json").symlink_to("/dev/null")
    atomic_write(tmp_path / "dev.json", b"[]", "x", follow_links=False)  # replaced, not a system path written
    assert (tmp_path / "dev.json").read_bytes() == b"[]"
    other = tmp_path / "other.txt"
    other.write_text("old")
    (tmp_path / "save.agent").symlink_to(other)
    atomic_write(tmp_path / "save.agent", b"new", "agent file")  # a user's save follows the link, as before
    assert other.read_bytes() == b"new" and (tmp_path / "save.agent").is_symlink()
