import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import main
from sandbox.core.config import load_config_file
from sandbox.formats.agent_file import file_info
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent


def _episode_lines(out: str) -> int:
    return sum(line.startswith("ep ") for line in out.splitlines())


def test_train_prints_episodes_and_summary_and_logs_jsonl(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    code = main.main(["train", "--preset", "notebook", "--episodes", "3", "--set", "memory_capacity=300",
                      "--log-jsonl", str(log), "--eval-episodes", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert _episode_lines(out) == 3 and "--- 3 episodes, 600 steps" in out and "greedy evaluation" in out
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["index"] for r in rows[:-1]] == [0, 1, 2] and rows[-2]["total_steps"] == 600
    assert rows[-1]["summary"]["episodes"] == 3  # the last line: the outcome and the coach's hints


def test_every_and_quiet(capsys):
    assert main.main(["train", "--episodes", "4", "--every", "2", "--eval-episodes", "0"]) == 0
    assert _episode_lines(capsys.readouterr().out) == 2
    assert main.main(["train", "--episodes", "1", "--quiet", "--eval-episodes", "0"]) == 0
    assert _episode_lines(capsys.readouterr().out) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--set", "gamma=2"], "gamma = 2.0 is not allowed; allowed: a number from 0 to 1"),
    (["train", "--set", "colour=red"], "unknown parameter 'colour'"),
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--env", "Pendulum-v1"], "needs Discrete actions"),
    (["train", "--episodes", "0"], "--episodes: '0' is not allowed; allowed: an integer from 1 to 1000000000"),
    (["train", "--config", "/no/such/file.toml"], "cannot read config file"),
    (["evaluate", "/no/such.agent"], "no/such.agent"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    assert main.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_argparse_errors_exit_2_in_one_line():
    proc = subprocess.run([sys.executable, "main.py", "train", "--bogus"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["rl-sandbox: error: unrecognized arguments: --bogus"]


def test_help_lists_the_app_and_subcommands():
    proc = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    for word in ("gui", "train", "evaluate", "screenshot", "desktop app"):
        assert word in proc.stdout


def test_save_best_and_no_memory_write_loadable_files(tmp_path, capsys):
    from sandbox.formats.agent_file import file_info

    last, best = tmp_path / "last.agent", tmp_path / "best.agent"
    code = main.main(["train", "--episodes", "5", "--set", "solve_window=2", "--quiet", "--eval-episodes", "0",
                      "--save", str(last), "--no-memory", "--save-best", str(best)])
    out = capsys.readouterr().out
    assert code == 0 and "the best agent: episode" in out and "saved the best agent to" in out
    assert not file_info(last).has_memory and file_info(last).episodes == 5
    assert file_info(best).has_memory and 2 <= file_info(best).episodes <= 5


@pytest.mark.parametrize(("args", "message"), [
    (["train", "--log-jsonl", "/no/such/dir/log.jsonl"], "--log-jsonl /no/such/dir/log.jsonl: the folder /no/such/dir"),
    (["train", "--log-jsonl", "/proc/self/status"], "is a system path (proc)"),
    (["train", "--save", "/dev/null"], "is a system path (dev)"),
    (["train", "--save", "/tmp"], "--save /tmp is a directory"),
    (["train", "--save-best", "/no/such/dir/b.agent"], "the folder /no/such/dir does not exist"),
    (["train", "--save", "same.agent", "--log-jsonl", "same.agent"], "--save and --log-jsonl name the same file"),
    (["train", "--env", ""], "env_id = '' is not allowed"),
    (["train", "--env", "a:b:c"], "'module:Env' ids would make Gymnasium import that module"),
    (["train", "--env", "MountainCar-v9"], "not a registered Gymnasium environment (did you mean MountainCar-v0?)"),
    (["train", "--seed", "9" * 400], "argument --seed: '99999"),
    (["train", "--episodes", "1e3"], "argument --episodes: '1e3' is not allowed"),
    (["train", "--set", "seed=" + "9" * 400], "seed = '999"),
    (["train", "--set", "gamma=1,5"], "gamma = '1,5' is not allowed"),
    (["train", "--set", "hidden_units=١٢"], "hidden_units = '١٢' is not allowed"),
    (["train", "--set", "learning_rate=nan"], "learning_rate = 'nan' is not allowed"),
    (["train", "--set", "seed=3000000000"], "allowed: an integer from 0 to 2147483647"),
    (["train", "--preset", "../resources/presets/notebook"], "unknown preset"),
    (["evaluate", "x.agent", "--seed", "-1"], "argument --seed: '-1' is not allowed"),
    (["evaluate", "/dev/zero"], "is a system path (dev)"),
    (["train", "--save", "a" * 250 + ".agent"], "File name too long"),
    (["train", "--set", "batch_size=65536", "--set", "update_times=1000"], "GFLOP of learning per env step"),
])
def test_hostile_arguments_get_one_line_and_exit_code_2_before_any_training(args, message, capsys):
    assert main.main(args) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert _episode_lines(captured.out) == 0 and len(captured.err) < 400  # refused before training; echoes are capped


def test_env_ids_naming_a_module_never_import_it(tmp_path):
    """The attack is real (gym.make imports the module); every way an env id enters refuses it first."""
    from crafted import EVIL_MODULE, write_evil_module

    marker = tmp_path / "imported"
    evil = write_evil_module(tmp_path / "evil", marker)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(evil), str(ROOT)]))
    hostile = f"{EVIL_MODULE}:MountainCar-v0"
    (tmp_path / "c.json").write_text(json.dumps({"env_id": hostile}))
    (tmp_path / "c.toml").write_text(f'env_id = "{hostile}"\n')
    for args in (["--env", hostile], ["--set", f"env_id={hostile}"], ["--config", str(tmp_path / "c.json")],
                 ["--config", str(tmp_path / "c.toml")]):
        proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "would make Gymnasium import that module" in proc.stderr and not marker.exists()
    code = f"import gymnasium as gym\ntry: gym.make({hostile!r})\nexcept Exception: pass"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=120)
    assert marker.exists()  # gymnasium alone would have run it


@pytest.mark.parametrize(("name", "text", "message"), [
    ("c.toml", 'gamma = "0.5"\n', "gamma = '0.5' is not allowed"),
    ("c.toml", "batch_size = 64.0\n", "batch_size = 64.0 is not allowed"),
    ("c.json", '{"seed": ' + "9" * 400 + "}", "not valid JSON"),
    ("c.json", '{"gamma": 1e999}', "gamma = inf is not allowed"),
    ("c.json", '{"gamma": NaN}', "NaN is not a valid number"),
    ("c.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("c.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply|not valid TOML"),
    ("c.json", "[1, 2]", "must hold name = value pairs"),
    ("c.toml", "gamma = 0.9\n\udcff", "not UTF-8 text"),
    ("c.yaml", "gamma: 0.9", "must end in .toml or .json"),
])
def test_hostile_config_files_get_one_line(tmp_path, capsys, name, text, message):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main.main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_config_file_type_comes_from_a_case_insensitive_suffix(tmp_path, capsys):
    (tmp_path / "c.JSON").write_text('{"gamma": 0.9}')
    (tmp_path / "z.toml").symlink_to("/dev/zero")
    (tmp_path / "e.toml").symlink_to("/proc/self/environ")  # a "regular" file of size 0: read as empty
    os.mkfifo(tmp_path / "p.toml")
    assert load_config_file(tmp_path / "c.JSON").gamma == 0.9
    for name, message in (("z.toml", "system path (dev)"), ("e.toml", "system path (proc)"), ("p.toml", "is a FIFO")):
        assert main.main(["train", "--config", str(tmp_path / name)]) == 2
        assert message in capsys.readouterr().err


def _fsize_limit(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ


def test_a_full_disk_stops_the_log_not_the_training_and_the_agent_is_saved(tmp_path):
    """A real write error (EFBIG under RLIMIT_FSIZE) while logging: one line, training goes on, the save lands."""
    args = [sys.executable, str(ROOT / "main.py"), "train", "--episodes", "60", "--quiet", "--eval-episodes", "0",
            "--set", "hidden_units=8", "--set", "update_interval=50", "--no-memory", "--no-timeline"]
    free = subprocess.run([*args, "--save", "free.agent", "--log-jsonl", "free.jsonl"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert free.returncode == 0, free.stderr
    limit = (tmp_path / "free.agent").stat().st_size + 512
    assert (tmp_path / "free.jsonl").stat().st_size > limit  # the log, not the agent, hits the limit
    full = subprocess.run([*args, "--save", "full.agent", "--log-jsonl", "full.jsonl"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, preexec_fn=_fsize_limit(limit))
    assert full.returncode == 1
    assert full.stderr.strip().splitlines() == [
        f"error: could not write the episode log {tmp_path}/full.jsonl: File too large; logging stopped, "
        "training continues"]
    assert file_info(tmp_path / "full.agent").episodes == 60
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".rl-sandbox-tmp")]


def test_a_save_folder_removed_during_the_run_is_rescued_to_the_data_folder(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    out.mkdir()
    env = dict(os.environ, RL_SANDBOX_DATA_DIR=str(data))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", "--episodes", "300", "--quiet",
                             "--eval-episodes", "0", "--save", str(out / "run.agent"), "--log-jsonl",
                             str(tmp_path / "log.jsonl")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log = tmp_path / "log.jsonl"
    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 2, what="the run's log showing training")
    shutil.rmtree(out)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1
    lines = err.strip().splitlines()
    assert lines[0] == f"error: agent file {out}/run.agent: the folder {out} does not exist" and len(lines) == 2
    rescued = list((data / "rescued").glob("run-*.agent"))
    assert lines[1].startswith(f"saved the agent to {rescued[0]} instead")
    assert file_info(rescued[0]).episodes == 300


def test_resume_says_when_the_file_has_no_replay_memory(tmp_path, capsys):
    path = tmp_path / "a.agent"
    assert main.main(["train", "--episodes", "2", "--quiet", "--eval-episodes", "0", "--save", str(path),
                      "--no-memory"]) == 0
    capsys.readouterr()
    assert main.main(["train", "--resume", str(path), "--episodes", "1", "--quiet", "--eval-episodes", "0"]) == 0
    assert "note: a.agent has no replay memory: training continues with an empty memory" in capsys.readouterr().err


def test_no_output_may_overwrite_an_input(tmp_path, capsys):
    agent = tmp_path / "a.agent"
    assert main.main(["train", "--episodes", "1", "--quiet", "--eval-episodes", "0", "--save", str(agent)]) == 0
    before = agent.read_bytes()
    os.link(agent, tmp_path / "hard.agent")
    for flag in ("--log-jsonl", "--save-best"):
        for target in (agent, tmp_path / "hard.agent"):
            capsys.readouterr()
            assert main.main(["train", "--resume", str(agent), "--episodes", "1", flag, str(target)]) == 2
            assert "is the --resume file: it would be overwritten" in capsys.readouterr().err
    assert agent.read_bytes() == before
    # continuing a file in place is what --save onto the resumed file is for
    assert main.main(["train", "--resume", str(agent), "--episodes", "1", "--quiet", "--eval-episodes", "0",
                      "--save", str(agent)]) == 0


def test_paths_with_control_characters_stay_on_one_line(tmp_path, capsys):
    assert main.main(["evaluate", str(tmp_path / "nope\nsecond\x1b[31m.agent")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "\\n" in err and "\x1b" not in err


def test_a_deprecated_env_id_is_refused_or_run_without_extra_lines(capsys):
    assert main.main(["train", "--env", "CartPole-v0", "--episodes", "1", "--quiet", "--eval-episodes", "0"]) == 0
    assert capsys.readouterr().err == ""


def test_the_best_agent_is_rescued_when_its_path_fails_at_the_end(tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    out.mkdir()
    env = dict(os.environ, RL_SANDBOX_DATA_DIR=str(data))
    code = (f"import shutil, main, sandbox.cli.commands as cli\n"
            f"real = cli._save_best\n"
            f"def gone(*a):\n    shutil.rmtree({str(out)!r})\n    return real(*a)\n"
            f"cli._save_best = gone\n"
            f"raise SystemExit(main.main(['train', '--episodes', '3', '--quiet', '--eval-episodes', '0', "
            f"'--set', 'solve_window=1', '--save-best', {str(out / 'best.agent')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    rescued = list((data / "rescued").glob("best-*.agent"))
    assert len(rescued) == 1 and file_info(rescued[0]).episodes >= 1
    assert "saved the best agent to" in proc.stderr and "instead" in proc.stderr


def test_train_ends_with_the_coachs_hints_and_logs_them(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    assert main.main(["train", "--preset", "notebook", "--episodes", "3", "--quiet", "--eval-episodes", "0",
                      "--log-jsonl", str(log)]) == 0
    out = capsys.readouterr().out
    assert "coach: The replay memory is tiny — try memory_capacity 1,000 → 50,000: memory_capacity = 1,000" in out
    assert "coach: Not solved: best -200.0 vs -110 — try update_interval 5 → 1" in out
    summary = json.loads(log.read_text().splitlines()[-1])["summary"]
    assert summary["episodes"] == 3 and not summary["solved"]
    tiny = next(h for h in summary["hints"] if h["key"] == "memory_tiny")
    assert tiny["suggestions"] == [{"name": "memory_capacity", "from": 1000, "to": 50000}]


def test_evaluate_shows_the_hints_saved_with_the_run(tmp_path, capsys):
    agent = tmp_path / "run.agent"
    assert main.main(["train", "--preset", "notebook", "--episodes", "3", "--quiet", "--eval-episodes", "0",
                      "--save", str(agent)]) == 0
    capsys.readouterr()
    assert main.main(["evaluate", str(agent), "--episodes", "1"]) == 0
    out = capsys.readouterr().out
    assert "coach when saved: Not solved: best -200.0 vs -110 — try update_interval 5 → 1" in out
