"""Importer of MADT's SMAC episode files, as read by the official OMIGA code (``framework/utils.py``).

Format: a directory with one file per episode (or a single such file). Each file is a pickle written by
``torch.save`` (plain ``pickle.dump`` files are accepted too) holding a list with one trajectory per agent;
a trajectory is a list of steps ``[g, o, a, r, d, ava]``:

- ``g``: this agent's agent-specific global state ``[G]`` (the MAPPO-modified SMAC env of OMIGA's SMAC branch,
  ``use_state_agent``; with ``use_mustalive`` it is all zeros once the agent is dead);
- ``o``: the agent's local observation ``[obs_dim]``;
- ``a``: the action id, as ``[a]`` or a scalar;
- ``r``: the team reward, as ``[r]`` or a scalar (agent 0's is used; OMIGA reads ``r[0]``);
- ``d``: the done flag, as ``[d]`` or a scalar;
- ``ava``: the available-action mask ``[n_actions]`` (0/1).

``state`` is every agent's ``g`` concatenated in agent order, ``[T, N * G]``, which is what the official mixer
reads (``models/omiga_model.py`` ``MixNet``: ``torch.cat([states[:, :, j, :] for j in range(n_agents)])``); it
stays informative after agent 0 dies, whose entries are then zeros.

All agents' trajectories must have the same length (the official reader drops other episodes; this importer
refuses them). Files are read in sorted name order. An episode's last step is terminal when every agent's
``d`` is set there, otherwise truncated (SMAC's own episode files do not record time limits separately).
Rewards are imported per step, not as the reward-to-go the official code rewrites them into (see
:func:`omiga.data.returns.reward_to_go`).

The files are SMAC data, so only SMAC tasks are accepted, and the agents and action ids are checked against
the task's map (:mod:`omiga.data.importers.task_shapes`) before anything is written.

Unpickling runs arbitrary code embedded in the file, so :func:`import_madt` refuses unless ``trust_pickle``.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from omiga.data.importers.task_shapes import SMAC_MAP_UNITS, check_task_shapes
from omiga.data.schema import IMPORT_SOURCE_BACKENDS, OfflineDataset
from omiga.errors import DatasetError

__all__ = ["import_madt", "madt_episode_files"]


def madt_episode_files(source: str | os.PathLike[str]) -> list[Path]:
    """The episode files of ``source``: the file itself, or the regular files of a directory sorted by name."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DatasetError(f"no MADT episode file or directory at {source}: check the path")
    files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DatasetError(f"{source} holds no MADT episode files")
    return files


def import_madt(
    source: str | os.PathLike[str], *, task: str, quality: str, trust_pickle: bool = False
) -> OfflineDataset:
    """Convert MADT episode files (format in the module docstring) into an OfflineDataset (source ``madt``)."""
    if not trust_pickle:
        raise DatasetError(
            f"refusing to read MADT episode files from {source}: they are Python pickles, and unpickling runs "
            "arbitrary code stored in the file. If you trust where they came from, pass --trust-pickle "
            "(trust_pickle=True in Python)"
        )
    if task not in SMAC_MAP_UNITS:
        raise DatasetError(f"MADT episode files hold SMAC data; import them into a SMAC task "
                           f"({', '.join(SMAC_MAP_UNITS)}), not {task!r}")
    episodes = [_episode_arrays(path, _unpickle(path)) for path in madt_episode_files(source)]
    shapes = {key: {e[key].shape[1:] for e in episodes} for key in ("obs", "state", "avail_actions")}
    for key, found in shapes.items():
        if len(found) > 1:
            raise DatasetError(f"{source}: episodes disagree on the shape of {key} per step ({sorted(found)}); "
                               "import files of one map only")
    arrays = {key: np.concatenate([e[key] for e in episodes]) for key in episodes[0]}
    dataset = OfflineDataset.from_arrays(
        **arrays, task=task, quality=quality, source="madt",
        behavior=f"imported from {Path(source).name} ({len(episodes)} MADT episode files; state: all agents' "
                 "states concatenated)", seed=None, backend=IMPORT_SOURCE_BACKENDS["madt"],
    )
    return check_task_shapes(dataset, task=task, source=source)


def _unpickle(path: Path) -> object:
    try:
        if zipfile.is_zipfile(path):  # torch.save's format
            import torch

            return torch.load(path, map_location="cpu", weights_only=False)
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception as error:  # unpickling can raise anything; report the file, never a traceback
        raise DatasetError(f"cannot read MADT episode file {path}: {type(error).__name__}: {error}") from error


def _episode_arrays(path: Path, episode: object) -> dict[str, np.ndarray]:
    """One episode as canonical arrays; DatasetError names the file, agent and step of a malformed entry."""
    if not isinstance(episode, (list, tuple)) or not episode or not all(isinstance(t, (list, tuple)) for t in episode):
        raise DatasetError(f"{path}: expected a list with one trajectory (list of steps) per agent, "
                           f"got {type(episode).__name__}")
    lengths = [len(trajectory) for trajectory in episode]
    if len(set(lengths)) != 1 or lengths[0] == 0:
        raise DatasetError(f"{path}: agents' trajectories have lengths {lengths}; every agent needs the same "
                           "non-zero number of steps")
    fields: dict[str, list] = {"g": [], "o": [], "a": [], "r": [], "d": [], "ava": []}
    for agent, trajectory in enumerate(episode):
        for per_agent in fields.values():
            per_agent.append([])
        for t, step in enumerate(trajectory):
            try:
                g, o, a, r, d, ava = step
                for key, value in zip(fields, (g, o, _scalar(a), _scalar(r), _scalar(d), ava)):
                    fields[key][agent].append(np.asarray(value, dtype=np.float64))
            except (TypeError, ValueError, IndexError) as error:
                raise DatasetError(f"{path}: agent {agent}, step {t} is not [g, o, a, r, d, ava] ({error})") from error
    try:
        stacked = {key: np.stack([np.stack(agent_steps) for agent_steps in value], axis=1)
                   for key, value in fields.items()}  # [T, N, ...]
    except ValueError as error:
        raise DatasetError(f"{path}: steps have inconsistent shapes ({error})") from error
    n_steps = lengths[0]
    terminals = np.zeros(n_steps, dtype=bool)
    truncations = np.zeros(n_steps, dtype=bool)
    ended_terminal = bool(stacked["d"][-1].astype(bool).all())
    (terminals if ended_terminal else truncations)[-1] = True
    return {
        "obs": stacked["o"].astype(np.float32), "state": stacked["g"].reshape(n_steps, -1).astype(np.float32),
        "actions": stacked["a"].astype(np.int64), "avail_actions": stacked["ava"].astype(bool),
        "rewards": stacked["r"][:, 0].astype(np.float32), "terminals": terminals, "truncations": truncations,
    }


def _scalar(value: object) -> float:
    """``[x]``, a one-element array or a scalar, as a float."""
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.size != 1:
        raise ValueError(f"expected one value, got {array.size}")
    return float(array[0])
