"""Hand a finished study's scores table and claims to reports/ (the one place studies calls it)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from studies.errors import StudyError
from studies.plan import StudyPlan
from studies.storage import mask_url

__all__ = ["dataset_summary", "on_papers_data", "render_report", "study_provenance", "verdict_lines",
           "write_dataset_tables"]


def _git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10, check=False)
    except OSError:
        return "unknown (git not installed)"
    return out.stdout.strip() if out.returncode == 0 else "unknown (not a git checkout)"


def study_provenance(plan: StudyPlan) -> dict[str, object]:
    """What made this study: command line (passwords masked), spec, preset, task, backend, sizes, git SHA."""
    return {"command": shlex.join(["python", "-m", "studies", *map(mask_url, sys.argv[1:])]), "study": plan.study_name,
            "spec": plan.spec.name, "preset": plan.preset, "task": plan.task, "backend": plan.backend,
            "qualities": list(plan.qualities), "steps": plan.steps, "eval_episodes": plan.eval_episodes,
            "git_sha": _git_sha()}


def dataset_summary(plan: StudyPlan):
    """(datasets summary, dataset returns) of the plan's datasets on disk (docs/interfaces.md): per quality the
    behaviour return and episodes from the file's attributes plus the coverage diagnostics of
    `omiga.data.coverage` (observations are not read), and one row per episode with its return; (None, None)
    when no dataset exists."""
    import pandas as pd

    from omiga.data.coverage import coverage_diagnostics
    from omiga.data.io import read_dataset_file
    from omiga.data.returns import episode_returns
    from studies.runner import dataset_file

    rows, returns = [], []
    fields = ("state", "actions", "avail_actions", "rewards", "terminals", "truncations")
    for quality in plan.qualities:
        path = dataset_file(plan, quality)
        if not path.is_file():
            continue
        arrays, attrs = read_dataset_file(path, fields=fields)
        diagnostics = coverage_diagnostics(**{name: arrays.get(name) for name in fields}).to_dict()
        rows.append({"task": plan.task, "quality": quality, "behaviour_return_mean": float(attrs["return_mean"]),
                     "behaviour_return_std": float(attrs["return_std"]), "episodes": int(attrs["n_episodes"]),
                     **{key: value for key, value in diagnostics.items()
                        if key not in ("episodes", "return_mean", "return_std")}})
        returns += [{"task": plan.task, "quality": quality, "return": float(r)}
                    for r in episode_returns(arrays["rewards"], arrays["terminals"] | arrays["truncations"])]
    if not rows:
        return None, None
    return pd.DataFrame(rows), pd.DataFrame(returns)


def write_dataset_tables(plan: StudyPlan, *, out_dir: Path) -> tuple[Path | None, Path | None]:
    """Write ``datasets.csv`` and ``dataset_returns.csv`` (`dataset_summary`) into ``out_dir`` atomically, unless
    both exist already (datasets are fixed for a study); return their paths, (None, None) without datasets."""
    from omiga.atomic import write_atomic

    summary_csv, returns_csv = Path(out_dir) / "datasets.csv", Path(out_dir) / "dataset_returns.csv"
    if summary_csv.is_file() and returns_csv.is_file():
        return summary_csv, returns_csv
    summary, returns = dataset_summary(plan)
    if summary is None:
        return None, None
    write_atomic(summary_csv, lambda tmp: summary.to_csv(tmp, index=False))
    write_atomic(returns_csv, lambda tmp: returns.to_csv(tmp, index=False))
    return summary_csv, returns_csv


def on_papers_data(plan: StudyPlan) -> bool:
    """Whether every dataset of the plan was imported (``datasets import``: the paper's own files, whose
    ``behavior`` attribute starts "imported from") on a backend other than SMAX: only then are the paper's
    reported scores comparable, and the report prints them beside the study's."""
    import h5py

    from studies.runner import dataset_file

    if plan.backend == "smax":
        return False
    paths = [dataset_file(plan, quality) for quality in plan.qualities]
    if not paths or not all(path.is_file() for path in paths):
        return False
    for path in paths:
        with h5py.File(path, "r") as file:
            behavior = file.attrs.get("behavior", "")
        if not str(behavior.decode() if isinstance(behavior, bytes) else behavior).startswith("imported from"):
            return False
    return True


def _has_ok_rows(curves: Path) -> bool:
    """Whether a study's curves.csv exists and holds an ok run's evaluations (failed runs leave none)."""
    import pandas as pd

    return curves.is_file() and bool((pd.read_csv(curves, usecols=["status"])["status"] == "ok").any())


def render_report(*, plan: StudyPlan, scores_csv: Path, out_dir: Path) -> Path:
    """Analyse ``scores_csv`` against the plan's claims, write the report into ``out_dir``; return index.html.

    ``curves.csv`` beside the scores table (docs/interfaces.md) is used when it exists; the datasets summary and
    the dataset returns are ``datasets.csv`` and ``dataset_returns.csv`` beside it, written from the plan's
    dataset files when they are missing (`write_dataset_tables`).
    """
    from analysis import AnalysisError
    from reports.build import build_report
    from reports.files import ReportWriteError

    beside = Path(scores_csv).parent
    curves = beside / "curves.csv"
    datasets, dataset_returns = write_dataset_tables(plan, out_dir=beside)
    try:
        files = build_report(scores=Path(scores_csv), out_dir=Path(out_dir),
                             claims=[dict(c) for c in plan.spec.claims],
                             study_name=f"{plan.study_name} ({plan.task}, backend {plan.backend})",
                             curves=curves if _has_ok_rows(curves) else None,
                             datasets=datasets, dataset_returns=dataset_returns,
                             provenance=study_provenance(plan), paper_reference=on_papers_data(plan),
                             select_seeds=plan.spec.select_seeds)
    except (AnalysisError, ReportWriteError) as error:  # the scores are stored: only the report is to redo
        raise StudyError(f"report of study {plan.study_name} from {scores_csv}: {error} (the trained runs and "
                         f"scores are kept; fix this and rerun the command, or `python -m reports build --scores "
                         f"{scores_csv} --out {out_dir}`)") from None
    print(f"analysis: {files.analysis_seconds:.1f} s")
    return files.index


def _decider(row) -> str:
    """What would decide an inconclusive claim: the power analysis's seeds per configuration."""
    needed = row.seeds_needed if isinstance(row.seeds_needed, str) else ""
    if row.verdict != "inconclusive" or needed in ("", "-", "unknown"):
        return ""
    count = f"more than {needed[1:].strip()}" if needed.startswith(">") else f"about {needed}"
    return f"; {count} seeds per configuration would decide it"


def verdict_lines(report_dir: Path) -> list[str]:
    """One line per claim (and quality) of the report in ``report_dir``: verdict, claim, estimate and 95% CI,
    and for an inconclusive claim the seeds that would decide it."""
    import pandas as pd

    verdicts = pd.read_csv(Path(report_dir) / "claims.csv", dtype={"note": "string", "seeds_needed": "string"})
    return [f"{row.verdict:>12}  {row.name}: {row.statistic} {row.estimate:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}], "
            f"n={row.n_seeds}" + (f" ({row.note})" if isinstance(row.note, str) and row.note else "") + _decider(row)
            for row in verdicts.itertuples(index=False)]
