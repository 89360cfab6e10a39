"""Behaviour checkpoints: flax parameter trees in one ``.npz`` with a JSON header.

A file holds the pytree's leaves under their key paths (``"['actor']['params']['Dense_0']['kernel']"``) and ``__meta__``, a JSON
object (task, scenario, learner config, team-steps trained, training returns). Actor-only files (the shipped
skill levels, a few hundred kB) and full training files (actor, critic, Adam: for resume) share the format.
Loading checks the header and each array against the expected tree and says what is wrong and how to fix it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from omiga.atomic import write_atomic
from omiga.errors import DatasetError

__all__ = ["load_tree", "read_meta", "save_tree"]

META_KEY = "__meta__"
FORMAT = "omiga-behaviour-checkpoint-v1"


def save_tree(path: Path, tree: Any, meta: dict[str, Any]) -> Path:
    """Write a pytree (dicts / optax states of arrays) and its metadata atomically to ``path``."""
    arrays = {key: np.asarray(value) for key, value in _leaves(tree).items()}
    header = json.dumps({"format": FORMAT, **meta}, sort_keys=True)
    def write(temporary: Path) -> None:
        with open(temporary, "wb") as stream:  # a file object: np.savez would append ".npz" to a path
            np.savez_compressed(stream, **arrays, **{META_KEY: np.frombuffer(header.encode(), dtype=np.uint8)})

    return write_atomic(path, write)


def _open(path: Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"behaviour checkpoint {path} does not exist; train one with "
                           "`python -m omiga behaviour train` or restore the shipped file with git")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(f"behaviour checkpoint {path} is unreadable ({error}); it is truncated or not a "
                           "checkpoint: restore it with `git checkout -- <file>` or retrain it") from None


def _meta(path: Path, data: dict[str, np.ndarray]) -> dict[str, Any]:
    try:
        meta = json.loads(data[META_KEY].tobytes().decode())
    except (KeyError, ValueError, UnicodeDecodeError):
        raise DatasetError(f"behaviour checkpoint {path} has no readable header; it is not an omiga behaviour "
                           "checkpoint (restore it with git or retrain it)") from None
    if meta.get("format") != FORMAT:
        raise DatasetError(f"behaviour checkpoint {path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON header of a checkpoint."""
    return _meta(Path(path), _open(path))


def load_tree(path: Path, template: Any) -> tuple[Any, dict[str, Any]]:
    """(tree shaped like ``template``, header) from ``path``; every array's shape is checked."""
    data = _open(path)
    meta = _meta(Path(path), data)
    expected = _leaves(template)
    missing = sorted(set(expected) - set(data))
    if missing:
        raise DatasetError(f"behaviour checkpoint {path} lacks {missing[:3]}: it was made for other networks "
                           "(another task or hidden size); retrain it or pass the matching checkpoint")
    for key, value in expected.items():
        if np.shape(value) != data[key].shape:
            raise DatasetError(f"behaviour checkpoint {path}: {key} has shape {data[key].shape}, the networks "
                               f"expect {np.shape(value)} (another task or hidden size)")
    treedef = jax.tree_util.tree_structure(template)
    return jax.tree_util.tree_unflatten(treedef, [data[key] for key in expected]), meta


def _leaves(tree: Any) -> dict[str, Any]:
    """Leaves by key path, in the tree's flattening order."""
    return {jax.tree_util.keystr(path): leaf for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}
