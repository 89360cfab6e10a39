"""Kill a study process mid-run (SIGKILL), run the same command again: the same scores as an uninterrupted
run, every point complete once, and the killed trials failed as stale and retried from their checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

COMMAND = [sys.executable, "-m", "studies", "run", "--task", "toy_coop", "--preset", "smoke", "--study",
           "global_info", "--steps", "150"]


def _run(results: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([*COMMAND, "--results-dir", str(results)], check=False, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def _load_study(results: Path) -> optuna.Study:
    (study_dir,) = results.iterdir()
    backend = optuna.storages.journal.JournalFileBackend(str(study_dir / "optuna-journal.log"))
    return optuna.load_study(study_name=study_dir.name, storage=optuna.storages.JournalStorage(backend))


@pytest.mark.slow
def test_killed_study_resumes_to_the_same_scores(tmp_path: Path):
    env = {**os.environ, "OMIGA_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    _run(tmp_path / "uninterrupted", env)
    (expected_csv,) = (tmp_path / "uninterrupted").glob("*/scores.csv")

    killed = tmp_path / "killed"
    process = subprocess.Popen([*COMMAND, "--results-dir", str(killed)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(killed.glob("*/runs/*/*/*/checkpoint.pt")):
        assert process.poll() is None and time.monotonic() < deadline, "the study ended before a checkpoint"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    study = _load_study(killed)
    running = study.get_trials(states=(TrialState.RUNNING,))
    assert running, "the kill should land while the population trains"
    assert not list(killed.glob("*/scores.csv"))

    rerun = _run(killed, env)
    assert "left running by a stopped worker" in rerun.stdout
    study = _load_study(killed)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    stale = study.get_trials(states=(TrialState.FAIL,))
    assert len(complete) == 4 and len({t.user_attrs["point"] for t in complete}) == 4
    assert sorted(t.number for t in stale) == sorted(t.number for t in running)
    assert all(t.user_attrs["reason"].startswith("stale: worker ") for t in stale)
    assert len(list(killed.glob("*/runs/*/*/*/checkpoint.pt"))) == 1  # the retry reused the killed run's dir
    (resumed_csv,) = killed.glob("*/scores.csv")
    pd.testing.assert_frame_equal(pd.read_csv(resumed_csv), pd.read_csv(expected_csv))
