"""The `tune` and `tune show` subcommands (hyperparameter search on Optuna, `sandbox/tune/search.py`).

What they print from a storage (study names, env ids, params, attributes) was written elsewhere,
perhaps by an attacker: every such string goes through `sandbox/io/text.py`, escaped and cut, so no
terminal escape, carriage return or fake `error:` line reaches the terminal, and no megabyte param.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sandbox.cli.args import SEED, UsageError, bounded_int
from sandbox.core.config import ConfigError, load_config_file, load_preset, preset_names
from sandbox.core.envs import EnvError
from sandbox.core.trainer import limit_threads
from sandbox.io.files import PathError
from sandbox.io.text import cut, escaped, line, shown
from sandbox.tune.recheck import RECHECK_SEEDS, RECHECK_TOP, Recheck, fresh_seeds, read_recheck, run_recheck
from sandbox.tune.results import (
    best_trials,
    check_export,
    export_best,
    importances,
    named_best,
    trial_progress,
    trial_state,
    unsolved_part,
    value_words,
)
from sandbox.tune.search import (
    DONE_STATES,
    OBJECTIVES,
    PRUNERS,
    SAMPLERS,
    SPEC_LIMITS,
    TRIALS_LIMIT,
    TuneSpec,
    count,
    default_storage_url,
    load_study,
    make_spec,
    open_storage,
    prepare_study,
    shown_url,
    stored_spec,
    study_name_problem,
)
from sandbox.tune.space import TuneError, build_space, parse_params
from sandbox.tune.workers import WorkerPlan, run_worker, start_workers

# Options that define what a study searches; given when joining a study, they must match it.
SEARCH_OPTIONS = ("preset", "config", "env", "params", "set", "objective", "seeds", "budget", "eval_every",
                  "eval_episodes")
MAX_PARAM_TEXT = 60  # characters of one param value printed in a trials table
MAX_NAME_TEXT = 40  # … and of a param's name


def _study_name(text: str) -> str:
    if problem := study_name_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def add_tune_commands(sub: argparse._SubParsersAction) -> None:
    """Register `tune` (and its `show`) on the CLI's subparsers."""
    tune = sub.add_parser(
        "tune", help="search hyperparameters with Optuna (several seeds per trial, scored by their median)",
        description="Search hyperparameters with Optuna. Each trial trains --seeds seeds of one config and is "
        "scored by their median; greedy evaluations every --eval-every episodes go to the pruner. Studies are "
        "stored (SQLite in the user data folder by default) and continue where they stopped; workers on other "
        "machines join with --study NAME --storage URL.")
    source = tune.add_mutually_exclusive_group()
    source.add_argument("--preset", help=f"config every trial starts from ({', '.join(preset_names())}); "
                        "default: notebook")
    source.add_argument("--config", type=Path, help="TOML or JSON config file to start from")
    tune.add_argument("--env", help="gymnasium env id (overrides the preset)")
    tune.add_argument("--params", metavar="A,B,...", help="parameters to search (default: learning_rate, batch_size, "
                      "gamma, update_interval, update_times, n_step, epsilon_decay, steps_per_decay, "
                      "explore_duration, memory_capacity, target_update_interval, hidden_units, loss)")
    tune.add_argument("--set", action="append", default=None, metavar="NAME=RANGE",
                      help="narrow a range (learning_rate=1e-4..1e-3), pick choices (loss=mse,huber) or fix a value "
                      "(memory_capacity=50000); repeatable")
    tune.add_argument("--objective", choices=OBJECTIVES, help="steps: env steps to solve (greedy, 100 episodes; "
                      "default); score: best greedy mean")
    tune.add_argument("--seeds", type=bounded_int(*SPEC_LIMITS["seeds"]), help="seeds trained per trial, scored by "
                      "their median (default 3)")
    tune.add_argument("--budget", type=bounded_int(*SPEC_LIMITS["budget"]), metavar="STEPS",
                      help="env steps per seed of a trial (default 100000)")
    tune.add_argument("--eval-every", type=bounded_int(*SPEC_LIMITS["eval_every"]), metavar="EPISODES",
                      help="episodes between greedy evaluations (default 20)")
    tune.add_argument("--eval-episodes", type=bounded_int(*SPEC_LIMITS["eval_episodes"]), metavar="N",
                      help="episodes of each greedy evaluation (default 100)")
    tune.add_argument("--trials", type=bounded_int(*TRIALS_LIMIT), default=50,
                      help="finished trials the study should hold (a rerun completes the rest; default 50)")
    tune.add_argument("--timeout", type=bounded_int(1, 10**8), metavar="SECONDS",
                      help="wall time after which no new trial starts")
    tune.add_argument("--jobs", type=bounded_int(1, 256), default=1, metavar="K",
                      help="worker processes on this machine (default 1)")
    tune.add_argument("--pruner", choices=PRUNERS, default="median",
                      help="stop hopeless trials early: median (default) is Optuna's median pruner; progress ranks "
                      "trials by value, then by how high their greedy policy swings (MountainCar's energy), and "
                      "cuts those behind half the others (on MountainCar it spends a third of the env steps but "
                      "loses the best trial: benchmarks/RESULTS.md section 8)")
    tune.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="default tpe")
    tune.add_argument("--seed", type=SEED, default=0, help="sampler seed: the same seed gives the same study "
                      "with --jobs 1 (default 0)")
    tune.add_argument("--heartbeat", type=bounded_int(1, 3600), default=30, metavar="SECONDS",
                      help="workers beat this often; a trial silent for 3 beats is retried (default 30)")
    tune.add_argument("--recheck", type=bounded_int(0, 100), default=RECHECK_TOP, metavar="K",
                      help=f"when the search ends, train the K trials with the best values again on {RECHECK_SEEDS} "
                      "seeds no trial saw (same objective, median) and name the best on those the study's best "
                      f"(default {RECHECK_TOP}; 0: skip, the best value is named, marked not re-checked)")
    _storage_options(tune)
    tune.add_argument("--export-best", type=Path, metavar="FILE",
                      help="write the best trial's full config as TOML (train --config FILE reads it)")
    tune.set_defaults(func=cmd_tune)
    inner = tune.add_subparsers(dest="tune_command", metavar="show", parser_class=type(tune))
    show = inner.add_parser("show", help="print a study's trials and parameter importances",
                            description="Print a study's trials and parameter importances.")
    _storage_options(show)
    show.add_argument("--export-best", type=Path, metavar="FILE", help="also write the best trial's config as TOML")
    show.set_defaults(func=cmd_show)


def _storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--study", type=_study_name, default="tune", help="study name (default tune)")
    parser.add_argument("--storage", metavar="URL", help="Optuna storage URL, e.g. "
                        "postgresql+psycopg://user:pw@host/db (default: sqlite tune.db in the user data folder)")


def _spec(args: argparse.Namespace) -> TuneSpec:
    space, fixed = build_space(parse_params(args.params) if args.params is not None else None, args.set or [])
    base = load_config_file(args.config) if args.config else load_preset(args.preset or "notebook")
    if args.env is not None:
        fixed["env_id"] = args.env
    base = base.with_changes(**fixed)
    return make_spec(base, space, args.objective or "steps", args.seeds or 3, args.budget or 100_000,
                     args.eval_every or 20, args.eval_episodes or 100)


@contextlib.contextmanager
def storage_faults(study: str) -> Iterator[None]:
    """Whatever Optuna raises on rows another version, machine or person wrote (a param of infinity, a
    distribution that is not JSON, an unknown state), or on a storage that fails mid-write (a full
    disk), is one line: `tune` and `tune show` read untrusted storage by design."""
    try:
        yield
    except (UsageError, ConfigError, PathError, EnvError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise UsageError(f"study {shown(study)}: its storage failed or holds what cannot be read "
                         f"({type(exc).__name__}: {line(str(exc), 200)})") from None


def cmd_tune(args: argparse.Namespace) -> int:
    with storage_faults(args.study):
        return _tune(args)


def cmd_show(args: argparse.Namespace) -> int:
    with storage_faults(args.study):
        return _show(args)


def _tune(args: argparse.Namespace) -> int:
    limit_threads()
    spec = _spec(args)
    export = check_export(args.export_best)
    url = args.storage or default_storage_url()
    storage = open_storage(url, args.heartbeat)
    explicit = any(getattr(args, name) is not None for name in SEARCH_OPTIONS)
    study, spec, existed = prepare_study(storage, args.study, spec, explicit)
    done = count(study, *DONE_STATES)
    joined = f"joined, {done} finished trials; " if existed else ""
    print(line(f"study {shown(args.study, 120)} in {shown_url(url)}: {joined}"
               f"objective {spec.objective} ({spec.direction}), {spec.seeds} seeds per trial (median), budget "
               f"{spec.budget:,} steps per seed, greedy check of {spec.eval_episodes} episodes every "
               f"{spec.eval_every}"))
    print(line("searching: " + "; ".join(d.describe() for d in spec.space.values())))
    deadline = time.time() + args.timeout if args.timeout else None
    plans = [WorkerPlan(url, args.study, args.trials, deadline, args.sampler, args.seed, args.pruner, args.heartbeat,
                        worker=i) for i in range(args.jobs)]
    failed = False
    with tqdm(total=args.trials, initial=min(done, args.trials), unit="trial", leave=False, file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        def progress(st: Any, _trial: Any = None) -> None:
            bar.n = min(count(st, *DONE_STATES), args.trials)
            best = best_trials(st, 1)
            if best:
                bar.set_postfix_str(f"best {best[0].value:g} (#{best[0].number})", refresh=False)
            bar.refresh()

        try:
            if args.jobs == 1:
                run_worker(plans[0], on_trial=progress)
            else:
                procs = start_workers(plans)
                while any(p.is_alive() for p in procs):
                    for p in procs:
                        p.join(timeout=1.0 / len(procs))
                    progress(study)
                for i, p in enumerate(procs):
                    if p.exitcode != 0:
                        failed = True
                        print(f"error: worker {i} (pid {p.pid}) exited with code {p.exitcode}; a rerun retries its "
                              "trial", file=sys.stderr)
        except KeyboardInterrupt:
            print("interrupted: rerun the same command to continue the study", file=sys.stderr)
            failed = True
    recheck = None
    if not failed and args.recheck > 0 and count(study, "COMPLETE"):
        seeds = fresh_seeds(study, spec)
        print(line(f"re-checking the best {args.recheck} trials on {len(seeds)} unseen seeds "
                   f"({', '.join(map(str, seeds))})"))
        try:
            recheck = run_recheck(study, spec, args.jobs, top=args.recheck)
        except KeyboardInterrupt:
            print("interrupted: the re-check was not stored; rerun the same command to re-check", file=sys.stderr)
            failed = True
    print_trials(study, spec, best_only=True, recheck=recheck)
    if export is not None:
        _export(study, spec, export)
    return 1 if failed else 0


def _show(args: argparse.Namespace) -> int:
    export = check_export(args.export_best)
    url = args.storage or default_storage_url()
    storage = open_storage(url)
    study = load_study(storage, args.study)
    spec = stored_spec(args.study, study.user_attrs)  # checked before anything is printed
    print(line(f"study {shown(args.study, 120)} in {shown_url(url)}: direction {study.direction.name.lower()}"))
    if spec is not None:
        print(line(f"objective {spec.objective}, {spec.seeds} seeds per trial, budget {spec.budget:,} steps per "
                   f"seed, env {spec.base['env_id']}"))
    print_trials(study, spec, best_only=False, recheck=read_recheck(study))
    found = importances(study)
    if isinstance(found, str):
        print(line(f"parameter importances: {found}"))
    else:
        print("parameter importances (Optuna's default evaluator):")
        for name, value in found.items():
            print(f"  {_name(name):<24} {value:6.3f}")
    if export is not None:
        if spec is None:
            raise TuneError(f"study {shown(args.study)} was not made by rl-sandbox tune; nothing to export")
        _export(study, spec, export)
    return 0


def _export(study: Any, spec: TuneSpec, path: Path) -> None:
    export_best(study, spec, path)
    print(line(f"saved the best trial's config to {path} (train --config {path})"))


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _name(name: Any) -> str:
    return escaped(cut(name, MAX_NAME_TEXT)) if isinstance(name, str) else shown(name, MAX_NAME_TEXT)


def _param(value: Any) -> str:
    """A param as a trials table prints it: floats to 4 digits, text as it is (escaped, cut), others as repr."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return escaped(cut(value, MAX_PARAM_TEXT))
    return shown(value, MAX_PARAM_TEXT)


def _params(params: dict[str, Any]) -> str:
    return "  ".join(f"{_name(k)}={_param(v)}" for k, v in params.items())


def print_recheck(study: Any, spec: TuneSpec | None, recheck: Recheck | None) -> None:
    """The re-check's trials and the best the study names (re-checked, or marked not re-checked)."""
    if recheck is not None:
        print(line(f"re-check on {len(recheck.seeds)} unseen seeds ({', '.join(map(str, recheck.seeds[:10]))}):", 300))
        for r in recheck.trials:
            seeds = "  ".join(f"{shown(s.get('seed'), 20)}: {_seed_words(s)}" for s in r.seeds)
            print(line(f"  #{r.number:>4}  study {r.study_value:.6g}  re-check {r.value:.6g}  "
                       f"({r.solved}/{len(r.seeds)} solved)  {seeds}", 400))
    best = named_best(study, recheck)
    if best is not None:
        print(line(best.words(len(recheck.seeds) if recheck is not None else RECHECK_SEEDS), 400))


def _seed_words(summary: dict) -> str:
    """One re-checked seed: 'solved at N' or 'unsolved' (a stored summary, of any type)."""
    at = summary.get("solved_at")
    return f"solved at {at:,}" if isinstance(at, int) and not isinstance(at, bool) else "unsolved"


def print_trials(study: Any, spec: TuneSpec | None, best_only: bool, recheck: Recheck | None = None) -> None:
    """All trials (`tune show`), or the best five complete ones (end of `tune`); `spec` None: not made by
    `tune`. Words as in the Tune table: 'stopped' for a trial a Stop in the app ended, a value holding an
    unsolved seed's penalty as 'unsolved (… = budget + penalty)', a running trial's progress."""
    trials = best_trials(study, 5) if best_only else study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        states[trial_state(t)] = states.get(trial_state(t), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no trials"
    print(f"{'best trials' if best_only else 'trials'} ({summary}):")
    if not trials:
        return
    objective, budget = (spec.objective, spec.budget) if spec is not None else ("", None)
    print(f"  {'#':>4}  {'state':<9} {'value':>12}  params")
    for t in trials:
        retry = t.system_attrs.get("failed_trial")
        note = f"  (retry of #{shown(retry, 20)})" if retry is not None else ""
        if progress := trial_progress(t):
            note += f"  ({progress})"
        value = value_words(_value(t.value), unsolved_part(t, objective, budget))
        print(line(f"  {t.number:>4}  {trial_state(t):<9} {value:>12}  {_params(t.params)}{note}"))
    print_recheck(study, spec, recheck)
