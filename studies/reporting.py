"""Hand a finished study's scores table and claims to reports/ (the one place studies calls it)."""

from __future__ import annotations

from pathlib import Path

from studies.errors import StudyError
from studies.plan import StudyPlan

__all__ = ["render_report", "verdict_lines"]


def render_report(*, plan: StudyPlan, scores_csv: Path, out_dir: Path) -> Path:
    """Analyse ``scores_csv`` against the plan's claims, write the report into ``out_dir``; return index.html."""
    from analysis import AnalysisError
    from reports.build import build_report
    from reports.files import ReportWriteError

    try:
        files = build_report(scores=Path(scores_csv), out_dir=Path(out_dir),
                             claims=[dict(c) for c in plan.spec.claims],
                             study_name=f"{plan.study_name} ({plan.task}, backend {plan.backend})")
    except (AnalysisError, ReportWriteError) as error:  # the scores are stored: only the report is to redo
        raise StudyError(f"report of study {plan.study_name} from {scores_csv}: {error} (the trained runs and "
                         f"scores are kept; fix this and rerun the command, or `python -m reports build --scores "
                         f"{scores_csv} --out {out_dir}`)") from None
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
