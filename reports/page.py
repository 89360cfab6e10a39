"""index.html: the whole report on one self-contained page (no network: inline CSS, images by relative path).

An inline script records, after the page loads, whether each image decoded (``data-loaded`` on every
``<img>`` and a summary in ``#image-status``), so a headless browser's ``--dump-dom`` shows it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["render_index_html"]

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; }
caption { text-align: left; font-style: italic; padding: 0.3em 0; }
td.supported { background: #d8f5d8; } td.refuted { background: #f8d8d8; } td.inconclusive { background: #f4f0d0; }
figure { margin: 1.5em 0; } img { max-width: 100%; }
"""

_IMAGE_CHECK = """
window.addEventListener("load", function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    var ok = images[i].complete && images[i].naturalWidth > 0;
    images[i].setAttribute("data-loaded", ok ? "yes" : "no");
    if (ok) { loaded++; }
  }
  var status = document.getElementById("image-status");
  status.setAttribute("data-loaded", String(loaded));
  status.setAttribute("data-total", String(images.length));
  status.textContent = loaded + " of " + images.length + " images loaded";
});
"""


def render_index_html(*, study_name: str, backend_note: str, results_table_html: str, claims_html: str,
                      figures: Sequence[tuple[str, str]], downloads: Sequence[str]) -> str:
    """The page. ``figures`` are (relative PNG path, caption); ``downloads`` relative paths to link."""
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
<h2>Claims</h2>
{claims_html}
<h2>Figures</h2>
<p id="image-status">images not checked (scripts disabled)</p>
{figure_html}
<h2>Files</h2>
<p>{links}</p>
<script>{_IMAGE_CHECK}</script>
</body>
</html>
"""
