"""build_report end to end on a small synthetic study: read every rendered file back."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from test_analysis_scores import synthetic_scores

from reports import build_report, write_text_atomic

CLAIMS = [{"kind": "improves", "a": {"global_info": True}, "b": {"global_info": False}, "task": "smac_a"},
          {"kind": "ranks", "order": ["omiga", "bc"], "task": "smac_b"}]


def study_scores() -> pd.DataFrame:
    """smac_a: omiga global clearly best. smac_b: all equal; bc failed every run; one omiga run diverged."""
    best = synthetic_scores({("omiga", 1.0, True): 0.9, ("omiga", 1.0, False): 0.5, ("bc", np.nan, None): 0.3},
                            tasks=("smac_a",), seeds=5, sd=0.02)
    flat = synthetic_scores({("omiga", 1.0, True): 0.6, ("omiga", 1.0, False): 0.6, ("bc", np.nan, None): 0.6},
                            tasks=("smac_b",), seeds=5, sd=0.05, rng_seed=1)
    frame = pd.concat([best, flat], ignore_index=True)
    frame.loc[frame["method"] == "bc", "mixer"] = None
    failed = (frame["task"] == "smac_b") & (frame["method"] == "bc")
    diverged = (frame["task"] == "smac_b") & (frame["global_info"] == False) & (frame["seed"] == 4)
    frame.loc[failed | diverged, ["score", "normalized_score", "win_rate"]] = np.nan
    frame.loc[failed, "status"] = "failed"
    frame.loc[diverged, "status"] = "diverged"
    return frame


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "demo"
    files = build_report(scores=study_scores(), out_dir=out, claims=CLAIMS, study_name="demo",
                         bootstrap_reps=300, seed=0)
    return files


def test_every_promised_file_is_written(report) -> None:
    names = {p.name for p in report.out_dir.iterdir()}
    expected = {"table.md", "table.tex", "table.html", "claims.md", "estimates.csv", "index.html"}
    expected |= {f"{stem}.{ext}" for stem in ("interval_estimates", "performance_profiles",
                                              "probability_of_improvement", "alpha_sensitivity")
                 for ext in ("png", "pdf")}
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp") or ".tmp." in n]
    assert (report.out_dir / "interval_estimates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (report.out_dir / "alpha_sensitivity.pdf").read_bytes()[:5] == b"%PDF-"


def test_estimates_csv_reads_back_with_the_contract_columns(report) -> None:
    estimates = pd.read_csv(report.out_dir / "estimates.csv")
    assert list(estimates.columns) == ["task", "quality", "group", "metric", "estimate", "ci_low", "ci_high",
                                       "n_runs"]
    iqm = estimates.set_index(["task", "group", "metric"]).loc[("smac_a", "omiga α=1 linear global", "iqm")]
    assert iqm["n_runs"] == 5 and iqm["ci_low"] <= iqm["estimate"] <= iqm["ci_high"]
    assert estimates.loc[(estimates["task"] == "smac_b") & (estimates["group"] == "bc")].empty


def _markdown_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if not line.startswith("|:")]


def test_markdown_table_names_backend_prints_n_and_missing_cells(report) -> None:
    text = (report.out_dir / "table.md").read_text(encoding="utf-8")
    assert text.startswith("Backend: smax. SMAX")
    header, *rows = _markdown_rows(text)
    assert header[0] == "configuration"
    assert "smac_a good (smax) IQM [95% CI]" in header
    by_group = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_group) == {"bc", "omiga α=1 linear global", "omiga α=1 linear local"}
    assert by_group["bc"]["smac_b good (smax) runs"] == "n=0; 5 failed"
    assert by_group["bc"]["smac_b good (smax) IQM [95% CI]"] == "–"
    assert by_group["omiga α=1 linear local"]["smac_b good (smax) runs"] == "n=4; 1 diverged"
    assert by_group["omiga α=1 linear global"]["smac_a good (smax) runs"] == "n=5"
    assert by_group["omiga α=1 linear global"]["smac_a good (smax) mean ± std"].startswith("**")
    assert not any(value.startswith("**") for key, value in by_group["omiga α=1 linear global"].items()
                   if key.startswith("smac_b"))


def test_latex_table_is_booktabs_with_bold_only_on_the_clear_best(report) -> None:
    text = (report.out_dir / "table.tex").read_text(encoding="utf-8")
    assert text.index(r"\toprule") < text.index(r"\midrule") < text.index(r"\bottomrule")
    assert r"\begin{tabular}{l ccc ccc}" in text
    assert r"\multicolumn{3}{c}{smac\_a good (smax)}" in text
    body = text[text.index(r"\midrule"):text.index(r"\bottomrule")]
    rows = {line.split(" & ")[0]: line.split(" & ") for line in body.splitlines()[1:]}
    best = rows[r"omiga $\alpha$=1 linear global"]
    assert best[1].startswith(r"\textbf{") and r"$\pm$" in best[1] and best[2].startswith(r"\textbf{")
    assert text.count(r"\textbf{") == 2
    assert rows["bc"][4:7] == ["--", "--", r"n=0; 5 failed \\"]


class _RowCollector(HTMLParser):
    """Collects the text of each <tr>'s cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_table_and_claims_are_rendered(report) -> None:
    parser = _RowCollector()
    parser.feed((report.out_dir / "table.html").read_text(encoding="utf-8"))
    header_top, header_sub, *body = parser.rows
    assert header_top == ["configuration", "smac_a good (smax)", "smac_b good (smax)"]
    assert len(header_sub) == 6 and all(len(row) == 7 for row in body)
    assert [row[0] for row in body] == ["bc", "omiga α=1 linear global", "omiga α=1 linear local"]
    claims = (report.out_dir / "claims.md").read_text(encoding="utf-8")
    assert re.search(r"\| global_info=True improves on global_info=False \(smac_a\) \| supported", claims)
    assert re.search(r"\| method ranks omiga > bc \(smac_b\) +\| inconclusive .*cannot judge: order value "
                     r"'bc' \(method=bc\) has no ok run \(5 failed\)", claims)


def test_index_html_uses_no_network_and_links_every_figure(report) -> None:
    page = report.index.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    for stem in ("interval_estimates", "performance_profiles", "probability_of_improvement", "alpha_sensitivity"):
        assert f'src="{stem}.png"' in page
    assert '<table id="results">' in page and '<table id="claims">' in page


def test_same_seed_reproduces_estimates(report, tmp_path) -> None:
    again = build_report(scores=study_scores(), out_dir=tmp_path, bootstrap_reps=300, seed=0)
    first = (report.out_dir / "estimates.csv").read_text(encoding="utf-8")
    assert (again.out_dir / "estimates.csv").read_text(encoding="utf-8") == first


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path) -> None:
    target = write_text_atomic(tmp_path / "table.md", "old")
    from reports.files import write_atomic

    def broken(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.md"]


def test_cells_format_mean_std_and_undefined_values() -> None:
    from reports.results_table import ResultsCell, format_number

    assert [format_number(v) for v in (1234.4, 15.23, 0.4567, float("nan"))] == ["1234", "15.2", "0.46", "–"]
    single = ResultsCell(mean=5.0, std=float("nan"), iqm=5.0, ci_low=5.0, ci_high=5.0, n_ok=1, n_diverged=0,
                         n_failed=2)
    assert (single.mean_std, single.iqm_ci, single.runs) == ("5.00 ± –", "5.00 [5.00, 5.00]", "n=1; 2 failed")
