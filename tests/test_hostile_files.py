"""Every kind of hostile agent file, through every loader, in a subprocess with a memory limit:
one line and exit code 2, bounded time and memory, nothing imported, nothing created."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from crafted import EVIL_MODULE, build_corpus, write_evil_module

from sandbox.core.config import load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import save_trainer

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# What a refusal may import on top of a normal load: Python's own modules and the project's stack.
ALLOWED_TOP = set(sys.stdlib_module_names) | {"sandbox", "ui", "gymnasium", "numpy", "torch", "safetensors"}
MAX_RSS_GROWTH = 300 * 1024**2


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    t = Trainer(load_preset("notebook").with_changes(max_episodes=3, memory_capacity=300, batch_size=32))
    t.run(2)
    valid = root / "valid.agent"
    save_trainer(t, valid)
    marker = root / "imported.marker"
    evil = write_evil_module(root / "evil", marker)
    return valid, build_corpus(valid, root / "files"), evil, marker


@pytest.mark.parametrize("loader", ["evaluate", "resume", "app"])
def test_every_crafted_file_is_refused_in_one_line_by_every_loader(corpus, loader, tmp_path):
    valid, cases, evil, marker = corpus
    listing = tmp_path / "cases.json"
    listing.write_text(json.dumps({c.name: str(c.path) for c in cases}))
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(evil), str(ROOT), str(HERE)]))
    proc = subprocess.run([sys.executable, str(HERE / "load_corpus.py"), loader, str(listing), str(valid)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["warm"][0] == 0, report["warm"]
    failures = []
    for case in cases:
        got = report["cases"][case.name]
        lines = got["err"].strip().splitlines()
        foreign = [m for m in got["modules"] if m.split(".")[0] not in ALLOWED_TOP]
        if (got["code"] != 2 or len(lines) != 1 or "Traceback" in got["err"] or foreign
                or not re.search(case.expect, lines[0] if lines else "")):
            failures.append((case.name, got["code"], got["err"][:300], foreign, case.expect))
    assert not failures, "\n".join(map(str, failures))
    assert all(EVIL_MODULE not in r["modules"] for r in report["cases"].values())
    assert not marker.exists() and not (valid.parent / "files" / "pwned").exists()
    assert list(work.iterdir()) == []  # nothing created where it ran (the venv attack built one here)
    assert report["peak_after"] - report["peak_before"] < MAX_RSS_GROWTH


def test_the_corpus_covers_every_class_of_attack(corpus):
    names = {c.name for c in corpus[1]}
    for needed in ("pickle.agent", "torch_save.agent", "env_module.agent", "fifo.agent", "dev_zero.agent",
                   "sparse.agent", "big_net_small_file.agent", "deep_header.agent", "huge_int_metadata.agent",
                   "config_not_object.agent", "memory_action.agent", "optim_maximize.agent", "optim_betas.agent",
                   "memory_short.agent", "history_nan.agent", "optim_negative_step.agent"):
        assert needed in names
