"""User-facing errors: each message names the problem and the fix.

The command-line entry points catch `OmigaError`, print ``error: <message>`` and exit with status 2; a
traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "DatasetError",
    "OmigaError",
    "OutputError",
    "UnknownNameError",
    "os_error_fix",
    "output_error",
]


class OmigaError(Exception):
    """Base class of every error a user can fix by changing their input or installation."""


class DatasetError(OmigaError):
    """A dataset file is missing, unreadable or violates the canonical schema."""


class ConfigError(OmigaError, ValueError):
    """A configuration value is out of range or inconsistent."""


class BackendUnavailableError(OmigaError):
    """An optional backend (StarCraft II, a database driver, ...) is not installed."""


class UnknownNameError(OmigaError, KeyError):
    """A name (task, mixer, backend, method, preset) is not in its registry."""

    def __init__(self, kind: str, name: str, known: Iterable[str], *, plural: str | None = None):
        self.kind, self.name, self.known = kind, name, tuple(sorted(known))
        super().__init__(f"unknown {kind} {name!r}; known {plural or kind + 's'}: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class OutputError(OmigaError, OSError):
    """An output file could not be written (disk full, read-only directory); nothing half-written is left.

    Also an ``OSError`` (``errno`` kept), so callers that handle I/O errors keep working.
    """


def os_error_fix(error: OSError, *, elsewhere: str = "choose a writable directory") -> str:
    """What to do about ``error``, by its errno: a full disk is not a permission problem, nor "file exists"."""
    code = error.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"free disk space or {elsewhere}"
    if code in (errno.EACCES, errno.EPERM):
        return f"give yourself access to it (chmod / chown) or {elsewhere}"
    if code == errno.EROFS:
        return f"the file system is mounted read-only: {elsewhere}"
    if code == errno.EEXIST:
        return f"something already exists at that path: remove or rename it, or {elsewhere}"
    if code == errno.EISDIR:
        return f"a directory stands where a file belongs: remove or rename it, or {elsewhere}"
    if code == errno.ENOTDIR:
        return f"a part of the path is a file, not a directory: move that file, or {elsewhere}"
    if code == errno.ENOENT:
        return "check the path: it (or a directory above it) does not exist"
    if code == errno.ENAMETOOLONG:
        return "shorten the path"
    return f"check the path and {elsewhere}"


def output_error(path: object, error: OSError) -> OutputError:
    """The `OutputError` for ``error`` raised while writing ``path``, naming the cause and the fix."""
    cause = error.strerror or str(error)
    wrapped = OutputError(f"cannot write {path}: {cause}; {os_error_fix(error)}, then rerun the same command "
                          "(files written before are intact)")
    wrapped.errno = error.errno
    return wrapped
