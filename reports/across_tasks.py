"""Render a multi-task study's tasks side by side (studies/across.py's table) as Markdown: verdicts, scores and cost
per task, then the fitted power law of the training rate against the number of agents."""

from __future__ import annotations

import pandas as pd

from reports.results_table import format_number

__all__ = ["render_across_tasks_markdown"]

_HEADERS = ("agents", "task", "quality", "verdict", "estimate [95% CI]", "BC IQM", "OMIGA IQM (chosen setting)",
            "member-steps/s", "evaluation share", "peak MB")


def _agents(value: object) -> str:
    return "?" if pd.isna(value) else str(int(value))


def _share(value: float) -> str:
    return "–" if pd.isna(value) else f"{100 * value:.1f}%"


def _one_decimal(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.1f}"


def _omiga(row) -> str:
    if pd.isna(row.omiga_iqm):
        return "–"
    return f"{format_number(row.omiga_iqm)} ({row.omiga_setting})"


def _rows(table: pd.DataFrame) -> list[tuple[str, ...]]:
    return [(_agents(r.n_agents), str(r.task), str(r.quality), str(r.verdict),
             f"{format_number(r.estimate)} [{format_number(r.ci_low)}, {format_number(r.ci_high)}]",
             "–" if pd.isna(r.bc_iqm) else format_number(r.bc_iqm), _omiga(r), _one_decimal(r.member_steps_per_s),
             _share(r.eval_share), _one_decimal(r.peak_rss_mb)) for r in table.itertuples(index=False)]


def _fit_lines(fits: pd.DataFrame) -> list[str]:
    if fits.empty:
        return ["No power law was fitted: fewer than two agent counts have the measure."]
    lines = []
    for fit in fits.itertuples(index=False):
        se = "" if pd.isna(fit.exponent_se) else f" ± {fit.exponent_se:.2f}"
        lines.append(f"- {fit.measure} ∝ n^{fit.exponent:.2f}{se} (OLS standard error; R² {fit.r_squared:.3f} on "
                     f"{fit.n_points} tasks; prefactor {fit.prefactor:.4g})")
    return lines


def render_across_tasks_markdown(table: pd.DataFrame, fits: pd.DataFrame, *, title: str) -> str:
    """``across_tasks.md``: one row per task × claim scope, then the fits."""
    head = (f"# {title}: the tasks side by side\n\n"
            "Each row is one task's claim on one quality (or on all), as that task's own report judged it (the "
            "estimate is the claim's, on normalised scores); BC and OMIGA are IQMs of the task's score over all "
            "seeds, as its results table gives them (OMIGA at the setting its report chose). member-steps/s and "
            "the evaluation share are the task's training as its trials recorded it (every run, every worker); "
            "peak MB is the largest peak resident memory of a population's worker process while it trained "
            "(Linux only).\n\n")
    if table.empty:
        return head + "No task left a report to compare.\n"
    body = pd.DataFrame(_rows(table), columns=list(_HEADERS)).to_markdown(index=False, disable_numparse=True)
    claims = sorted(set(table["claim"]))
    legend = "\n".join(f"- claim: {claim}" for claim in claims)
    return head + body + "\n\n" + legend + "\n\n## Cost against agents\n\n" + "\n".join(_fit_lines(fits)) + "\n"
