"""One SAC gradient step in JAX, on networks laid out as PyTorch ``nn.Linear`` stacks.

Parameters are tuples of ``(weight [out, in], bias [out])`` per layer, the layout of
:class:`omiga.data.behavior_mamujoco.TanhGaussianActor`'s ``state_dict``, so an actor moves between the
learner and the shipped checkpoint format without reshaping (:func:`actor_state_dict`, :func:`params_from_torch`).
Both critics are one stacked tree (leading axis 2) evaluated with ``vmap``.

The step (Haarnoja et al. 2018, with the automatic temperature of the SAC v2 paper), for a uniform batch
(s, a, r, terminal, s'):

- critics: ``y = r + γ (1 - terminal) (min_k Q'_k(s', a') - α log π(a'|s'))`` with ``a' ~ π(·|s')``, squared
  error summed over both critics;
- actor: ``E[α log π(ã|s) - min_k Q_k(s, ã)]``, ``ã ~ π(·|s)`` reparameterised, against the updated critics;
- temperature: ``-log α (log π(ã|s) + H̄)`` with the target entropy ``H̄ = -(joint action size)``;
- Polyak update ``Q' ← Q' + τ (Q - Q')``. Three Adam optimisers (actor, critics, temperature).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["SACState", "actor_state_dict", "deterministic_action", "init_sac_state", "make_sac_update",
           "mlp", "params_from_torch", "sample_action"]

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
Layers = tuple[tuple[jax.Array, jax.Array], ...]


class SACState(NamedTuple):
    """Everything one SAC step reads and writes."""

    actor: Layers
    critics: Layers
    """Both critics, stacked on a leading axis of 2."""
    targets: Layers
    log_alpha: jax.Array
    actor_opt: Any
    critic_opt: Any
    alpha_opt: Any


def mlp(layers: Layers, x: jax.Array) -> jax.Array:
    """ReLU MLP: ``x W^T + b`` per layer, ReLU between layers (``nn.Linear`` + ``nn.ReLU``)."""
    for weight, bias in layers[:-1]:
        x = jax.nn.relu(x @ weight.T + bias)
    weight, bias = layers[-1]
    return x @ weight.T + bias


def _mean_log_std(actor: Layers, state: jax.Array) -> tuple[jax.Array, jax.Array]:
    mean, log_std = jnp.split(mlp(actor, state), 2, axis=-1)
    return mean, jnp.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)


def sample_action(actor: Layers, state: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``tanh(mean + std * noise)`` and its log-probability (tanh change of variables), as TanhGaussianActor."""
    mean, log_std = _mean_log_std(actor, state)
    noise = jax.random.normal(key, mean.shape, mean.dtype)
    u = mean + jnp.exp(log_std) * noise
    normal_log_prob = -0.5 * noise**2 - log_std - 0.5 * np.log(2 * np.pi)
    squash_correction = 2.0 * (np.log(2.0) - u - jax.nn.softplus(-2.0 * u))
    return jnp.tanh(u), (normal_log_prob - squash_correction).sum(-1)


def deterministic_action(actor: Layers, state: jax.Array) -> jax.Array:
    """``tanh(mean)``: the evaluation action."""
    return jnp.tanh(_mean_log_std(actor, state)[0])


def _q_values(critics: Layers, state: jax.Array, action: jax.Array) -> jax.Array:
    """Both critics' Q(s, a), ``[2, B]``."""
    x = jnp.concatenate([state, action], axis=-1)
    return jax.vmap(lambda layers: mlp(layers, x)[..., 0])(critics)


def params_from_torch(module) -> Layers:
    """The ``nn.Linear`` layers of a torch module, in order, as ``((weight, bias), ...)`` JAX arrays."""
    import torch

    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    return tuple((jnp.asarray(m.weight.detach().numpy()), jnp.asarray(m.bias.detach().numpy())) for m in linears)


def actor_state_dict(actor: Layers) -> dict:
    """The actor as a :class:`TanhGaussianActor` ``state_dict`` (body.0, body.2, ..., head)."""
    import torch

    names = [f"body.{2 * i}" for i in range(len(actor) - 1)] + ["head"]
    state = {}
    for name, (weight, bias) in zip(names, actor):
        state[f"{name}.weight"] = torch.from_numpy(np.array(weight, dtype=np.float32))
        state[f"{name}.bias"] = torch.from_numpy(np.array(bias, dtype=np.float32))
    return state


def _optimiser(lr: float) -> optax.GradientTransformation:
    return optax.adam(lr)


def init_sac_state(*, actor: Layers, critics: tuple[Layers, Layers], lr: float) -> SACState:
    """A fresh state from initial actor and critic layers (the critics are stacked; targets copy them)."""
    stacked = jax.tree.map(lambda a, b: jnp.stack([a, b]), *critics)
    log_alpha = jnp.zeros((), jnp.float32)
    opt = _optimiser(lr)
    return SACState(actor=actor, critics=stacked, targets=stacked, log_alpha=log_alpha, actor_opt=opt.init(actor),
                    critic_opt=opt.init(stacked), alpha_opt=opt.init(log_alpha))


def make_sac_update(*, lr: float, gamma: float, tau: float, target_entropy: float):
    """A jitted ``(state, batch, key) -> (state, metrics)``; ``batch`` = (s, a, r, terminal, s') arrays."""
    opt = _optimiser(lr)

    def step(train: SACState, batch: tuple[jax.Array, ...], key: jax.Array) -> tuple[SACState, dict]:
        state, action, reward, terminal, next_state = batch
        next_key, new_key = jax.random.split(key)
        alpha = jnp.exp(train.log_alpha)
        next_action, next_log_prob = sample_action(train.actor, next_state, next_key)
        next_q = _q_values(train.targets, next_state, next_action).min(axis=0)
        target = jax.lax.stop_gradient(reward + gamma * (1.0 - terminal) * (next_q - alpha * next_log_prob))

        def critic_loss(critics: Layers) -> jax.Array:
            return ((_q_values(critics, state, action) - target) ** 2).mean(axis=1).sum()

        q_loss, critic_grads = jax.value_and_grad(critic_loss)(train.critics)
        updates, critic_opt = opt.update(critic_grads, train.critic_opt)
        critics = optax.apply_updates(train.critics, updates)

        def actor_loss(actor: Layers) -> tuple[jax.Array, jax.Array]:
            new_action, log_prob = sample_action(actor, state, new_key)
            return (alpha * log_prob - _q_values(critics, state, new_action).min(axis=0)).mean(), log_prob

        (pi_loss, log_prob), actor_grads = jax.value_and_grad(actor_loss, has_aux=True)(train.actor)
        updates, actor_opt = opt.update(actor_grads, train.actor_opt)
        actor = optax.apply_updates(train.actor, updates)
        entropy_gap = jax.lax.stop_gradient(log_prob + target_entropy)
        alpha_grad = jax.grad(lambda log_alpha: -(log_alpha * entropy_gap).mean())(train.log_alpha)
        updates, alpha_opt = opt.update(alpha_grad, train.alpha_opt)
        log_alpha = optax.apply_updates(train.log_alpha, updates)
        targets = jax.tree.map(lambda t, p: t + tau * (p - t), train.targets, critics)
        metrics = {"loss/critic": q_loss, "loss/actor": pi_loss, "alpha": alpha, "entropy": -log_prob.mean()}
        return SACState(actor, critics, targets, log_alpha, actor_opt, critic_opt, alpha_opt), metrics

    return jax.jit(step)
