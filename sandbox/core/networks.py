"""Q-networks: the notebook's MLP and a dueling variant, as plain torch modules.

They know nothing of how they are trained: the learning backends (`sandbox.core.learning`) read
their layers through `linear_layers()`, in the order their parameters are stored, and the fast
backend keeps its own views of them.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class QNetwork(nn.Module):
    """obs -> Linear -> ReLU -> ... -> Linear -> one Q-value per action."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> None:
        super().__init__()
        self.body = _mlp([obs_dim] + [hidden_units] * hidden_layers + [n_actions])

    def linear_layers(self) -> list[nn.Linear]:
        """The linear layers, input first (the order of `parameters()`)."""
        return [m for m in self.body if isinstance(m, nn.Linear)]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs)


class DuelingQNetwork(nn.Module):
    """Shared trunk, then V(s) and A(s, a) heads: Q = V + A - mean(A) (Wang et al., 2016)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> None:
        super().__init__()
        self.trunk = _mlp([obs_dim] + [hidden_units] * hidden_layers)
        self.trunk.append(nn.ReLU())
        self.value = nn.Linear(hidden_units, 1)
        self.advantage = nn.Linear(hidden_units, n_actions)

    def linear_layers(self) -> list[nn.Linear]:
        """The trunk's layers, then the value head, then the advantage head (the order of `parameters()`)."""
        return [m for m in self.trunk if isinstance(m, nn.Linear)] + [self.value, self.advantage]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.trunk(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=-1, keepdim=True)


QNet = QNetwork | DuelingQNetwork
NETWORKS: dict[str, type[QNet]] = {"mlp": QNetwork, "dueling": DuelingQNetwork}


def build_network(kind: str, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> QNet:
    return NETWORKS[kind](obs_dim, n_actions, hidden_units, hidden_layers)
