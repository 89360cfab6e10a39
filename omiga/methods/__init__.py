"""Registry of update rules: ``TrainConfig.method`` names the module whose ``compute_losses`` the trainer calls.

An update rule is a function ``compute_losses(nets, batch, members, config) -> (losses, diagnostics)`` where
``losses`` maps namespaced names (``loss/q``, ``loss/v``, ``loss/pi``, ...) to per-member losses ``[M]`` and
``diagnostics`` maps names to detached ``[M]`` tensors. The trainer back-propagates the sum of all losses once:
each loss must only reach the parameters it is meant to train (detach targets inside the rule; evaluate Q
with frozen parameters where an actor maximises it). Randomness inside a rule comes from ``batch.noise``
(per member, a function of the member's seed and the step: member = solo run, and resume is exact).

A method module may also expose ``act(nets, obs, avail, *, config) -> actions`` when it acts differently from
the policy head (BCQ's filtered greedy Q, CQL's greedy Q on discrete tasks); :func:`get_action_rule` returns
it, and the evaluation policy uses it. A module may expose ``extra_networks(*, space, network)`` returning a
builder ``generators -> nn.Module`` of its own networks (continuous BCQ's VAE, ξ and second Q), or None;
:func:`get_extra_networks` returns it and the trainer hands it to :class:`~omiga.networks.PopulationNetworks`.
Method hyperparameters live in :mod:`omiga.methods.options`.

Adding a baseline: write ``omiga/methods/<name>.py`` with its pure loss functions and ``compute_losses``, add
one line to :data:`METHOD_MODULES` and :data:`METHOD_ACTION_KINDS`. The trainer needs no edit.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from omiga.errors import ConfigError, UnknownNameError

__all__ = ["METHOD_ACTION_KINDS", "METHOD_MODULES", "check_action_kind", "get_action_rule", "get_extra_networks",
           "get_update_rule", "method_names"]

METHOD_MODULES: dict[str, str] = {
    "omiga": "omiga.methods.omiga",
    "bc": "omiga.methods.bc",
    "bcq": "omiga.methods.bcq",
    "cql": "omiga.methods.cql",
    "icq": "omiga.methods.icq",
    "omar": "omiga.methods.omar",
}
"""Method name -> module exposing ``compute_losses`` (imported on first use)."""

METHOD_ACTION_KINDS: dict[str, tuple[str, ...]] = {
    "omiga": ("discrete", "continuous"),
    "bc": ("discrete", "continuous"),
    "bcq": ("discrete", "continuous"),
    "cql": ("discrete", "continuous"),
    "icq": ("discrete", "continuous"),
    "omar": ("discrete", "continuous"),
}
"""Method name -> the action kinds it supports (the study layer can filter its grid with this)."""


def method_names() -> tuple[str, ...]:
    """Registered method names, sorted."""
    return tuple(sorted(METHOD_MODULES))


def _module(name: str) -> Any:
    if name not in METHOD_MODULES:
        raise UnknownNameError("method", name, METHOD_MODULES)
    return importlib.import_module(METHOD_MODULES[name])


def get_update_rule(name: str) -> Callable[..., Any]:
    """The ``compute_losses`` function of method ``name``; UnknownNameError lists the known methods."""
    return _module(name).compute_losses


def get_action_rule(name: str, *, config: Any) -> Callable[..., Any] | None:
    """``act(nets, obs, avail)`` of method ``name`` bound to ``config``, or None for the policy head's actions."""
    act = getattr(_module(name), "act", None)
    return None if act is None else functools.partial(act, config=config)


def get_extra_networks(name: str, *, space: Any, network: Any) -> Callable[..., Any] | None:
    """The builder of method ``name``'s own networks for ``space`` (``generators -> nn.Module``), or None."""
    factory = getattr(_module(name), "extra_networks", None)
    return None if factory is None else factory(space=space, network=network)


def check_action_kind(name: str, *, discrete: bool) -> None:
    """ConfigError when method ``name`` does not support the dataset's action kind."""
    kind = "discrete" if discrete else "continuous"
    if name not in METHOD_ACTION_KINDS:
        raise UnknownNameError("method", name, METHOD_MODULES)
    if kind not in METHOD_ACTION_KINDS[name]:
        supported = [m for m in method_names() if kind in METHOD_ACTION_KINDS[m]]
        raise ConfigError(f"method {name!r} supports {' and '.join(METHOD_ACTION_KINDS[name])} actions only, "
                          f"but the dataset's actions are {kind}; use one of {', '.join(supported)}")
