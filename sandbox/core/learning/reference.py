"""The reference learning step: Double DQN as the textbook (and CleanRL) writes it.

Per-layer parameters, autograd, `torch.optim.Adam`, `clip_grad_norm_`, a Polyak update (or a hard
copy) per layer. Read this file to see what a learning step does; `fast.py` does the same maths
faster, and the golden test holds it to this one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sandbox.core.config import Config
from sandbox.core.learning.learner import AdamState, adam_settings, flat_views, set_learning_rate
from sandbox.core.memory import ReplayBatch


def td_targets(online: nn.Module, target: nn.Module, config: Config, rewards: torch.Tensor,
               next_states: torch.Tensor, stops: torch.Tensor, horizons: torch.Tensor | None = None) -> torch.Tensor:
    """r + gamma**h * (1 - stop) * Q_target(s', a*), with a* = argmax_a Q_online(s', a) for Double
    DQN and a* = argmax_a Q_target(s', a) without it. h = 1 for one-step transitions (gamma is then
    applied as a plain scalar)."""
    with torch.no_grad():
        q_next_target = target(next_states)
        if config.double_dqn:
            best = online(next_states).argmax(dim=1, keepdim=True)
            q_next = q_next_target.gather(1, best).squeeze(1)
        else:
            q_next = q_next_target.max(dim=1).values
        discount = config.gamma if horizons is None else torch.pow(config.gamma, horizons)
        return rewards + discount * (1.0 - stops) * q_next


def td_loss(q: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
    """The mean TD error: squared ('mse'), or Huber with beta = 1 ('huber')."""
    return F.mse_loss(q, targets) if kind == "mse" else F.smooth_l1_loss(q, targets)


class ReferenceLearner:
    """The plain backend (`backend = "reference"`)."""

    def __init__(self, online: nn.Module, target: nn.Module, config: Config, device: torch.device) -> None:
        self.online, self.target, self.config, self.device = online, target, config, device
        self.optimizer = torch.optim.Adam(online.parameters(), lr=config.learning_rate)

    def set_config(self, config: Config) -> None:
        self.config = config
        set_learning_rate(self.optimizer, config.learning_rate)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.online(torch.as_tensor(obs, device=self.device)[None])[0].cpu().numpy()

    def learn(self, batch: ReplayBatch) -> float:
        c = self.config
        s, a, r, s2, d, h = (torch.as_tensor(x, device=self.device) for x in batch)
        targets = td_targets(self.online, self.target, c, r, s2, d, h if c.n_step > 1 else None)
        q = self.online(s).gather(1, a.unsqueeze(1)).squeeze(1)
        loss = td_loss(q, targets, c.loss)
        value = float(loss.item())
        if not np.isfinite(value):  # diverged: keep the weights as they are
            return value
        self.optimizer.zero_grad()
        loss.backward()
        if c.gradient_clip > 0:
            nn.utils.clip_grad_norm_(self.online.parameters(), c.gradient_clip)
        self.optimizer.step()
        return value

    def update_target(self, steps: int) -> None:
        c = self.config
        with torch.no_grad():
            if c.target_update == "soft":
                for t, p in zip(self.target.parameters(), self.online.parameters(), strict=True):
                    t.copy_(c.tau * p + (1.0 - c.tau) * t)
            elif steps % c.target_update_interval == 0:
                self.target.load_state_dict(self.online.state_dict())

    def adam_settings(self) -> dict[str, Any]:
        return adam_settings(self.optimizer)

    def adam_state(self) -> AdamState | None:
        params = list(self.online.parameters())
        if not self.optimizer.state:
            return None
        states = [self.optimizer.state[p] for p in params]
        return AdamState(states[0]["step"].clone(),
                         torch.cat([s["exp_avg"].reshape(-1) for s in states]),
                         torch.cat([s["exp_avg_sq"].reshape(-1) for s in states]))

    def load_adam_state(self, state: AdamState) -> None:
        params = list(self.online.parameters())
        averages = flat_views(state.exp_avg, params)
        squares = flat_views(state.exp_avg_sq, params)
        saved = {i: {"step": state.step.clone(), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
                 for i, (m, v) in enumerate(zip(averages, squares, strict=True))}
        self.optimizer.load_state_dict({"state": saved, "param_groups": self.optimizer.state_dict()["param_groups"]})
