"""The learning backend's protocol, and Adam's state in the one form every backend reads and writes.

Agent files store the optimizer's state as `AdamState`: Adam's moments over the online net's
parameters, concatenated in `parameters()` order, and one step count. Any backend converts to and
from it, so a file does not depend on the backend that wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
import torch

from sandbox.core.config import Config
from sandbox.core.memory import ReplayBatch


class AdamState(NamedTuple):
    step: torch.Tensor  # a scalar: the updates taken
    exp_avg: torch.Tensor  # flat, one entry per parameter of the online net
    exp_avg_sq: torch.Tensor


class Learner(Protocol):
    """What the agent needs from a backend: Q for acting, a learning step, the target's update."""

    def set_config(self, config: Config) -> None:
        """Switch to a config that differs only in live fields; the learning rate applies at once."""

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one (already scaled) observation, as float32 numpy."""

    def learn(self, batch: ReplayBatch) -> float:
        """One gradient step on `batch`; returns its loss. A NaN or infinite loss takes no step."""

    def update_target(self, steps: int) -> None:
        """After env step `steps`: the soft update, or the hard copy when it is due."""

    def adam_settings(self) -> dict[str, Any]:
        """The optimizer's hyperparameters (lr, betas, eps, …), without its parameter list."""

    def adam_state(self) -> AdamState | None:
        """The optimizer's state, or None before the first step."""

    def load_adam_state(self, state: AdamState) -> None:
        """Continue from a saved optimizer state."""


def flat_views(flat: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Consecutive views of `flat` shaped like the tensors in `like`."""
    out, offset = [], 0
    for t in like:
        out.append(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()
    return out


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """A live learning-rate edit: the optimizer's next step uses it."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def adam_settings(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """An optimizer's hyperparameters as an agent file stores them: its one group, without the parameters."""
    return {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
