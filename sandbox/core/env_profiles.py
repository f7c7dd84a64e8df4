"""What the app knows about each env, in one registry: action names, driving keys, the goal, whether
the window draws the env from its state, and whether reward shaping applies.

Facts Gymnasium exposes (MountainCar's goal position, position range, speed limit, force and
gravity) are read from the env itself, not re-typed here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import cast

import gymnasium as gym
from gymnasium.envs.classic_control.mountain_car import MountainCarEnv

SHAPING_ENVS = ("MountainCar-v0",)  # potential-based shaping uses MountainCar's mechanical energy


@dataclass(frozen=True)
class EnvProfile:
    """Per-env knowledge for the views; `keys` maps an arrow key ("Left", "Right", "Up") to the
    action it drives while held, `idle_action` is the action with no key held."""

    env_id: str
    action_names: tuple[str, ...]
    keys: tuple[tuple[str, int], ...]
    idle_action: int | None
    goal: float | None = None  # a position along the map's first axis, drawn as the goal line
    drawn_from_state: bool = False  # the window draws it from the observation (no env frames)

    @property
    def shaping(self) -> bool:
        """Whether reward_shaping = 'potential' is defined for this env."""
        return self.env_id in SHAPING_ENVS

    def action_name(self, action: int) -> str:
        name = self.action_names[action] if 0 <= action < len(self.action_names) else ""
        return f"{action} ({name})" if name else str(action)

    def key_action(self, key: str, pressed: bool) -> int | None:
        """The action for an arrow key's press or release, or None when the key does not drive this env."""
        actions = dict(self.keys)
        if key not in actions:
            return None
        return actions[key] if pressed else self.idle_action


@dataclass(frozen=True)
class MountainCarPhysics:
    """MountainCar's constants, as the env defines them."""

    min_position: float
    max_position: float
    goal_position: float
    max_speed: float
    force: float
    gravity: float


@functools.cache
def mountain_car() -> MountainCarPhysics:
    env = cast(MountainCarEnv, gym.make("MountainCar-v0").unwrapped)
    try:
        return MountainCarPhysics(float(env.min_position), float(env.max_position), float(env.goal_position),
                                  float(env.max_speed), float(env.force), float(env.gravity))
    finally:
        env.close()


_LEFT_NONE_RIGHT = (("Left", 0), ("Right", 2))


@functools.cache
def _known() -> dict[str, EnvProfile]:
    return {
        "MountainCar-v0": EnvProfile("MountainCar-v0", ("push left", "no push", "push right"), _LEFT_NONE_RIGHT, 1,
                                     goal=mountain_car().goal_position, drawn_from_state=True),
        "CartPole-v1": EnvProfile("CartPole-v1", ("push left", "push right"), (("Left", 0), ("Right", 1)), None),
        "Acrobot-v1": EnvProfile("Acrobot-v1", ("torque -1", "torque 0", "torque +1"), _LEFT_NONE_RIGHT, 1),
        "LunarLander-v3": EnvProfile("LunarLander-v3", ("nothing", "left engine", "main engine", "right engine"),
                                     (("Left", 1), ("Up", 2), ("Right", 3)), 0),
    }


def profile(env_id: str, n_actions: int) -> EnvProfile:
    """The env's profile; an env without one gets numbered actions and keys by its action count."""
    known = _known().get(env_id)
    if known is not None:
        return known
    names = tuple("" for _ in range(n_actions))
    if n_actions == 2:
        return EnvProfile(env_id, names, (("Left", 0), ("Right", 1)), None)
    return EnvProfile(env_id, names, (("Left", 0), ("Right", min(2, n_actions - 1))), 1 if n_actions > 2 else None)
