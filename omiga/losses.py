"""OMIGA's losses (paper Section 4), one pure function per equation, for a population of M members.

Each function takes the networks' outputs for a batch and returns the loss of every member ``[M]`` (the mean
over the batch and the agents; members are independent, so the trainer back-propagates their sum) and a
small dict of detached diagnostics. Optimiser steps, clipping and target updates live in the trainer.

Shapes: ``q_target, v, w, log_prob [M, B, N]``; ``alpha [M]``; ``global_info [M]`` bool;
``q_tot, rewards, terminals, next_v_tot [M, B]``.
"""

from __future__ import annotations

import torch

__all__ = [
    "MAX_FLOOR",
    "advantage_exponent",
    "bc_loss",
    "local_weights",
    "policy_loss",
    "q_loss",
    "v_loss",
    "v_loss_unstabilised",
]

MAX_FLOOR = -1.0
"""The stabilising shift m of the V loss is never below this (as in the official code)."""


def _per_member(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).mean(1)


def local_weights(w: torch.Tensor, global_info: torch.Tensor) -> torch.Tensor:
    """The weights the V and π steps use: w_i(s), or 1 for members with ``global_info`` False."""
    return torch.where(global_info.view(-1, 1, 1), w, torch.ones_like(w))


def advantage_exponent(*, q_target: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                       alpha: torch.Tensor) -> torch.Tensor:
    """z_i = w_i (Q̄_i − V_i) / α, the exponent shared by Eq. 13 and Eq. 15, ``[M, B, N]``."""
    return w * (q_target - v) / alpha.view(-1, 1, 1)


def v_loss_unstabilised(*, q_target: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                        alpha: torch.Tensor) -> torch.Tensor:
    """Eq. 13 as written: E[exp(w (Q̄ − V)/α) + w V/α], per member ``[M]`` (overflows for large exponents)."""
    z = advantage_exponent(q_target=q_target, v=v, w=w, alpha=alpha)
    return _per_member(torch.exp(z) + w * v / alpha.view(-1, 1, 1))


def v_loss(*, q_target: torch.Tensor, v: torch.Tensor, w: torch.Tensor, alpha: torch.Tensor,
           global_info: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 13, the V step: min_V E_{(o,a)∼D}[exp(w_i (Q̄_i − V_i)/α) + w_i V_i / α], per member.

    Q̄ comes from the target Q network and w from the target mixer; both are detached here. Implemented form
    (log-sum-exp style): with z = w (Q̄ − V)/α and the detached per-member shift m = max(max_batch z, −1),

        L = E[exp(z − m) + exp(−m) w V / α] = exp(−m) · Eq. 13,

    i.e. the unstabilised value times a positive constant, so the minimiser (Prop. 4.4:
    V_i = (α/w_i) log E_μ exp(w_i Q_i/α)) and the gradient direction are those of Eq. 13. Unlike the official
    code, z is not clamped to [−10, 10] before this loss (the clamp would zero V's gradient where z > 10).
    """
    q_target, w = q_target.detach(), local_weights(w.detach(), global_info)
    z = advantage_exponent(q_target=q_target, v=v, w=w, alpha=alpha)
    shift = z.detach().flatten(1).amax(1).clamp(min=MAX_FLOOR).view(-1, 1, 1)
    loss = _per_member(torch.exp(z - shift) + torch.exp(-shift) * w * v / alpha.view(-1, 1, 1))
    return loss, {"value/v": _per_member(v.detach()), "value/z_max": shift.flatten()}


def q_loss(*, q_tot: torch.Tensor, rewards: torch.Tensor, terminals: torch.Tensor, next_v_tot: torch.Tensor,
           gamma: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 14, the Q step: min E[(r + γ (1 − d) V_tot(s′) − Q_tot(s, a))²], per member.

    Q_tot = Σ_i w_i(s) Q_i(o_i, a_i) + b(s) from the online mixer; V_tot(s′) = Σ_i w̄_i(s′) V̄_i(o′_i) + b̄(s′)
    from the target mixer and the target V network (as the reference code); the target is detached.
    """
    target = (rewards + gamma * (1.0 - terminals.to(rewards.dtype)) * next_v_tot).detach()
    loss = _per_member((q_tot - target) ** 2)
    return loss, {"value/q_tot": _per_member(q_tot.detach()), "value/q_target": _per_member(target)}


def policy_loss(*, log_prob: torch.Tensor, q_target: torch.Tensor, v: torch.Tensor, w: torch.Tensor,
                alpha: torch.Tensor, global_info: torch.Tensor,
                exp_clamp: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 15, the π step: max_π E_{(o,a)∼D}[exp(w_i (Q̄_i − V_i)/α) log π_i(a_i | o_i)], per member.

    The weights are detached and their exponent clamped to at most ``exp_clamp`` (the reference clamps to
    [−10, 10]; the lower clamp only matters below e^−10). Returns the negated objective.
    """
    w = local_weights(w.detach(), global_info)
    z = advantage_exponent(q_target=q_target.detach(), v=v.detach(), w=w, alpha=alpha)
    weights = torch.exp(z.clamp(max=exp_clamp))
    loss = -_per_member(weights * log_prob)
    return loss, {"weights/w_mean": _per_member(w), "weights/exp_mean": _per_member(weights),
                  "value/log_prob": _per_member(log_prob.detach())}


def bc_loss(*, log_prob: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Behaviour cloning: max E_{(o,a)∼D}[log π_i(a_i | o_i)] per agent, per member."""
    loss = -_per_member(log_prob)
    return loss, {"value/log_prob": -loss.detach()}
