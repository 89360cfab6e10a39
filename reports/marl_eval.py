"""Export a study as marl-eval's raw-experiment JSON (the layout OG-MARL and BenchMARL report through).

Layout (marl-eval's README, "Data Structure for Raw Experiment data")::

    {environment: {task: {algorithm: {run: {"step_0": {"step_count": int, metric: [values]}, ...,
                                            "absolute_metrics": {metric: [values]}}}}}}

Here environment is the backend (``smax``, ``sc2``, ``mamujoco``, ``toy``), task is ``<task>_<quality>`` (each
dataset is its own offline task), algorithm the configuration label (never a comma: marl-eval refuses them),
run ``seed_<seed>``. Steps come from the curves table (one ``step_k`` per evaluation point, in step order);
without one, each run has a single ``step_0`` at its final step. Metrics are ``return``, ``normalized_return``
and, where the task has one, ``win_rate``; each list holds the evaluation's mean over its episodes (the tables
carry means, not episodes), and ``absolute_metrics`` holds the run's final evaluation from the scores table.
Only ok runs are exported; every run of an algorithm on a task must have the same steps (marl-eval counts steps
once), so only the steps all of them evaluated are kept.
"""

from __future__ import annotations

import json
import math

import pandas as pd

__all__ = ["ABSOLUTE_METRICS", "marl_eval_json", "marl_eval_record"]

ABSOLUTE_METRICS = "absolute_metrics"
_METRICS = (("return", "score"), ("normalized_return", "normalized_score"), ("win_rate", "win_rate"))


def _metrics(row: pd.Series, names: list[tuple[str, str]]) -> dict[str, list[float]]:
    return {name: [float(row[column])] for name, column in names}


def _names(runs: pd.DataFrame) -> list[tuple[str, str]]:
    """The metrics a task has: win_rate only where every run reports one."""
    return [(n, c) for n, c in _METRICS if c != "win_rate" or (c in runs and runs[c].notna().all())]


def marl_eval_record(scores: pd.DataFrame, curves: pd.DataFrame | None = None) -> dict[str, object]:
    """The nested dict for :func:`analysis.load_scores` output and an optional :func:`analysis.load_curves` one."""
    ok = scores.loc[scores["status"] == "ok"]
    ok_curves = curves.loc[curves["status"].astype("string") == "ok"] if curves is not None else None
    record: dict[str, dict] = {}
    for (backend, task, quality, group), runs in ok.groupby(["backend", "task", "quality", "group"], sort=True):
        algorithm: dict[str, dict] = {}
        points = None
        if ok_curves is not None:
            points = ok_curves.loc[(ok_curves["task"] == task) & (ok_curves["quality"] == quality)
                                   & (ok_curves["group"] == group)]
            shared = set.intersection(*(set(points.loc[points["seed"] == s, "step"]) for s in runs["seed"]))
            points = points.loc[points["step"].isin(shared)] if shared else None
        names = [n for n in _names(runs) if points is None or n in _names(points)]
        for run in runs.sort_values("seed").itertuples(index=False):
            row = pd.Series(run._asdict())
            if points is not None:
                mine = points.loc[points["seed"] == row["seed"]].sort_values("step")
                steps = {f"step_{k}": {"step_count": int(p["step"]), **_metrics(p, names)}
                         for k, (_, p) in enumerate(mine.iterrows())}
            else:
                steps = {"step_0": {"step_count": int(row["steps"]), **_metrics(row, names)}}
            algorithm[f"seed_{int(row['seed'])}"] = {**steps, ABSOLUTE_METRICS: _metrics(row, names)}
        record.setdefault(str(backend), {}).setdefault(f"{task}_{quality}", {})[str(group)] = algorithm
    return record


def _finite(value: object) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(math.isfinite(v) for v in value)
    return True


def marl_eval_json(scores: pd.DataFrame, curves: pd.DataFrame | None = None) -> str:
    """:func:`marl_eval_record` as JSON text (strict: a non-finite value is a ValueError naming the fix)."""
    record = marl_eval_record(scores, curves)
    if not _finite(record):
        raise ValueError("an ok run has a non-finite score in the curves table: re-export the curves")
    return json.dumps(record, indent=1, sort_keys=False, allow_nan=False) + "\n"
