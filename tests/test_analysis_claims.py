"""Claim verdicts on synthetic scores whose truth is known, the claim schema, and the power estimate."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_analysis_scores import synthetic_scores

from analysis import ClaimError, PowerConfig, evaluate_claim, evaluate_claims, load_scores, seeds_for_decision
from analysis.judgement import difference_verdict

REPS = 400
FAST_POWER = PowerConfig(cap=16, simulations=60, inner_reps=60)
IMPROVES_GLOBAL = {"kind": "improves", "a": {"global_info": True}, "b": {"global_info": False}}


def judge(claim, means, *, seeds=10, sd=0.05, rng_seed=0):
    scores = load_scores(synthetic_scores(means, seeds=seeds, sd=sd, rng_seed=rng_seed))
    return evaluate_claim(scores, claim, reps=REPS, seed=0, power=FAST_POWER)


def test_a_clear_improvement_is_supported_with_its_statistic() -> None:
    verdict = judge(IMPROVES_GLOBAL, {("omiga", 1.0, True): 0.8, ("omiga", 1.0, False): 0.5})
    assert verdict.verdict == "supported"
    assert verdict.statistic == "iqm difference"
    assert 0 < verdict.ci_low <= verdict.estimate <= verdict.ci_high
    assert verdict.estimate == pytest.approx(0.3, abs=0.05)
    assert (verdict.n_seeds, verdict.seeds_needed) == (10, "-")


def test_a_clear_deterioration_refutes_the_claim() -> None:
    verdict = judge(IMPROVES_GLOBAL, {("omiga", 1.0, True): 0.5, ("omiga", 1.0, False): 0.8})
    assert verdict.verdict == "refuted"
    assert verdict.ci_high < 0


def test_a_clear_non_difference_is_robust_and_improves_is_inconclusive() -> None:
    means = {("omiga", 0.1, True): 0.8, ("omiga", 1.0, True): 0.8, ("omiga", 10.0, True): 0.8}
    robust = judge({"kind": "robust", "factor": "alpha", "within": 0.1}, means, seeds=20, sd=0.02)
    assert robust.verdict == "supported"
    assert 0.9 <= robust.ci_low <= robust.ci_high <= 1.1
    improves = judge({"kind": "improves", "a": {"alpha": 0.1}, "b": {"alpha": 10}}, means, seeds=20, sd=0.02)
    assert improves.verdict == "inconclusive"
    assert improves.ci_low < 0 < improves.ci_high


def test_a_level_far_below_the_best_refutes_robustness() -> None:
    means = {("omiga", 0.1, True): 0.8, ("omiga", 1.0, True): 0.4}
    verdict = judge({"kind": "robust", "factor": "alpha", "within": 0.1}, means)
    assert verdict.verdict == "refuted"
    assert verdict.statistic == "iqm ratio of alpha=1.0 to best alpha=0.1"
    assert verdict.ci_high < 0.9


def test_robustness_to_quality_is_refused_with_the_claim_to_write_instead() -> None:
    claim = {"kind": "robust", "factor": "quality", "within": 0.1, "where": {"method": "omiga"}}
    with pytest.raises(ClaimError, match=re.escape(
            "robust claim factor 'quality' tests invariance to the data's quality, which nobody claims (poorer "
            "data must score lower); to claim that a method stays ahead of the baselines on every quality write "
            'kind = "beats", a = {method = "omiga"}, aggregate = "every_quality"')):
        evaluate_claim(load_scores(synthetic_scores({("omiga", 1.0, True): 0.8})), claim, reps=REPS)


def test_robustness_to_a_factor_with_one_level_is_reported_as_not_judgeable() -> None:
    claim = {"kind": "robust", "factor": "mixer", "within": 0.1}
    verdict = evaluate_claim(load_scores(synthetic_scores({("omiga", 1.0, True): 0.8})), claim, reps=REPS, seed=0,
                             power=FAST_POWER)
    assert (verdict.verdict, verdict.seeds_needed) == ("inconclusive", "unknown")
    assert verdict.note == ("cannot judge: mixer has the single level linear in this study; a claim about mixer "
                            "needs at least two (vary mixer in the study)")


def test_a_too_small_sample_is_inconclusive_and_asks_for_more_seeds() -> None:
    means = {("omiga", 1.0, True): 0.6, ("omiga", 1.0, False): 0.5}
    verdict = judge(IMPROVES_GLOBAL, means, seeds=2, sd=0.2)
    assert verdict.verdict == "inconclusive"
    assert verdict.n_seeds == 2
    assert verdict.seeds_needed != "-"


def test_ranks_judges_each_adjacent_pair() -> None:
    means = {("omiga", 1.0, True): 0.8, ("iql", 1.0, True): 0.6, ("bc", 1.0, True): 0.3}
    assert judge({"kind": "ranks", "order": ["omiga", "iql", "bc"]}, means).verdict == "supported"
    assert judge({"kind": "ranks", "order": ["bc", "omiga"]}, means).verdict == "refuted"


def test_supported_never_comes_with_a_ci_that_allows_the_opposite() -> None:
    means = {("omiga", 1.0, True): 0.55, ("omiga", 1.0, False): 0.5}
    for rng_seed in range(15):
        verdict = judge(IMPROVES_GLOBAL, means, seeds=4, sd=0.1, rng_seed=rng_seed)
        if verdict.verdict == "supported":
            assert verdict.ci_low > 0
        if verdict.ci_low <= 0 <= verdict.ci_high:
            assert verdict.verdict == "inconclusive"


def test_claims_can_be_restricted_to_a_task_and_quality() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 1.0, False): 0.5}, tasks=("a", "b"), seeds=4)
    scores = load_scores(frame)
    verdict = evaluate_claim(scores, {**IMPROVES_GLOBAL, "task": "a", "quality": "good"}, reps=REPS,
                             power=FAST_POWER)
    assert verdict.n_seeds == 4
    assert verdict.name == "global_info=True improves on global_info=False (a good)"


@pytest.mark.parametrize(("claim", "message"), [
    ({"kind": "outperforms"},
     "claim 1: claim kind 'outperforms' is unknown: use one of beats, improves, ranks, sensitivity, robust"),
    ({"kind": "improves", "a": {"global_info": True}}, "claim 1: improves claim lacks b"),
    ({**IMPROVES_GLOBAL, "alpha": 1}, "claim 1: improves claim has unknown key(s) alpha"),
    ({**IMPROVES_GLOBAL, "a": {"lr": 1}}, "claim 1: claim a selects on ['lr']: select on method, alpha"),
    ({"kind": "beats", "a": {"alpha": 1}}, 'beats claim a names no method: write e.g. a = {method = "omiga"}'),
    ({"kind": "beats", "a": {"method": "omiga"}, "baselines": ["omiga"]}, "beats claim baselines=['omiga']"),
    ({**IMPROVES_GLOBAL, "tune": ["method"]}, 'improves claim tune=[\'method\']: give "all" or a list'),
    ({**IMPROVES_GLOBAL, "aggregate": "worst"}, "claim aggregate='worst': use one of pooled, every_quality"),
    ({**IMPROVES_GLOBAL, "select_seeds": 1.5}, "select_seeds=1.5: a fraction must lie in (0, 1)"),
    ({**IMPROVES_GLOBAL, "select_seeds": []}, "select_seeds=[]: give a non-empty list of integer seeds"),
    ({**IMPROVES_GLOBAL, "margin": -0.1}, "improves claim margin=-0.1: give a normalised-score margin in [0, 1)"),
    ({**IMPROVES_GLOBAL, "min_effect": -0.1}, "improves claim min_effect=-0.1: give the smallest advantage"),
    ({**IMPROVES_GLOBAL, "min_effect": 0.1, "margin": 0.02},
     "improves claim gives both margin=0.02 (no worse than) and min_effect=0.1 (better by at least)"),
    ({"kind": "sensitivity", "factor": "alpha", "within": 0.1, "range": [3, 1]},
     "sensitivity claim range=[3, 1]: give [low, high] numbers with low <= high"),
    ({"kind": "robust", "factor": "alpha", "within": 1.5}, "robust claim within=1.5: give a fraction in (0, 1)"),
    ({"kind": "robust", "factor": "lr", "within": 0.1}, "robust claim factor 'lr': use one of method, alpha, mixer, global_info or an hp_* column"),
    ({"kind": "ranks", "order": "omiga"}, "ranks claim order='omiga': give a list of at least two values"),
    ({**IMPROVES_GLOBAL, "metric": "max"}, "claim metric 'max' is unknown: use one of iqm, mean, median"),
])
def test_bad_claims_get_one_clear_error(claim, message) -> None:
    scores = load_scores(synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2))
    with pytest.raises(ClaimError, match=re.escape(message)):
        evaluate_claims(scores, [claim], reps=REPS)


def test_a_selector_matching_no_run_names_the_problem() -> None:
    scores = load_scores(synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2))
    with pytest.raises(ClaimError, match=re.escape("claim b (global_info=False) selects no ok runs")):
        evaluate_claim(scores, IMPROVES_GLOBAL, reps=REPS)


def test_power_estimate_matches_the_normal_approximation() -> None:
    """Effect δ = σ = 1: two-sample n ≈ 2 (z_.975 + z_.8)² σ²/δ² ≈ 15.7 for means; IQM needs somewhat more."""
    rng = np.random.default_rng(0)
    treated, control = rng.normal(1.0, 1.0, 2000), rng.normal(0.0, 1.0, 2000)
    closed_form = 2 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2
    n = seeds_for_decision(groups=[treated, control], judge=lambda r, e: difference_verdict(r[0], r[1]),
                           config=PowerConfig(simulations=150, inner_reps=150))
    assert n is not None and 0.75 * closed_form <= n <= 2 * closed_form


def test_power_estimate_reports_none_above_the_cap_for_no_effect() -> None:
    rng = np.random.default_rng(1)
    same = rng.normal(0.0, 1.0, 500)
    n = seeds_for_decision(groups=[same, same.copy()], judge=lambda r, e: difference_verdict(r[0], r[1]),
                           config=FAST_POWER)
    assert n is None


def test_power_config_validates() -> None:
    with pytest.raises(ValueError, match=re.escape("PowerConfig.target must be in (0, 1), got 1.5")):
        PowerConfig(target=1.5)


def test_a_side_whose_runs_all_failed_is_inconclusive_and_says_why() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 1.0, False): 0.5}, seeds=3)
    local = frame["global_info"] == False
    frame.loc[local, ["score", "normalized_score"]] = np.nan
    frame.loc[local, "status"] = "diverged"
    verdict = evaluate_claim(load_scores(frame), IMPROVES_GLOBAL, reps=REPS)
    assert verdict.verdict == "inconclusive"
    assert verdict.note == "cannot judge: b (global_info=False) has no ok run (3 diverged)"


def test_every_claim_in_the_shipped_study_specs_follows_the_schema() -> None:
    import tomllib
    from pathlib import Path

    from analysis import validate_claim

    specs = sorted((Path(__file__).parents[1] / "studies" / "specs").glob("*.toml"))
    claims = [c for spec in specs for c in tomllib.loads(spec.read_text(encoding="utf-8")).get("claims", [])]
    assert claims, "no [[claims]] found in studies/specs"
    for claim in claims:
        validate_claim(claim)


def test_the_claim_syntax_documented_in_interfaces_md_is_valid() -> None:
    import tomllib
    from pathlib import Path

    from analysis import validate_claim

    text = (Path(__file__).parents[1] / "docs" / "interfaces.md").read_text(encoding="utf-8")
    block = text.split("## Claims", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    claims = tomllib.loads(block)["claims"]
    assert [c["kind"] for c in claims] == ["beats", "improves", "sensitivity", "ranks"]
    for claim in claims:
        validate_claim(claim)
