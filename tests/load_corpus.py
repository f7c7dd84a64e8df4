"""Load every file of a crafted corpus through one loader, in this process, under a memory limit.

Run by tests/test_hostile_files.py in a subprocess: `python load_corpus.py LOADER CASES_JSON VALID_FILE`.
Prints one JSON object: per case the exit code, what reached stderr, the modules it imported;
and the peak RSS before and after the corpus. LOADER is `evaluate`, `resume` (the CLI) or `app`
(the recovery check at launch, then the loader behind File > Open).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import tempfile
from pathlib import Path

import main
from sandbox.app.recovery import RecoveryStore
from sandbox.formats.agent_file import AgentFileError, load_trainer

SECONDS_PER_CASE = 60
EXTRA_ADDRESS_SPACE = 3 * 1024**3  # room for one legitimate load; a 4 GB runaway fails instead


def _cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main.main(args)
    return code, err.getvalue()


def _app(path: str) -> tuple[int, str]:
    """The launch-time recovery check must agree with the loader behind File > Open."""
    with tempfile.TemporaryDirectory() as folder:
        store = RecoveryStore(Path(folder))
        os.symlink(path, store.path)
        offered = store.pending() is not None
        if not offered and os.path.lexists(store.path):
            return 0, "recovery left the bad file in place\n"
    try:
        load_trainer(path, render=True).close()
    except AgentFileError as exc:
        return (0, f"recovery offered a file that does not load: {exc}\n") if offered else (2, f"{exc}\n")
    return 0, "" if offered else "recovery refused a file that loads\n"


LOADERS = {
    "evaluate": lambda p: _cli(["evaluate", p, "--episodes", "1"]),
    "resume": lambda p: _cli(["train", "--resume", p, "--episodes", "1", "--eval-episodes", "0", "--quiet"]),
    "app": _app,
}


def _timeout(signum, frame):
    raise TimeoutError(f"no answer within {SECONDS_PER_CASE} s")


def run(loader: str, cases: dict[str, str], valid: str) -> dict:
    size = int(Path("/proc/self/status").read_text().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + EXTRA_ADDRESS_SPACE, resource.RLIM_INFINITY))
    load = LOADERS[loader]
    warm = load(valid)  # lazily imported modules of a normal load are the baseline
    signal.signal(signal.SIGALRM, _timeout)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results = {}
    for name, path in cases.items():
        before = set(sys.modules)
        signal.alarm(SECONDS_PER_CASE)
        try:
            code, err = load(path)
        except BaseException as exc:  # what must never happen: reported, not raised
            code, err = -1, f"RAISED {type(exc).__name__}: {exc}"
        finally:
            signal.alarm(0)
        results[name] = {"code": code, "err": err, "modules": sorted(set(sys.modules) - before)}
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"warm": warm, "cases": results, "peak_before": peak_before, "peak_after": peak_after}


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), sys.argv[3])))
