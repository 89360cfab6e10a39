"""Aggregate metrics of rliable (Agarwal et al., 2021), vectorised over leading bootstrap axes.

Each metric maps scores shaped ``(..., n_runs, n_tasks)`` to ``(...)`` and equals the matching
``rliable.metrics.aggregate_*`` on a single ``(n_runs, n_tasks)`` matrix:

- ``iqm``: 25%-trimmed mean of all runs × tasks.
- ``mean``: mean over tasks of the per-task mean over runs.
- ``median``: median over tasks of the per-task mean (so, as in rliable, it equals the mean for one task).
- ``optimality_gap``: ``gamma - mean(min(score, gamma))`` with ``gamma = 1``; meaningful on normalised scores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = ["METRICS", "MetricFunction", "aggregate_iqm", "aggregate_mean", "aggregate_median",
           "aggregate_optimality_gap", "metric_function"]

MetricFunction = Callable[[np.ndarray], np.ndarray]


def _flatten_runs_tasks(scores: np.ndarray) -> np.ndarray:
    return scores.reshape(*scores.shape[:-2], scores.shape[-2] * scores.shape[-1])


def aggregate_iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean: the 25%-trimmed mean over runs and tasks."""
    return stats.trim_mean(_flatten_runs_tasks(scores), proportiontocut=0.25, axis=-1)


def aggregate_mean(scores: np.ndarray) -> np.ndarray:
    """Mean over tasks of the per-task mean score."""
    return scores.mean(axis=-2).mean(axis=-1)


def aggregate_median(scores: np.ndarray) -> np.ndarray:
    """Median over tasks of the per-task mean score (rliable's definition)."""
    return np.median(scores.mean(axis=-2), axis=-1)


def aggregate_optimality_gap(scores: np.ndarray, *, gamma: float = 1.0) -> np.ndarray:
    """Optimality gap: how far scores fall short of ``gamma`` on average (lower is better)."""
    return gamma - np.minimum(scores, gamma).mean(axis=(-2, -1))


METRICS: dict[str, MetricFunction] = {
    "iqm": aggregate_iqm,
    "mean": aggregate_mean,
    "median": aggregate_median,
    "optimality_gap": aggregate_optimality_gap,
}


def metric_function(name: str) -> MetricFunction:
    """The metric registered under ``name``; unknown names get an error listing the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}: use one of {', '.join(METRICS)}") from None
