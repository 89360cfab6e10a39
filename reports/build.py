"""Build a study's report directory from a scores table: tables, claims, plots, estimates and index.html.

Files written into ``out_dir`` (each atomically): ``table.md``, ``table.tex``, ``table.html`` (paper form:
mean ± std, then IQM [95% CI] and n; one row per configuration), with ``select_seeds`` given and some method
run at several settings also ``tuned.md``, ``tuned.tex``, ``tuned.html`` and ``tuned_settings.csv`` (the paper's
rows: each method at the setting chosen per task × quality on the selection seeds, judged on the other seeds,
analysis.tuned_runs; shown first on index.html), ``claims.md``, ``estimates.csv`` (task, quality, group, metric,
estimate, ci_low, ci_high, n_runs; ``task == "all"`` rows are across tasks on normalised scores),
``claims.csv``, ``probability_of_improvement.csv``, ``marl_eval.json`` (reports.marl_eval); when a curves table
is given ``learning_curves.csv`` and ``convergence.md`` / ``convergence.csv`` (reports.convergence);
``datasets.csv`` (the datasets summary with its coverage diagnostics, when given); the
figures of :data:`FIGURES` as PNG and PDF, ``provenance.json`` and ``index.html``. Probability of improvement,
performance profiles and learning-curve bands use a tenth of ``bootstrap_reps`` (at least 500): they are drawn,
not tabulated to two digits. The same inputs and seed give byte-identical files (the statistics engine seeds
what rliable draws; figures carry no timestamps); the analysis time goes to :attr:`ReportFiles.analysis_seconds`,
not into the files.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import (
    DEFAULT_BOOTSTRAP_REPS,
    DEFAULT_ENGINE,
    EstimateConfig,
    convergence_summary,
    evaluate_claims,
    interval_estimates,
    learning_curve_bands,
    load_curves,
    load_dataset_returns,
    load_dataset_summary,
    load_scores,
    pairwise_probability_of_improvement,
    performance_profiles,
    seed_summary,
    split_seeds,
    tuned_runs,
    verdicts_table,
)
from reports.convergence import render_convergence_html, render_convergence_markdown
from reports.files import staged_directory, write_text_atomic
from reports.marl_eval import marl_eval_json
from reports.page import render_index_html
from reports.plots import plot_alpha_sensitivity, plot_dataset_returns, plot_interval_estimates, save_figure
from reports.results_table import results_table
from reports.rliable_plots import (
    plot_learning_curves,
    plot_performance_profiles,
    plot_probability_of_improvement,
)
from reports.tables import render_html_table, render_latex_table, render_markdown_table
from reports.verdicts import render_claims_html, render_claims_markdown

__all__ = ["BACKEND_NOTES", "FIGURES", "ReportFiles", "build_report", "default_backend_note"]

BACKEND_NOTES = {
    "smax": "SMAX (JaxMARL's JAX re-implementation of SMAC) is not StarCraft II: its scores are not comparable "
            "with numbers reported on SMAC.",
    "sc2": "StarCraft II via SMAC.",
    "mamujoco": "Multi-agent MuJoCo (gymnasium-robotics).",
    "toy": "toy_coop: the tiny NumPy cooperative task for CI, not a benchmark.",
}
FIGURES = (
    ("learning_curves", "Learning curves: IQM over runs at each evaluation step with 95% stratified bootstrap CIs "
                        "(the configurations with the highest final IQM)"),
    ("interval_estimates", "Aggregate metrics across tasks (normalised scores) with 95% stratified bootstrap CIs"),
    ("performance_profiles", "Performance profiles: fraction of runs above each normalised score, 95% CIs "
                             "(the configurations with the largest area under the profile)"),
    ("probability_of_improvement", "Probability of improvement of the best configuration P(X > Y) with 95% CIs"),
    ("alpha_sensitivity", "OMIGA: IQM across tasks against α with 95% CIs"),
    ("dataset_returns", ("Episode returns of each dataset (behaviour policy), one histogram per quality; dashed: "
                         "the mean")),
)
_VERSIONED = ("rliable", "arch", "numpy", "scipy", "pandas", "matplotlib", "optuna", "torch")


@dataclass(frozen=True)
class ReportFiles:
    """Paths of everything :func:`build_report` wrote."""

    out_dir: Path
    files: tuple[Path, ...]
    analysis_seconds: float = 0.0
    """Wall-clock seconds of the analysis stage (estimates, claims, improvement, profiles, curves)."""

    @property
    def index(self) -> Path:
        """The one-page report."""
        return self.out_dir / "index.html"


def default_backend_note(backends: Sequence[str]) -> str:
    """A sentence per backend saying what it is (SMAX is not SMAC)."""
    return " ".join(BACKEND_NOTES.get(b, f"Backend {b}.") for b in sorted(set(backends)))


def _versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _provenance(table: pd.DataFrame, given: Mapping[str, object], *, reps: int, seed: int, engine: str) -> dict:
    seeds = sorted({int(s) for s in table["seed"]})
    analysis = {"bootstrap_reps": reps, "small_reps": max(500, reps // 10), "bootstrap_seed": seed,
                "engine": engine, "confidence": 0.95}
    return {**{k: given[k] for k in given}, "seeds": seeds, "analysis": analysis, "versions": _versions()}


def _reference_groups(table: pd.DataFrame) -> list[str]:
    """Groups of the methods run at a single configuration (BC and other untuned baselines): always plotted."""
    groups = table.loc[:, ["method", "group"]].drop_duplicates()
    single = groups.groupby("method")["group"].transform("size") == 1
    return sorted(map(str, groups.loc[single & (groups["method"] != "omiga"), "group"]))


def build_report(*, scores: pd.DataFrame | str | Path, out_dir: str | Path,
                 claims: Sequence[Mapping[str, object]] = (), study_name: str = "study",
                 backend_note: str | None = None, bootstrap_reps: int = DEFAULT_BOOTSTRAP_REPS,
                 seed: int = 0, engine: str = DEFAULT_ENGINE, curves: pd.DataFrame | str | Path | None = None,
                 datasets: pd.DataFrame | str | Path | None = None,
                 dataset_returns: pd.DataFrame | str | Path | None = None,
                 provenance: Mapping[str, object] | None = None, paper_reference: bool = False,
                 select_seeds: object = None) -> ReportFiles:
    """Analyse ``scores`` (a table or a .csv/.parquet path) and write the report into ``out_dir``.

    ``curves`` is the optional curves table, ``datasets`` the optional datasets summary and ``dataset_returns``
    the optional per-episode returns of the datasets (the return histograms; docs/interfaces.md);
    ``provenance`` (command, spec, preset, git_sha, ...) is printed on index.html and in provenance.json, with
    the seeds, the analysis settings and package versions added. ``engine`` is analysis.engine's. ``select_seeds``
    (the study's: seeds or a fraction) adds the tuned table of each method at its selected setting.
    ``backend_note`` defaults to :func:`default_backend_note` of the table's backends. ``paper_reference``
    prints the paper's reported scores as reference rows: pass it only for a study on the paper's own data.
    Raises ``analysis.AnalysisError`` subclasses on a bad table or claim, before anything is written. The report is
    built in a staging directory and replaces ``out_dir`` whole (`reports.files.staged_directory`): a failure
    half-way leaves the previous report as it was.
    """
    out = Path(out_dir)
    with staged_directory(out) as staging:
        staged = _write_report(scores=scores, out_dir=staging, claims=claims, study_name=study_name,
                               backend_note=backend_note, bootstrap_reps=bootstrap_reps, seed=seed, engine=engine,
                               curves=curves, datasets=datasets, dataset_returns=dataset_returns,
                               provenance=provenance, paper_reference=paper_reference, select_seeds=select_seeds)
    return ReportFiles(out_dir=out, files=tuple(out / path.relative_to(staging) for path in staged.files),
                       analysis_seconds=staged.analysis_seconds)


def _tuned_table(table: pd.DataFrame, select_seeds: object, *, reps: int, seed: int, engine: str,
                 datasets: pd.DataFrame | None):
    """(results table of each method at its selected setting, its caption note, the choices), or None where no
    ``select_seeds`` is given or every method ran at one setting."""
    if select_seeds is None or not table.groupby("method")["group"].nunique().gt(1).any():
        return None
    runs, choices = tuned_runs(table, select_seeds=select_seeds)
    split = split_seeds(table["seed"], select_seeds)
    estimates = interval_estimates(runs, config=EstimateConfig(reps=reps, seed=seed, engine=engine))
    results = results_table(summary=seed_summary(runs), estimates=estimates, datasets=datasets)
    tuned = choices.loc[choices["n_settings"] > 1]
    settings = "; ".join(f"{r.task}/{r.quality} {r.setting}" for r in tuned.itertuples(index=False))
    note = (f"Each method at its own best setting by the IQM of normalised score per task and quality, "
            f"{split.describe()}: {settings}.")
    return results, note, choices


def _write_report(*, scores: pd.DataFrame | str | Path, out_dir: Path, claims: Sequence[Mapping[str, object]],
                  study_name: str, backend_note: str | None, bootstrap_reps: int, seed: int, engine: str,
                  curves: pd.DataFrame | str | Path | None, datasets: pd.DataFrame | str | Path | None,
                  dataset_returns: pd.DataFrame | str | Path | None,
                  provenance: Mapping[str, object] | None, paper_reference: bool = False,
                  select_seeds: object = None) -> ReportFiles:
    started = time.perf_counter()
    table = load_scores(scores)
    curve_table = load_curves(curves) if curves is not None else None
    dataset_table = load_dataset_summary(datasets) if datasets is not None else None
    returns_table = load_dataset_returns(dataset_returns) if dataset_returns is not None else None
    note = default_backend_note(list(table["backend"])) if backend_note is None else backend_note
    verdicts = verdicts_table(evaluate_claims(table, claims, reps=bootstrap_reps, seed=seed))
    estimates = interval_estimates(table, config=EstimateConfig(reps=bootstrap_reps, seed=seed, engine=engine))
    small_reps = max(500, bootstrap_reps // 10)
    improvement = pairwise_probability_of_improvement(table, reps=small_reps, seed=seed, engine=engine)
    profiles = performance_profiles(table, reps=small_reps, seed=seed, engine=engine)
    bands = (learning_curve_bands(curve_table, reps=small_reps, seed=seed, engine=engine)
             if curve_table is not None else pd.DataFrame())
    convergence = (convergence_summary(curve_table, reps=small_reps, seed=seed)
                   if curve_table is not None else None)
    seconds = time.perf_counter() - started
    results = results_table(summary=seed_summary(table), estimates=estimates, datasets=dataset_table,
                            paper_reference=paper_reference)
    record = _provenance(table, provenance or {}, reps=bootstrap_reps, seed=seed, engine=engine)

    out = Path(out_dir)
    results_html = render_html_table(results, backend_note=note)
    tuned = _tuned_table(table, select_seeds, reps=bootstrap_reps, seed=seed, engine=engine, datasets=dataset_table)
    written, page_tables = [], results_html
    if tuned is not None:
        tuned_table, tuned_note, choices = tuned
        caption = f"{tuned_note} {note}"
        tuned_html = render_html_table(tuned_table, backend_note=caption, table_id="tuned")
        written += [
            write_text_atomic(out / "tuned.md", render_markdown_table(tuned_table, backend_note=caption)),
            write_text_atomic(out / "tuned.tex", render_latex_table(tuned_table, backend_note=caption,
                                                                    label="tab:tuned")),
            write_text_atomic(out / "tuned.html", tuned_html),
            write_text_atomic(out / "tuned_settings.csv", choices.to_csv(index=False)),
        ]
        page_tables = tuned_html + results_html
    written += [
        write_text_atomic(out / "table.md", render_markdown_table(results, backend_note=note)),
        write_text_atomic(out / "table.tex", render_latex_table(results, backend_note=note)),
        write_text_atomic(out / "table.html", results_html),
        write_text_atomic(out / "claims.md", render_claims_markdown(verdicts, backend_note=note)),
        write_text_atomic(out / "estimates.csv", estimates.to_csv(index=False)),
        write_text_atomic(out / "claims.csv", verdicts.to_csv(index=False)),
        write_text_atomic(out / "probability_of_improvement.csv", improvement.to_csv(index=False)),
        write_text_atomic(out / "marl_eval.json", marl_eval_json(table, curve_table)),
        write_text_atomic(out / "provenance.json", json.dumps(record, indent=2, sort_keys=True) + "\n"),
    ]
    if curve_table is not None:
        written.append(write_text_atomic(out / "learning_curves.csv", bands.to_csv(index=False)))
        written.append(write_text_atomic(out / "convergence.csv", convergence.to_csv(index=False)))
        written.append(write_text_atomic(out / "convergence.md", render_convergence_markdown(convergence)))
    if dataset_table is not None:
        written.append(write_text_atomic(out / "datasets.csv", dataset_table.to_csv(index=False)))
    configurations = table.loc[:, ["group", "method", "alpha", "mixer", "global_info"]]
    figures = {
        "interval_estimates": lambda: plot_interval_estimates(estimates),
        "performance_profiles": lambda: plot_performance_profiles(profiles),
        "probability_of_improvement": lambda: plot_probability_of_improvement(improvement, estimates=estimates),
        "alpha_sensitivity": lambda: plot_alpha_sensitivity(estimates, configurations=configurations),
        "learning_curves": lambda: plot_learning_curves(bands, keep=_reference_groups(table)),
        "dataset_returns": lambda: plot_dataset_returns(returns_table),
    }
    optional = {"learning_curves": curve_table, "dataset_returns": returns_table}
    shown = [(stem, caption) for stem, caption in FIGURES if optional.get(stem, table) is not None]
    for stem, _ in shown:
        written += save_figure(figures[stem](), out / stem)
    page = render_index_html(study_name=study_name, backend_note=note, results_table_html=page_tables,
                             claims_html=render_claims_html(verdicts),
                             figures=[(f"{stem}.png", caption) for stem, caption in shown],
                             downloads=[p.name for p in written], provenance=record, datasets=dataset_table,
                             convergence_html=render_convergence_html(convergence) if convergence is not None else "")
    written.append(write_text_atomic(out / "index.html", page))
    return ReportFiles(out_dir=out, files=tuple(written), analysis_seconds=seconds)
