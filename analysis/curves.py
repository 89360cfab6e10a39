"""Learning curves: IQM over runs at every evaluation step, with pointwise stratified-bootstrap CI bands.

Input is the curves table (docs/interfaces.md, "Curves table"): one row per run × evaluation point with the
scores table's identifying columns (task, backend, quality, method, alpha, mixer, global_info, ``hp_*``, seed,
status) plus ``step``, ``score``, ``win_rate``, ``normalized_score``. Only runs whose status is ``ok`` are used.
Per quality and configuration the runs form a runs × tasks × steps array over the steps every run evaluated
(lowest seeds kept per task where run counts differ, as the across-task estimates); the band at each step is
the percentile CI of the IQM, resampling runs within each task independently at each step — rliable's
``get_interval_estimates`` on a 3-D score array, which the ``rliable`` engine calls and the vectorised engine
reproduces. A quality with one task uses the raw ``score``; with several, ``normalized_score``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS
from analysis.engine import DEFAULT_ENGINE, check_engine, curve_metric_intervals
from analysis.errors import ScoresTableError
from analysis.scores import group_labels

__all__ = ["CURVE_BAND_COLUMNS", "CURVE_COLUMNS", "learning_curve_bands", "load_curves"]

CURVE_COLUMNS = ("task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed", "status", "step",
                 "score", "normalized_score")
CURVE_BAND_COLUMNS = ("quality", "group", "value", "step", "estimate", "ci_low", "ci_high", "n_runs")


def load_curves(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read a curves table (.csv, .parquet or a frame), check its columns, add the ``group`` label."""
    if isinstance(source, pd.DataFrame):
        table = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise ScoresTableError(f"curves table {path} does not exist: export it with `python -m studies export`")
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = [c for c in CURVE_COLUMNS if c not in table.columns]
    if missing:
        raise ScoresTableError(f"curves table lacks column(s) {', '.join(missing)}: it needs {', '.join(CURVE_COLUMNS)}"
                               " (docs/interfaces.md, 'Curves table')")
    table["global_info"] = table["global_info"].map(
        lambda v: pd.NA if pd.isna(v) else str(v).strip().lower() in ("true", "1", "yes", "t", "y"))
    for column in ("alpha", "step", "score", "normalized_score"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    ok = table["status"].astype("string") == "ok"
    if table.loc[ok, ["step", "score", "normalized_score"]].isna().any().any():
        raise ScoresTableError("curves table has an ok run with an empty step or score: re-export the curves")
    table["group"] = group_labels(table)
    return table


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
