"""Interval estimates against rliable called directly, seeding, and the global RNG left untouched."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

import numpy as np
import pytest
from rliable import metrics as rly_metrics

from analysis import (
    IntervalEstimate,
    probability_of_improvement,
    probability_of_improvement_ci,
    seeded_global_rng,
    stratified_bootstrap_ci,
)
from analysis.metrics import METRICS


def rliable_library():
    """rliable.library; with arch 7.2 + pandas 3 ``import arch`` fails in arch.univariate, so on that failure
    load arch.bootstrap without running arch/__init__ (test-only workaround; upgrading arch removes the need)."""
    try:
        return importlib.import_module("rliable.library")
    except TypeError:
        for name in [n for n in sys.modules if n == "arch" or n.startswith("arch.")]:
            del sys.modules[name]
        package = types.ModuleType("arch")
        package.__path__ = list(importlib.util.find_spec("arch").submodule_search_locations)
        sys.modules["arch"] = package
        try:
            return importlib.import_module("rliable.library")
        finally:
            del sys.modules["arch"]  # later `import arch` behaves as before (the loaded modules stay usable)


RLIABLE_METRICS = {"iqm": rly_metrics.aggregate_iqm, "mean": rly_metrics.aggregate_mean,
                   "median": rly_metrics.aggregate_median, "optimality_gap": rly_metrics.aggregate_optimality_gap}


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    return np.random.default_rng(3).normal(0.6, 0.3, size=(7, 4))


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_equal_rliable_on_a_matrix(matrix, name) -> None:
    assert float(METRICS[name](matrix)) == pytest.approx(float(RLIABLE_METRICS[name](matrix)), abs=1e-12)
    stacked = np.stack([matrix, matrix[::-1] * 2])
    assert METRICS[name](stacked) == pytest.approx([RLIABLE_METRICS[name](m) for m in stacked], abs=1e-12)


@pytest.mark.parametrize("name", ["iqm", "mean", "optimality_gap"])
def test_ci_equals_rliable_get_interval_estimates_with_the_same_seed(matrix, name) -> None:
    library = rliable_library()
    with seeded_global_rng(11):
        points, intervals = library.get_interval_estimates(
            {"x": matrix}, lambda s: np.array([RLIABLE_METRICS[name](s)]), reps=400)
    ours = stratified_bootstrap_ci(matrix, statistic=METRICS[name], reps=400, seed=11)
    assert ours.estimate == pytest.approx(points["x"][0], abs=1e-12)
    assert (ours.ci_low, ours.ci_high) == pytest.approx(tuple(intervals["x"][:, 0]), abs=1e-12)
    assert ours.n_runs == 7


def test_same_seed_gives_identical_cis_and_leaves_global_rng_untouched(matrix) -> None:
    np.random.seed(1234)
    before = np.random.get_state()
    first = stratified_bootstrap_ci(matrix, statistic=METRICS["iqm"], reps=300, seed=5)
    second = stratified_bootstrap_ci(matrix, statistic=METRICS["iqm"], reps=300, seed=5)
    other = stratified_bootstrap_ci(matrix, statistic=METRICS["iqm"], reps=300, seed=6)
    after = np.random.get_state()
    assert first == second
    assert first != other
    assert after[0] == before[0] and np.array_equal(after[1], before[1]) and after[2:] == before[2:]


def test_seeded_global_rng_restores_the_previous_state() -> None:
    np.random.seed(7)
    expected = np.random.RandomState(7).rand()
    with seeded_global_rng(99):
        inside = np.random.rand()
    assert inside == np.random.RandomState(99).rand()
    assert np.random.rand() == expected


def test_ci_brackets_its_estimate_and_shrinks_with_more_runs() -> None:
    rng = np.random.default_rng(0)
    small = stratified_bootstrap_ci(rng.normal(size=(5, 1)), statistic=METRICS["mean"], reps=500, seed=0)
    large = stratified_bootstrap_ci(rng.normal(size=(80, 1)), statistic=METRICS["mean"], reps=500, seed=0)
    for ci in (small, large):
        assert ci.ci_low <= ci.estimate <= ci.ci_high
    assert large.ci_high - large.ci_low < small.ci_high - small.ci_low


def test_interval_estimate_rejects_swapped_bounds() -> None:
    with pytest.raises(ValueError, match="ci_low 2 exceeds ci_high 1: swap the bounds"):
        IntervalEstimate(estimate=1.5, ci_low=2, ci_high=1, n_runs=3)


def test_probability_of_improvement_of_identical_inputs_is_one_half() -> None:
    x = [np.array([0.1, 0.5, 0.9]), np.array([1.0, 2.0])]
    ci = probability_of_improvement_ci(x, x, reps=300, seed=0)
    assert ci.estimate == 0.5
    assert ci.ci_low <= 0.5 <= ci.ci_high


def test_probability_of_improvement_equals_rliable_with_unequal_run_counts() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.5, 1, size=(6, 3)), rng.normal(0.0, 1, size=(4, 3))
    ours = probability_of_improvement([x[:, t] for t in range(3)], [y[:, t] for t in range(3)])
    assert ours == pytest.approx(rly_metrics.probability_of_improvement(x, y), abs=1e-12)
    ties = probability_of_improvement([np.array([1.0, 2.0])], [np.array([1.0, 0.0])])
    assert ties == pytest.approx((1 + 0.5 + 1 + 1) / 4)


def test_default_reps_make_ci_bounds_stable_to_two_significant_digits_of_the_width() -> None:
    """Across 10 seeds, each bound's spread stays within 3% of the CI width at the default reps."""
    from analysis import DEFAULT_BOOTSTRAP_REPS

    runs = np.random.default_rng(0).normal(15.0, 2.0, size=(10, 1))
    cis = [stratified_bootstrap_ci(runs, statistic=METRICS["iqm"], reps=DEFAULT_BOOTSTRAP_REPS, seed=s)
           for s in range(10)]
    lows, highs = np.array([c.ci_low for c in cis]), np.array([c.ci_high for c in cis])
    width = float(np.mean(highs - lows))
    assert np.ptp(lows) < 0.03 * width and np.ptp(highs) < 0.03 * width
