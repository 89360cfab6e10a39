"""The vectorised engine draws rliable's exact numbers: every statistic against rliable for fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rliable.library as rly
from rliable import metrics as rly_metrics

from analysis.bootstrap import seeded_global_rng
from analysis.engine import (
    check_engine,
    curve_metric_intervals,
    metric_intervals,
    performance_profile_intervals,
    probability_of_improvement_intervals,
)

METRICS = ("iqm", "mean", "median", "optimality_gap")


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    return np.random.default_rng(3).normal(0.6, 0.3, size=(5, 3))


@pytest.mark.parametrize("seed", [0, 11])
def test_metric_intervals_of_both_engines_are_equal(matrix, seed) -> None:
    fast = metric_intervals(matrix, metrics=METRICS, reps=300, seed=seed)
    slow = metric_intervals(matrix, metrics=METRICS, reps=300, seed=seed, engine="rliable")
    for ours, theirs in zip(fast, slow, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    with seeded_global_rng(seed):
        _, direct = rly.get_interval_estimates({"x": matrix}, lambda x: np.array([rly_metrics.aggregate_iqm(x)]),
                                               reps=300)
    assert fast[1][0] == pytest.approx(direct["x"][0, 0], abs=1e-12)
    assert fast[2][0] == pytest.approx(direct["x"][1, 0], abs=1e-12)


def test_rliable_engine_leaves_the_global_rng_as_it_was(matrix) -> None:
    np.random.seed(5)
    expected = np.random.RandomState(5).rand()
    metric_intervals(matrix, metrics=("iqm",), reps=50, seed=1, engine="rliable")
    assert np.random.rand() == expected


def test_learning_curve_bands_resample_every_step_as_rliable_does() -> None:
    curves = np.random.default_rng(0).normal(size=(4, 2, 6))  # runs × tasks × steps
    fast = curve_metric_intervals(curves, metric="iqm", reps=200, seed=3)
    slow = curve_metric_intervals(curves, metric="iqm", reps=200, seed=3, engine="rliable")
    for ours, theirs in zip(fast, slow, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    with seeded_global_rng(3):
        points, cis = rly.get_interval_estimates(
            {"x": curves}, lambda x: np.array([rly_metrics.aggregate_iqm(x[..., t]) for t in range(6)]), reps=200)
    np.testing.assert_allclose(fast[0], points["x"], atol=1e-12)
    np.testing.assert_allclose(np.stack(fast[1:]), cis["x"], atol=1e-12)


def test_performance_profiles_equal_create_performance_profile(matrix) -> None:
    taus = np.linspace(matrix.min() - 0.1, matrix.max() + 0.1, 13)
    fast = performance_profile_intervals(matrix, taus=taus, reps=200, seed=2)
    slow = performance_profile_intervals(matrix, taus=taus, reps=200, seed=2, engine="rliable")
    for ours, theirs in zip(fast, slow, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert fast[0][0] == 1.0 and fast[0][-1] == 0.0


@pytest.mark.parametrize("n_y", [5, 3])
def test_probability_of_improvement_equals_rliable_with_equal_and_unequal_runs(matrix, n_y) -> None:
    y = np.random.default_rng(4).normal(0.4, 0.3, size=(n_y, 3))
    fast = probability_of_improvement_intervals(matrix, y, reps=200, seed=9)
    slow = probability_of_improvement_intervals(matrix, y, reps=200, seed=9, engine="rliable")
    for ours, theirs in zip(fast, slow, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert fast[0][0] == pytest.approx(rly_metrics.probability_of_improvement(matrix, y), abs=1e-12)


def test_probability_of_improvement_of_identical_inputs_is_one_half(matrix) -> None:
    point, low, high = probability_of_improvement_intervals(matrix, matrix, reps=100, seed=0)
    assert point[0] == pytest.approx(0.5, abs=1e-12) and low[0] <= 0.5 <= high[0]


def test_bad_engine_and_shapes_are_named() -> None:
    with pytest.raises(ValueError, match="unknown statistics engine 'scipy': use one of vectorised, rliable"):
        check_engine("scipy")
    with pytest.raises(ValueError, match=r"over the same tasks, got \(2, 3\) and \(2, 2\)"):
        probability_of_improvement_intervals(np.zeros((2, 3)), np.zeros((2, 2)), reps=10, seed=0)


def test_a_whole_studys_estimates_profiles_and_improvements_equal_rliables() -> None:
    from test_analysis_scores import synthetic_scores

    from analysis import (
        EstimateConfig,
        interval_estimates,
        load_scores,
        pairwise_probability_of_improvement,
        performance_profiles,
    )

    scores = load_scores(synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 10.0, True): 0.6,
                                           ("bc", float("nan"), None): 0.4}, seeds=4, tasks=("a", "b")))
    tables = {engine: (interval_estimates(scores, config=EstimateConfig(reps=60, seed=4, engine=engine)),
                       pairwise_probability_of_improvement(scores, reps=60, seed=4, engine=engine),
                       performance_profiles(scores, n_taus=7, reps=60, seed=4, engine=engine))
              for engine in ("vectorised", "rliable")}
    for fast, slow in zip(tables["vectorised"], tables["rliable"], strict=True):
        assert len(fast) > 0
        pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=0, atol=1e-12)
