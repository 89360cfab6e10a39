"""Learning-curve frames on hand-made curves whose shapes are known: IQM bands, the last-fifth flatness check and
best against last."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from rliable import metrics as rly_metrics
from scipy import stats

from analysis import ScoresTableError
from analysis.curves import (
    BEST_LAST_COLUMNS,
    CONVERGENCE_COLUMNS,
    CURVE_BAND_COLUMNS,
    FLATNESS_COLUMNS,
    best_versus_last,
    convergence_summary,
    last_fraction_flatness,
    learning_curve_bands,
    load_curves,
)

STEPS = (100, 200, 300, 400, 500)
JITTER = (-0.01, 0.004, -0.003, 0.008, 0.0, -0.006)
SHAPES = {1.0: (0.2, 0.5, 0.7, 0.8, 0.8),    # converged: flat over the last fifth
          3.0: (0.1, 0.2, 0.3, 0.4, 0.6),    # still rising
          10.0: (0.3, 0.6, 0.9, 0.7, 0.5)}   # peaks at step 300, then falls


def curves_table(*, seeds: int = 6) -> pd.DataFrame:
    rows = []
    for alpha, shape in SHAPES.items():
        for seed in range(seeds):
            for step, level in zip(STEPS, shape, strict=True):
                normalized = level + JITTER[seed]
                rows.append({"task": "smac_corridor", "backend": "smax", "quality": "good+poor", "method": "omiga",
                             "alpha": alpha, "mixer": "linear", "global_info": True, "seed": seed, "status": "ok",
                             "step": step, "score": 20 * normalized, "win_rate": 0.0,
                             "normalized_score": normalized})
    diverged = dict(rows[0], seed=99, status="diverged", score=np.nan, normalized_score=np.nan)
    return pd.DataFrame([*rows, diverged])


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    path = tmp_path_factory.mktemp("curves") / "curves.csv"
    curves_table().to_csv(path, index=False)
    return load_curves(path)


def test_curves_read_back_with_the_scores_tables_labels_and_without_runs_that_are_not_ok(curves) -> None:
    assert set(curves["group"]) == {"omiga α=1 linear global", "omiga α=3 linear global", "omiga α=10 linear global"}
    assert set(curves["seed"]) == set(range(6)) and len(curves) == 3 * 6 * 5


def test_bands_are_the_iqm_over_runs_at_each_step_with_a_ci_around_it(curves) -> None:
    bands = learning_curve_bands(curves, reps=300)  # one task: the band is of the raw score (20 × normalised)
    assert list(bands.columns) == list(CURVE_BAND_COLUMNS) and len(bands) == 15 and set(bands["value"]) == {"score"}
    bands = bands.assign(iqm=bands["estimate"] / 20, ci_low=bands["ci_low"] / 20, ci_high=bands["ci_high"] / 20)
    row = bands.loc[(bands["group"] == "omiga α=3 linear global") & (bands["step"] == 500)].iloc[0]
    assert row["iqm"] == pytest.approx(stats.trim_mean([0.6 + j for j in JITTER], 0.25))
    assert row["n_runs"] == 6 and row["ci_low"] <= row["iqm"] <= row["ci_high"]
    assert (bands["ci_high"] - bands["ci_low"] < 0.03).all()


def test_last_fifth_is_flat_rising_or_falling_as_the_curves_were_drawn(curves) -> None:
    frame = last_fraction_flatness(curves, reps=300)
    assert list(frame.columns) == list(FLATNESS_COLUMNS)
    flat = frame.set_index("group")
    assert flat["trend"].to_dict() == {"omiga α=1 linear global": "flat", "omiga α=10 linear global": "falling",
                                       "omiga α=3 linear global": "rising"}
    assert (flat["start_step"] == 400).all() and (flat["end_step"] == 500).all()
    assert flat.loc["omiga α=3 linear global", "change"] == pytest.approx(0.2)
    wide = last_fraction_flatness(curves, margin=0.3, reps=300).set_index("group")
    assert wide.loc["omiga α=3 linear global", "trend"] == "flat"  # a rise of 0.2 is flat within ±0.3
    early = last_fraction_flatness(curves, fraction=0.5, reps=300).set_index("group")
    assert (early["start_step"] == 200).all()  # the last point at or before half of training


def test_best_versus_last_finds_the_peak_and_the_gap(curves) -> None:
    frame = best_versus_last(curves, column="normalized_score", reps=300)
    assert list(frame.columns) == list(BEST_LAST_COLUMNS)
    table = frame.set_index("group")
    peaked = table.loc["omiga α=10 linear global"]
    assert (peaked["best_step"], peaked["gap"]) == (300, pytest.approx(0.4))
    assert peaked["gap_low"] > 0.35
    assert table.loc["omiga α=3 linear global", "gap"] == pytest.approx(0.0)
    assert table.loc["omiga α=3 linear global", "best_step"] == 500


def test_the_convergence_summary_puts_both_checks_side_by_side_best_final_first(curves) -> None:
    from reports.convergence import render_convergence_html, render_convergence_markdown

    summary = convergence_summary(curves, reps=300)
    assert list(summary.columns) == list(CONVERGENCE_COLUMNS)
    assert list(summary["group"]) == ["omiga α=1 linear global", "omiga α=3 linear global",
                                      "omiga α=10 linear global"]  # final IQMs 0.8, 0.6, 0.5
    assert list(summary["trend"]) == ["flat", "rising", "falling"]
    assert list(summary["best_step"]) == [400, 500, 300]  # α=1 peaks at 400 (0.8 = 0.8, the first maximum)
    assert summary["gap"].to_numpy() == pytest.approx([0.0, 0.0, 20 * 0.4])  # raw score: 20 × normalised
    text = render_convergence_markdown(summary)
    assert "of 3 configurations × qualities: 1 flat, 1 rising, 1 falling" in text
    row = next(line for line in text.splitlines() if "α=10" in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:6] == ["smac_corridor", "good+poor", "omiga α=10 linear global", "6", "9.97", "18.0"]
    assert cells[6:] == ["8.00 [8.00, 8.00]", "300", "-0.20 [-0.20, -0.20]", "falling"]
    page = render_convergence_html(summary)
    assert page.count("<tr>") == 4 and '<table id="convergence">' in page
    assert "cannot be judged" in render_convergence_markdown(summary.iloc[:0])


def test_a_curves_table_without_a_required_column_is_refused() -> None:
    with pytest.raises(ScoresTableError, match=re.escape("curves table lacks column(s) step: it needs")):
        load_curves(curves_table().drop(columns=["step"]))
    twice = curves_table()
    with pytest.raises(ScoresTableError, match="has step 100 twice"):
        load_curves(pd.concat([twice, twice.iloc[:1]]))


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
