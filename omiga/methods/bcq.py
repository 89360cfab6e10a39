"""BCQ-MA: per-agent batch-constrained Q-learning (Fujimoto et al. 2019) with OMIGA's value decomposition.

The policy network serves as the behaviour model π_b, trained by behaviour cloning (``loss/pi``:
min E[−log π_b(a_i | o_i)], masked categorical or tanh-Gaussian, exactly the ``bc`` method's loss). The
Q step (``loss/q``) is TD on Q_tot = Σ_i w_i(s) Q_i + b(s) from ``TrainConfig.mixer`` (``linear``, the
paper's):  min E[(r + γ (1 − d) Q̄_tot(s′, a′) − Q_tot(s, a))²], with target Q and target mixer.

- Discrete (BCQ for discrete actions, Fujimoto et al. 2019b): the allowed set at o is
  G(o) = {a available : π_b(a|o) / max_a′ π_b(a′|o) ≥ τ}; a′_i = argmax_{a ∈ G(o′_i)} Q_i(o′_i, a) with the
  online Q (double-DQN style), evaluated by the target Q. Acting: argmax_{a ∈ G(o)} Q_i(o, a).
  Differences: MSE instead of Huber loss and no logit penalty on π_b (as OMIGA's Q step).
- Continuous, a simpler documented variant: no VAE and no perturbation network ξ (Φ = 0). The
  tanh-Gaussian π_b is the generative model; a′_i = the best under Q̄_i of K actions sampled from
  π_b(·|o′_i) (a monotone mixer makes per-agent maxima maximise Q̄_tot); one Q network, so no clipped
  double-Q mixture. Acting: the best under Q_i of tanh(μ) and K − 1 fixed draws tanh(μ + σ z_k) (z_k
  deterministic, so evaluation is deterministic).

Hyperparameters (:class:`~omiga.methods.options.BcqOptions`): τ = 0.3, K = 10 — see that module for sources.
"""

from __future__ import annotations

import math

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import bc_loss, q_loss
from omiga.methods.common import greedy_q_actions, mask_unavailable
from omiga.methods.noise import MemberNoise
from omiga.methods.options import method_options
from omiga.networks import PopulationNetworks, sample_tanh_gaussian
from omiga.population import MemberTensors

__all__ = ["act", "allowed_actions", "best_sampled_actions", "compute_losses"]


def allowed_actions(*, logits: torch.Tensor, avail: torch.Tensor | None, threshold: float) -> torch.Tensor:
    """G(o): available actions with π_b(a|o) / max_a′ π_b(a′|o) ≥ τ, ``[..., A]`` bool (never empty)."""
    log_prob = torch.log_softmax(mask_unavailable(torch.nan_to_num(logits, nan=0.0), avail), dim=-1)
    log_threshold = math.log(threshold) if threshold > 0 else -math.inf
    return (log_prob - log_prob.amax(-1, keepdim=True) >= log_threshold) & torch.isfinite(log_prob)


def best_sampled_actions(*, actions: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per agent, the sample with the highest Q: ``actions [M, B, K, N, d]``, ``q [M, B, K, N]`` -> ``[M, B, N, d]``, ``[M, B, N]``."""
    best_q, index = torch.nan_to_num(q, nan=float("-inf")).max(dim=2)
    best = actions.gather(2, index[:, :, None, :, None].expand(-1, -1, 1, -1, actions.shape[-1])).squeeze(2)
    return best, best_q


def _next_q_tot(nets: PopulationNetworks, batch: Batch, config: TrainConfig) -> torch.Tensor:
    options = method_options("bcq", config.method_options)
    with torch.no_grad():
        if nets.space.discrete:
            allowed = allowed_actions(logits=nets.policy(batch.next_obs), avail=batch.next_avail_actions,
                                      threshold=options.threshold)
            online = nets.q(batch.next_obs).masked_fill(~allowed, float("-inf"))
            next_q = nets.q_target(batch.next_obs).gather(-1, online.argmax(-1, keepdim=True)).squeeze(-1)
        else:
            _, size, n_agents, act_dim = batch.actions.shape
            samples, _ = nets.policy_samples(batch.next_obs,
                                             batch.noise.normal(size, options.n_samples, n_agents, act_dim, stream=0))
            _, next_q = best_sampled_actions(
                actions=samples, q=nets.q_values_of_samples(batch.next_obs, samples, target=True))
        return nets.mixer_target(next_q, batch.next_state).q_tot


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q`` (batch-constrained TD) and ``loss/pi`` (behaviour cloning of π_b) ``[M]``."""
    next_q_tot = _next_q_tot(nets, batch, config)
    q = nets.q_values(batch.obs, batch.actions)
    loss_q, diag_q = q_loss(q_tot=nets.mixer(q, batch.state).q_tot, rewards=batch.rewards,
                            terminals=batch.terminals, next_v_tot=next_q_tot, gamma=config.gamma)
    loss_pi, diag_pi = bc_loss(log_prob=nets.policy_log_prob(batch.obs, batch.actions, batch.avail_actions))
    return {"loss/q": loss_q, "loss/pi": loss_pi}, {**diag_q, **diag_pi}


@torch.no_grad()
def act(nets: PopulationNetworks, obs: torch.Tensor, avail: torch.Tensor | None, *,
        config: TrainConfig) -> torch.Tensor:
    """Greedy Q over G(o) (discrete) or the best of tanh(μ) and K − 1 fixed behaviour draws (continuous)."""
    options = method_options("bcq", config.method_options)
    if nets.space.discrete:
        allowed = allowed_actions(logits=nets.policy(obs), avail=avail, threshold=options.threshold)
        return greedy_q_actions(nets, obs, avail, allowed=allowed)
    n_members, n_envs, n_agents, _ = obs.shape
    fixed = MemberNoise(keys=torch.zeros(n_members, dtype=torch.int64, device=obs.device), step=0)
    normal = fixed.normal(n_envs, options.n_samples, n_agents, nets.space.act_dim, stream=0)
    normal[:, :, 0] = 0.0  # candidate 0 is tanh(μ)
    out = torch.nan_to_num(nets.policy(obs), nan=0.0)
    mean, log_std = out.chunk(2, dim=-1)
    samples, _ = sample_tanh_gaussian(mean, log_std, normal)
    best, _ = best_sampled_actions(actions=samples, q=nets.q_values_of_samples(obs, samples))
    return best
