"""The behaviour learner's networks: a shared actor over (observation, agent id) and a centralised critic.

Both are plain MLPs in flax.linen with orthogonal initialisation (the MAPPO/IPPO convention). The actor's
logits are masked by the available actions, so a sampled action is always legal; the critic reads the world
state and the agent id (MAPPO's agent-specific global value), so one value per agent and step.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Actor", "Critic", "masked_logits", "with_agent_id"]

NEG_INF = -1e9


def with_agent_id(x: jax.Array) -> jax.Array:
    """Append a one-hot agent id to per-agent inputs [..., N, D] -> [..., N, D + N]."""
    n_agents = x.shape[-2]
    ids = jnp.broadcast_to(jnp.eye(n_agents, dtype=x.dtype), (*x.shape[:-2], n_agents, n_agents))
    return jnp.concatenate([x, ids], axis=-1)


def masked_logits(logits: jax.Array, avail: jax.Array) -> jax.Array:
    """Logits with unavailable actions set to a large negative number (never sampled)."""
    return jnp.where(avail, logits, NEG_INF)


def _dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale), bias_init=nn.initializers.zeros)


class Actor(nn.Module):
    """π(a_i | o_i, i): two tanh hidden layers, masked categorical logits [..., N, A]."""

    n_actions: int
    hidden: int = 128

    @nn.compact
    def __call__(self, obs: jax.Array, avail: jax.Array) -> jax.Array:
        x = with_agent_id(obs)
        x = nn.tanh(_dense(self.hidden, np.sqrt(2))(x))
        x = nn.tanh(_dense(self.hidden, np.sqrt(2))(x))
        return masked_logits(_dense(self.n_actions, 0.01)(x), avail)


class Critic(nn.Module):
    """V(s, i): the world state [..., S] broadcast to each of N agents with its id -> values [..., N]."""

    n_agents: int
    hidden: int = 128

    @nn.compact
    def __call__(self, state: jax.Array) -> jax.Array:
        x = jnp.broadcast_to(state[..., None, :], (*state.shape[:-1], self.n_agents, state.shape[-1]))
        x = with_agent_id(x)
        x = nn.tanh(_dense(self.hidden, np.sqrt(2))(x))
        x = nn.tanh(_dense(self.hidden, np.sqrt(2))(x))
        return _dense(1, 1.0)(x)[..., 0]
