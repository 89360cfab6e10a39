"""Typed training batches and the per-member sampler that gathers them from tensors loaded once.

The dataset's arrays become torch tensors once (float32, shared, never copied per member). Every member draws
its own batch indices from its own generator; indices are drawn in chunks of ``chunk`` steps (one short loop
over members per chunk, none per step), so member m draws the same indices whatever the population size.
Each batch also carries the step's counter-based per-member noise (:mod:`omiga.methods.noise`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from omiga.data.schema import OfflineDataset
from omiga.errors import ConfigError
from omiga.methods.noise import MemberNoise, member_noise_keys
from omiga.stacked import member_generators

__all__ = ["Batch", "BatchSampler"]


@dataclass(frozen=True)
class Batch:
    """Transitions of M members, B each, N agents."""

    obs: torch.Tensor
    """``[M, B, N, obs_dim]`` float32."""
    next_obs: torch.Tensor
    """``[M, B, N, obs_dim]`` float32 (step t + 1; unused where ``terminals``)."""
    state: torch.Tensor
    """``[M, B, state_dim]`` float32."""
    next_state: torch.Tensor
    """``[M, B, state_dim]`` float32."""
    actions: torch.Tensor
    """``[M, B, N]`` int64 (discrete) or ``[M, B, N, act_dim]`` float32."""
    avail_actions: torch.Tensor | None
    """``[M, B, N, A]`` bool (discrete only)."""
    rewards: torch.Tensor
    """``[M, B]`` float32 (team reward, or reward-to-go when configured)."""
    terminals: torch.Tensor
    """``[M, B]`` float32, 1 where the episode ended in a terminal state (no bootstrap)."""
    next_actions: torch.Tensor | None = None
    """``[M, B, N]`` or ``[M, B, N, act_dim]``: the dataset actions at t + 1 (in-sample next actions)."""
    next_avail_actions: torch.Tensor | None = None
    """``[M, B, N, A]`` bool (discrete only): the available actions at t + 1."""
    noise: MemberNoise | None = None
    """This step's per-member random numbers, for methods that sample actions inside their losses."""


class BatchSampler:
    """Draws a :class:`Batch` per step for M members from a dataset held as torch tensors.

    ``reward_to_go=True`` replaces every reward by its undiscounted reward-to-go within the episode, as the
    official OMIGA code does on SMAC.
    """

    def __init__(self, dataset: OfflineDataset, *, seeds: Sequence[int], batch_size: int,
                 device: str = "cpu", reward_to_go: bool = False, chunk: int = 256):
        valid = dataset.transition_indices()
        if valid.size == 0:
            raise ConfigError("the dataset has no usable transition (every episode is a single truncated step); "
                              "use a dataset with longer episodes")
        rewards = dataset.rewards
        if reward_to_go:
            from omiga.data.returns import reward_to_go as compute_reward_to_go

            rewards = compute_reward_to_go(rewards, episode_starts=dataset.episode_starts,
                                           episode_ends=dataset.episode_ends, gamma=1.0)
        as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)
        self.obs, self.state = as_tensor(dataset.obs), as_tensor(dataset.state)
        self.actions = as_tensor(dataset.actions)
        self.avail = None if dataset.avail_actions is None else as_tensor(dataset.avail_actions)
        self.rewards = as_tensor(rewards.astype(np.float32))
        self.terminals = as_tensor(dataset.terminals.astype(np.float32))
        self.valid = as_tensor(valid)
        self.batch_size, self.chunk, self.device = batch_size, chunk, device
        self.generators = member_generators(seeds, "sample")
        self.noise_keys = member_noise_keys(seeds, device=device)
        self.draws = 0
        self._indices: torch.Tensor | None = None  # [M, chunk, B] positions into self.valid
        self._position = 0

    def _refill(self) -> None:
        draws = [torch.randint(len(self.valid), (self.chunk, self.batch_size), generator=g)
                 for g in self.generators]
        self._indices = torch.stack(draws).to(self.device)
        self._position = 0

    def sample_indices(self) -> torch.Tensor:
        """Dataset steps of the next batch of every member, ``[M, B]`` int64."""
        if self._indices is None or self._position == self.chunk:
            self._refill()
        positions = self._indices[:, self._position]
        self._position += 1
        return self.valid[positions]

    def gather(self, steps: torch.Tensor, *, noise: MemberNoise | None = None) -> Batch:
        """The batch of dataset steps ``steps [M, B]`` (with ``noise`` attached)."""
        following = (steps + 1).clamp(max=len(self.rewards) - 1)
        return Batch(
            obs=self.obs[steps], next_obs=self.obs[following], state=self.state[steps],
            next_state=self.state[following], actions=self.actions[steps],
            avail_actions=None if self.avail is None else self.avail[steps],
            rewards=self.rewards[steps], terminals=self.terminals[steps], next_actions=self.actions[following],
            next_avail_actions=None if self.avail is None else self.avail[following], noise=noise,
        )

    def advance(self) -> tuple[torch.Tensor, MemberNoise]:
        """The dataset steps ``[M, B]`` of the next batch and the noise of this step; counts one draw."""
        draws = torch.tensor(self.draws, dtype=torch.int64, device=self.noise_keys.device)
        steps, noise = self.sample_indices(), MemberNoise(keys=self.noise_keys, step=draws)
        self.draws += 1
        return steps, noise

    def sample(self) -> Batch:
        """The next batch of every member, with the noise of this step."""
        steps, noise = self.advance()
        return self.gather(steps, noise=noise)

    def state_dict(self) -> dict[str, object]:
        """Generator states and the current chunk, so a resumed run draws the same indices."""
        return {"generators": [g.get_state() for g in self.generators], "indices": self._indices,
                "position": self._position, "draws": self.draws}

    def load_state_dict(self, state: dict[str, object]) -> None:
        for generator, saved in zip(self.generators, state["generators"], strict=True):
            generator.set_state(saved)
        indices = state["indices"]
        self._indices = None if indices is None else indices.to(self.device)
        self._position = int(state["position"])
        self.draws = int(state.get("draws", 0))
