"""Pieces the baselines share: masks over discrete actions, the TD target of a bootstrapped Q_tot, the
SAC-style actor loss, greedy actions of Q, and the per-member mean every loss ends with.

Shapes follow :mod:`omiga.losses`: per-agent values ``[M, B, N]``, per-action values ``[M, B, N, A]``,
totals ``[M, B]``; every loss is returned per member ``[M]``.
"""

from __future__ import annotations

import torch

from omiga.batch import Batch
from omiga.errors import ConfigError
from omiga.networks import PopulationNetworks

__all__ = [
    "actor_loss",
    "available_or_all",
    "best_sampled_actions",
    "greedy_q_actions",
    "mask_unavailable",
    "member_mean",
    "require_next_actions",
]


def member_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over every dimension but the first (members), ``[M]``."""
    return x.flatten(1).mean(1)


def available_or_all(avail: torch.Tensor | None) -> torch.Tensor | None:
    """``avail [..., A]`` with rows that allow no action replaced by all-True (a dead or padded agent)."""
    if avail is None:
        return None
    return avail | ~avail.any(-1, keepdim=True)


def mask_unavailable(values: torch.Tensor, avail: torch.Tensor | None) -> torch.Tensor:
    """``values [..., A]`` with unavailable actions at −inf (rows without any available action untouched)."""
    allowed = available_or_all(avail)
    return values if allowed is None else values.masked_fill(~allowed, float("-inf"))


def require_next_actions(batch: Batch) -> None:
    """In-sample targets need the dataset's next actions."""
    if batch.next_actions is None:
        raise ConfigError("this method needs Batch.next_actions (draw batches with omiga.batch.BatchSampler)")


def actor_loss(*, q_tot: torch.Tensor, log_prob: torch.Tensor, entropy: float) -> torch.Tensor:
    """SAC-style actor: min E[β log π(a_π | o) − Q_tot(s, a_π)] per member, ``q_tot [M, B]``, ``log_prob [M, B, N]``.

    Q_tot must be computed with frozen Q and mixer parameters (the actor's gradient reaches only π).
    """
    return entropy * member_mean(log_prob) - member_mean(q_tot)


@torch.no_grad()
def greedy_q_actions(nets: PopulationNetworks, obs: torch.Tensor, avail: torch.Tensor | None,
                     allowed: torch.Tensor | None = None) -> torch.Tensor:
    """argmax_a Q_i(o_i, a) over the available (and, if given, allowed) actions, ``[M, E, N]`` int64."""
    q = torch.nan_to_num(nets.q(obs), nan=0.0)
    q = mask_unavailable(q, avail)
    if allowed is not None:
        q = q.masked_fill(~allowed, float("-inf"))
    return q.argmax(-1)


def best_sampled_actions(*, actions: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per agent, the sample with the highest Q (NaN never wins): ``actions [M, B, K, N, d]``, ``q [M, B, K, N]``
    -> ``[M, B, N, d]``, ``[M, B, N]``."""
    best_q, index = torch.nan_to_num(q, nan=float("-inf")).max(dim=2)
    best = actions.gather(2, index[:, :, None, :, None].expand(-1, -1, 1, -1, actions.shape[-1])).squeeze(2)
    return best, best_q
