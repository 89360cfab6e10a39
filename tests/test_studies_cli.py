"""``python -m studies``: user errors print one ``error:`` line and exit 2; storage URLs are masked."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from omiga.errors import BackendUnavailableError
from studies.cli import main
from studies.export import SCORE_COLUMNS
from studies.storage import dashboard_command, mask_url, open_storage


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--task", "nope"], "unknown task 'nope'; known tasks: "),
    (["run", "--task", "toy_coop", "--preset", "fast"], "unknown preset 'fast'; known presets: paper, quick, smoke"),
    (["run", "--task", "toy_coop", "--preset", "paper", "--seeds", "2"],
     "--seeds 2 conflicts with preset 'paper', which needs at least 5 seeds"),
    (["run", "--task", "toy_coop", "--qualities", "expert"], "task toy_coop has no dataset quality 'expert'"),
    (["run"], "study 'headline' names no task; pass --task (e.g. --task smac_corridor)"),
    (["run", "--task", "toy_coop", "--workers", "2", "--storage", "sqlite:///x.db"],
     "SQLite cannot be shared by several workers"),
    (["run", "--task", "toy_coop", "--storage", "postgresql://me:hunter2@127.0.0.1:1/db"],
     "cannot connect to storage postgresql"),
    (["run", "--task", "toy_coop", "--trainer", "no_such_module:train"], "--trainer 'no_such_module:train' cannot"),
    (["export", "--name", "missing-study"], "no study 'missing-study' under "),
    (["run", "--task", "toy_coop", "--lease", "5"], "--lease 5 must be at least 3 x --heartbeat 10"),
])
def test_user_errors_exit_2_with_one_line(argv, message, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1 and "Traceback" not in err
    assert "hunter2" not in err
    if "hunter2" in " ".join(argv):
        assert "://me:***@127.0.0.1:1/db (" in err


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="unknown task 'nope'"):
        main(["--debug", "run", "--task", "nope"])


def test_storage_urls_are_masked_and_drivers_named():
    assert mask_url("postgresql://user:s3cr:et@db.host:5432/omiga") == "postgresql://user:***@db.host:5432/omiga"
    assert mask_url("postgresql://user@host/db") == "postgresql://user@host/db"
    assert dashboard_command(url="postgresql://u:p@h/d", study_dir=Path("x")) == (
        "optuna-dashboard postgresql://u:***@h/d --artifact-dir x/artifacts")
    assert dashboard_command(url=None, study_dir=Path("results/s")) == (
        "optuna-dashboard results/s/optuna-journal.log --artifact-dir results/s/artifacts")
    with pytest.raises(BackendUnavailableError, match=re.escape(
            "storage mysql://u:***@h/db needs a database driver; install it with: pip install mysqlclient")):
        open_storage(url="mysql://u:pw@h/db", study_dir=Path("."))


def test_run_then_export_by_name_and_by_spec(closed_form_study: tuple[list[str], Path], capsys):
    argv, study_dir = closed_form_study
    csv_path = study_dir / "scores.csv"
    first = pd.read_csv(csv_path)
    assert tuple(first.columns) == SCORE_COLUMNS and list(first["score"]) == [0.0, 1.0, 0.0, 1.0]
    assert list(first["win_rate"]) == [0.5] * 4
    csv_path.unlink()
    assert main(["export", *argv]) == 0
    assert main(["export", "--name", "global_info-toy_coop-smoke"]) == 0
    assert f"scores: {Path('results/global_info-toy_coop-smoke/scores.csv')}" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(csv_path), first)
