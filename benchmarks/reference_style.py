"""A single OMIGA run written the way the official code is structured, as the speed baseline of the benchmark.

Plain ``nn.Module`` networks (V, Q, actor, mixer), deep-copied targets, the one-hot agent id concatenated to
every input, three Adam optimisers each with its own backward pass and ``clip_grad_norm_``, and a Python loop
over parameters for the soft target updates. Written for this project (not copied); continuous actions only
(the HalfCheetah-like shapes), since the comparison needs one representative shape.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ReferenceStyleOmiga"]


def _mlp(in_features: int, hidden: int, out_features: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, out_features))


class _Mixer(nn.Module):
    def __init__(self, state_dim: int, n_agents: int, hidden: int):
        super().__init__()
        self.f = nn.Linear(state_dim, hidden)
        self.w = nn.Linear(hidden, n_agents)
        self.b = nn.Linear(hidden, 1)

    def forward(self, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.f(state))
        return self.w(h).abs().unsqueeze(-1), self.b(h).unsqueeze(-1)  # [B, N, 1], [B, 1, 1]


class ReferenceStyleOmiga:
    """One OMIGA learner on tensors ``obs [B, N, obs_dim]``, ``actions [B, N, act_dim]``, ``state [B, S]``."""

    def __init__(self, *, n_agents: int, obs_dim: int, act_dim: int, state_dim: int, hidden: int = 256,
                 mixer_hidden: int = 64, alpha: float = 10.0, lr: float = 5e-4, gamma: float = 0.99,
                 tau: float = 0.005, grad_clip: float = 1.0, device: str = "cpu"):
        self.n_agents, self.alpha, self.gamma, self.tau, self.grad_clip = n_agents, alpha, gamma, tau, grad_clip
        self.device = device
        self.v = _mlp(obs_dim + n_agents, hidden, 1).to(device)
        self.q = _mlp(obs_dim + act_dim + n_agents, hidden, 1).to(device)
        self.actor = _mlp(obs_dim + n_agents, hidden, 2 * act_dim).to(device)
        self.mixer = _Mixer(state_dim, n_agents, mixer_hidden).to(device)
        self.v_target, self.q_target, self.mixer_target = (copy.deepcopy(m) for m in (self.v, self.q, self.mixer))
        self.q_params = list(self.q.parameters()) + list(self.mixer.parameters())
        self.optimizers = {"v": torch.optim.Adam(self.v.parameters(), lr), "q": torch.optim.Adam(self.q_params, lr),
                           "pi": torch.optim.Adam(self.actor.parameters(), lr)}

    def _log_density(self, x: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.actor(x).chunk(2, dim=-1)
        mean, log_std = mean.clamp(-9.0, 9.0), log_std.clamp(-5.0, 2.0)
        y = torch.atanh(actions.clamp(-1 + 1e-6, 1 - 1e-6))
        log_p = torch.distributions.Normal(mean, log_std.exp()).log_prob(y).sum(-1)
        return log_p - (2 * (math.log(2) - y - F.softplus(-2 * y))).sum(-1)

    def train_step(self, obs, actions, state, rewards, terminals, next_obs, next_state) -> dict[str, float]:
        batch = obs.shape[0]
        ids = torch.eye(self.n_agents).expand(batch, -1, -1).to(self.device)  # as the official code, every step
        o_id, o_a_id = torch.cat([obs, ids], -1), torch.cat([obs, actions, ids], -1)
        next_o_id = torch.cat([next_obs, ids], -1)
        # Q step (Eq. 14)
        w, b = self.mixer(state)
        q_tot = (w * self.q(o_a_id)).sum(-2) + b.squeeze(-1)
        with torch.no_grad():
            w_next, b_next = self.mixer_target(next_state)
            v_next_tot = (w_next * self.v_target(next_o_id)).sum(-2) + b_next.squeeze(-1)
            target = rewards.unsqueeze(-1) + self.gamma * (1 - terminals.unsqueeze(-1)) * v_next_tot
            q_bar = self.q_target(o_a_id)
            w_bar, _ = self.mixer_target(state)
        q_loss = ((q_tot - target) ** 2).mean()
        # V step (Eq. 13, rescaled by exp(-max z)) and π step (Eq. 15)
        v = self.v(o_id)
        z = w_bar * (q_bar - v) / self.alpha
        shift = z.max().detach().clamp(min=-1.0)
        v_loss = (torch.exp(z - shift) + torch.exp(-shift) * w_bar * v / self.alpha).mean()
        weights = torch.exp(z.detach().clamp(max=10.0)).squeeze(-1)
        pi_loss = -(weights * self._log_density(o_id, actions)).mean()
        for name, loss, params in (("pi", pi_loss, self.actor.parameters()), ("q", q_loss, self.q_params),
                                   ("v", v_loss, self.v.parameters())):
            self.optimizers[name].zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, self.grad_clip)
            self.optimizers[name].step()
        with torch.no_grad():
            for online, target in ((self.q, self.q_target), (self.mixer, self.mixer_target), (self.v, self.v_target)):
                for p, p_target in zip(online.parameters(), target.parameters()):
                    p_target.copy_(self.tau * p + (1 - self.tau) * p_target)
        return {"loss/q": q_loss.item(), "loss/v": v_loss.item(), "loss/pi": pi_loss.item()}
