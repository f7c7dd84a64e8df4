"""What every headless command shares: one-line argument errors, bounded integers, exit code 2.

A command's bad input (arguments, a config, a file, an output path) is one escaped line on stderr
and exit code 2, before any work; `run_command` is that rule's one place.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

import numpy as np

from sandbox.core.config import ConfigError, shown
from sandbox.core.envs import EnvError
from sandbox.io.files import PathError
from sandbox.io.text import line

EXIT_USAGE = 2
MAX_ARGUMENT_ERROR = 400  # argparse quotes what was typed: cut, a pasted file must not flood the terminal


class UsageError(Exception):
    """Bad arguments, config or file: reported as one line and exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors as a single line (no usage dump) with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {line(message, MAX_ARGUMENT_ERROR)}\n")


def say_error(message: str) -> None:
    """One `error:` line on stderr; what the message quotes from outside arrives escaped and bounded."""
    print(f"error: {line(message)}", file=sys.stderr)


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: plain ASCII digits from `low` to `high`, else one line and exit code 2."""

    def parse(text: str) -> int:
        if len(text) > 20 or not re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not allowed; allowed: an integer from {low} to {high}")
        return int(text)

    return parse


SEED = bounded_int(0, 2**31 - 1)
EPISODES = bounded_int(1, 10**9)


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed subcommand; bad input becomes one line on stderr and exit code 2."""
    try:
        with np.errstate(all="ignore"):  # a diverging net is reported by the trainer, once, not by numpy per op
            return args.func(args)
    except (UsageError, ConfigError, EnvError, PathError) as exc:
        say_error(str(exc))
        return EXIT_USAGE
