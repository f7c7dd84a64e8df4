"""Time to a solved agent with Stable-Baselines3 DQN on RL Zoo's MountainCar hyperparameters, under our
trainer's solve rule: a 100-episode greedy evaluation every 20 training episodes, each on an env of
its own seeded from (seed, k), on the env's true reward; stop at the first evaluation reaching -110."""

from __future__ import annotations

import time
from dataclasses import asdict

import gymnasium as gym
import numpy as np
import torch

from benchmarks.measure import ZOO_MOUNTAINCAR
from benchmarks.solve import SolveRun
from sandbox.core.trainer import EVAL_STREAM

THRESHOLD = -110.0


def greedy_mean(q_net: torch.nn.Module, seed: int, episodes: int) -> float:
    """The greedy policy of SB3's own Q-network (argmax, no exploration), as our evaluation plays it."""
    env = gym.make("MountainCar-v0")
    env.reset(seed=seed)
    scores = []
    with torch.no_grad():
        for _ in range(episodes):
            obs, _ = env.reset()
            score, done = 0.0, False
            while not done:
                action = int(q_net(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax())
                obs, reward, terminated, truncated, _ = env.step(action)
                score += float(reward)
                done = terminated or truncated
            scores.append(score)
    env.close()
    return float(np.mean(scores))


def time_to_solve(seed: int, budget: int = 120_000, eval_every: int = 20, eval_episodes: int = 100) -> dict:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    run = SolveRun("sb3 (RL Zoo)", seed)
    eval_seconds = [0.0]

    class SolveRule(BaseCallback):
        episodes = 0

        def _on_step(self) -> bool:
            done = bool(self.locals["dones"][0])
            self.episodes += done
            greedy = None
            if done and self.episodes % eval_every == 0:
                k = self.episodes // eval_every - 1
                started = time.perf_counter()
                eval_seed = int(np.random.SeedSequence([seed, EVAL_STREAM, k]).generate_state(1)[0])
                greedy = greedy_mean(self.model.q_net, eval_seed, eval_episodes)
                eval_seconds[0] += time.perf_counter() - started
                run.final_greedy, run.best_greedy = greedy, max(run.best_greedy, greedy)
                run.curve.append((self.num_timesteps, float("nan"), greedy))
            return greedy is None or greedy < THRESHOLD

    z = dict(ZOO_MOUNTAINCAR)
    model = DQN("MlpPolicy", gym.make("MountainCar-v0"), policy_kwargs={"net_arch": z.pop("net_arch")}, seed=seed,
                device="cpu", verbose=0, **z)
    started = time.perf_counter()
    callback = SolveRule()
    model.learn(total_timesteps=budget, callback=callback)
    run.seconds = time.perf_counter() - started
    run.train_seconds = run.seconds - eval_seconds[0]
    run.steps, run.episodes = model.num_timesteps, callback.episodes
    run.solved = run.final_greedy >= THRESHOLD
    return asdict(run)
