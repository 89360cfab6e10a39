"""Paper-style summary: mean ± std across seeds per cell, beside run-status counts.

OMIGA's tables print the mean and standard deviation over seeds; ``std`` here is the sample standard
deviation (ddof = 1; empty for a single run, where it is undefined). Cells where some runs diverged or failed keep those counts so a
reader sees what is missing; a cell with no ok run still appears, with empty mean and std.

The *datasets summary* (docs/interfaces.md) is the optional table the study layer passes so a report can print
the behaviour (dataset) return beside the scores: one row per task × quality with columns
:data:`DATASET_SUMMARY_COLUMNS` and, when the study layer measured them, the coverage diagnostics
:data:`DATASET_DIAGNOSTIC_COLUMNS` (return spread, episodes per start, action coverage, entropy and mutual
information; NaN where undefined, e.g. action measures of continuous data); :func:`load_dataset_summary`
validates it. The *dataset returns* table (task, quality, return: one row per episode) feeds the return
histograms; :func:`load_dataset_returns` validates it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ScoresTableError
from analysis.scores import STATUSES

__all__ = ["DATASET_DIAGNOSTIC_COLUMNS", "DATASET_RETURN_COLUMNS", "DATASET_SUMMARY_COLUMNS", "SUMMARY_COLUMNS",
           "load_dataset_returns", "load_dataset_summary", "run_status_counts", "seed_summary"]

DATASET_SUMMARY_COLUMNS = ("task", "quality", "behaviour_return_mean", "behaviour_return_std", "episodes")
DATASET_DIAGNOSTIC_COLUMNS = ("return_min", "return_q10", "return_q25", "return_median", "return_q75", "return_q90",
                              "return_max", "episodes_per_start", "state_cells", "action_coverage",
                              "state_action_coverage", "action_entropy", "action_mi", "action_mi_excess")
"""Optional columns of the datasets summary (their definitions: omiga.data.coverage, docs/interfaces.md)."""
DATASET_RETURN_COLUMNS = ("task", "quality", "return")

SUMMARY_COLUMNS = ("task", "backend", "quality", "group", "mean", "std", "n_ok", "n_diverged", "n_failed")
_CELL = ["task", "backend", "quality", "group"]


def run_status_counts(scores: pd.DataFrame) -> pd.DataFrame:
    """Number of runs per cell and status: columns task, backend, quality, group, n_ok, n_diverged, n_failed."""
    counts = (scores.groupby(_CELL + ["status"], sort=True).size().unstack("status", fill_value=0)
              .reindex(columns=list(STATUSES), fill_value=0))
    counts.columns = [f"n_{status}" for status in STATUSES]
    return counts.reset_index()


def seed_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std of ``score`` across ok seeds for every cell (columns :data:`SUMMARY_COLUMNS`)."""
    ok = scores.loc[scores["status"] == "ok"]
    moments = ok.groupby(_CELL, sort=True)["score"].agg(["mean", "std"]).reset_index()
    merged = run_status_counts(scores).merge(moments, on=_CELL, how="left")
    return merged.loc[:, list(SUMMARY_COLUMNS)]


def load_dataset_summary(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read and check a datasets summary (a frame or a .csv): its columns, finite numbers, one row per cell."""
    table = source.copy() if isinstance(source, pd.DataFrame) else pd.read_csv(Path(source))
    missing = [c for c in DATASET_SUMMARY_COLUMNS if c not in table.columns]
    if missing:
        raise ScoresTableError(f"datasets summary lacks column(s) {', '.join(missing)}: it needs "
                               f"{', '.join(DATASET_SUMMARY_COLUMNS)} (docs/interfaces.md, 'Datasets summary')")
    diagnostics = [c for c in DATASET_DIAGNOSTIC_COLUMNS if c in table.columns]
    out = table.loc[:, [*DATASET_SUMMARY_COLUMNS, *diagnostics]].astype({"task": "string", "quality": "string"})
    for column in DATASET_SUMMARY_COLUMNS[2:]:
        values = pd.to_numeric(out[column], errors="coerce")
        if not np.isfinite(values.to_numpy(dtype=np.float64)).all():
            raise ScoresTableError(f"datasets summary column {column} has an empty or non-numeric value: "
                                   "give every task × quality its behaviour return and episode count")
        out[column] = values.astype("int64" if column == "episodes" else "float64")
    for column in diagnostics:  # empty (NaN) where a measure is undefined; text is an error
        values = pd.to_numeric(out[column], errors="coerce")
        if (values.isna() & out[column].notna()).any() or np.isinf(values.to_numpy(np.float64)).any():
            raise ScoresTableError(f"datasets summary column {column} has a non-numeric or infinite value: give "
                                   "a number, or leave it empty where the measure is undefined")
        out[column] = values.astype("float64")
    if out.duplicated(["task", "quality"]).any():
        row = out.loc[out.duplicated(["task", "quality"])].iloc[0]
        raise ScoresTableError(f"datasets summary lists {row['task']}/{row['quality']} twice: keep one row per "
                               "task × quality")
    return out


def load_dataset_returns(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read and check a dataset returns table (a frame or a .csv): task, quality, return (finite), one row per
    episode of each dataset."""
    table = source.copy() if isinstance(source, pd.DataFrame) else pd.read_csv(Path(source))
    missing = [c for c in DATASET_RETURN_COLUMNS if c not in table.columns]
    if missing:
        raise ScoresTableError(f"dataset returns table lacks column(s) {', '.join(missing)}: it needs "
                               f"{', '.join(DATASET_RETURN_COLUMNS)}, one row per episode (docs/interfaces.md)")
    out = table.loc[:, list(DATASET_RETURN_COLUMNS)].astype({"task": "string", "quality": "string"})
    values = pd.to_numeric(out["return"], errors="coerce")
    if not np.isfinite(values.to_numpy(dtype=np.float64)).all():
        raise ScoresTableError("dataset returns table has an empty, non-numeric or infinite return: give every "
                               "episode's finite return")
    out["return"] = values.astype("float64")
    return out
