"""Importer of OG-MARL's datasets: Flashbax vaults (vault version 1.x), read with flashbax itself.

A vault is a directory ``<name>.vlt/<uid>/`` (``metadata.json`` and one tensorstore per leaf of the stored
experience); ``source`` is the uid directory, e.g. ``omiga/smac_v1/corridor.vlt/Good``. OG-MARL's leaves
(batch axis 1, T steps, N agents):

- ``observations (1, T, N, O)``; ``actions (1, T, N)`` integer ids, or ``(1, T, N, k)`` floats in [-1, 1];
- ``rewards``, ``terminals``, ``truncations (1, T, N)``;
- ``infos.legals (1, T, N, A)`` available actions (discrete tasks), ``infos.state (1, T, S)``.

Conversion into the canonical schema:

- the team reward is agent 0's (the agents' rewards must agree: these are cooperative tasks);
- a step is terminal when every agent's terminal flag is set (a dead SMAC unit's is set earlier), truncated
  when any agent's truncation flag is and it is not terminal; the vault's last step is truncated unless it
  ends an episode;
- SMAC tasks: observations, actions, legals and ``infos.state`` as stored. OMIGA's SMAC vaults carry the agent
  id in observation and state, and their state is the one agent-specific state OG-MARL's conversion kept per
  step: the official mixer's concatenation of every agent's state (see :mod:`omiga.data.importers.madt`)
  cannot be rebuilt from it;
- MaMuJoCo tasks: OMIGA's vaults hold its z-scored ``[v2 state, id]`` vectors, converted exactly as the
  ``omiga-hdf5`` importer does (:mod:`omiga.data.importers.mamujoco_layout`; ``infos.state`` is not needed).

The result is checked against the task's environment before it is returned. OMIGA's vault uids are ``Good`` /
``Medium`` / ``Poor`` (SMAC) and ``Expert`` / ``Medium`` / ``Medium-Replay`` / ``Medium-Expert`` (MaMuJoCo);
without an explicit ``quality`` the uid, lower-cased, is used when it is one of the task's qualities.
Reading never writes to the vault. Needs flashbax (a dependency, pinned to 0.1.3: the newest release, vault
version 1.2, installs beside jax 0.10.2 / flax 0.12.8 without changing them).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np

from omiga.data.importers.mamujoco_layout import OMIGA_MAMUJOCO_LAYOUTS, convert_omiga_mamujoco
from omiga.data.importers.task_shapes import check_task_shapes
from omiga.data.schema import OfflineDataset
from omiga.errors import BackendUnavailableError, DatasetError

__all__ = ["FLASHBAX_INSTALL_HINT", "OMIGA_VAULT_UIDS", "import_og_marl_vault", "read_vault"]

FLASHBAX_INSTALL_HINT = "pip install flashbax==0.1.3"
OMIGA_VAULT_UIDS = ("Good", "Medium", "Poor", "Expert", "Medium-Replay", "Medium-Expert")
_LEAVES = ("observations", "actions", "rewards", "terminals", "truncations")


def read_vault(source: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every leaf of the vault at ``source`` (a ``<name>.vlt/<uid>`` directory) as NumPy arrays, flattened
    to dotted names (``infos.state``); DatasetError when it is no vault, BackendUnavailableError without
    flashbax."""
    source = Path(source)
    metadata_file = source / "metadata.json"
    if not metadata_file.is_file():
        uids = sorted(p.parent.name for p in source.glob("*/metadata.json")) if source.is_dir() else []
        hint = f"it holds the vaults {', '.join(uids)}: pass one of them" if uids else \
            "pass the uid directory of a vault, e.g. corridor.vlt/Good"
        raise DatasetError(f"no Flashbax vault at {source} (no metadata.json); {hint}")
    try:
        version = float(json.loads(metadata_file.read_text())["version"])
    except (ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{metadata_file} is not a Flashbax vault's metadata ({error})") from error
    if int(version) != 1:
        raise DatasetError(f"{source} is a Flashbax vault of version {version}; this importer reads version 1.x")
    try:
        from flashbax.vault import Vault
    except ImportError as error:
        raise BackendUnavailableError(f"reading a Flashbax vault needs flashbax ({error}): "
                                      f"{FLASHBAX_INSTALL_HINT}") from error
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # flashbax prints "Loading vault found at ..."
            vault = Vault(rel_dir=str(source.parent.parent.resolve()), vault_name=source.parent.name,
                          vault_uid=source.name)
            experience = vault.read().experience
    except Exception as error:  # tensorstore and flashbax raise many types for damaged stores
        raise DatasetError(f"cannot read the Flashbax vault at {source}: {type(error).__name__}: {error}") from error
    return {name: np.asarray(value) for name, value in _flatten(experience)}


def import_og_marl_vault(
    source: str | os.PathLike[str], *, task: str, quality: str | None = None,
) -> OfflineDataset:
    """Convert the OG-MARL vault at ``source`` (format in the module docstring) into an OfflineDataset."""
    from omiga.tasks import get_task

    source = Path(source)
    spec = get_task(task)
    leaves = _batch_row(read_vault(source), source)
    quality = quality or _quality_from_uid(source.name, spec.qualities)
    obs, actions = leaves["observations"], leaves["actions"]
    n_steps, n_agents = obs.shape[:2]
    rewards = leaves["rewards"].astype(np.float64)
    if not np.allclose(rewards, rewards[:, :1]):
        t = int(np.flatnonzero(~np.isclose(rewards, rewards[:, :1]).all(axis=1))[0])
        raise DatasetError(f"{source}: the agents' rewards differ at step {t} ({rewards[t].tolist()}); only "
                           "cooperative vaults with one team reward can be imported")
    terminals = leaves["terminals"].astype(bool).all(axis=1)
    truncations = leaves["truncations"].astype(bool).any(axis=1) & ~terminals
    truncations[-1] |= not terminals[-1]
    if task in OMIGA_MAMUJOCO_LAYOUTS:
        obs, state, actions = convert_omiga_mamujoco(obs, actions, task=task, source=source)
        avail = None
    else:
        state, avail = _state_and_legals(leaves, source, n_steps=n_steps, n_agents=n_agents)
        obs = obs.astype(np.float32)
        actions = actions.astype(np.int64 if avail is not None else np.float32)
    dataset = OfflineDataset.from_arrays(
        obs=obs, state=state, actions=actions, avail_actions=avail, rewards=rewards[:, 0].astype(np.float32),
        terminals=terminals, truncations=truncations, task=spec.name, quality=quality, source="og-marl-vault",
        behavior=f"imported from the Flashbax vault {source.parent.name}/{source.name} (OG-MARL)", seed=None,
        backend="sc2" if spec.family == "smac" else spec.default_backend,
    )
    return check_task_shapes(dataset, task=spec.name, source=source)


def _flatten(tree: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(tree, dict):
        return [item for key, value in tree.items() for item in _flatten(value, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), tree)]


def _quality_from_uid(uid: str, qualities: tuple[str, ...]) -> str:
    if uid.lower() in qualities:
        return uid.lower()
    raise DatasetError(f"the vault uid {uid!r} is not one of the task's qualities ({', '.join(qualities)}); "
                       "pass the quality explicitly (--quality)")


def _batch_row(leaves: dict[str, np.ndarray], source: Path) -> dict[str, np.ndarray]:
    """The leaves without their batch axis (OG-MARL's vaults have one row), checked for length and rank."""
    missing = [name for name in _LEAVES if name not in leaves]
    if missing:
        raise DatasetError(f"{source}: the vault lacks {', '.join(missing)} (it has {', '.join(sorted(leaves))}); "
                           "OG-MARL vaults store observations, actions, rewards, terminals and truncations")
    shapes = {name: leaves[name].shape for name in leaves}
    if any(len(shape) < 2 or shape[0] != 1 for shape in shapes.values()):
        raise DatasetError(f"{source}: expected one batch row in every leaf (shapes {shapes}); "
                           "split a multi-row vault into one vault per row first")
    rows = {name: value[0] for name, value in leaves.items()}
    n_steps = rows["observations"].shape[0]
    if n_steps == 0 or any(value.shape[0] != n_steps for value in rows.values()):
        raise DatasetError(f"{source}: the leaves have different numbers of steps ({shapes})")
    n_agents = rows["observations"].shape[1] if rows["observations"].ndim == 3 else -1
    for name, rank in (("observations", 3), ("rewards", 2), ("terminals", 2), ("truncations", 2)):
        if rows[name].ndim != rank or rows[name].shape[1] != n_agents:
            raise DatasetError(f"{source}: leaf {name} has shape {shapes[name]}, expected (1, T, N"
                               f"{', O' if rank == 3 else ''}) with the observations' N = {n_agents}")
    if rows["actions"].shape[:2] != (n_steps, n_agents) or rows["actions"].ndim not in (2, 3):
        raise DatasetError(f"{source}: leaf actions has shape {shapes['actions']}, expected (1, T, N) action ids or "
                           f"(1, T, N, k) continuous actions with T = {n_steps}, N = {n_agents}")
    return rows


def _state_and_legals(leaves: dict[str, np.ndarray], source: Path, *, n_steps: int,
                      n_agents: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``infos.state [T, S]`` and, for integer actions, ``infos.legals [T, N, A]`` as a bool mask."""
    state = leaves.get("infos.state")
    if state is None or state.ndim != 2:
        raise DatasetError(f"{source}: the vault needs infos.state (1, T, S) for the mixer's state, found "
                           f"{None if state is None else (1, *state.shape)}")
    if not np.issubdtype(leaves["actions"].dtype, np.integer):
        return state.astype(np.float32), None
    legals = leaves.get("infos.legals")
    if legals is None or legals.shape[:2] != (n_steps, n_agents) or legals.ndim != 3:
        raise DatasetError(f"{source}: discrete actions need infos.legals (1, T, N, A), found "
                           f"{None if legals is None else (1, *legals.shape)}")
    return state.astype(np.float32), legals.astype(bool)
