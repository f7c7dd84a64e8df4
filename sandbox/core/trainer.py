"""Trainer: drives env and agent one step at a time and keeps the run's history.

Every way of driving it (`step`, `run_episode`, `run`) goes through `step`, so the same config
and seed give the same curves however the run is paused, stepped or resumed.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from sandbox.core.agent import DQNAgent
from sandbox.core.config import LIVE_FIELDS, Config, ConfigError
from sandbox.core.envs import ObservationScaler, frame_of, make_env, potential, spec_of
from sandbox.core.evaluate import EvalResult, Evaluation

EVAL_STREAM = 7  # the greedy evaluations' seeds: a stream of their own, apart from training's


@dataclass(frozen=True)
class EpisodeStats:
    """One finished training episode. `steps_per_second` is wall-clock and the only non-deterministic field."""

    index: int
    score: float
    length: int
    terminated: bool
    truncated: bool
    moving_average: float
    epsilon: float
    mean_loss: float
    total_steps: int
    updates: int
    steps_per_second: float
    solved: bool
    start_value: float  # max Q of the episode's first state, when it was seen: what the agent expected
    discounted_return: float  # sum of gamma^t * (learning) reward: what it then got
    greedy_mean: float = math.nan  # the greedy evaluation run after this episode (NaN: none ran)
    greedy_std: float = math.nan

    @property
    def evaluated(self) -> bool:
        return not math.isnan(self.greedy_mean)

    def deterministic(self) -> tuple:
        """Every field but the wall-clock speed, for comparing runs."""
        return (self.index, self.score, self.length, self.terminated, self.truncated, self.moving_average,
                self.epsilon, self.mean_loss, self.total_steps, self.updates, self.solved, self.start_value,
                self.discounted_return, self.greedy_mean, self.greedy_std)


@dataclass(frozen=True)
class StepResult:
    """One env step as plain data: raw observations, the env's reward, and what the agent saw."""

    state: np.ndarray
    action: int
    reward: float
    next_state: np.ndarray
    q_values: np.ndarray
    terminated: bool
    truncated: bool
    epsilon: float
    losses: tuple[float, ...]
    episode: EpisodeStats | None = None


@dataclass(frozen=True)
class LiveEdit:
    """A parameter changed during training, drawn as a marker on the plots."""

    episode: int
    total_steps: int
    name: str
    old: Any
    new: Any


@dataclass
class History:
    """What the plots show and agent files keep: per-episode stats, every loss, every live edit."""

    episodes: list[EpisodeStats] = field(default_factory=list)
    losses: array = field(default_factory=lambda: array("f"))
    edits: list[LiveEdit] = field(default_factory=list)

    def copy(self) -> History:
        """A copy another thread may keep while training goes on."""
        out = History(list(self.episodes), edits=list(self.edits))
        out.losses.extend(self.losses)
        return out


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; the agent is kept as it was before that update."""


def seeds(seed: int) -> tuple[int, np.random.SeedSequence, np.random.SeedSequence]:
    """Independent streams for the env, exploration and memory sampling, all from one seed."""
    env_ss, act_ss, mem_ss = np.random.SeedSequence(seed).spawn(3)
    return int(env_ss.generate_state(1)[0]), act_ss, mem_ss


def configure_torch() -> None:
    """One intra-op thread: for nets this small, thread hand-offs cost more than they save, and
    the GUI thread keeps the other core."""
    torch.set_num_threads(1)


def limit_threads() -> None:
    """For a process's entry point (CLI, benchmarks, the app's worker), not for library code: one
    torch thread (`configure_torch`) and one thread for every native pool numpy and torch loaded,
    OpenBLAS's included. OpenBLAS spin-waits for work, so beside another busy process on a 2-core
    machine an unlimited pool runs 3–14× slower. numpy and torch are imported by this module, so
    their pools are loaded when this runs (threadpoolctl limits only loaded libraries)."""
    configure_torch()
    threadpool_limits(1)


class EpisodeObserver(Protocol):
    """What a subscriber to a run hears, in `Trainer.observers`: each finished episode, with the
    trainer whole at that boundary (its history holds the episode; a snapshot can be taken). The
    JSONL log and the best-agent keeper of `train`, and the app's worker, subscribe; TensorBoard
    logs and the run timeline are next. An observer reads; it never changes the run."""

    def episode_ended(self, trainer: Trainer, stats: EpisodeStats) -> None: ...


class Trainer:
    """Owns one env and one agent and advances them; the GUI worker and the CLI both drive this."""

    def __init__(self, config: Config, render: bool = False) -> None:
        configure_torch()
        self.env = make_env(config.env_id, render=render)
        self.spec = spec_of(self.env)
        if config.reward_shaping == "potential":
            potential(self.spec.env_id, np.zeros(self.spec.obs_dim), 1.0)  # raises for unsupported envs
        self.config = config
        env_seed, act_seed, mem_seed = seeds(config.seed)
        self._env_seed: int | None = env_seed
        self.scaler = ObservationScaler(self.spec, config.normalize_observations)
        self.agent = DQNAgent(config, self.spec, act_seed, mem_seed)
        self.history = History()
        self._obs: np.ndarray | None = None  # raw observation; None = the next step resets the env
        self._recent: deque[float] = deque(maxlen=config.solve_window)
        self._episode_score = 0.0
        self._episode_length = 0
        self._episode_losses: list[float] = []
        self._episode_seconds = 0.0
        self._episode_start_value = math.nan
        self._episode_discounted = 0.0
        self._discount = 1.0
        self._trajectory: list[np.ndarray] = []
        self._last_trajectory = np.zeros((0, self.spec.obs_dim))
        # A greedy evaluation under way after an episode that ended (only with step(defer_evaluation=True)):
        # the episode's stats are made when it completes.
        self.evaluation: Evaluation | None = None
        self._ended = (False, False)  # that episode's (terminated, truncated)
        self.observers: list[EpisodeObserver] = []

    # --- properties ------------------------------------------------------------------
    @property
    def threshold(self) -> float | None:
        c = self.config
        return c.solve_threshold if c.solve_threshold is not None else self.spec.reward_threshold

    @property
    def episodes_done(self) -> int:
        return len(self.history.episodes)

    @property
    def total_steps(self) -> int:
        return self.agent.steps

    @property
    def solved(self) -> bool:
        return bool(self.history.episodes) and self.history.episodes[-1].solved

    @property
    def finished(self) -> bool:
        """True when training should stop: max episodes reached, or solved with stop_when_solved."""
        return self.episodes_done >= self.config.max_episodes or (self.solved and self.config.stop_when_solved)

    @property
    def mid_episode(self) -> bool:
        return self._obs is not None

    @property
    def trajectory(self) -> np.ndarray:
        """Raw observations of the current episode so far, or of the last finished one."""
        return np.array(self._trajectory) if self._trajectory else self._last_trajectory

    # --- live parameters -------------------------------------------------------------
    def apply(self, changes: dict[str, Any]) -> list[LiveEdit]:
        """Change live parameters now; anything else needs a new agent and raises ConfigError."""
        if self.evaluation is not None:  # an edit inside an episode's evaluation would be logged for no episode
            raise ValueError("an evaluation is under way; settle() the trainer before changing it")
        fixed = sorted(set(changes) - LIVE_FIELDS)
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} cannot change during a run; create a new agent to change it")
        new = self.config.with_changes(**changes)
        edits = [LiveEdit(self.episodes_done, self.total_steps, k, old, changes[k])
                 for k, (old, _) in self.config.diff(new).items()]
        self.config = new
        self.agent.set_config(new)
        if new.solve_window != self._recent.maxlen:
            scores = [e.score for e in self.history.episodes]
            self._recent = deque(scores[-new.solve_window:], maxlen=new.solve_window)
        self.history.edits.extend(edits)
        return edits

    # --- driving ---------------------------------------------------------------------
    def step(self, defer_evaluation: bool = False) -> StepResult:
        """Advance one env step (resetting first if the last episode ended).

        An episode followed by a greedy evaluation ends with that evaluation, in this call, unless
        `defer_evaluation`: then the evaluation is left under way in `self.evaluation`, for
        `continue_evaluation` to run in slices (the app's worker, so Pause never waits for one), and
        the episode's stats come from there. A step taken while one is under way finishes it first.
        """
        self.settle()
        started = time.perf_counter()
        if self._obs is None:
            self._obs, _ = self.env.reset(seed=self._env_seed)
            self._env_seed = None  # seed once; later resets continue the env's own generator
        state = self._obs
        agent_state = self.scaler(state)
        epsilon = self.agent.epsilon
        action, q = self.agent.act(agent_state)
        if not self._trajectory:
            self._episode_start_value = float(q.max())
        self._trajectory.append(state)
        next_state, reward, terminated, truncated, _ = self.env.step(action)
        reward = float(reward)
        stop = terminated or (truncated and not self.config.bootstrap_on_truncation)
        learn_reward = reward
        if self.config.reward_shaping == "potential":
            phi_next = 0.0 if terminated else potential(self.spec.env_id, next_state, self.config.shaping_scale)
            learn_reward += self.config.gamma * phi_next - potential(self.spec.env_id, state,
                                                                     self.config.shaping_scale)
        losses = self.agent.observe(agent_state, action, learn_reward, self.scaler(next_state), stop,
                                    terminated or truncated)
        if losses and not math.isfinite(losses[-1]):
            self.history.losses.extend(losses[:-1])  # the counted updates: history and counters agree
            raise TrainingDiverged(
                f"the loss became {losses[-1]} at update {self.agent.updates} (episode {self.episodes_done + 1}); "
                "try a lower learning_rate, a gradient_clip, or the huber loss"
            )
        self.history.losses.extend(losses)
        self._episode_losses.extend(losses)
        self._episode_score += reward
        self._episode_discounted += self._discount * learn_reward
        self._discount *= self.config.gamma
        self._episode_length += 1
        self._obs = next_state
        self._episode_seconds += time.perf_counter() - started
        episode = None
        if terminated or truncated:
            if defer_evaluation and self.evaluation_due():
                self.evaluation, self._ended = self.start_evaluation(), (bool(terminated), bool(truncated))
            else:
                episode = self._finish_episode(terminated, truncated,
                                               self.evaluate_greedy() if self.evaluation_due() else None)
        return StepResult(state, action, reward, next_state, q, bool(terminated), bool(truncated), epsilon,
                          tuple(losses), episode)

    def run_episode(self) -> EpisodeStats:
        """Finish the current episode (or play a whole new one)."""
        while True:
            result = self.step()
            if result.episode is not None:
                return result.episode

    def run(self, episodes: int | None = None) -> list[EpisodeStats]:
        """Play up to `episodes` more episodes (default: until finished); stops early when finished."""
        done: list[EpisodeStats] = []
        while not self.finished and (episodes is None or len(done) < episodes):
            done.append(self.run_episode())
        return done

    def env_rng(self) -> tuple[int | None, dict | None]:
        """(seed still to apply at the first reset, or None; the env generator's state once seeded)."""
        if self._env_seed is not None:
            return self._env_seed, None
        return None, dict(self.env.unwrapped.np_random.bit_generator.state)

    def restore(self, env_seed: int | None, env_state: dict | None, history: History) -> None:
        """Continue from a saved point: the env's generator and the history; the next step starts
        a new episode."""
        self._env_seed = env_seed
        if env_state is not None:
            self.env.unwrapped.np_random.bit_generator.state = env_state
        self.history = history
        self._recent = deque((e.score for e in history.episodes[-self.config.solve_window:]),
                             maxlen=self.config.solve_window)

    def render(self) -> np.ndarray | None:
        """The current frame (only when the trainer was made with render=True)."""
        return frame_of(self.env) if self.env.render_mode == "rgb_array" else None

    def close(self) -> None:
        if self.evaluation is not None:
            self.evaluation.close()
        self.env.close()

    def evaluation_due(self) -> bool:
        """Whether the episode that just finished is followed by a greedy evaluation."""
        c = self.config
        return c.solve_rule == "greedy" and (self.episodes_done + 1) % c.eval_every == 0

    def start_evaluation(self) -> Evaluation:
        """The solve rule's evaluation: `eval_episodes` greedy episodes on an env of their own.

        The k-th evaluation of a run is seeded from (seed, k), so it is the same whether the run was
        paused, saved or resumed, and each evaluation sees start states training never chose.
        """
        k = sum(1 for e in self.history.episodes if e.evaluated)
        seed = int(np.random.SeedSequence([self.config.seed, EVAL_STREAM, k]).generate_state(1)[0])
        return Evaluation(self.agent, self.scaler, self.spec.env_id, self.config.eval_episodes, seed, self.threshold)

    def evaluate_greedy(self) -> EvalResult:
        """The solve rule's evaluation, in one go."""
        return self.start_evaluation().run()

    def continue_evaluation(self, max_steps: int) -> EpisodeStats | None:
        """Run up to `max_steps` steps of the evaluation under way; the episode's stats once it is complete."""
        assert self.evaluation is not None, "no evaluation is under way"
        if not self.evaluation.advance(max_steps):
            return None
        result, self.evaluation = self.evaluation.result(), None
        return self._finish_episode(*self._ended, result)

    def settle(self) -> EpisodeStats | None:
        """Complete an evaluation under way (before a save, a live edit or a step); its episode's stats."""
        return self.continue_evaluation(10**12) if self.evaluation is not None else None

    def _finish_episode(self, terminated: bool, truncated: bool, greedy: EvalResult | None) -> EpisodeStats:
        self._recent.append(self._episode_score)
        moving = float(np.mean(self._recent))
        threshold = self.threshold
        if self.config.solve_rule == "greedy":
            solved = greedy is not None and greedy.solved
        else:
            solved = threshold is not None and len(self._recent) >= self.config.solve_window and moving >= threshold
        stats = EpisodeStats(
            index=self.episodes_done,
            score=self._episode_score,
            length=self._episode_length,
            terminated=bool(terminated),
            truncated=bool(truncated),
            moving_average=moving,
            epsilon=self.agent.epsilon,
            mean_loss=float(np.mean(self._episode_losses)) if self._episode_losses else math.nan,
            total_steps=self.total_steps,
            updates=self.agent.updates,
            steps_per_second=self._episode_length / max(self._episode_seconds, 1e-9),
            solved=solved or self.solved,
            start_value=self._episode_start_value,
            discounted_return=self._episode_discounted,
            greedy_mean=greedy.mean if greedy else math.nan,
            greedy_std=greedy.std if greedy else math.nan,
        )
        assert self._obs is not None  # the episode's last observation: it has not been reset yet
        self._trajectory.append(self._obs)
        self._last_trajectory = np.array(self._trajectory)
        self._trajectory = []
        self._episode_discounted = 0.0
        self._discount = 1.0
        self.history.episodes.append(stats)
        self._obs = None
        self._episode_score = 0.0
        self._episode_length = 0
        self._episode_losses = []
        self._episode_seconds = 0.0
        for observer in self.observers:
            observer.episode_ended(self, stats)
        return stats
