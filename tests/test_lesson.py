"""Lesson files: the shipped ones load and pass `lesson check`; a hostile or wrong one is one line."""

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.app.lesson import MAX_LESSON_BYTES, LessonError, lesson_names, load_lesson

ROOT = Path(__file__).resolve().parent.parent

GOOD = '''format = "rl-sandbox-lesson"
version = 1
title = "A tiny lesson"
preset = "notebook"

[[step]]
title = "Random first"
text = "Watch a random policy."
do = "random"
episodes = 3
[step.check]
metric = "random_mean"
at_most = -190
says = "it never reaches the flag"
'''


def write(tmp_path, text: str | bytes, name: str = "l.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_lesson_file_loads_with_its_steps_configs_and_checks(tmp_path):
    lesson = load_lesson(write(tmp_path, GOOD))
    (step,) = lesson.steps
    assert lesson.title == "A tiny lesson" and step.do == "random" and step.episodes == 3
    assert step.config.env_id == "MountainCar-v0" and step.check is not None and step.check.at_most == -190
    assert step.check.passes(-200.0) and not step.check.passes(-150.0) and not step.check.passes(float("nan"))
    assert step.check.evidence(-200.0) == ("mean score of the random episodes: -200 (wanted ≤ -190) — it never "
                                               "reaches the flag")
    assert step.check.evidence(-112.35) == ("mean score of the random episodes: -112.3 (wanted ≤ -190) — it never "
                                                "reaches the flag")


@pytest.mark.parametrize(("change", "message"), [
    (('version = 1', 'version = 2'), "must start with format = 'rl-sandbox-lesson' and version = 1"),
    (('do = "random"', 'do = "rm -rf"'), "do = 'rm -rf'; allowed: read, random, train"),
    (('episodes = 3', 'episodes = 3.5'), "episodes = 3.5; allowed: an integer from 1 to 5,000"),
    (('episodes = 3', 'episodes = ' + '9' * 400), "is not valid TOML|episodes = .*digits"),
    (('metric = "random_mean"', 'metric = "best_average"'), "metric 'best_average' cannot be measured by do"),
    (('at_most = -190', 'at_most = nan'), "at_most = nan; allowed: a number"),
    (('at_most = -190\n', ''), "a check needs at_most or at_least"),
    (('preset = "notebook"', 'preset = "../../etc/passwd"'), r"preset = '\.\./\.\./etc/passwd'; allowed:"),
    (('preset = "notebook"', 'preset = "notebook"\nset = { env_id = "evil_module:Env-v0" }'), "env_id"),
    (('title = "Random first"', 'title = "Random first"\nshell = "x"'), "unknown key 'shell'"),
    (('title = "A tiny lesson"', 'title = "\\u001b[31mred"'), None),  # escapes are text: shown escaped, never obeyed
])
def test_a_wrong_lesson_is_refused_in_one_line(tmp_path, change, message):
    text = GOOD.replace(*change)
    if message is None:
        assert load_lesson(write(tmp_path, text)).title == "\x1b[31mred"
        return
    with pytest.raises(LessonError, match=message) as info:
        load_lesson(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_hostile_files_are_bounded_and_never_read_past_their_limit(tmp_path):
    with pytest.raises(LessonError, match=f"at most {MAX_LESSON_BYTES:,}"):
        load_lesson(write(tmp_path, GOOD + "#" * MAX_LESSON_BYTES))
    with pytest.raises(LessonError, match="nested too deeply"):
        load_lesson(write(tmp_path, GOOD + "x = " + "[" * 100_000 + "]" * 100_000))
    with pytest.raises(LessonError, match="not UTF-8"):
        load_lesson(write(tmp_path, b"\xff\xfe" + GOOD.encode()))
    fifo = tmp_path / "fifo.toml"
    import os
    os.mkfifo(fifo)
    with pytest.raises(LessonError, match="not a regular file"):
        load_lesson(fifo)  # returns at once: nothing waits on a writer
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    with pytest.raises(LessonError, match="system path"):
        load_lesson(tmp_path / "zero.toml")
    with pytest.raises(LessonError, match="neither a shipped lesson"):
        load_lesson("no-such-lesson")


@pytest.mark.parametrize("name", lesson_names())
def test_each_shipped_lesson_passes_lesson_check_on_the_real_engine(name):
    out = subprocess.run([sys.executable, "main.py", "lesson", "check", name], cwd=ROOT, capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stdout + out.stderr
    lesson = load_lesson(name)
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "all checks passed" and len(lines) == len(lesson.steps) + 2
    assert all(": passed — " in line or ": no check" in line for line in lines[1:-1])


def test_lesson_list_and_a_bad_file_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "main.py", "lesson", "list"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == len(lesson_names()) >= 2
    bad = write(tmp_path, GOOD.replace('do = "random"', 'do = "\x1b]0;owned\x07"'))
    out = subprocess.run([sys.executable, "main.py", "lesson", "check", str(bad)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 2 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert "\x1b" not in out.stderr and "\\x1b" in out.stderr


def test_value_jumps_is_large_when_the_target_is_copied_every_step_and_small_with_a_soft_target():
    """The 'Why a target network' step's metric on real 30-episode runs of the notebook's preset: a target
    copied after every step moves with every update, so the start state's max Q jumps (4.4 to 6.8 per episode
    on seeds 1412, 1, 2) where the soft target's moves about 0.2."""
    from sandbox.app.lesson_run import TRAINER_METRICS
    from sandbox.core.config import load_preset
    from sandbox.core.trainer import Trainer

    def jumps(**changes) -> float:
        trainer = Trainer(load_preset("notebook").with_changes(max_episodes=30, **changes))
        try:
            trainer.run()
            return TRAINER_METRICS["value_jumps"](trainer)
        finally:
            trainer.close()

    soft, every_step = jumps(), jumps(target_update="hard", target_update_interval=1)
    assert 0 < soft < 0.5 and every_step > 2.0 and every_step > 10 * soft
