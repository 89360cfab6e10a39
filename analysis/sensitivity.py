"""Claims about one factor's levels against the best level: ``sensitivity`` (one-sided) and ``robust`` (band).

``sensitivity``: which levels of ``factor`` (e.g. α on a log grid) score within ``within`` (relative) of the
best level? The best level is chosen on the selection seeds; every level's ratio to it is judged on the test
seeds (all seeds when the claim has no ``select_seeds``, which the claim's text then calls optimistic). A level
is *near* when its ratio CI lies at or above ``1 - within``, *far* when it lies wholly below, else
*undecided*. The claim "every level in ``range`` (default: every level) is near the best" is supported when
all are near, refuted when one is far. Its note names the near-best range: the contiguous levels around the
best that are near (on a log grid of α, the span of α that may be used without losing more than ``within``).

``robust`` (kept for studies written before ``sensitivity``): every level within ``[1 - within, 1 + within]``
of the best level, on the same seeds; not for ``quality`` (that tests invariance, which no paper claims).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.claim_scope import ClaimScope, ClaimVerdict, judged, select_runs
from analysis.judgement import interval_on_last_axis, near_best_verdict, ratio_band_verdict
from analysis.metrics import metric_function
from analysis.selection import CannotJudge, format_seeds

__all__ = ["SENSITIVITY_COLUMNS", "judge_robust", "judge_sensitivity"]

SENSITIVITY_COLUMNS = ("scope", "factor", "level", "role", "in_range", "estimate", "ci_low", "ci_high", "ratio",
                       "ratio_low", "ratio_high", "n_runs")
"""Columns of the per-level table (analysis.sensitivity_table)."""


def _levels(scope: ClaimScope, runs: pd.DataFrame, factor: str) -> list[object]:
    levels = sorted(runs[factor].dropna().unique().tolist())
    if len(levels) < 2:
        raise CannotJudge(f"{factor} has the single level {levels[0] if levels else 'none'} in this study; "
                          f"a claim about {factor} needs at least two (vary {factor} in the study)")
    return levels


def _text(level: object) -> str:
    return f"{level:g}" if isinstance(level, float) else str(level)


def _best_level(scope: ClaimScope, groups: list[pd.DataFrame], levels: list[object], factor: str) -> int:
    statistic = metric_function(scope.metric)
    scored = {}
    for index, runs in enumerate(groups):
        values = runs.loc[runs["seed"].isin(scope.split.select), "normalized_score"].to_numpy(np.float64)
        if len(values):
            scored[index] = float(statistic(values[:, None]))
    if not scored:
        raise CannotJudge(f"no level of {factor} has an ok run on the selection seeds "
                          f"{format_seeds(scope.split.select)}")
    return max(scored, key=lambda i: (scored[i], -i))


def _in_range(level: object, bounds: object) -> bool:
    if bounds is None:
        return True
    low, high = bounds  # type: ignore[misc]
    return float(low) <= float(level) <= float(high)  # type: ignore[arg-type]


def _near_range(levels: list[object], roles: list[str], best: int) -> str:
    low = high = best
    while low > 0 and roles[low - 1] == "near":
        low -= 1
    while high < len(levels) - 1 and roles[high + 1] == "near":
        high += 1
    return f"[{_text(levels[low])}, {_text(levels[high])}]"


def judge_sensitivity(scope: ClaimScope, claim: Mapping[str, object],
                      scope_name: str) -> tuple[ClaimVerdict, list[dict[str, object]]]:
    """The ``sensitivity`` verdict on ``scope`` and one row per level (:data:`SENSITIVITY_COLUMNS`)."""
    factor, within = str(claim["factor"]), float(claim["within"])  # type: ignore[arg-type]
    runs = scope.group(claim.get("where", {}), what="where")  # type: ignore[arg-type]
    levels = _levels(scope, runs, factor)
    groups = [select_runs(runs, {factor: level}) for level in levels]
    best = _best_level(scope, groups, levels, factor)
    tests = [g.loc[g["seed"].isin(scope.split.test)] for g in groups]
    if tests[best].empty:
        raise CannotJudge(f"the best {factor}={_text(levels[best])} has no ok run on the test seeds "
                          f"{format_seeds(scope.split.test)}")
    evaluated = [i for i, t in enumerate(tests) if not t.empty]
    pairs = {i: scope.replicates(tests[i], what=f"{factor}={_text(levels[i])}") for i in evaluated}
    stacked = np.stack([pairs[i][0] for i in evaluated])
    estimates = np.array([pairs[i][1] for i in evaluated])
    position = evaluated.index(best)
    _, ratio_low, ratio_high = near_best_verdict(stacked, estimates, within=within, best=position)
    rows, roles = [], []
    for level, index in zip(levels, range(len(levels)), strict=True):
        in_range = _in_range(level, claim.get("range"))
        row = {"scope": scope_name, "factor": factor, "level": level, "in_range": in_range, "n_runs": len(tests[index])}
        if index not in pairs:
            roles.append("no test run")
            rows.append({**row, "role": "no test run", **dict.fromkeys(
                ("estimate", "ci_low", "ci_high", "ratio", "ratio_low", "ratio_high"), float("nan"))})
            continue
        k = evaluated.index(index)
        low, high = interval_on_last_axis(stacked[k])
        role = ("best" if index == best else "near" if ratio_low[k] >= 1 - within
                else "far" if ratio_high[k] < 1 - within else "undecided")
        roles.append("near" if role == "best" else role)
        ratio = estimates[k] / estimates[position] if estimates[position] > 0 else float("nan")
        rows.append({**row, "role": role, "estimate": estimates[k], "ci_low": float(low), "ci_high": float(high),
                     "ratio": float(ratio), "ratio_low": float(ratio_low[k]), "ratio_high": float(ratio_high[k])})
    checked = [k for k, i in enumerate(evaluated) if rows[i]["in_range"]]
    if not checked:
        raise CannotJudge(f"no level of {factor} in range {list(claim['range'])} has a test run")  # type: ignore[call-overload]
    code, _, _ = near_best_verdict(stacked[checked + [position]], estimates[checked + [position]], within=within,
                                   best=len(checked))
    others = [k for k in checked if k != position] or checked
    worst = min(others, key=lambda k: ratio_low[k])
    listed = {role: [_text(r["level"]) for r in rows if r["role"] == role]
              for role in ("near", "far", "undecided", "no test run")}
    numeric = all(isinstance(level, int | float) and not isinstance(level, bool) for level in levels)
    head = f"near-best {factor} range {_near_range(levels, roles, best)} around" if numeric else "near"
    note = (f"{head} the best {factor}={_text(levels[best])}; "
            + "; ".join(f"{role}: {', '.join(v)}" for role, v in listed.items() if v))
    if not estimates[position] > 0:
        note = "best level's estimate is not positive, so ratios are undefined; " + note

    def judge(replicates: list[np.ndarray], estimates_: list[np.ndarray]) -> np.ndarray:
        return near_best_verdict(np.stack(replicates), np.stack(estimates_), within=within,
                                 best=len(replicates) - 1)[0]

    groups_judged = [tests[evaluated[k]] for k in checked] + [tests[best]]
    ratio = estimates[worst] / estimates[position] if estimates[position] > 0 else float("nan")
    verdict = judged(
        "sensitivity", int(code),
        statistic=f"{scope.metric} ratio of {factor}={_text(levels[evaluated[worst]])} to best "
                  f"{factor}={_text(levels[best])}",
        estimate=ratio, ci_low=ratio_low[worst], ci_high=ratio_high[worst],
        n_seeds=min(len(g) for g in groups_judged), seeds_needed=scope.seeds_needed(int(code), groups_judged, judge),
        note=note)
    return verdict, rows


def judge_robust(scope: ClaimScope, claim: Mapping[str, object]) -> ClaimVerdict:
    """The legacy ``robust`` verdict: every level's ratio to the best inside ``[1 - within, 1 + within]``."""
    factor, within = str(claim["factor"]), float(claim["within"])  # type: ignore[arg-type]
    runs = scope.group(claim.get("where", {}), what="where")  # type: ignore[arg-type]
    levels = _levels(scope, runs, factor)
    groups = [select_runs(runs, {factor: level}) for level in levels]
    pairs = [scope.replicates(g, what=f"{factor}={level}") for g, level in zip(groups, levels, strict=True)]
    estimates = np.array([e for _, e in pairs])
    verdict, worst, low, high = ratio_band_verdict(np.stack([r for r, _ in pairs]), estimates, within=within)
    best, code, worst = int(np.argmax(estimates)), int(verdict), int(worst)

    def judge(replicates: list[np.ndarray], estimates_: list[np.ndarray]) -> np.ndarray:
        return ratio_band_verdict(np.stack(replicates), np.stack(estimates_), within=within)[0]

    return judged(
        "robust", code, statistic=f"{scope.metric} ratio of {factor}={levels[worst]} to best {factor}={levels[best]}",
        estimate=float(estimates[worst] / estimates[best]) if estimates[best] > 0 else float("nan"),
        ci_low=float(low), ci_high=float(high), n_seeds=min(map(len, groups)),
        seeds_needed=scope.seeds_needed(code, groups, judge),
        note="" if estimates[best] > 0 else "best level's estimate is not positive: ratios are undefined")
