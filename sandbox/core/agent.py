"""DQNAgent: epsilon-greedy acting, the replay memory and the learning schedule.

How a learning step is computed is the backend's (`sandbox.core.learning`, chosen by
`config.backend`); what the agent decides is when: every `update_interval` env steps, once the
memory holds `learning_starts` transitions and a batch, `update_times` steps, then the target's
update. The device it runs on is the running machine's choice (`config.device`, resolved here);
nothing in its learned state depends on it, so an agent saved on one device opens on another.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from sandbox.core.config import Config, ConfigError
from sandbox.core.envs import EnvSpec
from sandbox.core.learning.fast import FastLearner
from sandbox.core.learning.learner import Learner
from sandbox.core.learning.reference import ReferenceLearner
from sandbox.core.memory import NStepBuffer, ReplayMemory
from sandbox.core.networks import build_network

BACKENDS: dict[str, type[FastLearner] | type[ReferenceLearner]] = {"fast": FastLearner, "reference": ReferenceLearner}


def resolve_device(name: str) -> torch.device:
    """The torch device `name` (a `device` choice) means on this machine; ConfigError if it has none such."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was chosen but this machine has no CUDA device; allowed here: 'cpu' or 'auto'")
    return torch.device(name)


class DQNAgent:
    """Owns the online and target nets, their learner and the replay memory.

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
        self.learner: Learner = BACKENDS[config.backend](self.online, self.target, config, self.device)
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
        self.learner.set_config(config)

    @property
    def epsilon(self) -> float:
        """The notebook's schedule: max(start * decay ** (steps // steps_per_decay), end)."""
        c = self.config
        return max(c.epsilon_start * c.epsilon_decay ** (self.steps // c.steps_per_decay), c.epsilon_end)

    def finite(self) -> bool:
        """Whether every weight of both nets is finite (a diverged agent is not)."""
        return all(bool(torch.isfinite(p).all()) for net in (self.online, self.target) for p in net.parameters())

    # --- acting ----------------------------------------------------------------------
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of one (already scaled) observation, as float32 numpy."""
        return self.learner.q_values(obs)

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
        self.learner.update_target(self.steps)
        return losses

    def learn(self) -> float:
        """One gradient step on a sampled batch; returns the loss as a Python float.

        A NaN or infinite loss takes no step (and is not counted): the trainer stops the run, and
        the agent stays as it was, finite and savable.
        """
        value = self.learner.learn(self.memory.sample(self.config.batch_size))
        if math.isfinite(value):
            self.updates += 1
        return value
