"""A spec's claims checked when the spec is read, so `studies all` refuses a bad claim before training anything.

The schema and its strict type checks are analysis's (`analysis.claims.validate_claim`); this module only
turns its `ClaimError` into a `StudyError` that names the spec and the claim.
"""

from __future__ import annotations

from collections.abc import Mapping

from studies.errors import StudyError

__all__ = ["check_claim"]


def check_claim(claim: Mapping[str, object], *, where: str) -> None:
    """Raise `StudyError` prefixed with ``where`` unless ``claim`` follows analysis's claim schema."""
    from analysis import AnalysisError, validate_claim

    try:
        validate_claim(claim)
    except AnalysisError as error:
        raise StudyError(f"{where}: {error}") from None
