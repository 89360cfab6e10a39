"""Paths checked before any work: outputs writable, of the right kind (file or directory) and never an input;
inputs readable files (:func:`check_input_file`: a directory or a permission problem is named as such, never as
"corrupted" or "does not exist").

Each check raises `~omiga.errors.ConfigError` naming the option, the path, the problem and the fix. Nothing is
created: writability is probed with a temporary file in the nearest existing directory, which is removed again
(a permission bit is not the whole story: a read-only mount, or a root user to whom chmod means nothing).
Stdlib only (the reports command line uses it too).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from omiga.errors import ConfigError, os_error_fix

__all__ = ["check_input_file", "check_output_dir", "check_output_file", "same_path"]


def same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file (links and hard links included) or the same resolved path."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_input_file(path: str | os.PathLike[str], *, what: str, directory_fix: str, elsewhere: str,
                     error: type[Exception] = ConfigError) -> Path:
    """``path`` (which exists) is a file this process can open; else ``error`` naming the real cause and the fix."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {path} is a directory, not a file: {directory_fix}")
    try:
        with open(path, "rb"):
            pass
    except OSError as problem:  # permission denied is not "corrupted"
        raise error(f"cannot open {what} {path}: {problem.strerror or problem}; "
                    f"{os_error_fix(problem, elsewhere=elsewhere)}") from None
    return path


def _nearest_existing(path: Path, option: str) -> Path:
    """The nearest existing ancestor of ``path`` (which must be a directory)."""
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{option} {path}: {parent} is a file, not a directory; move that file away or "
                                  f"choose another path for {option}")
            return parent
    raise ConfigError(f"{option} {path}: no directory above it exists")  # pragma: no cover - / always exists


def _probe_writable(directory: Path, *, path: Path, option: str) -> None:
    try:
        handle, name = tempfile.mkstemp(dir=directory, prefix=".omiga-write-probe.")
    except OSError as error:
        raise ConfigError(f"{option} {path}: cannot write in {directory} ({error.strerror or error}); "
                          f"{os_error_fix(error, elsewhere=f'choose another path for {option}')}") from None
    os.close(handle)
    os.unlink(name)


def _refuse_inputs(path: Path, inputs: Iterable[str | os.PathLike[str]], option: str, *, contains: bool) -> None:
    for source in inputs:
        source = Path(source)
        if same_path(path, source):
            raise ConfigError(f"{option} {path} is the input {source} itself: writing there would destroy it; "
                              f"choose another path for {option}")
        if contains and source.absolute().resolve().is_relative_to(path.absolute().resolve()):
            raise ConfigError(f"{option} {path} contains the input {source}, which writing the output would "
                              f"replace; choose another path for {option}")


def check_output_file(path: str | os.PathLike[str], *, option: str = "--out",
                      inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``path`` can be written as a file: not a directory, in a writable directory, none of ``inputs``."""
    path = Path(path)
    _refuse_inputs(path, inputs, option, contains=False)
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a directory; give the path of a file to write (e.g. "
                          f"{path / 'dataset.h5'})")
    _probe_writable(path.parent if path.parent.is_dir() else _nearest_existing(path, option), path=path,
                    option=option)
    return path


def check_output_dir(path: str | os.PathLike[str], *, option: str = "--out",
                     inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``path`` can be (or become) a writable directory that is not, and does not hold, any of ``inputs``."""
    path = Path(path)
    _refuse_inputs(path, inputs, option, contains=True)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a directory; give a directory (it is created when "
                          "missing) or move the file away")
    _probe_writable(path if path.is_dir() else _nearest_existing(path, option), path=path, option=option)
    return path
