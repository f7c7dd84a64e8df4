"""A corpus of hostile agent files, one per kind of attack, built from a real saved agent.

Each case is a file on disk and a regular expression its one-line refusal must match. The
corpus is loaded through every loader (tests/load_corpus.py) in a subprocess with a memory limit.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
import torch

EVIL_MODULE = "rlsbx_evil"  # importing it writes a marker file: proof that code ran


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: str  # regex the one-line error must match


class Payload:
    """Unpickling this would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_evil_module(folder: Path, marker: Path) -> Path:
    """A module whose import leaves `marker`; put `folder` on PYTHONPATH to make it importable."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{EVIL_MODULE}.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    return folder


def _split(data: bytes) -> tuple[dict, dict, dict[str, np.ndarray]]:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header["__metadata__"]
    return meta, json.loads(meta["json"]), safetensors.numpy.load(data)


def _framed(header: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + body


def build_corpus(base: Path, out: Path) -> list[Case]:
    """Write every hostile file into `out` (a fresh folder); `base` is a valid agent with memory and updates."""
    out.mkdir(parents=True, exist_ok=True)
    data = base.read_bytes()
    cases: list[Case] = []

    def raw(name: str, content: bytes, expect: str) -> None:
        (out / name).write_bytes(content)
        cases.append(Case(name, out / name, expect))

    def edit(name: str, change: Callable[[dict, dict, dict], None], expect: str) -> None:
        meta, info, tensors = _split(data)
        change(meta, info, tensors)
        meta = dict(meta, json=json.dumps(info))
        raw(name, safetensors.numpy.save(tensors, metadata=meta), expect)

    def info_edit(name: str, change: Callable[[dict], None], expect: str) -> None:
        edit(name, lambda m, i, t: change(i), expect)

    # code execution: pickles, torch.save archives, env ids that name a module
    marker = out / "pwned"
    raw("pickle.agent", pickle.dumps(Payload(marker)), "not an agent file")
    torch.save({"x": Payload(marker)}, out / "torch_save.agent")
    cases.append(Case("torch_save.agent", out / "torch_save.agent", "not an agent file"))
    for name, env in (("env_module.agent", f"{EVIL_MODULE}:MountainCar-v0"),
                      ("env_venv.agent", "venv.__main__:MountainCar-v0")):
        def module_env(i: dict, env: str = env) -> None:
            i["config"]["env_id"] = i["spec"]["env_id"] = env
        info_edit(name, module_env, "'module:Env' ids would make Gymnasium import that module")
    info_edit("env_unregistered.agent", lambda i: i["config"].update(env_id="Nope-v0"),
              "not a registered Gymnasium environment")

    # what is not a regular file, and what is too big to read
    os.mkfifo(out / "fifo.agent")
    cases.append(Case("fifo.agent", out / "fifo.agent", r"is a FIFO \(named pipe\), not a regular file"))
    for dev in ("zero", "urandom"):
        (out / f"dev_{dev}.agent").symlink_to(f"/dev/{dev}")
        cases.append(Case(f"dev_{dev}.agent", out / f"dev_{dev}.agent", r"is a system path \(dev\)"))
    (out / "folder.agent").mkdir()
    cases.append(Case("folder.agent", out / "folder.agent", "is a directory, not a regular file"))
    with open(out / "sparse.agent", "wb") as f:  # a valid file followed by 3 GB of holes
        f.write(data)
        f.truncate(3 * 1024**3)
    cases.append(Case("sparse.agent", out / "sparse.agent", "bytes no tensor accounts for"))
    info_edit("big_net_small_file.agent", lambda i: i["config"].update(hidden_units=4096, hidden_layers=6,
                                                                        memory_capacity=10**8),
              r"memory\.capacity = .* differs|tensor 'online\..*' has shape")

    # JSON that breaks parsers
    deep = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    raw("deep_header.agent", _framed(deep), "header is not JSON")
    meta, info, tensors = _split(data)
    nested = json.dumps(info)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    raw("deep_metadata.agent", safetensors.numpy.save(tensors, metadata=dict(meta, json=nested)),
        "metadata is not valid JSON .*nested too deeply")
    raw("huge_shape.agent", _framed(b'{"__metadata__": {"format": "rl-sandbox-agent", "format_version": "1"}, '
                                    b'"t": {"dtype": "F32", "shape": [' + b"9" * 400 + b'], '
                                    b'"data_offsets": [0, 4]}}', b"\0" * 4), "header is not JSON")
    raw("not_utf8.agent", _framed(b'{"\xff\xfe": 1}'), "header is not JSON")
    big = json.dumps(info).replace('"steps": ', '"steps": ' + "9" * 400 + "0 * ", 1).replace(" * ", "")
    raw("huge_int_metadata.agent", safetensors.numpy.save(tensors, metadata=dict(meta, json=big)),
        "metadata is not valid JSON .*too long")
    info_edit("huge_float_config.agent", lambda i: i["config"].update(gamma=1e400), r"gamma = inf is not allowed")
    info_edit("nan_literal.agent", lambda i: i["config"].update(tau=float("nan")), "NaN is not a valid number")
    info_edit("config_not_object.agent", lambda i: i.update(config=[1, 2]), "a config must be name = value pairs")
    info_edit("config_string_number.agent", lambda i: i["config"].update(gamma="0.5"), r"gamma = '0\.5' is not")
    info_edit("missing_counters.agent", lambda i: i.pop("counters"), "metadata lacks counters")
    info_edit("negative_counter.agent", lambda i: i["counters"].update(steps=-5), r"counters\.steps = -5")
    info_edit("bad_rng.agent", lambda i: i["rng"]["agent"].update(bit_generator="MT19937"), "expected 'PCG64'")
    info_edit("bad_rng_state.agent", lambda i: i["rng"]["env"]["state"].update(state=-1), r"rng\.env\.state\.state")
    info_edit("bad_edit.agent", lambda i: i.update(edits=[{"episode": 0, "total_steps": 0, "name": "network",
                                                           "old": "mlp", "new": "dueling"}]),
              "not a live parameter")
    info_edit("hints_not_strings.agent", lambda i: i.update(hints=[{"eval": "x"}]), "hints must be a list of strings")
    info_edit("hints_flood.agent", lambda i: i.update(hints=["x" * 3_000]), "hints: more than 20 or one longer")

    # optimizer state that would change how the agent learns
    def group(**changes):
        return lambda i: i["optimizer"]["param_groups"][0].update(changes)

    for key, value, expect in (("betas", [0.5], "betas"), ("amsgrad", True, "amsgrad"),
                               ("differentiable", True, "differentiable"), ("maximize", True, "maximize"),
                               ("eps", -1.0, "eps"), ("weight_decay", 1e9, "weight_decay"),
                               ("lr", 0.5, "lr = 0.5 differs"), ("foreach", "yes", "'foreach'")):
        info_edit(f"optim_{key}.agent", group(**{key: value}), f"optimizer {expect}")
    edit("optim_negative_step.agent", lambda m, i, t: t.update({"optim.0.step": np.array(-3, np.float32)}),
         "optimizer step count -3")
    edit("optim_negative_moment.agent", lambda m, i, t: t["optim.0.exp_avg_sq"].__setitem__(0, -1.0),
         "negative second moments")

    # replay memory and history with impossible values
    edit("memory_action.agent", lambda m, i, t: t["memory.actions"].__setitem__(0, 7), "actions 0 to 2")
    edit("memory_nan_reward.agent", lambda m, i, t: t["memory.rewards"].__setitem__(0, np.nan), "finite rewards")
    edit("memory_huge_reward.agent", lambda m, i, t: t["memory.rewards"].__setitem__(0, 1e30), "finite rewards")
    edit("memory_short.agent", lambda m, i, t: t.update({k: v[:-10] for k, v in t.items() if k.startswith("memory.")}),
         r"tensor 'memory\..*' has shape")
    edit("history_nan.agent", lambda m, i, t: t["history.score"].__setitem__(0, np.nan), "values a run cannot produce")
    edit("history_inf.agent", lambda m, i, t: t["history.moving_average"].__setitem__(0, np.inf),
         "values a run cannot produce")
    edit("weights_nan.agent", lambda m, i, t: t["online.body.0.bias"].__setitem__(0, np.nan), "NaN or infinite")
    edit("extra_tensor.agent", lambda m, i, t: t.update(junk=np.zeros(3, np.float32)), "unexpected tensor 'junk'")
    edit("missing_tensor.agent", lambda m, i, t: t.pop("target.body.0.bias"),
         r"tensor 'target\.body\.0\.bias' is missing")
    raw("truncated.agent", data[: len(data) // 2], "outside the file|truncated")

    # valid in form, hostile in effect: overflow, impossible devices, compute or parse bombs
    edit("history_huge.agent", lambda m, i, t: t["history.score"].__setitem__(slice(None), 1.7e308),
         "values a run cannot produce")
    edit("weights_huge.agent", lambda m, i, t: [t[k].__setitem__(slice(None), 3e38) for k in t
                                                if k.startswith(("online.", "target."))],
         "Q-values are not finite")
    info_edit("device_unknown.agent", lambda i: i["config"].update(device="tpu"), r"device = 'tpu' is not allowed")
    info_edit("compute_bomb.agent", lambda i: i["config"].update(batch_size=65536, update_times=1000,
                                                                  update_interval=1), "GFLOP of learning per env step")
    bomb = json.dumps(info)[:-1] + ', "x": [' + "{}," * 60_000 + "{}]}"
    raw("object_bomb.agent", safetensors.numpy.save(tensors, metadata=dict(meta, json=bomb)),
        "more than 50,000 objects")
    return cases
