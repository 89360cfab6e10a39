"""Hand a finished study's scores table and claims to reports/ (the one place studies calls it)."""

from __future__ import annotations

from pathlib import Path

from studies.plan import StudyPlan

__all__ = ["render_report"]


def render_report(*, plan: StudyPlan, scores_csv: Path, out_dir: Path) -> Path:
    """Analyse ``scores_csv`` against the plan's claims, write the report into ``out_dir``; return index.html."""
    from reports.build import build_report

    files = build_report(scores=Path(scores_csv), out_dir=Path(out_dir), claims=[dict(c) for c in plan.spec.claims],
                         study_name=f"{plan.study_name} ({plan.task}, backend {plan.backend})")
    return files.index
