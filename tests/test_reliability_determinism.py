"""Determinism on the CPU: the same seeds give byte-identical scores.csv across two runs of a study and across a
run interrupted after its first checkpoint and resumed (the real trainer on toy_coop, smoke preset, in-process).

tests/test_studies_resume.py kills a study process with SIGKILL and compares the resumed table with an
uninterrupted one; here the comparison is of the bytes, so not even the last digit of a score may move.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import omiga.train
from studies.cli import main

ARGV = ["run", "--task", "toy_coop", "--preset", "smoke", "--study", "global_info"]
STUDY = "global_info-toy_coop-smoke"


def _run(results: Path) -> bytes:
    assert main([*ARGV, "--results-dir", str(results)]) == 0
    return (results / STUDY / "scores.csv").read_bytes()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_two_runs_and_a_resumed_run_give_identical_score_bytes(tmp_path: Path, data_dir, monkeypatch, capsys):
    first = _run(tmp_path / "first")
    second = _run(tmp_path / "second")
    assert first == second
    assert first.count(b",ok\n") == 4  # four scored runs, not four empty rows

    saved = omiga.train.save_checkpoint
    calls = []

    def interrupt_after_first_checkpoint(payload, path):
        saved(payload, path)
        calls.append(path)
        raise KeyboardInterrupt  # the worker stops right after its first checkpoint (preemption)
    monkeypatch.setattr(omiga.train, "save_checkpoint", interrupt_after_first_checkpoint)
    resumed_dir = tmp_path / "resumed"
    assert main([*ARGV, "--results-dir", str(resumed_dir)]) == 130
    assert len(calls) == 1 and not (resumed_dir / STUDY / "scores.csv").exists()
    monkeypatch.setattr(omiga.train, "save_checkpoint", saved)
    assert _run(resumed_dir) == first
    (checkpoint,) = resumed_dir.glob(f"{STUDY}/runs/*/*/*/checkpoint.pt")
    assert checkpoint == calls[0]  # the retry trained on in the interrupted run's directory
