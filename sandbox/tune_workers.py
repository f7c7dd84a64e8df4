"""The worker processes of a search: each joins the study in the storage and runs trials until the study
holds enough of them. No scheduler of our own: Optuna's storage is the only thing the workers share.

A worker that dies mid-trial is noticed by Optuna's heartbeat and its trial retried by the next worker
that looks. One gap is Optuna's own: a trial is created RUNNING before its heartbeat starts, so a worker
killed in between (a Stop in the first milliseconds, the OOM killer) leaves a trial that never goes
stale and would hold a study's last slot for ever. Every worker here claims its trial with its pid
first thing, so a RUNNING trial still unclaimed after the heartbeat's grace period has no worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.trainer import limit_threads
from sandbox.tune import (
    DONE_STATES,
    SPEC_ATTR,
    Objective,
    TuneSpec,
    make_pruner,
    make_sampler,
    open_storage,
)

if TYPE_CHECKING:
    import optuna

START_TIMEOUT = 120.0  # seconds a worker waits for the others to start before it runs alone


@dataclass(frozen=True)
class WorkerPlan:
    """What one worker process needs (picklable: the storage is reopened in the process)."""

    storage_url: str
    study: str
    trials: int  # the study's total of finished (complete or pruned) trials to reach
    deadline: float | None  # time.time() after which no trial starts
    sampler: str = "tpe"
    seed: int = 0
    pruner: str = "median"
    heartbeat: int = 30
    worker: int = 0
    poll: float = field(default=1.0)


def fail_unclaimed(study: optuna.Study, grace: float) -> int:
    """Fail the RUNNING trials no worker claimed within `grace` seconds of their start (see the module)."""
    from optuna.trial import TrialState

    now, failed = datetime.now(), 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if "worker_pid" not in t.user_attrs and t.datetime_start and now - t.datetime_start > timedelta(seconds=grace):
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            failed += 1
    return failed


def run_worker(plan: WorkerPlan, on_trial: Callable[[optuna.Study, Any], None] | None = None,
               started: Callable[[], None] | None = None) -> None:
    """Join the study and run trials until it holds `plan.trials` finished ones or the deadline passes.

    Before each trial it fails the trials of dead workers (stale heartbeats, whose retries are queued
    as WAITING and run first, and unclaimed trials). When the remaining trials all run elsewhere it
    waits for them to end or go stale instead of starting extra ones. `started` is called once the
    study is loaded (the workers of one search start their first trials together).
    """
    import optuna

    limit_threads()  # one torch thread and one BLAS thread per process
    storage = open_storage(plan.storage_url, plan.heartbeat)
    study = optuna.load_study(study_name=plan.study, storage=storage,
                              sampler=make_sampler(plan.sampler, plan.seed + plan.worker))
    spec = TuneSpec.from_json(study.user_attrs[SPEC_ATTR])
    study.pruner = make_pruner(plan.pruner, spec.eval_every)
    objective = Objective(spec, plan.worker)
    callbacks = [on_trial] if on_trial else []
    if started is not None:
        started()
    while True:
        optuna.storages.fail_stale_trials(study)
        fail_unclaimed(study, 3 * plan.heartbeat)
        trials = study.get_trials(deepcopy=False)
        done = sum(t.state.name in DONE_STATES for t in trials)
        waiting = any(t.state.name == "WAITING" for t in trials)
        running = sum(t.state.name == "RUNNING" for t in trials)
        left = None if plan.deadline is None else plan.deadline - time.time()
        if done >= plan.trials or (left is not None and left <= 0):
            return
        if not waiting and done + running >= plan.trials:
            time.sleep(plan.poll)  # the last trials run in other workers: wait until they end or go stale
            continue
        study.optimize(objective, n_trials=1, timeout=left, callbacks=callbacks)


def _worker_main(plan: WorkerPlan, barrier: Any) -> None:
    def started() -> None:
        # Otherwise the first worker to import torch may finish a trial before the last one has looked,
        # and take the trial meant for it: K processes would not mean K trials at once.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(START_TIMEOUT)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every worker; the parent says what happened
        run_worker(plan, started=started)


def start_workers(plans: list[WorkerPlan]) -> list[multiprocessing.process.BaseProcess]:
    """One process per plan (spawned: a fresh interpreter, no GIL shared, no forked torch state)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(plans))
    procs = [ctx.Process(target=_worker_main, args=(plan, barrier), name=f"tune-worker-{plan.worker}")
             for plan in plans]
    for proc in procs:
        proc.barrier = barrier  # type: ignore[attr-defined]  # alive while its processes are: a collected
        proc.start()  # barrier unlinks its semaphores before a slow child has unpickled them
    return procs
