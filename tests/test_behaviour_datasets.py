"""Datasets from the shipped MAPPO skill levels: the checkpoints load and act within the masks, each quality's
episodes lie in its return band, the files validate and repeat for a seed, mixtures are unions, and a missing or
corrupt checkpoint gives one clear error."""

from __future__ import annotations

import json
import shutil

import jax
import numpy as np
import pytest

from omiga.behaviour import manifest as manifest_module
from omiga.behaviour.manifest import load_manifest
from omiga.behaviour.policy import team_act
from omiga.data.io import load_dataset, validate_file
from omiga.envs.smax_scenarios import get_scenario
from omiga.errors import DatasetError, UnknownNameError
from omiga.tasks import build_dataset, make_vector_env

BANDS = {"poor": (-np.inf, 10.0), "medium": (10.0, 15.0), "good": (15.0, np.inf)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("learned")
    return {q: build_dataset("smac_corridor", quality=q, episodes=3, seed=2, path=root / f"{q}.h5")
            for q in ("poor", "medium", "good")}


@pytest.mark.parametrize(("task", "scenario", "agents"), [("smac_corridor", "corridor", 6), ("smac_5m_vs_6m", "5m_vs_6m", 5),
                                                         ("smac_6h_vs_8z", "6h_vs_8z", 6),
                                                         ("smac_2c_vs_64zg", "2c_vs_64zg", 2),
                                                         ("smac_protoss_10_vs_10", "protoss_10v10", 10)])
def test_shipped_levels_act_within_the_masks(task, scenario, agents):
    manifest = load_manifest(task)
    step = make_vector_env(task, n_envs=4, seed=0).reset(seed=0)
    compiled = team_act.cache_info().currsize
    for quality in ("poor", "medium", "good"):
        act, arrays = manifest.policy(quality).program(get_scenario(scenario))
        keys = jax.random.split(jax.random.PRNGKey(0), 4)
        actions = np.asarray(act(step.obs, step.avail_actions, keys, keys, arrays))
        assert actions.shape == (4, agents)
        assert np.take_along_axis(step.avail_actions, actions[..., None], axis=-1).all()
    assert team_act.cache_info().currsize == compiled + 1  # one compiled team step serves every level of the task


def test_each_quality_lies_in_its_band_and_validates(built):
    for quality, path in built.items():
        assert validate_file(path) == []
        data = load_dataset(path)
        low, high = BANDS[quality]
        returns = data.episode_returns
        assert returns.shape == (3,) and ((returns >= low) & (returns < high)).all(), (quality, returns)
        assert "smax-behavior-v3" in data.attrs.behavior and "step-" in data.attrs.behavior
        assert data.attrs.quality == quality


def test_same_seed_gives_the_same_file(built, tmp_path):
    again = load_dataset(build_dataset("smac_corridor", quality="medium", episodes=3, seed=2,
                                       path=tmp_path / "again.h5"))
    first = load_dataset(built["medium"])
    for name, value in first.arrays().items():
        np.testing.assert_array_equal(value, again.arrays()[name], err_msg=name)


def test_mixture_is_the_union_of_its_parts(tmp_path):
    data = load_dataset(build_dataset("smac_corridor", quality="good+poor", episodes=2, seed=0,
                                      path=tmp_path / "mix.h5"))
    returns = data.episode_returns
    assert returns.shape == (2,) and returns[0] >= 15.0 and returns[1] < 10.0
    assert "good:" in data.attrs.behavior and "poor:" in data.attrs.behavior
    with pytest.raises(UnknownNameError, match="'good\\+good'.*mixture joins distinct ones"):
        build_dataset("smac_corridor", quality="good+good", episodes=2, seed=0, path=tmp_path / "x.h5")


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    shutil.copytree(manifest_module.CHECKPOINT_ROOT / "smac_corridor", root / "smac_corridor")
    monkeypatch.setattr(manifest_module, "CHECKPOINT_ROOT", root)
    return root / "smac_corridor"


def test_missing_checkpoint_is_named(shipped_copy, tmp_path):
    (shipped_copy / "step-000000000.npz").unlink()
    with pytest.raises(DatasetError, match="step-000000000.npz does not exist"):
        build_dataset("smac_corridor", quality="poor", episodes=1, seed=0, path=tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_corrupt_checkpoint_is_caught_by_its_digest(shipped_copy, tmp_path):
    target = shipped_copy / "step-000040960.npz"  # replaced by another valid checkpoint: only the digest tells
    target.write_bytes((shipped_copy / "step-000081920.npz").read_bytes())
    with pytest.raises(DatasetError, match="changed since its manifest"):
        build_dataset("smac_corridor", quality="medium", episodes=1, seed=0, path=tmp_path / "x.h5")


def test_corrupt_manifest_says_how_to_restore(shipped_copy, tmp_path):
    manifest = json.loads((shipped_copy / "manifest.json").read_text())
    del manifest["qualities"]["good"]["band"]
    (shipped_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="git checkout"):
        build_dataset("smac_corridor", quality="good", episodes=1, seed=0, path=tmp_path / "x.h5")


def test_levels_only_picks_named_snapshots_and_refuses_unknown_ones(tmp_path):
    import argparse

    from omiga.behaviour.train import snapshot_table
    from omiga.commands import behaviour
    from omiga.errors import ConfigError

    (tmp_path / "snapshots").mkdir()
    for name in ("step-000081920.npz", "step-000163840.npz", "step-000245760.npz"):
        shutil.copy(manifest_module.CHECKPOINT_ROOT / "smac_6h_vs_8z" / name, tmp_path / "snapshots" / name)
    args = argparse.Namespace(task="smac_6h_vs_8z", run=tmp_path, episodes=1, every=2, seed=0,
                              only=["step-000245760", "step-000081920"])
    chosen = behaviour._chosen_snapshots(args, snapshot_table(tmp_path), stem=lambda e: e["file"][:-4])
    assert [e["file"] for e in chosen] == ["step-000081920.npz", "step-000245760.npz"]  # training order
    args.only = None
    assert len(behaviour._chosen_snapshots(args, snapshot_table(tmp_path), stem=lambda e: e["file"])) == 2
    args.only = ["step-000000001"]
    with pytest.raises(ConfigError, match="--only names step-000000001, not a snapshot of .*step-000081920"):
        behaviour.run_levels(args)
