"""OMIGA's per-agent networks for a population: V_i(o_i), Q_i(o_i, a_i) (with target copies) and π_i(a_i | o_i).

Parameters are shared across agents, with a one-hot agent id appended to the input (as the paper's code
does), and stacked over members (see :mod:`omiga.stacked`). Two hidden layers of ``NetworkConfig.hidden``
units with ReLU.

- Discrete actions: ``Q_i(o_i, ·)`` is one head over the A actions, gathered at the dataset action; the
  policy is categorical over logits with unavailable actions masked to −inf.
- Continuous actions: Q takes ``[o_i, a_i]`` as input; the policy is a tanh-squashed Gaussian whose
  log-density of a dataset action is computed after clamping it to ±(1 − eps) (no inf at the bounds).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from omiga.config import NetworkConfig
from omiga.mixers import make_mixer
from omiga.stacked import StackedMLP

__all__ = [
    "ACTION_EPS",
    "LOG_STD_MAX",
    "LOG_STD_MIN",
    "MEAN_BOUND",
    "ActionSpace",
    "PopulationNetworks",
    "categorical_log_prob",
    "frozen_call",
    "per_sample_call",
    "pre_tanh_log_prob",
    "sample_tanh_gaussian",
    "tanh_gaussian_log_prob",
]

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
"""Clamp of the Gaussian's log standard deviation (the reference's values)."""
MEAN_BOUND = 9.0
"""Clamp of the Gaussian's pre-tanh mean (the reference's value)."""
ACTION_EPS = 1e-6
"""Dataset actions are clamped to ±(1 − ACTION_EPS) before atanh."""


@dataclass(frozen=True)
class ActionSpace:
    """Discrete (``n_actions``) or continuous (``act_dim``) actions of every agent."""

    n_agents: int
    obs_dim: int
    state_dim: int
    n_actions: int | None = None
    act_dim: int | None = None

    @property
    def discrete(self) -> bool:
        return self.n_actions is not None


def categorical_log_prob(logits: torch.Tensor, actions: torch.Tensor, avail: torch.Tensor | None) -> torch.Tensor:
    """log π(a | o) of a categorical over ``logits [..., A]`` with unavailable actions at −inf; ``actions [...]``."""
    if avail is not None:
        logits = logits.masked_fill(~avail, float("-inf"))
    return torch.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def tanh_gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log-density of ``actions [..., act_dim]`` under tanh(N(mean, exp(log_std))), summed over act_dim.

    With y = atanh(clamp(a, ±(1 − eps))): log N(y; mean, std) − log(1 − tanh(y)²), where the Jacobian term
    uses the stable identity log(1 − tanh(y)²) = 2 (log 2 − y − softplus(−2y)).
    """
    mean = mean.clamp(-MEAN_BOUND, MEAN_BOUND)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    y = torch.atanh(actions.clamp(-1.0 + ACTION_EPS, 1.0 - ACTION_EPS))
    return pre_tanh_log_prob(y, mean, log_std)


def pre_tanh_log_prob(y: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log-density of the action tanh(y) under tanh(N(mean, exp(log_std))) (clamped inputs), summed over act_dim."""
    gaussian = -0.5 * ((y - mean) * torch.exp(-log_std)) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    jacobian = 2.0 * (math.log(2.0) - y - F.softplus(-2.0 * y))
    return (gaussian - jacobian).sum(-1)


def sample_tanh_gaussian(mean: torch.Tensor, log_std: torch.Tensor,
                         normal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterised samples a = tanh(mean + std · ε) and their log-density.

    ``mean, log_std [M, B, N, act_dim]`` (clamped here), ``normal`` ε ``[M, B, K, N, act_dim]``; returns
    actions ``[M, B, K, N, act_dim]`` and log π ``[M, B, K, N]`` (differentiable in mean and log_std).
    """
    mean = mean.clamp(-MEAN_BOUND, MEAN_BOUND).unsqueeze(2)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).unsqueeze(2)
    y = mean + torch.exp(log_std) * normal
    return torch.tanh(y), pre_tanh_log_prob(y, mean, log_std)


def _extended(groups: dict[str, list[nn.Parameter]],
              extra: dict[str, list[nn.Parameter]] | None) -> dict[str, list[nn.Parameter]]:
    """``groups`` with ``extra``'s parameter lists appended to the group of the same name (or added as new ones)."""
    for name, params in (extra or {}).items():
        groups[name] = groups.get(name, []) + list(params)
    return groups


def frozen_call(module: nn.Module, *args: torch.Tensor):
    """``module(*args)`` with its parameters detached: the output's gradient reaches the inputs only."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return torch.func.functional_call(module, params, args)


def per_sample_call(net: nn.Module, obs: torch.Tensor, samples: torch.Tensor, *, frozen: bool = False) -> torch.Tensor:
    """``net([o_i, x_k])`` for K inputs per observation: ``obs [M, B, N, d_o]``, ``samples [M, B, K, N, d_x]`` ->
    ``[M, B, K, N, out]`` (``frozen``: the net's parameters detached, gradients reach the inputs only)."""
    n_members, batch, count, n_agents, _ = samples.shape
    inputs = torch.cat([obs.unsqueeze(2).expand(-1, -1, count, -1, -1), samples], dim=-1)
    inputs = inputs.reshape(n_members, batch * count, n_agents, -1)
    out = frozen_call(net, inputs) if frozen else net(inputs)
    return out.view(n_members, batch, count, n_agents, -1)


class PopulationNetworks(nn.Module):
    """V, Q, policy and mixer of M members, with target copies of V, Q and the mixer.

    Shapes: ``obs [M, B, N, obs_dim]``, ``actions [M, B, N]`` (int64) or ``[M, B, N, act_dim]``,
    ``avail [M, B, N, A]`` bool, ``state [M, B, state_dim]``. Member m is initialised from ``generators[m]``
    in a fixed order (Q, V, policy, mixer, then ``extra``), independent of the other members.

    ``extra(generators)`` builds a method's own networks (continuous BCQ's second Q, VAE and perturbation network;
    :func:`omiga.methods.get_extra_networks`), after the shared ones, from the same generators. They expose
    ``optimised_groups()`` and ``target_groups()`` like this class; a group of an existing name (``q``) extends
    it, parameter lists appended in order, so that online and target groups stay aligned.
    """

    def __init__(self, space: ActionSpace, *, network: NetworkConfig, mixer: str,
                 generators: Sequence[torch.Generator],
                 extra: Callable[[Sequence[torch.Generator]], nn.Module] | None = None):
        super().__init__()
        self.space = space
        n, hidden = space.n_agents, network.hidden
        if space.discrete:
            q_in, q_out, pi_out = space.obs_dim, space.n_actions, space.n_actions
        else:
            q_in, q_out, pi_out = space.obs_dim + space.act_dim, 1, 2 * space.act_dim
        self.q = StackedMLP(q_in, n, hidden, q_out, generators=generators)
        self.v = StackedMLP(space.obs_dim, n, hidden, 1, generators=generators)
        self.policy = StackedMLP(space.obs_dim, n, hidden, pi_out, generators=generators)
        self.mixer = make_mixer(mixer, n_agents=n, state_dim=space.state_dim, hidden=network.mixer_hidden,
                                generators=generators)
        self.q_target = copy.deepcopy(self.q).requires_grad_(False)
        self.v_target = copy.deepcopy(self.v).requires_grad_(False)
        self.mixer_target = copy.deepcopy(self.mixer).requires_grad_(False)
        self.extra = None if extra is None else extra(generators)

    @property
    def n_members(self) -> int:
        return int(self.v.head.weight.shape[0])

    def optimised_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups clipped separately, as the reference's three optimisers: pi, q (+ mixer), v (and the
        extra networks' groups)."""
        groups = {"pi": list(self.policy.parameters()),
                  "q": list(self.q.parameters()) + list(self.mixer.parameters()),
                  "v": list(self.v.parameters())}
        return _extended(groups, None if self.extra is None else self.extra.optimised_groups())

    def target_groups(self) -> dict[str, list[nn.Parameter]]:
        """The target copies of :meth:`optimised_groups`' ``q`` and ``v`` groups, parameter for parameter."""
        groups = {"q": list(self.q_target.parameters()) + list(self.mixer_target.parameters()),
                  "v": list(self.v_target.parameters())}
        return _extended(groups, None if self.extra is None else self.extra.target_groups())

    def q_values(self, obs: torch.Tensor, actions: torch.Tensor, *, target: bool = False) -> torch.Tensor:
        """Q_i(o_i, a_i) of the dataset actions, ``[M, B, N]``."""
        net = self.q_target if target else self.q
        if self.space.discrete:
            return net(obs).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return net(torch.cat([obs, actions], dim=-1)).squeeze(-1)

    def q_values_of_samples(self, obs: torch.Tensor, actions: torch.Tensor, *, target: bool = False,
                            frozen: bool = False) -> torch.Tensor:
        """Continuous Q_i(o_i, a_k) of K actions per observation: ``actions [M, B, K, N, act_dim]`` -> ``[M, B, K, N]``.

        ``frozen=True`` evaluates the online Q with detached parameters: gradients reach the actions only.
        """
        return per_sample_call(self.q_target if target else self.q, obs, actions, frozen=frozen).squeeze(-1)

    def policy_samples(self, obs: torch.Tensor, normal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised tanh-Gaussian actions ``[M, B, K, N, act_dim]`` and log π ``[M, B, K, N]``."""
        mean, log_std = self.policy(obs).chunk(2, dim=-1)
        return sample_tanh_gaussian(mean, log_std, normal)

    def v_values(self, obs: torch.Tensor, *, target: bool = False) -> torch.Tensor:
        """V_i(o_i), ``[M, B, N]``."""
        return (self.v_target if target else self.v)(obs).squeeze(-1)

    def policy_log_prob(self, obs: torch.Tensor, actions: torch.Tensor, avail: torch.Tensor | None) -> torch.Tensor:
        """log π_i(a_i | o_i) of the dataset actions, ``[M, B, N]``."""
        out = self.policy(obs)
        if self.space.discrete:
            return categorical_log_prob(out, actions, avail)
        mean, log_std = out.chunk(2, dim=-1)
        return tanh_gaussian_log_prob(mean, log_std, actions)

    @torch.no_grad()
    def greedy_actions(self, obs: torch.Tensor, avail: torch.Tensor | None) -> torch.Tensor:
        """Deterministic actions: argmax of the masked logits ``[M, E, N]`` or tanh(mean) ``[M, E, N, act_dim]``."""
        out = self.policy(obs)
        if self.space.discrete:
            logits = torch.nan_to_num(out, nan=0.0)
            if avail is not None:
                logits = logits.masked_fill(~avail, float("-inf"))
            return logits.argmax(-1)
        mean = out[..., : self.space.act_dim]
        return torch.tanh(torch.nan_to_num(mean, nan=0.0).clamp(-MEAN_BOUND, MEAN_BOUND))
