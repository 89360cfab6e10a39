"""Turn a study's trials into the tidy scores table (``scores.csv`` and ``scores.parquet``), atomically.

One row per grid point that has a finished trial; a point retried after a crash or claimed twice is
reported once, from its best trial (complete, then diverged, then failed).
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from omiga.atomic import write_atomic
from omiga.errors import output_error
from studies.plan import StudyPlan

__all__ = ["SCORE_COLUMNS", "scores_frame", "write_scores"]

SCORE_COLUMNS: tuple[str, ...] = ("task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed",
                                  "steps", "score", "win_rate", "normalized_score", "status")
_RANK = {"ok": 0, "diverged": 1, "failed": 2}


def _status(trial: FrozenTrial) -> str | None:
    if trial.state == TrialState.COMPLETE:
        return "ok"
    if trial.state == TrialState.FAIL and trial.user_attrs.get("status") in ("diverged", "failed"):
        return trial.user_attrs["status"]
    return None  # waiting, running, or a duplicate claim


def scores_frame(study: optuna.Study, plan: StudyPlan) -> pd.DataFrame:
    """The tidy scores table of ``study`` (columns `SCORE_COLUMNS`, sorted by configuration and seed)."""
    best: dict[str, tuple[int, FrozenTrial, str]] = {}
    for trial in study.get_trials(deepcopy=False):
        status = _status(trial)
        key = trial.user_attrs.get("point")
        if status is None or key is None:
            continue
        rank = _RANK[status]
        if key not in best or rank < best[key][0]:
            best[key] = (rank, trial, status)
    rows = []
    for _, trial, status in best.values():
        params, attrs = trial.system_attrs.get("fixed_params", trial.params), trial.user_attrs
        ok = status == "ok"
        rows.append({
            "task": params["task"], "backend": plan.backend, "quality": params["quality"],
            "method": params["method"], "alpha": params.get("alpha"), "mixer": params.get("mixer"),
            "global_info": params.get("global_info"), "seed": params["seed"],
            "steps": attrs.get("steps", plan.steps), "score": attrs.get("score") if ok else None,
            "win_rate": attrs.get("win_rate") if ok else None,
            "normalized_score": attrs.get("normalized_score") if ok else None, "status": status,
        })
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    frame = frame.astype({"task": "string", "backend": "string", "quality": "string", "method": "string",
                          "alpha": "Float64", "mixer": "string", "global_info": "boolean", "seed": "Int64",
                          "steps": "Int64", "score": "Float64", "win_rate": "Float64",
                          "normalized_score": "Float64", "status": "string"})
    order = ["task", "quality", "method", "mixer", "alpha", "global_info", "seed"]
    return frame.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def write_scores(frame: pd.DataFrame, *, out_dir: Path) -> tuple[Path, Path]:
    """Write ``scores.csv`` and ``scores.parquet`` into ``out_dir`` atomically; return both paths."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise output_error(out_dir, error) from error
    csv_path, parquet_path = out_dir / "scores.csv", out_dir / "scores.parquet"
    write_atomic(csv_path, lambda tmp: frame.to_csv(tmp, index=False))
    write_atomic(parquet_path, lambda tmp: frame.to_parquet(tmp, index=False))
    return csv_path, parquet_path
