"""The losses of one training step and the gradient of their sum, by autograd (:class:`EagerGradients`).

The trainer asks a gradients object for the method's per-member losses; the object leaves the gradient of their
sum in the flat parameter buffers' ``.grad`` (:mod:`omiga.flat`). Eagerly that is ``zero_grad`` and one backward
pass (members share no parameter, so each gets exactly its own gradient); :class:`omiga.compiled.CompiledGradients`
computes the same as one compiled graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from omiga.flat import FlatGroups

__all__ = ["EagerGradients"]


class EagerGradients:
    """``rule(nets, *args)``'s losses under optional bfloat16 autocast, and their gradient by one backward pass.

    ``autocast_cache=False`` turns off autocast's weight cache (a CUDA graph capture requires it off).
    """

    def __init__(self, *, nets: nn.Module, rule: Callable[..., Any], params: FlatGroups, device_type: str,
                 bfloat16: bool, autocast_cache: bool = True):
        self._nets, self._rule, self._params = nets, rule, params
        self._device_type, self._bfloat16, self._autocast_cache = device_type, bfloat16, autocast_cache

    def __call__(self, *args: Any) -> dict[str, torch.Tensor]:
        """The detached losses ``[M]`` by name; the gradient of their sum is left in the buffers' ``.grad``."""
        with torch.autocast(device_type=self._device_type, dtype=torch.bfloat16, enabled=self._bfloat16,
                            cache_enabled=self._autocast_cache):
            losses, _ = self._rule(self._nets, *args)
        self._params.zero_grad()
        torch.stack(list(losses.values())).sum().backward()
        return {name: loss.detach() for name, loss in losses.items()}
