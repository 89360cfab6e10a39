"""Worker execution options (--device, --cuda-graph, --compile): checked before any work, handed to the trainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from studies.cli import build_parser, main
from studies.errors import StudyError
from studies.execution import Execution, execution_from_args
from studies.grid import enumerate_grid
from studies.plan import resolve_plan
from studies.presets import load_preset
from studies.runner import _train_config, population_dir
from studies.spec import load_spec

_RECORDING_TRAINER = (
    "import json, os\n"
    "from dataclasses import asdict\n"
    "from pathlib import Path\n"
    "from studies.runner import RunOutcome\n"
    "def train(plan, points, *, study_dir, execution):\n"
    "    with open(Path(study_dir).parent.parent / 'executions.jsonl', 'a') as out:\n"
    "        out.write(json.dumps({'pid': os.getpid(), **asdict(execution)}) + '\\n')\n"
    "    return [RunOutcome(status='ok', score=float(p.seed), win_rate=0.5, normalized_score=0.1,\n"
    "                       steps=plan.steps, run_dir='', curve_path='', member_index=i)\n"
    "            for i, p in enumerate(points)]\n")


def _plan(study: str = "global_info"):
    return resolve_plan(spec=load_spec(study), preset=load_preset("smoke"), task="toy_coop")


@pytest.mark.parametrize("workers", [1, 2])
def test_every_worker_hands_its_execution_options_to_the_trainer(tmp_path: Path, monkeypatch, workers):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the spawned workers import the trainer too
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "recording_trainer.py").write_text(_RECORDING_TRAINER)
    argv = ["run", "--task", "toy_coop", "--preset", "smoke", "--study", "global_info", "--compile",
            "--trainer", "recording_trainer:train", "--workers", str(workers)]
    assert main(argv) == 0
    records = [json.loads(line) for line in (tmp_path / "executions.jsonl").read_text().splitlines()]
    assert records and all(r["compile"] is True and r["device"] == "cpu" and r["cuda_graph"] is False
                           for r in records)
    if workers == 2:  # run in the spawned processes, not in this one
        assert all(r["pid"] != __import__("os").getpid() for r in records)


def test_execution_options_reach_the_train_config_but_not_the_run_directory(tmp_path: Path):
    plan = _plan()
    points = [p for p in enumerate_grid(plan) if p.method == "omiga"][:2]
    config = _train_config(plan, points[0], Execution(compile=True))
    assert config.compile is True and config.device == "cpu"
    assert _train_config(plan, points[0]).compile is False
    assert population_dir(tmp_path, plan, points).name == population_dir(tmp_path, plan, points).name


def test_execution_round_trips_through_the_worker_command_line():
    execution = Execution(device="cuda:1", cuda_graph=True)
    args = build_parser().parse_args(["worker", "--name", "x", *execution.to_argv()])
    assert execution_from_args(args) == execution
    assert execution_from_args(build_parser().parse_args(["worker", "--name", "x"])) == Execution()


def test_cuda_graph_with_a_baseline_in_the_study_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(StudyError, match=r"--cuda-graph supports the methods bc, omiga, but study "
                                         r"baselines-toy_coop-smoke also has .*cql.*drop --cuda-graph"):
        Execution(device="cuda", cuda_graph=True).check(_plan("baselines"))
    Execution(device="cuda", cuda_graph=True).check(_plan("global_info"))  # omiga and bc only: accepted


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_gpu_asked_for_where_torch_sees_none_stops_the_study_before_any_work(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--task", "toy_coop", "--preset", "smoke", "--device", "cuda"]) == 2
    assert "error: --device cuda: this torch build sees no CUDA GPU; use --device cpu" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
