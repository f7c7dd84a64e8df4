"""How good is the agent a preset delivers? Train on seeds the presets were not tuned on, under the
trainer's own solve rule, then score the agent at the solve point, the best agent kept (the
run's best greedy evaluation) and the final agent on 1,000 greedy episodes of a fresh env.

Usage: python -m benchmarks.quality nstep 100 101 ... [--set name=value ...] [--steps MAX]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass

from sandbox.app.best import BestAgent
from sandbox.core.config import load_preset
from sandbox.core.evaluate import evaluate
from sandbox.core.trainer import Trainer, limit_threads

JUDGE_EPISODES = 1_000
JUDGE_SEED = 2_026  # no training or solve-rule evaluation env is seeded with this stream


@dataclass
class Quality:
    """One seed. Seconds exclude the 1,000-episode judgements (not part of training)."""

    preset: str
    seed: int
    solved: bool = False
    solve_steps: int = 0
    solve_seconds: float = 0.0
    solve_greedy100: float = float("nan")
    solve_greedy1000: float = float("nan")
    best_greedy100: float = float("nan")
    best_steps: int = 0
    best_greedy1000: float = float("nan")
    final_greedy1000: float = float("nan")
    steps: int = 0
    seconds: float = 0.0


def judge(trainer: Trainer) -> float:
    result = evaluate(trainer.agent, trainer.scaler, trainer.spec.env_id, JUDGE_EPISODES,
                      JUDGE_SEED + trainer.config.seed, trainer.threshold)
    return result.mean


def measure(preset: str, seed: int, max_steps: int, changes: dict) -> Quality:
    """Train the preset as shipped (it trains on after the solve point to its budget), at most `max_steps`."""
    config = load_preset(preset).with_changes(seed=seed, **changes)
    trainer, best, q = Trainer(config), BestAgent(), Quality(preset, seed)
    training = 0.0
    try:
        while not trainer.finished and trainer.total_steps < max_steps:
            started = time.perf_counter()
            stats = trainer.run_episode()
            best.offer(trainer, stats)
            training += time.perf_counter() - started
            if stats.solved and not q.solved:
                q.solved, q.solve_steps, q.solve_seconds = True, stats.total_steps, training
                q.solve_greedy100, q.solve_greedy1000 = stats.greedy_mean, judge(trainer)
        q.steps, q.seconds = trainer.total_steps, training
        q.final_greedy1000 = judge(trainer)
    finally:
        trainer.close()
    if best.mark is not None:
        q.best_greedy100, q.best_steps = best.mark.value, best.mark.total_steps
        kept = best.restore()
        try:
            q.best_greedy1000 = judge(kept)
        finally:
            kept.close()
    return q


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("preset")
    parser.add_argument("seeds", type=int, nargs="+")
    parser.add_argument("--steps", type=int, default=10**9)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    limit_threads()
    changes = {k: json.loads(v) if v[:1] in "-0123456789tf[" else v
               for k, v in (item.split("=", 1) for item in args.set)}
    for seed in args.seeds:
        print(json.dumps(asdict(measure(args.preset, seed, args.steps, changes))), flush=True)


if __name__ == "__main__":
    main()
