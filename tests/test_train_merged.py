"""Merged populations: members of one population training on different datasets of the same shapes."""

from __future__ import annotations

import json

import pytest
import torch

from omiga.checkpoint import load_checkpoint
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.data import make_synthetic_dataset
from omiga.errors import ConfigError
from omiga.train import train_population
from omiga.trainer import PopulationTrainer


def _dataset(*, seed: int, n_episodes: int, obs_dim: int = 4):
    return make_synthetic_dataset(n_episodes=n_episodes, episode_length=8, min_episode_length=3, n_agents=3,
                                  obs_dim=obs_dim, state_dim=6, n_actions=5, seed=seed)


@pytest.fixture
def two_datasets():
    """Two datasets of the same shapes but other lengths and contents (as two qualities of one task)."""
    return _dataset(seed=0, n_episodes=6), _dataset(seed=9, n_episodes=4)


def _config(**overrides) -> TrainConfig:
    values = {"steps": 60, "batch_size": 8, "mixer": "qmix", "reward_to_go": True,
              "network": NetworkConfig(hidden=16, mixer_hidden=4), **overrides}
    return TrainConfig(**values)


def _trained(datasets, config: TrainConfig, members) -> PopulationTrainer:
    trainer = PopulationTrainer(datasets, config=config, members=members)
    for _ in range(config.steps):
        trainer.train_step()
    return trainer


def _member_params(trainer: PopulationTrainer, member: int) -> dict[str, torch.Tensor]:
    return {name: value[member] for name, value in trainer.nets.state_dict().items()}


@pytest.mark.parametrize("method", ["omiga", "cql"])
def test_a_member_of_a_merged_population_equals_a_solo_run_on_its_own_dataset(two_datasets, method):
    members = [MemberConfig(seed=1, alpha=1.0, dataset=0), MemberConfig(seed=1, alpha=1.0, dataset=1),
               MemberConfig(seed=2, alpha=3.0, dataset=0)]
    config = _config(method=method)
    merged = _trained(two_datasets, config, members)
    for index, member in enumerate(members):
        solo = _trained(two_datasets[member.dataset], config, [MemberConfig(seed=member.seed, alpha=member.alpha)])
        for name, value in _member_params(solo, 0).items():
            assert torch.allclose(_member_params(merged, index)[name], value, rtol=1e-4, atol=1e-5), (index, name)
        assert torch.allclose(merged.last_losses[index], solo.last_losses[0], rtol=1e-4, atol=1e-5)
    # the same seed on the other dataset trains to other parameters: the index really selects the data
    assert not torch.allclose(_member_params(merged, 0)["q.head.weight"], _member_params(merged, 1)["q.head.weight"])


def test_a_merged_population_resumes_bitwise(two_datasets, tmp_path):
    members = [MemberConfig(seed=0, alpha=1.0, dataset=1), MemberConfig(seed=3, alpha=4.0, dataset=0)]
    config = _config(steps=30, checkpoint_every=10, eval_every=20)

    class Stop(Exception):
        pass

    def evaluate(interrupt: bool):
        def scores(policy, step):
            if interrupt and step == 20:
                raise Stop
            return [type("Score", (), {"mean_return": float(step), "win_rate": None})()] * policy.n_members
        return scores

    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train_population(two_datasets, config=config, members=members, out_dir=whole, evaluate=evaluate(False))
    with pytest.raises(Stop):
        train_population(two_datasets, config=config, members=members, out_dir=resumed, evaluate=evaluate(True))
    assert load_checkpoint(resumed / "checkpoint.pt")["trainer"]["step"] == 10
    train_population(two_datasets, config=config, members=members, out_dir=resumed, evaluate=evaluate(False))
    final_whole, final_resumed = (load_checkpoint(d / "checkpoint.pt")["trainer"] for d in (whole, resumed))
    for name, value in final_whole["nets"].items():
        assert torch.equal(value, final_resumed["nets"][name]), name
    provenance = json.loads((whole / "result.json").read_text())["provenance"]
    assert len({d["sha256_arrays"] for d in provenance["datasets"]}) == 2
    assert [m["dataset"] for m in provenance["members"]] == [1, 0]


def test_datasets_of_other_shapes_are_refused(two_datasets):
    other = _dataset(seed=0, n_episodes=4, obs_dim=7)
    with pytest.raises(ConfigError, match="must share their shapes"):
        PopulationTrainer([two_datasets[0], other], config=_config(), members=[MemberConfig(seed=0, alpha=1.0)])


def test_a_member_dataset_index_out_of_range_is_refused(two_datasets):
    with pytest.raises(ConfigError, match="out of range for 2 dataset"):
        PopulationTrainer(two_datasets, config=_config(), members=[MemberConfig(seed=0, alpha=1.0, dataset=2)])
    with pytest.raises(ConfigError, match="MemberConfig.dataset must be an integer >= 0"):
        MemberConfig(seed=0, alpha=1.0, dataset=-1)
