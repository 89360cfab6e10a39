"""Reading and writing canonical datasets as gzip-compressed HDF5 files.

Layout: one HDF5 dataset per array field (``obs``, ``state``, ``actions``, ``avail_actions`` for discrete
actions, ``rewards``, ``terminals``, ``truncations``) and the :class:`~omiga.data.schema.DatasetAttrs` as
file attributes (``seed`` is omitted for imported data). Files written before ``backend`` was stored load with
the backend named in their ``behavior`` text, their import format's, or ``unknown``
(:func:`~omiga.data.schema.legacy_backend`). Writes are atomic: a temporary file in the target
directory is written, fsynced and renamed over the target, so a crash never leaves a half-written dataset.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import h5py
import numpy as np

from omiga.atomic import write_atomic
from omiga.data.schema import ARRAY_FIELDS, DatasetAttrs, OfflineDataset, legacy_backend
from omiga.data.validate import validate_dataset
from omiga.errors import DatasetError
from omiga.paths import check_input_file

__all__ = ["dataset_digest", "load_dataset", "read_dataset_file", "save_dataset", "validate_file"]

_REBUILD = "rebuild it with `python -m omiga datasets build` or re-import it with `python -m omiga datasets import`"


def save_dataset(dataset: OfflineDataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` to ``path`` atomically (temp file, fsync, rename); returns the path."""

    def write(temporary: Path) -> None:
        with h5py.File(temporary, "w") as file:
            for name, array in dataset.arrays().items():
                if array is not None:
                    file.create_dataset(name, data=array, compression="gzip", compression_opts=4,
                                        shuffle=True, chunks=True if array.size else None)
            for key, value in dataset.attrs.to_dict().items():
                if value is not None:
                    file.attrs[key] = value

    return write_atomic(path, write)


def read_dataset_file(path: str | os.PathLike[str], *,
                      fields: tuple[str, ...] = ARRAY_FIELDS) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The raw arrays (those of ``fields`` the file has) and attributes of an HDF5 dataset file, without validation.

    Raises DatasetError when the file is missing, not HDF5, truncated or otherwise unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no dataset file at {path}: check the path, or build the dataset with "
                           "`python -m omiga datasets build --task T --quality Q`")
    inside = ", ".join(sorted(p.name for p in path.glob("*.h5"))[:3]) if path.is_dir() else ""
    check_input_file(path, what="dataset file", error=DatasetError, elsewhere="copy it somewhere readable",
                     directory_fix=f"pass the .h5 file itself (e.g. one of {inside or 'the .h5 files inside it'})")
    try:
        with h5py.File(path, "r") as file:
            arrays = {name: file[name][()] for name in fields if name in file}
            attrs = {key: _python_value(value) for key, value in file.attrs.items()}
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
        raise DatasetError(
            f"{path} is not a readable HDF5 dataset (truncated, corrupted or another format: {error}); "
            f"{_REBUILD}"
        ) from error
    return arrays, attrs


def validate_file(path: str | os.PathLike[str]) -> list[str]:
    """Problems of the dataset file at ``path`` (empty means valid); unreadable files raise DatasetError."""
    arrays, attrs = read_dataset_file(path)
    return validate_dataset(arrays, attrs=attrs)


def load_dataset(path: str | os.PathLike[str]) -> OfflineDataset:
    """Load and validate a dataset file; DatasetError lists every problem (field, shape, episode) and the fix."""
    arrays, attrs = read_dataset_file(path)
    problems = validate_dataset(arrays, attrs=attrs)
    if problems:
        raise DatasetError(f"{path} is not a valid omiga dataset ({_REBUILD}):\n  - " + "\n  - ".join(problems))
    known = {key: attrs[key] for key in DatasetAttrs.__dataclass_fields__ if key in attrs}
    known.setdefault("seed", None)
    known.setdefault("backend", legacy_backend(attrs))
    return OfflineDataset(**{name: arrays.get(name) for name in ARRAY_FIELDS}, attrs=DatasetAttrs(**known))


def dataset_digest(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of the file's bytes (the dataset hash recorded in every run's provenance)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise DatasetError(f"cannot read dataset file {path} to hash it: {error}") from error
    return digest.hexdigest()


def _python_value(value: object) -> object:
    """HDF5 attribute values as plain Python (numpy scalars -> int/float/bool, bytes -> str)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


