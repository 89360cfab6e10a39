"""Per-member settings as tensors, and the deterministic policy of a population for evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from omiga.config import MemberConfig
from omiga.networks import PopulationNetworks

__all__ = ["MemberTensors", "NetworkPolicy"]


@dataclass(frozen=True)
class MemberTensors:
    """What differs between members, as ``[M]`` tensors an update rule can broadcast."""

    alpha: torch.Tensor
    """``[M]`` float32, α of each member."""
    global_info: torch.Tensor
    """``[M]`` bool, False where w_i ≡ 1 in the V and π steps."""

    @classmethod
    def from_members(cls, members: Sequence[MemberConfig], *, device: str = "cpu") -> MemberTensors:
        return cls(alpha=torch.tensor([float(m.alpha) for m in members], dtype=torch.float32, device=device),
                   global_info=torch.tensor([m.global_info for m in members], dtype=torch.bool, device=device))


class NetworkPolicy:
    """The :class:`~omiga.evaluate.PopulationPolicy` of trained networks: the method's deterministic actions.

    ``act(obs [M, E, N, obs_dim], avail [M, E, N, A] | None)`` returns ``[M, E, N]`` int64 or
    ``[M, E, N, act_dim]`` float32 on the CPU: greedy / tanh(mean) of the policy head, or the method's own
    ``action_rule(nets, obs, avail)`` (:func:`omiga.methods.get_action_rule`). A diverged member's non-finite
    outputs are replaced by 0 so that the environment can still be stepped (its score is discarded by its status).
    """

    def __init__(self, nets: PopulationNetworks, *,
                 action_rule: Callable[[PopulationNetworks, torch.Tensor, torch.Tensor | None], torch.Tensor]
                 | None = None):
        self._nets = nets
        self._action_rule = action_rule
        self.n_members = nets.n_members
        self.discrete = nets.space.discrete

    def act(self, obs: torch.Tensor, avail_actions: torch.Tensor | None = None) -> torch.Tensor:
        device = self._nets.v.head.weight.device
        obs = torch.as_tensor(obs, dtype=torch.float32, device=device)
        if avail_actions is not None:
            avail_actions = torch.as_tensor(avail_actions, dtype=torch.bool, device=device)
        if obs.ndim != 4 or obs.shape[0] != self.n_members:
            raise ValueError(f"act expects obs [M={self.n_members}, E, N, obs_dim], got {tuple(obs.shape)}")
        if self._action_rule is None:
            return self._nets.greedy_actions(obs, avail_actions).cpu()
        with torch.no_grad():
            return torch.nan_to_num(self._action_rule(self._nets, obs, avail_actions), nan=0.0).cpu()
