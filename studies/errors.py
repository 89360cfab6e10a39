"""The study layer's user-facing error."""

from __future__ import annotations

from omiga.errors import OmigaError

__all__ = ["StudyError"]


class StudyError(OmigaError):
    """A study spec, preset, storage or command-line option is invalid; the message names the fix."""
