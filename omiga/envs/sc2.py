"""StarCraft II backend: the real SMAC maps (oxwhirl ``smac``) behind :class:`omiga.envs.base.VectorEnv`.

E ``smac.env.StarCraft2Env`` instances are stepped in a loop. Mapping of SMAC's API:

- ``obs`` = ``get_obs()`` ``[N, obs_dim]``, ``state`` = ``get_state()``, ``avail_actions`` =
  ``get_avail_actions()`` as bool; actions must be available (checked here, with the env / agent / action named).
- ``reward`` is SMAC's own reward, already scaled to 0-20 per episode (``reward_scale=True``).
- ``won`` = ``info["battle_won"]``; an episode that ends with ``info["episode_limit"]`` is *truncated*
  (time limit), any other end is *terminated* (one side eliminated).
- SMAC seeds a game when StarCraft II is launched, so environment e is (re)created with the seed derived from
  (seed, e) when ``reset`` gets a seed other than the one it runs under. StarCraft II itself is not
  bit-deterministic across machines. After an episode ends, the next ``step`` resets that environment
  (actions ignored) and returns its first observation with reward 0.

Tests inject a fake of the StarCraft2Env API through ``env_class``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from omiga.envs.base import EnvStep, episode_seed
from omiga.errors import BackendUnavailableError, ConfigError

__all__ = ["SC2_INSTALL_HINT", "SC2VectorEnv", "make_sc2_vector_env", "sc2_install_path"]

SC2_INSTALL_HINT = (
    "install SMAC with `pip install git+https://github.com/oxwhirl/smac.git`, install StarCraft II 4.10 "
    "(Linux: https://github.com/Blizzard/s2client-proto#downloads) and set SC2PATH to its directory, and copy "
    "the SMAC maps (smac/env/starcraft2/maps/SMAC_Maps from the SMAC repository) into $SC2PATH/Maps/; "
    "without StarCraft II use the default SMAX backend (--backend smax)"
)


def sc2_install_path() -> Path:
    """Where SMAC looks for StarCraft II: $SC2PATH, else ~/StarCraftII."""
    return Path(os.environ.get("SC2PATH", Path.home() / "StarCraftII")).expanduser()


def _default_env_class() -> Callable[..., Any]:
    """smac's StarCraft2Env, or BackendUnavailableError saying exactly what to install."""
    try:
        from smac.env import StarCraft2Env
    except ImportError as exc:
        raise BackendUnavailableError(f"the sc2 backend needs the `smac` package ({exc}): {SC2_INSTALL_HINT}") from exc
    if not sc2_install_path().is_dir():
        raise BackendUnavailableError(f"StarCraft II was not found at {sc2_install_path()}: {SC2_INSTALL_HINT}")
    return StarCraft2Env


class SC2VectorEnv:
    """E StarCraft II (SMAC) environments stepped in a loop (implements :class:`omiga.envs.base.VectorEnv`)."""

    discrete = True
    act_dim = None
    backend = "sc2"

    def __init__(self, *, map_name: str, n_envs: int, seed: int, env_class: Callable[..., Any]):
        if not isinstance(map_name, str) or not map_name:
            raise ConfigError("the sc2 backend needs a SMAC map name, e.g. 'corridor' or '5m_vs_6m'")
        if n_envs < 1:
            raise ConfigError(f"the sc2 backend needs n_envs >= 1, got {n_envs}")
        self.map_name, self.n_envs = map_name, n_envs
        self._env_class = env_class
        self._launch_seed = int(seed)
        self._envs = [self._launch(e) for e in range(n_envs)]
        info = self._envs[0].get_env_info()
        self.n_agents = int(info["n_agents"])
        self.obs_dim = int(info["obs_shape"])
        self.state_dim = int(info["state_shape"])
        self.n_actions = int(info["n_actions"])
        self.episode_limit = int(info["episode_limit"])
        shape = (n_envs, self.n_agents)
        self._obs = np.zeros(shape + (self.obs_dim,), dtype=np.float32)
        self._state = np.zeros((n_envs, self.state_dim), dtype=np.float32)
        self._avail = np.zeros(shape + (self.n_actions,), dtype=bool)
        self._done = np.zeros(n_envs, dtype=bool)
        self._ready = False

    def _launch(self, e: int) -> Any:
        return self._env_class(map_name=self.map_name, seed=episode_seed(self._launch_seed, e, 0))

    def reset(self, *, seed: int) -> EnvStep:
        """Reset every environment; relaunches them under ``seed`` when it differs from the launch seed."""
        if int(seed) != self._launch_seed:
            self.close()
            self._launch_seed = int(seed)
            self._envs = [self._launch(e) for e in range(self.n_envs)]
        for e in range(self.n_envs):
            self._reset_env(e)
        self._ready = True
        zeros = np.zeros(self.n_envs, dtype=bool)
        return self._env_step(np.zeros(self.n_envs, dtype=np.float32), zeros, zeros, zeros)

    def step(self, actions: np.ndarray) -> EnvStep:
        """Apply ``actions [E, N]`` int64 (available ones only); environments done before reset instead."""
        if not self._ready:
            raise ConfigError("call reset(seed=...) before step() on the sc2 environment")
        actions = np.asarray(actions)
        if actions.shape != (self.n_envs, self.n_agents) or not np.issubdtype(actions.dtype, np.integer):
            raise ConfigError(f"the sc2 backend expects integer actions of shape [E, N] = "
                              f"{(self.n_envs, self.n_agents)}, got {actions.dtype} {actions.shape}")
        reward = np.zeros(self.n_envs, dtype=np.float32)
        terminated, truncated, won = (np.zeros(self.n_envs, dtype=bool) for _ in range(3))
        for e, env in enumerate(self._envs):
            if self._done[e]:
                self._reset_env(e)
                continue
            self._check_available(e, actions[e])
            r, ended, info = env.step([int(a) for a in actions[e]])
            reward[e] = r
            won[e] = bool(ended and info.get("battle_won", False))
            truncated[e] = bool(ended and info.get("episode_limit", False))
            terminated[e] = bool(ended) and not truncated[e]
            self._observe(e)
        self._done = terminated | truncated
        return self._env_step(reward, terminated, truncated, won)

    def close(self) -> None:
        """Shut the StarCraft II processes down."""
        for env in self._envs:
            env.close()

    def _check_available(self, e: int, actions: np.ndarray) -> None:
        bad = np.flatnonzero((actions < 0) | (actions >= self.n_actions)
                             | ~self._avail[e, np.arange(self.n_agents), np.clip(actions, 0, self.n_actions - 1)])
        if bad.size:
            agent = int(bad[0])
            raise ConfigError(f"sc2 env {e}: agent {agent} chose action {int(actions[agent])}, which is not "
                              f"available (available: {np.flatnonzero(self._avail[e, agent]).tolist()}); "
                              f"mask the policy's choices with avail_actions")

    def _reset_env(self, e: int) -> None:
        self._envs[e].reset()
        self._done[e] = False
        self._observe(e)

    def _observe(self, e: int) -> None:
        env = self._envs[e]
        self._obs[e] = np.asarray(env.get_obs(), dtype=np.float32)
        self._state[e] = np.asarray(env.get_state(), dtype=np.float32)
        self._avail[e] = np.asarray(env.get_avail_actions()).astype(bool)

    def _env_step(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                  won: np.ndarray) -> EnvStep:
        return EnvStep(obs=self._obs.copy(), state=self._state.copy(), avail_actions=self._avail.copy(),
                       reward=reward, terminated=terminated, truncated=truncated, won=won)


def make_sc2_vector_env(*, map_name: str, n_envs: int, seed: int,
                        env_class: Callable[..., Any] | None = None) -> SC2VectorEnv:
    """E real StarCraft II environments of SMAC map ``map_name`` (needs smac + StarCraft II 4.10).

    ``env_class`` replaces ``smac.env.StarCraft2Env`` (tests pass a fake with the same API); it is called as
    ``env_class(map_name=..., seed=...)``. Without smac or StarCraft II, raises BackendUnavailableError
    naming what to install.
    """
    return SC2VectorEnv(map_name=map_name, n_envs=n_envs, seed=seed,
                        env_class=env_class if env_class is not None else _default_env_class())
