"""Learning-curve bands from the curves table: IQM over runs per step, CIs from rliable's bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rliable import metrics as rly_metrics

from analysis import ScoresTableError
from analysis.curves import CURVE_BAND_COLUMNS, learning_curve_bands, load_curves


def synthetic_curves(*, seeds: int = 4, steps: tuple[int, ...] = (0, 10, 20), tasks: tuple[str, ...] = ("toy",),
                     qualities: tuple[str, ...] = ("medium", "poor")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for task in tasks:
        for quality in qualities:
            for alpha in (1.0, 10.0):
                for seed in range(seeds):
                    for step in steps:
                        score = step / 10 + alpha / 10 + rng.normal(0, 0.1)
                        rows.append({"task": task, "backend": "toy", "quality": quality, "method": "omiga",
                                     "alpha": alpha, "mixer": "linear", "global_info": "true", "seed": seed,
                                     "status": "ok", "step": step, "score": score, "win_rate": np.nan,
                                     "normalized_score": score / 5})
    return pd.DataFrame(rows)


def test_bands_are_the_iqm_over_runs_at_every_step_and_bracket_it() -> None:
    frame = synthetic_curves()
    bands = learning_curve_bands(load_curves(frame), reps=100)
    assert tuple(bands.columns) == CURVE_BAND_COLUMNS
    assert len(bands) == 2 * 2 * 3 and set(bands["value"]) == {"score"} and set(bands["n_runs"]) == {4}
    row = bands.loc[(bands["quality"] == "poor") & (bands["group"] == "omiga α=10 linear global")
                    & (bands["step"] == 20)].iloc[0]
    runs = frame.loc[(frame["quality"] == "poor") & (frame["alpha"] == 10.0) & (frame["step"] == 20), "score"]
    assert row["estimate"] == pytest.approx(rly_metrics.aggregate_iqm(runs.to_numpy()[:, None]))
    assert (bands["ci_low"] <= bands["estimate"] + 1e-12).all() and (bands["estimate"] <= bands["ci_high"] + 1e-12).all()


def test_only_steps_every_run_evaluated_and_ok_runs_are_used() -> None:
    frame = synthetic_curves(qualities=("medium",), tasks=("a", "b"))
    frame = frame.loc[~((frame["seed"] == 0) & (frame["step"] == 20) & (frame["task"] == "a"))]
    frame.loc[frame["seed"] == 3, "status"] = "diverged"
    bands = learning_curve_bands(load_curves(frame), reps=50)
    assert sorted(set(bands["step"])) == [0, 10]
    assert set(bands["n_runs"]) == {3} and set(bands["value"]) == {"normalized_score"}


def test_a_curves_table_without_its_columns_is_named() -> None:
    with pytest.raises(ScoresTableError, match="curves table lacks column\\(s\\) step"):
        load_curves(synthetic_curves().drop(columns=["step"]))
