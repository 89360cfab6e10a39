"""Performance profiles: score distributions with bootstrap CIs (Agarwal et al., 2021, Sec. 4).

The profile at threshold τ is the fraction of runs whose normalised score exceeds τ, averaged over tasks
(each task weighted equally, which equals rliable's ``score_distributions`` when run counts are equal).
:func:`performance_profiles` (the report's figure) computes through analysis.engine: rliable's
``create_performance_profile`` on each group's runs × tasks matrix (lowest seeds kept where a group's task
counts differ, as the across-task estimates), or the vectorised engine that draws the same numbers.
:func:`score_distribution` resamples strata of unequal sizes separately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS
from analysis.engine import DEFAULT_ENGINE, performance_profile_intervals
from analysis.estimates import across_task_matrix
from analysis.scores import ok_runs

__all__ = ["PROFILE_COLUMNS", "performance_profiles", "score_distribution"]

PROFILE_COLUMNS = ("quality", "group", "tau", "fraction", "ci_low", "ci_high", "n_runs")


def score_distribution(strata: list[np.ndarray], *, taus: np.ndarray, reps: int, seed: int,
                       confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of runs above each τ (mean over strata) and its percentile CI: (fraction, low, high)."""
    taus = np.asarray(taus, dtype=np.float64)
    rng = np.random.RandomState(seed)
    point = np.zeros(len(taus))
    replicates = np.zeros((reps, len(taus)))
    for values in strata:
        values = np.asarray(values, dtype=np.float64)
        point += (values[:, None] > taus).mean(axis=0)
        resampled = np.sort(values[rng.randint(0, len(values), size=(reps, len(values)))], axis=1)
        above = len(values) - np.stack([np.searchsorted(row, taus, side="right") for row in resampled])
        replicates += above / len(values)
    point /= len(strata)
    replicates /= len(strata)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    return point, low, high


def performance_profiles(scores: pd.DataFrame, *, n_taus: int = 51, reps: int = DEFAULT_BOOTSTRAP_REPS // 10,
                         seed: int = 0, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """Score distributions of every group per quality on a τ grid spanning the normalised scores.

    ``n_runs`` is the runs per task behind each profile.
    """
    if n_taus < 2:
        raise ValueError(f"n_taus must be >= 2, got {n_taus}")
    ok = ok_runs(scores)
    values = ok["normalized_score"].to_numpy(dtype=np.float64)
    taus = np.linspace(min(0.0, values.min()), max(1.0, values.max()), n_taus)
    frames = []
    for (quality, group), runs in ok.groupby(["quality", "group"], sort=True):
        matrix = across_task_matrix(runs)
        fraction, low, high = performance_profile_intervals(matrix, taus=taus, reps=reps, seed=seed, engine=engine)
        frames.append(pd.DataFrame({"quality": str(quality), "group": str(group), "tau": taus,
                                    "fraction": fraction, "ci_low": low, "ci_high": high,
                                    "n_runs": matrix.shape[0]}))
    return pd.concat(frames, ignore_index=True)
