"""Importer of OMIGA's own MaMuJoCo datasets: one HDF5 file with keys ``s``, ``o``, ``a``, ``r``, ``d``.

The official reader (ZhengYinan-AIR/OMIGA, ``datasets/offline_dataset.py``) loads these arrays:

- ``o [T, N, S2 + N]``: per agent, the full v2 state with its one-hot id appended, z-scored within the vector
  (HalfCheetah 6x1: 17 + 6 = 23; Hopper 3x1: 11 + 3 = 14; Ant 2x4: 111 + 2 = 113); ``s`` the same for the
  critics (``[T, N, S2 + N]``, or ``[T, S2 + N]``; only its length is read: the official wrapper's
  ``get_state`` equals ``get_obs``);
- ``a [T, N, act_dim]`` actions in [-1, 1], agent i's driving actuators ``i*k .. (i+1)*k - 1``;
  ``r [T]`` or ``[T, k]`` team reward (column 0); ``d [T]`` or ``[T, k]`` done flags (column 0).

They are converted into what ``obs_mode="global"`` of the gymnasium-robotics env produces (v5 state, OMIGA's
transform, actions reassigned to each agent's actuators; see :mod:`omiga.data.importers.mamujoco_layout`), and
checked against the task's environment, so only the MaMuJoCo tasks with OMIGA data can be imported.

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

from omiga.data.importers.mamujoco_layout import convert_omiga_mamujoco, omiga_layout
from omiga.data.importers.task_shapes import check_task_shapes
from omiga.data.schema import IMPORT_SOURCE_BACKENDS, OfflineDataset
from omiga.errors import DatasetError

__all__ = ["OMIGA_HDF5_KEYS", "import_omiga_hdf5"]

OMIGA_HDF5_KEYS = ("s", "o", "a", "r", "d")


def import_omiga_hdf5(
    source: str | os.PathLike[str], *, task: str, quality: str, episode_limit: int = 1000,
) -> OfflineDataset:
    """Convert an OMIGA MaMuJoCo HDF5 file of ``task`` into an OfflineDataset (source ``omiga-hdf5``)."""
    source = Path(source)
    layout = omiga_layout(task)
    raw = _read_keys(source)
    n_steps = raw["o"].shape[0] if raw["o"].ndim else -1
    for key in ("s", "a", "r", "d"):
        if raw[key].ndim == 0 or raw[key].shape[0] != n_steps:
            raise DatasetError(f"{source}: key {key!r} has shape {raw[key].shape} but 'o' has {n_steps} steps; "
                               "the file is truncated or mixes datasets")
    obs, state, actions = convert_omiga_mamujoco(raw["o"], raw["a"], task=task, source=source)
    terminals = _column0(raw["d"]).astype(bool)
    truncations = _time_limit_ends(terminals, episode_limit)
    dataset = OfflineDataset.from_arrays(
        obs=obs, state=state, actions=actions, avail_actions=None, rewards=_column0(raw["r"]).astype(np.float32),
        terminals=terminals, truncations=truncations, task=task, quality=quality, source="omiga-hdf5",
        behavior=f"imported from {source.name} (OMIGA {layout.v2_scenario} {layout.n_agents}-agent HDF5, converted "
                 f"to gymnasium-robotics v5 obs_mode global; episodes cut every {episode_limit} steps)",
        seed=None, backend=IMPORT_SOURCE_BACKENDS["omiga-hdf5"],
    )
    return check_task_shapes(dataset, task=task, source=source)


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
