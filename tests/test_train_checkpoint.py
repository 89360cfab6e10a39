"""Checkpoints: resuming an interrupted run gives bitwise the final parameters of an uninterrupted one."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from omiga.checkpoint import load_checkpoint, save_checkpoint
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError
from omiga.train import train_population

MEMBERS = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=3, alpha=4.0, global_info=False)]
PER_PARAMETER_CHECKPOINT = Path(__file__).parent / "data" / "checkpoint_per_parameter_adam.pt"
"""Written at step 10 of ``_config()`` with ``MEMBERS`` on ``continuous_dataset`` by the trainer of commit a362517,
whose Adam kept one state per parameter tensor (before :mod:`omiga.flat`)."""



@dataclass(frozen=True)
class _Score:
    mean_return: float
    win_rate: float | None = None


class _Interrupted(Exception):
    pass


def _config(**overrides) -> TrainConfig:
    values = {"steps": 30, "batch_size": 8, "checkpoint_every": 10, "eval_every": 10, "mixer": "qmix",
              "network": NetworkConfig(hidden=16, mixer_hidden=4), **overrides}
    return TrainConfig(**values)


def _evaluate(interrupt_at: int | None = None):
    def evaluate(policy, step):
        if step == interrupt_at:
            raise _Interrupted
        return [_Score(mean_return=float(step)) for _ in range(policy.n_members)]
    return evaluate


def train_whole_and_resumed(dataset, config: TrainConfig, tmp_path, members=MEMBERS) -> tuple[dict, dict]:
    """Train ``config`` uninterrupted and interrupted at step 20 then resumed; the two final trainer states."""
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train_population(dataset, config=config, members=members, out_dir=whole, evaluate=_evaluate())
    with pytest.raises(_Interrupted):
        train_population(dataset, config=config, members=members, out_dir=resumed, evaluate=_evaluate(interrupt_at=20))
    train_population(dataset, config=config, members=members, out_dir=resumed, evaluate=_evaluate())
    final_whole, final_resumed = (load_checkpoint(d / "checkpoint.pt")["trainer"] for d in (whole, resumed))
    assert final_whole["step"] == final_resumed["step"] == config.steps
    return final_whole, final_resumed


def test_resumed_run_equals_uninterrupted_run_bitwise(continuous_dataset, tmp_path):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train_population(continuous_dataset, config=_config(), members=MEMBERS, out_dir=whole, evaluate=_evaluate())
    with pytest.raises(_Interrupted):
        train_population(continuous_dataset, config=_config(), members=MEMBERS, out_dir=resumed,
                         evaluate=_evaluate(interrupt_at=20))
    assert load_checkpoint(resumed / "checkpoint.pt")["trainer"]["step"] == 10
    train_population(continuous_dataset, config=_config(), members=MEMBERS, out_dir=resumed, evaluate=_evaluate())
    final_whole, final_resumed = (load_checkpoint(d / "checkpoint.pt")["trainer"] for d in (whole, resumed))
    assert final_whole["step"] == final_resumed["step"] == 30
    for name, value in final_whole["nets"].items():
        assert torch.equal(value, final_resumed["nets"][name]), name
    for key in ("exp_avg", "exp_avg_sq"):
        for index, state in final_whole["optimizer"]["state"].items():
            assert torch.equal(state[key], final_resumed["optimizer"]["state"][index][key])
    members_whole, members_resumed = (json.loads((d / "result.json").read_text())["members"]
                                      for d in (whole, resumed))
    assert members_whole == members_resumed
    assert [p["step"] for p in members_resumed[0]["eval_curve"]] == [10, 20, 30]


def test_a_checkpoint_written_before_flat_parameters_resumes(continuous_dataset, tmp_path):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    resumed.mkdir()
    shutil.copy(PER_PARAMETER_CHECKPOINT, resumed / "checkpoint.pt")
    train_population(continuous_dataset, config=_config(), members=MEMBERS, out_dir=whole, evaluate=_evaluate())
    train_population(continuous_dataset, config=_config(), members=MEMBERS, out_dir=resumed, evaluate=_evaluate())
    final_whole, final_resumed = (load_checkpoint(d / "checkpoint.pt")["trainer"] for d in (whole, resumed))
    assert final_resumed["step"] == 30
    # the same numbers up to the rounding of the clipping norm (summed per parameter then, per buffer now)
    for name, value in final_whole["nets"].items():
        torch.testing.assert_close(final_resumed["nets"][name], value, rtol=1e-5, atol=1e-6, msg=name)
    saved_whole, saved_resumed = final_whole["optimizer"]["state"], final_resumed["optimizer"]["state"]
    legacy = load_checkpoint(PER_PARAMETER_CHECKPOINT)["trainer"]["optimizer"]
    assert len(saved_whole) == len(saved_resumed) == len(legacy["state"]) == 28  # still one entry per parameter
    assert saved_whole.keys() == legacy["state"].keys()
    for index, state in saved_whole.items():
        assert saved_resumed[index]["step"].item() == state["step"].item() == 30
        assert state["exp_avg"].shape == legacy["state"][index]["exp_avg"].shape
        torch.testing.assert_close(saved_resumed[index]["exp_avg"], state["exp_avg"], rtol=1e-4, atol=1e-7)


def test_a_checkpoint_of_another_config_is_refused(discrete_dataset, tmp_path):
    train_population(discrete_dataset, config=_config(steps=10, eval_every=0), members=MEMBERS, out_dir=tmp_path)
    with pytest.raises(ConfigError, match="was written by a different config or member list; use a fresh --out"):
        train_population(discrete_dataset, config=_config(steps=10, eval_every=0, lr=1e-3), members=MEMBERS,
                         out_dir=tmp_path)


def _assert_extending_a_equals_training_b_afresh(dataset, tmp_path) -> None:
    """Extend the run in tmp_path/a to 20 steps, train tmp_path/b for 20 from scratch: equal parameters."""
    for run in ("a", "b"):
        train_population(dataset, config=_config(steps=20, eval_every=0), members=MEMBERS, out_dir=tmp_path / run)
    a, b = (load_checkpoint(tmp_path / d / "checkpoint.pt")["trainer"]["nets"] for d in ("a", "b"))
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_training_can_be_extended_from_a_finished_checkpoint(discrete_dataset, tmp_path):
    train_population(discrete_dataset, config=_config(steps=10, eval_every=0), members=MEMBERS, out_dir=tmp_path / "a")
    _assert_extending_a_equals_training_b_afresh(discrete_dataset, tmp_path)


def test_checkpoint_loads_with_weights_only(discrete_dataset, tmp_path):
    train_population(discrete_dataset, config=_config(steps=10, eval_every=0), members=MEMBERS, out_dir=tmp_path)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["members"][1] == {"seed": 3, "alpha": 4.0, "global_info": False, "dataset": 0}
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp file


def test_a_checkpoint_written_before_a_config_field_existed_still_resumes(discrete_dataset, tmp_path):
    train_population(discrete_dataset, config=_config(steps=10, eval_every=0), members=MEMBERS, out_dir=tmp_path / "a")
    state = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    del state["config"]["cuda_graph"]  # as written before TrainConfig.cuda_graph was added
    save_checkpoint(state, tmp_path / "a" / "checkpoint.pt")
    _assert_extending_a_equals_training_b_afresh(discrete_dataset, tmp_path)
