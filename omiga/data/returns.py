"""Reward-to-go: each step's reward replaced by the (discounted) sum of the rewards left in its episode.

The official OMIGA code on SMAC (ZhengYinan-AIR/OMIGA, ``framework/utils.py``, ``get_episode``) rewrites the
reward of every step in place with ``rtgs += r`` walking each episode backwards: the *undiscounted*
reward-to-go, which is ``gamma = 1.0`` here. Its MaMuJoCo code (``datasets/offline_dataset.py``) keeps the
per-step rewards. ``TrainConfig.reward_to_go`` selects this transformation for SMAC-like tasks.
"""

from __future__ import annotations

import numpy as np

from omiga.errors import ConfigError

__all__ = ["episode_returns", "reward_to_go"]


def episode_returns(rewards: np.ndarray, is_end: np.ndarray) -> np.ndarray:
    """The return of each episode, float64 ``[episodes]``: rewards summed from each episode's first step to the
    step where ``is_end`` (terminal or truncation) is true; steps after the last end form one more segment."""
    ends = np.flatnonzero(np.asarray(is_end, bool))
    return np.add.reduceat(np.asarray(rewards, np.float64), np.r_[0, ends[:-1] + 1])


def reward_to_go(
    rewards: np.ndarray, *, episode_starts: np.ndarray, episode_ends: np.ndarray, gamma: float
) -> np.ndarray:
    """``G_t = sum_{k=t}^{end} gamma^(k-t) r_k`` within each episode, as float32 ``[T]``.

    ``episode_starts`` / ``episode_ends`` are the first / last step index of each episode (as given by
    ``OfflineDataset.episode_starts`` / ``episode_ends``); steps outside every episode keep reward 0.
    ``gamma = 1.0`` reproduces the official OMIGA SMAC preprocessing. Accumulates in float64.
    """
    rewards = np.asarray(rewards)
    starts, ends = np.asarray(episode_starts, dtype=np.int64), np.asarray(episode_ends, dtype=np.int64)
    if rewards.ndim != 1:
        raise ConfigError(f"reward_to_go needs rewards of shape [T], got {rewards.shape}")
    if starts.shape != ends.shape or np.any(starts > ends) or (ends.size and (starts[0] < 0 or
                                                                              ends[-1] >= rewards.size)):
        raise ConfigError("reward_to_go needs matching episode_starts <= episode_ends inside [0, T)")
    if not 0.0 <= gamma <= 1.0:
        raise ConfigError(f"reward_to_go: gamma must lie in [0, 1], got {gamma}")
    out = np.zeros(rewards.size, dtype=np.float64)
    running = np.zeros(starts.size, dtype=np.float64)
    lengths = ends - starts + 1
    # walk all episodes backwards at once: offset k from each episode's end
    for offset in range(int(lengths.max()) if lengths.size else 0):
        live = lengths > offset
        steps = ends[live] - offset
        running[live] = rewards[steps] + gamma * running[live]
        out[steps] = running[live]
    return out.astype(np.float32)
