"""Paper-style summary: mean ± std across seeds per cell, beside run-status counts.

OMIGA's tables print the mean and standard deviation over seeds; ``std`` here is the sample standard
deviation (ddof = 1; empty for a single run, where it is undefined). Cells where some runs diverged or failed keep those counts so a
reader sees what is missing; a cell with no ok run still appears, with empty mean and std.
"""

from __future__ import annotations

import pandas as pd

from analysis.scores import STATUSES

__all__ = ["SUMMARY_COLUMNS", "run_status_counts", "seed_summary"]

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
