"""Environment creation, the checks that an env fits a DQN, observation scaling and reward shaping."""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from sandbox.core.env_profiles import SHAPING_ENVS, mountain_car

SUGGESTED_ENVS = ("MountainCar-v0", "CartPole-v1", "Acrobot-v1", "LunarLander-v3")
MAX_ENV_ID = 100


class EnvError(ValueError):
    """The env cannot be made, or its spaces do not fit a DQN (Discrete actions, 1-D Box observations)."""


@dataclass(frozen=True)
class EnvSpec:
    """The plain-data facts about an env that networks, agent files and the GUI need."""

    env_id: str
    obs_dim: int
    n_actions: int
    obs_low: tuple[float, ...]
    obs_high: tuple[float, ...]
    reward_threshold: float | None
    max_episode_steps: int | None


def env_id_problem(env_id: str) -> str | None:
    """Why `env_id` must not reach `gym.make`, or None if it may.

    Gymnasium reads `module:EnvName` and imports `module` first, so an id from a file or a field
    could run any installed module's top-level code. Only registered ids without a module part
    pass; they name an env, never code. Checked by looking the id up, before gymnasium parses it.
    """
    if len(env_id) > MAX_ENV_ID:
        return f"it is longer than {MAX_ENV_ID} characters"
    if ":" in env_id:
        return "'module:Env' ids would make Gymnasium import that module"
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=1)
        return "it is not a registered Gymnasium environment" + (f" (did you mean {close[0]}?)" if close else "")
    return None


def make_env(env_id: str, render: bool = False) -> gym.Env:
    """Make a gymnasium env; frames are produced only when `render` is true (headless pays nothing)."""
    if problem := env_id_problem(env_id):
        raise EnvError(f"env {env_id[:MAX_ENV_ID]!r} cannot be used: {problem}")
    try:
        with warnings.catch_warnings():  # a deprecated id's notice would make a second line
            warnings.simplefilter("ignore", DeprecationWarning)
            env = gym.make(env_id, render_mode="rgb_array" if render else None)
    except gym.error.DependencyNotInstalled as exc:
        raise EnvError(f"env {env_id!r} needs an extra package: {exc}") from None
    except (gym.error.Error, ModuleNotFoundError, ImportError) as exc:
        raise EnvError(f"cannot make env {env_id!r}: {exc}") from None
    try:
        spec_of(env)
    except EnvError:
        env.close()
        raise
    return env


def frame_of(env: gym.Env) -> np.ndarray | None:
    """The picture of an env made with render_mode='rgb_array' (Gymnasium types render() loosely)."""
    frame = env.render()
    return frame if isinstance(frame, np.ndarray) else None


def spec_of(env: gym.Env) -> EnvSpec:
    env_id = env.spec.id if env.spec else type(env.unwrapped).__name__
    act, obs = env.action_space, env.observation_space
    if not isinstance(act, gym.spaces.Discrete):
        raise EnvError(f"env {env_id!r} has a {type(act).__name__} action space; a DQN needs Discrete actions")
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        raise EnvError(
            f"env {env_id!r} has observations {obs}; RL Sandbox needs a 1-D Box (a vector of numbers)"
        )
    spec = env.spec
    return EnvSpec(
        env_id=env_id,
        obs_dim=int(obs.shape[0]),
        n_actions=int(act.n),
        obs_low=tuple(float(x) for x in obs.low),
        obs_high=tuple(float(x) for x in obs.high),
        reward_threshold=spec.reward_threshold if spec else None,
        max_episode_steps=spec.max_episode_steps if spec else None,
    )


class ObservationScaler:
    """Maps raw observations to the agent's float32 input; rescales finite bounds to [-1, 1] if asked.

    Dimensions with infinite or huge bounds (CartPole's velocities) pass through unchanged.
    """

    def __init__(self, spec: EnvSpec, normalize: bool) -> None:
        low = np.asarray(spec.obs_low, dtype=np.float64)
        high = np.asarray(spec.obs_high, dtype=np.float64)
        scalable = normalize & np.isfinite(low) & np.isfinite(high) & (high > low) & (high - low < 1e6)
        low, high = np.where(scalable, low, -1.0), np.where(scalable, high, 1.0)
        self.center = np.where(scalable, (high + low) / 2, 0.0).astype(np.float32)
        self.scale = np.where(scalable, 2 / (high - low), 1.0).astype(np.float32)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return (np.asarray(obs, dtype=np.float32) - self.center) * self.scale


def potential(env_id: str, obs: np.ndarray, scale: float) -> float:
    """Shaping potential phi(s): MountainCar's mechanical energy rescaled to [0, scale].

    The dynamics are v += (a - 1) * force - gravity * cos(3x), so U(x) = gravity * sin(3x) / 3.
    Used as r + gamma * phi(s') - phi(s) with phi = 0 at terminal states, which leaves the
    optimal policy unchanged (Ng, Harada & Russell, 1999).
    """
    if env_id not in SHAPING_ENVS:
        raise EnvError(f"reward_shaping = 'potential' is defined for {', '.join(SHAPING_ENVS)}, not {env_id!r}")
    car = mountain_car()
    e_min, e_max = -car.gravity / 3, car.gravity / 3 + car.max_speed**2 / 2
    x, v = float(obs[0]), float(obs[1])
    energy = car.gravity * math.sin(3 * x) / 3 + v * v / 2
    return scale * (energy - e_min) / (e_max - e_min)
