"""ICQ-MA: implicit constraint Q-learning (Yang et al. 2021, "Believe What You See", NeurIPS 2021).

ICQ never queries Q at actions outside the dataset: both steps weight in-sample actions by a softmax over the
batch, the sample estimate of exp(·)/Z with Z the normaliser (B · softmax has mean 1 over the batch).

Critic (``loss/q``), Q_tot = Σ_i w_i(s) Q_i + b(s) from ``TrainConfig.mixer`` (ICQ-MA's decomposition):
    y = r + γ (1 − d) · ρ(s′, a′) Q̄_tot(s′, a′),   ρ = B · softmax_batch(Q̄_tot(s′, a′) / α)
    L = E[(Q_tot(s, a) − y)²]
with a′ the dataset's next actions (in-sample), Q̄ and the mixer from the target networks, ρ detached.
Differences from the paper and the ICQ SMAC code, and why: one-step targets instead of TD(λ) over episodes (the
trainer samples independent transitions, not episodes; TD(λ) would need an episode sampler and recurrent
agents); ρ is normalised over the whole batch of transitions (the code: over the episodes of a batch at each
step), terminal rows included (their bootstrap is masked anyway); soft target updates instead of periodic copies.

Actor (``loss/pi``), per agent i, with the decomposed advantage of the online Q and mixer weights (detached):
    A_i = Q_i(o_i, a_i) − E_{a∼π_i(·|o_i)} Q_i(o_i, a),   L = −E[ω_i log π_i(a_i | o_i)]
    discrete (the ICQ SMAC code, w outside the softmax):   ω_i = w_i(s) · B · softmax_batch(A_i / β)
    continuous (the OMIGA baseline code):                  ω_i = B · softmax_batch(w_i(s) A_i / β)
The baseline is exact for discrete actions (Σ_a π_i(a|o) Q_i(o, a) over available actions) and a K-sample
estimate for continuous ones. The OMIGA baseline code's continuous ICQ weights by w_i Q_i without the baseline;
we follow the paper's advantage. Evaluation acts with the policy: argmax of logits / tanh(μ).

Hyperparameters (:class:`~omiga.methods.options.IcqOptions`): α = 1000, β = 0.1 on discrete tasks (the ICQ SMAC
code, on SMAC's 0-20 returns: with the continuous code's β = 100 every weight is ≈ 1 there and ICQ is behaviour
cloning); α = 10, β = 100 on continuous ones; K = 10 — see that module.
"""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.methods.common import mask_unavailable, member_mean, require_next_actions
from omiga.methods.options import method_options
from omiga.networks import PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["batch_softmax_weights", "compute_losses", "icq_policy_loss", "in_sample_target"]


def batch_softmax_weights(scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """B · softmax over the batch dimension (dim 1) of ``scores / temperature``, detached, same shape."""
    scores = scores.detach()
    return scores.shape[1] * torch.softmax(scores / temperature, dim=1)


def in_sample_target(*, rewards: torch.Tensor, terminals: torch.Tensor, next_q_tot: torch.Tensor, gamma: float,
                     temperature: float) -> torch.Tensor:
    """y = r + γ (1 − d) ρ Q̄_tot(s′, a′) with ρ = B · softmax_batch(Q̄_tot / α), ``[M, B]``, detached."""
    rho = batch_softmax_weights(next_q_tot, temperature)
    return (rewards + gamma * (1.0 - terminals) * rho * next_q_tot).detach()


def icq_policy_loss(*, log_prob: torch.Tensor, advantage: torch.Tensor, w: torch.Tensor, temperature: float,
                    w_outside: bool = False) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """−E[ω_i log π_i(a_i|o_i)] with ω = B · softmax over the batch of w_i A_i / β, or with ``w_outside``
    ω = w_i · B · softmax over the batch of A_i / β; ``[M, B, N]`` inputs, ``[M]`` loss, ω detached."""
    w, advantage = w.detach(), advantage.detach()
    if w_outside:
        weights = w * batch_softmax_weights(advantage, temperature)
    else:
        weights = batch_softmax_weights(w * advantage, temperature)
    return -member_mean(weights * log_prob), {"weights/icq_max": weights.flatten(1).amax(1),
                                              "value/advantage": member_mean(advantage.detach())}


def _advantage(nets: PopulationNetworks, batch: Batch, config: TrainConfig) -> torch.Tensor:
    """A_i = Q_i(o_i, a_i) − E_π Q_i(o_i, ·) from the online Q and the current policy (no gradient)."""
    with torch.no_grad():
        if nets.space.discrete:
            q_all = nets.q(batch.obs)
            pi = torch.softmax(mask_unavailable(nets.policy(batch.obs), batch.avail_actions), dim=-1)
            baseline = (pi * q_all).sum(-1)
            return q_all.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1) - baseline
        options = method_options("icq", config.method_options)
        _, size, n_agents, act_dim = batch.actions.shape
        samples, _ = nets.policy_samples(batch.obs,
                                         batch.noise.normal(size, options.n_samples, n_agents, act_dim, stream=0))
        baseline = nets.q_values_of_samples(batch.obs, samples).mean(2)
        return nets.q_values(batch.obs, batch.actions) - baseline


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q`` (in-sample weighted TD) and ``loss/pi`` (advantage-weighted regression) ``[M]``."""
    require_next_actions(batch)
    options = method_options("icq", config.method_options)
    critic_temperature, policy_temperature = options.temperatures(discrete=nets.space.discrete)
    with torch.no_grad():
        next_q = nets.q_values(batch.next_obs, batch.next_actions, target=True)
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
        target = in_sample_target(rewards=batch.rewards, terminals=batch.terminals, next_q_tot=next_q_tot,
                                  gamma=config.gamma, temperature=critic_temperature)
    q = nets.q_values(batch.obs, batch.actions)
    mixed = nets.mixer(q, batch.state)
    loss_q = member_mean((mixed.q_tot - target) ** 2)
    diag_q = {"value/q_tot": member_mean(mixed.q_tot.detach()), "value/q_target": member_mean(target)}
    log_prob = nets.policy_log_prob(batch.obs, batch.actions, batch.avail_actions)
    loss_pi, diag_pi = icq_policy_loss(log_prob=log_prob, advantage=_advantage(nets, batch, config), w=mixed.w,
                                       temperature=policy_temperature, w_outside=nets.space.discrete)
    return {"loss/q": loss_q, "loss/pi": loss_pi}, {**diag_q, **diag_pi}
