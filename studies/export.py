"""Turn a study's trials into the tidy scores table (``scores.csv`` and ``scores.parquet``) and the learning
curves (``curves.csv``), atomically.

Scores: one row per grid point that has a finished trial; a point retried after a crash or claimed twice is
reported once, from its best trial (complete, then diverged, then failed). Curves: one row per run and
evaluation point, read from the ``eval_curve`` of the run's member in its population's ``result.json``; the
identifying columns are the scores row's (every column but steps and the measures), so both tables join on them.
A run without a readable ``result.json`` (a failed run) has no curve rows. Each option a method's grid sweeps
adds a column ``hp_<method>_<option>`` (empty for the other methods' runs) to both tables, after the factors.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from omiga.atomic import write_atomic
from omiga.errors import output_error
from omiga.tasks import normalized_score
from studies.grid import hp_column
from studies.plan import StudyPlan

__all__ = ["CURVE_MEASURES", "SCORE_COLUMNS", "curves_frame", "hyperparameter_columns", "scores_frame", "write_curves",
           "write_scores"]

SCORE_COLUMNS: tuple[str, ...] = ("task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed",
                                  "steps", "score", "win_rate", "normalized_score", "status")
_RANK = {"ok": 0, "diverged": 1, "failed": 2}


def _status(trial: FrozenTrial) -> str | None:
    if trial.state == TrialState.COMPLETE:
        return "ok"
    if trial.state == TrialState.FAIL and trial.user_attrs.get("status") in ("diverged", "failed"):
        return trial.user_attrs["status"]
    return None  # waiting, running, or a duplicate claim


def _best_trials(study: optuna.Study) -> list[tuple[FrozenTrial, str]]:
    """The trial that reports each grid point, with its status."""
    best: dict[str, tuple[int, FrozenTrial, str]] = {}
    for trial in study.get_trials(deepcopy=False):
        status = _status(trial)
        key = trial.user_attrs.get("point")
        if status is None or key is None:
            continue
        rank = _RANK[status]
        if key not in best or rank < best[key][0]:
            best[key] = (rank, trial, status)
    return [(trial, status) for _, trial, status in best.values()]


def hyperparameter_columns(plan: StudyPlan) -> list[str]:
    """The ``hp_<method>_<option>`` columns of the plan's method grids on its task's action kind, in spec order."""
    return [hp_column(grid.method, name) for grid in plan.spec.methods for name, _ in grid.options(discrete=plan.discrete)]


def _score_row(trial: FrozenTrial, status: str, plan: StudyPlan) -> dict[str, object]:
    params, attrs = trial.system_attrs.get("fixed_params", trial.params), trial.user_attrs
    ok = status == "ok"
    return {**{column: params.get(column) for column in hyperparameter_columns(plan)},
        "task": params["task"], "backend": plan.backend, "quality": params["quality"],
        "method": params["method"], "alpha": params.get("alpha"), "mixer": params.get("mixer"),
        "global_info": params.get("global_info"), "seed": params["seed"],
        "steps": attrs.get("steps", plan.steps), "score": attrs.get("score") if ok else None,
        "win_rate": attrs.get("win_rate") if ok else None,
        "normalized_score": attrs.get("normalized_score") if ok else None, "status": status,
    }


_TYPES = {"task": "string", "backend": "string", "quality": "string", "method": "string", "alpha": "Float64",
          "mixer": "string", "global_info": "boolean", "seed": "Int64", "steps": "Int64", "score": "Float64",
          "win_rate": "Float64", "normalized_score": "Float64", "status": "string"}
_ORDER = ["task", "quality", "method", "mixer", "alpha", "global_info", "seed"]
CURVE_MEASURES = ("step", "score", "win_rate", "normalized_score")
"""The columns a curves row adds to its run's identifying columns."""


def _with_hp(columns: list[str], hp: list[str]) -> list[str]:
    """``columns`` with the ``hp`` columns inserted before ``seed`` (after the factors)."""
    at = columns.index("seed")
    return columns[:at] + hp + columns[at:]


def _typed(rows: list[dict[str, object]], columns: list[str], order: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame.astype({c: _TYPES.get(c, "Float64" if c != "step" else "Int64") for c in columns})  # hp_*: Float64
    return frame.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def scores_frame(study: optuna.Study, plan: StudyPlan) -> pd.DataFrame:
    """The tidy scores table of ``study`` (columns `SCORE_COLUMNS`, sorted by configuration and seed)."""
    rows = [_score_row(trial, status, plan) for trial, status in _best_trials(study)]
    hp = hyperparameter_columns(plan)
    return _typed(rows, _with_hp(list(SCORE_COLUMNS), hp), _with_hp(_ORDER, hp))


def _eval_curve(trial: FrozenTrial) -> list[dict[str, object]]:
    path, index = trial.user_attrs.get("curve_path"), trial.user_attrs.get("member_index")
    if not path or index is None or not Path(path).is_file():
        return []
    try:
        members = json.loads(Path(path).read_text(encoding="utf-8"))["members"]
        return list(members[int(index)]["eval_curve"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return []


def curves_frame(study: optuna.Study, plan: StudyPlan) -> pd.DataFrame:
    """The learning curves of ``study``: one row per run and evaluation point (see the module docstring)."""
    hp = hyperparameter_columns(plan)
    identity = _with_hp([c for c in SCORE_COLUMNS if c not in ("steps", "score", "win_rate", "normalized_score")], hp)
    rows = []
    for trial, status in _best_trials(study):
        run = {key: value for key, value in _score_row(trial, status, plan).items() if key in identity}
        for point in _eval_curve(trial):
            score = float(point["mean_return"])
            rows.append({**run, "step": int(point["step"]), "score": score, "win_rate": point.get("win_rate"),
                         "normalized_score": normalized_score(plan.task, score)})
    return _typed(rows, identity + list(CURVE_MEASURES), _with_hp(_ORDER, hp) + ["step"])


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


def write_curves(frame: pd.DataFrame, *, out_dir: Path) -> Path:
    """Write ``curves.csv`` into ``out_dir`` atomically; return its path."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise output_error(out_dir, error) from error
    path = out_dir / "curves.csv"
    write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))
    return path
