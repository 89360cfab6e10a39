"""The paper-form results table as data: one row per method (or configuration), one column per task × quality.

Rows: where every method of the study has a single configuration, one row per method under the paper's name,
in the paper's order (BC, BCQ-MA, CQL-MA, ICQ, OMAR, OMIGA; other methods after them); otherwise (ablations)
one row per configuration label, ordered by method the same way. Each cell holds the mean ± std across ok seeds
(as OMIGA's paper prints) with the mean's 95% CI, the IQM with its 95% CI, the number of ok runs and the runs
that diverged or failed. Per column and statistic (mean, IQM) the highest point estimate is *best* (bold in
every renderer) and every other cell whose CI overlaps the best's CI is marked *overlap* (a dagger): the data
cannot tell it from the best. A column with a single scored cell marks nothing. An optional reference row gives
the dataset's behaviour return (the datasets summary, docs/interfaces.md); with ``paper_reference`` (a study
on the paper's own, imported, data) the paper's reported mean ± std follow as reference rows, one per method
the paper reports on any column (reports.paper_numbers). Every column names its backend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from reports.paper_numbers import paper_scores

__all__ = ["BEST", "OVERLAP", "PAPER_METHODS", "ReferenceCell", "ResultsCell", "ResultsColumn", "ResultsTable",
           "format_number", "results_table"]

PAPER_METHODS = {"bc": "BC", "bcq": "BCQ-MA", "cql": "CQL-MA", "icq": "ICQ", "omar": "OMAR", "omiga": "OMIGA"}
"""Method names of the paper's tables, in the paper's row order."""
BEST, OVERLAP = "best", "overlap"


def format_number(value: float) -> str:
    """Three significant-ish digits: 1234 -> "1234", 15.23 -> "15.2", 0.4567 -> "0.46", 6.7e30 -> "6.7e+30"."""
    if value is None or math.isnan(value):  # an undefined value (no run, or the std of one run)
        return "–"
    magnitude = abs(value)
    if magnitude >= 1e5:
        return f"{value:.3g}"
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
    """One row on one column."""

    mean: float
    std: float
    iqm: float
    ci_low: float
    """Lower bound of the IQM's 95% CI."""
    ci_high: float
    """Upper bound of the IQM's 95% CI."""
    n_ok: int
    n_diverged: int
    n_failed: int
    mean_ci_low: float = math.nan
    mean_ci_high: float = math.nan
    mean_mark: str = ""
    """"best", "overlap" or "" for the mean ± std table."""
    iqm_mark: str = ""
    """"best", "overlap" or "" for the IQM table."""

    @property
    def scored(self) -> bool:
        """Whether any ok run exists."""
        return self.n_ok > 0

    @property
    def best(self) -> bool:
        """Highest mean of its column."""
        return self.mean_mark == BEST

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
class ReferenceCell:
    """The dataset's behaviour return on one column."""

    mean: float
    std: float
    episodes: int

    @property
    def mean_std(self) -> str:
        """"12.1 ± 3.4"."""
        return f"{format_number(self.mean)} ± {format_number(self.std)}"


@dataclass(frozen=True)
class ResultsTable:
    """Rows × columns (task × quality) of :class:`ResultsCell`; absent cells were not run."""

    groups: tuple[str, ...]
    """Row keys: configuration labels (the scores table's ``group``)."""
    columns: tuple[ResultsColumn, ...]
    cells: dict[tuple[str, int], ResultsCell]
    backends: tuple[str, ...]
    row_titles: dict[str, str]
    """Printed name of each row: the paper's method name, or the configuration label."""
    reference: dict[int, ReferenceCell]
    """Behaviour return per column index (empty without a datasets summary)."""
    paper: tuple[tuple[str, dict[int, tuple[float, float]]], ...] = ()
    """The paper's rows: (title, column index -> (mean, std)), in the paper's method order; empty unless asked."""

    @property
    def reference_rows(self) -> int:
        """How many reference rows (behaviour, then the paper's) precede the study's rows."""
        return int(bool(self.reference)) + len(self.paper)

    def cell(self, group: str, column: int) -> ResultsCell | None:
        """The cell of ``group`` in column index ``column``, or None when that run was never made."""
        return self.cells.get((group, column))

    def title(self, group: str) -> str:
        """Printed name of row ``group``."""
        return self.row_titles.get(group, group)

    @property
    def usual_runs(self) -> int:
        """The most common number of ok runs per cell (the larger on a tie; 0 with no scored cell)."""
        counts = pd.Series([c.n_ok for c in self.cells.values() if c.scored], dtype="int64").value_counts()
        return int(max(counts.index, key=lambda n: (counts[n], n))) if len(counts) else 0


def _marks(points: dict[str, tuple[float, float, float]]) -> dict[str, str]:
    """(estimate, ci_low, ci_high) per row -> "best" for the highest estimate, "overlap" where CIs touch."""
    if len(points) < 2:
        return {}
    top = max(points, key=lambda g: (points[g][0], g))
    _, low, high = points[top]
    return {g: BEST if g == top else OVERLAP if p[1] <= high and p[2] >= low else "" for g, p in points.items()}


def _row_order(summary: pd.DataFrame) -> tuple[tuple[str, ...], dict[str, str]]:
    methods = summary.loc[:, ["method", "group"]].drop_duplicates()
    rank = {m: i for i, m in enumerate(PAPER_METHODS)}
    ordered = methods.assign(rank=methods["method"].map(lambda m: rank.get(str(m), len(rank))))
    ordered = ordered.sort_values(["rank", "method", "group"], kind="stable")
    groups = tuple(map(str, ordered["group"]))
    one_each = not methods["method"].duplicated().any()
    titles = {str(r.group): PAPER_METHODS.get(str(r.method), str(r.method)) if one_each else str(r.group)
              for r in ordered.itertuples(index=False)}
    return groups, titles


def _reference(datasets: pd.DataFrame | None, columns: list[ResultsColumn]) -> dict[int, ReferenceCell]:
    if datasets is None:
        return {}
    rows = datasets.set_index(["task", "quality"])
    return {i: ReferenceCell(float(rows.loc[key, "behaviour_return_mean"]),
                             float(rows.loc[key, "behaviour_return_std"]), int(rows.loc[key, "episodes"]))
            for i, c in enumerate(columns) if (key := (c.task, c.quality)) in rows.index}


def _paper_rows(columns: list[ResultsColumn]) -> tuple[tuple[str, dict[int, tuple[float, float]]], ...]:
    scores = [paper_scores(c.task, c.quality) for c in columns]
    rows = []
    for method, name in PAPER_METHODS.items():
        cells = {i: column[method] for i, column in enumerate(scores) if method in column}
        if cells:
            rows.append((f"paper: {name}", cells))
    return tuple(rows)


def results_table(*, summary: pd.DataFrame, estimates: pd.DataFrame,
                  datasets: pd.DataFrame | None = None, paper_reference: bool = False) -> ResultsTable:
    """Assemble the table from :func:`analysis.seed_summary` (with a ``method`` column, or labels taken as
    methods) and :func:`analysis.interval_estimates`; ``datasets`` is an optional datasets summary;
    ``paper_reference`` adds the paper's rows (only meaningful on the paper's own data)."""
    if "method" not in summary.columns:
        summary = summary.assign(method=summary["group"].str.split(" ").str[0])
    cell_estimates = estimates.set_index(["task", "quality", "group", "metric"])
    keys = summary.loc[:, ["task", "quality"]].drop_duplicates().sort_values(["task", "quality"])
    columns = []
    for task, quality in keys.itertuples(index=False):
        in_column = summary.loc[(summary["task"] == task) & (summary["quality"] == quality)]
        columns.append(ResultsColumn(str(task), str(quality), "+".join(sorted(map(str, set(in_column["backend"]))))))
    groups, titles = _row_order(summary)
    cells: dict[tuple[str, int], ResultsCell] = {}
    for index, column in enumerate(columns):
        rows = summary.loc[(summary["task"] == column.task) & (summary["quality"] == column.quality)]
        column_cells = {}
        for group, frame in rows.groupby("group", sort=True):
            group = str(group)
            n_ok, n_div, n_fail = (int(frame[c].sum()) for c in ("n_ok", "n_diverged", "n_failed"))
            values = [math.nan] * 5
            if n_ok:
                iqm = cell_estimates.loc[(column.task, column.quality, group, "iqm")]
                mean = cell_estimates.loc[(column.task, column.quality, group, "mean")]
                values = [float(iqm["estimate"]), float(iqm["ci_low"]), float(iqm["ci_high"]),
                          float(mean["ci_low"]), float(mean["ci_high"])]
            column_cells[group] = ResultsCell(float(frame["mean"].iloc[0]), float(frame["std"].iloc[0]), *values[:3],
                                              n_ok=n_ok, n_diverged=n_div, n_failed=n_fail,
                                              mean_ci_low=values[3], mean_ci_high=values[4])
        scored = {g: c for g, c in column_cells.items() if c.scored}
        mean_marks = _marks({g: (c.mean, c.mean_ci_low, c.mean_ci_high) for g, c in scored.items()})
        iqm_marks = _marks({g: (c.iqm, c.ci_low, c.ci_high) for g, c in scored.items()})
        for group, cell in column_cells.items():
            cells[(group, index)] = replace(cell, mean_mark=mean_marks.get(group, ""),
                                            iqm_mark=iqm_marks.get(group, ""))
    backends = tuple(sorted(map(str, set(summary["backend"]))))
    return ResultsTable(groups=groups, columns=tuple(columns), cells=cells, backends=backends, row_titles=titles,
                        reference=_reference(datasets, columns),
                        paper=_paper_rows(columns) if paper_reference else ())
