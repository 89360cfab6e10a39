"""The trial queue, workers, stale-trial recovery and export, driven by a trivial closed-form trainer."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from optuna.trial import TrialState

from studies.errors import StudyError
from studies.export import SCORE_COLUMNS
from studies.grid import GridPoint, enumerate_grid
from studies.plan import Overrides, resolve_plan
from studies.presets import load_preset
from studies.queue import Heartbeat, claim_population, enqueue_grid, reap_stale_trials
from studies.runner import RunOutcome, build_missing_datasets, dataset_file, population_dir, train_points
from studies.session import open_plan_study, run_study, trial_counts
from studies.spec import load_spec, parse_spec
from studies.worker import run_worker


def closed_form_score(point: GridPoint) -> float:
    return 10.0 * point.seed + (point.alpha or 0.0) + (0.5 if point.global_info else 0.0) + len(point.mixer or "")


class FakeTrainer:
    """Records every population it trains; scores are `closed_form_score`; α = 666 diverges."""

    def __init__(self, fail: bool = False):
        self.calls: list[list[GridPoint]] = []
        self.fail = fail

    def __call__(self, plan, points, *, study_dir, execution=None):
        self.calls.append(list(points))
        if self.fail:
            raise RuntimeError("trainer exploded")
        outcomes = []
        for index, point in enumerate(points):
            diverged = point.alpha == 666.0
            score = None if diverged else closed_form_score(point)
            outcomes.append(RunOutcome(status="diverged" if diverged else "ok", score=score, win_rate=None,
                                       normalized_score=score, steps=plan.steps, run_dir=str(study_dir),
                                       curve_path=str(study_dir / "result.json"), member_index=index,
                                       reason="loss/q is nan" if diverged else None))
        return outcomes


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))


def _plan(study="ablation", **overrides):
    return resolve_plan(spec=load_spec(study), preset=load_preset("smoke"), task="toy_coop",
                        overrides=Overrides(**overrides))


def test_run_exports_every_point_once_and_rerun_resumes(tmp_path: Path):
    plan = _plan()
    trainer = FakeTrainer()
    csv_path = run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=trainer, log=lambda _: None)
    points = enumerate_grid(plan)
    trained = [p for call in trainer.calls for p in call]
    assert sorted(p.key for p in trained) == sorted(p.key for p in points)
    assert all(len({p.population for p in call}) == 1 for call in trainer.calls)
    assert len(trainer.calls) == len({p.population for p in points})  # one population per shape
    frame = pd.read_csv(csv_path)
    assert tuple(frame.columns) == SCORE_COLUMNS and len(frame) == len(points)
    assert set(frame["status"]) == {"ok"} and set(frame["backend"]) == {"toy"}
    by_key = {GridPoint.from_params({k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))
                                     and k in ("task", "quality", "method", "alpha", "mixer", "global_info", "seed")}
                                    ).key: row["score"] for row in frame.to_dict("records")}
    assert by_key == pytest.approx({p.key: closed_form_score(p) for p in points})
    _assert_each_trial_has_its_result_attached(tmp_path, plan, len(points))

    bc = frame[frame["method"] == "bc"]
    assert len(bc) == plan.seeds and bc[["alpha", "mixer", "global_info"]].isna().all().all()
    parquet = pd.read_parquet(csv_path.with_suffix(".parquet"))
    assert list(parquet.columns) == list(SCORE_COLUMNS) and len(parquet) == len(frame)
    assert not list(csv_path.parent.glob(".*tmp"))
    # the same command again trains nothing and adds no trial
    again = FakeTrainer()
    run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=again, log=lambda _: None)
    assert again.calls == []
    study = open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    assert trial_counts(study) == {"complete": len(points)}
    assert pd.read_csv(csv_path).equals(frame)


def test_diverged_runs_are_reported_and_not_retried(tmp_path: Path):
    spec = parse_spec({"factors": {"alpha": [1.0, 666.0]}}, name="diverge")
    plan = resolve_plan(spec=spec, preset=load_preset("smoke"), task="toy_coop")
    trainer = FakeTrainer()
    frame = pd.read_csv(run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=trainer,
                                  log=lambda _: None))
    diverged = frame[frame["alpha"] == 666.0]
    assert set(diverged["status"]) == {"diverged"} and diverged["score"].isna().all()
    again = FakeTrainer()
    run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=again, log=lambda _: None)
    assert again.calls == []


def test_trainer_exception_fails_population_and_rerun_retries_it(tmp_path: Path):
    plan = _plan(study="global_info")
    with pytest.raises(RuntimeError, match="trainer exploded"):
        run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=FakeTrainer(fail=True),
                  log=lambda _: None)
    study = open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    failed = study.get_trials(states=(TrialState.FAIL,))
    assert failed and all("trainer exploded" in t.user_attrs["reason"] for t in failed)
    trainer = FakeTrainer()
    frame = pd.read_csv(run_study(plan=plan, storage_url=None, results_dir=tmp_path, train=trainer,
                                  log=lambda _: None))
    assert set(frame["status"]) == {"ok"} and len(frame) == len(enumerate_grid(plan))


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_running_trials_are_failed_reenqueued_and_finished(tmp_path: Path):
    plan = _plan(study="mixer")
    study = open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    enqueue_grid(study, plan)
    claimed = claim_population(study, plan)
    assert claimed and {t.state for t in study.get_trials()} == {TrialState.WAITING, TrialState.RUNNING}
    dead = claimed[0].trial
    dead.set_user_attr("pid", _dead_pid())  # its worker process is gone
    remote = claimed[1].trial
    remote.set_user_attr("host", "elsewhere")
    remote.set_user_attr("heartbeat", time.time() - 1000)  # a remote worker that stopped beating
    assert reap_stale_trials(study, lease_s=3600) == [dead.number]
    assert reap_stale_trials(study, lease_s=60) == [remote.number]
    for item in claimed[2:]:
        item.trial.set_user_attr("pid", _dead_pid())
    trainer = FakeTrainer()
    run_worker(study=study, plan=plan, study_dir=tmp_path / plan.study_name, train=trainer, lease_s=60,
               log=lambda _: None)
    counts = trial_counts(study)
    points = enumerate_grid(plan)
    assert counts == {"complete": len(points), "fail": len(claimed)}
    stale = study.get_trials(states=(TrialState.FAIL,))
    assert all(t.user_attrs["reason"].startswith("stale: ") for t in stale)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(t.user_attrs["point"] for t in complete) == sorted(p.key for p in points)


def test_a_point_enqueued_twice_runs_once(tmp_path: Path):
    plan = _plan(study="global_info")
    study = open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    enqueue_grid(study, plan)
    first = study.get_trials(states=(TrialState.WAITING,))[0]  # as a racing second coordinator would
    study.enqueue_trial(first.system_attrs["fixed_params"], user_attrs=dict(first.user_attrs))
    trainer = FakeTrainer()
    run_worker(study=study, plan=plan, study_dir=tmp_path, train=trainer, log=lambda _: None)
    trained = [p.key for call in trainer.calls for p in call]
    assert len(trained) == len(set(trained)) == len(enumerate_grid(plan))
    assert trial_counts(study) == {"complete": len(trained), "duplicate": 1}


def test_a_study_cannot_be_reopened_with_a_different_plan(tmp_path: Path):
    plan = _plan()
    open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    changed = type(plan)(**{**plan.__dict__, "eval_episodes": 99})
    with pytest.raises(StudyError, match=re.escape(
            f"study '{plan.study_name}' in {tmp_path / plan.study_name / 'optuna-journal.log'} was created from a "
            "different plan (differs in eval_episodes); delete")):
        open_plan_study(plan=changed, storage_url=None, results_dir=tmp_path)


def test_heartbeat_keeps_a_live_trial_out_of_the_reaper(tmp_path: Path):
    plan = _plan(study="global_info")
    study = open_plan_study(plan=plan, storage_url=None, results_dir=tmp_path)
    enqueue_grid(study, plan)
    claimed = claim_population(study, plan)
    first = claimed[0]
    first.trial.set_user_attr("heartbeat", time.time() - 100)  # as if the last beat was long ago
    with Heartbeat(study, [first.trial._trial_id], interval_s=0.05):
        time.sleep(0.4)
        beat = study.get_trials()[first.trial.number].user_attrs["heartbeat"]
        assert time.time() - beat < 1.0
        assert reap_stale_trials(study, lease_s=5) == []
    time.sleep(0.01)  # once the beats stop, a short enough lease expires
    assert reap_stale_trials(study, lease_s=0.005) == sorted(item.trial.number for item in claimed)


def test_run_dirs_are_named_from_the_config_not_the_clock(tmp_path: Path):
    plan = _plan(study="global_info")
    points = enumerate_grid(plan)
    first = population_dir(tmp_path, plan, points)
    assert first == population_dir(tmp_path, plan, list(points))
    assert first.parent == tmp_path / "runs" / "medium" / "omiga-linear"
    assert population_dir(tmp_path, plan, points[:2]) != first  # another member list: another checkpoint
    assert dataset_file(plan, "medium").parent.parent.name == f"episodes-{plan.dataset_episodes}"


def test_train_points_trains_the_qualities_of_one_shape_as_one_population(tmp_path: Path):
    plan = _plan(qualities=("good", "poor"), seeds=2, steps=10)
    build_missing_datasets(plan, log=lambda _: None)
    points = [p for p in enumerate_grid(plan) if p.method == "bc"]
    assert {p.quality for p in points} == {"good", "poor"} and len({p.population for p in points}) == 1
    outcomes = train_points(plan, points, study_dir=tmp_path / "study")
    assert [o.config["dataset"] for o in outcomes] == [str(dataset_file(plan, p.quality)) for p in points]
    assert [o.config["member"]["dataset"] for o in outcomes] == [plan.qualities.index(p.quality) for p in points]
    (run_dir,) = {o.run_dir for o in outcomes}
    assert Path(run_dir).parent.parent.name == "good+poor"
    saved = json.loads(Path(outcomes[0].curve_path).read_text())
    assert [d["quality"] for d in saved["provenance"]["datasets"]] == ["good", "poor"]
    assert all([p["step"] for p in m["eval_curve"]] == [2, 4, 6, 8, 10] for m in saved["members"])  # 5 points


def test_a_study_logs_its_training_rate_evaluation_share_and_stage_times(tmp_path: Path):
    plan = _plan(study="global_info", qualities=("good", "poor"), seeds=1, steps=6)
    lines: list[str] = []
    run_study(plan=plan, storage_url=None, results_dir=tmp_path, log=lines.append)
    n_runs = len(enumerate_grid(plan))
    (training,) = [line for line in lines if line.startswith("training: ")]
    match = re.fullmatch(r"training: (\d+) runs, (\d+) member-steps in ([\d.]+) s = ([\d.]+) member-steps/s; "
                         r"evaluation ([\d.]+) s = ([\d.]+)% of training \+ evaluation"
                         r"(; peak memory (\d+) MB)?", training)
    assert match, training
    from studies.memory import reset_peak_rss

    assert (match[7] is not None) == reset_peak_rss()  # a peak wherever this platform can measure one
    assert match[8] is None or int(match[8]) > 0
    assert (int(match[1]), int(match[2])) == (n_runs, n_runs * plan.steps)
    steps, seconds = int(match[2]), float(match[3])  # seconds rounded to 0.1
    assert steps / (seconds + 0.05) <= float(match[4]) <= steps / max(seconds - 0.05, 1e-9)
    assert 0 < float(match[6]) < 100
    assert re.fullmatch(r"wall time: datasets [\d.]+ s, training [\d.]+ s, export [\d.]+ s", lines[-1])
    again: list[str] = []  # a rerun trains nothing, and says so
    run_study(plan=plan, storage_url=None, results_dir=tmp_path, log=again.append)
    assert "training: no run trained in this call" in again


def _assert_each_trial_has_its_result_attached(results_dir: Path, plan, n_trials: int) -> None:
    """optuna-dashboard --artifact-dir shows a JSON file per trial; read it back through Optuna's artifact API."""
    from optuna.artifacts import FileSystemArtifactStore, download_artifact, get_all_artifact_meta

    study_dir = results_dir / plan.study_name
    study = open_plan_study(plan=plan, storage_url=None, results_dir=results_dir)
    store = FileSystemArtifactStore(str(study_dir / "artifacts"))
    trials = [t for t in study.get_trials() if t.state == TrialState.COMPLETE]
    assert len(trials) == n_trials
    for trial in trials[:3]:
        (meta,) = get_all_artifact_meta(trial, storage=study._storage)
        assert meta.filename == f"trial-{trial.number:05d}.json" and meta.mimetype == "application/json"
        target = study_dir / f"downloaded-{trial.number}.json"
        download_artifact(artifact_store=store, file_path=str(target), artifact_id=meta.artifact_id)
        content = json.loads(target.read_text())
        assert content["trial"] == trial.number and content["score"] == pytest.approx(trial.value)
