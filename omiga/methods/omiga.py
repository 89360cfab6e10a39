"""OMIGA's update (paper Section 4): the Q step (Eq. 14), the V step (Eq. 13) and the π step (Eq. 15).

All three losses are computed from the same parameters (as in the official code, which builds every loss
before its first optimiser step); Q̄, w and V_tot(s′) come from the target networks without gradient.
"""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import policy_loss, q_loss, v_loss
from omiga.networks import PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["compute_losses"]


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member OMIGA losses ``loss/q``, ``loss/v``, ``loss/pi`` ``[M]`` and diagnostics."""
    with torch.no_grad():
        next_v = nets.v_values(batch.next_obs, target=True)
        next_v_tot = nets.mixer_target(next_v, batch.next_state).q_tot
        q_bar = nets.q_values(batch.obs, batch.actions, target=True)
        w_bar = nets.mixer_target(q_bar, batch.state).w
    q = nets.q_values(batch.obs, batch.actions)
    mixed = nets.mixer(q, batch.state)
    loss_q, diag_q = q_loss(q_tot=mixed.q_tot, rewards=batch.rewards, terminals=batch.terminals,
                            next_v_tot=next_v_tot, gamma=config.gamma)
    v = nets.v_values(batch.obs)
    loss_v, diag_v = v_loss(q_target=q_bar, v=v, w=w_bar, alpha=members.alpha, global_info=members.global_info)
    log_prob = nets.policy_log_prob(batch.obs, batch.actions, batch.avail_actions)
    loss_pi, diag_pi = policy_loss(log_prob=log_prob, q_target=q_bar, v=v, w=w_bar, alpha=members.alpha,
                                   global_info=members.global_info, exp_clamp=config.exp_clamp)
    return {"loss/q": loss_q, "loss/v": loss_v, "loss/pi": loss_pi}, {**diag_q, **diag_v, **diag_pi}
