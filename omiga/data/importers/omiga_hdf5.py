"""Importer of OMIGA's own MaMuJoCo datasets: one HDF5 file with keys ``s``, ``o``, ``a``, ``r``, ``d``.

The official reader (ZhengYinan-AIR/OMIGA, ``datasets/offline_dataset.py``) loads these arrays:

- ``s [T, N, state_dim]``: the global state, repeated for every agent (a plain ``[T, state_dim]`` is accepted);
  agent 0's copy becomes ``state``.
- ``o [T, N, obs_dim]``: per-agent observations. In OMIGA's files every agent's "local" observation is the full
  v2 state plus its one-hot agent id (HalfCheetah 6x1: 17 + 6 = 23 dims); pass ``strip_agent_id=True`` to drop
  the trailing N id columns (they are checked to be the identity first).
- ``a [T, N, act_dim]`` actions in [-1, 1]; ``r [T]`` or ``[T, k]`` team reward (column 0);
  ``d [T]`` or ``[T, k]`` done flags (column 0).

``d`` marks true terminal states only. Time-limit ends are not stored: the official reader simply treats step
t + 1 as the successor of every non-terminal t. This importer instead cuts an episode every ``episode_limit``
steps (MaMuJoCo caps episodes at 1000) since the previous end and marks that step as truncated; the file's
last step is truncated unless it is terminal.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from omiga.data.schema import IMPORT_SOURCE_BACKENDS, OfflineDataset
from omiga.errors import DatasetError

__all__ = ["OMIGA_HDF5_KEYS", "import_omiga_hdf5"]

OMIGA_HDF5_KEYS = ("s", "o", "a", "r", "d")


def import_omiga_hdf5(
    source: str | os.PathLike[str], *, task: str, quality: str, episode_limit: int = 1000,
    strip_agent_id: bool = False,
) -> OfflineDataset:
    """Convert an OMIGA MaMuJoCo HDF5 file into an OfflineDataset (source ``omiga-hdf5``)."""
    source = Path(source)
    raw = _read_keys(source)
    obs, state, actions = raw["o"], raw["s"], raw["a"]
    n_steps = obs.shape[0] if obs.ndim == 3 else -1
    if obs.ndim != 3 or actions.ndim != 3 or state.ndim not in (2, 3):
        raise DatasetError(
            f"{source}: expected o [T, N, obs_dim], a [T, N, act_dim] and s [T, N, state_dim] or [T, state_dim], "
            f"got o {obs.shape}, a {actions.shape}, s {state.shape}: is this an OMIGA MaMuJoCo file?"
        )
    for key in ("s", "a", "r", "d"):
        if raw[key].shape[0] != n_steps:
            raise DatasetError(f"{source}: key {key!r} has {raw[key].shape[0]} steps but 'o' has {n_steps}; "
                               "the file is truncated or mixes datasets")
    if state.ndim == 3:
        state = state[:, 0]
    if strip_agent_id:
        obs = _strip_agent_id(obs, source)
    terminals = _column0(raw["d"]).astype(bool)
    truncations = _time_limit_ends(terminals, episode_limit)
    return OfflineDataset.from_arrays(
        obs=obs.astype(np.float32), state=state.astype(np.float32), actions=actions.astype(np.float32),
        avail_actions=None, rewards=_column0(raw["r"]).astype(np.float32), terminals=terminals,
        truncations=truncations, task=task, quality=quality, source="omiga-hdf5",
        behavior=f"imported from {source.name} (OMIGA MaMuJoCo HDF5; episodes cut every {episode_limit} steps)",
        seed=None, backend=IMPORT_SOURCE_BACKENDS["omiga-hdf5"],
    )


def _read_keys(source: Path) -> dict[str, np.ndarray]:
    if not source.is_file():
        raise DatasetError(f"no OMIGA HDF5 file at {source}: check the path")
    try:
        with h5py.File(source, "r") as file:
            missing = [key for key in OMIGA_HDF5_KEYS if key not in file]
            if missing:
                raise DatasetError(f"{source} lacks the OMIGA keys {', '.join(missing)} (expected s, o, a, r, d): "
                                   "is it an OMIGA MaMuJoCo dataset? Canonical omiga files need no import")
            return {key: file[key][()] for key in OMIGA_HDF5_KEYS}
    except (OSError, ValueError) as error:
        raise DatasetError(f"{source} is not a readable HDF5 file (truncated or corrupted: {error})") from error


def _column0(array: np.ndarray) -> np.ndarray:
    return array[:, 0] if array.ndim == 2 else array.reshape(array.shape[0])


def _strip_agent_id(obs: np.ndarray, source: Path) -> np.ndarray:
    n_agents = obs.shape[1]
    ids = obs[:, :, -n_agents:]
    if not np.array_equal(ids, np.broadcast_to(np.eye(n_agents, dtype=obs.dtype), ids.shape)):
        raise DatasetError(f"{source}: the last {n_agents} columns of 'o' are not one-hot agent ids; "
                           "import without strip_agent_id")
    return obs[:, :, :-n_agents]


def _time_limit_ends(terminals: np.ndarray, episode_limit: int) -> np.ndarray:
    """Truncation flags: a step ``episode_limit`` steps after the previous end, and a non-terminal last step."""
    if episode_limit < 1:
        raise DatasetError(f"episode_limit must be >= 1, got {episode_limit}")
    truncations = np.zeros_like(terminals)
    length = 0
    for t, terminal in enumerate(terminals):
        length += 1
        if terminal:
            length = 0
        elif length == episode_limit:
            truncations[t], length = True, 0
    if terminals.size and not terminals[-1]:
        truncations[-1] = True
    return truncations
