"""Per-cell and across-task interval estimates, unequal run counts, and performance profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rliable import metrics as rly_metrics
from test_analysis_scores import synthetic_scores

from analysis import EstimateConfig, interval_estimates, load_scores, performance_profiles
from analysis.estimates import ESTIMATE_COLUMNS
from analysis.profiles import score_distribution

CONFIG = EstimateConfig(reps=300, seed=0)


@pytest.fixture(scope="module")
def two_task_scores() -> pd.DataFrame:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 1.0, False): 0.5}, seeds=5,
                             tasks=("smac_corridor", "smac_5m"), sd=0.1)
    # one diverged run on smac_5m: that task keeps 4 ok runs for the global group
    row = frame.index[(frame["task"] == "smac_5m") & frame["global_info"] & (frame["seed"] == 0)][0]
    frame.loc[row, ["score", "normalized_score"]] = np.nan
    frame.loc[row, "status"] = "diverged"
    return load_scores(frame)


def test_estimates_have_the_contract_columns_and_cells(two_task_scores) -> None:
    table = interval_estimates(two_task_scores, config=CONFIG)
    assert tuple(table.columns) == ESTIMATE_COLUMNS
    assert set(table["task"]) == {"smac_corridor", "smac_5m", "all"}
    assert set(table["metric"]) == {"iqm", "mean", "median", "optimality_gap"}
    assert (table["ci_low"] <= table["ci_high"]).all()


def test_per_cell_estimates_use_each_cells_own_ok_runs(two_task_scores) -> None:
    table = interval_estimates(two_task_scores, config=CONFIG).set_index(["task", "group", "metric"])
    cell = table.loc[("smac_5m", "omiga α=1 linear global", "iqm")]
    ok = two_task_scores.loc[(two_task_scores["task"] == "smac_5m") & two_task_scores["global_info"]
                             & (two_task_scores["status"] == "ok")].sort_values("seed")
    assert cell["n_runs"] == 4
    assert cell["estimate"] == pytest.approx(rly_metrics.aggregate_iqm(ok["score"].to_numpy()[:, None]))


def test_across_task_rows_subsample_to_the_smallest_count_with_lowest_seeds(two_task_scores) -> None:
    table = interval_estimates(two_task_scores, config=CONFIG).set_index(["task", "group", "metric"])
    row = table.loc[("all", "omiga α=1 linear global", "mean")]
    assert row["n_runs"] == 4
    ok = two_task_scores.loc[two_task_scores["global_info"] & (two_task_scores["status"] == "ok")]
    columns = [g.sort_values("seed")["normalized_score"].to_numpy()[:4] for _, g in ok.groupby("task")]
    assert row["estimate"] == pytest.approx(rly_metrics.aggregate_mean(np.stack(columns, axis=1)))
    assert table.loc[("all", "omiga α=1 linear local", "mean")]["n_runs"] == 5


def test_a_group_missing_a_task_gets_no_across_task_row() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8}, tasks=("a", "b"), seeds=3)
    bc = synthetic_scores({("bc", np.nan, None): 0.3}, tasks=("a",), seeds=3).assign(mixer=None)
    frame = pd.concat([frame, bc], ignore_index=True)
    table = interval_estimates(load_scores(frame), config=CONFIG)
    assert set(table.loc[table["task"] == "all", "group"]) == {"omiga α=1 linear global"}
    assert set(table.loc[table["task"] == "a", "group"]) == {"omiga α=1 linear global", "bc"}


def test_estimate_config_validates() -> None:
    with pytest.raises(ValueError, match="unknown metric 'best': use one of iqm, mean, median, optimality_gap"):
        EstimateConfig(metrics=("best",))
    with pytest.raises(ValueError, match="EstimateConfig.reps must be >= 10"):
        EstimateConfig(reps=1)


def test_score_distribution_equals_rliable_and_brackets() -> None:
    matrix = np.random.default_rng(2).uniform(size=(6, 3))
    taus = np.linspace(0, 1, 11)
    fraction, low, high = score_distribution([matrix[:, t] for t in range(3)], taus=taus, reps=200, seed=0)
    expected = [np.mean(matrix > tau) for tau in taus]
    assert fraction == pytest.approx(expected)
    assert (low <= fraction + 1e-12).all() and (fraction <= high + 1e-12).all()
    assert fraction[0] == 1.0 and fraction[-1] == 0.0


def test_performance_profiles_cover_every_group(two_task_scores) -> None:
    profiles = performance_profiles(two_task_scores, n_taus=5, reps=100)
    assert profiles.groupby("group").size().to_dict() == {"omiga α=1 linear global": 5,
                                                          "omiga α=1 linear local": 5}
    # runs per task: smac_5m has 4 ok runs, so smac_corridor keeps its 4 lowest seeds (rliable needs a matrix)
    assert profiles.loc[profiles["group"] == "omiga α=1 linear global", "n_runs"].iloc[0] == 4
    assert profiles.loc[profiles["group"] == "omiga α=1 linear local", "n_runs"].iloc[0] == 5
