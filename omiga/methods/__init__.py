"""Registry of update rules: ``TrainConfig.method`` names the module whose ``compute_losses`` the trainer calls.

An update rule is a function ``compute_losses(nets, batch, members, config) -> (losses, diagnostics)`` where
``losses`` maps namespaced names (``loss/q``, ``loss/v``, ``loss/pi``, ...) to per-member losses ``[M]`` and
``diagnostics`` maps names to detached ``[M]`` tensors. The trainer back-propagates the sum of all losses once:
each loss must only reach the parameters it is meant to train (detach targets inside the rule).

Adding a baseline: write ``omiga/methods/<name>.py`` with its pure loss functions and ``compute_losses``, and
add one line to :data:`METHOD_MODULES`. The trainer needs no edit.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from omiga.errors import UnknownNameError

__all__ = ["METHOD_MODULES", "get_update_rule", "method_names"]

METHOD_MODULES: dict[str, str] = {
    "omiga": "omiga.methods.omiga",
    "bc": "omiga.methods.bc",
}
"""Method name -> module exposing ``compute_losses`` (imported on first use)."""


def method_names() -> tuple[str, ...]:
    """Registered method names, sorted."""
    return tuple(sorted(METHOD_MODULES))


def get_update_rule(name: str) -> Callable[..., Any]:
    """The ``compute_losses`` function of method ``name``; UnknownNameError lists the known methods."""
    if name not in METHOD_MODULES:
        raise UnknownNameError("method", name, METHOD_MODULES)
    return importlib.import_module(METHOD_MODULES[name]).compute_losses
