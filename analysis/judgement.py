"""Decision rules that turn bootstrap replicates into verdicts (shared by claims and power analysis).

Verdict codes: ``+1`` supported, ``-1`` refuted, ``0`` inconclusive. Replicate arrays carry any leading
shape ``(...)`` and the bootstrap replicates on the last axis, so the same rule judges one data set or
thousands of simulated ones at once. A claim is supported only when its whole CI lies on its side: a CI that
touches or crosses the boundary is inconclusive, never supported.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "INCONCLUSIVE",
    "REFUTED",
    "SUPPORTED",
    "VERDICT_NAMES",
    "difference_verdict",
    "interval_on_last_axis",
    "near_best_verdict",
    "ratio_band_verdict",
]

SUPPORTED, REFUTED, INCONCLUSIVE = 1, -1, 0
VERDICT_NAMES = {SUPPORTED: "supported", REFUTED: "refuted", INCONCLUSIVE: "inconclusive"}


def interval_on_last_axis(replicates: np.ndarray, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over the last axis: (low, high), each shaped like ``replicates[..., 0]``."""
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=-1)
    return low, high


def difference_verdict(a: np.ndarray, b: np.ndarray, *, confidence: float = 0.95,
                        margin: float = 0.0, min_effect: float = 0.0) -> np.ndarray:
    """Is a better than b (margin 0), or no worse than b by more than ``margin`` ≥ 0?

    Supported when the CI of a − b lies above −margin, refuted when it lies below −margin. With a smallest
    effect of interest ``min_effect`` = δ > 0 (margin 0), a CI that is not supported but lies wholly below δ
    is refuted too: a may be better, but by less than δ, which the claim counts as no advantage (the
    equivalence-testing reading of "a beats b"; a significant advantage smaller than δ stays supported).
    """
    low, high = interval_on_last_axis(a - b, confidence=confidence)
    refuted = (high < -margin) | ((min_effect > 0) & (high < min_effect))
    return np.where(low > -margin, SUPPORTED, np.where(refuted, REFUTED, INCONCLUSIVE))


def ratio_band_verdict(levels: np.ndarray, estimates: np.ndarray, *, within: float,
                       confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Are all levels within ``within`` (relative) of the best level?

    ``levels`` is ``(L, ..., B)`` replicates of each level's metric, ``estimates`` ``(L, ...)`` the point
    estimates; the best level is the one with the highest estimate. Each level's ratio to the best is judged by
    its CI: supported when every CI lies inside ``[1 - within, 1 + within]``, refuted when some CI lies wholly
    outside it, inconclusive otherwise (and wherever the best estimate is not positive).
    Returns (verdict ``(...)``, worst level index ``(...)``, its ratio CI low and high ``(...)``).
    """
    best = np.argmax(estimates, axis=0)
    best_reps = np.take_along_axis(levels, best[None, ..., None], axis=0)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = levels / best_reps
    low, high = interval_on_last_axis(ratios, confidence=confidence)
    inside = (low >= 1.0 - within) & (high <= 1.0 + within)
    outside = (high < 1.0 - within) | (low > 1.0 + within)
    best_positive = np.take_along_axis(estimates, best[None], axis=0)[0] > 0
    verdict = np.where(~best_positive, INCONCLUSIVE,
                       np.where(inside.all(axis=0), SUPPORTED,
                                np.where(outside.any(axis=0), REFUTED, INCONCLUSIVE)))
    worst = np.argmin(np.where(np.isfinite(low), low, -np.inf), axis=0)
    worst_low = np.take_along_axis(low, worst[None], axis=0)[0]
    worst_high = np.take_along_axis(high, worst[None], axis=0)[0]
    return verdict, worst, worst_low, worst_high


def near_best_verdict(levels: np.ndarray, estimates: np.ndarray, *, within: float, best: int | None = None,
                      confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Is every level within ``within`` (relative, one-sided) of the best level?

    ``levels`` is ``(L, ..., B)`` replicates of each level's metric, ``estimates`` ``(L, ...)``; the best level
    is ``best`` (an index, e.g. chosen on other seeds) or else the highest estimate. A level is *near* when the
    CI of its ratio to the best lies at or above ``1 - within`` and *far* when it lies wholly below. Supported
    when every level is near, refuted when some level is far, inconclusive otherwise (and wherever the best
    estimate is not positive). Returns (verdict ``(...)``, ratio CI low ``(L, ...)``, ratio CI high ``(L, ...)``).
    """
    index = np.argmax(estimates, axis=0) if best is None else np.full(estimates.shape[1:], best, dtype=int)
    best_reps = np.take_along_axis(levels, index[None, ..., None], axis=0)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = levels / best_reps
    low, high = interval_on_last_axis(ratios, confidence=confidence)
    near, far = low >= 1.0 - within, high < 1.0 - within
    best_positive = np.take_along_axis(estimates, index[None], axis=0)[0] > 0
    verdict = np.where(~best_positive, INCONCLUSIVE,
                       np.where(near.all(axis=0), SUPPORTED, np.where(far.any(axis=0), REFUTED, INCONCLUSIVE)))
    return verdict, low, high
