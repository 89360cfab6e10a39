"""The full floor of one OMIGA step: its matrix products plus the memory passes every implementation makes.

Besides the products (:mod:`benchmarks.matmul_floor`), a step of M members must at least read and write every
parameter a few times: one fused Adam step over the trained parameters (V, Q + mixer, π), the per-member
gradient-norm clipping of each of the three groups, and the soft update of the targets (V̄, Q̄ + mixer). Timed
together on buffers of the real networks' parameter counts (:func:`parameter_counts`), these bound the steps/s of
any implementation of the same step from above, more tightly than the products alone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from benchmarks.matmul_floor import Product, step_products_runner

__all__ = ["parameter_counts", "step_floor_runner"]


def parameter_counts(*, n_agents: int, obs_dim: int, state_dim: int, hidden: int, mixer: str = "linear",
                     mixer_hidden: int | None = None, act_dim: int | None = None,
                     n_actions: int | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Per member: the trained groups' parameter counts (``pi``, ``q`` with the mixer, ``v``) and the targets'."""
    from omiga.config import NetworkConfig
    from omiga.networks import ActionSpace, PopulationNetworks
    from omiga.stacked import member_generators

    network = NetworkConfig(hidden=hidden) if mixer_hidden is None else NetworkConfig(hidden=hidden,
                                                                                     mixer_hidden=mixer_hidden)
    space = ActionSpace(n_agents=n_agents, obs_dim=obs_dim, state_dim=state_dim, n_actions=n_actions,
                        act_dim=act_dim)
    nets = PopulationNetworks(space, network=network, mixer=mixer, generators=member_generators([0], "init"))
    count = lambda groups: {name: sum(p.numel() for p in params) for name, params in groups.items()}
    return count(nets.optimised_groups()), count(nets.target_groups())


def step_floor_runner(products: list[Product], *, members: int, trained: dict[str, int], targets: dict[str, int],
                      dtype: torch.dtype = torch.float32, device: str = "cpu", max_norm: float = 10.0,
                      tau: float = 0.005) -> Callable[[], None]:
    """A callable that runs one step's ``products`` and then the parameter passes: per-member clipping of each
    trained group's ``[M, P]`` gradient, one fused Adam step over the groups, and the soft update of the targets."""
    products_step = step_products_runner(products, members=members, dtype=dtype, device=device)
    params = [torch.zeros(members, size, device=device, requires_grad=True) for size in trained.values()]
    for param in params:
        param.grad = torch.randn_like(param)
    optimizer = torch.optim.Adam(params, lr=3e-4, fused=True)
    online = [torch.randn(members, size, device=device) for size in targets.values()]
    target = [torch.randn(members, size, device=device) for size in targets.values()]

    def step() -> None:
        products_step()
        for param in params:
            norm = torch.linalg.vector_norm(param.grad, dim=1, keepdim=True)
            param.grad.mul_((max_norm / (norm + 1e-6)).clamp_(max=1.0))
        optimizer.step()
        torch._foreach_lerp_(target, online, tau)
    return step
