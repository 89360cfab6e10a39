"""marl-eval JSON export: the documented layout, read back, with steps from the curves table."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from test_analysis_curves import synthetic_curves
from test_analysis_scores import synthetic_scores

from analysis import load_curves, load_scores
from reports.marl_eval import ABSOLUTE_METRICS, marl_eval_json


def _scores():
    frame = synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 10.0, True): 0.6}, seeds=4, tasks=("toy",),
                             quality="medium")
    frame["backend"], frame["win_rate"] = "toy", np.nan
    frame.loc[(frame["alpha"] == 10.0) & (frame["seed"] == 3), ["score", "normalized_score", "status"]] = [
        np.nan, np.nan, "diverged"]
    return load_scores(frame)


def test_layout_is_environment_task_algorithm_run_steps_and_absolute_metrics() -> None:
    scores = _scores()
    curves = load_curves(synthetic_curves(seeds=4, qualities=("medium",)))
    data = json.loads(marl_eval_json(scores, curves))
    assert list(data) == ["toy"] and list(data["toy"]) == ["toy_medium"]
    algorithms = data["toy"]["toy_medium"]
    assert sorted(algorithms) == ["omiga α=1 linear global", "omiga α=10 linear global"]
    assert all("," not in name for name in algorithms)
    assert sorted(algorithms["omiga α=10 linear global"]) == ["seed_0", "seed_1", "seed_2"]  # the diverged run is out
    run = algorithms["omiga α=1 linear global"]["seed_2"]
    assert list(run) == ["step_0", "step_1", "step_2", ABSOLUTE_METRICS]
    assert [run[f"step_{k}"]["step_count"] for k in range(3)] == [0, 10, 20]
    assert set(run["step_1"]) == {"step_count", "return", "normalized_return"}  # no win rate on this task
    row = curves.loc[(curves["alpha"] == 1.0) & (curves["seed"] == 2) & (curves["step"] == 10)].iloc[0]
    assert run["step_1"]["return"] == [pytest.approx(row["score"])]
    final = scores.loc[(scores["alpha"] == 1.0) & (scores["seed"] == 2)].iloc[0]
    assert run[ABSOLUTE_METRICS] == {"return": [pytest.approx(final["score"])],
                                     "normalized_return": [pytest.approx(final["normalized_score"])]}


def test_without_curves_each_run_has_its_final_step_and_win_rate_where_the_task_has_one() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2)  # smax, win_rate 0.5
    data = json.loads(marl_eval_json(load_scores(frame)))
    run = data["smax"]["smac_corridor_good"]["omiga α=1 linear global"]["seed_0"]
    assert list(run) == ["step_0", ABSOLUTE_METRICS]
    assert run["step_0"]["step_count"] == 1000 and run["step_0"]["win_rate"] == [0.5]


@pytest.mark.skipif(importlib.util.find_spec("marl_eval") is None,
                    reason="marl-eval not installed (id-marl-eval 0.0.4 pins pandas 1.4.4, beside our pandas < 3)")
def test_marl_evals_own_pipeline_reads_the_export() -> None:
    from marl_eval.utils.data_processing_utils import create_matrices_for_rliable, data_process_pipeline

    data = json.loads(marl_eval_json(_scores(), load_curves(synthetic_curves(seeds=4, qualities=("medium",)))))
    data["toy"]["toy_medium"]["omiga α=10 linear global"]["seed_3"] = data["toy"]["toy_medium"][
        "omiga α=10 linear global"]["seed_2"]  # marl-eval needs equal run counts
    processed = data_process_pipeline(raw_data=data, metrics_to_normalize=["return"])
    assert "extra" in processed
    matrices, _ = create_matrices_for_rliable(data_dictionary=processed, environment_name="toy",
                                              metrics_to_normalize=["return"])
    assert matrices["mean_norm_return"]["omiga α=1 linear global"].shape == (4, 1)
