"""Measure skill levels: each actor snapshot's return distribution, win rate, length and policy entropy.

A snapshot is rolled out for E battles (actions sampled, as the datasets are made) and summarised by its
SMAC-scale returns (mean, std, min, max), win rate, mean episode length, the mean per-step entropy of its
policy over the living agents, and the fraction of its episodes in each quality band: the numbers a quality's
recipe is chosen from (`omiga.behaviour.manifest`).
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from omiga.behaviour.policy import LearnedPolicy, file_digest, load_actor
from omiga.data.build_smax import rollout_smax_episodes, split_episodes
from omiga.envs.smax import SmaxBattles

__all__ = ["WIN_RETURN", "episode_summary", "measure_level", "policy_entropy"]

WIN_RETURN = 20.0 - 1e-3
"""A SMAC-scale return this high is a win (the win bonus brings the return to 20)."""


def policy_entropy(policy: LearnedPolicy, battles: SmaxBattles, obs: np.ndarray, avail: np.ndarray) -> float:
    """Mean entropy (nats) of the first level's masked policy over the living agents of recorded steps."""
    actor, params = load_actor(policy.checkpoints[0], policy.digests[0], battles.scenario)
    logits = jax.jit(actor.apply)(params, jnp.asarray(obs), jnp.asarray(avail))
    log_probs = jax.nn.log_softmax(logits)
    entropy = -(jnp.exp(log_probs) * jnp.where(avail, log_probs, 0.0)).sum(-1)
    alive = avail.sum(-1) > 1
    return float(np.asarray(entropy)[alive].mean()) if alive.any() else 0.0


def episode_summary(arrays: dict[str, np.ndarray], bands: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Return statistics, win rate, length and band fractions of concatenated episodes."""
    episodes = split_episodes(arrays)
    returns = np.array([e["rewards"].sum() for e in episodes], dtype=np.float64)
    summary = {"episodes": len(episodes), "return_mean": returns.mean(), "return_std": returns.std(),
               "return_min": returns.min(), "return_max": returns.max(),
               "win_rate": float(np.mean(returns >= WIN_RETURN)),
               "length_mean": float(np.mean([len(e["rewards"]) for e in episodes]))}
    for name, (low, high) in bands.items():
        summary[f"in_{name}"] = float(np.mean((returns >= low) & (returns < high)))
    return summary


def measure_level(path: Path, battles: SmaxBattles, *, episodes: int, seed: int,
                  bands: dict[str, tuple[float, float]]) -> dict[str, float]:
    """`episode_summary` and `policy_entropy` of one snapshot over ``episodes`` battles of ``seed``."""
    policy = LearnedPolicy(checkpoints=(str(path),), digests=(file_digest(path),))
    arrays = rollout_smax_episodes(battles, policy, episodes=episodes, seed=seed)
    summary = episode_summary(arrays, bands)
    summary["entropy"] = policy_entropy(policy, battles, arrays["obs"], arrays["avail_actions"])
    return summary
