"""Learning curves: IQM bands over runs, whether the last fifth of training is flat, and best against last.

Input is the curves table (docs/interfaces.md, "Curves table"): one row per run × evaluation point. A run is a
configuration (``group``, labelled as in the scores table) × task × quality × seed; only ok runs are used.
Verdicts elsewhere use the final evaluation, as the paper does; these frames say whether that final point is
where the runs had settled.

- :func:`learning_curve_bands`: per quality × group × step, the IQM over runs with a stratified-bootstrap CI
  (rliable's ``get_interval_estimates`` on a runs × tasks × steps array; the vectorised engine reproduces it).
- :func:`last_fraction_flatness`: per task × quality × group, the change of the IQM from the evaluation point
  at (or just before) ``1 - fraction`` of training to the final one, with a paired bootstrap CI (runs resampled
  together at both points, on ``normalized_score``). *flat* when the CI lies inside ``[-margin, margin]``,
  *rising* / *falling* when it lies wholly above ``margin`` / below ``-margin``, else *undecided*.
- :func:`best_versus_last`: per task × quality × group, the IQM of each run's final score, the IQM of each
  run's best score over its evaluation points (CORL's "best", an optimistic oracle), their gap with a paired
  bootstrap CI, and the step at which the IQM band peaks.
- :func:`convergence_summary`: the two side by side, one row per task × quality × group, in the order of the
  final IQM (best first): what a report shows under "did the runs converge?".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS, percentile_interval
from analysis.engine import DEFAULT_ENGINE, check_engine, curve_metric_intervals
from analysis.errors import ScoresTableError
from analysis.scores import load_scores

__all__ = ["BEST_LAST_COLUMNS", "CONVERGENCE_COLUMNS", "CURVE_BAND_COLUMNS", "CURVE_COLUMNS", "FLATNESS_COLUMNS",
           "best_versus_last", "convergence_summary", "last_fraction_flatness", "learning_curve_bands",
           "load_curves"]

CURVE_COLUMNS = ("task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed", "status", "step",
                 "score", "normalized_score")
"""Required columns of the curves table (plus any ``hp_*`` configuration column)."""
CURVE_BAND_COLUMNS = ("quality", "group", "value", "step", "estimate", "ci_low", "ci_high", "n_runs")
FLATNESS_COLUMNS = ("task", "quality", "group", "start_step", "end_step", "change", "ci_low", "ci_high", "margin",
                    "trend", "n_runs")
BEST_LAST_COLUMNS = ("task", "quality", "group", "last", "best", "gap", "gap_low", "gap_high", "best_step",
                     "n_runs")
CONVERGENCE_COLUMNS = ("task", "quality", "group", "n_runs", "last", "best", "gap", "gap_low", "gap_high",
                       "best_step", "end_step", "start_step", "change", "ci_low", "ci_high", "margin", "trend")
_CELL = ["task", "quality", "group"]


def _iqm(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.trim_mean(values, proportiontocut=0.25, axis=axis)


def load_curves(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read and check a curves table; return its ok rows with a ``group`` label and numeric measures."""
    if isinstance(source, pd.DataFrame):
        table = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise ScoresTableError(f"curves table {path} does not exist: export the study (it writes curves.csv)")
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = [c for c in CURVE_COLUMNS if c not in table.columns]
    if missing:
        raise ScoresTableError(f"curves table lacks column(s) {', '.join(missing)}: it needs "
                               f"{', '.join(CURVE_COLUMNS)} (docs/interfaces.md, 'Curves table')")
    table = table.loc[table["status"].astype(str) == "ok"].reset_index(drop=True)
    for column in ("step", "score", "normalized_score"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
        if table[column].isna().any():
            row = int(np.flatnonzero(table[column].isna())[0])
            raise ScoresTableError(f"curves table ok row {row}: {column} is empty or not a number")
    if table.empty:
        raise ScoresTableError("curves table has no ok run: nothing to plot; check the study's failed runs")
    identity = [c for c in table.columns if c not in ("step", "score", "win_rate", "normalized_score", "group")]
    runs = table.loc[:, identity].drop_duplicates().reset_index(drop=True)
    # labelled by the scores table's own rules, so curves and scores name each configuration alike
    labelled = load_scores(runs.assign(steps=0, score=0.0, win_rate=np.nan, normalized_score=0.0))
    runs["group"] = labelled["group"].astype(str).to_numpy()
    table = table.drop(columns=["group"], errors="ignore").merge(runs, on=identity, how="left")
    duplicated = table.duplicated(subset=[*_CELL, "seed", "step"])
    if duplicated.any():
        row = table.loc[duplicated].iloc[0]
        raise ScoresTableError(f"curves table: run {row['group']} seed {row['seed']} on {row['task']}/"
                               f"{row['quality']} has step {row['step']} twice: keep one row per run and step")
    return table


def _runs_by_steps(cell: pd.DataFrame, column: str) -> pd.DataFrame:
    return cell.pivot_table(index="seed", columns="step", values=column, aggfunc="first").sort_index(axis=1)


def _curve_array(runs: pd.DataFrame, *, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Runs × tasks × steps over the steps every run has, lowest seeds kept per task: (array, steps)."""
    steps = sorted(set.intersection(*(set(g["step"]) for _, g in runs.groupby(["task", "seed"]))))
    per_task = []
    for _, task_runs in runs.groupby("task", sort=True):
        wide = task_runs.pivot_table(index="seed", columns="step", values=column, aggfunc="first")
        per_task.append(wide.loc[:, steps].sort_index().to_numpy(np.float64))
    n_runs = min(len(values) for values in per_task)
    return np.stack([values[:n_runs] for values in per_task], axis=1), np.asarray(steps)


def learning_curve_bands(curves: pd.DataFrame, *, reps: int = DEFAULT_BOOTSTRAP_REPS // 10, seed: int = 0,
                         confidence: float = 0.95, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """IQM and its CI at every step per quality and group (columns :data:`CURVE_BAND_COLUMNS`).

    ``curves`` comes from :func:`load_curves`; ``value`` names the column scored (score | normalized_score).
    """
    check_engine(engine)
    ok = curves.loc[curves["status"].astype("string") == "ok"]
    frames = []
    for quality, runs in ok.groupby("quality", sort=True):
        column = "score" if runs["task"].nunique() == 1 else "normalized_score"
        for group, group_runs in runs.groupby("group", sort=True):
            array, steps = _curve_array(group_runs, column=column)
            if not len(steps):
                continue
            point, low, high = curve_metric_intervals(array, metric="iqm", reps=reps, seed=seed,
                                                      confidence=confidence, engine=engine)
            frames.append(pd.DataFrame({"quality": str(quality), "group": str(group), "value": column, "step": steps,
                                        "estimate": point, "ci_low": low, "ci_high": high,
                                        "n_runs": array.shape[0]}))
    if not frames:
        return pd.DataFrame(columns=list(CURVE_BAND_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _paired(matrix: np.ndarray, rng: np.random.RandomState, reps: int, confidence: float,
            statistic) -> tuple[float, float, float]:
    """Statistic of a runs × 2 matrix and its CI, runs resampled together."""
    resampled = matrix[rng.randint(0, len(matrix), size=(reps, len(matrix)))]
    low, high = percentile_interval(statistic(resampled, axis=1), confidence=confidence)
    return float(statistic(matrix[None], axis=1)[0]), low, high


def _iqm_difference(values: np.ndarray, axis: int) -> np.ndarray:
    """IQM of the second column minus IQM of the first, over runs (``axis``)."""
    return _iqm(np.take(values, 1, axis=-1), axis=axis) - _iqm(np.take(values, 0, axis=-1), axis=axis)


def last_fraction_flatness(curves: pd.DataFrame, *, fraction: float = 0.2, margin: float = 0.05,
                           reps: int = 2000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Is the IQM flat over the last ``fraction`` of training? (columns :data:`FLATNESS_COLUMNS`).

    Uses the runs evaluated at both the window's start and the final step; ``margin`` is in normalised-score
    units. A cell with a single evaluation point has trend ``too few points``.
    """
    if not 0 < fraction < 1 or not margin >= 0:
        raise ValueError(f"fraction must be in (0, 1) and margin >= 0, got fraction={fraction}, margin={margin}")
    rng = np.random.RandomState(seed)
    rows = []
    for (task, quality, group), cell in curves.groupby(_CELL, sort=True):
        runs = _runs_by_steps(cell, "normalized_score")
        steps = [int(s) for s in runs.columns]
        end = steps[-1]
        earlier = [s for s in steps[:-1] if s <= math.floor((1 - fraction) * end)] or steps[:-1]
        row = {"task": task, "quality": quality, "group": group, "end_step": end, "margin": margin}
        if not earlier:
            rows.append({**row, "start_step": end, "change": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                         "trend": "too few points", "n_runs": len(runs)})
            continue
        start = earlier[-1]
        matrix = runs.loc[:, [start, end]].dropna().to_numpy(np.float64)
        change, low, high = _paired(matrix, rng, reps, confidence, _iqm_difference)
        trend = ("flat" if -margin <= low and high <= margin else "rising" if low > margin
                 else "falling" if high < -margin else "undecided")
        rows.append({**row, "start_step": start, "change": change, "ci_low": low, "ci_high": high, "trend": trend,
                     "n_runs": len(matrix)})
    return pd.DataFrame(rows, columns=list(FLATNESS_COLUMNS))


def best_versus_last(curves: pd.DataFrame, *, column: str = "score", reps: int = 2000, seed: int = 0,
                     confidence: float = 0.95) -> pd.DataFrame:
    """Each run's best evaluation against its final one, as IQMs over runs (columns :data:`BEST_LAST_COLUMNS`)."""
    rng = np.random.RandomState(seed)
    rows = []
    for (task, quality, group), cell in curves.groupby(_CELL, sort=True):
        runs = _runs_by_steps(cell, column)
        last = runs.apply(lambda r: r.dropna().iloc[-1], axis=1).to_numpy(np.float64)
        best = runs.max(axis=1, skipna=True).to_numpy(np.float64)
        gap, low, high = _paired(np.stack([last, best], axis=1), rng, reps, confidence, _iqm_difference)
        band = learning_curve_bands(cell, reps=reps, seed=seed, confidence=confidence).set_index("step")["estimate"]
        rows.append({"task": task, "quality": quality, "group": group, "last": float(_iqm(last)),
                     "best": float(_iqm(best)), "gap": gap, "gap_low": low, "gap_high": high,
                     "best_step": int(band.idxmax()), "n_runs": len(runs)})
    return pd.DataFrame(rows, columns=list(BEST_LAST_COLUMNS))



def convergence_summary(curves: pd.DataFrame, *, fraction: float = 0.2, margin: float = 0.05, reps: int = 2000,
                        seed: int = 0) -> pd.DataFrame:
    """:func:`best_versus_last` (on raw scores) beside :func:`last_fraction_flatness` (on normalised scores).

    Columns :data:`CONVERGENCE_COLUMNS`; rows sorted by task, quality, then the final IQM, best first.
    """
    flat = last_fraction_flatness(curves, fraction=fraction, margin=margin, reps=reps, seed=seed)
    best = best_versus_last(curves, reps=reps, seed=seed).drop(columns="n_runs")
    merged = best.merge(flat, on=_CELL, how="inner", validate="one_to_one")
    merged = merged.sort_values(["task", "quality", "last", "group"], ascending=[True, True, False, True])
    return merged.loc[:, list(CONVERGENCE_COLUMNS)].reset_index(drop=True)
