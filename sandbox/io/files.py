"""Files that come from outside and files we write, under one set of rules.

- Inputs (agent files, config files) are opened non-blocking and checked with `fstat` after
  opening: a FIFO, a device (a symlink to /dev/zero), a directory or a socket is refused before a
  byte is read, and nothing is read past the size the caller allows.
- Outputs (saves, logs, exports) are checked before work starts: the folder exists and takes a
  new file, the target is a regular file or absent, and nothing is written under /proc, /sys or
  /dev. Writes go to a temp file beside the target, fsync, rename: a crash leaves the old file
  whole, and a temp left by a killed save is removed by the next save to that folder (a live
  writer holds a lock on its temp, so only orphans are removed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

SYSTEM_DIRS = ("/proc", "/sys", "/dev")
TEMP_SUFFIX = ".rl-sandbox-tmp"
MAX_JSON_INT_DIGITS = 50  # RNG states are 128-bit integers (39 digits); nothing we write is longer


class PathError(ValueError):
    """A path cannot be read or written as asked; the message says which and why, in one line."""


def shown_path(path: str | os.PathLike, limit: int = 120) -> str:
    """A path for a one-line message: control characters escaped (a newline in a name stays one
    line), long paths cut from the left (the file name is what matters)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in os.fsdecode(path))
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def _system_path(path: str | os.PathLike) -> str | None:
    """The system folder (proc, sys, dev) a path resolves into, or None."""
    real = os.path.realpath(path)
    return next((d[1:] for d in SYSTEM_DIRS if real == d or real.startswith(d + "/")), None)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def data_dir() -> Path:
    """Where RL Sandbox keeps its own files (RL_SANDBOX_DATA_DIR overrides, e.g. in tests), made if missing.

    PathError (one line) when it cannot be a folder of ours: something else sits at its path (a
    file, a FIFO, a link to a device), it resolves into a system folder, or it cannot be made.
    Callers go on without it and say what they do instead.
    """
    override = os.environ.get("RL_SANDBOX_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir("rl-sandbox", appauthor=False))
    if system := _system_path(path):
        raise PathError(f"the data folder {shown_path(path)} is a system path ({system})")
    try:
        path.mkdir(parents=True, exist_ok=True)
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:
        found = os.lstat(path).st_mode if os.path.lexists(path) else None
        reason = f"it is {_kind(found)}" if found is not None and not stat.S_ISDIR(found) else \
            (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))
        raise PathError(f"the data folder {shown_path(path)} cannot be used: {reason}") from None
    if not stat.S_ISDIR(mode):
        raise PathError(f"the data folder {shown_path(path)} cannot be used: it is {_kind(mode)}")
    return path


# --- reading ----------------------------------------------------------------------------
def open_regular(path: str | os.PathLike, what: str) -> int:
    """A read-only descriptor of a regular file; PathError for anything else (nothing is read)."""
    if system := _system_path(path):
        raise PathError(f"{what} {shown_path(path)} is a system path ({system}), not a file of yours")
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PathError(f"cannot read {what} {shown_path(path)}: {reason}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise PathError(f"{what} {shown_path(path)} is {_kind(mode)}, not a regular file")
    return fd


def pread_exact(fd: int, size: int, offset: int) -> bytes:
    """Exactly `size` bytes at `offset`; PathError if the file is shorter."""
    buffer = bytearray(size)
    pread_into(fd, buffer, offset)
    return bytes(buffer)


def pread_into(fd: int, into: Any, offset: int) -> None:
    """Fill the writable buffer `into` (a bytearray, a numpy array) from `offset`; PathError if the file is shorter."""
    view = memoryview(into).cast("B")
    size = len(view)
    done = 0
    while done < size:
        try:
            n = os.preadv(fd, [view[done:size]], offset + done)
        except OSError as exc:
            raise PathError(f"read error: {exc.strerror or exc}") from None
        if n == 0:
            raise PathError("the file ended early (truncated, or changed while it was read)")
        done += n


def read_regular(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The whole content of a regular file of at most `limit` bytes."""
    fd = open_regular(path, what)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise PathError(f"{what} {shown_path(path)} is {size:,} bytes; at most {limit:,} are allowed")
        return pread_exact(fd, size, 0)
    finally:
        os.close(fd)


def _constant(name: str) -> float:
    """±Infinity stands for unbounded observation spaces (json.dumps writes it); NaN is never valid."""
    if name == "NaN":
        raise ValueError("NaN is not a valid number here")
    return float(name)


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits is too long")
    return int(text)


def strict_json(text: str | bytes) -> Any:
    """json.loads without NaN, without integers longer than any we write, and with bounded nesting.

    Out-of-range floats parse as ±inf; the fields' own checks refuse them where they must be finite.
    """
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_int)
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


# --- writing ----------------------------------------------------------------------------
def check_output(path: str | os.PathLike, what: str, follow_links: bool = True) -> Path:
    """Check that `path` can take a new file, before any work; returns the path to write.

    Symlinks are resolved, so a save replaces the file a link points to, not the link; the app's own
    files in its data folder (`follow_links=False`) replace a link planted at their path instead.
    """
    if not str(path):
        raise PathError(f"{what}: the path is empty")
    if follow_links:
        real = Path(os.path.realpath(path))
        system = _system_path(path)
    else:
        real = Path(os.path.realpath(os.path.dirname(os.path.abspath(path)))) / os.path.basename(path)
        system = _system_path(real.parent)
    if system:
        raise PathError(f"{what} {shown_path(path)} is a system path ({system}); choose a file in a folder")
    folder = real.parent
    if not folder.is_dir():
        raise PathError(f"{what} {shown_path(path)}: the folder {shown_path(folder)} does not exist")
    mode: int | None
    try:
        mode = os.stat(real).st_mode if follow_links else os.lstat(real).st_mode
        if stat.S_ISLNK(mode):
            mode = None  # replaced, never followed
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise PathError(f"{what} {shown_path(path)}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise PathError(f"{what} {shown_path(path)} is {_kind(mode)}; choose a file name")
    # The only honest test (root, read-only mounts, ACLs, append-only folders, name limits): create
    # and remove a file named as the save's temp file will be.
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{real.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise PathError(f"{what} {shown_path(path)}: cannot write in {shown_path(folder)}: "
                        f"{exc.strerror or exc}") from None
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError as exc:
        raise PathError(f"{what} {shown_path(path)}: files in {shown_path(folder)} cannot be replaced: "
                        f"{exc.strerror or exc}") from None
    return real


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (symlinks, `./`, hard links); False when either is absent."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def remove_stale_temps(folder: Path) -> int:
    """Remove temps of our naming that no live writer holds (a killed save's leftovers)."""
    removed = 0
    with contextlib.suppress(OSError):
        names = [n for n in os.listdir(folder) if n.startswith(".") and n.endswith(TEMP_SUFFIX)]
        for name in names:
            try:
                fd = os.open(folder / name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while its writer lives
                    os.unlink(folder / name)
                    removed += 1
            except OSError:
                pass
            finally:
                os.close(fd)
    return removed


def atomic_write(path: str | os.PathLike, data: bytes, what: str = "file", follow_links: bool = True) -> Path:
    """Write `data` to `path` atomically (temp file, fsync, rename); returns the path written.

    PathError (one line) when the path is unsuitable or the write fails; the old file, if any,
    is then untouched and no temp file remains.
    """
    real = check_output(path, what, follow_links)
    remove_stale_temps(real.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise PathError(f"could not write {what} {shown_path(path)}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # marks the temp as live until this save ends
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.replace(tmp, real)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PathError(f"could not write {what} {shown_path(path)}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    dir_fd = os.open(real.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return real
