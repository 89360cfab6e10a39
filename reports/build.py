"""Build a study's report directory from a scores table: tables, claims, plots, estimates and index.html.

Files written into ``out_dir`` (each atomically): ``table.md``, ``table.tex``, ``table.html``, ``claims.md``,
``estimates.csv`` (task, quality, group, metric, estimate, ci_low, ci_high, n_runs; ``task == "all"`` rows are
across tasks on normalised scores), ``claims.csv``, ``probability_of_improvement.csv``, the figures
``interval_estimates``, ``performance_profiles``, ``probability_of_improvement``, ``alpha_sensitivity`` as PNG
and PDF, and ``index.html``. Probability of improvement and performance profiles use a tenth of
``bootstrap_reps`` (at least 500): they are drawn, not tabulated to two digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import (
    DEFAULT_BOOTSTRAP_REPS,
    EstimateConfig,
    evaluate_claims,
    interval_estimates,
    load_scores,
    pairwise_probability_of_improvement,
    performance_profiles,
    seed_summary,
    verdicts_table,
)
from reports.files import staged_directory, write_text_atomic
from reports.page import render_index_html
from reports.plots import (
    plot_alpha_sensitivity,
    plot_interval_estimates,
    plot_performance_profiles,
    plot_probability_of_improvement,
    save_figure,
)
from reports.results_table import results_table
from reports.tables import render_html_table, render_latex_table, render_markdown_table
from reports.verdicts import render_claims_html, render_claims_markdown

__all__ = ["BACKEND_NOTES", "FIGURES", "ReportFiles", "build_report", "default_backend_note"]

BACKEND_NOTES = {
    "smax": "SMAX (JaxMARL's JAX re-implementation of SMAC) is not StarCraft II: its scores are not comparable "
            "with numbers reported on SMAC.",
    "sc2": "StarCraft II via SMAC.",
    "mamujoco": "Multi-agent MuJoCo (gymnasium-robotics).",
}
FIGURES = (
    ("interval_estimates", "Aggregate metrics across tasks (normalised scores) with 95% stratified bootstrap CIs"),
    ("performance_profiles", "Performance profiles: fraction of runs above each normalised score, 95% CIs"),
    ("probability_of_improvement", "Probability of improvement P(X > Y) with 95% CIs"),
    ("alpha_sensitivity", "IQM across tasks against α with 95% CIs"),
)


@dataclass(frozen=True)
class ReportFiles:
    """Paths of everything :func:`build_report` wrote."""

    out_dir: Path
    files: tuple[Path, ...]

    @property
    def index(self) -> Path:
        """The one-page report."""
        return self.out_dir / "index.html"


def default_backend_note(backends: Sequence[str]) -> str:
    """A sentence per backend saying what it is (SMAX is not SMAC)."""
    return " ".join(BACKEND_NOTES.get(b, f"Backend {b}.") for b in sorted(set(backends)))


def build_report(*, scores: pd.DataFrame | str | Path, out_dir: str | Path,
                 claims: Sequence[Mapping[str, object]] = (), study_name: str = "study",
                 backend_note: str | None = None, bootstrap_reps: int = DEFAULT_BOOTSTRAP_REPS,
                 seed: int = 0) -> ReportFiles:
    """Analyse ``scores`` (a table or a .csv/.parquet path) and write the report into ``out_dir``.

    ``backend_note`` defaults to :func:`default_backend_note` of the table's backends. Raises
    ``analysis.AnalysisError`` subclasses on a bad table or claim, before anything is written. The report is
    built in a staging directory and replaces ``out_dir`` whole (`reports.files.staged_directory`): a failure
    half-way leaves the previous report as it was.
    """
    out = Path(out_dir)
    with staged_directory(out) as staging:
        staged = _write_report(scores=scores, out_dir=staging, claims=claims, study_name=study_name,
                               backend_note=backend_note, bootstrap_reps=bootstrap_reps, seed=seed)
    return ReportFiles(out_dir=out, files=tuple(out / path.relative_to(staging) for path in staged.files))


def _write_report(*, scores: pd.DataFrame | str | Path, out_dir: Path, claims: Sequence[Mapping[str, object]],
                  study_name: str, backend_note: str | None, bootstrap_reps: int, seed: int) -> ReportFiles:
    table = load_scores(scores)
    note = default_backend_note(list(table["backend"])) if backend_note is None else backend_note
    verdicts = verdicts_table(evaluate_claims(table, claims, reps=bootstrap_reps, seed=seed))
    estimates = interval_estimates(table, config=EstimateConfig(reps=bootstrap_reps, seed=seed))
    small_reps = max(500, bootstrap_reps // 10)
    improvement = pairwise_probability_of_improvement(table, reps=small_reps, seed=seed)
    profiles = performance_profiles(table, reps=small_reps, seed=seed)
    results = results_table(summary=seed_summary(table), estimates=estimates)

    out = Path(out_dir)
    written = [
        write_text_atomic(out / "table.md", render_markdown_table(results, backend_note=note)),
        write_text_atomic(out / "table.tex", render_latex_table(results, backend_note=note)),
        write_text_atomic(out / "table.html", render_html_table(results, backend_note=note)),
        write_text_atomic(out / "claims.md", render_claims_markdown(verdicts, backend_note=note)),
        write_text_atomic(out / "estimates.csv", estimates.to_csv(index=False)),
        write_text_atomic(out / "claims.csv", verdicts.to_csv(index=False)),
        write_text_atomic(out / "probability_of_improvement.csv", improvement.to_csv(index=False)),
    ]
    configurations = table.loc[:, ["group", "method", "alpha", "mixer", "global_info"]]
    figures = {
        "interval_estimates": plot_interval_estimates(estimates),
        "performance_profiles": plot_performance_profiles(profiles),
        "probability_of_improvement": plot_probability_of_improvement(improvement),
        "alpha_sensitivity": plot_alpha_sensitivity(estimates, configurations=configurations),
    }
    for stem, _ in FIGURES:
        written += save_figure(figures[stem], out / stem)
    downloads = [p.name for p in written]
    page = render_index_html(study_name=study_name, backend_note=note,
                             results_table_html=render_html_table(results, backend_note=note),
                             claims_html=render_claims_html(verdicts),
                             figures=[(f"{stem}.png", caption) for stem, caption in FIGURES], downloads=downloads)
    written.append(write_text_atomic(out / "index.html", page))
    return ReportFiles(out_dir=out, files=tuple(written))
