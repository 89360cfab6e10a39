"""Render the results table as Markdown (tabulate), LaTeX (booktabs) and HTML.

Each task × quality column has three sub-columns: mean ± std across seeds (as the paper prints), IQM [95% CI]
and the runs behind them (``n=5; 1 diverged``). The best cell of a column (see reports.results_table) is bold.
A cell of a configuration that was never run on that column reads "not run". The backend of every column is
named in its header and in the caption.
"""

from __future__ import annotations

import html

import pandas as pd

from reports.results_table import ResultsCell, ResultsTable

__all__ = ["latex_escape", "render_html_table", "render_latex_table", "render_markdown_table"]

_SUBCOLUMNS = ("mean ± std", "IQM [95% CI]", "runs")
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "α": r"$\alpha$", "±": r"$\pm$", "–": "--"}


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and write α, ± and – in math/ASCII form."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _cell_texts(cell: ResultsCell | None) -> tuple[str, str, str]:
    if cell is None:
        return ("not run", "not run", "n=0")
    return (cell.mean_std, cell.iqm_ci, cell.runs)


def _caption(table: ResultsTable, backend_note: str) -> str:
    text = f"Backend: {', '.join(table.backends)}."
    return f"{text} {backend_note}".strip()


def render_markdown_table(table: ResultsTable, *, backend_note: str = "") -> str:
    """GitHub-flavoured Markdown: a caption line naming the backend, then the table."""
    records = []
    for group in table.groups:
        record = {"configuration": group}
        for index, column in enumerate(table.columns):
            cell = table.cell(group, index)
            texts = _cell_texts(cell)
            for name, text in zip(_SUBCOLUMNS, texts, strict=True):
                bold = cell is not None and cell.best and name != "runs"
                record[f"{column.title} {name}"] = f"**{text}**" if bold else text
        records.append(record)
    body = pd.DataFrame(records).to_markdown(index=False, disable_numparse=True)
    return f"{_caption(table, backend_note)}\n\n{body}\n"


def render_latex_table(table: ResultsTable, *, backend_note: str = "", label: str = "tab:results") -> str:
    """A booktabs ``table`` environment: \\toprule, grouped headers with \\cmidrule, \\midrule, \\bottomrule."""
    spec = "l" + " ccc" * len(table.columns)
    header_top = " & ".join([""] + [rf"\multicolumn{{3}}{{c}}{{{latex_escape(c.title)}}}" for c in table.columns])
    rules = " ".join(rf"\cmidrule(lr){{{2 + 3 * i}-{4 + 3 * i}}}" for i in range(len(table.columns)))
    header_sub = " & ".join(["Configuration"] + [latex_escape(n) for n in _SUBCOLUMNS] * len(table.columns))
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(_caption(table, backend_note))}}}",
             rf"\label{{{label}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header_top + r" \\", rules,
             header_sub + r" \\", r"\midrule"]
    for group in table.groups:
        entries = [latex_escape(group)]
        for index in range(len(table.columns)):
            cell = table.cell(group, index)
            for name, text in zip(_SUBCOLUMNS, _cell_texts(cell), strict=True):
                text = latex_escape(text)
                entries.append(rf"\textbf{{{text}}}" if cell is not None and cell.best and name != "runs"
                               else text)
        lines.append(" & ".join(entries) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def render_html_table(table: ResultsTable, *, backend_note: str = "") -> str:
    """An HTML ``<table id="results">`` fragment with a caption naming the backend; best cells in <strong>."""
    out = ['<table id="results">', f"<caption>{html.escape(_caption(table, backend_note))}</caption>", "<thead>",
           "<tr><th rowspan=\"2\">configuration</th>"
           + "".join(f'<th colspan="3">{html.escape(c.title)}</th>' for c in table.columns) + "</tr>",
           "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in _SUBCOLUMNS) * len(table.columns) + "</tr>",
           "</thead>", "<tbody>"]
    for group in table.groups:
        row = [f"<th>{html.escape(group)}</th>"]
        for index in range(len(table.columns)):
            cell = table.cell(group, index)
            for name, text in zip(_SUBCOLUMNS, _cell_texts(cell), strict=True):
                text = html.escape(text)
                bold = cell is not None and cell.best and name != "runs"
                row.append(f"<td><strong>{text}</strong></td>" if bold else f"<td>{text}</td>")
        out.append("<tr>" + "".join(row) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out) + "\n"
