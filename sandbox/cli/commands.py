"""Headless subcommands (`train`, `evaluate`): the same engine as the app, without a window.

What they print that came from outside (an agent file's hints, a file name, an exception's text)
goes through `sandbox.io.text.line`: one escaped, bounded line, so a file cannot drive the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from sandbox.cli.args import EPISODES, SEED, UsageError, bounded_int, say_error
from sandbox.core.agent import resolve_device
from sandbox.core.config import (
    DEFAULT_DEVICE,
    FIELDS,
    Config,
    ConfigError,
    load_config_file,
    load_preset,
    parse_assignments,
    preset_names,
)
from sandbox.core.diagnostics import Hint, diagnose
from sandbox.core.trainer import EpisodeStats, Trainer, TrainingDiverged, limit_threads
from sandbox.io.files import PathError, atomic_write, check_output, data_dir, same_file, shown_path
from sandbox.io.text import escaped, line

if TYPE_CHECKING:
    from sandbox.app.best import BestAgent
    from sandbox.formats.timeline import Timeline

MAX_HINT_LINE = 500  # a saved hint, as printed (the schema allows 2,000 characters)
DEVICES = FIELDS["device"].metadata["choices"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an agent headless and print per-episode stats",
                           description="Train a DQN agent without a window.")
    source = train.add_mutually_exclusive_group()
    source.add_argument("--preset", help=f"named preset ({', '.join(preset_names())}); default: notebook")
    source.add_argument("--config", type=Path, help="TOML or JSON file of name = value pairs")
    source.add_argument("--resume", type=Path, metavar="FILE", help="continue training an agent file")
    train.add_argument("--env", help="gymnasium env id (overrides the preset)")
    train.add_argument("--from-episode", type=bounded_int(0, 10**9), metavar="N",
                       help="with --resume: continue from the file's timeline checkpoint at episode N instead of "
                            "its end (with no --set, the original run from N, bit for bit; --set may change live "
                            "parameters: a branch)")
    train.add_argument("--episodes", type=EPISODES, help="episodes to train (with --resume: this many more)")
    train.add_argument("--seed", type=SEED, help="random seed (overrides the preset)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override any parameter, e.g. --set learning_rate=5e-4 (repeatable)")
    train.add_argument("--log-jsonl", type=Path, metavar="FILE", help="write one JSON object per episode")
    train.add_argument("--tensorboard", type=Path, metavar="DIR",
                       help="write TensorBoard event files (CleanRL's tags) into a subfolder of DIR, one per run")
    train.add_argument("--save", type=Path, metavar="FILE", help="save the agent file here when done")
    train.add_argument("--save-best", type=Path, metavar="FILE",
                       help="also save the agent at its best point: its best greedy evaluation (with solve_rule "
                            "training_mean, its best moving average); DQN often peaks, then collapses")
    train.add_argument("--no-memory", action="store_true",
                       help="leave the replay memory out of --save (smaller file; resume is then not exact; "
                            "add --no-timeline too for the smallest: the timeline keeps its own transitions)")
    train.add_argument("--no-timeline", action="store_true",
                       help="leave the run's timeline (its exact checkpoints, for --from-episode) out of --save")
    train.add_argument("--every", type=EPISODES, default=1, metavar="K", help="print every K-th episode (default 1)")
    train.add_argument("--eval-episodes", type=bounded_int(0, 10**6), default=10, metavar="N",
                       help="greedy episodes in the final evaluation (0 = none; default 10)")
    train.add_argument("--quiet", action="store_true", help="print only the summary")
    _add_device(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="run greedy episodes of a saved agent",
                        description="Evaluate a saved agent greedily (no exploration, no learning).")
    ev.add_argument("agent_file", type=Path, help="an .agent file")
    ev.add_argument("--episodes", type=bounded_int(1, 10**6), default=100, help="greedy episodes (default 100)")
    ev.add_argument("--seed", type=SEED, help="evaluation env seed (default: derived from the agent's seed)")
    _add_device(ev)
    ev.set_defaults(func=cmd_evaluate)


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=DEVICES, help="torch device to run on: this machine's choice, not the "
                        "agent file's (default: cpu, faster than a GPU for nets this small; auto = cuda if present)")


def build_config(args: argparse.Namespace) -> Config:
    config = load_config_file(args.config) if args.config else load_preset(args.preset or "notebook")
    changes = parse_assignments(args.set)
    if args.env is not None:
        changes["env_id"] = args.env
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.episodes is not None:
        changes["max_episodes"] = args.episodes
    if args.device is not None:
        changes["device"] = args.device
    return config.with_changes(**changes)


def _resume(path: Path, device: str, episode: int | None) -> tuple[Trainer, Timeline]:
    """The trainer to continue (the file's end, or its checkpoint at `episode`) and its timeline."""
    from sandbox.formats.agent_file import AgentFileError, load_agent, trainer_at
    from sandbox.formats.agent_state import optimizer_info
    from sandbox.formats.timeline import Timeline

    try:
        loaded = load_agent(path, device=device)
    except AgentFileError as exc:
        raise UsageError(str(exc)) from None
    trainer, timeline = loaded.trainer, loaded.timeline
    if episode is None:
        return trainer, timeline if timeline is not None else Timeline.start(trainer)
    try:
        if timeline is None:
            raise UsageError(f"{shown_path(path)} has no timeline (it was saved with --no-timeline or by an older "
                             "version), so it can only be resumed from its end")
        try:
            index = timeline.index_at(episode)
        except ValueError as exc:
            raise UsageError(f"{shown_path(path)}: {exc}") from None
        try:
            branch = trainer_at(timeline, index, trainer.history, trainer.config, optimizer_info(trainer.agent),
                                device=device)
        except AgentFileError as exc:
            raise UsageError(str(exc)) from None
    finally:
        trainer.close()
    past = timeline.until(index)
    past.follow(branch)
    return branch, past


def _load(path: Path, device: str) -> Trainer:
    from sandbox.formats.agent_file import AgentFileError, load_trainer

    try:
        return load_trainer(path, device=device)
    except AgentFileError as exc:
        raise UsageError(str(exc)) from None


def check_outputs(args: argparse.Namespace) -> dict[str, Path]:
    """Every output of `train`, checked before training starts: the run is never lost to a bad path.

    No two outputs may be one file, and no output may be an input (`--save` onto the `--resume`
    file excepted: continuing a file in place is what resuming is for).
    """
    named = {"--save": args.save, "--save-best": args.save_best, "--log-jsonl": args.log_jsonl}
    outputs = {flag: check_output(path, flag) for flag, path in named.items() if path is not None}
    inputs = {"--resume": args.resume, "--config": args.config}
    flags = list(outputs)
    for i, flag in enumerate(flags):
        for other in flags[:i]:
            if outputs[flag] == outputs[other] or same_file(outputs[flag], outputs[other]):
                raise UsageError(f"{other} and {flag} name the same file {shown_path(outputs[flag])}")
        for source, path in inputs.items():
            if path is not None and same_file(outputs[flag], path) and (flag, source) != ("--save", "--resume"):
                raise UsageError(f"{flag} {shown_path(outputs[flag])} is the {source} file: it would be overwritten")
    return outputs


class EpisodeLog:
    """The --log-jsonl file; a write error stops the log with one line, never the training."""

    def __init__(self, path: Path | None) -> None:
        self.path: Path | None = path
        self.error: str | None = None
        try:
            self._file = open(path, "w", encoding="utf-8", buffering=1) if path else None  # noqa: SIM115
        except OSError as exc:
            raise PathError(f"--log-jsonl {shown_path(path or '')}: {exc.strerror or exc}") from None

    def episode_ended(self, trainer: Trainer, stats: EpisodeStats) -> None:  # a trainer observer
        self.write(stats)

    def write(self, stats: EpisodeStats) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(_jsonable(stats)) + "\n")
        except OSError as exc:
            self.error = f"could not write the episode log {shown_path(self.path or '')}: {exc.strerror or exc}"
            say_error(f"{self.error}; logging stopped, training continues")
            self.close()

    def write_summary(self, trainer: Trainer, hints: list[Hint]) -> None:
        """The last line: the run's outcome and the coach's hints (direction, size, evidence)."""
        if self._file is None and self.error is None and self.path is not None:
            try:
                self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            except OSError:
                return
        if self._file is None:
            return
        try:
            self._file.write(json.dumps({"summary": {"episodes": trainer.episodes_done, "steps": trainer.total_steps,
                                                     "solved": trainer.solved,
                                                     "hints": [h.to_json() for h in hints]}}) + "\n")
        except OSError as exc:
            say_error(f"could not write the summary to {shown_path(self.path or '')}: {exc.strerror or exc}")
        self.close()

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


def cmd_train(args: argparse.Namespace) -> int:
    from sandbox.formats.timeline import Timeline

    limit_threads()  # an entry point: one torch thread, one BLAS thread
    if args.from_episode is not None and not args.resume:
        raise UsageError("--from-episode needs --resume FILE: the file whose timeline holds the checkpoint")
    if args.resume:
        if (args.set and args.from_episode is None) or args.env is not None or args.seed is not None \
                or args.preset or args.config:
            raise UsageError("--resume continues a saved run as it was; only --episodes, --device, --save, output "
                             "options and, with --from-episode, --set of live parameters can be given with it")
        device = args.device or DEFAULT_DEVICE
        resolve_device(device)  # `--device cuda` without CUDA: refused before the file is read
        outputs = check_outputs(args)
        trainer, timeline = _resume(args.resume, device, args.from_episode)
        if args.set:
            try:
                trainer.apply(parse_assignments(args.set))
            except ConfigError:
                trainer.close()
                raise
        if args.from_episode is None:
            _say_resume_note(args.resume)
        if args.episodes is not None or args.from_episode is None:
            episodes = args.episodes if args.episodes is not None else trainer.config.max_episodes
            trainer.apply({"max_episodes": min(trainer.episodes_done + episodes, 10**9)})
        episodes = max(trainer.config.max_episodes - trainer.episodes_done, 0)
    else:
        config = build_config(args)
        resolve_device(config.device)
        outputs = check_outputs(args)
        trainer = Trainer(config)
        timeline = Timeline.start(trainer)
        episodes = trainer.config.max_episodes
    keeper = BestKeeper() if args.save_best else None
    log = EpisodeLog(outputs.get("--log-jsonl"))  # opened before training: a refusal costs no work
    board = None
    if args.tensorboard:
        from sandbox.formats.event_log import TensorBoardLog, log_folder  # tensorboardX, only when asked for

        board = TensorBoardLog(log_folder(args.tensorboard), trainer.config, say_error)
    trainer.observers += [log] + [o for o in (keeper, board) if o is not None]
    started = time.perf_counter()
    first = trainer.episodes_done
    failed = False
    try:
        with tqdm(total=episodes, unit="ep", disable=args.quiet or not sys.stderr.isatty(), leave=False,
                  file=sys.stderr) as bar:
            while not trainer.finished:
                stats = trainer.run_episode()
                bar.update(1)
                if not args.quiet and (stats.index + 1) % args.every == 0:
                    tqdm.write(format_episode(stats, trainer.config.max_episodes), file=sys.stdout)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except TrainingDiverged as exc:
        say_error(f"training stopped: {exc}")
        failed = True
    finally:
        log.close()
        if board is not None:
            board.close(trainer)
    _print_summary(trainer, time.perf_counter() - started, first, args.eval_episodes, sys.stdout)
    coach = diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon, finished=True)
    for hint in coach:
        print(f"coach: {line(hint.line())}")
    log.write_summary(trainer, coach)
    if args.save:
        failed |= not _save(trainer, args.save, not args.no_memory, None if args.no_timeline else timeline)
    if args.save_best:
        failed |= not _save_best(keeper.best if keeper is not None else None, trainer, args.save_best)
    trainer.close()
    return 1 if failed or log.error or (board is not None and board.error) else 0


def _say_resume_note(path: Path) -> None:
    from sandbox.formats.agent_file import file_info, resume_note

    note = resume_note(file_info(path))
    if note:
        print(f"note: {line(note)}", file=sys.stderr)


class BestKeeper:
    """`--save-best`: an observer offering each episode to the best agent; a snapshot that cannot be
    taken ends keeping, said in one line (training goes on)."""

    def __init__(self) -> None:
        from sandbox.app.best import BestAgent

        self.best: BestAgent | None = BestAgent()

    def episode_ended(self, trainer: Trainer, stats: EpisodeStats) -> None:
        from sandbox.formats.agent_file import AgentFileError

        if self.best is None:
            return
        try:
            self.best.offer(trainer, stats)
        except AgentFileError as exc:
            say_error(f"no best agent is kept from episode {stats.index + 1} on: {exc}")
            self.best = None


def _save(trainer: Trainer, path: Path, include_memory: bool, timeline: Timeline | None) -> bool:
    """Save to `path`, else to the data folder (saying where); returns whether `path` was written."""
    from sandbox.formats.agent_file import AgentFileError, to_bytes

    try:
        data = to_bytes(trainer, include_memory, timeline=timeline)
    except AgentFileError as exc:
        say_error(str(exc))
        return False
    return _write(data, path, "agent")


def _write(data: bytes, path: Path, what: str) -> bool:
    try:
        atomic_write(path, data, f"{what} file")
    except PathError as exc:
        say_error(str(exc))
        try:
            rescue = data_dir() / "rescued" / f"{path.stem[:60]}-{time.strftime('%Y%m%d-%H%M%S')}.agent"
            rescue.parent.mkdir(exist_ok=True)
            atomic_write(rescue, data, f"rescued {what} file")
        except (OSError, PathError) as again:
            say_error(f"the {what} could not be saved anywhere: {again}")
            return False
        print(f"saved the {what} to {shown_path(rescue)} instead ({len(data) / 1e6:.1f} MB)", file=sys.stderr)
        return False
    print(f"saved {'the ' + what + ' to ' if what != 'agent' else ''}{shown_path(path)} ({len(data) / 1e6:.1f} MB)")
    return True


def _save_best(best: BestAgent | None, trainer: Trainer, path: Path) -> bool:
    if best is None:
        return False
    if best.mark is None:
        wait = (f"no greedy evaluation yet (every {trainer.config.eval_every} episodes)"
                if trainer.config.solve_rule == "greedy" else
                f"fewer than {trainer.config.solve_window} episodes (the moving-average window)")
        print(f"no best agent to save: {wait}", file=sys.stderr)
        return True
    print(f"the best agent: {line(best.mark.describe())}")
    return _write(best.data, path, "best agent")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from sandbox.core.evaluate import EVAL_SEED_OFFSET, evaluate
    from sandbox.formats.agent_file import file_info

    limit_threads()
    device = args.device or DEFAULT_DEVICE
    resolve_device(device)
    trainer = _load(args.agent_file, device)
    seed = args.seed if args.seed is not None else trainer.config.seed + EVAL_SEED_OFFSET
    result = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, args.episodes, seed, trainer.threshold)
    verdict = "solved" if result.solved else "not solved"
    print(f"{escaped(trainer.spec.env_id)}: {args.episodes} greedy episodes, mean {result.mean:.1f} ± {result.std:.1f} "
          f"(min {result.min:.0f}, max {result.max:.0f}), success {result.success_rate:.0%}: {verdict}")
    trainer.close()
    for hint in file_info(args.agent_file).hints:  # as the file holds them: text from outside
        print(f"coach when saved: {line(hint, MAX_HINT_LINE)}")
    return 0


def format_episode(s: EpisodeStats, total: int) -> str:
    loss = "    -   " if math.isnan(s.mean_loss) else f"{s.mean_loss:8.4f}"
    end = "goal" if s.terminated else "cut "
    return (f"ep {s.index + 1:>5}/{total}  score {s.score:8.1f}  avg {s.moving_average:8.1f}  {end} "
            f"len {s.length:4d}  eps {s.epsilon:.3f}  loss {loss}  steps {s.total_steps:>8}  "
            f"{s.steps_per_second:6.0f} st/s" + (f"  greedy {s.greedy_mean:7.1f}" if s.evaluated else "")
            + ("  SOLVED" if s.solved else ""))


def _jsonable(stats: EpisodeStats) -> dict:
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(stats).items()}


def _print_summary(trainer: Trainer, seconds: float, first: int, eval_episodes: int, out: TextIO) -> None:
    from sandbox.core.evaluate import EVAL_SEED_OFFSET, evaluate

    eps = trainer.history.episodes
    ran = eps[first:]
    steps = sum(e.length for e in ran)
    print(f"--- {len(ran)} episodes, {steps} steps in {seconds:.1f} s ({steps / max(seconds, 1e-9):.0f} steps/s)",
          file=out)
    if eps:
        c = trainer.config
        best = max(eps, key=lambda e: e.moving_average)
        print(f"training moving average ({c.solve_window} episodes): best {best.moving_average:.1f} at episode "
              f"{best.index + 1}; last {eps[-1].moving_average:.1f}", file=out)
        evals = [e for e in eps if e.evaluated]
        if evals:
            top = max(evals, key=lambda e: e.greedy_mean)
            print(f"greedy evaluations ({c.eval_episodes} episodes every {c.eval_every}): best {top.greedy_mean:.1f} "
                  f"at episode {top.index + 1}; last {evals[-1].greedy_mean:.1f}", file=out)
        rule = ("greedy evaluation" if c.solve_rule == "greedy" else "training moving average")
        solved = next((e for e in eps if e.solved), None)
        if solved:
            value = solved.greedy_mean if c.solve_rule == "greedy" else solved.moving_average
            print(f"solved at episode {solved.index + 1}, step {solved.total_steps:,} ({rule} {value:.1f} ≥ "
                  f"{trainer.threshold:g})", file=out)
        else:
            values = [e.greedy_mean for e in evals] if c.solve_rule == "greedy" else [e.moving_average for e in eps]
            best_text = f"best {max(values):.1f} vs {trainer.threshold:g}" if values and trainer.threshold is not None \
                else "no evaluation yet"
            print(f"not solved ({rule}: {best_text})", file=out)
    if eval_episodes:
        r = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, eval_episodes,
                     trainer.config.seed + EVAL_SEED_OFFSET, trainer.threshold)
        print(f"final greedy evaluation ({eval_episodes} episodes): mean {r.mean:.1f} ± {r.std:.1f}, "
              f"min {r.min:.0f}, max {r.max:.0f}, success {r.success_rate:.0%}", file=out)
