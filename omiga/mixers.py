"""Mixers: the global state's weighting of the agents' values, ``Q_tot = Σ_i w_i(s) Q_i + b(s)``.

Every mixer maps ``q [M, B, N]`` and ``state [M, B, state_dim]`` to a :class:`MixerOutput` with the total
``q_tot [M, B]``, the local weights ``w [M, B, N]`` (≥ 0) and the offset ``b [M, B]``. The V and π steps of
OMIGA need w, the Q step needs q_tot.

- ``linear`` (the paper's): h = ReLU(f(s)) with one hidden layer of ``mixer_hidden`` units,
  w = |W_w h + c_w|, b = W_b h + c_b; w and b do not depend on q.
- ``vdn``: w ≡ 1, b ≡ 0 (no parameters).
- ``qmix``: monotonic two-layer hypernetwork mixer, q_tot = |w2(s)| · ELU(q |W1(s)| + b1(s)) + b2(s), with
  embedding ``mixer_hidden``. Its local weights are the derivatives w_i = ∂Q_tot/∂Q_i at the given q, in closed
  form (|W1| diag(ELU'(h)) |w2|), and b is defined as the tangent offset b = Q_tot − Σ_i w_i Q_i, so that
  Q_tot = Σ w_i Q_i + b holds exactly at the given q. Callers detach w where the paper treats it as constant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from omiga.config import MIXER_NAMES
from omiga.errors import ConfigError, UnknownNameError
from omiga.stacked import StackedLinear

__all__ = ["MIXERS", "LinearMixer", "MixerOutput", "QmixMixer", "VdnMixer", "full_precision", "make_mixer"]


def full_precision(forward: Callable[..., MixerOutput]) -> Callable[..., MixerOutput]:
    """Run a mixer's forward in float32 even inside a bfloat16 autocast region (mixers are cheap)."""

    @functools.wraps(forward)
    def wrapped(self: nn.Module, q: torch.Tensor, state: torch.Tensor) -> MixerOutput:
        with torch.autocast(device_type=q.device.type, enabled=False):
            return forward(self, q.float(), state.float())
    return wrapped


class MixerOutput(NamedTuple):
    """``q_tot [M, B]``, local weights ``w [M, B, N]`` (≥ 0) and offset ``b [M, B]``."""

    q_tot: torch.Tensor
    w: torch.Tensor
    b: torch.Tensor


def _check_shapes(q: torch.Tensor, state: torch.Tensor, n_agents: int, state_dim: int) -> None:
    if q.ndim != 3 or q.shape[-1] != n_agents:
        raise ConfigError(f"mixer expects q of shape [M, B, {n_agents}], got {tuple(q.shape)}")
    if state.shape != (*q.shape[:2], state_dim):
        raise ConfigError(f"mixer expects state of shape [{q.shape[0]}, {q.shape[1]}, {state_dim}], "
                          f"got {tuple(state.shape)}")


class LinearMixer(nn.Module):
    """The paper's mixer: w(s) = |f_w(s)| and b(s) from one shared hidden layer of the state."""

    monotone = True

    def __init__(self, *, n_agents: int, state_dim: int, hidden: int, generators: Sequence[torch.Generator]):
        super().__init__()
        self.n_agents, self.state_dim = n_agents, state_dim
        self.hidden = StackedLinear(state_dim, hidden, generators=generators)
        self.weight_head = StackedLinear(hidden, n_agents, generators=generators)
        self.bias_head = StackedLinear(hidden, 1, generators=generators)

    @full_precision
    def forward(self, q: torch.Tensor, state: torch.Tensor) -> MixerOutput:
        _check_shapes(q, state, self.n_agents, self.state_dim)
        h = torch.relu(self.hidden(state))
        w = self.weight_head(h).abs()
        b = self.bias_head(h).squeeze(-1)
        return MixerOutput(q_tot=(w * q).sum(-1) + b, w=w, b=b)


class VdnMixer(nn.Module):
    """Value decomposition: Q_tot = Σ_i Q_i (w ≡ 1, b ≡ 0)."""

    monotone = True

    def __init__(self, *, n_agents: int, state_dim: int, hidden: int, generators: Sequence[torch.Generator]):
        super().__init__()
        self.n_agents, self.state_dim = n_agents, state_dim

    @full_precision
    def forward(self, q: torch.Tensor, state: torch.Tensor) -> MixerOutput:
        _check_shapes(q, state, self.n_agents, self.state_dim)
        return MixerOutput(q_tot=q.sum(-1), w=torch.ones_like(q), b=q.new_zeros(q.shape[:2]))


class QmixMixer(nn.Module):
    """Monotonic hypernetwork mixer (QMIX); w = ∂Q_tot/∂Q_i at q, b = Q_tot − Σ w_i Q_i."""

    monotone = True

    def __init__(self, *, n_agents: int, state_dim: int, hidden: int, generators: Sequence[torch.Generator]):
        super().__init__()
        self.n_agents, self.state_dim, self.embed = n_agents, state_dim, hidden
        self.hyper_w1 = StackedLinear(state_dim, n_agents * hidden, generators=generators)
        self.hyper_b1 = StackedLinear(state_dim, hidden, generators=generators)
        self.hyper_w2 = StackedLinear(state_dim, hidden, generators=generators)
        self.hyper_b2_hidden = StackedLinear(state_dim, hidden, generators=generators)
        self.hyper_b2 = StackedLinear(hidden, 1, generators=generators)

    @full_precision
    def forward(self, q: torch.Tensor, state: torch.Tensor) -> MixerOutput:
        _check_shapes(q, state, self.n_agents, self.state_dim)
        n_members, batch, n_agents = q.shape
        w1 = self.hyper_w1(state).abs().view(n_members, batch, n_agents, self.embed)
        b1 = self.hyper_b1(state)
        w2 = self.hyper_w2(state).abs()  # [M, B, E]
        b2 = self.hyper_b2(torch.relu(self.hyper_b2_hidden(state))).squeeze(-1)
        pre = (q.unsqueeze(-2) @ w1).squeeze(-2) + b1  # [M, B, E]
        q_tot = (F.elu(pre) * w2).sum(-1) + b2
        elu_slope = torch.where(pre > 0, torch.ones_like(pre), torch.exp(pre.clamp(max=0.0)))
        w = (w1 * (elu_slope * w2).unsqueeze(-2)).sum(-1)  # ∂Q_tot/∂Q_i, [M, B, N]
        b = q_tot - (w * q).sum(-1)
        return MixerOutput(q_tot=q_tot, w=w, b=b)


MIXERS: dict[str, type[nn.Module]] = {"linear": LinearMixer, "qmix": QmixMixer, "vdn": VdnMixer}
assert tuple(sorted(MIXERS)) == MIXER_NAMES, "omiga.config.MIXER_NAMES is out of sync with MIXERS"


def make_mixer(name: str, *, n_agents: int, state_dim: int, hidden: int,
               generators: Sequence[torch.Generator]) -> nn.Module:
    """The mixer registered under ``name``, stacked over ``len(generators)`` members."""
    if name not in MIXERS:
        raise UnknownNameError("mixer", name, MIXERS)
    return MIXERS[name](n_agents=n_agents, state_dim=state_dim, hidden=hidden, generators=generators)
