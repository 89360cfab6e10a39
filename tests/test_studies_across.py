"""A multi-task study's tasks side by side (studies/across.py, reports/across_tasks.py): each task's claim rows
with its BC and chosen-OMIGA IQMs and training rate, the power law of the rate against agents (closed form), and the
files written."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from studies.across import ACROSS_COLUMNS, TaskOutcome, across_tasks_table, write_across_tasks
from studies.memory import peak_rss_mb, reset_peak_rss
from studies.timing import TrainingTime, training_time

CLAIM = "method=omiga mixer=linear beats each baseline (bc)"


def _report(directory, task: str, *, difference: float, bc: float, omiga: float):
    directory.mkdir(parents=True)
    pd.DataFrame([{"name": f"{CLAIM} on medium", "kind": "beats", "verdict": "supported", "statistic": "iqm",
                   "estimate": difference, "ci_low": difference / 2, "ci_high": difference * 2, "scope": "medium"},
                  {"name": f"{CLAIM} on every quality", "kind": "beats", "verdict": "supported", "statistic": "iqm",
                   "estimate": difference, "ci_low": difference / 2, "ci_high": difference * 2, "scope": "all"}]
                 ).to_csv(directory / "claims.csv", index=False)
    pd.DataFrame([{"task": task, "quality": "medium", "group": "bc", "metric": "iqm", "estimate": bc},
                  {"task": task, "quality": "medium", "group": "bc", "metric": "mean", "estimate": -1.0},
                  {"task": task, "quality": "medium", "group": "omiga α=1 linear global", "metric": "iqm",
                   "estimate": omiga},
                  {"task": task, "quality": "medium", "group": "omiga α=3 linear global", "metric": "iqm",
                   "estimate": 0.99}]).to_csv(directory / "estimates.csv", index=False)
    pd.DataFrame([{"task": task, "quality": "medium", "method": "omiga", "setting": "omiga α=1 linear global",
                   "n_settings": 2}]).to_csv(directory / "tuned_settings.csv", index=False)
    return directory


@pytest.fixture
def outcomes(tmp_path):
    # rates 100 and 25 member-steps/s at 5 and 10 agents: rate = c n^-2 exactly
    return [TaskOutcome(task="big", n_agents=10, qualities=("medium",),
                        report_dir=_report(tmp_path / "big", "big", difference=0.1, bc=0.4, omiga=0.5),
                        timing=TrainingTime(runs=4, member_steps=1000, train_s=40.0, eval_s=10.0, peak_rss_mb=400.0)),
            TaskOutcome(task="small", n_agents=5, qualities=("medium",),
                        report_dir=_report(tmp_path / "small", "small", difference=0.2, bc=0.6, omiga=0.8),
                        timing=TrainingTime(runs=4, member_steps=1000, train_s=10.0, eval_s=0.0, peak_rss_mb=100.0))]


def test_rows_join_claims_scores_and_cost(outcomes):
    table = across_tasks_table(outcomes)
    assert list(table.columns) == list(ACROSS_COLUMNS)
    assert list(table["task"]) == ["small", "small", "big", "big"]  # ordered by agents
    medium = table[(table["task"] == "small") & (table["quality"] == "medium")].iloc[0]
    assert (medium.bc_iqm, medium.omiga_iqm, medium.omiga_setting) == (0.6, 0.8, "omiga α=1 linear global")
    assert medium.member_steps_per_s == 100.0 and medium.eval_share == 0.0
    every = table[(table["task"] == "big") & (table["quality"] == "all")].iloc[0]
    assert math.isnan(every.bc_iqm) and every.member_steps_per_s == 25.0 and every.eval_share == 0.2


def test_files_and_the_fitted_exponent(outcomes, tmp_path):
    markdown = write_across_tasks(outcomes, out_dir=tmp_path / "across", title="scaling")
    fits = pd.read_csv(tmp_path / "across" / "fits.csv")
    assert list(fits["measure"]) == ["member_steps_per_s", "peak_rss_mb"]
    assert fits.loc[0, "exponent"] == pytest.approx(-2.0) and fits.loc[0, "prefactor"] == pytest.approx(2500.0)
    assert fits.loc[1, "exponent"] == pytest.approx(2.0) and fits.loc[1, "prefactor"] == pytest.approx(4.0)
    assert len(pd.read_csv(tmp_path / "across" / "across_tasks.csv")) == 4
    text = markdown.read_text()
    assert "# scaling: the tasks side by side" in text
    assert "| 5        | small  | medium    | supported | 0.20 [0.10, 0.40]   | 0.60     | 0.80 (omiga α=1 linear global)" in text
    assert "member_steps_per_s ∝ n^-2.00" in text and "on 2 tasks" in text and "peak_rss_mb ∝ n^2.00" in text


def test_a_measure_without_two_agent_counts_is_not_fitted(outcomes, tmp_path):
    unmeasured = [dataclasses.replace(o, timing=dataclasses.replace(o.timing, peak_rss_mb=float("nan")))
                  for o in outcomes]
    write_across_tasks(unmeasured, out_dir=tmp_path / "y", title="t")
    assert list(pd.read_csv(tmp_path / "y" / "fits.csv")["measure"]) == ["member_steps_per_s"]


def test_training_time_keeps_the_largest_population_peak():
    from types import SimpleNamespace

    from optuna.trial import TrialState

    trials = [SimpleNamespace(state=TrialState.COMPLETE, datetime_complete=None,
                              user_attrs={"timing": {"steps": 10, "train_s": 1.0, "eval_s": 0.0, **extra}})
              for extra in ({"peak_rss_mb": 300.0}, {"peak_rss_mb": 120.0}, {})]
    summed = training_time(trials)
    assert (summed.runs, summed.member_steps, summed.peak_rss_mb) == (3, 30, 300.0)
    assert math.isnan(training_time(trials[2:]).peak_rss_mb)


@pytest.mark.skipif(not reset_peak_rss(), reason="no resettable peak RSS here (Linux /proc/self/clear_refs)")
def test_peak_rss_is_reset_per_population():
    import numpy as np

    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    high = peak_rss_mb()
    del block
    assert reset_peak_rss()
    low = peak_rss_mb()
    assert high - low > 48  # the freed block's pages no longer count once the peak is reset


def test_one_agent_count_fits_nothing(outcomes, tmp_path):
    same = [TaskOutcome(task=o.task, n_agents=5, qualities=o.qualities, report_dir=o.report_dir, timing=o.timing)
            for o in outcomes]
    text = write_across_tasks(same, out_dir=tmp_path / "x", title="t").read_text()
    assert "No power law was fitted" in text
