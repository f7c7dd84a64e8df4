"""The `lesson list` and `lesson check` subcommands: for teachers who write lessons.

`lesson check NAME|FILE` validates the file, then runs every step's experiment on the real engine
and prints one line per step ("step 3 Why a replay memory: passed — …"); it exits 0 only when every
check passes, so a lesson can never claim what the engine does not do. Text from the file is
printed escaped (`sandbox/io/text.py`).
"""

from __future__ import annotations

import argparse

from sandbox.app.lesson import LessonError, lesson_names, load_lesson
from sandbox.app.lesson_run import run_experiment
from sandbox.cli.args import UsageError
from sandbox.core.trainer import limit_threads
from sandbox.io.text import line

EXIT_FAILED = 1


def add_lesson_commands(sub: argparse._SubParsersAction) -> None:
    lesson = sub.add_parser("lesson", help="list the shipped lessons, or check a lesson on the real engine")
    what = lesson.add_subparsers(dest="lesson_command", metavar="ACTION", required=True,
                                 parser_class=type(lesson))
    listing = what.add_parser("list", help="the shipped lessons, one per line")
    listing.set_defaults(func=_list)
    check = what.add_parser("check", help="validate a lesson and run every step's experiment; exit 0 when all pass",
                            description="Validate a lesson (a shipped name or a .toml file), then run each step's "
                            "experiment headless and print one line per step.")
    check.add_argument("lesson", help="a shipped lesson's name (see `lesson list`) or a lesson .toml file")
    check.set_defaults(func=_check)


def _list(args: argparse.Namespace) -> int:
    for name in lesson_names():
        lesson = load_lesson(name)
        print(f"{name}: {line(lesson.title)} ({len(lesson.steps)} steps)")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        lesson = load_lesson(args.lesson)
    except LessonError as exc:
        raise UsageError(str(exc)) from None
    limit_threads()
    print(f"{line(lesson.title)}: {len(lesson.steps)} steps", flush=True)
    failed = 0
    for number, step in enumerate(lesson.steps, 1):
        verdict = run_experiment(step)
        if verdict is None:
            print(f"step {number} {line(step.title)}: no check", flush=True)
            continue
        failed += not verdict.passed
        word = "passed" if verdict.passed else "FAILED"
        print(f"step {number} {line(step.title)}: {word} — {line(verdict.evidence)}", flush=True)
    print("all checks passed" if not failed else f"{failed} check{'s' if failed != 1 else ''} failed")
    return EXIT_FAILED if failed else 0
