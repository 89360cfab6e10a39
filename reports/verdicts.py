"""Render claim verdicts as Markdown (claims.md) and as an HTML table for index.html."""

from __future__ import annotations

import html

import pandas as pd

from reports.results_table import format_number

__all__ = ["render_claims_html", "render_claims_markdown"]

_HEADERS = ("claim", "verdict", "statistic", "estimate [95% CI]", "runs (smallest side)", "seeds to decide", "note")
_EXPLANATION = (
    "A claim is **supported** only when the whole 95% CI of its statistic lies on its side, **refuted** when "
    "the whole CI lies on the other side (or, for a claim with a smallest effect of interest δ, wholly below δ: "
    "any advantage is too small to count), and **inconclusive** otherwise. Claims are judged on normalised "
    "scores. *Seeds to decide* is a bootstrap power estimate of the seeds per configuration at which 80% of "
    "repeated experiments would be decisive (\"-\" when already decisive).")


def _rows(verdicts: pd.DataFrame) -> list[tuple[str, ...]]:
    return [(str(v.name), str(v.verdict), str(v.statistic),
             f"{format_number(v.estimate)} [{format_number(v.ci_low)}, {format_number(v.ci_high)}]",
             str(v.n_seeds), str(v.seeds_needed), str(v.note)) for v in verdicts.itertuples(index=False)]


def render_claims_markdown(verdicts: pd.DataFrame, *, backend_note: str = "") -> str:
    """claims.md: an explanation, then one table row per claim (or a line saying no claims were declared)."""
    head = f"# Claims\n\n{_EXPLANATION}\n\n{backend_note}".rstrip() + "\n\n"
    if verdicts.empty:
        return head + "No claims were declared for this study.\n"
    table = pd.DataFrame(_rows(verdicts), columns=list(_HEADERS)).to_markdown(index=False, disable_numparse=True)
    return head + table + "\n"


def render_claims_html(verdicts: pd.DataFrame) -> str:
    """An HTML ``<table id="claims">`` fragment (or a paragraph when no claims were declared)."""
    if verdicts.empty:
        return '<p id="claims">No claims were declared for this study.</p>\n'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADERS)
    body = "".join("<tr>" + "".join(f'<td class="{html.escape(r[1]) if i == 1 else ""}">{html.escape(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>\n" for r in _rows(verdicts))
    return f'<table id="claims"><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>\n'
