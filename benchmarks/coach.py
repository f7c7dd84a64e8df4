"""Does the coach alone lead to a solve? An automatic learner starts from a poor config, trains one
run, applies the diagnostics' top suggestion (nothing else), and repeats, for at most 10 rounds.

    python -m benchmarks.coach [--env MountainCar-v0] [--seeds 0 1 2] [--budget 150000]

Each run is judged by the app's solve rule (a 100-episode greedy evaluation every 20 episodes).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field

from sandbox.core.config import Config, load_preset
from sandbox.core.diagnostics import diagnose
from sandbox.core.trainer import Trainer, limit_threads

STARTS = {  # deliberately poor starting points
    "MountainCar-v0": lambda: load_preset("notebook").with_changes(solve_rule="greedy"),
    "CartPole-v1": lambda: load_preset("cartpole").with_changes(memory_capacity=500, update_interval=10,
                                                                 epsilon_decay=0.5),
}


@dataclass
class Round:
    config_change: str
    episodes: int
    steps: int
    solved: bool
    best: float
    seconds: float


@dataclass
class Learner:
    env_id: str
    seed: int
    rounds: list[Round] = field(default_factory=list)

    @property
    def solved(self) -> bool:
        return bool(self.rounds) and self.rounds[-1].solved


def one_run(config: Config, budget: int) -> tuple[Trainer, float]:
    trainer = Trainer(config.with_changes(max_episodes=10**6, stop_when_solved=True))
    started = time.perf_counter()
    while not trainer.solved and trainer.total_steps < budget:
        trainer.run_episode()
    return trainer, time.perf_counter() - started


def learn(env_id: str, seed: int, budget: int, max_rounds: int = 10) -> Learner:
    config = STARTS[env_id]().with_changes(seed=seed)
    learner, change = Learner(env_id, seed), "start"
    for _ in range(max_rounds):
        trainer, seconds = one_run(config, budget)
        evals = [e.greedy_mean for e in trainer.history.episodes if e.evaluated]
        learner.rounds.append(Round(change, trainer.episodes_done, trainer.total_steps, trainer.solved,
                                    max(evals) if evals else float("nan"), seconds))
        if trainer.solved:
            break
        hints = diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon, finished=True)
        top = next((s for h in hints for s in h.suggestions), None)
        trainer.close()
        if top is None:
            break  # the coach is silent on an unsolved run: a failure of the coach
        config = config.with_changes(**{top.name: top.value})
        change = str(top)
    return learner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="MountainCar-v0", choices=sorted(STARTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=150_000, help="env steps per run")
    args = parser.parse_args()
    limit_threads()
    for seed in args.seeds:
        learner = learn(args.env, seed, args.budget)
        print(json.dumps(asdict(learner) | {"solved": learner.solved, "rounds_used": len(learner.rounds)}),
              flush=True)


if __name__ == "__main__":
    main()
