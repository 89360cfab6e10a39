"""Datasets of the ``toy_coop`` task (:mod:`omiga.envs.toy`) from scripted ε-oracle behaviour policies.

The behaviour policy reads the clean target from the global state and sends it; with probability ε per
agent and step it instead takes a uniformly random available action. Qualities: good ε = 0.1,
medium ε = 0.5, poor ε = 1.0 (uniform random). All episodes are rolled out at once in a vector env.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from omiga.data.io import save_dataset
from omiga.data.schema import OfflineDataset
from omiga.envs.toy import TOY_EPISODE_LENGTH, TOY_N_SIGNALS, ToyCoopEnv
from omiga.errors import ConfigError, UnknownNameError

__all__ = ["TOY_QUALITY_EPSILON", "build_toy_dataset", "rollout_toy_dataset", "toy_oracle_actions"]

TOY_QUALITY_EPSILON: dict[str, float] = {"good": 0.1, "medium": 0.5, "poor": 1.0}


def toy_oracle_actions(*, state: np.ndarray, avail_actions: np.ndarray, epsilon: float,
                       rng: np.random.Generator) -> np.ndarray:
    """ε-oracle actions ``[E, N]``: the target read from ``state`` or, with probability ε, a random available action."""
    n_envs, n_agents, _ = avail_actions.shape
    target = np.broadcast_to(state[:, :TOY_N_SIGNALS].argmax(axis=1)[:, None], (n_envs, n_agents))
    random_keys = np.where(avail_actions, rng.random(avail_actions.shape), -1.0)
    explore = rng.random((n_envs, n_agents)) < epsilon
    return np.where(explore, random_keys.argmax(axis=2), target).astype(np.int64)


def rollout_toy_dataset(*, task: str, quality: str, episodes: int, seed: int,
                        obs_mode: str = "local") -> OfflineDataset:
    """Roll out ``episodes`` episodes of the ``quality`` behaviour policy into an OfflineDataset."""
    if quality not in TOY_QUALITY_EPSILON:
        raise UnknownNameError("quality", quality, TOY_QUALITY_EPSILON)
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    epsilon = TOY_QUALITY_EPSILON[quality]
    env = ToyCoopEnv(n_envs=episodes, obs_mode=obs_mode)
    rng = np.random.default_rng([seed, 0x70C])
    step = env.reset(seed=seed)
    alive = np.ones(episodes, dtype=bool)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in
                                            ("obs", "state", "avail", "actions", "rewards", "term", "trunc", "alive")}
    for _ in range(TOY_EPISODE_LENGTH):
        actions = toy_oracle_actions(state=step.state, avail_actions=step.avail_actions, epsilon=epsilon, rng=rng)
        following = env.step(actions)
        for key, value in (("obs", step.obs), ("state", step.state), ("avail", step.avail_actions),
                           ("actions", actions), ("rewards", following.reward), ("term", following.terminated),
                           ("trunc", following.truncated), ("alive", alive.copy())):
            columns[key].append(value)
        alive &= ~following.done
        step = following
    # [steps, E, ...] -> episode-major [E, steps, ...], keep each episode's live steps in order
    keep = np.stack(columns.pop("alive"), axis=1)
    flat = {key: np.stack(values, axis=1)[keep] for key, values in columns.items()}
    return OfflineDataset.from_arrays(
        obs=flat["obs"], state=flat["state"], actions=flat["actions"], avail_actions=flat["avail"],
        rewards=flat["rewards"], terminals=flat["term"], truncations=flat["trunc"], task=task, quality=quality,
        source="built", behavior=f"toy ε-oracle, ε={epsilon} (uniform random available action otherwise)",
        seed=seed, backend=ToyCoopEnv.backend,
    )


def build_toy_dataset(*, task: str, quality: str, episodes: int, seed: int,
                      path: str | os.PathLike[str]) -> Path:
    """Build the toy_coop dataset of ``quality`` (good / medium / poor) and save it to ``path``."""
    dataset = rollout_toy_dataset(task=task, quality=quality, episodes=episodes, seed=seed)
    return save_dataset(dataset, path)
