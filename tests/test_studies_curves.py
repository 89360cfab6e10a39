"""Learning curves: a small study evaluates each run at its preset's evaluation points, and curves.csv reads back
with the scores table's identifying columns, its last point equal to the run's final score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omiga.tasks import normalized_score
from studies.plan import Overrides, resolve_plan
from studies.presets import load_preset
from studies.session import run_study
from studies.spec import load_spec


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("curves")
    patch = pytest.MonkeyPatch()
    patch.setenv("OMIGA_DATA_DIR", str(root / "data"))
    try:
        plan = resolve_plan(spec=load_spec("global_info"), preset=load_preset("smoke"), task="toy_coop",
                            overrides=Overrides(seeds=2))
        scores_csv = run_study(plan=plan, storage_url=None, results_dir=root / "results", log=lambda _: None)
    finally:
        patch.undo()
    return plan, scores_csv


def test_every_run_is_evaluated_at_the_presets_points_and_its_curve_reads_back(study) -> None:
    plan, scores_csv = study
    scores = pd.read_csv(scores_csv)
    curves = pd.read_csv(Path(scores_csv).with_name("curves.csv"))
    identity = ["task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed", "status"]
    assert list(curves.columns) == identity + ["step", "score", "win_rate", "normalized_score"]
    steps, _, eval_every = plan.schedule()
    assert plan.eval_points == 5 and eval_every == steps // 5
    per_run = curves.groupby(identity, dropna=False)
    assert per_run.ngroups == len(scores) == 4
    assert all(list(run["step"]) == list(range(eval_every, steps + 1, eval_every)) for _, run in per_run)
    last = curves.loc[curves["step"] == steps].merge(scores, on=identity, suffixes=("", "_final"))
    assert len(last) == len(scores)
    np.testing.assert_allclose(last["score"], last["score_final"])
    np.testing.assert_allclose(last["normalized_score"], [normalized_score("toy_coop", s) for s in last["score"]])


def test_the_curves_earlier_points_use_their_own_episodes_and_the_final_score_the_full_ones(tmp_path, monkeypatch):
    import dataclasses

    import omiga.evaluate

    from studies.errors import StudyError

    preset = dataclasses.replace(load_preset("smoke"), curve_eval_episodes=2)
    plan = resolve_plan(spec=load_spec("global_info"), preset=preset, task="toy_coop", overrides=Overrides(seeds=1))
    assert (plan.eval_episodes, plan.curve_eval_episodes) == (4, 2)
    assert [plan.episodes_at(step, 40) for step in (8, 32, 40)] == [2, 2, 4]
    assert plan.to_dict()["curve_eval_episodes"] == 2 and "curve_eval_episodes" not in resolve_plan(
        spec=load_spec("global_info"), preset=load_preset("smoke"), task="toy_coop").to_dict()
    fewer = resolve_plan(spec=load_spec("global_info"), preset=preset, task="toy_coop",
                         overrides=Overrides(seeds=1, eval_episodes=1))
    assert fewer.curve_eval_episodes == 1  # never more than the final evaluation's episodes
    with pytest.raises(StudyError, match=r"curve_eval_episodes must lie in 1..eval_episodes \(4\), got 5"):
        dataclasses.replace(plan, curve_eval_episodes=5)
    asked = []
    evaluate = omiga.evaluate.evaluate_population

    def recording(policy, **options):
        asked.append(options["episodes"])
        return evaluate(policy, **options)

    monkeypatch.setattr(omiga.evaluate, "evaluate_population", recording)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    scores = pd.read_csv(run_study(plan=plan, storage_url=None, results_dir=tmp_path / "results",
                                   log=lambda _: None))
    assert len(scores) == 2 and asked == [2, 2, 2, 2, 4]  # one population: four curve points, then the final
