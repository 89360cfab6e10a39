"""The paper-style results table as data: one row per configuration, one column per task × quality.

Each cell holds the mean ± std across ok seeds (as OMIGA's paper prints) beside the IQM and its 95% CI, the
number of ok runs and the runs that diverged or failed. A cell is *best* when it has the highest IQM of its
column and its CI does not overlap the CI of any other configuration in that column; renderers print it in bold.
Every column names its backend (SMAX is not SMAC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

__all__ = ["ResultsCell", "ResultsColumn", "ResultsTable", "format_number", "results_table"]


def format_number(value: float) -> str:
    """Three significant-ish digits: 1234 -> "1234", 15.23 -> "15.2", 0.4567 -> "0.46"."""
    if value is None or math.isnan(value):  # an undefined value (no run, or the std of one run)
        return "–"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@dataclass(frozen=True)
class ResultsColumn:
    """One task × quality column."""

    task: str
    quality: str
    backend: str
    """Backend value(s) of the scores table, joined with "+" when several."""

    @property
    def title(self) -> str:
        """Header text, e.g. "smac_corridor good (smax)"."""
        return f"{self.task} {self.quality} ({self.backend})"


@dataclass(frozen=True)
class ResultsCell:
    """One configuration on one column."""

    mean: float
    std: float
    iqm: float
    ci_low: float
    ci_high: float
    n_ok: int
    n_diverged: int
    n_failed: int
    best: bool = False

    @property
    def scored(self) -> bool:
        """Whether any ok run exists."""
        return self.n_ok > 0

    @property
    def mean_std(self) -> str:
        """"15.2 ± 1.3", or "–" with no ok run."""
        return f"{format_number(self.mean)} ± {format_number(self.std)}" if self.scored else "–"

    @property
    def iqm_ci(self) -> str:
        """"15.4 [14.1, 16.3]", or "–" with no ok run."""
        if not self.scored:
            return "–"
        return f"{format_number(self.iqm)} [{format_number(self.ci_low)}, {format_number(self.ci_high)}]"

    @property
    def runs(self) -> str:
        """"n=5", plus missing runs: "n=3; 2 diverged; 1 failed"."""
        parts = [f"n={self.n_ok}"]
        parts += [f"{count} {status}" for count, status in ((self.n_diverged, "diverged"),
                                                             (self.n_failed, "failed")) if count]
        return "; ".join(parts)


@dataclass(frozen=True)
class ResultsTable:
    """Rows (configurations) × columns (task × quality) of :class:`ResultsCell`; absent cells were not run."""

    groups: tuple[str, ...]
    columns: tuple[ResultsColumn, ...]
    cells: dict[tuple[str, int], ResultsCell]
    backends: tuple[str, ...]

    def cell(self, group: str, column: int) -> ResultsCell | None:
        """The cell of ``group`` in column index ``column``, or None when that run was never made."""
        return self.cells.get((group, column))


def _best_groups(cells: dict[str, ResultsCell]) -> set[str]:
    scored = {g: c for g, c in cells.items() if c.scored}
    if len(scored) < 2:
        return set()
    top = max(scored, key=lambda g: scored[g].iqm)
    clear = all(scored[top].ci_low > c.ci_high for g, c in scored.items() if g != top)
    return {top} if clear else set()


def results_table(*, summary: pd.DataFrame, estimates: pd.DataFrame) -> ResultsTable:
    """Assemble the table from :func:`analysis.seed_summary` and :func:`analysis.interval_estimates` output."""
    iqm = estimates.loc[estimates["metric"] == "iqm"].set_index(["task", "quality", "group"])
    keys = summary.loc[:, ["task", "quality"]].drop_duplicates().sort_values(["task", "quality"])
    columns = []
    for task, quality in keys.itertuples(index=False):
        in_column = summary.loc[(summary["task"] == task) & (summary["quality"] == quality)]
        columns.append(ResultsColumn(str(task), str(quality), "+".join(sorted(map(str, set(in_column["backend"]))))))
    groups = tuple(sorted(map(str, set(summary["group"]))))
    cells: dict[tuple[str, int], ResultsCell] = {}
    for index, column in enumerate(columns):
        rows = summary.loc[(summary["task"] == column.task) & (summary["quality"] == column.quality)]
        column_cells = {}
        for row in rows.groupby("group", sort=True):
            group, frame = str(row[0]), row[1]
            n_ok, n_div, n_fail = (int(frame[c].sum()) for c in ("n_ok", "n_diverged", "n_failed"))
            if n_ok:
                est = iqm.loc[(column.task, column.quality, group)]
                mean, std = float(frame["mean"].iloc[0]), float(frame["std"].iloc[0])
                values = (float(est["estimate"]), float(est["ci_low"]), float(est["ci_high"]))
            else:
                mean = std = float("nan")
                values = (float("nan"),) * 3
            column_cells[group] = ResultsCell(mean, std, *values, n_ok=n_ok, n_diverged=n_div, n_failed=n_fail)
        best = _best_groups(column_cells)
        for group, cell in column_cells.items():
            cells[(group, index)] = replace(cell, best=group in best)
    backends = tuple(sorted(map(str, set(summary["backend"]))))
    return ResultsTable(groups=groups, columns=tuple(columns), cells=cells, backends=backends)
