"""The device is the running machine's choice, not the agent file's: files move between machines.

A file records the device it was trained on (its config's `device`), but opening it never obeys
that: it opens on the device asked for now (`--device`, default cpu). `cuda` on a machine
without CUDA is one line and exit code 2.
"""

import json
import struct
from pathlib import Path

import pytest
import safetensors.numpy
import torch

import main
from sandbox.core.config import Config, load_preset
from sandbox.core.trainer import Trainer
from sandbox.formats.agent_file import AgentFileError, load_trainer, save_trainer

NO_CUDA = not torch.cuda.is_available()


def _with_device(src: Path, dst: Path, device: str) -> Path:
    """A copy of an agent file whose stored config names `device` (as one saved on that machine would)."""
    data = src.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    info = json.loads(meta["json"])
    info["config"]["device"] = device
    dst.write_bytes(safetensors.numpy.save(safetensors.numpy.load(data), metadata=dict(meta, json=json.dumps(info))))
    return dst


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    t = Trainer(load_preset("notebook").with_changes(memory_capacity=300, batch_size=32, update_interval=2))
    t.run(2)
    path = tmp_path_factory.mktemp("device") / "cpu.agent"
    save_trainer(t, path)
    return path


def test_the_default_device_is_cpu():
    assert Config().device == "cpu"
    assert Trainer(Config().with_changes(max_episodes=1)).agent.device.type == "cpu"


@pytest.mark.parametrize("recorded", ["cuda", "auto", "cpu"])
def test_a_file_opens_on_the_device_asked_for_whatever_it_records(saved, tmp_path, recorded, capsys):
    path = _with_device(saved, tmp_path / f"{recorded}.agent", recorded)
    t = load_trainer(path)
    assert t.agent.device.type == "cpu" and t.config.device == "cpu"
    assert [e.deterministic() for e in t.run(1)] == [e.deterministic() for e in load_trainer(saved).run(1)]
    assert main.main(["evaluate", str(path), "--episodes", "1"]) == 0
    assert main.main(["train", "--resume", str(path), "--episodes", "1", "--quiet", "--eval-episodes", "0",
                      "--device", "cpu"]) == 0
    assert capsys.readouterr().err == ""


def test_device_flags_choose_and_are_checked(saved, capsys):
    assert main.main(["train", "--episodes", "1", "--quiet", "--eval-episodes", "0", "--device", "cpu"]) == 0
    assert main.main(["evaluate", str(saved), "--episodes", "1", "--device", "auto"]) == 0
    capsys.readouterr()
    for args in (["train", "--device", "tpu"], ["evaluate", str(saved), "--device", "gpu"]):
        assert main.main(args) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "invalid choice" in err


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("args", [["train", "--episodes", "1"], ["train", "--resume", "FILE"], ["evaluate", "FILE"],
                                  ["train", "--episodes", "1", "--set", "device=cuda"]])
def test_cuda_without_cuda_is_one_line_and_exit_code_2(saved, args, capsys):
    args = [str(saved) if a == "FILE" else a for a in args]
    assert main.main([*args, *([] if "device=cuda" in args else ["--device", "cuda"])]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "no CUDA device" in lines[0] and "ep " not in captured.out
    with pytest.raises(AgentFileError, match="no CUDA device"):
        load_trainer(saved, device="cuda")


@pytest.mark.skipif(NO_CUDA, reason="no CUDA device on this machine")
def test_a_file_saved_on_cuda_opens_on_cpu_and_the_reverse(saved, tmp_path):
    on_cuda = load_trainer(saved, device="cuda")
    assert on_cuda.agent.device.type == "cuda"
    on_cuda.run(1)
    save_trainer(on_cuda, tmp_path / "cuda.agent")
    back = load_trainer(tmp_path / "cuda.agent")
    assert back.agent.device.type == "cpu" and back.episodes_done == 3
    back.run(1)
    again = load_trainer(tmp_path / "cuda.agent", device="cuda")
    again.run(1)  # one device throughout: the same run as the one saved
    twin = load_trainer(tmp_path / "cuda.agent", device="cuda")
    assert [e.deterministic() for e in twin.run(1)] == [e.deterministic() for e in again.history.episodes[-1:]]
