"""Time-to-solve: train a preset until a 100-episode greedy evaluation on the env's true reward
reaches the threshold, recording the curve (mean100 and greedy score over env steps)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sandbox.core.config import Config
from sandbox.core.evaluate import EvalResult
from sandbox.core.trainer import Trainer


@dataclass
class SolveRun:
    """One seed's attempt. `train_seconds` excludes the evaluation probes; `seconds` includes them."""

    preset: str
    seed: int
    solved: bool = False
    steps: int = 0
    train_seconds: float = 0.0
    seconds: float = 0.0
    episodes: int = 0
    final_greedy: float = float("nan")
    best_greedy: float = float("-inf")
    curve: list[tuple[int, float, float | None]] = field(default_factory=list)  # (steps, mean100, greedy)


def time_to_solve(preset: str, config: Config, eval_every: int = 20, eval_episodes: int = 100,
                  max_steps: int = 200_000, threshold: float = -110.0) -> SolveRun:
    """Train until the trainer's own solve rule says solved (a greedy evaluation of `eval_episodes`
    every `eval_every` episodes reaching `threshold`: the rule the app and `train` use), or until
    `max_steps` env steps."""
    config = config.with_changes(solve_rule="greedy", eval_every=eval_every, eval_episodes=eval_episodes,
                                 solve_threshold=threshold, stop_when_solved=True, max_episodes=10**9)
    trainer = Trainer(config)
    run = SolveRun(preset, config.seed)
    evaluate_greedy, eval_seconds = trainer.evaluate_greedy, [0.0]

    def timed() -> EvalResult:  # evaluations are timed apart: `train_seconds` is training alone
        t = time.perf_counter()
        try:
            return evaluate_greedy()
        finally:
            eval_seconds[0] += time.perf_counter() - t

    trainer.evaluate_greedy = timed
    started = time.perf_counter()
    try:
        while not trainer.finished and trainer.total_steps < max_steps:
            stats = trainer.run_episode()
            greedy = stats.greedy_mean if stats.evaluated else None
            if greedy is not None:
                run.final_greedy = greedy
                run.best_greedy = max(run.best_greedy, greedy)
            run.curve.append((stats.total_steps, stats.moving_average, greedy))
        run.solved = trainer.solved
    finally:
        trainer.close()
    run.seconds = time.perf_counter() - started
    run.train_seconds = run.seconds - eval_seconds[0]
    run.steps = trainer.total_steps
    run.episodes = trainer.episodes_done
    return run
