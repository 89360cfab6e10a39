"""MaMuJoCo dataset builder: smoke builds on real MuJoCo (tiny SAC budget, short episodes) and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omiga.data import behavior_mamujoco, build_mamujoco
from omiga.data.behavior_mamujoco import (
    BehaviorPolicy,
    SACConfig,
    load_behavior_checkpoint,
    save_behavior_checkpoint,
)
from omiga.data.build_mamujoco import build_mamujoco_dataset, collect_episodes
from omiga.data.io import load_dataset
from omiga.envs.mamujoco import MaMuJoCoVectorEnv, mamujoco_config_for_task
from omiga.errors import ConfigError, UnknownNameError

TASK = "mamujoco_hopper_3x1"  # 3 agents, local obs 9 (padded), state 11, 1 action each
TINY_SAC = SACConfig(total_steps=60, start_steps=40, batch_size=16, hidden=(16,), snapshot_every=30, eval_episodes=1)
CAP = 15


def _policy(kind: str = "shared", seed: int = 0) -> BehaviorPolicy:
    return BehaviorPolicy.initialize(kind=kind, hidden=(8, 8), n_agents=3, obs_dim=9, state_dim=11, act_dim=1,
                                     seed=seed, description=f"random-init {kind} actor")


def test_smoke_build_is_schema_valid_and_deterministic_for_a_seed(tmp_path):
    paths = [build_mamujoco_dataset(task=TASK, quality="medium", episodes=2, seed=3, path=tmp_path / f"{i}.h5",
                                    sac=TINY_SAC, max_episode_steps=CAP, cache_dir=tmp_path / f"cache{i}")
             for i in range(2)]
    first, second = (load_dataset(p) for p in paths)
    assert first.attrs.n_episodes == 2 and first.attrs.source == "built" and first.attrs.seed == 3
    assert (first.attrs.task, first.attrs.quality) == (TASK, "medium")
    assert first.attrs.backend == "mamujoco" and "SAC" in first.attrs.behavior
    assert "gymnasium-robotics 1.4.2 mamujoco_v1, agent_obsk=1, mujoco 4.0.0" in first.attrs.behavior
    assert first.obs.shape[1:] == (3, 9) and first.state.shape[1] == 11 and first.actions.shape[1:] == (3, 1)
    assert first.avail_actions is None and np.abs(first.actions).max() <= 1.0
    assert (np.diff(np.r_[-1, first.episode_ends]) <= CAP).all()
    for name in ("obs", "state", "actions", "rewards", "terminals", "truncations"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_all_qualities_share_one_cached_sac_run(tmp_path, monkeypatch):
    common = {"task": TASK, "seed": 0, "sac": TINY_SAC, "max_episode_steps": CAP, "cache_dir": tmp_path / "cache"}
    medium = load_dataset(build_mamujoco_dataset(quality="medium", episodes=2, path=tmp_path / "m.h5", **common))
    monkeypatch.setattr(build_mamujoco, "train_sac_behavior", None)  # a second training would fail
    replay = load_dataset(build_mamujoco_dataset(quality="medium-replay", episodes=None, path=tmp_path / "r.h5",
                                                 **common))
    mixed = load_dataset(build_mamujoco_dataset(quality="medium-expert", episodes=3, path=tmp_path / "x.h5",
                                                **common))
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert len(replay) <= 30 and replay.truncations[-1] | replay.terminals[-1]  # up to the medium snapshot
    assert "replay buffer of SAC training up to the medium snapshot (step 30)" in replay.attrs.behavior
    assert mixed.attrs.n_episodes == 3 and "medium (2 episodes" in mixed.attrs.behavior
    assert "expert (1 episodes" in mixed.attrs.behavior
    np.testing.assert_array_equal(mixed.obs[: medium.episode_ends[0] + 1], medium.obs[: medium.episode_ends[0] + 1])


def test_checkpoint_round_trip_gives_identical_actions(tmp_path):
    rng = np.random.default_rng(0)
    obs, state = rng.standard_normal((4, 3, 9)), rng.standard_normal((4, 11))
    for kind in ("joint", "shared", "per_agent"):
        policy = _policy(kind)
        path = save_behavior_checkpoint(policy, tmp_path / f"{kind}.pt")
        loaded = load_behavior_checkpoint(path, n_agents=3, obs_dim=9, state_dim=11, act_dim=1)
        assert loaded.kind == kind and loaded.description == f"random-init {kind} actor"
        for deterministic in (True, False):
            a = policy.act(obs=obs, state=state, generator=torch.Generator().manual_seed(1),
                           deterministic=deterministic)
            b = loaded.act(obs=obs, state=state, generator=torch.Generator().manual_seed(1),
                           deterministic=deterministic)
            np.testing.assert_array_equal(a, b)
            assert a.shape == (4, 3, 1) and a.dtype == np.float32


def test_checkpoint_build_records_the_rewards_the_environment_gives(tmp_path):
    checkpoint = save_behavior_checkpoint(_policy("per_agent"), tmp_path / "expert.pt")
    dataset = load_dataset(build_mamujoco_dataset(task=TASK, quality="expert", episodes=1, seed=4,
                                                  path=tmp_path / "e.h5", behavior_checkpoint=checkpoint,
                                                  max_episode_steps=CAP))
    assert "random-init per_agent actor" in dataset.attrs.behavior
    env = MaMuJoCoVectorEnv(config=mamujoco_config_for_task(TASK, max_episode_steps=CAP), n_envs=1)
    step = env.reset(seed=4)
    for t in range(len(dataset)):  # replaying the recorded actions reproduces observations and rewards
        np.testing.assert_array_equal(step.obs[0], dataset.obs[t])
        step = env.step(dataset.actions[t][None])
        assert step.reward[0] == dataset.rewards[t] and step.done[0] == (t == len(dataset) - 1)


def test_collect_episodes_keeps_exactly_the_requested_episodes():
    arrays = collect_episodes(_policy("joint"), env_config=mamujoco_config_for_task(TASK, max_episode_steps=5),
                              episodes=3, seed=0, n_envs=2)
    assert int((arrays["terminals"] | arrays["truncations"]).sum()) == 3 and arrays["rewards"].dtype == np.float32


def test_bad_requests_name_the_problem_and_fix(tmp_path):
    checkpoint = save_behavior_checkpoint(_policy(), tmp_path / "p.pt")
    common = {"task": TASK, "episodes": 1, "seed": 0, "path": tmp_path / "d.h5", "max_episode_steps": CAP}
    with pytest.raises(ConfigError, match="medium-replay is the replay buffer of a training run"):
        build_mamujoco_dataset(quality="medium-replay", behavior_checkpoint=checkpoint, **common)
    with pytest.raises(ConfigError, match=r"medium-expert needs two behaviour checkpoints: pass \{'medium'"):
        build_mamujoco_dataset(quality="medium-expert", behavior_checkpoint=checkpoint, **common)
    with pytest.raises(ConfigError, match=r"needs behaviour checkpoints for \['medium', 'expert'\]; missing"):
        build_mamujoco_dataset(quality="medium-expert", behavior_checkpoint={"medium": checkpoint}, **common)
    with pytest.raises(UnknownNameError, match="unknown MaMuJoCo dataset quality 'good'; known MaMuJoCo dataset "
                                               "qualit.*: expert, medium, medium-expert, medium-replay"):
        build_mamujoco_dataset(quality="good", **common)
    with pytest.raises(ConfigError, match=r"was made for \{'n_agents': 3, 'obs_dim': 9, 'state_dim': 11, "
                                          r"'act_dim': 1\} but the environment has \{'n_agents': 6"):
        build_mamujoco_dataset(quality="expert", behavior_checkpoint=checkpoint,
                               **{**common, "task": "mamujoco_halfcheetah_6x1"})
    torch.save({"actor": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(ConfigError, match="is not an omiga MaMuJoCo behaviour checkpoint"):
        build_mamujoco_dataset(quality="expert", behavior_checkpoint=tmp_path / "foreign.pt", **common)
    with pytest.raises(ConfigError, match="no behaviour checkpoint at"):
        build_mamujoco_dataset(quality="expert", behavior_checkpoint=tmp_path / "missing.pt", **common)
    with pytest.raises(ConfigError, match=r"SACConfig.start_steps must lie in \[0, total_steps=10\], got 20"):
        SACConfig(total_steps=10, start_steps=20)


def test_tanh_gaussian_log_prob_matches_torch_distributions():
    from torch.distributions import Normal, TransformedDistribution
    from torch.distributions.transforms import TanhTransform

    actor = behavior_mamujoco.TanhGaussianActor(4, 3, (8,))
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    action, log_prob = actor.sample(x, generator=torch.Generator().manual_seed(1))
    mean, log_std = actor(x)
    reference = TransformedDistribution(Normal(mean, log_std.exp()), [TanhTransform()])
    torch.testing.assert_close(log_prob, reference.log_prob(action.clamp(-1 + 1e-6, 1 - 1e-6)).sum(-1),
                               rtol=1e-3, atol=1e-3)
    assert torch.equal(actor.sample(x, deterministic=True)[0], torch.tanh(mean))


def test_sac_learner_lives_in_its_own_module_and_stays_importable_from_the_policy_module():
    from omiga.data import behavior_mamujoco_sac

    assert behavior_mamujoco.SACConfig is behavior_mamujoco_sac.SACConfig
    assert behavior_mamujoco.train_sac_behavior is behavior_mamujoco_sac.train_sac_behavior
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        behavior_mamujoco.nope  # noqa: B018


def test_sac_budget_scales_the_default_recipe():
    assert SACConfig.with_budget(300_000) == SACConfig()
    small = SACConfig.with_budget(600)
    assert (small.total_steps, small.start_steps, small.snapshot_every) == (600, 20, 20)
    assert (small.batch_size, small.hidden) == (SACConfig().batch_size, SACConfig().hidden)
    with pytest.raises(ConfigError, match="the SAC budget must be >= 1 environment step, got 0"):
        SACConfig.with_budget(0)


def test_sac_cache_names_keep_the_old_form_for_the_recipe_and_tell_other_configs_apart():
    config = mamujoco_config_for_task(TASK)
    name = build_mamujoco._sac_cache_name(task_name=TASK, env_config=config, sac=SACConfig(), seed=2)
    assert name == f"{TASK}_sac_seed2_steps300000_cap1000_h256x256.pt"  # runs cached before this change
    tweaked = build_mamujoco._sac_cache_name(task_name=TASK, env_config=config, sac=SACConfig(lr=1e-3), seed=2)
    assert tweaked.startswith(name.removesuffix(".pt") + "_") and tweaked != name


def test_sac_options_conflict_with_each_other_and_with_a_checkpoint(tmp_path):
    common = {"task": TASK, "quality": "expert", "episodes": 1, "seed": 0, "path": tmp_path / "d.h5"}
    with pytest.raises(ConfigError, match="pass either sac .* or sac_steps"):
        build_mamujoco_dataset(sac=TINY_SAC, sac_steps=10, **common)
    with pytest.raises(ConfigError, match="a behaviour checkpoint replaces the SAC learner"):
        build_mamujoco_dataset(behavior_checkpoint=tmp_path / "p.pt", sac_steps=10, **common)
