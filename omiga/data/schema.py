"""The canonical offline dataset: arrays of T steps, N agents, with contiguous episodes.

Shapes (see docs/interfaces.md): ``obs [T, N, obs_dim]`` float32, ``state [T, state_dim]`` float32,
``actions [T, N]`` int64 (discrete) or ``[T, N, act_dim]`` float32 in [-1, 1] (continuous),
``avail_actions [T, N, A]`` bool (discrete only), ``rewards [T]`` float32 (team reward),
``terminals [T]`` and ``truncations [T]`` bool. Every episode ends with exactly one of terminals /
truncations set on its last step; the next observation of step t is at t + 1.

Constructing an :class:`OfflineDataset` validates it (see :mod:`omiga.data.validate`) and raises
:class:`~omiga.errors.DatasetError` listing every problem, so a dataset object in hand is always valid.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from omiga.data.returns import episode_returns
from omiga.data.validate import SCHEMA_VERSION, validate_arrays
from omiga.errors import DatasetError

__all__ = ["ARRAY_FIELDS", "IMPORT_SOURCE_BACKENDS", "SCHEMA_VERSION", "DatasetAttrs", "OfflineDataset",
           "legacy_backend"]

ARRAY_FIELDS: tuple[str, ...] = (
    "obs", "state", "actions", "avail_actions", "rewards", "terminals", "truncations",
)

IMPORT_SOURCE_BACKENDS: dict[str, str] = {"omiga-hdf5": "mamujoco", "madt": "sc2"}
"""Backend that produced the data of each import format (OMIGA's MaMuJoCo files, MADT's StarCraft II episodes)."""

_BEHAVIOR_BACKEND = re.compile(r"\bbackend ([A-Za-z0-9_]+)")


def legacy_backend(attrs: Mapping[str, object]) -> str:
    """The backend of a schema_version 1 file written before ``backend`` was stored.

    Such files named it inside ``behavior`` ("...; backend smax, scenario corridor"); imported files are
    known from their ``source`` format (:data:`IMPORT_SOURCE_BACKENDS`); anything else is ``"unknown"``.
    """
    match = _BEHAVIOR_BACKEND.search(str(attrs.get("behavior", "")))
    if match:
        return match.group(1)
    return IMPORT_SOURCE_BACKENDS.get(str(attrs.get("source", "")), "unknown")


@dataclass(frozen=True)
class DatasetAttrs:
    """Provenance and summary of a dataset, stored as HDF5 attributes."""

    task: str
    """Task name in the registry, e.g. ``smac_corridor``."""
    quality: str
    """Dataset quality, e.g. ``good`` / ``medium`` / ``poor`` or ``expert`` / ``medium-replay``."""
    source: str
    """Where the data came from: ``built`` or the imported format (``omiga-hdf5``, ``madt``, ...)."""
    behavior: str
    """Human-readable description of the behaviour policy (or the original file for imports)."""
    seed: int | None
    """Seed of the build; None for imported data."""
    backend: str
    """Environment backend the data comes from: ``smax``, ``sc2``, ``mamujoco``, ``toy`` (imports: the format's,
    see :data:`IMPORT_SOURCE_BACKENDS`); ``unknown`` for old files that did not record it."""
    n_episodes: int
    """Number of episodes in the dataset."""
    return_mean: float
    """Mean undiscounted episode return."""
    return_std: float
    """Standard deviation (ddof=0) of episode returns."""
    return_min: float
    """Smallest episode return."""
    return_max: float
    """Largest episode return."""
    schema_version: int = SCHEMA_VERSION
    """Version of the on-disk schema; only version 1 exists."""

    def __post_init__(self) -> None:
        for name in ("task", "quality", "source", "backend"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise DatasetError(f"dataset attribute {name!r} must be a non-empty string")
        if self.schema_version != SCHEMA_VERSION:
            raise DatasetError(
                f"unknown dataset schema_version {self.schema_version}; this version of omiga reads "
                f"schema_version {SCHEMA_VERSION}: rebuild or re-import the dataset"
            )
        if self.n_episodes < 1:
            raise DatasetError(f"dataset attribute n_episodes must be >= 1, got {self.n_episodes}")

    @classmethod
    def summarize(
        cls, *, episode_returns: np.ndarray, task: str, quality: str, source: str, behavior: str,
        seed: int | None, backend: str,
    ) -> DatasetAttrs:
        """Attributes with the episode count and return statistics computed from ``episode_returns``."""
        returns = np.asarray(episode_returns, dtype=np.float64)
        if returns.size == 0:
            raise DatasetError("a dataset needs at least one complete episode")
        return cls(
            task=task, quality=quality, source=source, behavior=behavior,
            seed=None if seed is None else int(seed), backend=backend, n_episodes=int(returns.size),
            return_mean=float(returns.mean()), return_std=float(returns.std()),
            return_min=float(returns.min()), return_max=float(returns.max()),
        )

    def to_dict(self) -> dict[str, object]:
        """Plain dict of the attributes (for JSON, HDF5 attributes and printing)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class OfflineDataset:
    """A validated offline multi-agent dataset (shapes in the module docstring)."""

    obs: np.ndarray
    state: np.ndarray
    actions: np.ndarray
    avail_actions: np.ndarray | None
    rewards: np.ndarray
    terminals: np.ndarray
    truncations: np.ndarray
    attrs: DatasetAttrs

    def __post_init__(self) -> None:
        _raise_if_invalid(validate_arrays(self.arrays(), attrs=self.attrs.to_dict()))

    @classmethod
    def from_arrays(
        cls, *, obs: np.ndarray, state: np.ndarray, actions: np.ndarray, avail_actions: np.ndarray | None,
        rewards: np.ndarray, terminals: np.ndarray, truncations: np.ndarray, task: str, quality: str,
        source: str, behavior: str, seed: int | None, backend: str,
    ) -> OfflineDataset:
        """Build a dataset and compute its attributes (episode count, return statistics) from the arrays."""
        arrays = {"obs": obs, "state": state, "actions": actions, "avail_actions": avail_actions,
                  "rewards": rewards, "terminals": terminals, "truncations": truncations}
        _raise_if_invalid(validate_arrays(arrays, attrs={}))
        returns = episode_returns(rewards, terminals | truncations)
        attrs = DatasetAttrs.summarize(
            episode_returns=returns, task=task, quality=quality, source=source, behavior=behavior, seed=seed,
            backend=backend,
        )
        return cls(**arrays, attrs=attrs)

    def arrays(self) -> dict[str, np.ndarray | None]:
        """The array fields by name (``avail_actions`` is None for continuous datasets)."""
        return {name: getattr(self, name) for name in ARRAY_FIELDS}

    def __len__(self) -> int:
        return int(self.rewards.shape[0])

    @property
    def discrete(self) -> bool:
        """True when actions are integer ids (SMAC-like), False for continuous actions."""
        return self.actions.ndim == 2

    @property
    def n_agents(self) -> int:
        return int(self.obs.shape[1])

    @property
    def obs_dim(self) -> int:
        return int(self.obs.shape[2])

    @property
    def state_dim(self) -> int:
        return int(self.state.shape[1])

    @property
    def n_actions(self) -> int | None:
        """Number of discrete actions A (None for continuous datasets)."""
        return int(self.avail_actions.shape[2]) if self.avail_actions is not None else None

    @property
    def act_dim(self) -> int | None:
        """Size of a continuous action (None for discrete datasets)."""
        return None if self.discrete else int(self.actions.shape[2])

    @cached_property
    def episode_ends(self) -> np.ndarray:
        """Index of the last step of each episode, ``[n_episodes]`` int64."""
        return np.flatnonzero(self.terminals | self.truncations).astype(np.int64)

    @cached_property
    def episode_starts(self) -> np.ndarray:
        """Index of the first step of each episode, ``[n_episodes]`` int64."""
        return np.r_[0, self.episode_ends[:-1] + 1].astype(np.int64)

    @cached_property
    def episode_returns(self) -> np.ndarray:
        """Undiscounted return of each episode, ``[n_episodes]`` float64."""
        return np.add.reduceat(self.rewards.astype(np.float64), self.episode_starts)

    def transition_indices(self) -> np.ndarray:
        """Steps t usable for TD training: terminal steps, or steps whose successor t + 1 is in the same episode.

        The last step of a truncated episode has no stored successor and is excluded.
        """
        is_end = self.terminals | self.truncations
        return np.flatnonzero(self.terminals | ~is_end).astype(np.int64)


def _raise_if_invalid(problems: list[str]) -> None:
    if problems:
        raise DatasetError("invalid dataset:\n  - " + "\n  - ".join(problems))
