"""Skill levels of a SAC run measured as the datasets see them: stochastic rollouts, returns and lengths.

The training run evaluates its snapshots with deterministic ``tanh(mean)`` actions on a few episodes; datasets
are rolled out with sampled actions, whose return is lower. :func:`measure_policy` measures what a dataset of
that policy would hold, and the uniform random policy gives the normalisation's 0 (D4RL's convention).
"""

from __future__ import annotations

import numpy as np
import torch

from omiga.data.behavior_mamujoco import single_torch_thread
from omiga.data.returns import episode_returns
from omiga.envs.mamujoco import MaMuJoCoConfig

__all__ = ["UniformPolicy", "measure_policy"]


class UniformPolicy:
    """Uniform random actions in [-1, 1] (the random policy of the normalisation), drawn from the generator."""

    description = "uniform random actions in [-1, 1]"

    def __init__(self, *, n_agents: int, act_dim: int):
        self.n_agents, self.act_dim = n_agents, act_dim

    def act(self, *, obs: np.ndarray, state: np.ndarray, generator: torch.Generator | None = None,
            deterministic: bool = False) -> np.ndarray:
        shape = (len(state), self.n_agents, self.act_dim)
        return (torch.rand(shape, generator=generator) * 2.0 - 1.0).numpy().astype(np.float32)


def measure_policy(policy, *, env_config: MaMuJoCoConfig, episodes: int, seed: int) -> dict[str, float]:
    """Mean, std, min and max of the episode returns and the mean length of ``episodes`` sampled episodes."""
    from omiga.data.build_mamujoco import collect_episodes

    with single_torch_thread():
        arrays = collect_episodes(policy, env_config=env_config, episodes=episodes, seed=seed)
    ends = arrays["terminals"] | arrays["truncations"]
    returns = episode_returns(arrays["rewards"], ends)
    return {"episodes": int(len(returns)), "return_mean": float(returns.mean()), "return_std": float(returns.std()),
            "return_min": float(returns.min()), "return_max": float(returns.max()),
            "length": float(len(ends) / max(1, ends.sum())), "falls": float(arrays["terminals"].sum() / len(returns))}
