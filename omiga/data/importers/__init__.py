"""Importers of foreign dataset formats into the canonical schema, keyed by format name."""

from __future__ import annotations

import os
from collections.abc import Callable

from omiga.data.importers.madt import import_madt
from omiga.data.importers.omiga_hdf5 import import_omiga_hdf5
from omiga.data.schema import OfflineDataset
from omiga.errors import UnknownNameError

__all__ = ["IMPORT_FORMATS", "import_dataset", "import_madt", "import_omiga_hdf5"]

IMPORT_FORMATS: dict[str, Callable[..., OfflineDataset]] = {
    "omiga-hdf5": import_omiga_hdf5,
    "madt": import_madt,
}


def import_dataset(
    source: str | os.PathLike[str], *, format: str, task: str, quality: str, trust_pickle: bool = False
) -> OfflineDataset:
    """Convert ``source`` in ``format`` (``omiga-hdf5`` or ``madt``) into an OfflineDataset.

    ``trust_pickle`` is required for pickled formats (``madt``); it is ignored by the others.
    """
    if format not in IMPORT_FORMATS:
        raise UnknownNameError("dataset format", format, IMPORT_FORMATS)
    if format == "madt":
        return import_madt(source, task=task, quality=quality, trust_pickle=trust_pickle)
    return IMPORT_FORMATS[format](source, task=task, quality=quality)
