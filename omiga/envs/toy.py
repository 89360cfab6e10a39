"""``toy_coop``: a tiny pure-NumPy cooperative signalling game for fast smoke tests of the whole pipeline.

Each step a hidden target signal ``z`` in {0, 1, 2, 3} is drawn. Two agents choose among five actions:
signals 0-3 or ``wait`` (4). Each agent sees a noisy one-hot view of ``z`` (noise std 0.5 for agent 0,
1.0 for agent 1), the time fraction t / 8 and its one-hot id; the global state holds the clean one-hot ``z``
and t / 8, so global information helps. Per agent and step one wrong signal is unavailable.

Team reward: 1 when both agents send ``z``; 0.25 when one sends ``z`` and the other waits; else 0. When both
send wrong signals the episode terminates (a true terminal state); otherwise it is truncated after 8 steps.
Best return 8; uniform random play scores about 0.34 (see :data:`TOY_RANDOM_SCORE`). No win condition.

Randomness is a counter-based hash of (seed, env index, episode count, step), so environment e's episodes
depend only on the reset seed and e, never on the number of environments. After an environment's episode
ends, its next ``step`` resets it (actions ignored) and returns the first observation of a new episode.
"""

from __future__ import annotations

import numpy as np

from omiga.envs.base import EnvStep
from omiga.errors import ConfigError

__all__ = [
    "TOY_BEST_SCORE",
    "TOY_EPISODE_LENGTH",
    "TOY_N_ACTIONS",
    "TOY_RANDOM_SCORE",
    "TOY_WAIT",
    "ToyCoopEnv",
    "make_toy_vector_env",
]

TOY_EPISODE_LENGTH = 8
TOY_N_SIGNALS = 4
TOY_WAIT = TOY_N_SIGNALS
TOY_N_ACTIONS = TOY_N_SIGNALS + 1
TOY_N_AGENTS = 2
TOY_OBS_NOISE = np.array([0.5, 1.0], dtype=np.float32)
TOY_BEST_SCORE = 8.0
TOY_RANDOM_SCORE = 0.34  # measured: uniform random play, 20k episodes, mean 0.341 (s.e. 0.004)
OBS_MODES = ("local", "global")

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of uint64 values."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    return x ^ (x >> np.uint64(31))


def _uniform(*parts: np.ndarray | int, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform floats in [0, 1) of ``shape``, a pure function of the key parts (broadcast) and position."""
    with np.errstate(over="ignore"):
        key = np.zeros(shape[:1], dtype=np.uint64)
        for part in parts:
            key = _mix(key ^ np.asarray(part, dtype=np.uint64))
        counters = np.arange(int(np.prod(shape[1:])), dtype=np.uint64).reshape(shape[1:])
        bits = _mix(key.reshape((-1,) + (1,) * (len(shape) - 1)) ^ _mix(counters + np.uint64(1)))
    return (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class ToyCoopEnv:
    """E toy_coop environments in lock-step (implements :class:`omiga.envs.base.VectorEnv`)."""

    n_agents = TOY_N_AGENTS
    state_dim = TOY_N_SIGNALS + 1
    obs_dim = TOY_N_SIGNALS + 1 + TOY_N_AGENTS
    discrete = True
    n_actions = TOY_N_ACTIONS
    act_dim = None
    backend = "toy"
    agent_id_columns = slice(obs_dim - TOY_N_AGENTS, obs_dim)
    """Observation columns holding the one-hot agent id (checked in datasets: omiga.data.task_fit)."""

    def __init__(self, *, n_envs: int, obs_mode: str = "local"):
        if n_envs < 1:
            raise ConfigError(f"toy_coop needs n_envs >= 1, got {n_envs}")
        if obs_mode not in OBS_MODES:
            raise ConfigError(f"unknown obs_mode {obs_mode!r}; choose one of {', '.join(OBS_MODES)}")
        self.n_envs, self.obs_mode = n_envs, obs_mode
        self._seed: int | None = None
        self._env_ids = np.arange(n_envs, dtype=np.uint64)
        self._episode = np.zeros(n_envs, dtype=np.int64)
        self._t = np.zeros(n_envs, dtype=np.int64)
        self._target = np.zeros(n_envs, dtype=np.int64)
        self._unavailable = np.zeros((n_envs, TOY_N_AGENTS), dtype=np.int64)
        self._done = np.zeros(n_envs, dtype=bool)

    def reset(self, *, seed: int) -> EnvStep:
        """Start episode 0 of every environment; environment e's draws depend only on (seed, e)."""
        self._seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self._episode[:] = 0
        self._t[:] = 0
        self._done[:] = False
        self._draw_step(np.ones(self.n_envs, dtype=bool))
        zeros = np.zeros(self.n_envs, dtype=bool)
        return self._observe(np.zeros(self.n_envs, dtype=np.float32), zeros, zeros)

    def step(self, actions: np.ndarray) -> EnvStep:
        """Apply ``actions [E, 2]`` int64; environments that ended at the previous step start a new episode."""
        if self._seed is None:
            raise ConfigError("call reset(seed=...) before step() on the toy_coop environment")
        actions = np.asarray(actions)
        if actions.shape != (self.n_envs, TOY_N_AGENTS):
            raise ConfigError(f"toy_coop expects actions of shape {(self.n_envs, TOY_N_AGENTS)}, got {actions.shape}")
        restart = self._done.copy()
        hits = actions == self._target[:, None]
        waits = actions == TOY_WAIT
        both_hit = hits.all(axis=1)
        one_hit_one_waits = (hits & waits[:, ::-1]).any(axis=1)
        reward = np.where(both_hit, 1.0, np.where(one_hit_one_waits, 0.25, 0.0)).astype(np.float32)
        terminated = (~hits & ~waits).all(axis=1)
        self._t += 1
        truncated = ~terminated & (self._t >= TOY_EPISODE_LENGTH)
        reward[restart], terminated[restart], truncated[restart] = 0.0, False, False
        self._done = terminated | truncated
        self._episode[restart] += 1
        self._t[restart] = 0
        self._draw_step(~self._done)
        return self._observe(reward, terminated, truncated)

    def _draw_step(self, which: np.ndarray) -> None:
        """Draw the target and the unavailable wrong signals of the current step for environments ``which``."""
        draws = _uniform(self._seed, self._env_ids, self._episode, self._t, shape=(self.n_envs, 1 + TOY_N_AGENTS))
        target = np.minimum((draws[:, 0] * TOY_N_SIGNALS).astype(np.int64), TOY_N_SIGNALS - 1)
        # the unavailable signal is target + 1, 2 or 3 (mod 4): always a wrong one
        offset = 1 + np.minimum((draws[:, 1:] * (TOY_N_SIGNALS - 1)).astype(np.int64), TOY_N_SIGNALS - 2)
        self._target = np.where(which, target, self._target)
        self._unavailable = np.where(which[:, None], (target[:, None] + offset) % TOY_N_SIGNALS, self._unavailable)

    def _observe(self, reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> EnvStep:
        n_envs = self.n_envs
        onehot = np.eye(TOY_N_SIGNALS, dtype=np.float32)[self._target]
        time = (self._t / TOY_EPISODE_LENGTH).astype(np.float32)[:, None]
        state = np.concatenate([onehot, time], axis=1)
        ids = np.broadcast_to(np.eye(TOY_N_AGENTS, dtype=np.float32), (n_envs, TOY_N_AGENTS, TOY_N_AGENTS))
        if self.obs_mode == "global":
            view = np.broadcast_to(state[:, None, :], (n_envs, TOY_N_AGENTS, self.state_dim))
        else:
            u = _uniform(self._seed, self._env_ids, self._episode, self._t, 0xB0B,
                         shape=(n_envs, 2, TOY_N_AGENTS, TOY_N_SIGNALS))
            gauss = np.sqrt(-2.0 * np.log1p(-u[:, 0])) * np.cos(2.0 * np.pi * u[:, 1])  # Box-Muller
            noisy = onehot[:, None, :] + TOY_OBS_NOISE[None, :, None] * gauss.astype(np.float32)
            view = np.concatenate([noisy, np.broadcast_to(time[:, None, :], (n_envs, TOY_N_AGENTS, 1))], axis=2)
        obs = np.concatenate([view, ids], axis=2).astype(np.float32)
        avail = np.ones((n_envs, TOY_N_AGENTS, TOY_N_ACTIONS), dtype=bool)
        np.put_along_axis(avail, self._unavailable[..., None], False, axis=2)
        return EnvStep(obs=obs, state=state, avail_actions=avail, reward=reward, terminated=terminated,
                       truncated=truncated, won=np.zeros(n_envs, dtype=bool))


def make_toy_vector_env(*, n_envs: int, seed: int, obs_mode: str = "local") -> ToyCoopEnv:
    """``n_envs`` toy_coop environments; ``seed`` is kept for the factory signature, reset(seed=) draws."""
    del seed  # all randomness is keyed by the seed passed to reset()
    return ToyCoopEnv(n_envs=n_envs, obs_mode=obs_mode)
