"""BCQ-MA: per-agent batch-constrained Q-learning (Fujimoto et al. 2019) with OMIGA's value decomposition.

Q_tot = Σ_i w_i(s) Q_i + b(s) from ``TrainConfig.mixer`` (``linear``, the paper's) is trained by TD with target
Q and target mixer:  min E[(r + γ (1 − d) Q̄_tot(s′, a′) − Q_tot(s, a))²].

- Discrete (BCQ for discrete actions, Fujimoto et al. 2019b, "Benchmarking Batch Deep RL Algorithms"): the
  policy network is the behaviour model π_b, trained by behaviour cloning (``loss/pi``: min E[−log π_b(a_i|o_i)],
  masked categorical, the ``bc`` method's loss). The allowed set at o is
  G(o) = {a available : π_b(a|o) / max_a′ π_b(a′|o) ≥ τ}; a′_i = argmax_{a ∈ G(o′_i)} Q_i(o′_i, a) with the
  online Q (double-DQN style), evaluated by the target Q. Acting: argmax_{a ∈ G(o)} Q_i(o, a).
  Differences: MSE instead of Huber loss and no logit penalty on π_b (as OMIGA's Q step).
- Continuous: BCQ proper (conditional VAE, perturbation network ξ bounded by Φ, clipped double Q with the
  λ-weighted min/max target), :mod:`omiga.methods.bcq_continuous`, which documents its equations.

Hyperparameters (:class:`~omiga.methods.options.BcqOptions`): τ = 0.3 (discrete); Φ = 0.05, λ = 0.75, K = 10 at
the target, 100 when acting (continuous) — see that module for sources.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from omiga.batch import Batch
from omiga.config import NetworkConfig, TrainConfig
from omiga.losses import bc_loss, q_loss
from omiga.methods.bcq_continuous import BcqNetworks, continuous_act, continuous_losses
from omiga.methods.common import greedy_q_actions, mask_unavailable
from omiga.methods.options import BcqOptions, method_options
from omiga.networks import ActionSpace, PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["act", "allowed_actions", "compute_losses", "extra_networks"]


def allowed_actions(*, logits: torch.Tensor, avail: torch.Tensor | None, threshold: float) -> torch.Tensor:
    """G(o): available actions with π_b(a|o) / max_a′ π_b(a′|o) ≥ τ, ``[..., A]`` bool (never empty)."""
    log_prob = torch.log_softmax(mask_unavailable(torch.nan_to_num(logits, nan=0.0), avail), dim=-1)
    log_threshold = math.log(threshold) if threshold > 0 else -math.inf
    return (log_prob - log_prob.amax(-1, keepdim=True) >= log_threshold) & torch.isfinite(log_prob)


def extra_networks(*, space: ActionSpace,
                   network: NetworkConfig) -> Callable[[Sequence[torch.Generator]], nn.Module] | None:
    """Continuous BCQ's own networks (:class:`~omiga.methods.bcq_continuous.BcqNetworks`); none for discrete."""
    return None if space.discrete else functools.partial(BcqNetworks, space, hidden=network.hidden)


def _discrete_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig,
                     options: BcqOptions) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    with torch.no_grad():
        allowed = allowed_actions(logits=nets.policy(batch.next_obs), avail=batch.next_avail_actions,
                                  threshold=options.threshold)
        online = nets.q(batch.next_obs).masked_fill(~allowed, float("-inf"))
        next_q = nets.q_target(batch.next_obs).gather(-1, online.argmax(-1, keepdim=True)).squeeze(-1)
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
    q = nets.q_values(batch.obs, batch.actions)
    loss_q, diag_q = q_loss(q_tot=nets.mixer(q, batch.state).q_tot, rewards=batch.rewards,
                            terminals=batch.terminals, next_v_tot=next_q_tot, gamma=config.gamma)
    loss_pi, diag_pi = bc_loss(log_prob=nets.policy_log_prob(batch.obs, batch.actions, batch.avail_actions))
    return {"loss/q": loss_q, "loss/pi": loss_pi}, {**diag_q, **diag_pi}


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member losses ``[M]``: ``loss/q`` and ``loss/pi`` (π_b's cloning) for discrete actions; ``loss/q``,
    ``loss/vae`` and ``loss/pi`` (ξ) for continuous ones."""
    options = method_options("bcq", config.method_options)
    if nets.space.discrete:
        return _discrete_losses(nets, batch, config, options)
    return continuous_losses(nets, batch, config, options)


@torch.no_grad()
def act(nets: PopulationNetworks, obs: torch.Tensor, avail: torch.Tensor | None, *,
        config: TrainConfig) -> torch.Tensor:
    """Greedy Q over G(o) (discrete) or the best under Q¹ of the perturbed VAE samples (continuous)."""
    options = method_options("bcq", config.method_options)
    if nets.space.discrete:
        allowed = allowed_actions(logits=nets.policy(obs), avail=avail, threshold=options.threshold)
        return greedy_q_actions(nets, obs, avail, allowed=allowed)
    return continuous_act(nets, obs, options)
