"""index.html: the whole report on one self-contained page (no network: inline CSS, images by relative path).

Sections: the results tables (paper form, IQM table behind a toggle), the datasets (behaviour return per task ×
quality, when a datasets summary is given), claims, convergence (when learning curves were recorded), figures
(learning curves first), provenance (command, spec, preset, git SHA, seeds, analysis settings, package
versions) and the files. A small inline script marks
each ``<img>`` with ``data-loaded="yes"`` or ``"no"`` once the page has loaded (invisible; a broken image gets
a red outline), which a headless browser's ``--dump-dom`` shows.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

import pandas as pd

from reports.results_table import format_number

__all__ = ["render_index_html"]

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
caption { text-align: left; font-style: italic; padding: 0.3em 0; }
tr.reference { background: #f2f2f2; }
td.supported { background: #d8f5d8; } td.refuted { background: #f8d8d8; } td.inconclusive { background: #f4f0d0; }
figure { margin: 1.5em 0; } img { max-width: 100%; } img[data-loaded="no"] { outline: 3px solid #c00; }
summary { cursor: pointer; margin: 0.5em 0; }
dl.provenance dt { font-weight: bold; } dl.provenance dd { margin: 0 0 0.4em 1.5em; font-family: monospace; }
"""

_IMAGE_CHECK = """
window.addEventListener("load", function () {
  for (var i = 0; i < document.images.length; i++) {
    var image = document.images[i];
    image.setAttribute("data-loaded", image.complete && image.naturalWidth > 0 ? "yes" : "no");
  }
});
"""


_DIAGNOSTICS = (("return_min", "return min"), ("return_median", "median"), ("return_max", "max"),
                ("episodes_per_start", "episodes per start"), ("action_coverage", "actions covered"),
                ("state_action_coverage", "per state cell"), ("action_entropy", "H(a_i | cell) nats"),
                ("action_mi", "I(a_i; a_j | cell) nats"), ("action_mi_excess", "above permuted"))


def _datasets_html(datasets: pd.DataFrame | None) -> str:
    if datasets is None or datasets.empty:
        return '<p id="datasets">No datasets summary was given for this report.</p>'
    extra = [(column, title) for column, title in _DIAGNOSTICS if column in datasets.columns]

    def cell(value: float) -> str:
        return "–" if pd.isna(value) else f"{value:.3g}"

    rows = "".join(f"<tr><td>{html.escape(str(r.task))}</td><td>{html.escape(str(r.quality))}</td>"
                   f"<td>{format_number(r.behaviour_return_mean)} ± {format_number(r.behaviour_return_std)}</td>"
                   f"<td>{int(r.episodes)}</td>" + "".join(f"<td>{cell(getattr(r, c))}</td>" for c, _ in extra)
                   + "</tr>" for r in datasets.itertuples(index=False))
    heads = "".join(f"<th>{html.escape(title)}</th>" for _, title in extra)
    note = (" and coverage diagnostics (omiga.data.coverage: states grouped by a fixed sign hash; mutual "
            "information between agents' actions, plug-in, and its excess over a within-cell permutation)"
            if extra else "")
    return ('<table id="datasets"><caption>Behaviour (dataset) return: mean ± std over the dataset\'s episodes'
            f"{note}</caption><thead><tr><th>task</th><th>quality</th><th>behaviour return</th><th>episodes</th>"
            f"{heads}</tr></thead><tbody>{rows}</tbody></table>")


def _value_text(value: object) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _provenance_html(provenance: Mapping[str, object]) -> str:
    items = []
    for key in sorted(provenance):
        if key == "versions":
            continue
        items.append(f"<dt>{html.escape(key)}</dt><dd>{html.escape(_value_text(provenance[key]))}</dd>")
    versions = provenance.get("versions", {})
    if isinstance(versions, Mapping) and versions:
        text = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
        items.append(f"<dt>package versions</dt><dd>{html.escape(text)}</dd>")
    return f'<dl class="provenance" id="provenance">{"".join(items)}</dl>'


def render_index_html(*, study_name: str, backend_note: str, results_table_html: str, claims_html: str,
                      figures: Sequence[tuple[str, str]], downloads: Sequence[str],
                      provenance: Mapping[str, object] | None = None, datasets: pd.DataFrame | None = None,
                      convergence_html: str = "") -> str:
    """The page. ``figures`` are (relative PNG path, caption); ``downloads`` relative paths to link;
    ``convergence_html`` the convergence section's body (reports.convergence), left out when empty."""
    convergence = f"<h2>Convergence</h2>\n{convergence_html}" if convergence_html else ""
    title = html.escape(f"OMIGA study: {study_name}")
    figure_html = "\n".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>" for src, caption in figures)
    links = " · ".join(f'<a href="{html.escape(p)}">{html.escape(p)}</a>' for p in downloads)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p id="backend-note">{html.escape(backend_note)}</p>
<h2>Results</h2>
{results_table_html}
<h2>Datasets</h2>
{_datasets_html(datasets)}
<h2>Claims</h2>
{claims_html}
{convergence}
<h2>Figures</h2>
{figure_html}
<h2>Provenance</h2>
{_provenance_html(provenance or {})}
<h2>Files</h2>
<p>{links}</p>
<script>{_IMAGE_CHECK}</script>
</body>
</html>
"""
