"""MaMuJoCo backend: gymnasium-robotics ``mamujoco_v1`` (real MuJoCo) behind :class:`omiga.envs.base.VectorEnv`.

E environments (``mamujoco_v1.parallel_env(scenario, agent_conf, agent_obsk=1)``) are stepped in a plain
Python loop: on 2 cores, subprocess vector envs are slower than a loop (see ENVIRONMENTS.md).

- Actions ``[E, N, act_dim]`` float32 must lie in [-1, 1]; they are scaled affinely to each actuator's bounds
  (a no-op for HalfCheetah, Hopper and Ant, whose bounds are already [-1, 1]). Values outside [-1, 1] or not
  finite are rejected with :class:`~omiga.errors.ConfigError`.
- ``obs_mode="local"`` (default): each agent's agent_obsk=1 observation, zero-padded at the end to the largest
  agent observation (HalfCheetah 6x1: 9/9/8/9/9/8 -> 9; Hopper 3x1: 8/9/8 -> 9; Ant 2x4: 63/63).
  ``obs_mode="global"`` reproduces the official OMIGA wrapper (``mujoco_multi.py`` ``get_obs`` / ``get_state``):
  agent n observes the full state with its one-hot id appended, z-scored within that vector,
  ``(x - mean(x)) / std(x)`` for ``x = [state, e_n]`` (:func:`omiga_agent_views`), so ``obs_dim = S + N``; the
  env's ``state`` is then every agent's view concatenated (``N * (S + N)``), which is what the official mixer
  reads. Imported OMIGA data (``omiga-hdf5``, ``og-marl-vault``) is stored in this form.
- ``state`` (local mode) is the single-agent v5 observation S (HalfCheetah 17, Hopper 11, Ant 105); ``reward`` is
  the team reward; ``terminated`` is a true terminal (Hopper / Ant falling), ``truncated`` the time limit
  (``max_episode_steps``, at most 1000); never both. ``won`` is always False.
- Episode k of environment e is seeded from (seed, e, k), so slot e never depends on E. After an episode
  ends, the next ``step`` resets that environment (its actions are ignored) and returns a first observation
  with reward 0.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from omiga.envs.base import EnvStep, episode_seed
from omiga.errors import BackendUnavailableError, ConfigError, UnknownNameError

__all__ = [
    "MAMUJOCO_INSTALL_HINT",
    "MAMUJOCO_MAX_EPISODE_STEPS",
    "MAMUJOCO_TASKS",
    "OBS_MODES",
    "MaMuJoCoConfig",
    "MaMuJoCoVectorEnv",
    "make_mamujoco_vector_env",
    "mamujoco_config_for_task",
    "mamujoco_sizes",
    "omiga_agent_views",
]

MAMUJOCO_INSTALL_HINT = "pip install gymnasium-robotics==1.4.2 mujoco==4.0.0"
MAMUJOCO_MAX_EPISODE_STEPS = 1000
OBS_MODES = ("local", "global")
MAMUJOCO_TASKS: dict[str, tuple[str, str]] = {
    "mamujoco_halfcheetah_6x1": ("HalfCheetah", "6x1"),
    "mamujoco_hopper_3x1": ("Hopper", "3x1"),
    "mamujoco_ant_2x4": ("Ant", "2x4"),
}
"""Task name -> (gymnasium-robotics scenario, agent_conf)."""


@dataclass(frozen=True)
class MaMuJoCoConfig:
    """Which MaMuJoCo problem to run and how agents observe it."""

    scenario: str
    """gymnasium-robotics scenario, e.g. ``HalfCheetah``, ``Hopper``, ``Ant``."""
    agent_conf: str
    """Agent factorisation, e.g. ``6x1`` (6 agents, 1 joint each)."""
    obs_mode: str = "local"
    """``local`` (agent_obsk=1 observations, zero-padded) or ``global`` (full state for every agent)."""
    max_episode_steps: int = MAMUJOCO_MAX_EPISODE_STEPS
    """Time limit in steps (1..1000); smaller caps are for smoke builds."""

    def __post_init__(self) -> None:
        if not self.scenario or not self.agent_conf:
            raise ConfigError("MaMuJoCo needs a scenario (e.g. 'HalfCheetah') and an agent_conf (e.g. '6x1')")
        if self.obs_mode not in OBS_MODES:
            raise ConfigError(f"unknown obs_mode {self.obs_mode!r}; choose one of {', '.join(OBS_MODES)}")
        if not 1 <= self.max_episode_steps <= MAMUJOCO_MAX_EPISODE_STEPS:
            raise ConfigError(f"max_episode_steps must lie in [1, {MAMUJOCO_MAX_EPISODE_STEPS}], "
                              f"got {self.max_episode_steps}")


def mamujoco_config_for_task(task_name: str, *, obs_mode: str = "local",
                             max_episode_steps: int = MAMUJOCO_MAX_EPISODE_STEPS) -> MaMuJoCoConfig:
    """The :class:`MaMuJoCoConfig` of a registry task name (UnknownNameError for other names)."""
    if task_name not in MAMUJOCO_TASKS:
        raise UnknownNameError("MaMuJoCo task", task_name, MAMUJOCO_TASKS)
    scenario, agent_conf = MAMUJOCO_TASKS[task_name]
    return MaMuJoCoConfig(scenario=scenario, agent_conf=agent_conf, obs_mode=obs_mode,
                          max_episode_steps=max_episode_steps)


def omiga_agent_views(state: np.ndarray, n_agents: int) -> np.ndarray:
    """OMIGA's per-agent view of ``state [..., S]``: ``[..., N, S + N]``, ``z([state, e_n])`` for agent n.

    ``z(x) = (x - mean(x)) / std(x)`` over the S + N entries of the one vector (population std), as the
    official MaMuJoCo wrapper computes its observations and states; computed in float64, returned float32.
    """
    if n_agents < 2:
        raise ConfigError(f"OMIGA's agent views need at least 2 agents, got {n_agents}")
    state = np.asarray(state, dtype=np.float64)
    ids = np.broadcast_to(np.eye(n_agents), state.shape[:-1] + (n_agents, n_agents))
    views = np.concatenate([np.broadcast_to(state[..., None, :], ids.shape[:-1] + state.shape[-1:]), ids], axis=-1)
    mean, std = views.mean(axis=-1, keepdims=True), views.std(axis=-1, keepdims=True)
    return ((views - mean) / std).astype(np.float32)


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence Python warnings and native writes to stderr (MuJoCo's 'settotalmass' compiler warning)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull, warnings.catch_warnings(), \
                contextlib.redirect_stderr(devnull):
            warnings.simplefilter("ignore")
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import_mamujoco():
    """gymnasium_robotics' mamujoco_v1 module, imported quietly, or BackendUnavailableError."""
    try:
        with _quiet_native_stderr():
            from gymnasium_robotics import mamujoco_v1
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the MaMuJoCo backend needs gymnasium-robotics and mujoco ({exc}); install them with "
            f"`{MAMUJOCO_INSTALL_HINT}`"
        ) from exc
    return mamujoco_v1


class MaMuJoCoVectorEnv:
    """E MaMuJoCo environments stepped in a loop (implements :class:`omiga.envs.base.VectorEnv`)."""

    discrete = False
    n_actions = None
    backend = "mamujoco"

    def __init__(self, *, config: MaMuJoCoConfig, n_envs: int):
        if n_envs < 1:
            raise ConfigError(f"MaMuJoCo needs n_envs >= 1, got {n_envs}")
        mamujoco_v1 = _import_mamujoco()
        self.config, self.n_envs = config, n_envs
        try:
            with _quiet_native_stderr():
                self._envs = [mamujoco_v1.parallel_env(config.scenario, config.agent_conf, agent_obsk=1)
                              for _ in range(n_envs)]
        except Exception as exc:  # gymnasium-robotics raises bare Exception for unknown configurations
            raise ConfigError(f"gymnasium-robotics cannot build MaMuJoCo scenario {config.scenario!r} with "
                              f"agent_conf {config.agent_conf!r} ({exc}); use e.g. HalfCheetah 6x1, Hopper 3x1 "
                              f"or Ant 2x4") from exc
        first = self._envs[0]
        self.agent_names: tuple[str, ...] = tuple(first.possible_agents)
        self.n_agents = len(self.agent_names)
        self.agent_obs_dims = tuple(int(first.observation_space(a).shape[0]) for a in self.agent_names)
        self.agent_act_dims = tuple(int(first.action_space(a).shape[0]) for a in self.agent_names)
        self.act_dim = max(self.agent_act_dims)
        single_state_dim = int(first.state().shape[0])  # the single-agent v5 observation
        if config.obs_mode == "global":
            self.obs_dim = single_state_dim + self.n_agents
            self.state_dim = self.n_agents * self.obs_dim
        else:
            self.obs_dim, self.state_dim = max(self.agent_obs_dims), single_state_dim
        self.obs_mode = config.obs_mode
        self._low = [np.asarray(first.action_space(a).low, np.float64) for a in self.agent_names]
        self._high = [np.asarray(first.action_space(a).high, np.float64) for a in self.agent_names]
        self._seed: int | None = None
        self._episode = np.zeros(n_envs, dtype=np.int64)
        self._t = np.zeros(n_envs, dtype=np.int64)
        self._done = np.zeros(n_envs, dtype=bool)
        self._obs = np.zeros((n_envs, self.n_agents, self.obs_dim), dtype=np.float32)
        self._state = np.zeros((n_envs, self.state_dim), dtype=np.float32)

    def reset(self, *, seed: int) -> EnvStep:
        """Start episode 0 of every environment; environment e is seeded from (seed, e, 0)."""
        self._seed = int(seed)
        self._episode[:] = 0
        for e in range(self.n_envs):
            self._reset_env(e)
        zeros = np.zeros(self.n_envs, dtype=bool)
        return self._env_step(np.zeros(self.n_envs, dtype=np.float32), zeros, zeros)

    def step(self, actions: np.ndarray) -> EnvStep:
        """Apply ``actions [E, N, act_dim]`` in [-1, 1]; environments done at the previous step reset instead."""
        if self._seed is None:
            raise ConfigError("call reset(seed=...) before step() on the MaMuJoCo environment")
        actions = self._checked_actions(actions)
        reward = np.zeros(self.n_envs, dtype=np.float32)
        terminated = np.zeros(self.n_envs, dtype=bool)
        truncated = np.zeros(self.n_envs, dtype=bool)
        for e, env in enumerate(self._envs):
            if self._done[e]:
                self._episode[e] += 1
                self._reset_env(e)
                continue
            local = {name: self._low[n] + (actions[e, n, : self.agent_act_dims[n]] + 1.0) * 0.5
                     * (self._high[n] - self._low[n]) for n, name in enumerate(self.agent_names)}
            obs, rewards, terms, truncs, _ = env.step(local)
            self._t[e] += 1
            name = self.agent_names[0]
            reward[e] = rewards[name]
            terminated[e] = bool(terms[name])
            truncated[e] = not terminated[e] and (bool(truncs[name]) or self._t[e] >= self.config.max_episode_steps)
            self._observe(e, obs)
        self._done = terminated | truncated
        return self._env_step(reward, terminated, truncated)

    def close(self) -> None:
        """Release the MuJoCo environments."""
        for env in self._envs:
            env.close()

    def _checked_actions(self, actions: np.ndarray) -> np.ndarray:
        actions = np.asarray(actions, dtype=np.float64)
        expected = (self.n_envs, self.n_agents, self.act_dim)
        if actions.shape != expected:
            raise ConfigError(f"MaMuJoCo expects actions of shape [E, N, act_dim] = {expected}, got {actions.shape}")
        if not np.isfinite(actions).all():
            raise ConfigError("MaMuJoCo actions contain NaN or inf; check the policy's outputs")
        if np.abs(actions).max(initial=0.0) > 1.0:
            raise ConfigError(f"MaMuJoCo actions must lie in [-1, 1], got values in [{actions.min():.4g}, "
                              f"{actions.max():.4g}]; squash them with tanh or clip before stepping")
        return actions

    def _reset_env(self, e: int) -> None:
        obs, _ = self._envs[e].reset(seed=episode_seed(self._seed, e, int(self._episode[e])))
        self._t[e] = 0
        self._done[e] = False
        self._observe(e, obs)

    def _observe(self, e: int, obs: dict[str, np.ndarray]) -> None:
        state = self._envs[e].state()
        if self.obs_mode == "global":
            self._obs[e] = omiga_agent_views(state, self.n_agents)
            self._state[e] = self._obs[e].reshape(-1)
            return
        self._state[e] = state
        self._obs[e] = 0.0
        for n, name in enumerate(self.agent_names):
            self._obs[e, n, : self.agent_obs_dims[n]] = obs[name]

    def _env_step(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> EnvStep:
        return EnvStep(obs=self._obs.copy(), state=self._state.copy(), avail_actions=None, reward=reward,
                       terminated=terminated, truncated=truncated, won=np.zeros(self.n_envs, dtype=bool))


def mamujoco_sizes(config: MaMuJoCoConfig) -> dict[str, int]:
    """``n_agents``, ``obs_dim``, ``state_dim`` and ``act_dim`` of a MaMuJoCo problem, read off a one-env probe
    (the keyword arguments :func:`omiga.data.behavior_mamujoco.load_behavior_checkpoint` checks against)."""
    probe = MaMuJoCoVectorEnv(config=config, n_envs=1)
    probe.close()
    return {"n_agents": probe.n_agents, "obs_dim": probe.obs_dim, "state_dim": probe.state_dim,
            "act_dim": probe.act_dim}


def make_mamujoco_vector_env(*, scenario: str, agent_conf: str, n_envs: int, seed: int, obs_mode: str = "local",
                             max_episode_steps: int = MAMUJOCO_MAX_EPISODE_STEPS) -> MaMuJoCoVectorEnv:
    """E MaMuJoCo environments of ``scenario`` / ``agent_conf`` (agent_obsk=1), ready after ``reset(seed=...)``.

    ``seed`` is kept for the registry's factory signature: environments are seeded at ``reset``.
    """
    del seed  # MuJoCo environments are seeded per episode at reset
    config = MaMuJoCoConfig(scenario=scenario, agent_conf=agent_conf, obs_mode=obs_mode,
                            max_episode_steps=max_episode_steps)
    return MaMuJoCoVectorEnv(config=config, n_envs=n_envs)
