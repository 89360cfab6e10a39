"""Layers whose every parameter carries a leading member dimension: M independent networks in one tensor.

A :class:`StackedLinear` holds ``weight [M, in, out]`` and ``bias [M, 1, out]`` and maps ``x [M, R, in]`` to
``[M, R, out]`` with one ``torch.baddbmm``. Member m is initialised from its own generator exactly as
``torch.nn.Linear`` would initialise a solo layer (weights and biases uniform in ±1/sqrt(fan_in)), so member m of
a population starts bitwise equal to a solo run with the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["StackedLinear", "StackedMLP", "derive_seed", "member_generators"]

_PURPOSES = {"init": 0, "sample": 1}


def derive_seed(seed: int, purpose: str) -> int:
    """An independent 63-bit seed for one purpose (``init`` or ``sample``) of a member's seed."""
    state = np.random.SeedSequence([int(seed), _PURPOSES[purpose]]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def member_generators(seeds: Sequence[int], purpose: str) -> list[torch.Generator]:
    """One CPU ``torch.Generator`` per member, seeded from its seed and the purpose."""
    return [torch.Generator().manual_seed(derive_seed(seed, purpose)) for seed in seeds]


class StackedLinear(nn.Module):
    """M independent affine maps ``x [M, R, in] -> [M, R, out]``."""

    def __init__(self, in_features: int, out_features: int, *, generators: Sequence[torch.Generator]):
        super().__init__()
        n_members = len(generators)
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, 1, out_features))
        bound = 1.0 / in_features**0.5
        with torch.no_grad():
            for member, generator in enumerate(generators):  # init only: never inside a training step
                weight = torch.rand(out_features, in_features, generator=generator) * (2 * bound) - bound
                bias = torch.rand(out_features, generator=generator) * (2 * bound) - bound
                self.weight[member].copy_(weight.T)
                self.bias[member, 0].copy_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.out_features == 1:  # a batched mat-vec is faster as multiply-and-sum on CPU (forward + backward)
            return (x * self.weight.transpose(1, 2).to(x.dtype)).sum(-1, keepdim=True) + self.bias
        return torch.baddbmm(self.bias, x, self.weight)


class StackedMLP(nn.Module):
    """Per-agent MLP ``[features, one-hot agent id] -> hidden -> hidden -> out`` with ReLU, stacked over members.

    The input is the official code's ``[features, one-hot id]``, and ``layer1.weight`` holds the rows of both, but
    the one-hot part is never built: ``[x, e_i] W + b = x W_x + (W_id[i] + b)``, so the first layer is one ``bmm``
    over the features and the id rows enter as a per-agent bias (no copy of the wide input per network).
    """

    def __init__(self, in_features: int, n_agents: int, hidden: int, out_features: int, *,
                 generators: Sequence[torch.Generator]):
        super().__init__()
        self.in_features, self.n_agents = in_features, n_agents
        self.layer1 = StackedLinear(in_features + n_agents, hidden, generators=generators)
        self.layer2 = StackedLinear(hidden, hidden, generators=generators)
        self.head = StackedLinear(hidden, out_features, generators=generators)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [M, B, N, in] -> [M, B, N, out]`` (float32 even under bfloat16 autocast)."""
        n_members, batch, n_agents, features = x.shape
        # split, not two slices: its backward joins the two gradients by one cat (a slice's zero-fills a full copy)
        weight_x, weight_id = self.layer1.weight.split([features, n_agents], dim=1)
        agent_bias = (weight_id + self.layer1.bias).to(x.dtype)  # [M, N, hidden]: W_id[i] + b
        h = torch.bmm(x.reshape(n_members, batch * n_agents, features), weight_x.to(x.dtype))
        h = torch.relu_(h.view(n_members, batch, n_agents, -1).add_(agent_bias.unsqueeze(1)))
        h = h.view(n_members, batch * n_agents, -1)
        h = torch.relu_(self.layer2(h))
        return self.head(h).reshape(n_members, batch, n_agents, -1).float()
