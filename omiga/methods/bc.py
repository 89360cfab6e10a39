"""Behaviour cloning per agent: maximise log π_i(a_i | o_i) of the dataset actions (α is ignored)."""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.config import TrainConfig
from omiga.losses import bc_loss
from omiga.networks import PopulationNetworks
from omiga.population import MemberTensors

__all__ = ["compute_losses"]


def compute_losses(nets: PopulationNetworks, batch: Batch, members: MemberTensors,
                   config: TrainConfig) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per-member ``loss/pi`` (negative log-likelihood, masked categorical or tanh-Gaussian) ``[M]``."""
    log_prob = nets.policy_log_prob(batch.obs, batch.actions, batch.avail_actions)
    loss, diagnostics = bc_loss(log_prob=log_prob)
    return {"loss/pi": loss}, diagnostics
