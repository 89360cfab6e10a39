"""The MAPPO behaviour learner: masked sampling, GAE closed form, resume equals an uninterrupted run, and
checkpoint files that are missing, corrupt or made for other networks give one clear error."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from omiga.behaviour.checkpoint import load_tree, read_meta, save_tree
from omiga.behaviour.networks import Actor, masked_logits, with_agent_id
from omiga.behaviour.ppo import PPOConfig
from omiga.behaviour.train import BehaviourRun, snapshot_table, train_behaviour
from omiga.envs.smax import battles_for
from omiga.envs.smax_scenarios import get_scenario
from omiga.errors import ConfigError, DatasetError

TINY = PPOConfig(n_envs=4, rollout_steps=8, epochs=1, minibatches=2, hidden=8)


def test_agent_id_and_mask():
    x = jnp.zeros((2, 3, 4))
    ided = with_agent_id(x)
    assert ided.shape == (2, 3, 7)
    np.testing.assert_array_equal(ided[1, :, 4:], np.eye(3))
    avail = jnp.array([[True, False, True]])
    probs = jax.nn.softmax(masked_logits(jnp.zeros((1, 3)), avail))
    np.testing.assert_allclose(probs, [[0.5, 0.0, 0.5]], atol=1e-7)


def test_masked_actor_samples_only_available_actions():
    actor = Actor(n_actions=5, hidden=8)
    obs = jax.random.normal(jax.random.PRNGKey(0), (3, 6))
    avail = jnp.array([[True, False, False, False, True], [False, False, True, False, False],
                       [True, True, True, True, True]])
    params = actor.init(jax.random.PRNGKey(1), obs, avail)
    samples = jax.random.categorical(jax.random.PRNGKey(2), actor.apply(params, obs, avail), shape=(500, 3))
    taken = np.asarray(avail)[np.arange(3), np.asarray(samples)]
    assert taken.all() and set(np.asarray(samples[:, 1]).tolist()) == {2}


def test_config_is_validated():
    with pytest.raises(ConfigError, match="divisible"):
        PPOConfig(n_envs=3, rollout_steps=3, minibatches=2)
    with pytest.raises(ConfigError, match="n_envs"):
        PPOConfig(n_envs=0)


def test_resumed_training_equals_an_uninterrupted_run(tmp_path, capsys):
    """Two updates straight equal one update, a restart from latest.npz, and a second update (the battles are
    reset at a resume, so the second rollouts differ: compare the first update's files and the resume point)."""
    battles = battles_for(get_scenario("5m_vs_6m"))
    straight = train_behaviour(BehaviourRun(task="smac_5m_vs_6m", out_dir=tmp_path / "a", team_steps=64,
                                            snapshot_every=32, checkpoint_every=1), battles, TINY, progress=True)
    bar = capsys.readouterr().err  # the progress bar, with the checkpoint lines written through it
    assert "behaviour smac_5m_vs_6m: 100%" in bar and "64/64 team-steps  return" in bar
    first = train_behaviour(BehaviourRun(task="smac_5m_vs_6m", out_dir=tmp_path / "b", team_steps=32,
                                         snapshot_every=32, checkpoint_every=1), battles, TINY, log=lambda _: None)
    with np.load(first / "snapshots" / "step-000000032.npz") as a, \
            np.load(straight / "snapshots" / "step-000000032.npz") as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    logs = []
    train_behaviour(BehaviourRun(task="smac_5m_vs_6m", out_dir=tmp_path / "b", team_steps=64, snapshot_every=32,
                                 checkpoint_every=1), battles, TINY, log=logs.append)
    assert logs[0].startswith("resuming") and read_meta(first / "latest.npz")["team_steps"] == 64
    assert [row["team_steps"] for row in snapshot_table(first)] == [0, 32, 64]
    assert len((first / "history.csv").read_text().splitlines()) == 3  # header + one row per update
    with pytest.raises(ConfigError, match="seed"):
        train_behaviour(BehaviourRun(task="smac_5m_vs_6m", out_dir=tmp_path / "b", team_steps=96, seed=1),
                        battles, TINY, log=lambda _: None)


def test_checkpoint_round_trip_and_errors(tmp_path):
    tree = {"params": {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(3)}}
    path = save_tree(tmp_path / "c.npz", tree, {"task": "t"})
    loaded, meta = load_tree(path, tree)
    np.testing.assert_array_equal(loaded["params"]["w"], tree["params"]["w"])
    assert meta["task"] == "t"
    with pytest.raises(DatasetError, match="does not exist"):
        load_tree(tmp_path / "missing.npz", tree)
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match="unreadable"):
        load_tree(tmp_path / "bad.npz", tree)
    with pytest.raises(DatasetError, match="shape"):
        load_tree(path, {"params": {"w": np.zeros((3, 3)), "b": np.zeros(3)}})
    with pytest.raises(DatasetError, match="lacks"):
        load_tree(path, {"params": {"w": np.zeros((2, 3)), "other": np.zeros(3)}})
    np.savez(tmp_path / "plain.npz", w=np.zeros(1))
    with pytest.raises(DatasetError, match="header"):
        read_meta(Path(tmp_path / "plain.npz"))
