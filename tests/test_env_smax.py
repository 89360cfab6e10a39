"""SMAX backend: the VectorEnv contract, dead agents, corridor walls, determinism (one compiled env shared)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

from omiga.envs.base import EnvStep, VectorEnv
from omiga.envs.corridor import cliff_layout, corridor_layout
from omiga.envs.smax import STOP_ACTION
from omiga.errors import ConfigError
from omiga.tasks import make_vector_env

N_ENVS = 4


@pytest.fixture(scope="module")
def env():
    return make_vector_env("smac_corridor", n_envs=N_ENVS, seed=0)


def random_rollout(env, *, seed: int, steps: int):
    """Uniformly random available actions; yields (EnvStep, unit positions [E, units, 2])."""
    rng = np.random.default_rng(seed)
    step = env.reset(seed=seed)
    for _ in range(steps):
        logits = np.where(step.avail_actions, rng.random(step.avail_actions.shape), -1.0)
        step = env.step(logits.argmax(-1))
        yield step, np.asarray(env._state.smax.unit_positions), np.asarray(env._state.smax.unit_alive)


def test_reset_and_step_follow_the_contract(env):
    assert isinstance(env, VectorEnv) and env.backend == "smax"
    assert (env.n_agents, env.obs_dim, env.state_dim, env.n_actions) == (6, 387, 360, 29)
    step = env.reset(seed=3)
    assert isinstance(step, EnvStep)
    shapes = {"obs": (4, 6, 387), "state": (4, 360), "avail_actions": (4, 6, 29), "reward": (4,),
              "terminated": (4,), "truncated": (4,), "won": (4,)}
    dtypes = {"obs": np.float32, "state": np.float32, "reward": np.float32}
    for name, shape in shapes.items():
        value = getattr(step, name)
        assert value.shape == shape, name
        assert value.dtype == dtypes.get(name, np.bool_), name
    assert not step.reward.any() and step.avail_actions[..., STOP_ACTION].all()
    after = env.step(np.full((N_ENVS, 6), STOP_ACTION))
    assert after.obs.shape == shapes["obs"] and after.reward.dtype == np.float32
    assert env._step._cache_size() == 1  # the cast reset state does not force a second compile


def test_wrong_action_shape_is_rejected(env):
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=r"actions must have shape \(4, 6\), got \(4, 5\)"):
        env.step(np.zeros((4, 5), dtype=np.int64))


def test_corridor_walls_hold_and_dead_agents_only_stop(env):
    layout = corridor_layout()
    saw_dead = False
    for step, positions, alive in random_rollout(env, seed=1, steps=40):
        assert np.asarray(layout.is_walkable(jnp.asarray(positions))).all()
        dead = ~alive[:, :6]
        saw_dead |= dead.any()
        assert (step.avail_actions[dead] == np.eye(29, dtype=bool)[STOP_ACTION]).all()
        assert (step.reward >= 0).all() and (step.reward <= 20).all()
    assert saw_dead


def test_same_seed_same_battles(env):
    first = [(s.obs.copy(), s.reward.copy()) for s, _, _ in random_rollout(env, seed=7, steps=5)]
    second = [(s.obs.copy(), s.reward.copy()) for s, _, _ in random_rollout(env, seed=7, steps=5)]
    for (obs_a, rew_a), (obs_b, rew_b) in zip(first, second):
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(rew_a, rew_b)
    other = env.reset(seed=8).obs
    assert not np.array_equal(other, env.reset(seed=7).obs)


def test_projection_closed_form():
    layout = corridor_layout()
    points = jnp.array([[16.0, 12.0], [5.0, -3.0], [16.0, 8.0], [40.0, 8.0]])
    expected = np.array([[16.0, 9.25], [5.0, 0.5], [16.0, 8.0], [31.5, 8.0]])
    np.testing.assert_allclose(np.asarray(layout.project(points)), expected)


def test_cliff_plateau_is_walkable_for_allies_only():
    layout = cliff_layout()
    on_plateau = jnp.array([[5.0, 16.0], [7.5, 13.0]])
    assert np.asarray(layout.is_walkable(on_plateau)).all()
    assert not np.asarray(layout.is_walkable(on_plateau, enemy=True)).any()
    pushed = np.asarray(layout.project(on_plateau, enemy=True))
    np.testing.assert_allclose(pushed, [[2.0, 16.0], [8.0, 13.0]])


def test_layout_rejects_start_box_off_its_walkable_region():
    with pytest.raises(ConfigError, match=r"start box \(1.0, 1.0, 3.0, 3.0\) must lie inside one of its team's"):
        dataclasses.replace(corridor_layout(), ally_start=(1.0, 1.0, 3.0, 3.0), rects=((5.0, 5.0, 9.0, 9.0),))


@pytest.mark.slow
@pytest.mark.parametrize("task,agents,obs_dim,actions", [("smac_5m_vs_6m", 5, 10 * 13 + 10, 11),
                                                          ("smac_6h_vs_8z", 6, 13 * 13 + 10, 13)])
def test_open_map_stand_ins_follow_the_contract(task, agents, obs_dim, actions):
    env = make_vector_env(task, n_envs=2, seed=0)
    env.reset(seed=0)
    step = env.step(np.full((2, agents), STOP_ACTION))
    assert step.obs.shape == (2, agents, obs_dim) and step.avail_actions.shape == (2, agents, actions)


@pytest.mark.parametrize("scenario", ["5m_vs_6m", "2c_vs_64zg"])
def test_the_allies_observations_equal_smax_own_to_the_bit(scenario):
    """`SmaxBattles.ally_observations` (the allies' rows only) against SMAX's ``get_obs`` for every unit, on
    crowded states where units see each other, some are dead and health varies."""
    import jax

    from omiga.envs.smax import battle_keys, battles_for
    from omiga.envs.smax_scenarios import get_scenario

    battles = battles_for(get_scenario(scenario))
    state = jax.vmap(battles.reset)(battle_keys(jnp.uint32(3), 6)).smax
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(3), 3)
    centre = jnp.array([battles.env.map_width, battles.env.map_height]) / 2
    state = state.replace(
        unit_positions=centre + jax.random.uniform(k1, state.unit_positions.shape, minval=-3, maxval=3),
        unit_alive=jax.random.uniform(k2, state.unit_alive.shape) > 0.2,
        unit_health=state.unit_health * jax.random.uniform(k3, state.unit_health.shape, minval=0.1, maxval=1))
    agents = battles.env.agents[:battles.n_allies]
    reference = np.asarray(jax.vmap(lambda s: jnp.stack([battles.env.get_obs(s)[a] for a in agents]))(state))
    ours = np.asarray(jax.vmap(battles.ally_observations)(state))
    assert ours.shape == reference.shape == (6, battles.n_allies, battles.obs_dim)
    assert (reference != 0).mean() > 0.1  # units see each other: the features are not all zero
    np.testing.assert_array_equal(ours.view(np.uint32), reference.view(np.uint32))
