"""Did the runs converge? The convergence summary (analysis.convergence_summary) as Markdown and HTML.

One row per task × quality × configuration: the final IQM (the one verdicts use, as the paper does), the IQM of
each run's best evaluation (CORL's optimistic "best") and their gap with a 95% CI, the step where the IQM band
peaks, and whether the IQM moved over the last fifth of training (flat / rising / falling / undecided, on
normalised scores, against the stated margin). A sentence above the table counts the trends.
"""

from __future__ import annotations

import html

import pandas as pd

from reports.results_table import format_number

__all__ = ["convergence_sentence", "render_convergence_html", "render_convergence_markdown"]

_HEADERS = ("task", "quality", "configuration", "runs", "last (IQM)", "best (IQM)", "best − last [95% CI]",
            "peak step", "last-fifth change [95% CI]", "trend")


def convergence_sentence(summary: pd.DataFrame) -> str:
    """E.g. "Over the last fifth of training 3 of 18 configurations were flat (|change| ≤ 0.05), 15 undecided."."""
    if summary.empty:
        return "No learning curves were recorded, so convergence cannot be judged."
    counts = summary["trend"].value_counts()
    parts = [f"{int(counts[t])} {t}" for t in ("flat", "rising", "falling", "undecided", "too few points")
             if t in counts]
    margin = format_number(float(summary["margin"].iloc[0]))
    start = "Over the last fifth of training (the IQM's change on normalised scores, flat when its 95% CI lies in "
    return (f"{start}±{margin}), of {len(summary)} configurations × qualities: {', '.join(parts)}. "
            "Verdicts use the final evaluation.")


def _interval(value: float, low: float, high: float) -> str:
    return f"{format_number(value)} [{format_number(low)}, {format_number(high)}]"


def _rows(summary: pd.DataFrame) -> list[tuple[str, ...]]:
    return [(str(r.task), str(r.quality), str(r.group), str(int(r.n_runs)), format_number(r.last),
             format_number(r.best), _interval(r.gap, r.gap_low, r.gap_high), str(int(r.best_step)),
             _interval(r.change, r.ci_low, r.ci_high), str(r.trend)) for r in summary.itertuples(index=False)]


def render_convergence_markdown(summary: pd.DataFrame) -> str:
    """convergence.md: the sentence, then the table."""
    text = f"# Convergence\n\n{convergence_sentence(summary)}\n"
    if summary.empty:
        return text
    table = pd.DataFrame(_rows(summary), columns=list(_HEADERS)).to_markdown(index=False, disable_numparse=True)
    return f"{text}\n{table}\n"


def render_convergence_html(summary: pd.DataFrame) -> str:
    """The sentence and a ``<table id="convergence">`` fragment for index.html."""
    sentence = f'<p id="convergence-summary">{html.escape(convergence_sentence(summary))}</p>\n'
    if summary.empty:
        return sentence
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in _rows(summary))
    return f'{sentence}<table id="convergence"><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n'
