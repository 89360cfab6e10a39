"""Atomic checkpoint and JSON writes; checkpoints load with ``weights_only=True``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

from omiga.atomic import write_atomic
from omiga.errors import ConfigError
from omiga.paths import check_input_file

__all__ = ["load_checkpoint", "save_checkpoint", "write_json_atomic"]


def _write_stream(path: Path, write: Callable[[BinaryIO], object]) -> None:
    def to_file(temporary: Path) -> None:
        with open(temporary, "wb") as stream:
            write(stream)

    write_atomic(path, to_file)


def save_checkpoint(payload: dict[str, Any], path: Path) -> None:
    """``torch.save`` the payload (tensors, plain containers, numbers, strings) to ``path`` atomically."""
    _write_stream(Path(path), lambda stream: torch.save(payload, stream))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``, onto the CPU)."""
    check_input_file(path, what="checkpoint", directory_fix="move it away or use a fresh --out directory",
                     elsewhere="use a fresh --out directory")
    try:
        return torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt or foreign file, or pickled objects that weights_only refuses
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise ConfigError(f"cannot read checkpoint {path} ({type(error).__name__}: {detail}): it is truncated, "
                          "corrupted or holds more than tensors and plain values (refused: checkpoints load "
                          "with weights_only=True); delete it to start the run afresh") from error


def write_json_atomic(data: object, path: Path) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=True) + "\n"
    _write_stream(Path(path), lambda stream: stream.write(text.encode()))
