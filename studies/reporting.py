"""Hand a finished study's scores table and claims to reports/ (the one place studies calls it)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from studies.errors import StudyError
from studies.plan import StudyPlan
from studies.storage import mask_url

__all__ = ["dataset_summary", "render_report", "study_provenance", "verdict_lines"]


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
    """The datasets summary (docs/interfaces.md) of the plan's datasets on disk, from their attributes only
    (no arrays read); None when none exists."""
    import h5py
    import pandas as pd

    from studies.runner import dataset_file

    rows = []
    for quality in plan.qualities:
        path = dataset_file(plan, quality)
        if not path.is_file():
            continue
        with h5py.File(path, "r") as file:
            attrs = dict(file.attrs)
        rows.append({"task": plan.task, "quality": quality, "behaviour_return_mean": float(attrs["return_mean"]),
                     "behaviour_return_std": float(attrs["return_std"]), "episodes": int(attrs["n_episodes"])})
    return pd.DataFrame(rows) if rows else None


def _has_ok_rows(curves: Path) -> bool:
    """Whether a study's curves.csv exists and holds an ok run's evaluations (failed runs leave none)."""
    import pandas as pd

    return curves.is_file() and bool((pd.read_csv(curves, usecols=["status"])["status"] == "ok").any())


def render_report(*, plan: StudyPlan, scores_csv: Path, out_dir: Path) -> Path:
    """Analyse ``scores_csv`` against the plan's claims, write the report into ``out_dir``; return index.html.

    ``curves.csv`` beside the scores table (docs/interfaces.md) is used when it exists; the datasets summary is
    ``datasets.csv`` beside it when that exists, else read from the plan's dataset files.
    """
    from analysis import AnalysisError
    from reports.build import build_report
    from reports.files import ReportWriteError

    beside = Path(scores_csv).parent
    curves, datasets = beside / "curves.csv", beside / "datasets.csv"
    try:
        files = build_report(scores=Path(scores_csv), out_dir=Path(out_dir),
                             claims=[dict(c) for c in plan.spec.claims],
                             study_name=f"{plan.study_name} ({plan.task}, backend {plan.backend})",
                             curves=curves if _has_ok_rows(curves) else None,
                             datasets=datasets if datasets.is_file() else dataset_summary(plan),
                             provenance=study_provenance(plan), select_seeds=plan.spec.select_seeds)
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
