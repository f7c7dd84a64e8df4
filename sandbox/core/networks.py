"""Q-networks: the notebook's MLP and a dueling variant, each with a numpy forward for acting.

Acting needs Q for one observation per env step. A torch forward costs ~25 µs of dispatch for
a net this small; the same maths in numpy on views of the very same parameter storage costs a
few µs and needs no syncing (the optimizer updates the tensors in place). The torch forward calls
`F.linear` on the layers' own parameters rather than going through `nn.Sequential`, which saves
the module-call overhead on every learning step (same operations, same results).

Those per-layer views are built eagerly by `bind()`, the one place that knows about them. It runs
at construction and wherever the parameters' storage can change: after `.to()` and friends (via
`_apply`), after `copy.deepcopy` or unpickling (via `__setstate__`, the copy's views then point at
its own parameters), and after the agent moves the parameters into one flat buffer
(`flatten_parameters` calls it). Whoever else reassigns `param.data` must call `bind()` too.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _numpy_mlp(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The MLP on one observation (d,) or a batch (n, d)."""
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = w @ x + b if x.ndim == 1 else x @ w.T + b
        if i < last:
            np.maximum(x, 0, out=x)
    return x


def _torch_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = F.linear(x, w, b)
        if i < last:
            x = torch.relu(x)
    return x


_CACHES = ("_torch_layers", "_np_layers")


class BoundNetwork(nn.Module):
    """A Q-network whose fast paths (numpy forward, hand-written backprop) read per-layer views
    of its parameters; `bind()` (re)builds them from the current parameter storage."""

    _torch_layers: list[tuple[torch.Tensor, torch.Tensor]]
    _np_layers: list[tuple[np.ndarray, np.ndarray]] | None

    def linear_layers(self) -> list[nn.Linear]:
        """The net's linear layers, in the order the fast paths read them."""
        raise NotImplementedError

    def bind(self) -> None:
        """Rebuild the layer views from the parameters as they are stored now."""
        layers: list[tuple[torch.Tensor, torch.Tensor]] = [(m.weight, m.bias) for m in self.linear_layers()]
        self._torch_layers = layers
        on_cpu = all(w.device.type == "cpu" and b.device.type == "cpu" for w, b in layers)
        self._np_layers = [(w.detach().numpy(), b.detach().numpy()) for w, b in layers] if on_cpu else None

    def np_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._np_layers is None:
            raise RuntimeError("numpy_q needs the network's parameters on the CPU")
        return self._np_layers

    def _apply(self, fn, recurse=True):  # .to(), .cuda(), .float(), ... may give new storage
        out = super()._apply(fn, recurse)
        self.bind()
        return out

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        for name in _CACHES:  # views of this net's storage: the copy builds its own
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:  # copy.deepcopy and pickle end here
        super().__setstate__(state)
        self.bind()

    def numpy_q(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class QNetwork(BoundNetwork):
    """obs -> Linear -> ReLU -> ... -> Linear -> one Q-value per action."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> None:
        super().__init__()
        self.body = _mlp([obs_dim] + [hidden_units] * hidden_layers + [n_actions])
        self.bind()

    def linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.body if isinstance(m, nn.Linear)]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return _torch_mlp(self._torch_layers, obs)

    def numpy_q(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one float32 observation (d,) or a batch (n, d) (CPU parameters only)."""
        return _numpy_mlp(self.np_layers(), obs)


@torch.no_grad()
def mlp_loss_and_gradients(net: QNetwork, states: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor,
                           loss: str) -> torch.Tensor:
    """The TD loss of Q(s, a) against `targets` (mean MSE or Huber), with its gradients written to
    the parameters' `.grad`: backpropagation through the MLP by hand.

    Autograd records and replays a graph on every call; for a net this small that bookkeeping
    costs more than the maths. This does the same matrix products directly (checked against
    autograd in the tests). The dueling net keeps autograd.
    """
    layers = net._torch_layers
    last = len(layers) - 1
    inputs = []
    x = states
    for i, (w, b) in enumerate(layers):
        inputs.append(x)
        x = torch.addmm(b, x, w.t())
        if i < last:
            x = x.relu_()
    n = len(actions)
    index = actions.unsqueeze(1)
    diff = x.gather(1, index).squeeze(1) - targets
    if loss == "mse":
        value = diff.square().mean()
        d_q = diff * (2.0 / n)
    else:  # Huber with beta = 1, as F.smooth_l1_loss
        value = F.smooth_l1_loss(diff, torch.zeros_like(diff))
        d_q = diff.clamp(-1.0, 1.0) / n
    grad = torch.zeros_like(x).scatter_(1, index, d_q.unsqueeze(1))
    for i in range(last, -1, -1):
        w, b = layers[i]
        if w.grad is None:
            w.grad, b.grad = torch.empty_like(w), torch.empty_like(b)
        torch.mm(grad.t(), inputs[i], out=w.grad)  # written in place: the grads may be views of a buffer
        torch.sum(grad, 0, out=b.grad)
        if i > 0:
            grad = grad.mm(w).mul_(inputs[i] > 0)  # ReLU passes gradient where its output was positive
    return value


class DuelingQNetwork(BoundNetwork):
    """Shared trunk, then V(s) and A(s, a) heads: Q = V + A - mean(A) (Wang et al., 2016)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> None:
        super().__init__()
        self.trunk = _mlp([obs_dim] + [hidden_units] * hidden_layers)
        self.trunk.append(nn.ReLU())
        self.value = nn.Linear(hidden_units, 1)
        self.advantage = nn.Linear(hidden_units, n_actions)
        self.bind()

    def linear_layers(self) -> list[nn.Linear]:
        """The trunk's layers, then the value head, then the advantage head."""
        return [m for m in self.trunk if isinstance(m, nn.Linear)] + [self.value, self.advantage]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.trunk(obs)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(dim=-1, keepdim=True)

    def numpy_q(self, obs: np.ndarray) -> np.ndarray:
        *trunk, (wv, bv), (wa, ba) = self.np_layers()
        h = np.maximum(_numpy_mlp(trunk, obs), 0)
        adv = h @ wa.T + ba
        return (h @ wv.T + bv) + adv - adv.mean(axis=-1, keepdims=True)


NETWORKS: dict[str, type[BoundNetwork]] = {"mlp": QNetwork, "dueling": DuelingQNetwork}


def build_network(kind: str, obs_dim: int, n_actions: int, hidden_units: int, hidden_layers: int) -> BoundNetwork:
    return NETWORKS[kind](obs_dim, n_actions, hidden_units, hidden_layers)
