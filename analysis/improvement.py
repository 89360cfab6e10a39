"""Probability of improvement P(X > Y) between configurations, with bootstrap CIs.

Per stratum (one task × quality) P(X > Y) is the Mann–Whitney probability: the share of run pairs (x, y) with
x > y, ties counting one half — rliable's ``probability_of_improvement`` — and strata are averaged. X's and Y's
runs are resampled independently within each stratum, so X and Y may have different run counts. Identical
inputs give exactly 0.5.

:func:`pairwise_probability_of_improvement` (the report's table and figure) computes through analysis.engine:
``rliable.metrics.probability_of_improvement`` on runs × tasks matrices with rliable's independent stratified
bootstrap, or the vectorised engine that draws the same numbers. Where a group's run counts differ between
tasks, each task keeps the runs with the lowest seeds up to the smallest count (as the across-task estimates).
:func:`probability_of_improvement_ci` keeps per-stratum resampling for strata of unequal sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS, IntervalEstimate, percentile_interval
from analysis.engine import DEFAULT_ENGINE, probability_of_improvement_intervals
from analysis.estimates import across_task_matrix
from analysis.scores import ok_runs

__all__ = ["IMPROVEMENT_COLUMNS", "pairwise_probability_of_improvement", "probability_of_improvement",
           "probability_of_improvement_ci"]

IMPROVEMENT_COLUMNS = ("quality", "x", "y", "estimate", "ci_low", "ci_high", "n_x", "n_y")
_CHUNK_ELEMENTS = 4_000_000


def _pairwise_wins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mann–Whitney share over the last axis: x ``(..., n_x)``, y ``(..., n_y)`` -> ``(...)``."""
    greater = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
    ties = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
    return greater + 0.5 * ties


def probability_of_improvement(x_strata: Sequence[np.ndarray], y_strata: Sequence[np.ndarray]) -> float:
    """P(X > Y) averaged over strata; ``x_strata[k]`` and ``y_strata[k]`` are runs of the same task."""
    if len(x_strata) != len(y_strata) or not x_strata:
        raise ValueError("x_strata and y_strata must hold the same, non-zero number of tasks")
    return float(np.mean([_pairwise_wins(np.asarray(x, float), np.asarray(y, float))
                          for x, y in zip(x_strata, y_strata, strict=True)]))


def probability_of_improvement_ci(x_strata: Sequence[np.ndarray], y_strata: Sequence[np.ndarray], *,
                                  reps: int = DEFAULT_BOOTSTRAP_REPS, seed: int = 0,
                                  confidence: float = 0.95) -> IntervalEstimate:
    """P(X > Y) with a percentile CI from independent stratified resampling of X's and Y's runs."""
    estimate = probability_of_improvement(x_strata, y_strata)
    rng = np.random.RandomState(seed)
    replicates = np.zeros(reps)
    for x, y in zip(x_strata, y_strata, strict=True):
        x, y = np.asarray(x, float), np.asarray(y, float)
        x_res = x[rng.randint(0, len(x), size=(reps, len(x)))]
        y_res = y[rng.randint(0, len(y), size=(reps, len(y)))]
        chunk = max(1, _CHUNK_ELEMENTS // (len(x) * len(y)))
        for start in range(0, reps, chunk):
            replicates[start:start + chunk] += _pairwise_wins(x_res[start:start + chunk],
                                                              y_res[start:start + chunk])
    replicates /= len(x_strata)
    low, high = percentile_interval(replicates, confidence=confidence)
    return IntervalEstimate(estimate=estimate, ci_low=low, ci_high=high,
                            n_runs=min(min(len(x), len(y)) for x, y in zip(x_strata, y_strata, strict=True)))


def pairwise_probability_of_improvement(scores: pd.DataFrame, *, reps: int = DEFAULT_BOOTSTRAP_REPS,
                                        seed: int = 0, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """P(x > y) on normalised scores for every unordered pair of groups per quality, over shared tasks.

    Only pairs with ok runs on at least one common task are compared. Columns :data:`IMPROVEMENT_COLUMNS`;
    ``n_x``/``n_y`` are the runs per task used. P(y > x) is ``1 - P(x > y)``.
    """
    ok = ok_runs(scores)
    rows = []
    for quality, runs in ok.groupby("quality", sort=True):
        by_group = {str(g): gr for g, gr in runs.groupby("group", sort=True)}
        tasks = {g: frozenset(gr["task"]) for g, gr in by_group.items()}
        matrices: dict[tuple[str, frozenset], np.ndarray] = {}

        def matrix(group: str, shared: frozenset) -> np.ndarray:
            if (group, shared) not in matrices:
                runs_of = by_group[group]
                matrices[(group, shared)] = across_task_matrix(runs_of.loc[runs_of["task"].isin(shared)])
            return matrices[(group, shared)]

        for x, y in itertools.combinations(sorted(by_group), 2):
            shared = tasks[x] & tasks[y]
            if not shared:
                continue
            xs, ys = matrix(x, shared), matrix(y, shared)
            point, low, high = probability_of_improvement_intervals(xs, ys, reps=reps, seed=seed, engine=engine)
            rows.append({"quality": str(quality), "x": x, "y": y, "estimate": float(point[0]),
                         "ci_low": float(low[0]), "ci_high": float(high[0]), "n_x": xs.shape[0], "n_y": ys.shape[0]})
    return pd.DataFrame(rows, columns=list(IMPROVEMENT_COLUMNS))
