"""Time-to-solve: train a preset until a 100-episode greedy evaluation on the env's true reward
reaches the threshold, recording the curve (mean100 and greedy score over env steps)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sandbox.config import Config
from sandbox.evaluate import EVAL_SEED_OFFSET, evaluate
from sandbox.trainer import Trainer


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
    """Train episode by episode; every `eval_every` episodes run a greedy evaluation; stop at
    `threshold` or after `max_steps` env steps."""
    config = config.with_changes(stop_when_solved=False, max_episodes=10**9)
    trainer = Trainer(config)
    run = SolveRun(preset, config.seed)
    started = time.perf_counter()
    eval_seconds = 0.0
    try:
        while trainer.total_steps < max_steps:
            stats = trainer.run_episode()
            greedy = None
            if stats.index % eval_every == eval_every - 1:
                t = time.perf_counter()
                result = evaluate(trainer.agent, trainer.scaler, config.env_id, eval_episodes,
                                  config.seed + EVAL_SEED_OFFSET, threshold)
                eval_seconds += time.perf_counter() - t
                greedy = result.mean
                run.final_greedy = greedy
                run.best_greedy = max(run.best_greedy, greedy)
            run.curve.append((stats.total_steps, stats.moving_average, greedy))
            if greedy is not None and greedy >= threshold:
                run.solved = True
                break
    finally:
        trainer.close()
    run.seconds = time.perf_counter() - started
    run.train_seconds = run.seconds - eval_seconds
    run.steps = trainer.total_steps
    run.episodes = trainer.episodes_done
    return run
