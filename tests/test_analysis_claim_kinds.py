"""The claim kinds that mirror the paper, on hand-made score tables whose answers are known.

Scores are written out per seed (a small deterministic jitter around each configuration's level), so every
verdict below follows from the table by inspection.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import ClaimError, PowerConfig, evaluate_claim, evaluate_claims, load_scores
from analysis.claims import evaluate_claim_rows, sensitivity_table
from analysis.judgement import difference_verdict
from analysis.selection import SeedSplit, split_seeds

REPS = 500
FAST_POWER = PowerConfig(cap=16, simulations=40, inner_reps=40)
JITTER = (-0.010, 0.004, -0.003, 0.008, 0.0, -0.006, 0.005, 0.002)


def table(cells: dict[tuple, object], *, qualities: tuple[str, ...] = ("medium",), seeds: int = 6) -> pd.DataFrame:
    """``{(method, alpha, global_info): level or per-seed list}`` (per quality when the key starts with it)."""
    rows = []
    for key, value in cells.items():
        quality_keys = [key[0]] if key[0] in qualities else list(qualities)
        method, alpha, global_info = key[-3:]
        for quality in quality_keys:
            values = value if isinstance(value, list) else [value + JITTER[s % len(JITTER)] for s in range(seeds)]
            for seed, normalized in enumerate(values):
                rows.append({"task": "smac_corridor", "backend": "smax", "quality": quality, "method": method,
                             "alpha": alpha, "mixer": None if method != "omiga" else "linear",
                             "global_info": global_info, "seed": seed, "steps": 100, "score": 20 * normalized,
                             "win_rate": 0.0, "normalized_score": normalized, "status": "ok"})
    return load_scores(pd.DataFrame(rows))


def rows(scores, claim):
    return evaluate_claim_rows(scores, claim, reps=REPS, seed=0, power=FAST_POWER)


BEATS = {"kind": "beats", "a": {"method": "omiga"}}


def test_beats_compares_the_best_setting_of_a_with_each_baseline_per_quality_and_pooled() -> None:
    scores = table({("omiga", 1.0, True): 0.8, ("omiga", 10.0, True): 0.5, ("bc", np.nan, None): 0.6,
                    ("cql", np.nan, None): 0.55}, qualities=("medium", "poor"))
    verdicts = rows(scores, BEATS)
    assert [v.scope for v in verdicts] == ["medium", "poor", "all"]
    assert [v.verdict for v in verdicts] == ["supported"] * 3
    medium = verdicts[0]
    assert medium.name.startswith("method=omiga beats each baseline (bc, cql), each at its own best setting [medium]")
    assert medium.statistic == "iqm difference a - baseline bc (weakest of 2 pairs)"
    assert medium.estimate == pytest.approx(0.2, abs=0.01)
    assert "a smac_corridor/medium omiga α=1 linear global" in medium.note
    assert verdicts[-1].selection == "selected and tested on the same seeds 0-5, so optimistic"
    assert evaluate_claim(scores, BEATS, reps=REPS, power=FAST_POWER) == verdicts[-1]


def test_beats_is_refuted_when_some_baseline_is_better() -> None:
    scores = table({("omiga", 1.0, True): 0.7, ("bc", np.nan, None): 0.6, ("cql", np.nan, None): 0.85})
    verdict = evaluate_claim(scores, BEATS, reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "refuted"
    assert "baseline cql" in verdict.statistic and verdict.ci_high < 0


def test_every_quality_needs_every_quality_while_pooling_can_hide_a_loss() -> None:
    scores = table({("good", "omiga", 1.0, True): 0.9, ("good", "bc", np.nan, None): 0.5,
                    ("poor", "omiga", 1.0, True): 0.3, ("poor", "bc", np.nan, None): 0.4}, qualities=("good", "poor"))
    pooled = rows(scores, {**BEATS, "baselines": ["bc"]})
    assert [v.verdict for v in pooled] == ["supported", "refuted", "supported"]
    every = rows(scores, {**BEATS, "aggregate": "every_quality"})
    assert [v.verdict for v in every] == ["supported", "refuted", "refuted"]
    assert every[-1].name.startswith("method=omiga beats each baseline (bc) on every quality")
    assert every[-1].statistic == "iqm difference on the weakest quality (poor)"
    assert every[-1].estimate == pytest.approx(-0.1, abs=0.01)


def test_a_margin_turns_beats_into_no_worse_than() -> None:
    scores = table({("omiga", 1.0, True): 0.79, ("bc", np.nan, None): 0.80})
    strict = evaluate_claim(scores, BEATS, reps=REPS, power=FAST_POWER)
    assert strict.verdict in ("inconclusive", "refuted")
    lenient = evaluate_claim(scores, {**BEATS, "margin": 0.05}, reps=REPS, power=FAST_POWER)
    assert lenient.verdict == "supported" and lenient.ci_low > -0.05
    assert lenient.name.startswith("method=omiga is no worse by more than 0.05 than each baseline (bc)")


def test_a_smallest_effect_of_interest_decides_between_near_equal_methods() -> None:
    """0.80 against 0.80: undecidable at min_effect 0, refuted when an advantage below 0.05 counts as none;
    0.90 against 0.80 is supported either way, and so is a significant advantage smaller than δ (0.83)."""
    near = table({("omiga", 1.0, True): 0.80, ("bc", np.nan, None): 0.80})
    assert evaluate_claim(near, BEATS, reps=REPS, power=FAST_POWER).verdict == "inconclusive"
    decided = evaluate_claim(near, {**BEATS, "min_effect": 0.05}, reps=REPS, power=FAST_POWER)
    assert decided.verdict == "refuted" and decided.ci_low <= 0 < decided.ci_high < 0.05
    assert decided.name.startswith("method=omiga beats each baseline (bc) (an advantage below 0.05 counts as none)")
    far = table({("omiga", 1.0, True): 0.90, ("bc", np.nan, None): 0.80})
    assert evaluate_claim(far, {**BEATS, "min_effect": 0.05}, reps=REPS, power=FAST_POWER).verdict == "supported"
    small = table({("omiga", 1.0, True): 0.83, ("bc", np.nan, None): 0.80})
    verdict = evaluate_claim(small, {**BEATS, "min_effect": 0.05}, reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "supported" and 0 < verdict.ci_low and verdict.ci_high < 0.05


@pytest.mark.parametrize(("centre", "min_effect", "expected"), [
    (0.0, 0.0, 0), (0.0, 0.02, -1),        # CI [-0.0095, 0.0095]: undecided, or wholly below δ
    (0.008, 0.02, -1), (0.008, 0.015, 0),  # CI [-0.0015, 0.0175]: below δ = 0.02, straddles δ = 0.015
    (0.015, 0.02, 1), (0.03, 0.02, 1),     # CI above 0 (straddling δ, or above it): supported
    (-0.05, 0.0, -1), (-0.05, 0.02, -1),   # b significantly better
])
def test_the_difference_rule_with_a_smallest_effect_on_known_intervals(centre, min_effect, expected) -> None:
    """Replicates of a − b spread evenly over centre ± 0.01, so the 95% CI is centre ± 0.0095."""
    a = centre + np.linspace(-0.01, 0.01, 201)
    assert difference_verdict(a, np.zeros_like(a), min_effect=min_effect) == expected


def test_each_arm_at_its_own_best_alpha_handles_the_temperature_confound() -> None:
    """At a shared α = 1 global information looks harmful; each arm at its own best α it helps."""
    scores = table({("omiga", 1.0, True): 0.6, ("omiga", 10.0, True): 0.9,
                    ("omiga", 1.0, False): 0.85, ("omiga", 10.0, False): 0.3})
    base = {"kind": "improves", "a": {"method": "omiga", "mixer": "linear", "global_info": True},
            "b": {"method": "omiga", "mixer": "linear", "global_info": False}}
    fixed = evaluate_claim(scores, {**base, "a": {**base["a"], "alpha": 1}, "b": {**base["b"], "alpha": 1}},
                           reps=REPS, power=FAST_POWER)
    assert fixed.verdict == "refuted"
    tuned = evaluate_claim(scores, {**base, "tune": ["alpha"]}, reps=REPS, power=FAST_POWER)
    assert tuned.verdict == "supported"
    assert tuned.estimate == pytest.approx(0.05, abs=0.01)
    assert "each at its own best alpha" in tuned.name and "so optimistic" in tuned.name
    assert "a smac_corridor/medium alpha=10.0" in tuned.note and "b smac_corridor/medium alpha=1.0" in tuned.note


def test_selection_on_fresh_seeds_exposes_a_lucky_setting() -> None:
    """α = 10 was lucky on seeds 0-2 (1.0) and is poor elsewhere (0.45); α = 1 is a steady 0.7; bc 0.6.

    Selecting on all seeds picks α = 10 (IQM 0.725 > 0.7) and judges it on its own lucky seeds; selecting on
    seeds 0-2 picks it too, but the fresh seeds 3-5 show it below bc.
    """
    lucky = [1.0, 1.0, 1.0, 0.45, 0.45, 0.45]
    scores = table({("omiga", 1.0, True): 0.7, ("omiga", 10.0, True): lucky, ("bc", np.nan, None): 0.6})
    shared = evaluate_claim(scores, BEATS, reps=REPS, power=FAST_POWER)
    assert "omiga α=10 linear global" in shared.note
    assert shared.estimate > 0 and shared.verdict != "refuted"
    split = evaluate_claim(scores, {**BEATS, "select_seeds": [0, 1, 2]}, reps=REPS, power=FAST_POWER)
    assert "omiga α=10 linear global" in split.note
    assert split.verdict == "refuted" and split.n_seeds == 3
    assert split.estimate == pytest.approx(0.45 - 0.6, abs=0.01)
    assert split.selection == "selected on seeds 0-2 and tested on seeds 3-5"
    assert split.name.endswith("(selected on seeds 0-2 and tested on seeds 3-5)")
    assert evaluate_claim(scores, {**BEATS, "select_seeds": 0.5}, reps=REPS, power=FAST_POWER) == split


def test_seed_split_by_list_or_fraction_and_its_errors() -> None:
    assert split_seeds([3, 0, 1, 2, 4]) == SeedSplit(select=(0, 1, 2, 3, 4), test=(0, 1, 2, 3, 4))
    assert split_seeds(range(5), 0.4) == SeedSplit(select=(0, 1), test=(2, 3, 4))
    assert split_seeds(range(5), [4, 1]) == SeedSplit(select=(1, 4), test=(0, 2, 3))
    with pytest.raises(ClaimError, match=re.escape("select_seeds 7 are not seeds of this study (its seeds: 0-4)")):
        split_seeds(range(5), [7])
    with pytest.raises(ClaimError, match=re.escape("select_seeds 0-4 are every seed of the study")):
        split_seeds(range(5), [0, 1, 2, 3, 4])


def test_an_inconclusive_tuned_claim_says_how_many_seeds_would_decide_selection_included() -> None:
    noisy = {("omiga", 1.0, True): [0.9, 0.3, 0.7, 0.4, 0.8, 0.5], ("bc", np.nan, None): [0.6, 0.4, 0.7, 0.5, 0.3, 0.8]}
    verdict = evaluate_claim(table(noisy), {**BEATS, "select_seeds": [0, 1]}, reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "inconclusive"
    assert verdict.seeds_needed == "> 18" or int(verdict.seeds_needed) > verdict.n_seeds + 2


ALPHA_GRID = {("omiga", 0.1, True): 0.4, ("omiga", 0.3, True): 0.78, ("omiga", 1.0, True): 0.8,
              ("omiga", 3.0, True): 0.77, ("omiga", 10.0, True): 0.5}
SENSITIVITY = {"kind": "sensitivity", "factor": "alpha", "within": 0.1, "where": {"method": "omiga"}}


def test_sensitivity_names_the_near_best_alpha_range_with_cis() -> None:
    scores = table(ALPHA_GRID)
    everywhere = evaluate_claim(scores, SENSITIVITY, reps=REPS, power=FAST_POWER)
    assert everywhere.verdict == "refuted"
    assert everywhere.statistic == "iqm ratio of alpha=0.1 to best alpha=1"
    assert everywhere.estimate == pytest.approx(0.4 / 0.8, abs=0.02)
    assert everywhere.note.startswith("near-best alpha range [0.3, 3] around the best alpha=1; near: 0.3, 3; "
                                      "far: 0.1, 10")
    in_range = evaluate_claim(scores, {**SENSITIVITY, "range": [0.3, 3]}, reps=REPS, power=FAST_POWER)
    assert in_range.verdict == "supported" and in_range.ci_low >= 0.9
    assert "for alpha in [0.3, 3]" in in_range.name
    levels = sensitivity_table(scores, SENSITIVITY, reps=REPS)
    assert list(levels["role"]) == ["far", "near", "best", "near", "far"]
    assert list(levels["level"]) == [0.1, 0.3, 1.0, 3.0, 10.0]
    assert (levels["ci_low"] <= levels["estimate"]).all() and (levels["estimate"] <= levels["ci_high"]).all()
    assert levels.loc[2, "ratio"] == 1.0


def test_mixed_quality_data_are_ordinary_qualities() -> None:
    mixed = ("good+poor", "medium")
    scores = table({**ALPHA_GRID, ("bc", np.nan, None): 0.6}, qualities=mixed)
    verdicts = evaluate_claims(scores, [BEATS, {**SENSITIVITY, "range": [0.3, 3]}], reps=REPS, power=FAST_POWER)
    assert [(v.kind, v.scope, v.verdict) for v in verdicts] == [
        ("beats", "good+poor", "supported"), ("beats", "medium", "supported"), ("beats", "all", "supported"),
        ("sensitivity", "good+poor", "supported"), ("sensitivity", "medium", "supported"),
        ("sensitivity", "all", "supported")]
    assert verdicts[0].name.endswith("[good+poor] (selected and tested on the same seeds 0-5, so optimistic)")
    one = evaluate_claim(scores, {**BEATS, "quality": "good+poor"}, reps=REPS, power=FAST_POWER)
    assert one.verdict == "supported" and "(good+poor)" in one.name


def test_method_hyperparameter_columns_are_settings_and_selectors() -> None:
    """A baseline tuned over hp_cql_alpha is compared at its best value; hp_* columns select like the others."""
    scores = table({("omiga", 1.0, True): 0.8, ("cql", np.nan, None): 0.5})
    scores = pd.concat([scores, scores.loc[scores["method"] == "cql"].assign(normalized_score=0.85)],
                       ignore_index=True)
    scores["hp_cql_alpha"] = np.where(scores["method"] == "cql", 1.0, np.nan)
    scores.loc[scores.index[-6:], "hp_cql_alpha"] = 10.0
    verdict = evaluate_claim(scores, BEATS, reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "refuted" and "baseline cql smac_corridor/medium cql hp_cql_alpha=10.0" in verdict.note
    tuned_down = evaluate_claim(scores, {"kind": "improves", "a": {"method": "omiga"},
                                         "b": {"method": "cql", "hp_cql_alpha": 1}}, reps=REPS, power=FAST_POWER)
    assert tuned_down.verdict == "supported" and tuned_down.estimate == pytest.approx(0.3, abs=0.01)
