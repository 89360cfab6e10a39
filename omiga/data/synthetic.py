"""Random but schema-valid datasets for tests and benchmarks of the trainer (no environment needed)."""

from __future__ import annotations

import numpy as np

from omiga.data.schema import OfflineDataset
from omiga.errors import ConfigError

__all__ = ["make_synthetic_dataset"]


def make_synthetic_dataset(
    *,
    n_episodes: int,
    episode_length: int,
    n_agents: int,
    obs_dim: int,
    state_dim: int,
    n_actions: int | None = None,
    act_dim: int | None = None,
    seed: int,
    min_episode_length: int | None = None,
    truncated_fraction: float = 0.5,
    task: str = "synthetic",
    quality: str = "random",
) -> OfflineDataset:
    """A dataset of random steps with valid structure.

    Exactly one of ``n_actions`` (discrete: int64 actions drawn among the available ones, each step has
    some unavailable actions when ``n_actions >= 2``, action 0 is always available) or ``act_dim``
    (continuous: float32 actions uniform in [-1, 1]) must be given. Episodes have ``episode_length`` steps,
    or a length drawn uniformly from ``[min_episode_length, episode_length]`` when that is given; about
    ``truncated_fraction`` of the episodes end by truncation, the rest in a terminal state. Rewards are
    standard normal. The same arguments always give the same arrays.
    """
    if (n_actions is None) == (act_dim is None):
        raise ConfigError("make_synthetic_dataset needs exactly one of n_actions (discrete) or act_dim (continuous)")
    low = episode_length if min_episode_length is None else min_episode_length
    sizes = {"n_episodes": n_episodes, "episode_length": episode_length, "n_agents": n_agents,
             "obs_dim": obs_dim, "state_dim": state_dim, "min_episode_length": low,
             "n_actions": n_actions or 1, "act_dim": act_dim or 1}
    for name, value in sizes.items():
        if value < 1:
            raise ConfigError(f"make_synthetic_dataset: {name} must be >= 1, got {value}")
    if low > episode_length:
        raise ConfigError(f"min_episode_length {low} exceeds episode_length {episode_length}")
    if not 0.0 <= truncated_fraction <= 1.0:
        raise ConfigError(f"truncated_fraction must lie in [0, 1], got {truncated_fraction}")

    rng = np.random.default_rng(seed)
    lengths = rng.integers(low, episode_length + 1, size=n_episodes)
    n_steps = int(lengths.sum())
    ends = np.cumsum(lengths) - 1
    truncated = rng.random(n_episodes) < truncated_fraction
    terminals = np.zeros(n_steps, dtype=bool)
    truncations = np.zeros(n_steps, dtype=bool)
    terminals[ends[~truncated]] = True
    truncations[ends[truncated]] = True

    obs = rng.standard_normal((n_steps, n_agents, obs_dim), dtype=np.float32)
    state = rng.standard_normal((n_steps, state_dim), dtype=np.float32)
    rewards = rng.standard_normal(n_steps, dtype=np.float32)
    if n_actions is not None:
        avail = rng.random((n_steps, n_agents, n_actions)) < 0.7
        avail[..., 0] = True
        # sample uniformly among available actions: argmax of random keys restricted to the mask
        keys = np.where(avail, rng.random(avail.shape), -1.0)
        actions = keys.argmax(axis=2).astype(np.int64)
    else:
        avail = None
        actions = rng.uniform(-1.0, 1.0, size=(n_steps, n_agents, act_dim)).astype(np.float32)
    return OfflineDataset.from_arrays(
        obs=obs, state=state, actions=actions, avail_actions=avail, rewards=rewards, terminals=terminals,
        truncations=truncations, task=task, quality=quality, source="synthetic",
        behavior="uniform random actions, standard normal observations and rewards", seed=seed, backend="synthetic",
    )
