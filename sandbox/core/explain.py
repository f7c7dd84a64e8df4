""""Explain this update": the TD target of one stored transition, taken apart number by number.

What the learner sees in the Explain tab and what the tests hold to the agent's own computation:

    target = r + γ^h · (1 − stop) · Q_target(s′, a*)
    a* = argmax_a Q_online(s′, a)   with Double DQN   (the online net picks, the target net scores)
    a* = argmax_a Q_target(s′, a)   without it        (the target net both picks and scores: its max)

beside Q_online(s, a), the TD error and this transition's share of the loss. Both rules' targets are
shown, so the learner sees how much Double DQN takes off the max (its correction of overestimation).
It reads the nets only (a forward each, no gradient) and draws nothing from the agent's random
streams, so explaining never changes the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sandbox.core.config import Config
from sandbox.core.memory import ReplayMemory, Transition


@dataclass(frozen=True)
class UpdateExplained:
    """One transition's learning target, every term of it."""

    index: int  # its row in the replay memory
    state: np.ndarray  # s, as the agent sees it (scaled)
    action: int  # a
    reward: float  # r: the stored (n-step, shaped) reward
    next_state: np.ndarray  # s′
    stop: bool  # no bootstrap from s′ (a terminal state)
    horizon: int  # h: env steps from s to s′
    gamma: float
    double_dqn: bool  # which rule the agent learns with
    q_online: np.ndarray  # Q_online(s, ·)
    q_online_next: np.ndarray  # Q_online(s′, ·)
    q_target_next: np.ndarray  # Q_target(s′, ·)
    loss_kind: str  # "mse" or "huber"

    @property
    def discount(self) -> float:
        """γ^h · (1 − stop): how much of s′'s value the target keeps."""
        return 0.0 if self.stop else float(np.float32(self.gamma) ** np.float32(self.horizon))

    @property
    def double_action(self) -> int:
        """a* with Double DQN: the online net's choice in s′."""
        return int(np.argmax(self.q_online_next))

    @property
    def max_action(self) -> int:
        """a* without it: the target net's own best action in s′."""
        return int(np.argmax(self.q_target_next))

    @property
    def double_target(self) -> float:
        return self.reward + self.discount * float(self.q_target_next[self.double_action])

    @property
    def max_target(self) -> float:
        return self.reward + self.discount * float(self.q_target_next[self.max_action])

    @property
    def target(self) -> float:
        """The target the agent learns from (its config's rule)."""
        return self.double_target if self.double_dqn else self.max_target

    @property
    def predicted(self) -> float:
        """Q_online(s, a): what the update moves toward the target."""
        return float(self.q_online[self.action])

    @property
    def td_error(self) -> float:
        return self.predicted - self.target

    @property
    def loss(self) -> float:
        """This transition's loss term (the batch's loss is the mean of these)."""
        d = abs(self.td_error)
        if self.loss_kind == "mse":
            return d * d
        return 0.5 * d * d if d < 1.0 else d - 0.5  # Huber with beta = 1


def explain(online: nn.Module, target: nn.Module, config: Config, memory_row: Transition,
            index: int) -> UpdateExplained:
    """Take apart the target of the transition `memory_row` = (s, a, r, s′, stop, h) at row `index`."""
    s, a, r, s2, stop, h = memory_row
    device = next(online.parameters()).device
    with torch.no_grad():
        both = torch.as_tensor(np.stack([s, s2]).astype(np.float32), device=device)
        q_online = online(both).cpu().numpy()
        q_target_next = target(both[1:]).cpu().numpy()[0]
    return UpdateExplained(index, np.array(s, np.float32), int(a), float(r), np.array(s2, np.float32), bool(stop),
                           int(h), config.gamma, config.double_dqn, q_online[0], q_online[1], q_target_next,
                           config.loss)


def explain_row(online: nn.Module, target: nn.Module, config: Config, memory: ReplayMemory,
                index: int) -> UpdateExplained:
    """`explain` for row `index` of a ReplayMemory."""
    row = (memory.states[index], int(memory.actions[index]), float(memory.rewards[index]), memory.next_states[index],
           bool(memory.stops[index] > 0.5), int(memory.horizons[index]))
    return explain(online, target, config, row, index)


def newest_row(memory: ReplayMemory) -> int | None:
    """The row the memory wrote last (None while it is empty)."""
    if len(memory) == 0:
        return None
    return (memory.position - 1) % memory.capacity


def describe(e: UpdateExplained, action_names: tuple[str, ...] | None = None) -> list[str]:
    """The explanation as plain lines, every number shown (the Explain tab, and `train`'s notes)."""
    def name(a: int) -> str:
        return f"{a} ({action_names[a]})" if action_names and a < len(action_names) else str(a)

    lines = [
        f"Transition #{e.index:,} from the replay memory: action {name(e.action)}, reward r = {e.reward:.4g}, "
        f"{e.horizon} step{'s' if e.horizon != 1 else ''} to s′" + (" (terminal: no bootstrap)" if e.stop else ""),
        f"Online net:  Q_online(s, ·) = {_values(e.q_online)};  Q_online(s, a) = {e.predicted:.4f}",
        f"Online net in s′:  Q_online(s′, ·) = {_values(e.q_online_next)} → picks a* = {name(e.double_action)}",
        f"Target net in s′:  Q_target(s′, ·) = {_values(e.q_target_next)}; its own max is action "
        f"{name(e.max_action)}",
        f"Discount:  γ^h · (1 − stop) = {e.gamma:g}^{e.horizon} · {0 if e.stop else 1} = {e.discount:.4f}",
        f"Double DQN target:  r + {e.discount:.4f} · Q_target(s′, {e.double_action}) = {e.reward:.4g} + "
        f"{e.discount:.4f} · {e.q_target_next[e.double_action]:.4f} = {e.double_target:.4f}",
        f"Max target (vanilla DQN):  r + {e.discount:.4f} · max Q_target(s′, ·) = {e.max_target:.4f}  "
        f"(Double DQN is {e.max_target - e.double_target:.4f} lower: the overestimation it removes)",
        f"This agent learns with the {'Double DQN' if e.double_dqn else 'max'} target: {e.target:.4f}",
        f"TD error:  Q_online(s, a) − target = {e.predicted:.4f} − {e.target:.4f} = {e.td_error:.4f};  "
        f"{'squared' if e.loss_kind == 'mse' else 'Huber'} loss term = {e.loss:.4f}",
    ]
    return lines


def _values(q: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in q) + "]"
