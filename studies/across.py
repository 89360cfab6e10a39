"""One study's tasks side by side: each task's claim verdicts, its methods' scores and its training cost, with the
cost's power law against the number of agents (the scaling study's score-and-cost table, for any multi-task study).

`python -m studies all` with several tasks writes it after the last task's report, into
``<reports-dir>/<spec>-<preset>-across-tasks/`` (``across_tasks.csv``, ``fits.csv``, ``across_tasks.md``). Its input
is what the per-task reports wrote (``claims.csv``, ``estimates.csv``, ``tuned_settings.csv``) and the trials'
timing records; the number of agents comes from each task's first dataset on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.scaling import power_law_fit
from studies.plan import StudyPlan
from studies.timing import TrainingTime

__all__ = ["ACROSS_COLUMNS", "TaskOutcome", "across_tasks_table", "cost_fits", "write_across_tasks"]

ACROSS_COLUMNS = ("task", "n_agents", "quality", "claim", "verdict", "estimate", "ci_low", "ci_high", "bc_iqm",
                  "omiga_iqm", "omiga_setting", "member_steps_per_s", "eval_share", "train_s", "peak_rss_mb")
"""One row per task × claim scope (each quality, and ``all``); claim estimates on normalised scores, IQMs on the
task's own."""


@dataclass(frozen=True)
class TaskOutcome:
    """What one task of the study left: its report directory and its trials' summed timing."""

    task: str
    n_agents: int | None
    """Agents of the task's datasets (None: none on disk)."""
    qualities: tuple[str, ...]
    report_dir: Path
    timing: TrainingTime

    @classmethod
    def of(cls, plan: StudyPlan, *, report_dir: Path, timing: TrainingTime) -> TaskOutcome:
        return cls(task=plan.task, n_agents=_n_agents(plan), qualities=tuple(plan.qualities), report_dir=report_dir,
                   timing=timing)


def _n_agents(plan: StudyPlan) -> int | None:
    """Agents of the task's first dataset on disk (its ``actions`` shape), None without one."""
    from omiga.data.io import read_dataset_file
    from studies.runner import dataset_file

    for quality in plan.qualities:
        path = dataset_file(plan, quality)
        if path.is_file():
            arrays, _ = read_dataset_file(path, fields=("actions",))
            return int(arrays["actions"].shape[1])
    return None


def _first(frame: pd.DataFrame | None, column: str, **where: object) -> object | None:
    """``frame[column]`` of the first row whose columns equal ``where`` (None without a frame or a match)."""
    if frame is None:
        return None
    rows = frame
    for name, value in where.items():
        rows = rows[rows[name] == value]
    return rows[column].iloc[0] if len(rows) else None


def _iqm(estimates: pd.DataFrame, *, task: str, quality: str, group: str) -> float:
    value = _first(estimates, "estimate", task=task, quality=quality, group=group, metric="iqm")
    return float("nan") if value is None else float(value)


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _task_rows(outcome: TaskOutcome) -> list[dict[str, object]]:
    task, out = outcome.task, outcome.report_dir
    claims, estimates = _read(out / "claims.csv"), _read(out / "estimates.csv")
    settings = _read(out / "tuned_settings.csv")
    rows: list[dict[str, object]] = []
    if claims is None or estimates is None:
        return rows
    for claim in claims.itertuples(index=False):
        scope = str(claim.scope)
        quality = scope if scope in outcome.qualities else None
        chosen = None if quality is None else _first(settings, "setting", task=task, quality=quality, method="omiga")
        setting = None if chosen is None else str(chosen)
        rows.append({
            "task": task, "n_agents": outcome.n_agents, "quality": scope, "claim": str(claim.name),
            "verdict": str(claim.verdict), "estimate": claim.estimate, "ci_low": claim.ci_low, "ci_high": claim.ci_high,
            "bc_iqm": float("nan") if quality is None else _iqm(estimates, task=task, quality=quality, group="bc"),
            "omiga_iqm": float("nan") if setting is None else _iqm(estimates, task=task, quality=quality,
                                                                   group=setting),
            "omiga_setting": setting, "member_steps_per_s": outcome.timing.member_steps_per_s,
            "eval_share": outcome.timing.eval_share, "train_s": outcome.timing.train_s,
            "peak_rss_mb": outcome.timing.peak_rss_mb})
    return rows


def across_tasks_table(outcomes: Sequence[TaskOutcome]) -> pd.DataFrame:
    """The tasks' claim rows side by side (columns `ACROSS_COLUMNS`), ordered by agents then task."""
    table = pd.DataFrame([row for outcome in outcomes for row in _task_rows(outcome)], columns=list(ACROSS_COLUMNS))
    return table.sort_values(["n_agents", "task"], kind="stable", na_position="last").reset_index(drop=True)


def cost_fits(table: pd.DataFrame) -> pd.DataFrame:
    """member-steps/s and peak memory ≈ c · n^k over the tasks (one point per task), each measure where two or more
    agent counts have it."""
    fits = []
    for measure in ("member_steps_per_s", "peak_rss_mb"):
        points = table.dropna(subset=["n_agents", measure]).drop_duplicates("task")
        if points["n_agents"].nunique() >= 2:
            fits.append(power_law_fit(points, x="n_agents", y=measure))
    return pd.concat(fits, ignore_index=True) if fits else pd.DataFrame()


def write_across_tasks(outcomes: Sequence[TaskOutcome], *, out_dir: Path, title: str) -> Path:
    """Write ``across_tasks.csv``, ``fits.csv`` and ``across_tasks.md`` into ``out_dir``; return the Markdown's path."""
    from reports.across_tasks import render_across_tasks_markdown
    from reports.files import write_text_atomic

    table = across_tasks_table(outcomes)
    fits = cost_fits(table)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "across_tasks.csv", table.to_csv(index=False))
    write_text_atomic(out_dir / "fits.csv", fits.to_csv(index=False))
    return write_text_atomic(out_dir / "across_tasks.md", render_across_tasks_markdown(table, fits, title=title))
