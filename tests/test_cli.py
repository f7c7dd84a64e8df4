import json
import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parent.parent


def test_train_prints_episodes_and_summary_and_logs_jsonl(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    code = main.main(["train", "--preset", "notebook", "--episodes", "3", "--set", "memory_capacity=300",
                      "--log-jsonl", str(log), "--eval-episodes", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("ep ") == 3 and "--- 3 episodes, 600 steps" in out and "greedy evaluation" in out
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2] and rows[-1]["total_steps"] == 600


def test_every_and_quiet(capsys):
    assert main.main(["train", "--episodes", "4", "--every", "2", "--eval-episodes", "0"]) == 0
    assert capsys.readouterr().out.count("ep ") == 2
    assert main.main(["train", "--episodes", "1", "--quiet", "--eval-episodes", "0"]) == 0
    assert "ep " not in capsys.readouterr().out


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
    from sandbox.agent_file import file_info

    last, best = tmp_path / "last.agent", tmp_path / "best.agent"
    code = main.main(["train", "--episodes", "5", "--set", "solve_window=2", "--quiet", "--eval-episodes", "0",
                      "--save", str(last), "--no-memory", "--save-best", str(best)])
    out = capsys.readouterr().out
    assert code == 0 and "saved the best agent (episode" in out
    assert not file_info(last).has_memory and file_info(last).episodes == 5
    assert file_info(best).has_memory and 2 <= file_info(best).episodes <= 5
