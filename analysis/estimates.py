"""Interval estimates of the aggregate metrics per configuration × task × quality and across tasks.

Per cell (task, quality, group): ``iqm``, ``mean``, ``median`` of the raw ``score`` and ``optimality_gap`` of
``normalized_score``, each with a stratified bootstrap CI over that cell's own ok runs — so groups with
different run counts never share a matrix. Across tasks (rows with ``task == "all"``): every metric on
``normalized_score`` over a runs × tasks matrix, as rliable computes it. rliable needs the same number of runs
in every task column; where a group's counts differ between tasks, each task keeps its runs with the lowest
seeds up to the smallest count (deterministic, never cherry-picked) and ``n_runs`` reports that count. A group
lacking ok runs on some task of that quality gets no across-task row (see the run-status table).

``EstimateConfig.engine`` picks who computes the intervals (analysis.engine): ``"rliable"`` calls
``rliable.library.get_interval_estimates`` with ``rliable.metrics``; ``"vectorised"`` (the default) draws the
same numbers for the same seed, about 100 times faster. All metrics of one matrix share one bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS
from analysis.engine import DEFAULT_ENGINE, check_engine, metric_intervals
from analysis.metrics import METRICS, metric_function
from analysis.scores import ok_runs

__all__ = ["ALL_TASKS", "ESTIMATE_COLUMNS", "EstimateConfig", "across_task_matrix", "interval_estimates"]

ALL_TASKS = "all"
ESTIMATE_COLUMNS = ("task", "quality", "group", "metric", "estimate", "ci_low", "ci_high", "n_runs")
_RAW_SCORE_METRICS = ("iqm", "mean", "median")


@dataclass(frozen=True)
class EstimateConfig:
    """How interval estimates are computed."""

    reps: int = DEFAULT_BOOTSTRAP_REPS
    """Bootstrap replicates per interval."""
    seed: int = 0
    """Seed of the bootstrap draws (reports are reproducible)."""
    confidence: float = 0.95
    """Coverage of the percentile intervals."""
    metrics: tuple[str, ...] = field(default_factory=lambda: tuple(METRICS))
    """Metrics to estimate (names of analysis.metrics.METRICS)."""
    engine: str = DEFAULT_ENGINE
    """Who computes the intervals: "vectorised" (rliable's draws, fast) or "rliable" (rliable.library itself)."""

    def __post_init__(self) -> None:
        check_engine(self.engine)
        if self.reps < 10:
            raise ValueError(f"EstimateConfig.reps must be >= 10, got {self.reps}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"EstimateConfig.confidence must be in (0, 1), got {self.confidence}")
        for name in self.metrics:
            metric_function(name)


def across_task_matrix(runs: pd.DataFrame, *, column: str = "normalized_score") -> np.ndarray:
    """Runs × tasks matrix of one group's ok runs (lowest seeds kept where task counts differ)."""
    per_task = [g.sort_values("seed")[column].to_numpy(dtype=np.float64)
                for _, g in runs.groupby("task", sort=True)]
    n_runs = min(len(values) for values in per_task)
    columns = [values[:n_runs] for values in per_task]
    return np.stack(columns, axis=1)


def _rows(task: str, quality: str, group: str, matrices: dict[str, np.ndarray],
          config: EstimateConfig) -> list[dict[str, object]]:
    found: dict[str, tuple[float, float, float, int]] = {}
    for key in {id(m): m for m in matrices.values()}:
        names = [name for name in config.metrics if id(matrices[name]) == key]
        matrix = matrices[names[0]]
        points, lows, highs = metric_intervals(matrix, metrics=names, reps=config.reps, seed=config.seed,
                                               confidence=config.confidence, engine=config.engine)
        for name, point, low, high in zip(names, points, lows, highs, strict=True):
            found[name] = (float(point), float(low), float(high), matrix.shape[0])
    return [{"task": task, "quality": quality, "group": group, "metric": name, "estimate": found[name][0],
             "ci_low": found[name][1], "ci_high": found[name][2], "n_runs": found[name][3]}
            for name in config.metrics]


def interval_estimates(scores: pd.DataFrame, *, config: EstimateConfig = EstimateConfig()) -> pd.DataFrame:
    """Every estimate as a tidy table with columns :data:`ESTIMATE_COLUMNS`.

    ``scores`` is the output of :func:`analysis.scores.load_scores`; only ok runs are scored.
    """
    ok = ok_runs(scores)
    rows: list[dict[str, object]] = []
    for (task, quality, group), cell in ok.groupby(["task", "quality", "group"], sort=True):
        raw = cell["score"].to_numpy(dtype=np.float64)[:, None]
        normalized = cell["normalized_score"].to_numpy(dtype=np.float64)[:, None]
        matrices = {name: raw if name in _RAW_SCORE_METRICS else normalized for name in config.metrics}
        rows += _rows(str(task), str(quality), str(group), matrices, config)
    for quality, runs in ok.groupby("quality", sort=True):
        tasks = set(runs["task"])
        for group, group_runs in runs.groupby("group", sort=True):
            if set(group_runs["task"]) != tasks:
                continue
            matrix = across_task_matrix(group_runs)
            rows += _rows(ALL_TASKS, str(quality), str(group), dict.fromkeys(config.metrics, matrix), config)
    table = pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))
    return table.astype({"task": "string", "quality": "string", "group": "string", "metric": "string",
                         "n_runs": "int64"})
