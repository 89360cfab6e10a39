"""``TrainConfig.compile``: a method's losses and their gradient as one Inductor graph, errors made plain.

:class:`CompiledGradients` computes the losses of an update rule and the gradient of their sum as one function
of the flat parameter buffers (:mod:`omiga.flat`), compiled by ``torch.compile`` with ``fullgraph=True``. The
gradient comes from ``torch.func.grad`` with the networks' parameters swapped for views of the buffers
(``torch.func.functional_call``), so Dynamo traces the forward and the backward pass into one graph: a step
runs one compiled function, with no autograd engine, gradient accumulation or zeroing between its fused
kernels (the matrix products stay library calls), and writes the gradient into the buffers' ``.grad``. The
trainer's clipping, fused Adam and target update follow eagerly on the flat buffers: Inductor's own code for
them (tried) ran slower than torch's fused Adam kernel.

Shapes are static per population (``dynamic=False``): a population of another size, mixer, method or
precision compiles again, while a new population of the same shapes reuses the compiled code. One process
compiles up to :data:`RECOMPILE_LIMIT` variants (torch._dynamo's ``recompile_limit``, raised for this function
only); a trainer past it warns once and trains eagerly, with the same results.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch._dynamo.exc
import torch._inductor.exc
from torch import nn

from omiga.errors import ConfigError
from omiga.flat import FlatGroups, flat_views

__all__ = ["RECOMPILE_LIMIT", "CompiledGradients"]

_BUILD_ERRORS = (torch._dynamo.exc.BackendCompilerFailed, torch._inductor.exc.InductorError)

RECOMPILE_LIMIT = 64
"""Compiled variants (method × mixer × shapes × population size × precision × device) one process keeps."""


class _Losses(nn.Module):
    """The update rule as a module over the networks, so that ``functional_call`` can swap their parameters."""

    def __init__(self, nets: nn.Module, rule: Callable[..., Any]):
        super().__init__()
        self.nets, self.rule = nets, rule

    def forward(self, *args: Any) -> Any:
        return self.rule(self.nets, *args)


@dataclass(frozen=True)
class _Layout:
    """Where each parameter of the networks lives: per flat group, in order, its names in ``_Losses`` and its
    shapes (:func:`omiga.flat.flat_views`)."""

    groups: tuple[tuple[tuple[str, ...], tuple[tuple[int, ...], ...]], ...]

    @classmethod
    def of(cls, flat: FlatGroups, qualified: Mapping[nn.Parameter, str]) -> _Layout:
        return cls(tuple((tuple(qualified[p] for p in params), flat.shapes[group])
                         for group, params in flat.params.items()))

    def parameters(self, flats: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
        """Name -> view of the matching buffer in ``flats`` (one per group, in order)."""
        named = {}
        for (names, shapes), flat in zip(self.groups, flats, strict=True):
            named.update(zip(names, flat_views(flat, shapes), strict=True))
        return named


def _losses_and_gradients(losses_module: _Losses, layout: _Layout, target_layout: _Layout,
                          params: tuple[torch.Tensor, ...], grads: tuple[torch.Tensor, ...],
                          targets: tuple[torch.Tensor, ...], args: tuple[Any, ...],
                          autocast: tuple[str, bool]) -> dict[str, torch.Tensor]:
    """The losses and, written into ``grads`` (one ``[M, P]`` buffer per group of ``params``), the gradient of
    their sum. The gradient is taken per parameter view: one of the flat buffers would sum a buffer-sized
    slice per view."""
    frozen_targets = target_layout.parameters(targets)
    named = layout.parameters(params)
    names = tuple(named)

    def total_loss(*tensors: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with torch.autocast(device_type=autocast[0], dtype=torch.bfloat16, enabled=autocast[1]):
            losses, _ = torch.func.functional_call(losses_module, {**dict(zip(names, tensors)), **frozen_targets},
                                                   args)
        return torch.stack(list(losses.values())).sum(), {name: loss.detach() for name, loss in losses.items()}

    view_grads, losses = torch.func.grad(total_loss, argnums=tuple(range(len(names))), has_aux=True)(*named.values())
    by_name = dict(zip(names, view_grads, strict=True))
    for grad, (group_names, _) in zip(grads, layout.groups, strict=True):
        grad.copy_(torch.cat([by_name[name].flatten(1) for name in group_names], dim=1))
    return losses


_compiled_losses_and_gradients = torch.compile(_losses_and_gradients, dynamic=False, fullgraph=True)


class CompiledGradients:
    """The losses of an update rule and their gradient, as one compiled function of the flat buffers.

    Calling it with the rule's arguments after ``nets`` returns the detached losses ``[M]`` and leaves the
    gradient of their sum in ``params``' gradient buffers (overwritten, so no zeroing is needed), as ``eager``
    (an :class:`omiga.gradients.EagerGradients` of the same networks) would; the targets enter without
    gradient. Past :data:`RECOMPILE_LIMIT`, ``eager`` takes over.
    """

    def __init__(self, *, nets: nn.Module, rule: Callable[..., Any], params: FlatGroups, targets: FlatGroups,
                 bfloat16: bool, eager: Callable[..., dict[str, torch.Tensor]]):
        self._module = _Losses(nets, rule)
        qualified = {p: name for name, p in self._module.named_parameters()}
        self._layout, self._target_layout = _Layout.of(params, qualified), _Layout.of(targets, qualified)
        self._params, self._targets = params, targets
        device = next(iter(params.buffers.values())).device
        self._autocast = (device.type, bool(bfloat16))
        self._eager, self._compiling = eager, True

    def __call__(self, *args: Any) -> dict[str, torch.Tensor]:
        if not self._compiling:
            return self._eager(*args)
        buffers = self._params.buffers.values()
        try:
            with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT):
                return _compiled_losses_and_gradients(
                    self._module, self._layout, self._target_layout, tuple(b.detach() for b in buffers),
                    tuple(b.grad for b in buffers), tuple(self._targets.buffers.values()), args, self._autocast)
        except torch._dynamo.exc.FailOnRecompileLimitHit:
            warnings.warn(f"this process has compiled the training step for {RECOMPILE_LIMIT} different "
                          "populations (torch._dynamo's recompile limit); this one trains without compiling, with "
                          "the same results", RuntimeWarning, stacklevel=2)
            self._compiling = False
            return self._eager(*args)
        except _BUILD_ERRORS as error:
            text = str(error).strip()
            reason = text.splitlines()[0][:300] if text else type(error).__name__
            raise ConfigError(f"torch.compile could not build the training step ({reason}); install a C++ "
                              "compiler (g++) and the Python headers, or train without --compile") from error
