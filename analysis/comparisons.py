"""Claims that one group of runs scores higher than others: ``improves``, ``ranks`` and ``beats``.

Each kind builds *arms* (groups of runs, each at its selected setting when tuned) and ordered pairs of arms;
each pair ``(upper, lower)`` is judged on the difference ``metric(upper) - metric(lower)`` with margin m ≥ 0:
supported when its CI lies above ``-m``, refuted when below ``-m`` (m = 0: "upper beats lower"; m > 0:
"upper is no worse than lower by more than m", a non-inferiority claim). A smallest effect of interest δ > 0
(``min_effect``) also refutes a pair whose CI is not above 0 but lies wholly below δ (an advantage, if any,
too small to count). The claim is supported when every pair is, refuted when some pair is; the reported
statistic is the weakest pair's (lowest CI bound).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.claim_scope import ClaimScope, ClaimVerdict, judged
from analysis.judgement import INCONCLUSIVE, REFUTED, SUPPORTED, difference_verdict, interval_on_last_axis
from analysis.selection import ALL_SETTINGS, CannotJudge

__all__ = ["beats_arms", "beats_baselines", "combine_codes", "comparison_arms", "judge_pairs"]

Arm = tuple[str, pd.DataFrame]


def combine_codes(codes: Sequence[np.ndarray]) -> np.ndarray:
    """Supported when every code is, refuted when some code is, else inconclusive."""
    stacked = np.stack([np.asarray(c) for c in codes])
    return np.where((stacked == SUPPORTED).all(axis=0), SUPPORTED,
                    np.where((stacked == REFUTED).any(axis=0), REFUTED, INCONCLUSIVE))


def _tuned_arms(scope: ClaimScope, arms: Sequence[tuple[str, Mapping[str, object]]],
                tune: object) -> tuple[list[Arm], list[str]]:
    built, chosen = [], []
    for label, selector in arms:
        runs, lines = scope.tuned(scope.group(selector, what=label), tune=tune, what=label)
        built.append((label, runs))
        chosen += [f"{label} {line}" for line in lines]
    return built, chosen


def comparison_arms(scope: ClaimScope, claim: Mapping[str, object]) -> tuple[list[Arm], list[tuple[int, int]],
                                                                                 list[str]]:
    """Arms, pairs and chosen settings of an ``improves`` or ``ranks`` claim."""
    tune = claim.get("tune", [])
    if claim["kind"] == "improves":
        arms, chosen = _tuned_arms(scope, [("a", claim["a"]), ("b", claim["b"])], tune)  # type: ignore[list-item]
        return arms, [(0, 1)], chosen
    where, by = dict(claim.get("where", {})), str(claim.get("by", "method"))  # type: ignore[call-overload]
    selectors = [(f"order value {value!r}", {**where, by: value}) for value in claim["order"]]  # type: ignore[union-attr]
    arms, chosen = _tuned_arms(scope, selectors, tune)
    return arms, list(itertools.pairwise(range(len(arms)))), chosen


def beats_baselines(scope: ClaimScope, claim: Mapping[str, object]) -> list[str]:
    """The methods a ``beats`` claim compares with: its ``baselines``, else every other method in scope."""
    own = str(claim["a"]["method"])  # type: ignore[index]
    if "baselines" in claim:
        return [str(m) for m in claim["baselines"]]  # type: ignore[union-attr]
    return sorted(str(m) for m in scope.all_runs["method"].unique() if str(m) != own)


def beats_arms(scope: ClaimScope, claim: Mapping[str, object]) -> tuple[list[Arm], list[tuple[int, int]], list[str]]:
    """Arm 0 is ``a`` at its best setting, then one arm per baseline method at its own best setting."""
    baselines = beats_baselines(scope, claim)
    if not baselines:
        raise CannotJudge(f"no method other than {claim['a']['method']} is in scope: add a baseline to the "  # type: ignore[index]
                          "study")
    selectors = [("a", claim["a"])] + [(f"baseline {m}", {"method": m}) for m in baselines]
    arms, chosen = _tuned_arms(scope, selectors, claim.get("tune", ALL_SETTINGS))  # type: ignore[arg-type]
    return arms, [(0, k) for k in range(1, len(arms))], chosen


def judge_pairs(scope: ClaimScope, arms: Sequence[Arm], pairs: Sequence[tuple[int, int]], *, kind: object,
                margin: float = 0.0, min_effect: float = 0.0) -> ClaimVerdict:
    """Judge every pair of arms (see the module docstring)."""
    replicates = [scope.replicates(runs, what=label) for label, runs in arms]
    codes, stats = [], []
    for upper, lower in pairs:
        (ra, ea), (rb, eb) = replicates[upper], replicates[lower]
        low, high = interval_on_last_axis(ra - rb)
        codes.append(difference_verdict(ra, rb, margin=margin, min_effect=min_effect))
        stats.append((ea - eb, float(low), float(high)))
    code = int(combine_codes(codes))
    weakest = int(np.argmin([low for _, low, _ in stats]))
    estimate, low, high = stats[weakest]
    upper, lower = pairs[weakest]
    statistic = f"{scope.metric} difference"
    if len(pairs) > 1:
        statistic += f" {arms[upper][0]} - {arms[lower][0]} (weakest of {len(pairs)} pairs)"

    def judge(reps: list[np.ndarray], _estimates: list[np.ndarray]) -> np.ndarray:
        return combine_codes([difference_verdict(reps[u], reps[v], margin=margin, min_effect=min_effect)
                             for u, v in pairs])

    groups = [runs for _, runs in arms]
    return judged(kind, code, statistic=statistic, estimate=estimate, ci_low=low, ci_high=high,
                  n_seeds=min(len(g) for g in groups), seeds_needed=scope.seeds_needed(code, groups, judge))
