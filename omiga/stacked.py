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

    The one-hot id is concatenated to the input (the official code's form), so the first layer is one
    ``baddbmm`` over contiguous weights, like the others.
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
        n_members, batch, n_agents, _ = x.shape
        agent_id = torch.eye(n_agents, dtype=x.dtype, device=x.device).expand(n_members, batch, -1, -1)
        x = torch.cat([x, agent_id], dim=-1).view(n_members, batch * n_agents, -1)
        h = torch.relu_(self.layer1(x))
        h = torch.relu_(self.layer2(h))
        return self.head(h).reshape(n_members, batch, n_agents, -1).float()
