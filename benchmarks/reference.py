"""The tutorial notebook's training loop, written out faithfully as the slow baseline.

Deque memory sampled with `random.sample` and stacked with `np.vstack`, a torch forward for every
action, the soft update as a Python loop over parameters every step, the default Adam, and every
loss kept as a tensor. Only the gym API is updated to gymnasium's (terminated or truncated = done).
"""

from __future__ import annotations

import random
import time
from collections import deque, namedtuple

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

Transition = namedtuple("Transition", ("state", "action", "reward", "next_state", "done"))


class Memory:
    def __init__(self, capacity: int) -> None:
        self.memory: deque = deque(maxlen=capacity)

    def add(self, *args) -> None:
        self.memory.append(Transition(*args))

    def sample(self, batch_size: int):
        ts = random.sample(self.memory, batch_size)
        states = torch.from_numpy(np.vstack([t.state for t in ts])).float()
        actions = torch.from_numpy(np.vstack([t.action for t in ts])).float()
        rewards = torch.from_numpy(np.vstack([t.reward for t in ts])).float()
        next_states = torch.from_numpy(np.vstack([t.next_state for t in ts])).float()
        dones = torch.from_numpy(np.vstack([t.done for t in ts]).astype(np.uint8)).float()
        return states, actions, rewards, next_states, dones

    def __len__(self) -> int:
        return len(self.memory)


class QNetwork(nn.Module):
    def __init__(self, state_size: int, action_size: int, hidden: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Linear(state_size, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                   nn.Linear(hidden, action_size))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.model(state)


class NotebookAgent:
    def __init__(self, memory: Memory, lr=1e-3, bs=64, hidden=64, clip=1.0, gamma=0.99, tau=1e-3,
                 update_interval=5, update_times=1, tpe=200) -> None:
        self.local = QNetwork(2, 3, hidden)
        self.target = QNetwork(2, 3, hidden)
        self.optimizer = optim.Adam(self.local.parameters(), lr=lr)
        self.memory, self.bs, self.clip, self.gamma, self.tau = memory, bs, clip, gamma, tau
        self.update_interval, self.update_times, self.tpe = update_interval, update_times, tpe
        self.losses: list[torch.Tensor] = []
        self.t_step = 0

    def eps(self) -> float:
        return max(1.0 * 0.9 ** int(self.t_step / self.tpe), 0.001)

    def act(self, state: np.ndarray) -> int:
        eps = self.eps()
        state_t = torch.from_numpy(state).float().unsqueeze(0)
        self.local.eval()
        with torch.no_grad():
            values = self.local(state_t)
        self.local.train()
        if random.random() > eps:
            return int(np.argmax(values.cpu().data.numpy()))
        return int(random.choice(np.arange(3)))

    def step(self, state, action, reward, next_state, done) -> None:
        self.memory.add(state, action, reward, next_state, done)
        for target_param, local_param in zip(self.target.parameters(), self.local.parameters(), strict=True):
            target_param.data.copy_(self.tau * local_param.data + (1.0 - self.tau) * target_param.data)
        self.t_step += 1
        if self.t_step % self.update_interval == 0 and len(self.memory) > self.bs:
            for _ in range(self.update_times):
                self.learn(self.memory.sample(self.bs))

    def learn(self, transitions) -> None:
        states, actions, rewards, next_states, dones = transitions
        best_next = self.local(next_states).detach().max(1)[1].unsqueeze(1)
        q_next = self.target(next_states).detach().gather(1, best_next.long())
        q_targets = rewards + (self.gamma * q_next) * (1 - dones)
        q_expected = self.local(states).gather(1, actions.long())
        loss = F.mse_loss(q_expected, q_targets)
        self.losses.append(loss)
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip:
            torch.nn.utils.clip_grad_norm_(self.local.parameters(), self.clip)
        self.optimizer.step()


def notebook_steps_per_second(steps: int, seed: int = 1412, hidden: int = 64) -> float:
    """Run the notebook's loop for `steps` env steps from scratch; returns env steps per second."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the notebook seeds numpy's global generator)
    torch.manual_seed(seed)
    env = gym.make("MountainCar-v0")
    agent = NotebookAgent(Memory(1000), hidden=hidden)
    state, _ = env.reset(seed=seed)
    started = time.perf_counter()
    for _ in range(steps):
        action = agent.act(state)
        next_state, reward, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
        agent.step(state, action, reward, next_state, done)
        state = env.reset()[0] if done else next_state
    seconds = time.perf_counter() - started
    env.close()
    return steps / seconds
