"""Render the paper-form results table as Markdown (tabulate), LaTeX (booktabs) and HTML.

Two tables per format, rows as reports.results_table orders them and one column per task × quality:

1. *mean ± std* across ok seeds, as the paper prints it, under a reference row with the dataset's behaviour
   return when a datasets summary is given;
2. *IQM [95% CI]* with the runs behind each cell (``n=5; 1 diverged``) — in HTML behind a ``<details>`` toggle.

In each, the best entry of a column is bold and entries whose 95% CI overlaps the best's carry a dagger (†);
the captions say so. A cell whose runs partly diverged or failed says how many ok runs it has; a configuration
never run on a column reads "not run". The backend of every column is named in its header and the caption.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

from reports.paper_numbers import PAPER_SOURCE
from reports.results_table import BEST, OVERLAP, ResultsCell, ResultsTable

__all__ = ["latex_escape", "render_html_table", "render_latex_table", "render_markdown_table"]

DAGGER = "†"
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "α": r"$\alpha$", "±": r"$\pm$", "–": "--", DAGGER: r"$^\dagger$", "×": r"$\times$"}
_REFERENCE_TITLE = "behaviour (dataset)"


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and write α, ±, †, × and – in math/ASCII form."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _mean_text(cell: ResultsCell | None, usual_runs: int) -> tuple[str, str]:
    """(text, mark) of a mean ± std cell; its runs are printed when they are not the table's usual n."""
    if cell is None:
        return "not run", ""
    unusual = cell.n_diverged + cell.n_failed or cell.n_ok != usual_runs
    return cell.mean_std + (f" ({cell.runs})" if unusual else ""), cell.mean_mark


def _iqm_text(cell: ResultsCell | None, usual_runs: int) -> tuple[str, str]:
    if cell is None:
        return "not run", ""
    return f"{cell.iqm_ci} {cell.runs}" if cell.scored else f"– {cell.runs}", cell.iqm_mark


Kind = tuple[str, Callable[[ResultsCell | None, int], tuple[str, str]]]
_KINDS: dict[str, Kind] = {"mean": ("mean ± std", _mean_text), "iqm": ("IQM [95% CI]", _iqm_text)}


def _caption(table: ResultsTable, kind: str, backend_note: str) -> str:
    if kind == "mean":
        text = (f"Score per task × quality: mean ± std (sample std) over n = {table.usual_runs} ok seeds per cell "
                "(a cell with other runs says so), as the paper prints. Bold: the highest mean of its column; "
                f"{DAGGER}: its 95% bootstrap CI of the mean overlaps the best's.")
        if table.reference:
            text += f" {_REFERENCE_TITLE}: the dataset's episode return, mean ± std over its episodes."
        if table.paper:
            text += f" paper: rows: {PAPER_SOURCE}; this study ran on the paper's own (imported) data."
    else:
        text = ("IQM [95% stratified bootstrap CI] and the ok runs n per cell (the IQM of 3 or fewer runs is their "
                f"mean). Bold: the highest IQM of its column; {DAGGER}: its CI overlaps the best's.")
    return f"{text} Backend: {', '.join(table.backends)}. {backend_note}".strip()


def _rows(table: ResultsTable, kind: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(row title, [(text, mark) per column]): the reference rows (behaviour, the paper's) first."""
    render = _KINDS[kind][1]
    rows = []
    if table.reference:
        rows.append((_REFERENCE_TITLE, [(f"{ref.mean_std} ({ref.episodes} episodes)" if kind == "iqm"
                                         else ref.mean_std, "") if (ref := table.reference.get(i)) else ("–", "")
                                        for i in range(len(table.columns))]))
    for title, cells in table.paper:
        rows.append((title, [(f"{cells[i][0]:.2f} ± {cells[i][1]:.2f}", "") if i in cells else ("–", "")
                             for i in range(len(table.columns))]))
    for group in table.groups:
        rows.append((table.title(group), [render(table.cell(group, i), table.usual_runs)
                                          for i in range(len(table.columns))]))
    return rows


def _first_header(table: ResultsTable) -> str:
    return "method" if all(table.title(g) != g for g in table.groups) else "configuration"


def _markdown_cell(text: str, mark: str) -> str:
    return f"**{text}**" if mark == BEST else f"{text}{DAGGER}" if mark == OVERLAP else text


def render_markdown_table(table: ResultsTable, *, backend_note: str = "") -> str:
    """GitHub-flavoured Markdown: for each table a caption paragraph, then the table."""
    parts = []
    for number, kind in enumerate(_KINDS, start=1):
        records = [{_first_header(table): title, **{c.title: _markdown_cell(*cells[i])
                                                     for i, c in enumerate(table.columns)}}
                   for title, cells in _rows(table, kind)]
        body = pd.DataFrame(records).to_markdown(index=False, disable_numparse=True)
        parts.append(f"**Table {number}.** {_caption(table, kind, backend_note)}\n\n{body}\n")
    return "\n".join(parts)


def _latex_cell(text: str, mark: str) -> str:
    text = latex_escape(text)
    return rf"\textbf{{{text}}}" if mark == BEST else text + r"$^\dagger$" if mark == OVERLAP else text


def _latex_header(table: ResultsTable) -> list[str]:
    tasks: list[tuple[str, int]] = []
    for column in table.columns:
        name = f"{column.task} ({column.backend})"
        if tasks and tasks[-1][0] == name:
            tasks[-1] = (name, tasks[-1][1] + 1)
        else:
            tasks.append((name, 1))
    top, rules, start = [""], [], 2
    for name, span in tasks:
        top.append(rf"\multicolumn{{{span}}}{{c}}{{{latex_escape(name)}}}")
        rules.append(rf"\cmidrule(lr){{{start}-{start + span - 1}}}")
        start += span
    sub = [latex_escape(_first_header(table).capitalize())] + [latex_escape(c.quality) for c in table.columns]
    return [" & ".join(top) + r" \\", " ".join(rules), " & ".join(sub) + r" \\"]


def render_latex_table(table: ResultsTable, *, backend_note: str = "", label: str = "tab:results") -> str:
    """Two booktabs ``table`` environments (``label`` and ``label-iqm``); needs ``\\usepackage{booktabs}``."""
    out = []
    for kind in _KINDS:
        tag = label if kind == "mean" else f"{label}-iqm"
        lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(_caption(table, kind, backend_note))}}}",
                 rf"\label{{{tag}}}", rf"\begin{{tabular}}{{l{'c' * len(table.columns)}}}", r"\toprule",
                 *_latex_header(table), r"\midrule"]
        rows = _rows(table, kind)
        for position, (title, cells) in enumerate(rows):
            lines.append(" & ".join([latex_escape(title)] + [_latex_cell(*c) for c in cells]) + r" \\")
            if position + 1 == table.reference_rows:
                lines.append(r"\midrule")
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _html_cell(text: str, mark: str) -> str:
    text = html.escape(text)
    if mark == BEST:
        return f'<td class="best"><strong>{text}</strong></td>'
    if mark == OVERLAP:
        return f'<td class="overlap">{text}<sup>{DAGGER}</sup></td>'
    return f"<td>{text}</td>"


def _html_table(table: ResultsTable, kind: str, *, table_id: str, backend_note: str) -> list[str]:
    out = [f'<table id="{table_id}">', f"<caption>{html.escape(_caption(table, kind, backend_note))}</caption>",
           "<thead>", f"<tr><th>{html.escape(_first_header(table))}</th>"
           + "".join(f"<th>{html.escape(c.title)}</th>" for c in table.columns) + "</tr>", "</thead>", "<tbody>"]
    for position, (title, cells) in enumerate(_rows(table, kind)):
        reference = ' class="reference"' if position < table.reference_rows else ""
        out.append(f"<tr{reference}><th>{html.escape(title)}</th>" + "".join(_html_cell(*c) for c in cells) + "</tr>")
    return out + ["</tbody>", "</table>"]


def render_html_table(table: ResultsTable, *, backend_note: str = "", table_id: str = "results") -> str:
    """``<table id="results">`` (mean ± std) and, in a ``<details>`` toggle, ``<table id="results-iqm">``
    (``table_id`` replaces ``results`` in the ids)."""
    out = _html_table(table, "mean", table_id=table_id, backend_note=backend_note)
    out += [f'<details id="{table_id}-iqm-toggle">', "<summary>IQM [95% CI] and runs per cell</summary>",
            *_html_table(table, "iqm", table_id=f"{table_id}-iqm", backend_note=backend_note), "</details>"]
    return "\n".join(out) + "\n"
