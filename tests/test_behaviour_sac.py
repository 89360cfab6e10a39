"""The JAX SAC behaviour learner: the exported actor equals the torch one, resume equals an uninterrupted run,
and a shipped run (levels, ship, build) gives valid datasets of every quality; damaged shipped files give one
clear error."""

from __future__ import annotations

import dataclasses
import json

import jax.numpy as jnp
import numpy as np
import pytest
import torch

from omiga.behaviour import manifest as manifest_module
from omiga.behaviour.sac.config import SACConfig
from omiga.behaviour.sac.train import train_sac
from omiga.behaviour.sac.update import actor_state_dict, deterministic_action, params_from_torch, sample_action
from omiga.data.behavior_mamujoco import TanhGaussianActor
from omiga.data.build_mamujoco import build_mamujoco_dataset
from omiga.data.io import load_dataset, validate_file
from omiga.envs.mamujoco import MaMuJoCoConfig
from omiga.errors import ConfigError, DatasetError

TASK = "mamujoco_hopper_3x1"
CAP = 20
ENV = MaMuJoCoConfig(scenario="Hopper", agent_conf="3x1", max_episode_steps=CAP)
TINY = SACConfig(total_steps=90, start_steps=30, batch_size=16, hidden=(16,), snapshot_every=30, eval_episodes=2)


def test_the_jax_actor_is_the_torch_actor():
    torch.manual_seed(0)
    actor = TanhGaussianActor(5, 3, (8, 8))
    params = params_from_torch(actor)
    state = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    with torch.no_grad():
        expected, _ = actor.sample(torch.from_numpy(state), deterministic=True)
        mean, log_std = actor(torch.from_numpy(state))
    np.testing.assert_allclose(np.asarray(deterministic_action(params, jnp.asarray(state))), expected.numpy(),
                               rtol=1e-5, atol=1e-6)
    # the sampled action's log-probability is the torch actor's formula at the same pre-tanh point
    action, log_prob = sample_action(params, jnp.asarray(state), __import__("jax").random.PRNGKey(0))
    u = torch.from_numpy(np.arctanh(np.clip(np.asarray(action, np.float64), -1 + 1e-7, 1 - 1e-7)).astype(np.float32))
    normal = torch.distributions.Normal(mean, log_std.exp())
    reference = (normal.log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
    np.testing.assert_allclose(np.asarray(log_prob), reference.numpy(), rtol=1e-3, atol=1e-3)
    exported = actor_state_dict(params)
    assert all(torch.equal(exported[k], v) for k, v in actor.state_dict().items())


@pytest.fixture(scope="module")
def whole():
    return train_sac(env_config=ENV, config=TINY, seed=0, description="tiny")


def test_resumed_training_equals_an_uninterrupted_run(whole, tmp_path):
    run = tmp_path / "run"
    train_sac(env_config=ENV, config=dataclasses.replace(TINY, total_steps=50), seed=0, description="tiny",
              out_dir=run, checkpoint_every=30)
    resumed = train_sac(env_config=ENV, config=TINY, seed=0, description="tiny", out_dir=run)
    for key, value in whole.replay.items():
        np.testing.assert_array_equal(value, resumed.replay[key], err_msg=key)
    ours = {step: (score, actor) for step, score, actor in resumed.snapshots}
    assert sorted(ours) == [30, 50, 60, 90]  # the interrupted session's last step is a snapshot too
    for step, score, actor in whole.snapshots:
        assert ours[step][0] == score
        assert all(torch.equal(actor[k], ours[step][1][k]) for k in actor)
    with pytest.raises(ConfigError, match="another config"):
        train_sac(env_config=ENV, config=dataclasses.replace(TINY, lr=1e-3), seed=0, description="tiny", out_dir=run)
    with pytest.raises(ConfigError, match="more than the"):
        train_sac(env_config=ENV, config=dataclasses.replace(TINY, total_steps=40), seed=0, description="tiny",
                  out_dir=run)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny run trained, measured and shipped into a temporary checkpoint root."""
    from omiga.commands import behaviour

    run = tmp_path / "run"
    train_sac(env_config=ENV, config=TINY, seed=0, description="tiny", out_dir=run)
    monkeypatch.setattr(manifest_module, "CHECKPOINT_ROOT", tmp_path / "checkpoints")
    import argparse

    levels = argparse.Namespace(task=TASK, run=run, episodes=2, every=1, seed=1, only=["step-000000030",
                                                                                     "step-000000090"])
    assert behaviour._sac_levels(levels) == 0
    ship = argparse.Namespace(task=TASK, run=run, quality=["expert=step-000000090", "medium=step-000000060"],
                              command="tiny test run")
    assert behaviour.run_ship(ship) == 0
    return tmp_path / "checkpoints" / TASK


def test_levels_and_ship_write_the_manifest(shipped):
    manifest = json.loads((shipped / "manifest.json").read_text())
    assert manifest["learner"] == "sac"
    assert manifest["levels"]["expert"]["step"] == 90 and manifest["levels"]["medium"]["step"] == 60
    assert manifest["medium_replay"]["steps"] == 60 and manifest["medium_replay"]["max_episode_steps"] == CAP
    assert manifest["random"]["episodes"] == 2  # the uniform policy is measured first
    assert sorted(p.name for p in shipped.iterdir()) == ["expert.pt", "manifest.json", "medium-replay-actions.npz",
                                                         "medium.pt"]


@pytest.mark.parametrize("quality", ["expert", "medium-expert", "medium-replay"])
def test_datasets_build_from_the_shipped_run(shipped, quality, tmp_path):
    path = build_mamujoco_dataset(task=TASK, quality=quality, episodes=3, seed=0, path=tmp_path / "d.h5",
                                  max_episode_steps=CAP)
    assert validate_file(path) == []
    data = load_dataset(path)
    assert "shipped SAC" in data.attrs.behavior or "shipped actions" in data.attrs.behavior
    if quality == "medium-replay":  # the run's own first transitions, rebuilt from the shipped actions
        run = np.load(shipped.parent.parent / "run" / "replay.npz")
        steps = len(data.rewards)
        np.testing.assert_array_equal(data.rewards, run["rewards"][:steps])
        np.testing.assert_array_equal(data.state, run["state"][:steps])
    again = build_mamujoco_dataset(task=TASK, quality=quality, episodes=3, seed=0, path=tmp_path / "e.h5",
                                   max_episode_steps=CAP)
    np.testing.assert_array_equal(load_dataset(again).actions, data.actions)


def test_damaged_shipped_files_give_one_clear_error(shipped, tmp_path):
    def build(quality="expert"):
        return build_mamujoco_dataset(task=TASK, quality=quality, episodes=1, seed=0, path=tmp_path / "x.h5",
                                      max_episode_steps=CAP)

    (shipped / "expert.pt").write_bytes((shipped / "medium.pt").read_bytes())
    with pytest.raises(DatasetError, match="changed since its manifest"):
        build()
    (shipped / "expert.pt").unlink()
    with pytest.raises(DatasetError, match="expert.pt is missing"):
        build()
    with pytest.raises(DatasetError, match="recorded with 20-step episodes"):
        build_mamujoco_dataset(task=TASK, quality="medium-replay", episodes=1, seed=0, path=tmp_path / "x.h5")
    manifest = json.loads((shipped / "manifest.json").read_text())
    manifest["medium_replay"]["rewards_sha256"] = "0" * 16
    (shipped / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="did not reproduce the recorded rewards"):
        build("medium-replay")
    del manifest["medium_replay"]
    (shipped / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="git checkout"):
        build("medium")
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("task", ["mamujoco_hopper_3x1", "mamujoco_halfcheetah_6x1"])
def test_the_shipped_actors_load_act_and_build(task, tmp_path):
    from omiga.behaviour.sac.shipped import has_shipped_sac, load_shipped_sac
    from omiga.envs.mamujoco import MaMuJoCoVectorEnv, mamujoco_config_for_task, mamujoco_sizes

    assert has_shipped_sac(task)
    shipped = load_shipped_sac(task)
    env = MaMuJoCoVectorEnv(config=mamujoco_config_for_task(task, max_episode_steps=CAP), n_envs=2)
    step = env.reset(seed=0)
    for role in ("expert", "medium"):
        actions = shipped.policy(role, mamujoco_sizes(env.config)).act(obs=step.obs, state=step.state)
        assert actions.shape == (2, env.n_agents, env.act_dim) and np.abs(actions).max() <= 1.0
    env.close()
    assert shipped.levels["expert"]["return_mean"] > 2 * shipped.levels["medium"]["return_mean"] > 0
    path = build_mamujoco_dataset(task=task, quality="medium-expert", episodes=2, seed=0, path=tmp_path / "d.h5",
                                  max_episode_steps=CAP)
    assert validate_file(path) == [] and load_dataset(path).attrs.n_episodes == 2
