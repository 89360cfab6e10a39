"""Offline datasets: the canonical schema, its validator, HDF5 I/O, importers and builders."""

from omiga.data.importers import IMPORT_FORMATS, import_dataset
from omiga.data.io import dataset_digest, load_dataset, read_dataset_file, save_dataset, validate_file
from omiga.data.returns import reward_to_go
from omiga.data.schema import (
    ARRAY_FIELDS,
    IMPORT_SOURCE_BACKENDS,
    SCHEMA_VERSION,
    DatasetAttrs,
    OfflineDataset,
    legacy_backend,
)
from omiga.data.synthetic import make_synthetic_dataset
from omiga.data.validate import validate_dataset

__all__ = [
    "ARRAY_FIELDS",
    "IMPORT_FORMATS",
    "IMPORT_SOURCE_BACKENDS",
    "SCHEMA_VERSION",
    "DatasetAttrs",
    "OfflineDataset",
    "dataset_digest",
    "import_dataset",
    "legacy_backend",
    "load_dataset",
    "make_synthetic_dataset",
    "read_dataset_file",
    "reward_to_go",
    "save_dataset",
    "validate_dataset",
    "validate_file",
]
