"""The fast learning step: the reference's maths with less overhead for nets this small.

For a net of a few thousand weights, torch's per-operation dispatch and autograd's bookkeeping
cost more than the arithmetic. So this backend:

- keeps the online weights, their gradients and the target weights in one flat buffer each (the
  layers' parameters become views into them): the soft update, the gradient clip and Adam are then
  one operation on one tensor (a fused Adam on the CPU) instead of one per layer;
- backpropagates the MLP by hand (the same matrix products autograd would do; the dueling net keeps
  autograd);
- on the CPU, acts and computes TD targets with a numpy forward on views of the very same storage,
  a few µs instead of ~25 µs, with nothing to sync (the optimizer updates the tensors in place).

It holds its own views of the layers, built once when it flattens them; nothing else may give the
nets' parameters new storage. The golden test (tests/test_fast_path.py) holds every weight to the
reference backend's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sandbox.core.config import Config
from sandbox.core.learning.learner import AdamState, adam_settings, flat_views, set_learning_rate
from sandbox.core.learning.reference import td_loss, td_targets
from sandbox.core.memory import ReplayBatch
from sandbox.core.networks import DuelingQNetwork, QNet

Layers = list[tuple[torch.Tensor, torch.Tensor]]
NumpyLayers = list[tuple[np.ndarray, np.ndarray]]


def flatten_parameters(net: nn.Module) -> torch.Tensor:
    """Move `net`'s parameters into one contiguous buffer and make each a view of it."""
    params = list(net.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    for p, view in zip(params, flat_views(flat, params), strict=True):
        p.data = view
    return flat


def numpy_mlp(layers: NumpyLayers, x: np.ndarray) -> np.ndarray:
    """The MLP on one observation (d,) or a batch (n, d)."""
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = w @ x + b if x.ndim == 1 else x @ w.T + b
        if i < last:
            np.maximum(x, 0, out=x)
    return x


def numpy_dueling(layers: NumpyLayers, x: np.ndarray) -> np.ndarray:
    """The dueling net on one observation or a batch: the trunk, then V + A - mean(A)."""
    *trunk, (wv, bv), (wa, ba) = layers
    h = np.maximum(numpy_mlp(trunk, x), 0)
    adv = h @ wa.T + ba
    return (h @ wv.T + bv) + adv - adv.mean(axis=-1, keepdims=True)


@torch.no_grad()
def mlp_loss_and_gradients(layers: Layers, states: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor,
                           loss: str) -> torch.Tensor:
    """The TD loss of Q(s, a) against `targets` (mean MSE or Huber), with its gradients written into
    the layers' `.grad`: backpropagation through the MLP by hand (checked against autograd)."""
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
        assert w.grad is not None and b.grad is not None, "the fast learner gives every layer a gradient view"
        torch.mm(grad.t(), inputs[i], out=w.grad)  # written in place: the grads are views of one buffer
        torch.sum(grad, 0, out=b.grad)
        if i > 0:
            grad = grad.mm(w).mul_(inputs[i] > 0)  # ReLU passes gradient where its output was positive
    return value


def layer_tensors(net: QNet) -> Layers:
    return [(m.weight, m.bias) for m in net.linear_layers()]


class FastLearner:
    """The fast backend (`backend = "fast"`, the default)."""

    def __init__(self, online: QNet, target: QNet, config: Config, device: torch.device) -> None:
        self.online, self.target, self.config, self.device = online, target, config, device
        self.weights = flatten_parameters(online)
        self.target_weights = flatten_parameters(target)
        self.gradients = torch.zeros_like(self.weights)
        params = list(online.parameters())
        for p, view in zip(params, flat_views(self.gradients, params), strict=True):
            p.grad = view
        self.layers = layer_tensors(online)
        self.dueling = isinstance(online, DuelingQNetwork)
        self.on_cpu = device.type == "cpu"
        self.np_online = [(w.detach().numpy(), b.detach().numpy()) for w, b in self.layers] if self.on_cpu else []
        self.np_target = ([(w.detach().numpy(), b.detach().numpy()) for w, b in layer_tensors(target)]
                          if self.on_cpu else [])
        self.flat = nn.Parameter(self.weights)  # shares the buffer: what the optimizer steps
        self.flat.grad = self.gradients
        self.optimizer = torch.optim.Adam([self.flat], lr=config.learning_rate, fused=self.on_cpu or None)

    def set_config(self, config: Config) -> None:
        self.config = config
        set_learning_rate(self.optimizer, config.learning_rate)

    def numpy_q(self, layers: NumpyLayers, obs: np.ndarray) -> np.ndarray:
        return numpy_dueling(layers, obs) if self.dueling else numpy_mlp(layers, obs)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        if self.on_cpu:
            return self.numpy_q(self.np_online, obs)
        with torch.no_grad():
            return self.online(torch.as_tensor(obs, device=self.device)[None])[0].cpu().numpy()

    def numpy_td_targets(self, rewards: np.ndarray, next_states: np.ndarray, stops: np.ndarray,
                         horizons: np.ndarray | None) -> np.ndarray:
        """The reference's `td_targets` in numpy, on the CPU."""
        q_next_target = self.numpy_q(self.np_target, next_states)
        if self.config.double_dqn:
            best = self.numpy_q(self.np_online, next_states).argmax(axis=1)
            q_next = np.take_along_axis(q_next_target, best[:, None], axis=1)[:, 0]
        else:
            q_next = q_next_target.max(axis=1)
        discount = self.config.gamma if horizons is None else np.float32(self.config.gamma) ** horizons
        return rewards + discount * (1.0 - stops) * q_next

    def learn(self, batch: ReplayBatch) -> float:
        c = self.config
        s, a, r, s2, d, h = batch
        horizons = h if c.n_step > 1 else None
        if self.on_cpu:
            targets = torch.from_numpy(self.numpy_td_targets(r, s2, d, horizons))
        else:
            rt, s2t, dt, ht = (torch.from_numpy(x).to(self.device) for x in (r, s2, d, h))
            targets = td_targets(self.online, self.target, c, rt, s2t, dt, ht if horizons is not None else None)
        states, actions = torch.from_numpy(s).to(self.device), torch.from_numpy(a).to(self.device)
        if self.dueling:
            q = self.online(states).gather(1, actions.unsqueeze(1)).squeeze(1)
            loss = td_loss(q, targets, c.loss)
            self.gradients.zero_()
            loss.backward()  # accumulates in place into the gradient buffer's views
        else:
            loss = mlp_loss_and_gradients(self.layers, states, actions, targets, c.loss)
        value = float(loss.item())
        if not math.isfinite(value):  # diverged: keep the weights as they are
            return value
        if c.gradient_clip > 0:
            self.clip_gradients(c.gradient_clip)
        self.optimizer.step()
        return value

    def clip_gradients(self, max_norm: float) -> None:
        """As `clip_grad_norm_`: scale the gradient so its global norm is at most `max_norm`."""
        total = torch.linalg.vector_norm(self.gradients)
        self.gradients.mul_(torch.clamp(max_norm / (total + 1e-6), max=1.0))

    def update_target(self, steps: int) -> None:
        c = self.config
        if c.target_update == "soft":
            self.target_weights.lerp_(self.weights, c.tau)
        elif steps % c.target_update_interval == 0:
            self.target_weights.copy_(self.weights)

    def adam_settings(self) -> dict[str, Any]:
        return adam_settings(self.optimizer)

    def adam_state(self) -> AdamState | None:
        state = self.optimizer.state.get(self.flat)
        if not state:
            return None
        return AdamState(state["step"].clone(), state["exp_avg"].clone(), state["exp_avg_sq"].clone())

    def load_adam_state(self, state: AdamState) -> None:
        saved = {0: {key: value.clone() for key, value in state._asdict().items()}}
        self.optimizer.load_state_dict({"state": saved, "param_groups": self.optimizer.state_dict()["param_groups"]})
