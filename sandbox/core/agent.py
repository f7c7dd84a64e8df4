"""DQNAgent: epsilon-greedy acting, Double-DQN learning, soft or hard target updates.

The device it runs on is the running machine's choice (`config.device`, resolved here); nothing
in its learned state depends on it, so an agent saved on one device opens on another.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sandbox.core.config import Config, ConfigError
from sandbox.core.envs import EnvSpec
from sandbox.core.memory import NStepBuffer, ReplayMemory
from sandbox.core.networks import BoundNetwork, QNetwork, build_network, mlp_loss_and_gradients


def views(flat: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Consecutive views of `flat` shaped like the tensors in `like`."""
    out, offset = [], 0
    for t in like:
        out.append(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()
    return out


def flatten_parameters(net: BoundNetwork) -> torch.Tensor:
    """Move `net`'s parameters into one contiguous buffer and make each a view of it (the net's
    layer views are rebuilt on the new storage)."""
    params = list(net.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    for p, view in zip(params, views(flat, params), strict=True):
        p.data = view
    net.bind()
    return flat


def resolve_device(name: str) -> torch.device:
    """The torch device `name` (a `device` choice) means on this machine; ConfigError if it has none such."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was chosen but this machine has no CUDA device; allowed here: 'cpu' or 'auto'")
    return torch.device(name)


class DQNAgent:
    """Owns the online and target nets, the optimizer and the replay memory.

    `steps` counts env transitions seen (the notebook's `t_step`): it drives the epsilon
    schedule, the learning interval and hard target copies. The live parameters of `config`
    are read at every step, so `set_config` takes effect at the next step.
    """

    def __init__(self, config: Config, spec: EnvSpec, act_seed: np.random.SeedSequence,
                 memory_seed: np.random.SeedSequence) -> None:
        self.config = config
        self.spec = spec
        self.device = resolve_device(config.device)
        # Seed only the network initialisation, without touching torch's global generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            online = build_network(config.network, spec.obs_dim, spec.n_actions, config.hidden_units,
                                   config.hidden_layers)
        self.online = online.to(self.device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        # One contiguous buffer each for the online weights, their gradients and the target weights
        # (the layers' parameters become views into them): the soft update, gradient clipping and
        # Adam are then one operation on one tensor instead of one per layer.
        self.weights = flatten_parameters(self.online)
        self.target_weights = flatten_parameters(self.target)
        self.gradients = torch.zeros_like(self.weights)
        params = list(self.online.parameters())
        for p, view in zip(params, views(self.gradients, params), strict=True):
            p.grad = view
        on_cpu = self.device.type == "cpu"
        self._flat = nn.Parameter(self.weights)  # shares the buffer: what the optimizer steps
        self._flat.grad = self.gradients
        self.optimizer = torch.optim.Adam([self._flat], lr=config.learning_rate, fused=on_cpu or None)
        self._numpy_acting = on_cpu
        self.memory = ReplayMemory(config.memory_capacity, spec.obs_dim, memory_seed)
        self.n_step = NStepBuffer(config.n_step)
        self.rng = np.random.default_rng(act_seed)
        self.steps = 0
        self.updates = 0
        self._hold_left = 0  # ez-greedy: steps the current exploratory action is still held
        self._hold_action = 0

    # --- live parameters -------------------------------------------------------------
    def set_config(self, config: Config) -> None:
        """Switch to a config that differs only in live fields; the learning rate applies at once."""
        self.config = config
        for group in self.optimizer.param_groups:
            group["lr"] = config.learning_rate

    @property
    def epsilon(self) -> float:
        """The notebook's schedule: max(start * decay ** (steps // steps_per_decay), end)."""
        c = self.config
        return max(c.epsilon_start * c.epsilon_decay ** (self.steps // c.steps_per_decay), c.epsilon_end)

    # --- acting ----------------------------------------------------------------------
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one (already scaled) observation, as float32 numpy."""
        if self._numpy_acting:
            return self.online.numpy_q(obs)
        with torch.no_grad():
            return self.online(torch.as_tensor(obs, device=self.device)[None])[0].cpu().numpy()

    def act(self, obs: np.ndarray, greedy: bool = False) -> tuple[int, np.ndarray]:
        """Epsilon-greedy action and the Q-values it was chosen from.

        One uniform draw per step decides explore/exploit, so the random stream does not depend
        on the network's output. With `explore_duration` > 1 this is ez-greedy (Dabney et al.,
        2021): an exploratory action is held for a heavy-tailed number of steps (zeta, a = 2, at
        most `explore_duration`), which is how random play builds momentum; the hold ends with
        the episode.
        """
        q = self.q_values(obs)
        if greedy:
            return int(np.argmax(q)), q
        if self._hold_left > 0:
            self._hold_left -= 1
            return self._hold_action, q
        if self.rng.random() >= self.epsilon:
            return int(np.argmax(q)), q
        action = int(self.rng.integers(self.spec.n_actions))
        if self.config.explore_duration > 1:
            self._hold_left = min(int(self.rng.zipf(2.0)), self.config.explore_duration) - 1
            self._hold_action = action
        return action, q

    # --- learning --------------------------------------------------------------------
    def observe(self, state: np.ndarray, action: int, reward: float, next_state: np.ndarray,
                stop: bool, episode_end: bool = False) -> list[float]:
        """Store a transition, learn on schedule, update the target; returns this step's losses.

        `episode_end` (terminated or truncated) flushes pending n-step transitions.
        """
        c = self.config
        if episode_end or stop:
            self._hold_left = 0
        for transition in self.n_step.push(state, action, reward, next_state, stop, episode_end or stop, c.gamma):
            self.memory.add(*transition)
        self.steps += 1
        losses: list[float] = []
        if (self.steps % c.update_interval == 0 and self.steps >= c.learning_starts
                and len(self.memory) >= c.batch_size):
            for _ in range(c.update_times):
                losses.append(self.learn())
                if not math.isfinite(losses[-1]):
                    break
        if c.target_update == "soft":
            self.target_weights.lerp_(self.weights, c.tau)
        elif self.steps % c.target_update_interval == 0:
            self.target_weights.copy_(self.weights)
        return losses

    def td_targets(self, rewards: torch.Tensor, next_states: torch.Tensor, stops: torch.Tensor,
                   horizons: torch.Tensor | None = None) -> torch.Tensor:
        """r + gamma**h * (1 - stop) * Q_target(s', a*), a* = argmax_a Q_online(s', a) (Double DQN).

        h = 1 for one-step transitions (then gamma is applied as a plain scalar).
        """
        with torch.no_grad():
            q_next_target = self.target(next_states)
            if self.config.double_dqn:
                best = self.online(next_states).argmax(dim=1, keepdim=True)
                q_next = q_next_target.gather(1, best).squeeze(1)
            else:
                q_next = q_next_target.max(dim=1).values
            discount = self.config.gamma if horizons is None else torch.pow(self.config.gamma, horizons)
            return rewards + discount * (1.0 - stops) * q_next

    def numpy_td_targets(self, rewards: np.ndarray, next_states: np.ndarray, stops: np.ndarray,
                         horizons: np.ndarray | None = None) -> np.ndarray:
        """`td_targets` in numpy on CPU: the same maths without torch's per-op dispatch, which
        costs more than the arithmetic for batches this small."""
        q_next_target = self.target.numpy_q(next_states)
        if self.config.double_dqn:
            best = self.online.numpy_q(next_states).argmax(axis=1)
            q_next = np.take_along_axis(q_next_target, best[:, None], axis=1)[:, 0]
        else:
            q_next = q_next_target.max(axis=1)
        discount = self.config.gamma if horizons is None else np.float32(self.config.gamma) ** horizons
        return rewards + discount * (1.0 - stops) * q_next

    def learn(self) -> float:
        """One gradient step on a sampled batch; returns the loss as a Python float.

        A NaN or infinite loss takes no step (and is not counted): the trainer stops the run, and
        the agent stays as it was, finite and savable.
        """
        c = self.config
        s, a, r, s2, d, h = self.memory.sample(c.batch_size)  # a ReplayBatch, column by column
        horizons = h if c.n_step > 1 else None
        if self._numpy_acting:
            targets = torch.from_numpy(self.numpy_td_targets(r, s2, d, horizons))
        else:
            rt, s2t, dt, ht = (torch.from_numpy(x).to(self.device) for x in (r, s2, d, h))
            targets = self.td_targets(rt, s2t, dt, ht if horizons is not None else None)
        states, actions = torch.from_numpy(s).to(self.device), torch.from_numpy(a).to(self.device)
        if isinstance(self.online, QNetwork):
            loss = mlp_loss_and_gradients(self.online, states, actions, targets, c.loss)
        else:
            q = self.online(states).gather(1, actions.unsqueeze(1)).squeeze(1)
            loss = F.mse_loss(q, targets) if c.loss == "mse" else F.smooth_l1_loss(q, targets)
            self.gradients.zero_()
            loss.backward()  # accumulates in place into the gradient buffer's views
        value = float(loss.item())
        if not math.isfinite(value):  # diverged: keep the weights as they are, uncounted
            return value
        if c.gradient_clip > 0:
            self._clip_gradients(c.gradient_clip)
        self.optimizer.step()
        self.updates += 1
        return value

    def _clip_gradients(self, max_norm: float) -> None:
        """As `clip_grad_norm_`: scale the gradient so its global norm is at most `max_norm`."""
        total = torch.linalg.vector_norm(self.gradients)
        self.gradients.mul_(torch.clamp(max_norm / (total + 1e-6), max=1.0))
