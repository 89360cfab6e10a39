"""Importers of foreign dataset formats into the canonical schema, keyed by format name.

Every importer checks its result against the task's environment (:mod:`omiga.data.importers.task_shapes`)
before returning it; ``datasets import`` refuses an output that is, or lies inside, the source
(:func:`omiga.paths.check_output_file`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from omiga.data.importers.madt import import_madt
from omiga.data.importers.og_marl_vault import import_og_marl_vault
from omiga.data.importers.omiga_hdf5 import import_omiga_hdf5
from omiga.data.schema import DatasetAttrs, OfflineDataset
from omiga.errors import DatasetError, UnknownNameError

__all__ = ["IMPORT_FORMATS", "import_dataset", "import_madt", "import_og_marl_vault",
           "import_omiga_hdf5", "observation_mode"]

IMPORT_FORMATS: dict[str, Callable[..., OfflineDataset]] = {
    "omiga-hdf5": import_omiga_hdf5,
    "madt": import_madt,
    "og-marl-vault": import_og_marl_vault,
}


def import_dataset(
    source: str | os.PathLike[str], *, format: str, task: str, quality: str | None = None,
    trust_pickle: bool = False,
) -> OfflineDataset:
    """Convert ``source`` in ``format`` (a key of :data:`IMPORT_FORMATS`) into an OfflineDataset of ``task``.

    ``quality`` defaults to the vault's uid for ``og-marl-vault`` and to ``imported`` otherwise.
    ``trust_pickle`` is required for pickled formats (``madt``); it is ignored by the others.
    """
    if format not in IMPORT_FORMATS:
        raise UnknownNameError("dataset format", format, IMPORT_FORMATS)
    if format == "og-marl-vault":
        return import_og_marl_vault(source, task=task, quality=quality)
    quality = quality or "imported"
    if format == "madt":
        return import_madt(source, task=task, quality=quality, trust_pickle=trust_pickle)
    return IMPORT_FORMATS[format](source, task=task, quality=quality)


def observation_mode(attrs: DatasetAttrs) -> str:
    """The env ``obs_mode`` a dataset's observations are in: ``global`` for OMIGA's converted MaMuJoCo imports
    (``omiga-hdf5``, ``og-marl-vault``: OMIGA's z-scored [state, id] views), else ``local``; evaluate with it."""
    return "global" if attrs.backend == "mamujoco" and attrs.source in ("omiga-hdf5", "og-marl-vault") else "local"
