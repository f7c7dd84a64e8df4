"""What the agent believes over a 2-D observation space: max-Q (value) and greedy action (policy)
on a grid, and where the replay memory has been. MountainCar's position × velocity is the classic."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sandbox.core.agent import DQNAgent
from sandbox.core.envs import EnvSpec, ObservationScaler


@dataclass(frozen=True)
class PolicyMap:
    """Q over a grid: q[iy, ix, a] for observation (xs[ix], ys[iy]), in raw observation units."""

    xs: np.ndarray
    ys: np.ndarray
    q: np.ndarray

    @property
    def value(self) -> np.ndarray:
        return self.q.max(axis=-1)

    @property
    def policy(self) -> np.ndarray:
        return self.q.argmax(axis=-1)


def unavailable_reason(spec: EnvSpec) -> str | None:
    """Why the map cannot be drawn for this env, or None when it can."""
    if spec.obs_dim != 2:
        return (f"{spec.env_id} observes {spec.obs_dim} numbers; a map needs exactly 2 (one per axis), so the "
                "Q-values of the current state are shown as bars instead.")
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in spec.obs_low + spec.obs_high):
        return f"{spec.env_id}'s observation space is unbounded, so there is no grid to draw the map on."
    return None


def grid(spec: EnvSpec, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres along each axis, spanning the observation space."""
    x, y = (np.linspace(lo, hi, resolution + 1) for lo, hi in zip(spec.obs_low, spec.obs_high, strict=True))
    return ((x[:-1] + x[1:]) / 2).astype(np.float32), ((y[:-1] + y[1:]) / 2).astype(np.float32)


def policy_map(agent: DQNAgent, scaler: ObservationScaler, spec: EnvSpec, resolution: int = 64) -> PolicyMap:
    """The online network's Q over a resolution × resolution grid, in one batched forward."""
    xs, ys = grid(spec, resolution)
    gx, gy = np.meshgrid(xs, ys)
    obs = scaler(np.stack([gx.ravel(), gy.ravel()], axis=1))
    with torch.no_grad():
        q = agent.online(torch.from_numpy(obs).to(agent.device)).cpu().numpy()
    return PolicyMap(xs, ys, q.reshape(resolution, resolution, -1))


def coverage(agent: DQNAgent, scaler: ObservationScaler, spec: EnvSpec, resolution: int = 64) -> np.ndarray:
    """How many replay-memory states fall in each grid cell: counts[iy, ix]."""
    n = len(agent.memory)
    raw = agent.memory.states[:n] / scaler.scale + scaler.center  # memory holds scaled observations
    counts, _, _ = np.histogram2d(raw[:, 1], raw[:, 0], bins=resolution,
                                  range=[[spec.obs_low[1], spec.obs_high[1]], [spec.obs_low[0], spec.obs_high[0]]])
    return counts
