"""User-facing errors: each message names the problem and the fix.

The command-line entry points catch `OmigaError`, print ``error: <message>`` and exit with status 2; a
traceback is shown only with ``--debug``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BackendUnavailableError",
    "ConfigError",
    "DatasetError",
    "OmigaError",
    "UnknownNameError",
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


def output_error(path: object, error: OSError) -> OutputError:
    """The `OutputError` for ``error`` raised while writing ``path``, naming the cause and the fix."""
    cause = error.strerror or str(error)
    wrapped = OutputError(f"cannot write {path}: {cause}; free disk space or choose a writable directory, then "
                          "rerun the same command (files written before are intact)")
    wrapped.errno = error.errno
    return wrapped
