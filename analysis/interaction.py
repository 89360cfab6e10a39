"""The ``interaction`` claim: a difference of differences, "A's advantage over B is larger at X than at Y".

``{"kind": "interaction", "a": SELECTOR, "b": SELECTOR, "factor": "quality", "levels": [X, Y]}`` judges the
contrast

    Δ = [m(A | X) − m(B | X)] − [m(A | Y) − m(B | Y)]

of the claim's metric m (IQM by default) on normalised scores. ``factor`` is ``quality`` (then a level is one
quality, or a list of qualities pooled as strata, e.g. ``[["medium", "poor"], ["medium@shared",
"poor@shared"]]``) or a configuration column (a level is one of its values, added to both selectors). The four
cells are bootstrapped independently, strata resampled separately (analysis.bootstrap), and Δ's replicates are
the difference of the two advantages' replicates; with ``tune`` each cell is at its own best setting, chosen on
the selection seeds (analysis.selection). Supported when Δ's 95% CI lies above −margin (margin 0: above 0),
refuted when below. Over qualities the claim is one verdict: it compares qualities, so it has no per-quality rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from analysis.claim_scope import ClaimScope, ClaimVerdict, describe_selector, is_config_column, judged
from analysis.errors import ClaimError
from analysis.judgement import difference_verdict, interval_on_last_axis

__all__ = ["check_interaction", "describe_interaction", "judge_interaction", "spans_qualities"]


def _level_values(level: object) -> list[object]:
    return list(level) if isinstance(level, list | tuple) else [level]


def check_interaction(claim: Mapping[str, object]) -> None:
    """ClaimError unless the interaction-specific keys follow the module docstring's schema."""
    factor, levels = claim["factor"], claim["levels"]
    if factor != "quality" and not is_config_column(factor):
        raise ClaimError(f"interaction claim factor {factor!r}: use quality, a configuration column or an hp_* column")
    if isinstance(levels, str) or not isinstance(levels, Sequence) or len(levels) != 2:
        raise ClaimError(f"interaction claim levels={levels!r}: give two levels [X, Y] (the advantage is judged "
                         "larger at X than at Y)")
    for level in levels:
        values = _level_values(level)
        scalar = (str,) if factor == "quality" else (str, int, float, bool)
        if not values or not all(isinstance(v, scalar) for v in values) or (factor != "quality" and len(values) > 1):
            wanted = "a quality or a list of qualities" if factor == "quality" else f"one value of {factor}"
            raise ClaimError(f"interaction claim level {level!r}: give {wanted}")
    if set(map(str, _level_values(levels[0]))) & set(map(str, _level_values(levels[1]))):
        raise ClaimError(f"interaction claim levels {levels!r} share a value: the two levels must differ")
    if factor == "quality" and ("quality" in claim or claim.get("aggregate", "pooled") != "pooled"):
        raise ClaimError("an interaction claim over factor quality compares qualities itself: drop its quality "
                         "and aggregate keys")
    if factor in claim["a"] or factor in claim["b"]:  # type: ignore[operator]
        raise ClaimError(f"interaction claim selects {factor} in a or b, which its levels set: drop it there")


def spans_qualities(claim: Mapping[str, object]) -> bool:
    """Whether the claim compares qualities itself (so it gets no per-quality verdict rows)."""
    return claim.get("kind") == "interaction" and claim.get("factor") == "quality"


def _level_text(level: object) -> str:
    return "+".join(map(str, _level_values(level)))


def describe_interaction(claim: Mapping[str, object]) -> str:
    """"the advantage of method=omiga over method=bc is larger at quality medium than at quality medium@shared"."""
    x, y = claim["levels"]  # type: ignore[misc]
    factor, a, b = claim["factor"], describe_selector(claim["a"]), describe_selector(claim["b"])  # type: ignore[arg-type]
    return f"the advantage of {a} over {b} is larger at {factor} {_level_text(x)} than at {factor} {_level_text(y)}"


def _cell(scope: ClaimScope, claim: Mapping[str, object], side: str, level: object) -> tuple[str, pd.DataFrame,
                                                                                                list[str]]:
    selector = dict(claim[side])  # type: ignore[call-overload]
    label = f"{side} at {_level_text(level)}"
    if claim["factor"] == "quality":
        wanted = {str(v) for v in _level_values(level)}
        missing = sorted(wanted - set(scope.all_runs["quality"].astype(str)))
        if missing:
            raise ClaimError(f"interaction claim level {_level_text(level)}: no run on quality "
                             f"{', '.join(missing)}; use qualities of the scores table")
        part = replace(scope, runs=scope.runs.loc[scope.runs["quality"].isin(wanted)],
                       all_runs=scope.all_runs.loc[scope.all_runs["quality"].isin(wanted)])
    else:
        part, selector = scope, {**selector, str(claim["factor"]): level}
    runs, lines = part.tuned(part.group(selector, what=label), tune=claim.get("tune", []), what=label)
    return label, runs, [f"{label} {line}" for line in lines]


def judge_interaction(scope: ClaimScope, claim: Mapping[str, object]) -> tuple[ClaimVerdict, list[str]]:
    """The verdict on Δ (module docstring) and the settings chosen for the four cells."""
    margin = float(claim.get("margin", 0.0))  # type: ignore[arg-type]
    x, y = claim["levels"]  # type: ignore[misc]
    cells = [_cell(scope, claim, side, level) for level in (x, y) for side in ("a", "b")]
    replicates = [scope.replicates(runs, what=label) for label, runs, _ in cells]
    (ax, eax), (bx, ebx), (ay, eay), (by, eby) = replicates
    low, high = interval_on_last_axis((ax - bx) - (ay - by))
    code = int(difference_verdict(ax - bx, ay - by, margin=margin))

    def judge(reps: list, _estimates: list):
        return difference_verdict(reps[0] - reps[1], reps[2] - reps[3], margin=margin)

    groups = [runs for _, runs, _ in cells]
    note = (f"advantage at {_level_text(x)} {eax - ebx:.3g}, at {_level_text(y)} {eay - eby:.3g} "
            f"({scope.metric} of normalised scores)")
    verdict = judged("interaction", code, statistic=f"{scope.metric} difference of differences (A-B at X) - (A-B at Y)",
                     estimate=(eax - ebx) - (eay - eby), ci_low=float(low), ci_high=float(high),
                     n_seeds=min(len(g) for g in groups), seeds_needed=scope.seeds_needed(code, groups, judge),
                     note=note)
    return verdict, [line for _, _, lines in cells for line in lines]
