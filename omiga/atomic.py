"""Atomic file writes: a temporary file beside the target, fsynced, then ``os.replace``d into place.

Readers see the old file or the new one, never half of either; on any failure the temporary file is removed and
the target is untouched, and an ``OSError`` (disk full, read-only directory) becomes one
:class:`~omiga.errors.OutputError` naming the path and the fix. omiga/ and studies/ write every result through
:func:`write_atomic` (reports/ keeps its own twin, since it does not import omiga).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from omiga.errors import output_error

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, fsync the file, move it onto ``path`` and fsync the directory."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        os.chmod(name, 0o666 & ~_current_umask())  # mkstemp creates 0600; match a normally created file
    except OSError as error:
        raise output_error(path, error) from error
    temporary = Path(name)
    try:
        write(temporary)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise output_error(path, error) from error
        raise
    _fsync_directory(path.parent)
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
