"""Several worker processes on one storage (journal file; PostgreSQL when reachable) share the grid.

The workers run a closed-form stand-in trainer (``--trainer``) that sleeps briefly, so the test measures the
queue, not the trainer; tests/test_studies_resume.py drives the real trainer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from studies.grid import enumerate_grid
from studies.plan import resolve_plan
from studies.presets import load_preset
from studies.spec import load_spec

FAKE_TRAINER = textwrap.dedent('''
    import time
    from studies.runner import RunOutcome

    def train(plan, points, *, study_dir, execution=None):
        time.sleep(1.0)  # long enough that both workers are up before the queue drains
        return [RunOutcome(status="ok", score=10.0 * p.seed + (p.alpha or 0.0), win_rate=None,
                           normalized_score=0.0, steps=plan.steps, run_dir=str(study_dir), curve_path="",
                           member_index=i) for i, p in enumerate(points)]
''')


@pytest.fixture
def fake_trainer_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "fake_population_trainer.py").write_text(FAKE_TRAINER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "OMIGA_DATA_DIR": str(tmp_path / "data")}


def _run_two_workers(tmp_path: Path, env: dict[str, str], storage: list[str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "studies", "run", "--task", "toy_coop", "--preset", "smoke", "--study",
               "ablation", "--workers", "2", "--results-dir", str(tmp_path / "results"),
               "--trainer", "fake_population_trainer:train", *storage]
    return subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=240)


def _check_shared_grid(study: optuna.Study, csv_path: Path) -> None:
    plan = resolve_plan(spec=load_spec("ablation"), preset=load_preset("smoke"), task="toy_coop")
    points = enumerate_grid(plan)
    trials = study.get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(trials) == len(complete) == len(points)  # nothing failed, nothing ran twice
    assert sorted(t.user_attrs["point"] for t in complete) == sorted(p.key for p in points)
    workers = {t.user_attrs["worker"] for t in complete}
    assert len(workers) == 2, workers  # both workers took part
    frame = pd.read_csv(csv_path)
    assert len(frame) == len(points) and set(frame["status"]) == {"ok"}


def test_two_local_workers_share_one_journal(tmp_path: Path, fake_trainer_env):
    done = _run_two_workers(tmp_path, fake_trainer_env, [])
    assert done.returncode == 0, done.stderr
    study_dir = tmp_path / "results" / "ablation-toy_coop-smoke"
    assert f"optuna-dashboard {study_dir / 'optuna-journal.log'}" in done.stdout
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(study_dir / "optuna-journal.log")))
    _check_shared_grid(optuna.load_study(study_name="ablation-toy_coop-smoke", storage=storage),
                       study_dir / "scores.csv")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_share_one_postgres_study(tmp_path: Path, fake_trainer_env, postgres_url: str):
    url = postgres_url
    from studies.storage import open_storage

    storage = open_storage(url=url, study_dir=tmp_path)
    name = "ablation-toy_coop-smoke"
    if name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        optuna.delete_study(study_name=name, storage=storage)
    done = _run_two_workers(tmp_path, fake_trainer_env, ["--storage", url])
    assert done.returncode == 0, done.stderr
    password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
    if password:
        assert f":{password}@" not in done.stdout + done.stderr and ":***@" in done.stdout
    _check_shared_grid(optuna.load_study(study_name=name, storage=storage),
                       tmp_path / "results" / name / "scores.csv")
