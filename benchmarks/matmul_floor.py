"""The matrix products of one OMIGA step, timed alone: an upper bound on the steps/s of any implementation.

A step of OMIGA (paper Section 4) evaluates five per-agent MLPs (V, Q and π, which are trained, and the
target copies V̄ on the next observations and Q̄) and back-propagates through the three trained ones. Whatever
else an implementation does, it must compute these products, so the time of the products alone, on the
same shapes and dtype, bounds its steps/s from above. Each MLP is ``in -> hidden -> hidden -> out`` over
``rows = batch x agents`` rows (the agents share weights), so per step:

- forward, five networks: ``[rows, in] @ [in, hidden]``, ``[rows, hidden] @ [hidden, hidden]``,
  ``[rows, hidden] @ [hidden, out]``;
- backward, three networks: the weight gradients ``xᵀ g`` of the three layers and the input gradients
  ``g Wᵀ`` of the head and the middle layer (the first layer's input is data: no gradient).

Left out, so that the bound is generous: the mixers' products (state -> 64 -> agents) and every product with
a side under ``MIN_SIDE`` (the matrix-vector products of one-unit heads, which an implementation may compute
by other means, e.g. multiply-and-sum). The products run as
``torch.bmm`` over a leading member dimension, each on its own operands (several sets, used in turn, so
that no operand stays hot in the cache across steps as none does in training).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["MIN_SIDE", "Product", "step_products", "step_products_runner"]

_OPERAND_SETS = 4
MIN_SIDE = 8
"""Products with a side shorter than this are left out of the bound."""


@dataclass(frozen=True)
class Product:
    """One batched product ``[M, m, k] @ [M, k, n]``; ``transposed_a``: the left operand is a ``[M, k, m]``
    tensor seen transposed (a weight gradient ``xᵀ g``)."""

    m: int
    k: int
    n: int
    transposed_a: bool = False

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def step_products(*, n_agents: int, obs_dim: int, batch: int = 128, hidden: int = 256,
                  act_dim: int | None = None, n_actions: int | None = None) -> list[Product]:
    """The products of one OMIGA step (per member) for continuous (``act_dim``) or discrete actions."""
    rows = batch * n_agents
    v_in = obs_dim + n_agents
    if n_actions is not None:
        q_in, q_out, pi_out = v_in, n_actions, n_actions
    else:
        q_in, q_out, pi_out = v_in + act_dim, 1, 2 * act_dim
    trained = [(v_in, 1), (q_in, q_out), (v_in, pi_out)]  # V, Q, π
    frozen = [(v_in, 1), (q_in, q_out)]  # V̄ (next observations), Q̄
    products = []
    for width_in, width_out in trained + frozen:
        products += [Product(rows, width_in, hidden), Product(rows, hidden, hidden), Product(rows, hidden, width_out)]
    for width_in, width_out in trained:
        products += [Product(hidden, rows, width_out, transposed_a=True), Product(rows, width_out, hidden),
                     Product(hidden, rows, hidden, transposed_a=True), Product(rows, hidden, hidden),
                     Product(width_in, rows, hidden, transposed_a=True)]
    return [p for p in products if min(p.m, p.k, p.n) >= MIN_SIDE]


def _operands(product: Product, members: int, dtype: torch.dtype, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    if product.transposed_a:
        left = torch.randn(members, product.k, product.m, dtype=dtype, device=device).transpose(1, 2)
    else:
        left = torch.randn(members, product.m, product.k, dtype=dtype, device=device)
    return left, torch.randn(members, product.k, product.n, dtype=dtype, device=device)


def step_products_runner(products: list[Product], *, members: int, dtype: torch.dtype,
                         device: str = "cpu") -> Callable[[], None]:
    """A callable that runs ``products`` (one step's) back to back, on the next of several operand sets."""
    sets = [[_operands(p, members, dtype, device) for p in products] for _ in range(_OPERAND_SETS)]
    turn = itertools.cycle(sets)

    def step() -> None:
        for left, right in next(turn):
            torch.bmm(left, right)
    return step
