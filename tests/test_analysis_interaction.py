"""The interaction claim (a difference of differences) on hand-made score tables whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import ClaimError, PowerConfig, evaluate_claims, validate_claim
from analysis.claims import evaluate_claim_rows
from tests.test_analysis_claim_kinds import table

REPS = 400
FAST_POWER = PowerConfig(cap=8, simulations=20, inner_reps=20)
QUALITIES = ("medium", "medium@shared", "poor", "poor@shared")
CLAIM = {"kind": "interaction", "a": {"method": "omiga"}, "b": {"method": "bc"}, "factor": "quality",
         "levels": ["medium", "medium@shared"]}


def scores(advantage_independent: float, advantage_shared: float, *, alpha_levels=(1.0,)):
    """BC at 0.5 everywhere; OMIGA's best α ahead by the given advantages (other α 0.2 lower)."""
    cells = {}
    for quality, advantage in (("medium", advantage_independent), ("medium@shared", advantage_shared),
                               ("poor", advantage_independent), ("poor@shared", advantage_shared)):
        cells[(quality, "bc", np.nan, None)] = 0.5
        for k, alpha in enumerate(alpha_levels):
            cells[(quality, "omiga", alpha, True)] = 0.5 + advantage - 0.2 * k
    return table(cells, qualities=QUALITIES)


def test_a_smaller_advantage_on_correlated_data_is_supported_with_the_contrast_as_estimate():
    (verdict,) = evaluate_claim_rows(scores(0.3, 0.1), CLAIM, reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "supported" and verdict.scope == "all"  # one row: it compares qualities itself
    assert verdict.estimate == pytest.approx(0.2, abs=1e-9)  # the jitter is the same in every cell
    assert verdict.ci_low > 0 and verdict.n_seeds == 6
    assert verdict.name.startswith("the advantage of method=omiga over method=bc is larger at quality medium than "
                                   "at quality medium@shared")
    assert "advantage at medium 0.3, at medium@shared 0.1" in verdict.note


def test_a_larger_advantage_on_correlated_data_refutes_it_and_equal_ones_are_inconclusive():
    (refuted,) = evaluate_claim_rows(scores(0.1, 0.3), CLAIM, reps=REPS, power=FAST_POWER)
    assert refuted.verdict == "refuted" and refuted.estimate == pytest.approx(-0.2, abs=1e-9)
    noisy = scores(0.2, 0.2)
    rng = np.random.RandomState(0)
    noisy["normalized_score"] += rng.normal(0, 0.05, len(noisy))
    (undecided,) = evaluate_claim_rows(noisy, CLAIM, reps=REPS, power=FAST_POWER)
    assert undecided.verdict == "inconclusive" and undecided.ci_low < 0 < undecided.ci_high
    assert undecided.seeds_needed != "-"


def test_levels_may_pool_qualities_and_cells_may_be_tuned():
    pooled = {**CLAIM, "levels": [["medium", "poor"], ["medium@shared", "poor@shared"]], "tune": ["alpha"],
              "select_seeds": [0, 1]}
    (verdict,) = evaluate_claims(scores(0.3, 0.1, alpha_levels=(1.0, 10.0)), [pooled], reps=REPS, power=FAST_POWER)
    assert verdict.verdict == "supported" and verdict.estimate == pytest.approx(0.2, abs=0.02)
    assert "quality medium+poor than at quality medium@shared+poor@shared" in verdict.name
    assert "alpha=1.0" in verdict.note and "alpha=10" not in verdict.note  # each cell at its best α
    assert verdict.selection == "selected on seeds 0-1 and tested on seeds 2-5"


def test_bad_interaction_claims_are_named():
    for claim, message in (({**CLAIM, "levels": ["medium"]}, "give two levels"),
                           ({**CLAIM, "levels": ["medium", "medium"]}, "share a value"),
                           ({**CLAIM, "quality": "medium"}, "drop its quality and aggregate keys"),
                           ({**CLAIM, "factor": "task"}, "interaction claim factor 'task'"),
                           ({**CLAIM, "factor": "alpha", "levels": [1.0, [3.0, 10.0]]}, "one value of alpha"),
                           ({**CLAIM, "a": {"method": "omiga", "quality": "x"}}, "selects on \\['quality'\\]")):
        with pytest.raises(ClaimError, match=message):
            validate_claim(claim)
    with pytest.raises(ClaimError, match="no run on quality good"):
        evaluate_claims(scores(0.3, 0.1), [{**CLAIM, "levels": ["good", "medium"]}], reps=REPS, power=FAST_POWER)
