"""Typed training batches and the per-member sampler that gathers them from tensors loaded once.

The datasets' arrays become torch tensors once (float32, shared, never copied per member); members of one
population may train on different datasets of the same shapes (``member_datasets``). Every member draws
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


def _shape_of(dataset: OfflineDataset) -> tuple:
    return dataset.n_agents, dataset.obs_dim, dataset.state_dim, dataset.n_actions, dataset.act_dim


def _concatenated(arrays: Sequence[np.ndarray], device: str) -> torch.Tensor:
    joined = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    return torch.from_numpy(np.ascontiguousarray(joined)).to(device)


def _rows(table: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """``table[steps]`` for ``steps [M, B]``, by one ``index_select`` (on the CPU several times faster than
    advanced indexing with a 2-D index, and the same numbers)."""
    return table.index_select(0, steps.flatten()).view(*steps.shape, *table.shape[1:])


class BatchSampler:
    """Draws a :class:`Batch` per step for M members from datasets held as torch tensors.

    ``datasets`` is one dataset or several of the same shapes (e.g. the qualities of one task);
    ``member_datasets[m]`` (default all 0) is the index of member m's dataset. The datasets are held end to end in
    one set of tensors, and member m draws from its own dataset's transitions exactly as a sampler of that
    dataset alone would (same indices, same successors), so a merged population's member equals a solo run.
    ``reward_to_go=True`` replaces every reward by its undiscounted reward-to-go within the episode, as the
    official OMIGA code does on SMAC.
    """

    def __init__(self, datasets: OfflineDataset | Sequence[OfflineDataset], *, seeds: Sequence[int],
                 batch_size: int, device: str = "cpu", reward_to_go: bool = False, chunk: int = 256,
                 member_datasets: Sequence[int] | None = None):
        datasets = (datasets,) if isinstance(datasets, OfflineDataset) else tuple(datasets)
        member_datasets = (0,) * len(seeds) if member_datasets is None else tuple(member_datasets)
        if not datasets:
            raise ConfigError("BatchSampler needs at least one dataset")
        if len(member_datasets) != len(seeds):
            raise ConfigError(f"{len(member_datasets)} member dataset indices for {len(seeds)} members; give one "
                              "per member")
        if any(not 0 <= index < len(datasets) for index in member_datasets):
            raise ConfigError(f"member dataset indices {list(member_datasets)} out of range for {len(datasets)} "
                              "dataset(s); set MemberConfig.dataset to an index into the datasets")
        if len({_shape_of(d) for d in datasets}) != 1:
            raise ConfigError("datasets trained in one population must share their shapes (agents, obs, state, "
                              f"actions), got {sorted({_shape_of(d) for d in datasets}, key=str)}; train them "
                              "as separate populations")
        valid_sets = [d.transition_indices() for d in datasets]
        for dataset, valid in zip(datasets, valid_sets):
            if valid.size == 0:
                raise ConfigError(f"dataset {dataset.attrs.task}/{dataset.attrs.quality} has no usable "
                                  "transition (every episode is a single truncated step); use a dataset with "
                                  "longer episodes")
        rewards = []
        for dataset in datasets:
            values = dataset.rewards
            if reward_to_go:
                from omiga.data.returns import reward_to_go as compute_reward_to_go

                values = compute_reward_to_go(values, episode_starts=dataset.episode_starts,
                                              episode_ends=dataset.episode_ends, gamma=1.0)
            rewards.append(values.astype(np.float32))
        first_step = np.cumsum([0] + [len(d) for d in datasets])  # of each dataset in the joined tensors
        first_valid = np.cumsum([0] + [len(v) for v in valid_sets])
        self.obs = _concatenated([d.obs for d in datasets], device)
        self.state = _concatenated([d.state for d in datasets], device)
        self.actions = _concatenated([d.actions for d in datasets], device)
        self.avail = None if datasets[0].avail_actions is None else _concatenated(
            [d.avail_actions for d in datasets], device)
        self.rewards = _concatenated(rewards, device)
        self.terminals = _concatenated([d.terminals.astype(np.float32) for d in datasets], device)
        self.valid = _concatenated([v + start for v, start in zip(valid_sets, first_step)], device)
        self.member_datasets = member_datasets
        self._valid_counts = [len(valid_sets[i]) for i in member_datasets]
        as_column = lambda values: torch.tensor(values, dtype=torch.int64, device=device).view(-1, 1)
        self._valid_offset = as_column([int(first_valid[i]) for i in member_datasets])  # [M, 1]
        self._last_step = as_column([int(first_step[i + 1]) - 1 for i in member_datasets])  # [M, 1]
        self.batch_size, self.chunk, self.device = batch_size, chunk, device
        self.generators = member_generators(seeds, "sample")
        self.noise_keys = member_noise_keys(seeds, device=device)
        self.draws = 0
        self._indices: torch.Tensor | None = None  # [M, chunk, B] positions into each member's transitions
        self._position = 0

    def _refill(self) -> None:
        draws = [torch.randint(count, (self.chunk, self.batch_size), generator=g)
                 for g, count in zip(self.generators, self._valid_counts)]
        self._indices = torch.stack(draws).to(self.device)
        self._position = 0

    def sample_indices(self) -> torch.Tensor:
        """Dataset steps of the next batch of every member, ``[M, B]`` int64."""
        if self._indices is None or self._position == self.chunk:
            self._refill()
        positions = self._indices[:, self._position]
        self._position += 1
        return self.valid[positions + self._valid_offset]

    def gather(self, steps: torch.Tensor, *, noise: MemberNoise | None = None) -> Batch:
        """The batch of dataset steps ``steps [M, B]`` (with ``noise`` attached)."""
        following = torch.minimum(steps + 1, self._last_step)  # within each member's own dataset
        return Batch(
            obs=_rows(self.obs, steps), next_obs=_rows(self.obs, following), state=_rows(self.state, steps),
            next_state=_rows(self.state, following), actions=_rows(self.actions, steps),
            avail_actions=None if self.avail is None else _rows(self.avail, steps),
            rewards=_rows(self.rewards, steps), terminals=_rows(self.terminals, steps),
            next_actions=_rows(self.actions, following),
            next_avail_actions=None if self.avail is None else _rows(self.avail, following), noise=noise,
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
