"""MaMuJoCo backend: the VectorEnv contract on real MuJoCo (HalfCheetah 6x1, Hopper 3x1)."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from omiga.data.importers.mamujoco_layout import OMIGA_MAMUJOCO_LAYOUTS
from omiga.envs.base import EnvStep, VectorEnv
from omiga.envs.mamujoco import (
    MAMUJOCO_INSTALL_HINT,
    MaMuJoCoConfig,
    make_mamujoco_vector_env,
    mamujoco_config_for_task,
    omiga_agent_views,
)
from omiga.errors import BackendUnavailableError, ConfigError, UnknownNameError

# scenario, agent_conf, per-agent obs sizes, state_dim (measured, see ENVIRONMENTS.md)
SCENARIOS = [("HalfCheetah", "6x1", (9, 9, 8, 9, 9, 8), 17), ("Hopper", "3x1", (8, 9, 8), 11)]


def _random_actions(env, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=(env.n_envs, env.n_agents, env.act_dim)).astype(np.float32)


def _check_step(step: EnvStep, *, n_envs: int, n_agents: int, obs_dim: int, state_dim: int) -> None:
    assert step.obs.shape == (n_envs, n_agents, obs_dim) and step.obs.dtype == np.float32
    assert step.state.shape == (n_envs, state_dim) and step.state.dtype == np.float32
    assert step.avail_actions is None
    for name in ("reward",):
        assert getattr(step, name).shape == (n_envs,) and getattr(step, name).dtype == np.float32
    for name in ("terminated", "truncated", "won"):
        assert getattr(step, name).shape == (n_envs,) and getattr(step, name).dtype == bool
    assert not step.won.any()


@pytest.mark.parametrize(("scenario", "agent_conf", "agent_obs", "state_dim"), SCENARIOS)
def test_reset_and_step_follow_the_contract_with_zero_padded_local_obs(scenario, agent_conf, agent_obs, state_dim):
    env = make_mamujoco_vector_env(scenario=scenario, agent_conf=agent_conf, n_envs=2, seed=0)
    n_agents, obs_dim = len(agent_obs), max(agent_obs)
    assert isinstance(env, VectorEnv)
    assert (env.n_agents, env.obs_dim, env.state_dim, env.act_dim) == (n_agents, obs_dim, state_dim, 1)
    assert env.agent_obs_dims == agent_obs and not env.discrete and env.n_actions is None
    assert env.backend == "mamujoco"
    first = env.reset(seed=3)
    _check_step(first, n_envs=2, n_agents=n_agents, obs_dim=obs_dim, state_dim=state_dim)
    np.testing.assert_array_equal(first.reward, 0.0)
    step = env.step(_random_actions(env, np.random.default_rng(0)))
    _check_step(step, n_envs=2, n_agents=n_agents, obs_dim=obs_dim, state_dim=state_dim)
    for agent, size in enumerate(agent_obs):  # shorter observations are zero-padded at the end
        np.testing.assert_array_equal(step.obs[:, agent, size:], 0.0)
    assert np.abs(step.obs[:, :, 0]).sum() > 0


def test_global_obs_mode_is_omigas_z_scored_state_and_id():
    local = make_mamujoco_vector_env(scenario="HalfCheetah", agent_conf="6x1", n_envs=2, seed=0)
    env = make_mamujoco_vector_env(scenario="HalfCheetah", agent_conf="6x1", n_envs=2, seed=0, obs_mode="global")
    assert (env.obs_dim, env.state_dim) == (17 + 6, 6 * 23)
    local.reset(seed=0)
    env.reset(seed=0)
    actions = _random_actions(env, np.random.default_rng(1))
    raw, step = local.step(actions).state, env.step(actions)
    _check_step(step, n_envs=2, n_agents=6, obs_dim=23, state_dim=138)
    for n in range(6):  # OMIGA's wrapper: v = [state, e_n], (v - mean(v)) / std(v)
        v = np.concatenate([raw, np.broadcast_to(np.eye(6)[n], (2, 6))], axis=1)
        expected = (v - v.mean(axis=1, keepdims=True)) / v.std(axis=1, keepdims=True)
        np.testing.assert_allclose(step.obs[:, n], expected, atol=1e-6)
    np.testing.assert_array_equal(step.state, step.obs.reshape(2, -1))  # what the official mixer reads
    np.testing.assert_allclose(omiga_agent_views(raw, 6), step.obs, atol=1e-6)


@pytest.mark.parametrize("task", sorted(OMIGA_MAMUJOCO_LAYOUTS))
def test_omiga_layouts_match_gymnasium_robotics(task):
    from gymnasium_robotics import mamujoco_v1

    layout = OMIGA_MAMUJOCO_LAYOUTS[task]
    config = mamujoco_config_for_task(task)
    env = mamujoco_v1.parallel_env(config.scenario, config.agent_conf, agent_obsk=1)
    actuators = tuple(tuple(int(part.act_ids) for part in partition) for partition in env.agent_action_partitions)
    assert actuators == layout.agent_actuators
    assert (len(env.possible_agents), env.state().shape[0]) == (layout.n_agents, layout.v5_state_dim)
    model = env.single_agent_env.unwrapped.model
    if config.scenario == "Ant":  # v2: qpos[2:] + qvel + all bodies' 6 contact forces; v5 drops the world body's
        assert layout.v2_state_dim == (model.nq - 2) + model.nv + 6 * model.nbody == 111
        assert layout.v2_only_columns == tuple(range(model.nq - 2 + model.nv, model.nq - 2 + model.nv + 6))
    else:  # HalfCheetah-v2 / Hopper-v2: qpos[1:] + qvel, the same as v5
        assert layout.v2_state_dim == (model.nq - 1) + model.nv == layout.v5_state_dim
    env.close()


def test_same_seed_gives_the_same_trajectory_and_slots_do_not_depend_on_n_envs():
    def rollout(n_envs: int, seed: int) -> np.ndarray:
        env = make_mamujoco_vector_env(scenario="Hopper", agent_conf="3x1", n_envs=n_envs, seed=0)
        rng = np.random.default_rng(7)
        states = [env.reset(seed=seed).state]
        for _ in range(20):
            actions = rng.uniform(-1.0, 1.0, size=(3, env.n_agents, env.act_dim)).astype(np.float32)
            states.append(env.step(actions[:n_envs]).state)
        return np.stack(states)[:, 0]
    a, b = rollout(1, seed=5), rollout(3, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], rollout(2, seed=6)[0])


def test_time_limit_truncates_then_next_step_resets():
    env = make_mamujoco_vector_env(scenario="HalfCheetah", agent_conf="6x1", n_envs=1, seed=0, max_episode_steps=3)
    env.reset(seed=0)
    zeros = np.zeros((1, 6, 1), dtype=np.float32)
    flags = [(s.terminated[0], s.truncated[0]) for s in (env.step(zeros) for _ in range(3))]
    assert flags == [(False, False), (False, False), (False, True)]  # HalfCheetah never terminates
    restarted = env.step(zeros)
    assert restarted.reward[0] == 0.0 and not restarted.truncated[0]


@pytest.mark.parametrize(("value", "match"), [
    (1.5, r"MaMuJoCo actions must lie in \[-1, 1\], got values in \[.*1\.5\]; squash them with tanh"),
    (np.nan, "MaMuJoCo actions contain NaN or inf; check the policy's outputs"),
])
def test_actions_outside_the_unit_box_are_rejected(value, match):
    env = make_mamujoco_vector_env(scenario="Hopper", agent_conf="3x1", n_envs=1, seed=0)
    env.reset(seed=0)
    actions = np.zeros((1, 3, 1), dtype=np.float32)
    actions[0, 1, 0] = value
    with pytest.raises(ConfigError, match=match):
        env.step(actions)
    with pytest.raises(ConfigError, match=r"shape \[E, N, act_dim\] = \(1, 3, 1\), got \(1, 3\)"):
        env.step(np.zeros((1, 3)))


def test_bad_configuration_and_task_names_are_named():
    with pytest.raises(ConfigError, match="unknown obs_mode 'joint'; choose one of local, global"):
        MaMuJoCoConfig(scenario="Hopper", agent_conf="3x1", obs_mode="joint")
    with pytest.raises(ConfigError, match=r"max_episode_steps must lie in \[1, 1000\], got 2000"):
        MaMuJoCoConfig(scenario="Hopper", agent_conf="3x1", max_episode_steps=2000)
    with pytest.raises(ConfigError, match="cannot build MaMuJoCo scenario 'Hopper' with agent_conf '7x1'"):
        make_mamujoco_vector_env(scenario="Hopper", agent_conf="7x1", n_envs=1, seed=0)
    with pytest.raises(UnknownNameError, match="unknown MaMuJoCo task 'mamujoco_cat'; known MaMuJoCo tasks: "
                                               "mamujoco_ant_2x4, mamujoco_halfcheetah_6x1, mamujoco_hopper_3x1"):
        mamujoco_config_for_task("mamujoco_cat")
    assert mamujoco_config_for_task("mamujoco_ant_2x4") == MaMuJoCoConfig(scenario="Ant", agent_conf="2x4")


def test_missing_gymnasium_robotics_names_the_pip_install(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("gymnasium_robotics"):
            raise ImportError("No module named 'gymnasium_robotics'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendUnavailableError, match="pip install gymnasium-robotics==1.4.2 mujoco==4.0.0"):
        make_mamujoco_vector_env(scenario="Hopper", agent_conf="3x1", n_envs=1, seed=0)
    assert MAMUJOCO_INSTALL_HINT == "pip install gymnasium-robotics==1.4.2 mujoco==4.0.0"


def test_episode_seed_is_one_shared_function_of_seed_env_and_episode():
    from omiga.envs import base, mamujoco, sc2

    assert mamujoco.episode_seed is base.episode_seed and sc2.episode_seed is base.episode_seed
    seeds = {base.episode_seed(seed, e, k) for seed in (0, 1, -1) for e in range(3) for k in range(3)}
    assert len(seeds) == 27 and all(0 <= s < 2**32 for s in seeds)
    assert base.episode_seed(5, 1, 2) == base.episode_seed(5, 1, 2)
