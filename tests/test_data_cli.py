"""``python -m omiga datasets info | import | build`` through omiga.cli.main: exit codes and output."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from omiga import cli
from omiga.data import load_dataset


@pytest.fixture
def main(monkeypatch):
    """omiga.cli.main with only the datasets command registered (independent of the other commands)."""
    monkeypatch.setattr(cli, "COMMANDS", ("datasets",))
    return cli.main


def test_info_of_a_valid_dataset(main, discrete_dataset_file, capsys):
    assert main(["datasets", "info", str(discrete_dataset_file)]) == 0
    out = capsys.readouterr().out
    assert "obs           [31, 3, 4] float32" in out
    assert "avail_actions [31, 3, 5] bool" in out
    assert "task           synthetic" in out and "backend        synthetic\n" in out
    assert "steps 31, episodes 6 (length min 3 / mean 5.2 / max 8; 5 terminal, 1 truncated)" in out
    assert "coverage: 100.0% of the available (agent, action) pairs taken" in out
    assert "1 episodes per distinct start" in out and "I(a_i; a_j | cell)" in out
    assert out.rstrip().endswith("validation: OK")


def test_info_of_an_invalid_dataset(main, discrete_dataset_file, capsys):
    with h5py.File(discrete_dataset_file, "r+") as file:
        rewards = file["rewards"][()]
        rewards[3] = np.nan
        del file["rewards"]
        file["rewards"] = rewards
    assert main(["datasets", "info", str(discrete_dataset_file)]) == 1
    out = capsys.readouterr().out
    assert "validation: INVALID (1 problem)\n  - field 'rewards' has 1 NaN/inf values, the first at index [3]" in out


def test_info_of_a_corrupted_file_prints_one_error_line(main, tmp_path, capsys):
    (tmp_path / "cut.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20)
    assert main(["datasets", "info", str(tmp_path / "cut.h5")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cut.h5 is not a readable HDF5 dataset" in err
    assert "Traceback" not in err


def test_import_madt_needs_trust_pickle(main, tmp_path, capsys):
    episode = [[[np.zeros(2), [0.0], [0], [1.0], [True], [1] * 70]] for _ in range(2)]  # 2c_vs_64zg: 2 agents, 70 ids
    torch.save(episode, tmp_path / "ep0.pt")
    out = tmp_path / "out.h5"
    argv = ["datasets", "import", "--format", "madt", str(tmp_path / "ep0.pt"), "--task", "smac_2c_vs_64zg",
            "--out", str(out)]
    assert main(argv) == 2
    assert "pass --trust-pickle" in capsys.readouterr().err and not out.exists()
    assert main(argv + ["--trust-pickle", "--quality", "good"]) == 0
    assert f"imported {tmp_path / 'ep0.pt'} (madt) -> {out}" in capsys.readouterr().out
    data = load_dataset(out)
    assert (data.attrs.task, data.attrs.quality, data.attrs.source, len(data)) == ("smac_2c_vs_64zg", "good", "madt", 1)


def test_import_of_data_that_does_not_fit_the_task_is_refused_before_writing(main, tmp_path, capsys):
    episode = [[[np.zeros(2), [0.0], [0], [1.0], [True], [1, 1]]] for _ in range(2)]  # 2 agents, 2 action ids
    torch.save(episode, tmp_path / "ep0.pt")
    out = tmp_path / "out.h5"
    assert main(["datasets", "import", "--format", "madt", str(tmp_path / "ep0.pt"), "--task", "smac_corridor",
                 "--out", str(out), "--trust-pickle"]) == 2
    err = capsys.readouterr().err
    assert "does not fit task smac_corridor" in err and "agents: 2 in the data, 6 in smac_corridor's environment" in err
    assert "action ids: 2 in the data, 30 in smac_corridor's environment" in err and not out.exists()


def test_import_to_an_unknown_task_lists_tasks(main, tmp_path, capsys):
    assert main(["datasets", "import", "--format", "omiga-hdf5", str(tmp_path / "x.hdf5"), "--task", "nope",
                 "--out", str(tmp_path / "o.h5")]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_build_toy_into_the_cache_dir(main, tmp_path, capsys):
    argv = ["datasets", "build", "--task", "toy_coop", "--quality", "medium", "--episodes", "20", "--seed", "3",
            "--cache-dir", str(tmp_path)]
    assert main(argv) == 0
    path = tmp_path / "toy_coop" / "toy-medium.h5"
    assert f"built toy_coop / medium -> {path}" in capsys.readouterr().out
    data = load_dataset(path)
    assert (data.attrs.n_episodes, data.attrs.seed, data.attrs.source) == (20, 3, "built")


def test_info_of_a_file_without_backend_shows_the_inferred_one(main, discrete_dataset_file, capsys):
    with h5py.File(discrete_dataset_file, "r+") as file:
        del file.attrs["backend"]
        file.attrs["behavior"] = "scripted; backend smax, scenario corridor"
    assert main(["datasets", "info", str(discrete_dataset_file)]) == 0
    out = capsys.readouterr().out
    assert "backend        smax (not stored: inferred for a file written before it was)\n" in out
    assert out.rstrip().endswith("validation: OK")


def test_build_mamujoco_forwards_builder_options(main, tmp_path, capsys):
    out = tmp_path / "x.h5"
    argv = ["datasets", "build", "--task", "mamujoco_hopper_3x1", "--quality", "medium", "--episodes", "2",
            "--sac-steps", "60", "--max-episode-steps", "10", "--out", str(out)]
    assert main(argv) == 0
    assert f"built mamujoco_hopper_3x1 / medium -> {out} in " in capsys.readouterr().out
    data = load_dataset(out)
    assert (data.attrs.backend, data.attrs.n_episodes, data.attrs.seed) == ("mamujoco", 2, 0)
    assert "trained online by omiga for 60 steps, seed 0, episode cap 10" in data.attrs.behavior
    assert (np.diff(np.r_[-1, data.episode_ends]) <= 10).all()
    assert [p.name for p in (tmp_path / "behavior").iterdir()] == [
        "mamujoco_hopper_3x1_sac_seed0_steps60_cap10_h256x256.pt"]


def test_builder_options_a_task_does_not_take_are_refused(main, tmp_path, capfd):
    """capfd, not capsys: importing jaxmarl (the smax builder) rebinds sys.stderr, which capsys then misses."""
    argv = ["datasets", "build", "--task", "smac_corridor", "--quality", "good", "--episodes", "1",
            "--sac-steps", "200", "--out", str(tmp_path / "x.h5")]
    assert main(argv) == 2
    assert capfd.readouterr().err == ("error: option --sac-steps (sac_steps) does not apply to task "
                                      "'smac_corridor': its smax dataset builder takes only behavior, correlation, "
                                      "temperature\n")
    assert not (tmp_path / "x.h5").exists()


def test_behavior_checkpoint_argument_takes_a_path_or_roles(main, tmp_path, capsys, monkeypatch):
    from omiga import tasks

    seen = {}
    monkeypatch.setattr(tasks, "_load", lambda target, backend: lambda **kwargs: seen.update(kwargs))
    monkeypatch.setattr("omiga.commands.datasets.load_dataset", lambda path: None)
    monkeypatch.setattr("omiga.commands.datasets._summary", lambda dataset: "")
    base = ["datasets", "build", "--task", "mamujoco_hopper_3x1", "--out", str(tmp_path / "x.h5")]
    assert main(base + ["--quality", "expert", "--behavior-checkpoint", "e.pt"]) == 0
    assert seen["behavior_checkpoint"] == Path("e.pt") and "sac_steps" not in seen
    assert main(base + ["--quality", "medium-expert", "--behavior-checkpoint", "medium=m.pt,expert=e.pt"]) == 0
    assert seen["behavior_checkpoint"] == {"medium": Path("m.pt"), "expert": Path("e.pt")}
    with pytest.raises(SystemExit):
        main(base + ["--quality", "medium-expert", "--behavior-checkpoint", "medium=m.pt,expert"])
    assert "'expert' is not ROLE=PATH; write e.g. medium=m.pt,expert=e.pt" in capsys.readouterr().err
