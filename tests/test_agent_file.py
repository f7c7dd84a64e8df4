import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import torch

from sandbox.core.config import load_preset
from sandbox.core.diagnostics import diagnose
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import (
    AgentFileError,
    file_info,
    load_trainer,
    save_trainer,
    to_bytes,
)
from sandbox.formats.agent_state import FORMAT, FORMAT_VERSION
from sandbox.io import files
from sandbox.io.files import PathError

ROOT = Path(__file__).resolve().parent.parent


def small(**changes):
    base = dict(max_episodes=6, update_interval=2, batch_size=32, memory_capacity=300)
    return load_preset("notebook").with_changes(**(base | changes))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    t = Trainer(small())
    t.run(3)
    t.apply({"learning_rate": 5e-4})
    path = tmp_path_factory.mktemp("agents") / "three.agent"
    save_trainer(t, path)
    return path


def test_resume_is_exact_at_an_episode_boundary(saved):
    uninterrupted = Trainer(small())
    uninterrupted.run(3)
    uninterrupted.apply({"learning_rate": 5e-4})
    expected = uninterrupted.run()
    resumed = load_trainer(saved)
    got = resumed.run()
    assert [e.deterministic() for e in got] == [e.deterministic() for e in expected]
    assert list(resumed.history.losses) == list(uninterrupted.history.losses)


def test_resume_is_exact_on_the_reference_backend_too(tmp_path):
    config = small(backend="reference")
    t = Trainer(config)
    t.run(3)
    save_trainer(t, tmp_path / "reference.agent")
    expected = t.run()
    resumed = load_trainer(tmp_path / "reference.agent")
    assert type(resumed.agent.learner).__name__ == "ReferenceLearner"
    got = resumed.run()
    assert [e.deterministic() for e in got] == [e.deterministic() for e in expected]
    assert list(resumed.history.losses) == list(t.history.losses)


def _parts(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(json.loads(data[8:8 + n])["__metadata__"]["json"]), safetensors.numpy.load(data)


def test_the_file_is_the_same_whichever_backend_wrote_it(tmp_path):
    """Both backends write the same tensors (Adam's state as one flat vector over the online net's
    parameters) and the same settings; a file written by one opens on the other, which holds exactly
    the file's weights and optimizer state and trains on from them."""
    files = {}
    for backend in ("fast", "reference"):
        t = Trainer(small(backend=backend))
        t.run(3)
        files[backend] = to_bytes(t)
    (info_f, tensors_f), (info_r, tensors_r) = _parts(files["fast"]), _parts(files["reference"])
    layout = [{k: (v.shape, v.dtype) for k, v in tensors.items()} for tensors in (tensors_f, tensors_r)]
    assert layout[0] == layout[1]
    assert info_f["optimizer"]["state_keys"] == info_r["optimizer"]["state_keys"] == [0]
    for name in ("online.body.0.weight", "optim.0.exp_avg", "optim.0.step"):  # same maths: near, not equal
        np.testing.assert_allclose(tensors_f[name], tensors_r[name], rtol=1e-3, atol=1e-5)
    info_f["config"]["backend"] = "reference"  # the fast run's file, opened on the reference backend
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "json": json.dumps(info_f)}
    crossed = tmp_path / "crossed.agent"
    crossed.write_bytes(safetensors.numpy.save(tensors_f, metadata=meta))
    t = load_trainer(crossed)
    assert type(t.agent.learner).__name__ == "ReferenceLearner"
    torch.testing.assert_close(t.agent.online.body[0].weight, torch.from_numpy(tensors_f["online.body.0.weight"]),
                               rtol=0, atol=0)
    adam = t.agent.learner.adam_state()
    for name in ("exp_avg", "exp_avg_sq", "step"):
        torch.testing.assert_close(getattr(adam, name), torch.from_numpy(tensors_f[f"optim.0.{name}"]), rtol=0, atol=0)
    updates = t.agent.updates
    t.run(1)
    assert t.agent.updates > updates and t.agent.finite()


def test_resume_in_a_fresh_process_matches(saved, tmp_path):
    code = (f"from sandbox.formats.agent_file import load_trainer; t = load_trainer({str(saved)!r}); "
            "print([round(e.score, 3) for e in t.run()], sum(t.history.losses))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=300).stdout
    here = load_trainer(saved)
    assert out.strip() == f"{[round(e.score, 3) for e in here.run()]} {sum(here.history.losses)}"


def test_file_holds_config_history_edits_memory_and_counters(saved):
    t = load_trainer(saved)
    assert t.episodes_done == 3 and t.total_steps == 600 and len(t.agent.memory) == 300
    assert t.config.learning_rate == 5e-4 and t.agent.learner.optimizer.param_groups[0]["lr"] == 5e-4
    assert [(e.name, e.new) for e in t.history.edits] == [("learning_rate", 5e-4)]
    assert len(t.history.losses) == t.agent.updates > 0
    info = file_info(saved)
    assert (info.episodes, info.total_steps, info.has_memory, info.env_id) == (3, 600, True, "MountainCar-v0")


def test_the_coachs_hints_are_saved_with_the_run(tmp_path):
    """They belong to the run: written with it, readable without loading a tensor."""
    t = Trainer(small(max_episodes=2))
    t.run()
    expected = [h.line() for h in diagnose(t.history, t.config, t.spec, t.agent.epsilon, finished=True)]
    assert any(line.startswith("Not solved") for line in expected) and any("memory" in line for line in expected)
    save_trainer(t, tmp_path / "a.agent")
    assert list(file_info(tmp_path / "a.agent").hints) == expected


def test_memory_is_optional(tmp_path):
    t = Trainer(small(memory_capacity=1000))
    t.run(2)
    with_mem = save_trainer(t, tmp_path / "a.agent")
    without = save_trainer(t, tmp_path / "b.agent", include_memory=False)
    assert without < with_mem
    assert len(load_trainer(tmp_path / "b.agent").agent.memory) == 0


def test_mid_episode_save_resumes_with_a_new_episode(tmp_path):
    t = Trainer(small())
    for _ in range(50):
        t.step()
    save_trainer(t, tmp_path / "mid.agent")
    r = load_trainer(tmp_path / "mid.agent")
    assert r.total_steps == 50 and r.episodes_done == 0 and not r.mid_episode
    assert r.run_episode().length == 200


def _rewrite(path: Path, out: Path, change) -> Path:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    tensors = safetensors.numpy.load(data)
    meta = header["__metadata__"]
    change(tensors, meta)
    out.write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    return out


class Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_and_torch_save_payloads_never_execute(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.agent").write_bytes(pickle.dumps(Payload(marker)))
    torch.save({"x": Payload(marker)}, tmp_path / "evil_torch.agent")
    for name in ("evil.agent", "evil_torch.agent"):
        with pytest.raises(AgentFileError, match="not an agent file"):
            load_trainer(tmp_path / name)
    assert not marker.exists()


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d[: len(d) // 2], "truncated|outside the file"),
    (lambda d: bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "not an agent file"),
    (lambda d: struct.pack("<Q", 2**60) + d[8:], "header length 1152921504606846976 is impossible"),
    (lambda d: b"abc", "too short"),
    (lambda d: struct.pack("<Q", 4) + b"[1] " + b"\0" * 10, "not a JSON object"),
])
def test_damaged_files_get_clear_errors(saved, tmp_path, make, message):
    bad = tmp_path / "bad.agent"
    bad.write_bytes(make(saved.read_bytes()))
    with pytest.raises(AgentFileError, match=message):
        load_trainer(bad)


def test_wrong_shapes_dtypes_nan_version_and_spaces_are_refused(saved, tmp_path):
    def shape(t, m):
        t["online.body.0.weight"] = np.zeros((64, 3), np.float32)

    def dtype(t, m):
        t["online.body.0.weight"] = t["online.body.0.weight"].astype(np.float64)

    def nan(t, m):
        t["target.body.2.bias"][0] = np.nan

    def version(t, m):
        m["format_version"] = "99"

    def env(t, m):
        info = json.loads(m["json"])
        info["config"]["env_id"] = info["spec"]["env_id"] = "CartPole-v1"
        m["json"] = json.dumps(info)

    def foreign(t, m):
        m["format"] = "something-else"

    cases = [(shape, r"online.body.0.weight' has shape \[64, 3\].*needs shape \[64, 2\]"),
             (dtype, r"dtype F64; this agent needs shape \[64, 2\] and dtype F32"),
             (nan, "NaN or infinite"), (version, "format version '99' is not supported"),
             (env, "observations of size 2 with 3 actions, but CartPole-v1 has 4 and 2"),
             (foreign, "not an RL Sandbox agent file")]
    for change, message in cases:
        bad = _rewrite(saved, tmp_path / f"{change.__name__}.agent", change)
        with pytest.raises(AgentFileError, match=message):
            load_trainer(bad)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AgentFileError, match="cannot read"):
        load_trainer(tmp_path / "nope.agent")


def test_failed_save_leaves_the_previous_file_loadable(saved, tmp_path, monkeypatch):
    target = tmp_path / "keep.agent"
    target.write_bytes(saved.read_bytes())
    t = Trainer(small())

    def explode(*args):
        raise OSError("disk full")

    for stage in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(files.os, stage, explode)
            with pytest.raises(PathError, match=r"could not write agent file .*keep\.agent: disk full"):
                save_trainer(t, target)
        assert load_trainer(target).episodes_done == 3
        assert [p.name for p in tmp_path.iterdir()] == ["keep.agent"]  # no temp files left behind


def test_killed_saves_never_corrupt_the_file(saved, tmp_path):
    target = tmp_path / "k.agent"
    target.write_bytes(saved.read_bytes())
    big = Trainer(small(memory_capacity=200_000))
    payload = to_bytes(big)
    blob = tmp_path / "payload.bin"
    blob.write_bytes(payload * 20)  # a slow, large write to interrupt
    code = ("import sys; from sandbox.formats.agent_file import atomic_write; "
            f"data = open({str(blob)!r}, 'rb').read(); print('ready', flush=True); "
            f"atomic_write({str(target)!r}, data)")
    killed = 0
    for delay in (0.0, 0.01, 0.05, 0.2):
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        try:
            proc.wait(timeout=delay or 0.001)
        except subprocess.TimeoutExpired:
            proc.kill()
            killed += 1
        proc.wait()
        proc.stdout.close()
        data = target.read_bytes()
        assert data in (saved.read_bytes(), payload * 20)
    assert killed >= 1  # at least one save really was interrupted
    assert load_trainer(saved).episodes_done == 3


def test_a_file_carries_the_runs_best_agent_and_refuses_a_mark_that_does_not_fit(tmp_path):
    from sandbox.app.best import BestAgent
    from sandbox.formats.agent_file import KeptBest, load_agent

    trainer = Trainer(small(solve_window=1))
    best = BestAgent()
    trainer.observers.append(type("Keeper", (), {"episode_ended": lambda self, t, e: best.offer(t, e)})())
    trainer.run(3)
    kept = best.kept()
    assert kept is not None
    save_trainer(trainer, tmp_path / "a.agent", best=kept)
    opened, carried, _ = load_agent(tmp_path / "a.agent")
    assert carried == kept and opened.total_steps == trainer.total_steps
    restored = BestAgent.carried(carried, "cpu").restore()
    assert restored.total_steps == kept.total_steps and restored.episodes_done == kept.episode + 1
    assert load_agent(tmp_path / "a.agent")[0].episodes_done == 3
    for bad in (dict(episode=3), dict(total_steps=10**9), dict(measure="luck"), dict(value=float("nan"))):
        with pytest.raises(AgentFileError, match=r"best|NaN"):
            to_bytes(trainer, best=KeptBest(**(vars(kept) | bad)))


def test_a_carried_best_that_is_not_an_agent_is_refused_when_restored_and_a_lying_size_at_load(tmp_path):
    """The kept best's bytes are a whole agent file checked only when restored: garbage there is one
    AgentFileError then (the file itself opens); a `best.bytes` that does not match its tensor is
    refused at load, before anything is built."""
    from sandbox.app.best import BestAgent
    from sandbox.formats.agent_file import KeptBest, load_agent

    trainer = Trainer(small())
    trainer.run(2)
    garbage = KeptBest(1, -200.0, trainer.total_steps, "moving average", b"<img src=x>" * 100)
    save_trainer(trainer, tmp_path / "g.agent", best=garbage)
    opened, carried, _ = load_agent(tmp_path / "g.agent")
    assert carried == garbage and opened.episodes_done == 2
    with pytest.raises(AgentFileError) as info:
        BestAgent.carried(carried, "cpu").restore()
    assert "\n" not in str(info.value)
    data = (tmp_path / "g.agent").read_bytes()
    info_json, tensors = _parts(data)
    info_json["best"]["bytes"] = 10**6  # says a megabyte; the tensor holds 1,100 bytes
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "json": json.dumps(info_json)}
    (tmp_path / "lying.agent").write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    with pytest.raises(AgentFileError, match=r"best\.agent"):
        load_agent(tmp_path / "lying.agent")
