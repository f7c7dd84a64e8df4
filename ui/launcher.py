"""The `rl-sandbox` command (and `python main.py` in a checkout): without a subcommand it opens the
app; the subcommands run the same engine headless. It lives in ui/ because `gui` and `screenshot`
open the window (imported only when asked for), and the core never imports ui/.

Arguments are echoed in messages only through `sandbox.io.text` (escaped, cut): what is typed or
pasted cannot drive the terminal.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sandbox.cli.args import OneLineParser, bounded_int, run_command
from sandbox.cli.commands import add_commands
from sandbox.cli.lesson import add_lesson_commands
from sandbox.cli.tune import add_tune_commands
from sandbox.io.text import shown


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {shown(text)} is not WIDTHxHEIGHT, e.g. 1400x900") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise argparse.ArgumentTypeError(f"size {shown(text)}: width and height must be from 200 to 8000")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="rl-sandbox", description="Train a DQN agent and watch it learn. "
                           "Without a command, opens the desktop app.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("agent_file", nargs="?", type=Path, help="an .agent file to open")
    gui.set_defaults(func=_gui)
    add_commands(sub)
    add_tune_commands(sub)
    add_lesson_commands(sub)
    shot = sub.add_parser("screenshot", help="save a PNG of the real main window, optionally after training",
                          description="Build the main window offscreen, optionally train N episodes through "
                          "the real worker, and save a PNG of the whole window.")
    shot.add_argument("out", type=Path, help="PNG file to write")
    shot.add_argument("--episodes", type=bounded_int(0, 100_000), default=0,
                      help="episodes to train first (default 0)")
    shot.add_argument("--size", type=_size, default=(1400, 900), metavar="WxH", help="window size (default 1400x900)")
    shot.add_argument("--preset", default=None, help="preset to load first")
    shot.set_defaults(func=_screenshot)
    return parser


def _gui(args: argparse.Namespace) -> int:
    from ui.app import run_app

    return run_app(getattr(args, "agent_file", None))


def _screenshot(args: argparse.Namespace) -> int:
    from ui.screenshot import take_screenshot

    return take_screenshot(args.out, args.episodes, args.size, args.preset)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or one line for a bad argument: return its code to callers
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        return _gui(args)
    return run_command(args)

