"""OMAR: offline multi-agent RL with actor rectification (Pan et al. 2022, "Plan Better Amid Conservatism").

Critic: exactly CQL-MA's critic (``loss/q`` + ``loss/cql``, :mod:`omiga.methods.cql`): TD on
Q_tot = Σ_i w_i(s) Q_i + b(s) from ``TrainConfig.mixer`` plus α_cql times the conservative penalty (the mixed form
by default, as the OMIGA baseline code's OMAR; ``penalty = "agent"`` for the per-agent one).

Actor (``loss/pi``), continuous actions (the paper and the OMIGA baseline code), per agent, with
a_π = tanh(μ + σε) reparameterised and Q_i evaluated with frozen parameters:
1. Zeroth-order search (cross-entropy method): start from N(μ₀, σ₀²) per action dimension; for each of I
   iterations sample S actions clipped to [−1, 1], add the previous iteration's elites, keep the E best under
   Q_i and refit mean and standard deviation to them. â_cem = the best action of the last iteration's set.
2. Rectification target: â = â_cem where Q_i(o, â_cem) > Q_i(o, a_π), else a_π (detached).
3. L = τ E‖a_π − â‖² − (1 − τ) E[Q_i(o_i, a_π)]   (squared error averaged over action dimensions).
Evaluation acts with tanh(μ). The per-agent Q_i (not Q_tot) in the actor follows the OMIGA baseline code;
with a monotone mixer the per-agent maximiser is the coordinate-wise maximiser of Q_tot.

Discrete actions: this project's construction following OMAR's idea (the paper and its code are continuous
only; the OMIGA paper's SMAC tables have OMAR rows without saying how). The critic is discrete CQL-MA; the
actor, a masked categorical π_i, is pulled toward the best of sampled actions under the conservative critic:
1. Categorical cross-entropy method (Rubinstein's CEM for discrete variables): start from the uniform
   distribution over the available actions; for each of I iterations draw S actions (Gumbel-max), add the
   previous elites, keep the E best under Q_i and refit the categorical to the elites' frequencies.
   â_cem = the best action of the last iteration's set.
2. Rectification target: â = â_cem where Q_i(o, â_cem) > Q_i(o, a_π) for a policy sample a_π ∼ π_i, else a_π.
3. L = τ E[−log π_i(â_i | o_i)] − (1 − τ) E[Σ_a π_i(a | o_i) Q_i(o_i, a)]: cross-entropy toward â replaces the
   squared distance, and the exact expectation over the available actions replaces Q at one reparameterised
   sample (a categorical has no reparameterisation). Evaluation acts greedily on the policy's logits.

Hyperparameters (:class:`~omiga.methods.options.OmarOptions`): α_cql = 1, K = 10, τ = 0.5, I = 2, S = 20,
E = 5, μ₀ = 0, σ₀ = 2 — see that module for sources; the discrete search uses the same I, S and E.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.methods.common import available_or_all, best_sampled_actions, mask_unavailable, member_mean
from omiga.methods.cql import STREAMS, continuous_actor, continuous_critic_losses, discrete_critic_losses
from omiga.methods.noise import MemberNoise
from omiga.methods.options import OmarOptions, method_options
from omiga.networks import PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["categorical_cross_entropy_search", "compute_losses", "cross_entropy_search", "discrete_omar_policy_loss",
           "gumbel_max_sample", "omar_policy_loss", "rectification_target"]

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


def gumbel_max_sample(log_probs: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """argmax_a (log p(a) − log(−log u_a)): a draw from the categorical p; ``uniform`` in (0, 1), same shape."""
    return (log_probs - torch.log(-torch.log(uniform))).argmax(-1)


def categorical_cross_entropy_search(q: torch.Tensor, *, avail: torch.Tensor | None, noise: MemberNoise,
                                     options: OmarOptions) -> tuple[torch.Tensor, torch.Tensor]:
    """The best action per agent found by I categorical CEM iterations over ``q [M, B, N, A]`` (its values at
    every action, no gradient), ``[M, B, N]`` int64, and its Q ``[M, B, N]``; unavailable actions are never drawn."""
    allowed = available_or_all(avail) if avail is not None else torch.ones_like(q, dtype=torch.bool)
    probs = allowed.float() / allowed.sum(-1, keepdim=True)
    _, size, n_agents, n_actions = q.shape
    elites = elite_q = None
    for iteration in range(options.iterations):
        uniform = noise.uniform(size, options.cem_samples, n_agents, n_actions, stream=CEM_STREAM + iteration)
        samples = gumbel_max_sample(torch.log(probs).unsqueeze(2), uniform)  # [M, B, S, N]
        sample_q = q.unsqueeze(2).expand(-1, -1, options.cem_samples, -1, -1).gather(-1, samples.unsqueeze(-1))
        sample_q = sample_q.squeeze(-1)
        if elites is not None:
            samples, sample_q = torch.cat([samples, elites], dim=2), torch.cat([sample_q, elite_q], dim=2)
        elite_q, index = torch.nan_to_num(sample_q, nan=float("-inf")).topk(options.elites, dim=2)
        elites = samples.gather(2, index)
        probs = torch.nn.functional.one_hot(elites, n_actions).float().mean(2)  # the elites' frequencies
    best_q, index = torch.nan_to_num(sample_q, nan=float("-inf")).max(dim=2)
    return samples.gather(2, index.unsqueeze(2)).squeeze(2), best_q


def rectification_target(*, policy_action: torch.Tensor, policy_q: torch.Tensor, candidate_action: torch.Tensor,
                         candidate_q: torch.Tensor) -> torch.Tensor:
    """â: the candidate where its Q beats the policy action's, else the policy action; detached ``[M, B, N, d]``."""
    better = candidate_q > policy_q
    if policy_action.ndim > policy_q.ndim:  # continuous actions [..., d]
        better = better.unsqueeze(-1)
    return torch.where(better, candidate_action, policy_action).detach()


def omar_policy_loss(*, policy_action: torch.Tensor, target_action: torch.Tensor, policy_q: torch.Tensor,
                     coefficient: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """τ E‖a_π − â‖² − (1 − τ) E[Q_i(o, a_π)] per member ``[M]``."""
    mimic = member_mean((policy_action - target_action.detach()) ** 2)
    loss = coefficient * mimic - (1.0 - coefficient) * member_mean(policy_q)
    return loss, {"loss/omar_mimic": mimic.detach(), "value/q_pi": member_mean(policy_q.detach())}


def discrete_omar_policy_loss(*, logits: torch.Tensor, target_action: torch.Tensor, q: torch.Tensor,
                              avail: torch.Tensor | None,
                              coefficient: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """τ E[−log π(â | o)] − (1 − τ) E[Σ_a π(a | o) Q_i(o, a)] per member ``[M]``; ``logits``, ``q [M, B, N, A]``
    (Q detached here), ``target_action [M, B, N]``."""
    log_pi = torch.log_softmax(mask_unavailable(logits, avail), dim=-1)
    mimic = -member_mean(log_pi.gather(-1, target_action.unsqueeze(-1)).squeeze(-1))
    q = torch.where(torch.isfinite(log_pi), q.detach(), 0.0)  # 0 · Q at unavailable actions, never −inf · 0
    expected_q = (log_pi.exp() * q).sum(-1)
    loss = coefficient * mimic - (1.0 - coefficient) * member_mean(expected_q)
    return loss, {"loss/omar_mimic": mimic.detach(), "value/q_pi": member_mean(expected_q.detach())}


def _discrete_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig,
                     options: OmarOptions) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    losses, diagnostics = discrete_critic_losses(nets, batch, config, alpha=options.alpha, penalty=options.penalty)
    logits = nets.policy(batch.obs)
    with torch.no_grad():
        q = nets.q(batch.obs)
        best, best_q = categorical_cross_entropy_search(q, avail=batch.avail_actions, noise=batch.noise,
                                                        options=options)
        _, size, n_agents, n_actions = q.shape
        log_pi = torch.log_softmax(mask_unavailable(logits.detach(), batch.avail_actions), dim=-1)
        policy_action = gumbel_max_sample(log_pi, batch.noise.uniform(size, n_agents, n_actions,
                                                                      stream=STREAMS["actor"]))
        policy_q = q.gather(-1, policy_action.unsqueeze(-1)).squeeze(-1)
    target = rectification_target(policy_action=policy_action, policy_q=policy_q, candidate_action=best,
                                  candidate_q=best_q)
    losses["loss/pi"], diag_pi = discrete_omar_policy_loss(logits=logits, target_action=target, q=q,
                                                           avail=batch.avail_actions, coefficient=options.coefficient)
    return losses, {**diagnostics, **diag_pi}


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q``, ``loss/cql`` (CQL-MA critic) and ``loss/pi`` (rectified actor) ``[M]``."""
    options = method_options("omar", config.method_options)
    if nets.space.discrete:
        return _discrete_losses(nets, batch, config, options)
    losses, diagnostics = continuous_critic_losses(nets, batch, config, alpha=options.alpha,
                                                   n_samples=options.n_samples, penalty=options.penalty)
    policy_action, _, policy_q = continuous_actor(nets, batch)
    with torch.no_grad():
        best, best_q = cross_entropy_search(lambda actions: nets.q_values_of_samples(batch.obs, actions),
                                            noise=batch.noise, shape=tuple(batch.actions.shape[1:]), options=options)
    target = rectification_target(policy_action=policy_action, policy_q=policy_q, candidate_action=best,
                                  candidate_q=best_q)
    losses["loss/pi"], diag_pi = omar_policy_loss(policy_action=policy_action, target_action=target,
                                                  policy_q=policy_q, coefficient=options.coefficient)
    return losses, {**diagnostics, **diag_pi}
