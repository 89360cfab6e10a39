"""CQL-MA: per-agent conservative Q-learning (Kumar et al. 2020) with OMIGA's value decomposition.

The multi-agent variant the OMIGA paper compares with: Q_tot = Σ_i w_i(s) Q_i(o_i, a_i) + b(s) from
``TrainConfig.mixer`` (``linear``, the paper's), trained by TD, plus CQL(H)'s penalty.

Critic (``loss/q`` + ``loss/cql``), per member:
    L_TD  = E[(r + γ (1 − d) Q̄_tot(s′, a′) − Q_tot(s, a))²]          (target Q and target mixer, detached)
    ``penalty = "mixed"`` (default, the cited code's):
        L_CQL = α · E_(s,a)∼D[Σ_i log Σ_k exp(w_i(s) Q_i(o_i, a_k)) + b(s) − Q_tot(s, a)]
              = α · E[Σ_i (logsumexp_k w_i Q_i(o_i, a_k) − w_i Q_i(o_i, a_i))]
      the logsumexp of each agent's mixed term over its actions, summed over agents, minus the mixed data value;
      w from the online mixer, with gradient (the cited code back-propagates the penalty into the mixer).
    ``penalty = "agent"``: L_CQL = α · E_i E[logsumexp_k Q_i(o_i, a_k) − Q_i(o_i, a_i)]  (mean over agents, unmixed).
- Discrete: a′_i = argmax over the available actions of Q̄_i(o′_i, ·) (DQN's target, as CQL's discrete
  experiments); the logsumexp runs exactly over the available actions.
- Continuous: a′_i ∼ π_i(·|o′_i); the logsumexp runs over K uniform actions in [−1, 1], K actions of the current
  policy at o and K of the policy at o′ (all evaluated at o, no gradient through the samples), without importance
  weights, as the OMIGA baseline code's CQL critic (a constant offset, log 3K, does not change the gradient).
Actor (continuous only, ``loss/pi``): SAC-style min E[β log π(a_π|o) − Q_tot(s, a_π)] with a_π = tanh(μ + σε)
reparameterised and frozen Q / mixer parameters (:func:`omiga.methods.common.actor_loss`). Evaluation acts
greedily: argmax_a Q_i over available actions (discrete), tanh(μ) (continuous).

Hyperparameters (:class:`~omiga.methods.options.CqlOptions`): α_cql = 1 (the cited code adds its mixed penalty
with weight 1), K = 10, β = 0 — see that module for sources. γ, τ, lr, batch size and clipping are the shared
:class:`~omiga.config.TrainConfig` values. Differences from the cited code, and why: its logsumexp runs over
w_i Q_i + b, so b enters N times against once in Q_tot, a gradient that only drives b down (N − 1) times per
unit of penalty; the form here cancels b exactly (the penalty then measures only the actions' values). Its
actor minimises −log π(a_data) · Q_i (a weighted cloning); ours is the SAC-style actor of CQL's paper.
"""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import q_loss
from omiga.methods.common import actor_loss, greedy_q_actions, mask_unavailable, member_mean
from omiga.methods.options import method_options
from omiga.networks import PopulationNetworks, frozen_call
from omiga.population import MemberTensors

__all__ = ["STREAMS", "act", "compute_losses", "conservative_penalty", "continuous_critic_losses",
           "discrete_critic_losses"]

STREAMS = {"next_action": 0, "uniform": 1, "policy": 2, "actor": 3, "next_policy": 4}
"""Noise streams of one step (OMAR reuses these and adds its own above them)."""


def conservative_penalty(*, q_samples: torch.Tensor, q_data: torch.Tensor, w: torch.Tensor | None = None,
                         form: str = "agent") -> torch.Tensor:
    """CQL's penalty per member ``[M]``; ``q_samples [M, B, N, K]`` (−inf = excluded), ``q_data``, ``w [M, B, N]``.

    ``"agent"``: mean over the batch and agents of logsumexp_k Q_i(o, a_k) − Q_i(o, a_data).
    ``"mixed"``: mean over the batch of Σ_i [logsumexp_k w_i Q_i(o, a_k) − w_i Q_i(o, a_data)] (needs ``w``).
    """
    if form == "agent":
        return member_mean(torch.logsumexp(q_samples, dim=-1) - q_data)
    excluded = ~torch.isfinite(q_samples)  # filled before the product: −inf · w would poison w's gradient
    weighted = (w.unsqueeze(-1) * q_samples.masked_fill(excluded, 0.0)).masked_fill(excluded, float("-inf"))
    return member_mean((torch.logsumexp(weighted, dim=-1) - w * q_data).sum(-1))


def continuous_critic_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig, *, alpha: float,
                             n_samples: int, penalty: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``loss/q`` (TD) and ``loss/cql`` (α · penalty of form ``penalty``) of continuous CQL-MA, per member."""
    noise = batch.noise
    _, size, n_agents, act_dim = batch.actions.shape
    with torch.no_grad():
        next_actions, _ = nets.policy_samples(batch.next_obs,
                                              noise.normal(size, 1, n_agents, act_dim, stream=STREAMS["next_action"]))
        next_q = nets.q_values_of_samples(batch.next_obs, next_actions, target=True)[:, :, 0]
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
        uniform = 2.0 * noise.uniform(size, n_samples, n_agents, act_dim, stream=STREAMS["uniform"]) - 1.0
        policy = [nets.policy_samples(obs, noise.normal(size, n_samples, n_agents, act_dim, stream=STREAMS[stream]))[0]
                  for obs, stream in ((batch.obs, "policy"), (batch.next_obs, "next_policy"))]
    q_data = nets.q_values(batch.obs, batch.actions)
    mixed = nets.mixer(q_data, batch.state)
    loss_td, diagnostics = q_loss(q_tot=mixed.q_tot, rewards=batch.rewards, terminals=batch.terminals,
                                  next_v_tot=next_q_tot, gamma=config.gamma)
    q_samples = nets.q_values_of_samples(batch.obs, torch.cat([uniform, *policy], dim=2)).transpose(2, 3)
    gap = conservative_penalty(q_samples=q_samples, q_data=q_data, w=mixed.w, form=penalty)
    return {"loss/q": loss_td, "loss/cql": alpha * gap}, {**diagnostics, "value/cql_gap": gap.detach()}


def continuous_actor(nets: PopulationNetworks, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """a_π ``[M, B, N, act_dim]`` (reparameterised), log π(a_π) ``[M, B, N]`` and frozen Q_i(o, a_π) ``[M, B, N]``."""
    _, size, n_agents, act_dim = batch.actions.shape
    actions, log_prob = nets.policy_samples(batch.obs,
                                            batch.noise.normal(size, 1, n_agents, act_dim, stream=STREAMS["actor"]))
    q = nets.q_values_of_samples(batch.obs, actions, frozen=True)[:, :, 0]
    return actions[:, :, 0], log_prob[:, :, 0], q


def discrete_critic_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig, *, alpha: float,
                           penalty: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``loss/q`` (TD to the greedy target) and ``loss/cql`` (exact logsumexp over the available actions)."""
    with torch.no_grad():
        next_q = mask_unavailable(nets.q_target(batch.next_obs), batch.next_avail_actions).amax(-1)
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
    q_all = nets.q(batch.obs)
    q_data = q_all.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
    mixed = nets.mixer(q_data, batch.state)
    loss_td, diagnostics = q_loss(q_tot=mixed.q_tot, rewards=batch.rewards, terminals=batch.terminals,
                                  next_v_tot=next_q_tot, gamma=config.gamma)
    gap = conservative_penalty(q_samples=mask_unavailable(q_all, batch.avail_actions), q_data=q_data, w=mixed.w,
                               form=penalty)
    return {"loss/q": loss_td, "loss/cql": alpha * gap}, {**diagnostics, "value/cql_gap": gap.detach()}


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q``, ``loss/cql`` (and ``loss/pi`` for continuous actions) ``[M]``."""
    options = method_options("cql", config.method_options)
    if nets.space.discrete:
        return discrete_critic_losses(nets, batch, config, alpha=options.alpha, penalty=options.penalty)
    losses, diagnostics = continuous_critic_losses(nets, batch, config, alpha=options.alpha,
                                                   n_samples=options.n_samples, penalty=options.penalty)
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
