"""The worker processes of a search: each joins the study in the storage and runs trials until the study
holds enough of them. No scheduler of our own: Optuna's storage is the only thing the workers share.

A worker that dies mid-trial is noticed by Optuna's heartbeat and its trial retried by the next worker
that looks. One gap is Optuna's own: a trial is created RUNNING before its heartbeat starts, so a worker
killed in between (a Stop in the first milliseconds, the OOM killer) leaves a trial that never goes
stale and would hold a study's last slot for ever. Every worker here claims its trial first thing
(the trial's own number in its `claimed` attribute: a retry copies its predecessor's attributes), so
a RUNNING trial that a worker has seen unclaimed for the heartbeat's grace period has no worker. The
wait is timed on the watching worker's own clock: machines sharing a study need not agree on the time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sandbox.core.trainer import limit_threads
from sandbox.io.text import line, shown
from sandbox.tune.search import (
    DONE_STATES,
    Objective,
    make_pruner,
    make_sampler,
    open_storage,
    stored_spec,
)
from sandbox.tune.space import TuneError

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


class UnclaimedTrials:
    """Fails the RUNNING trials no worker claimed within `grace` seconds of this worker first seeing them."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.seen: dict[int, float] = {}  # trial number -> when this worker first saw it unclaimed

    def fail_old(self, study: optuna.Study) -> None:
        from optuna.trial import TrialState

        now = time.monotonic()
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        self.seen = {t.number: self.seen.get(t.number, now) for t in running if not claimed(t)}
        for number, since in self.seen.items():
            if now - since > self.grace:
                study.tell(number, state=TrialState.FAIL, skip_if_finished=True)  # another worker may be first


def claimed(trial: Any) -> bool:
    """Claimed by its worker (`Objective` does it first); a pid without a claim is an older version's claim."""
    attrs = trial.user_attrs
    return attrs.get("claimed") == trial.number or ("claimed" not in attrs and "worker_pid" in attrs)


def sampler_seed(plan: WorkerPlan, trials_before: int) -> int:
    """The worker's sampler seed: from `--seed`, the study's name, the worker and the trials the study
    already holds. The same command from the same state draws the same trials (`--jobs 1`), while a
    continued study or one under a new name explores new points instead of repeating its first ones."""
    words = [plan.seed, plan.worker, trials_before, zlib.crc32(plan.study.encode())]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


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
    study = optuna.load_study(study_name=plan.study, storage=storage)
    study.sampler = make_sampler(plan.sampler, sampler_seed(plan, len(study.get_trials(deepcopy=False))))
    spec = stored_spec(plan.study, study.user_attrs)  # checked again: it may have changed since it was joined
    if spec is None:
        raise TuneError(f"study {shown(plan.study)} was not made by rl-sandbox tune")
    study.pruner = make_pruner(plan.pruner, spec.eval_every)
    objective = Objective(spec, plan.worker)
    callbacks = [on_trial] if on_trial else []
    unclaimed = UnclaimedTrials(3 * plan.heartbeat)
    if started is not None:
        started()
    while True:
        optuna.storages.fail_stale_trials(study)
        unclaimed.fail_old(study)
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

    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every worker; the parent says what happened
            run_worker(plan, started=started)
    except Exception as exc:  # a storage that fails mid-write (a full disk) or holds rows it cannot read
        print(f"error: tune worker {plan.worker}: {line(f'{type(exc).__name__}: {exc}', 300)}", file=sys.stderr)
        raise SystemExit(1) from None  # one line, not a traceback; the parent reports the exit code
    finally:
        barrier.abort()  # a worker that failed before the barrier does not keep the others waiting


def start_workers(plans: list[WorkerPlan]) -> list[multiprocessing.context.SpawnProcess]:
    """One process per plan (spawned: a fresh interpreter, no GIL shared, no forked torch state)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(plans))
    procs = [ctx.Process(target=_worker_main, args=(plan, barrier), name=f"tune-worker-{plan.worker}")
             for plan in plans]
    for proc in procs:
        proc.barrier = barrier  # type: ignore[attr-defined]  # alive while its processes are: a collected
        proc.start()  # barrier unlinks its semaphores before a slow child has unpickled them
    return procs
