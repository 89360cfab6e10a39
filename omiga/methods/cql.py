"""CQL-MA: per-agent conservative Q-learning (Kumar et al. 2020) with OMIGA's value decomposition.

The multi-agent variant the OMIGA paper compares with: Q_tot = Σ_i w_i(s) Q_i(o_i, a_i) + b(s) from
``TrainConfig.mixer`` (``linear``, the paper's), trained by TD, plus CQL(H)'s penalty on every agent's Q_i.

Critic (``loss/q`` + ``loss/cql``), per member:
    L_TD  = E[(r + γ (1 − d) Q̄_tot(s′, a′) − Q_tot(s, a))²]          (target Q and target mixer, detached)
    L_CQL = α_cql · E_i E_(o,a)∼D[log Σ_k exp Q_i(o_i, a_k) − Q_i(o_i, a_i)]
- Discrete: a′_i = argmax over the available actions of Q̄_i(o′_i, ·) (DQN's target, as CQL's discrete
  experiments); the logsumexp runs exactly over the available actions.
- Continuous: a′_i ∼ π_i(·|o′_i); the logsumexp runs over K uniform actions in [−1, 1] and K actions of
  the current policy at o (no gradient through the samples). Without importance weights, as the OMIGA
  baseline code's CQL critic (a constant offset, log 2K, does not change the gradient).
Actor (continuous only, ``loss/pi``): SAC-style min E[β log π(a_π|o) − Q_tot(s, a_π)] with a_π = tanh(μ + σε)
reparameterised and frozen Q / mixer parameters (:func:`omiga.methods.common.actor_loss`). Evaluation acts
greedily: argmax_a Q_i over available actions (discrete), tanh(μ) (continuous).

Hyperparameters (:class:`~omiga.methods.options.CqlOptions`): α_cql = 1, K = 10, β = 0 — see that module
for sources. γ, τ, lr, batch size and clipping are the shared :class:`~omiga.config.TrainConfig` values.
"""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import q_loss
from omiga.methods.common import actor_loss, greedy_q_actions, mask_unavailable, member_mean
from omiga.methods.options import CqlOptions, method_options
from omiga.networks import PopulationNetworks, frozen_call
from omiga.population import MemberTensors

__all__ = ["STREAMS", "act", "compute_losses", "conservative_penalty", "continuous_critic_losses"]

STREAMS = {"next_action": 0, "uniform": 1, "policy": 2, "actor": 3}
"""Noise streams of one step (OMAR reuses these and adds its own above them)."""


def conservative_penalty(*, q_samples: torch.Tensor, q_data: torch.Tensor) -> torch.Tensor:
    """E[logsumexp_k Q_i(o, a_k) − Q_i(o, a_data)] per member; ``q_samples [M, B, N, K]`` (−inf = excluded)."""
    return member_mean(torch.logsumexp(q_samples, dim=-1) - q_data)


def continuous_critic_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig, *, alpha: float,
                             n_samples: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``loss/q`` (TD) and ``loss/cql`` (α · penalty) of continuous CQL-MA, per member."""
    noise = batch.noise
    _, size, n_agents, act_dim = batch.actions.shape
    with torch.no_grad():
        next_actions, _ = nets.policy_samples(batch.next_obs,
                                              noise.normal(size, 1, n_agents, act_dim, stream=STREAMS["next_action"]))
        next_q = nets.q_values_of_samples(batch.next_obs, next_actions, target=True)[:, :, 0]
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
        uniform = 2.0 * noise.uniform(size, n_samples, n_agents, act_dim, stream=STREAMS["uniform"]) - 1.0
        policy, _ = nets.policy_samples(batch.obs,
                                        noise.normal(size, n_samples, n_agents, act_dim, stream=STREAMS["policy"]))
    q_data = nets.q_values(batch.obs, batch.actions)
    loss_td, diagnostics = q_loss(q_tot=nets.mixer(q_data, batch.state).q_tot, rewards=batch.rewards,
                                  terminals=batch.terminals, next_v_tot=next_q_tot, gamma=config.gamma)
    q_samples = nets.q_values_of_samples(batch.obs, torch.cat([uniform, policy], dim=2)).transpose(2, 3)
    penalty = conservative_penalty(q_samples=q_samples, q_data=q_data)
    return {"loss/q": loss_td, "loss/cql": alpha * penalty}, {**diagnostics, "value/cql_gap": penalty.detach()}


def continuous_actor(nets: PopulationNetworks, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """a_π ``[M, B, N, act_dim]`` (reparameterised), log π(a_π) ``[M, B, N]`` and frozen Q_i(o, a_π) ``[M, B, N]``."""
    _, size, n_agents, act_dim = batch.actions.shape
    actions, log_prob = nets.policy_samples(batch.obs,
                                            batch.noise.normal(size, 1, n_agents, act_dim, stream=STREAMS["actor"]))
    q = nets.q_values_of_samples(batch.obs, actions, frozen=True)[:, :, 0]
    return actions[:, :, 0], log_prob[:, :, 0], q


def _discrete_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig,
                     options: CqlOptions) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    with torch.no_grad():
        next_q = mask_unavailable(nets.q_target(batch.next_obs), batch.next_avail_actions).amax(-1)
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
    q_all = nets.q(batch.obs)
    q_data = q_all.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
    loss_td, diagnostics = q_loss(q_tot=nets.mixer(q_data, batch.state).q_tot, rewards=batch.rewards,
                                  terminals=batch.terminals, next_v_tot=next_q_tot, gamma=config.gamma)
    penalty = conservative_penalty(q_samples=mask_unavailable(q_all, batch.avail_actions), q_data=q_data)
    return ({"loss/q": loss_td, "loss/cql": options.alpha * penalty},
            {**diagnostics, "value/cql_gap": penalty.detach()})


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q``, ``loss/cql`` (and ``loss/pi`` for continuous actions) ``[M]``."""
    options = method_options("cql", config.method_options)
    if nets.space.discrete:
        return _discrete_losses(nets, batch, config, options)
    losses, diagnostics = continuous_critic_losses(nets, batch, config, alpha=options.alpha,
                                                   n_samples=options.n_samples)
    _, log_prob, q_pi = continuous_actor(nets, batch)
    q_tot_pi = frozen_call(nets.mixer, q_pi, batch.state).q_tot
    losses["loss/pi"] = actor_loss(q_tot=q_tot_pi, log_prob=log_prob, entropy=options.entropy)
    return losses, {**diagnostics, "value/q_tot_pi": member_mean(q_tot_pi.detach())}


def act(nets: PopulationNetworks, obs: torch.Tensor, avail: torch.Tensor | None, *,
        config: TrainConfig) -> torch.Tensor:
    """Greedy actions of Q (discrete) or tanh(μ) (continuous)."""
    if nets.space.discrete:
        return greedy_q_actions(nets, obs, avail)
    return nets.greedy_actions(obs, avail)
