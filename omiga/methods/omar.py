"""OMAR: offline multi-agent RL with actor rectification (Pan et al. 2022, "Plan Better Amid Conservatism").

Continuous actions only (a :class:`~omiga.errors.ConfigError` names the fix for a discrete task: OMAR's
rectification searches a continuous action space; use ``cql`` there).

Critic: exactly CQL-MA's continuous critic (``loss/q`` + ``loss/cql``, :mod:`omiga.methods.cql`): TD on
Q_tot = Σ_i w_i(s) Q_i + b(s) from ``TrainConfig.mixer`` plus α_cql (logsumexp_k Q_i(o, a_k) − Q_i(o, a_data)).

Actor (``loss/pi``), per agent, with a_π = tanh(μ + σε) reparameterised (the OMIGA baseline code samples
the policy's action) and Q_i evaluated with frozen parameters:
1. Zeroth-order search (cross-entropy method): start from N(μ₀, σ₀²) per action dimension; for each of I
   iterations sample S actions clipped to [−1, 1], add the previous iteration's elites, keep the E best under
   Q_i and refit mean and standard deviation to them. â_cem = the best action of the last iteration's set.
2. Rectification target: â = â_cem where Q_i(o, â_cem) > Q_i(o, a_π), else a_π (detached).
3. L = τ E‖a_π − â‖² − (1 − τ) E[Q_i(o_i, a_π)]   (squared error averaged over action dimensions).
Evaluation acts with tanh(μ). The per-agent Q_i (not Q_tot) in the actor follows the OMIGA baseline code;
with a monotone mixer the per-agent maximiser is the coordinate-wise maximiser of Q_tot.

Hyperparameters (:class:`~omiga.methods.options.OmarOptions`): α_cql = 1, K = 10, τ = 0.5, I = 2, S = 20,
E = 5, μ₀ = 0, σ₀ = 2 — see that module for sources.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.methods.bcq import best_sampled_actions
from omiga.methods.common import member_mean
from omiga.methods.cql import STREAMS, continuous_actor, continuous_critic_losses
from omiga.methods.noise import MemberNoise
from omiga.methods.options import OmarOptions, method_options
from omiga.networks import PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["compute_losses", "cross_entropy_search", "omar_policy_loss", "rectification_target"]

CEM_STREAM = max(STREAMS.values()) + 1
"""First noise stream of the search (one per iteration)."""


def cross_entropy_search(q_of: Callable[[torch.Tensor], torch.Tensor], *, noise: MemberNoise,
                         shape: tuple[int, int, int], options: OmarOptions) -> tuple[torch.Tensor, torch.Tensor]:
    """The best action per agent found by I CEM iterations, ``[M, B, N, d]``, and its Q ``[M, B, N]``.

    ``q_of(actions [M, B, S, N, d]) -> [M, B, S, N]``; ``shape`` is (B, N, d).
    """
    size, n_agents, act_dim = shape
    mean = torch.full((1, size, 1, n_agents, act_dim), options.init_mean, device=noise.keys.device)
    std = torch.full_like(mean, options.init_std)
    elites = elite_q = None
    for iteration in range(options.iterations):
        normal = noise.normal(size, options.cem_samples, n_agents, act_dim, stream=CEM_STREAM + iteration)
        samples = (mean + std * normal).clamp(-1.0, 1.0)
        q = q_of(samples)
        if elites is not None:
            samples, q = torch.cat([samples, elites], dim=2), torch.cat([q, elite_q], dim=2)
        elite_q, index = torch.nan_to_num(q, nan=float("-inf")).topk(options.elites, dim=2)
        elites = samples.gather(2, index.unsqueeze(-1).expand(-1, -1, -1, -1, act_dim))
        mean, std = elites.mean(2, keepdim=True), elites.std(2, keepdim=True)
    return best_sampled_actions(actions=samples, q=q)


def rectification_target(*, policy_action: torch.Tensor, policy_q: torch.Tensor, candidate_action: torch.Tensor,
                         candidate_q: torch.Tensor) -> torch.Tensor:
    """â: the candidate where its Q beats the policy action's, else the policy action; detached ``[M, B, N, d]``."""
    better = (candidate_q > policy_q).unsqueeze(-1)
    return torch.where(better, candidate_action, policy_action).detach()


def omar_policy_loss(*, policy_action: torch.Tensor, target_action: torch.Tensor, policy_q: torch.Tensor,
                     coefficient: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """τ E‖a_π − â‖² − (1 − τ) E[Q_i(o, a_π)] per member ``[M]``."""
    mimic = member_mean((policy_action - target_action.detach()) ** 2)
    loss = coefficient * mimic - (1.0 - coefficient) * member_mean(policy_q)
    return loss, {"loss/omar_mimic": mimic.detach(), "value/q_pi": member_mean(policy_q.detach())}


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q``, ``loss/cql`` (CQL-MA critic) and ``loss/pi`` (rectified actor) ``[M]``."""
    options = method_options("omar", config.method_options)
    losses, diagnostics = continuous_critic_losses(nets, batch, config, alpha=options.alpha,
                                                   n_samples=options.n_samples)
    policy_action, _, policy_q = continuous_actor(nets, batch)
    with torch.no_grad():
        best, best_q = cross_entropy_search(lambda actions: nets.q_values_of_samples(batch.obs, actions),
                                            noise=batch.noise, shape=tuple(batch.actions.shape[1:]), options=options)
    target = rectification_target(policy_action=policy_action, policy_q=policy_q, candidate_action=best,
                                  candidate_q=best_q)
    losses["loss/pi"], diag_pi = omar_policy_loss(policy_action=policy_action, target_action=target,
                                                  policy_q=policy_q, coefficient=options.coefficient)
    return losses, {**diagnostics, **diag_pi}
