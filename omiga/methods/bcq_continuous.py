"""Continuous BCQ-MA (Fujimoto, Meger and Precup 2019, "Off-Policy Deep RL without Exploration", Algorithm 1),
per agent with OMIGA's value decomposition, as the OMIGA baseline code (vietbt/ComaDICE agents/continuous/bcq.py).

Networks per agent, parameters shared across agents with the one-hot agent id appended (:class:`BcqNetworks`,
built after the shared networks; the policy head of :class:`~omiga.networks.PopulationNetworks` is unused):
a conditional VAE (encoder E(o, a) -> μ, log σ of a latent of 2·act_dim; decoder D(o, z) = tanh(·)), a
perturbation network ξ(o, a) and a second Q network Q², with target copies of ξ and Q² (and the shared Q¹ =
``nets.q`` and the mixer).

- VAE (``loss/vae``), the ELBO with a β = 0.5 KL weight (the paper's code):
      L = E‖D(o, z) − a‖² / d + 0.5 · KL(N(μ, σ²) ‖ N(0, 1)),   z = μ + σ ε,   log σ clamped to [−4, 15],
      KL = −½ mean(1 + log σ² − μ² − σ²) (means over latent dimensions, agents and the batch).
- Perturbation: a_ξ = clamp(a + Φ · max_action · tanh(ξ(o, a)), −max_action, max_action), max_action = 1;
  decoded actions use z ∼ N(0, 1) clipped to [−0.5, 0.5].
- Critic (``loss/q``): a′_{i,k} = a_ξ′(o′_i, D(o′_i, z_k)) for K samples with the target ξ; per agent and
  sample  q_{i,k} = λ min(Q̄¹_i, Q̄²_i) + (1 − λ) max(Q̄¹_i, Q̄²_i);  q_i = max_k q_{i,k}  (a monotone mixer makes
  per-agent maxima maximise the mixed value);  y = r + γ (1 − d) (Σ_i w̄_i(s′) q_i + b̄(s′));
  L = E[(Q¹_tot(s, a) − y)²] + E[(Q²_tot(s, a) − y)²], both heads mixed by the one online mixer.
- Actor (``loss/pi``): −E[Q¹_i(o_i, a_ξ(o_i, D(o_i, z)))] per agent, Q¹ frozen and D's output detached (the cited
  code steps only ξ's optimiser on this loss), so it trains ξ alone.
- Acting: per agent, the best under Q¹_i of ``eval_samples`` perturbed decoded actions, with fixed latent draws
  (evaluation is deterministic).

Hyperparameters (:class:`~omiga.methods.options.BcqOptions`): Φ = 0.05, λ = 0.75, K = 10 at the target and 100
when acting (the paper and the cited code). Differences from the original, and why: every network has the
trainer's ``NetworkConfig.hidden`` width (the paper: 400-300 critics and actor, 750-750 VAE; one width keeps a
population's shapes uniform); the latent has 2·act_dim dimensions as the paper (the cited code uses 2·N, a
slip); one learning rate and the per-group gradient clipping of the trainer (groups q, xi, vae), as every
method here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import q_loss
from omiga.methods.common import best_sampled_actions, member_mean
from omiga.methods.noise import MemberNoise
from omiga.methods.options import BcqOptions
from omiga.networks import ActionSpace, PopulationNetworks, per_sample_call
from omiga.stacked import StackedMLP

__all__ = ["LATENT_CLIP", "BcqNetworks", "clipped_double_q", "continuous_act", "continuous_losses",
           "perturb", "vae_elbo_loss"]

LATENT_CLIP = 0.5
"""Decoding draws z ∼ N(0, 1) clipped to ±0.5 (the paper's code)."""
LOG_STD_BOUNDS = (-4.0, 15.0)
"""Clamp of the encoder's log σ (the paper's code)."""
KL_WEIGHT = 0.5
"""Weight of the KL term of the ELBO (the paper's code)."""
STREAMS = {"target_latent": 0, "vae": 1, "actor_latent": 2}
"""Noise streams of one step."""


class BcqNetworks(nn.Module):
    """Q², ξ, the VAE's encoder and decoder (stacked over members, shared across agents) and targets of Q², ξ."""

    def __init__(self, space: ActionSpace, generators: Sequence[torch.Generator], *, hidden: int):
        super().__init__()
        obs_dim, act_dim, n_agents = space.obs_dim, space.act_dim, space.n_agents
        self.latent_dim = 2 * act_dim
        self.q2 = StackedMLP(obs_dim + act_dim, n_agents, hidden, 1, generators=generators)
        self.perturbation = StackedMLP(obs_dim + act_dim, n_agents, hidden, act_dim, generators=generators)
        self.encoder = StackedMLP(obs_dim + act_dim, n_agents, hidden, 2 * self.latent_dim, generators=generators)
        self.decoder = StackedMLP(obs_dim + self.latent_dim, n_agents, hidden, act_dim, generators=generators)
        self.q2_target = copy.deepcopy(self.q2).requires_grad_(False)
        self.perturbation_target = copy.deepcopy(self.perturbation).requires_grad_(False)

    def optimised_groups(self) -> dict[str, list[nn.Parameter]]:
        """Q² joins the q group (after Q¹ and the mixer); ξ and the VAE are groups of their own."""
        return {"q": list(self.q2.parameters()), "xi": list(self.perturbation.parameters()),
                "vae": list(self.encoder.parameters()) + list(self.decoder.parameters())}

    def target_groups(self) -> dict[str, list[nn.Parameter]]:
        """Targets of Q² (appended to the q group's) and of ξ."""
        return {"q": list(self.q2_target.parameters()), "xi": list(self.perturbation_target.parameters())}


def vae_elbo_loss(*, reconstruction: torch.Tensor, actions: torch.Tensor, mean: torch.Tensor,
                  log_std: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """mean‖D(o, z) − a‖² + 0.5 · KL(N(μ, σ²) ‖ N(0, 1)) per member ``[M]``; the KL averaged over latent entries.

    ``reconstruction``, ``actions`` ``[M, B, N, d]``; ``mean``, ``log_std`` ``[M, B, N, latent]`` (clamped by the
    caller). KL per entry = −½ (1 + 2 log σ − μ² − σ²).
    """
    recon = member_mean((reconstruction - actions) ** 2)
    kl = member_mean(-0.5 * (1.0 + 2.0 * log_std - mean**2 - torch.exp(2.0 * log_std)))
    return recon + KL_WEIGHT * kl, {"loss/vae_recon": recon.detach(), "loss/vae_kl": kl.detach()}


def perturb(*, actions: torch.Tensor, raw: torch.Tensor, phi: float, max_action: float = 1.0) -> torch.Tensor:
    """a_ξ = clamp(a + Φ · max_action · tanh(raw), ±max_action): ‖a_ξ − a‖_∞ ≤ Φ · max_action."""
    return (actions + phi * max_action * torch.tanh(raw)).clamp(-max_action, max_action)


def clipped_double_q(q1: torch.Tensor, q2: torch.Tensor, *, min_weight: float) -> torch.Tensor:
    """λ min(Q¹, Q²) + (1 − λ) max(Q¹, Q²), elementwise."""
    return min_weight * torch.minimum(q1, q2) + (1.0 - min_weight) * torch.maximum(q1, q2)


def _decode(extra: BcqNetworks, obs: torch.Tensor, latent: torch.Tensor) -> torch.Tensor:
    """D(o, z) for K latents per observation: ``latent [M, B, K, N, latent]`` -> ``[M, B, K, N, d]``."""
    return torch.tanh(per_sample_call(extra.decoder, obs, latent))


def _perturbed(net: nn.Module, obs: torch.Tensor, actions: torch.Tensor, phi: float, *,
               frozen: bool = False) -> torch.Tensor:
    """a_ξ(o, a) of K actions per observation ``[M, B, K, N, d]``."""
    return perturb(actions=actions, raw=per_sample_call(net, obs, actions, frozen=frozen), phi=phi)


def _latents(noise: MemberNoise, shape: tuple[int, ...], *, stream: int) -> torch.Tensor:
    return noise.normal(*shape, stream=stream).clamp(-LATENT_CLIP, LATENT_CLIP)


def continuous_losses(nets: PopulationNetworks, batch: Batch, config: TrainConfig,
                      options: BcqOptions) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/q`` (both heads), ``loss/vae`` and ``loss/pi`` (ξ) of continuous BCQ-MA ``[M]``."""
    extra, noise = nets.extra, batch.noise
    _, size, n_agents, _ = batch.actions.shape
    with torch.no_grad():
        latent = _latents(noise, (size, options.n_samples, n_agents, extra.latent_dim), stream=STREAMS["target_latent"])
        next_actions = _perturbed(extra.perturbation_target, batch.next_obs, _decode(extra, batch.next_obs, latent),
                                  options.phi)
        q1 = per_sample_call(nets.q_target, batch.next_obs, next_actions).squeeze(-1)
        q2 = per_sample_call(extra.q2_target, batch.next_obs, next_actions).squeeze(-1)
        next_q = clipped_double_q(q1, q2, min_weight=options.min_weight).amax(dim=2)  # [M, B, N]
        next_q_tot = nets.mixer_target(next_q, batch.next_state).q_tot
    data = batch.actions.unsqueeze(2)
    heads = (nets.q_values(batch.obs, batch.actions), per_sample_call(extra.q2, batch.obs, data)[:, :, 0, :, 0])
    loss_q, diagnostics = 0.0, {}
    for head, q in zip(("q1", "q2"), heads):
        loss, diag = q_loss(q_tot=nets.mixer(q, batch.state).q_tot, rewards=batch.rewards, terminals=batch.terminals,
                            next_v_tot=next_q_tot, gamma=config.gamma)
        loss_q = loss_q + loss
        diagnostics.update({f"{key}_{head}": value for key, value in diag.items()})
    encoded = per_sample_call(extra.encoder, batch.obs, data)[:, :, 0]
    mean, log_std = encoded.chunk(2, dim=-1)
    log_std = log_std.clamp(*LOG_STD_BOUNDS)
    z = mean + torch.exp(log_std) * noise.normal(*mean.shape[1:], stream=STREAMS["vae"])
    loss_vae, diag_vae = vae_elbo_loss(reconstruction=_decode(extra, batch.obs, z.unsqueeze(2))[:, :, 0],
                                       actions=batch.actions, mean=mean, log_std=log_std)
    with torch.no_grad():
        decoded = _decode(extra, batch.obs, _latents(noise, (size, 1, n_agents, extra.latent_dim),
                                                     stream=STREAMS["actor_latent"]))
    actor_actions = _perturbed(extra.perturbation, batch.obs, decoded, options.phi)
    q_actor = nets.q_values_of_samples(batch.obs, actor_actions, frozen=True)
    loss_pi = -member_mean(q_actor)
    return ({"loss/q": loss_q, "loss/vae": loss_vae, "loss/pi": loss_pi},
            {**diagnostics, **diag_vae, "value/q_pi": loss_pi.detach().neg()})


@torch.no_grad()
def continuous_act(nets: PopulationNetworks, obs: torch.Tensor, options: BcqOptions) -> torch.Tensor:
    """Per agent, the best under Q¹ of ``eval_samples`` perturbed decoded actions, ``[M, E, N, d]``."""
    extra = nets.extra
    n_members, n_envs, n_agents, _ = obs.shape
    fixed = MemberNoise(keys=torch.zeros(n_members, dtype=torch.int64, device=obs.device), step=0)
    latent = _latents(fixed, (n_envs, options.eval_samples, n_agents, extra.latent_dim), stream=0)
    candidates = _perturbed(extra.perturbation, obs, _decode(extra, obs, latent), options.phi)
    best, _ = best_sampled_actions(actions=candidates, q=nets.q_values_of_samples(obs, candidates))
    return best
