"""Atomic writes: each file through a temporary file beside it, and a whole report through a staging directory.

A crash never leaves a half-written report file; readers see the old file or the new one. A report is built in
a staging directory beside ``--out`` (:func:`staged_directory`) and swapped in whole, so a write failure half-way
leaves the previous report as it was, never new tables beside a stale index.html.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from omiga.errors import ConfigError, os_error_fix
from omiga.paths import check_output_dir

__all__ = ["ReportWriteError", "check_report_dir", "staged_directory", "write_atomic", "write_bytes_atomic",
           "write_text_atomic"]


class ReportWriteError(Exception):
    """A report file could not be written (disk full, read-only directory); the previous file is intact."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.path, self.error = Path(path), error
        super().__init__(f"cannot write {path}: {error.strerror or error}; "
                         f"{os_error_fix(error, elsewhere='pass a writable --out directory')}, then rerun (files "
                         "written before are intact)")


def check_report_dir(out_dir: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = (),
                     option: str = "--out") -> Path:
    """``out_dir`` may be replaced by a report: writable, holds no input, and is new, empty or a report already
    (an ``index.html`` and no subdirectory), since building swaps the whole directory."""
    out = check_output_dir(out_dir, inputs=inputs, option=option)
    if out.is_dir():
        entries = list(out.iterdir())
        foreign = [p.name for p in entries if p.is_dir()] or ([] if (out / "index.html").is_file() or not entries
                                                              else [p.name for p in entries][:3])
        if foreign:
            raise ConfigError(
                f"{option} {out} holds {', '.join(sorted(foreign)[:3])}, which is not a report; a report replaces its "
                "directory whole, so choose a new or empty directory (or a previous report's)")
    return out


def _swap_in(staging: Path, out: Path) -> None:
    """Move ``staging`` to ``out``; a previous ``out`` is moved aside first and removed after."""
    staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    if out.exists():
        os.rename(out, old)
    try:
        os.rename(staging, out)
    except OSError:
        if old.exists():
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def staged_directory(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging directory beside ``out_dir``; when the block succeeds it replaces ``out_dir``
    whole, when it fails it is removed and ``out_dir`` is untouched. Errors name the paths under ``out_dir``."""
    out = Path(out_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    except OSError as error:
        raise ReportWriteError(out, error) from error
    try:
        yield staging
        try:
            _swap_in(staging, out)
        except OSError as error:
            raise ReportWriteError(out, error) from error
    except ReportWriteError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if error.path.is_relative_to(staging):
            raise ReportWriteError(out / error.path.relative_to(staging), error.error) from error.error
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and move the result to ``path``; the temporary file is removed on error.

    An ``OSError`` (disk full, read-only directory) becomes :class:`ReportWriteError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    except OSError as error:
        raise ReportWriteError(path, error) from error
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ReportWriteError(path, error) from error
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))
