"""Does the coach alone lead to a solve? An automatic learner starts from a poor config, trains one
run, applies the diagnostics' top suggestion (nothing else), and repeats, for at most 10 rounds.

    python -m benchmarks.coach [--starts NAME ...] [--seeds 0 1 2]

Each start is a shipped preset with one or two faults planted (the list in STARTS), so the coach is
judged on faults it must name, not on one config it was tuned on. Each run is judged by the app's
solve rule (a 100-episode greedy evaluation every 20 episodes) within its env's budget of env steps.
Every round records the hint whose top suggestion was applied, so the report can show which hint
fired when.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from sandbox.core.config import Config, load_preset
from sandbox.core.diagnostics import diagnose
from sandbox.core.trainer import Trainer, limit_threads

BUDGETS = {"MountainCar-v0": 150_000, "CartPole-v1": 60_000, "Acrobot-v1": 100_000}  # env steps per run


@dataclass(frozen=True)
class Start:
    """A deliberately poor starting point: a preset and the faults planted in it."""

    preset: str
    faults: dict[str, object]

    def config(self) -> Config:
        return load_preset(self.preset).with_changes(solve_rule="greedy", **self.faults)

    @property
    def env_id(self) -> str:
        return self.config().env_id


STARTS: dict[str, Start] = {
    "mc-horizon-rate": Start("fast", {"gamma": 0.92, "learning_rate": 0.005}),
    "mc-batch-target": Start("nstep", {"batch_size": 16, "target_update_interval": 10}),
    "mc-explore-target": Start("nstep", {"epsilon_start": 0.05, "epsilon_end": 0.02, "target_update_interval": 5}),
    "cp-horizon": Start("cartpole", {"gamma": 0.85}),
    "cp-soft-target-explore": Start("cartpole", {"target_update": "soft", "tau": 0.2, "epsilon_decay": 0.3}),
    "ac-intensity-rate": Start("acrobot", {"update_interval": 32, "learning_rate": 0.008}),
    "ac-batch-horizon": Start("acrobot", {"batch_size": 12, "gamma": 0.88}),
}


@dataclass
class Round:
    config_change: str
    episodes: int
    steps: int
    solved: bool
    best: float
    seconds: float
    hint: str = ""  # the key of the hint whose top suggestion was applied after this run ("" when none)


@dataclass
class Learner:
    start: str
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


def learn(start: str, seed: int, max_rounds: int = 10,
          report: Callable[[Round], None] = lambda r: None) -> Learner:
    config = STARTS[start].config().with_changes(seed=seed)
    learner, change = Learner(start, config.env_id, seed), "start"
    for _ in range(max_rounds):
        trainer, seconds = one_run(config, BUDGETS[config.env_id])
        evals = [e.greedy_mean for e in trainer.history.episodes if e.evaluated]
        done = Round(change, trainer.episodes_done, trainer.total_steps, trainer.solved,
                     max(evals) if evals else float("nan"), seconds)
        learner.rounds.append(done)
        if trainer.solved:
            report(done)
            break
        hints = diagnose(trainer.history, trainer.config, trainer.spec, trainer.agent.epsilon, finished=True)
        trainer.close()
        top = next(((h, h.suggestions[0]) for h in hints if h.suggestions), None)
        done.hint = top[0].key if top else ""
        report(done)
        if top is None:
            break  # the coach is silent on an unsolved run: a failure of the coach
        config = config.with_changes(**{top[1].name: top[1].value})
        change = str(top[1])
    return learner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", nargs="+", default=list(STARTS), choices=sorted(STARTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    limit_threads()
    for start in args.starts:
        for seed in args.seeds:
            learner = learn(start, seed, report=lambda r: print("  round", json.dumps(asdict(r)), flush=True))
            print(json.dumps(asdict(learner) | {"solved": learner.solved, "rounds_used": len(learner.rounds)}),
                  flush=True)


if __name__ == "__main__":
    main()
