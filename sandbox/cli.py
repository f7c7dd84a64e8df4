"""Headless subcommands (`train`, `evaluate`): the same engine as the app, without a window."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from sandbox.config import Config, ConfigError, load_config_file, load_preset, parse_assignments, preset_names
from sandbox.envs import EnvError
from sandbox.trainer import EpisodeStats, Trainer, TrainingDiverged

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad arguments, config or file: reported as one line and exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors as a single line (no usage dump) with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_commands(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an agent headless and print per-episode stats",
                           description="Train a DQN agent without a window.")
    source = train.add_mutually_exclusive_group()
    source.add_argument("--preset", help=f"named preset ({', '.join(preset_names())}); default: notebook")
    source.add_argument("--config", type=Path, help="TOML or JSON file of name = value pairs")
    source.add_argument("--resume", type=Path, metavar="FILE", help="continue training an agent file")
    train.add_argument("--env", help="gymnasium env id (overrides the preset)")
    train.add_argument("--episodes", type=int, help="episodes to train (with --resume: this many more)")
    train.add_argument("--seed", type=int, help="random seed (overrides the preset)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override any parameter, e.g. --set learning_rate=5e-4 (repeatable)")
    train.add_argument("--log-jsonl", type=Path, metavar="FILE", help="write one JSON object per episode")
    train.add_argument("--save", type=Path, metavar="FILE", help="save the agent file here when done")
    train.add_argument("--save-best", type=Path, metavar="FILE",
                       help="also save the agent at its best moving average (DQN often peaks, then collapses)")
    train.add_argument("--no-memory", action="store_true",
                       help="leave the replay memory out of --save (smaller file; resume is then not exact)")
    train.add_argument("--every", type=int, default=1, metavar="K", help="print every K-th episode (default 1)")
    train.add_argument("--eval-episodes", type=int, default=10, metavar="N",
                       help="greedy episodes in the final evaluation (0 = none; default 10)")
    train.add_argument("--quiet", action="store_true", help="print only the summary")
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="run greedy episodes of a saved agent",
                        description="Evaluate a saved agent greedily (no exploration, no learning).")
    ev.add_argument("agent_file", type=Path, help="an .agent file")
    ev.add_argument("--episodes", type=int, default=100, help="greedy episodes (default 100)")
    ev.add_argument("--seed", type=int, help="evaluation env seed (default: derived from the agent's seed)")
    ev.set_defaults(func=cmd_evaluate)


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed subcommand; bad input becomes one line on stderr and exit code 2."""
    try:
        return args.func(args)
    except (UsageError, ConfigError, EnvError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def build_config(args: argparse.Namespace) -> Config:
    config = load_config_file(args.config) if args.config else load_preset(args.preset or "notebook")
    changes = parse_assignments(args.set)
    if args.env:
        changes["env_id"] = args.env
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.episodes is not None:
        changes["max_episodes"] = args.episodes
    return config.with_changes(**changes)


def _check_positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise UsageError(f"{name} = {value} is not allowed; allowed: an integer >= {minimum}")


def cmd_train(args: argparse.Namespace) -> int:
    _check_positive("--episodes", args.episodes)
    _check_positive("--every", args.every)
    _check_positive("--eval-episodes", args.eval_episodes, 0)
    if args.resume:
        from sandbox.agent_file import AgentFileError, load_trainer

        if args.set or args.env or args.seed is not None or args.preset or args.config:
            raise UsageError("--resume continues a saved run as it was; only --episodes, --save and output "
                             "options can be given with it")
        try:
            trainer = load_trainer(args.resume)
        except AgentFileError as exc:
            raise UsageError(str(exc)) from None
        episodes = args.episodes if args.episodes is not None else trainer.config.max_episodes
        trainer.apply({"max_episodes": trainer.episodes_done + episodes})
    else:
        trainer = Trainer(build_config(args))
        episodes = trainer.config.max_episodes
    best = None
    if args.save_best:
        from sandbox.best import BestAgent

        best = BestAgent()
    log = open(args.log_jsonl, "w", encoding="utf-8") if args.log_jsonl else None  # noqa: SIM115
    started = time.perf_counter()
    first = trainer.episodes_done
    try:
        with tqdm(total=episodes, unit="ep", disable=args.quiet or not sys.stderr.isatty(), leave=False,
                  file=sys.stderr) as bar:
            while not trainer.finished:
                stats = trainer.run_episode()
                bar.update(1)
                if best is not None:
                    best.offer(trainer, stats)
                if log:
                    log.write(json.dumps(_jsonable(stats)) + "\n")
                if not args.quiet and (stats.index + 1) % args.every == 0:
                    tqdm.write(format_episode(stats, trainer.config.max_episodes), file=sys.stdout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except TrainingDiverged as exc:
        print(f"training stopped: {exc}", file=sys.stderr)
    finally:
        if log:
            log.close()
    _print_summary(trainer, time.perf_counter() - started, first, args.eval_episodes, sys.stdout)
    if args.save:
        from sandbox.agent_file import save_trainer

        size = save_trainer(trainer, args.save, include_memory=not args.no_memory)
        print(f"saved {args.save} ({size / 1e6:.1f} MB)")
    if best is not None:
        if best.mark is None:
            print(f"no best agent to save: fewer than {trainer.config.solve_window} episodes (the moving-average "
                  "window)", file=sys.stderr)
        else:
            size = best.save(args.save_best)
            print(f"saved the best agent (episode {best.mark.episode + 1}, moving average "
                  f"{best.mark.moving_average:.1f}) to {args.save_best} ({size / 1e6:.1f} MB)")
    trainer.close()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from sandbox.agent_file import AgentFileError, load_trainer
    from sandbox.evaluate import EVAL_SEED_OFFSET, evaluate

    _check_positive("--episodes", args.episodes)
    try:
        trainer = load_trainer(args.agent_file)
    except AgentFileError as exc:
        raise UsageError(str(exc)) from None
    seed = args.seed if args.seed is not None else trainer.config.seed + EVAL_SEED_OFFSET
    result = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, args.episodes, seed, trainer.threshold)
    verdict = "solved" if result.solved else "not solved"
    print(f"{trainer.spec.env_id}: {args.episodes} greedy episodes, mean {result.mean:.1f} ± {result.std:.1f} "
          f"(min {result.min:.0f}, max {result.max:.0f}), success {result.success_rate:.0%}: {verdict}")
    return 0


def format_episode(s: EpisodeStats, total: int) -> str:
    loss = "    -   " if math.isnan(s.mean_loss) else f"{s.mean_loss:8.4f}"
    end = "goal" if s.terminated else "cut "
    return (f"ep {s.index + 1:>5}/{total}  score {s.score:8.1f}  avg {s.moving_average:8.1f}  {end} "
            f"len {s.length:4d}  eps {s.epsilon:.3f}  loss {loss}  steps {s.total_steps:>8}  "
            f"{s.steps_per_second:6.0f} st/s" + ("  SOLVED" if s.solved else ""))


def _jsonable(stats: EpisodeStats) -> dict:
    d = asdict(stats)
    if math.isnan(d["mean_loss"]):
        d["mean_loss"] = None
    return d


def _print_summary(trainer: Trainer, seconds: float, first: int, eval_episodes: int, out: TextIO) -> None:
    from sandbox.evaluate import EVAL_SEED_OFFSET, evaluate

    eps = trainer.history.episodes
    ran = eps[first:]
    steps = sum(e.length for e in ran)
    print(f"--- {len(ran)} episodes, {steps} steps in {seconds:.1f} s ({steps / max(seconds, 1e-9):.0f} steps/s)",
          file=out)
    if eps:
        best = max(eps, key=lambda e: e.moving_average)
        print(f"best moving average {best.moving_average:.1f} at episode {best.index + 1}; "
              f"last {eps[-1].moving_average:.1f}; threshold {trainer.threshold}", file=out)
        solved = next((e for e in eps if e.solved), None)
        print(f"solved at episode {solved.index + 1}" if solved else "not solved", file=out)
    if eval_episodes:
        r = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, eval_episodes,
                     trainer.config.seed + EVAL_SEED_OFFSET, trainer.threshold)
        print(f"greedy evaluation ({eval_episodes} episodes): mean {r.mean:.1f} ± {r.std:.1f}, "
              f"min {r.min:.0f}, max {r.max:.0f}, success {r.success_rate:.0%}", file=out)
