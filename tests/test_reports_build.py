"""build_report end to end on a small synthetic study: read every rendered file back."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
                         bootstrap_reps=300, seed=0, select_seeds=0.4)
    return files


def test_a_tuned_study_gets_the_papers_rows_each_method_at_its_selected_setting(report) -> None:
    """OMIGA ran at two settings (global on/off): tuned.md has one row per method, OMIGA at the setting chosen on
    seeds 0-1 (global, clearly best on smac_a), judged on seeds 2-4; the full per-configuration table stays."""
    tuned = (report.out_dir / "tuned.md").read_text()
    rows = [row[0] for row in _markdown_tables(tuned)[0][1:]]
    assert rows == ["BC", "OMIGA"] and "selected on seeds 0-1 and tested on seeds 2-4" in tuned
    settings = pd.read_csv(report.out_dir / "tuned_settings.csv").set_index(["task", "method"])
    assert settings.loc[("smac_a", "omiga"), "setting"] == "omiga α=1 linear global"
    assert settings.loc[("smac_a", "bc"), "n_settings"] == 1
    assert len(_markdown_tables((report.out_dir / "table.md").read_text())[0]) == 4  # header + 3 configurations
    assert 'id="tuned"' in (report.out_dir / "index.html").read_text()


def test_every_promised_file_is_written(report) -> None:
    names = {p.name for p in report.out_dir.iterdir()}
    expected = {"table.md", "table.tex", "table.html", "claims.md", "estimates.csv", "provenance.json", "index.html"}
    expected |= {f"{stem}.{ext}" for stem in ("interval_estimates", "performance_profiles",
                                              "probability_of_improvement", "alpha_sensitivity")
                 for ext in ("png", "pdf")}
    assert expected <= names
    assert "learning_curves.png" not in names  # no curves table given: no learning-curve figure
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


def _markdown_tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table of ``text`` as rows of cells (header first, the :--- line dropped)."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            if not line.startswith("|:"):
                current.append([cell.strip() for cell in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_markdown_tables_mark_the_best_and_the_overlapping_and_print_n(report) -> None:
    text = (report.out_dir / "table.md").read_text(encoding="utf-8")
    assert text.startswith("**Table 1.** Score per task × quality: mean ± std (sample std) over n = 5 ok seeds")
    assert "Backend: smax. SMAX" in text and "†: its 95% bootstrap CI of the mean overlaps the best's" in text
    means, iqms = _markdown_tables(text)
    header = means[0]
    assert header == ["configuration", "smac_a good (smax)", "smac_b good (smax)"]
    by_group = {row[0]: dict(zip(header, row, strict=True)) for row in means[1:]}
    assert list(by_group) == ["bc", "omiga α=1 linear global", "omiga α=1 linear local"]  # paper order: BC first
    assert by_group["omiga α=1 linear global"]["smac_a good (smax)"].startswith("**")
    assert not by_group["omiga α=1 linear local"]["smac_a good (smax)"].endswith("†")  # clear of the best
    assert by_group["omiga α=1 linear local"]["smac_b good (smax)"].endswith("(n=4; 1 diverged)†")  # equal means
    assert by_group["bc"]["smac_b good (smax)"] == "– (n=0; 5 failed)"
    iqm_rows = {row[0]: row for row in iqms[1:]}
    assert iqm_rows["omiga α=1 linear global"][1].startswith("**") and iqm_rows["omiga α=1 linear global"][1].endswith(
        "n=5**")
    assert iqm_rows["bc"][2] == "– n=0; 5 failed"


def test_latex_tables_are_booktabs_with_bold_best_and_daggers(report) -> None:
    text = (report.out_dir / "table.tex").read_text(encoding="utf-8")
    assert text.count(r"\begin{table}") == 2 and r"\label{tab:results-iqm}" in text
    assert text.index(r"\toprule") < text.index(r"\midrule") < text.index(r"\bottomrule")
    assert r"\begin{tabular}{lcc}" in text
    assert r"\multicolumn{1}{c}{smac\_a (smax)}" in text and r"\cmidrule(lr){2-2}" in text
    first = text[:text.index(r"\end{table}")]
    body = first[first.index(r"\midrule"):first.index(r"\bottomrule")]
    rows = {line.split(" & ")[0]: line.split(" & ") for line in body.splitlines()[1:]}
    best = rows[r"omiga $\alpha$=1 linear global"]
    assert best[1].startswith(r"\textbf{") and r"$\pm$" in best[1] and best[2].startswith(r"\textbf{")
    assert first.count(r"\textbf{") == 2 and first.count(r"$^\dagger$") == 2  # one in the caption, one cell
    assert rows["bc"][2] == r"-- (n=0; 5 failed) \\"


class _RowCollector(HTMLParser):
    """Collects the text of each <tr>'s cells, per table id."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self._table = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id", "")
            self.rows[self._table] = []
        elif tag == "tr":
            self.rows[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[self._table][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_tables_and_claims_are_rendered(report) -> None:
    text = (report.out_dir / "table.html").read_text(encoding="utf-8")
    parser = _RowCollector()
    parser.feed(text)
    header, *body = parser.rows["results"]
    assert header == ["configuration", "smac_a good (smax)", "smac_b good (smax)"]
    assert [row[0] for row in body] == ["bc", "omiga α=1 linear global", "omiga α=1 linear local"]
    assert body[2][2] == "12.2 ± 0.51 (n=4; 1 diverged)†"
    assert [row[0] for row in parser.rows["results-iqm"][1:]] == [row[0] for row in body]
    assert '<details id="results-iqm-toggle">' in text and '<td class="best"><strong>' in text
    claims = (report.out_dir / "claims.md").read_text(encoding="utf-8")
    assert re.search(r"\| global_info=True improves on global_info=False \(smac_a\) \| supported", claims)
    assert re.search(r"\| method ranks omiga > bc \(smac_b\) +\| inconclusive .*cannot judge: order value "
                     r"'bc' \(method=bc\) has no ok run \(5 failed\)", claims)


def test_index_html_uses_no_network_links_every_figure_and_records_provenance(report) -> None:
    page = report.index.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    for stem in ("interval_estimates", "performance_profiles", "probability_of_improvement", "alpha_sensitivity"):
        assert f'src="{stem}.png"' in page
    assert '<table id="results">' in page and '<table id="claims">' in page
    assert "images loaded" not in page and "image-status" not in page
    provenance = json.loads((report.out_dir / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["seeds"] == [0, 1, 2, 3, 4]
    assert provenance["analysis"] == {"bootstrap_reps": 300, "small_reps": 500, "bootstrap_seed": 0,
                                      "engine": "vectorised", "confidence": 0.95}
    assert provenance["versions"]["rliable"] == "1.2.0"
    assert "<dt>analysis</dt>" in page and "rliable 1.2.0" in page


def paper_scores() -> pd.DataFrame:
    """One configuration per method (so rows are methods), two qualities."""
    frames = [synthetic_scores({(method, np.nan, None): mean}, seeds=3, quality=quality, rng_seed=k)
              for k, (method, mean) in enumerate([("omiga", 0.9), ("icq", 0.5), ("bc", 0.3), ("cql", 0.6)])
              for quality in ("medium", "poor")]
    return pd.concat(frames, ignore_index=True)


DATASETS = pd.DataFrame({"task": ["smac_corridor", "smac_corridor"], "quality": ["medium", "poor"],
                         "behaviour_return_mean": [11.5, 4.25], "behaviour_return_std": [2.0, 1.5],
                         "episodes": [200, 200]})


DIAGNOSTICS = DATASETS.assign(return_median=[11.0, 4.0], action_coverage=[0.75, 0.5],
                              action_mi=[0.0123, float("nan")])
RETURNS = pd.DataFrame({"task": "smac_corridor", "quality": ["medium"] * 3 + ["poor"] * 2,
                        "return": [10.0, 11.5, 13.0, 4.0, 4.5]})


def test_method_rows_follow_the_papers_order_under_the_behaviour_reference_row(tmp_path) -> None:
    files = build_report(scores=paper_scores(), out_dir=tmp_path, bootstrap_reps=100, datasets=DIAGNOSTICS,
                         dataset_returns=RETURNS)
    means, iqms = _markdown_tables((files.out_dir / "table.md").read_text(encoding="utf-8"))
    assert means[0] == ["method", "smac_corridor medium (smax)", "smac_corridor poor (smax)"]
    assert [row[0] for row in means[1:]] == ["behaviour (dataset)", "BC", "CQL-MA", "ICQ", "OMIGA"]
    assert means[1][1:] == ["11.5 ± 2.00", "4.25 ± 1.50"]
    assert iqms[1][1] == "11.5 ± 2.00 (200 episodes)"
    page = files.index.read_text(encoding="utf-8")
    assert '<table id="datasets">' in page and "<td>4.25 ± 1.50</td><td>200</td>" in page
    # the coverage diagnostics and the return histograms (an undefined measure prints as a dash)
    assert "<th>actions covered</th>" in page and "<td>0.75</td><td>0.0123</td>" in page
    assert "<td>0.5</td><td>–</td>" in page
    assert 'src="dataset_returns.png"' in page and (files.out_dir / "dataset_returns.pdf").is_file()
    assert list(pd.read_csv(files.out_dir / "datasets.csv")["action_coverage"]) == [0.75, 0.5]


def test_bad_diagnostics_or_returns_are_named(tmp_path) -> None:
    from analysis import ScoresTableError

    with pytest.raises(ScoresTableError, match="non-numeric or infinite value"):
        build_report(scores=paper_scores(), out_dir=tmp_path / "bad", datasets=DIAGNOSTICS.assign(action_mi="x"))
    with pytest.raises(ScoresTableError, match="dataset returns table lacks column\\(s\\) return"):
        build_report(scores=paper_scores(), out_dir=tmp_path / "bad", dataset_returns=RETURNS.drop(columns="return"))


def test_on_the_papers_data_the_papers_scores_are_reference_rows(tmp_path) -> None:
    files = build_report(scores=paper_scores(), out_dir=tmp_path, bootstrap_reps=100, datasets=DATASETS,
                         paper_reference=True)
    text = (files.out_dir / "table.md").read_text(encoding="utf-8")
    means, _ = _markdown_tables(text)
    titles = [row[0] for row in means[1:]]
    assert titles[:7] == ["behaviour (dataset)", "paper: BC", "paper: BCQ-MA", "paper: CQL-MA", "paper: ICQ",
                          "paper: OMAR", "paper: OMIGA"]
    assert titles[7:] == ["BC", "CQL-MA", "ICQ", "OMIGA"]
    assert means[7][1:] == ["11.66 ± 1.30", "5.61 ± 0.35"]  # corridor medium / poor, PAPER_NUMBERS.md 1.2
    assert "as carried in vietbt/ComaDICE analyze.ipynb" in text
    tex = (files.out_dir / "table.tex").read_text(encoding="utf-8")
    assert tex.split(r"\midrule")[2].lstrip().startswith("BC &")  # the rule separates references and runs
    page = (files.out_dir / "table.html").read_text(encoding="utf-8")
    assert page.count('<tr class="reference">') == 2 * 7
    plain = build_report(scores=paper_scores(), out_dir=tmp_path / "plain", bootstrap_reps=100, datasets=DATASETS)
    assert "paper:" not in (plain.out_dir / "table.md").read_text(encoding="utf-8")


def test_a_datasets_summary_without_its_columns_is_named(tmp_path) -> None:
    from analysis import ScoresTableError

    with pytest.raises(ScoresTableError, match="datasets summary lacks column\\(s\\) episodes"):
        build_report(scores=paper_scores(), out_dir=tmp_path, datasets=DATASETS.drop(columns=["episodes"]))
    assert not any(tmp_path.iterdir())


PDFLATEX = shutil.which("pdflatex")


@pytest.mark.skipif(PDFLATEX is None, reason="no TeX engine (apt-get install texlive-latex-base "
                                              "texlive-latex-recommended)")
def test_latex_tables_compile_with_pdflatex(report, tmp_path) -> None:
    document = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
                "\\begin{document}\n\\input{table.tex}\n\\end{document}\n")
    shutil.copy(report.out_dir / "table.tex", tmp_path / "table.tex")
    (tmp_path / "doc.tex").write_text(document, encoding="utf-8")
    result = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "doc.pdf").read_bytes()[:5] == b"%PDF-"


def test_two_builds_give_byte_identical_files_and_leave_the_global_rng_alone(report, tmp_path) -> None:
    np.random.seed(3)
    expected = np.random.RandomState(3).rand()
    again = build_report(scores=study_scores(), out_dir=tmp_path / "demo", claims=CLAIMS, study_name="demo",
                         bootstrap_reps=300, seed=0, engine="rliable", select_seeds=0.4)
    assert np.random.rand() == expected
    names = sorted(p.name for p in report.out_dir.iterdir())
    assert names == sorted(p.name for p in again.out_dir.iterdir())
    differing = [n for n in names if (report.out_dir / n).read_bytes() != (again.out_dir / n).read_bytes()]
    # the rliable engine draws the same numbers as the vectorised one: only provenance.json (and the page that
    # prints it) name the engine; every table, CSV and figure is identical byte for byte
    assert differing == ["index.html", "provenance.json"]


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

    assert [format_number(v) for v in (1234.4, 15.23, 0.4567, float("nan"), 6.7e30)] == ["1234", "15.2", "0.46", "–",
                                                                                     "6.7e+30"]
    single = ResultsCell(mean=5.0, std=float("nan"), iqm=5.0, ci_low=5.0, ci_high=5.0, n_ok=1, n_diverged=0,
                         n_failed=2)
    assert (single.mean_std, single.iqm_ci, single.runs) == ("5.00 ± –", "5.00 [5.00, 5.00]", "n=1; 2 failed")


def test_learning_curves_always_draw_the_baselines_beside_the_best() -> None:
    from reports.rliable_plots import MAX_CURVES, _top

    final = pd.Series({f"omiga α={i}": float(i) for i in range(12)} | {"bc": -1.0})
    shown = _top(final, keep=["bc"])
    assert len(shown) == MAX_CURVES and "bc" in shown
    assert set(shown) - {"bc"} == {f"omiga α={i}" for i in range(12 - MAX_CURVES + 1, 12)}
    assert "bc" not in _top(final)
