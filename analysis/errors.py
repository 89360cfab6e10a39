"""Errors raised by analysis/: every message names the problem and the fix."""

from __future__ import annotations

__all__ = ["AnalysisError", "ClaimError", "ScoresTableError"]


class AnalysisError(ValueError):
    """Base of every user-facing error in analysis/."""


class ScoresTableError(AnalysisError):
    """The scores table is missing columns, has bad values or has no usable runs."""


class ClaimError(AnalysisError):
    """A claim dict does not follow the schema documented in analysis.claims."""
