"""``python -m reports build``: renders a table from disk; bad input is `error: ...` and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from test_analysis_scores import synthetic_scores

from reports.cli import main


@pytest.fixture
def scores_csv(tmp_path):
    path = tmp_path / "scores.csv"
    synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 1.0, False): 0.5}, seeds=3).to_csv(path, index=False)
    return path


def test_build_writes_the_report_with_claims_from_toml(scores_csv, tmp_path, capsys) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text('[[claims]]\nkind = "improves"\na = {global_info = true}\nb = {global_info = false}\n')
    out = tmp_path / "out"
    assert main(["build", "--scores", str(scores_csv), "--out", str(out), "--claims", str(claims),
                 "--reps", "200", "--seed", "3"]) == 0
    assert "open" in capsys.readouterr().out
    verdicts = pd.read_csv(out / "claims.csv")
    assert verdicts["verdict"].tolist() == ["supported"]
    assert (out / "index.html").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--scores", "missing.csv"], "does not exist: pass the path of a scores.csv or .parquet"),
    (["--reps", "3"], "--reps 3 is too small: use at least 10"),
    (["--claims", "nope.toml"], "claims file nope.toml does not exist"),
])
def test_bad_input_exits_2_with_one_error_line(scores_csv, tmp_path, capsys, args, message) -> None:
    argv = ["build", "--scores", str(scores_csv), "--out", str(tmp_path / "out"), *args]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m reports: error: ") and message in err
    assert "Traceback" not in err


def test_bad_claim_in_toml_is_reported_without_traceback(scores_csv, tmp_path, capsys) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text('[[claims]]\nkind = "outperforms"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--scores", str(scores_csv), "--out", str(tmp_path / "o"), "--claims", str(claims)])
    assert exit_info.value.code == 2
    assert "error: claim 1: claim kind 'outperforms' is unknown: use one of beats, improves, ranks, sensitivity, robust" in capsys.readouterr().err


def test_module_entry_point_runs_as_a_subprocess(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "reports", "build", "--scores", str(tmp_path / "x.csv"),
                             "--out", str(tmp_path / "o")], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "error: scores table" in result.stderr and "Traceback" not in result.stderr
