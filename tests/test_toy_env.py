"""toy_coop: the VectorEnv contract, reward closed forms, seeding, and quality separation of built datasets."""

from __future__ import annotations

import time

import numpy as np
import pytest

from omiga.data import load_dataset
from omiga.data.build_toy import build_toy_dataset, rollout_toy_dataset
from omiga.envs.base import VectorEnv
from omiga.envs.toy import TOY_EPISODE_LENGTH, TOY_WAIT, ToyCoopEnv, make_toy_vector_env
from omiga.errors import ConfigError, UnknownNameError


def _target(step) -> np.ndarray:
    return step.state[:, :4].argmax(axis=1)


def _wrong(step) -> np.ndarray:
    """A wrong signal available to both agents: one that neither agent has masked out."""
    target = _target(step)
    candidates = [(target + k) % 4 for k in (1, 2, 3)]
    ok = [step.avail_actions[np.arange(len(target)), 0, c] & step.avail_actions[np.arange(len(target)), 1, c]
          for c in candidates]
    return np.choose(np.argmax(ok, axis=0), candidates)


def test_reset_and_step_follow_the_contract():
    env = make_toy_vector_env(n_envs=5, seed=0)
    assert isinstance(env, VectorEnv)
    assert (env.n_agents, env.obs_dim, env.state_dim, env.n_actions, env.act_dim, env.discrete, env.backend) == (
        2, 7, 5, 5, None, True, "toy")
    step = env.reset(seed=1)
    assert step.obs.shape == (5, 2, 7) and step.obs.dtype == np.float32
    assert step.state.shape == (5, 5) and step.state.dtype == np.float32
    assert step.avail_actions.shape == (5, 2, 5) and step.avail_actions.dtype == bool
    for name in ("terminated", "truncated", "won"):
        assert getattr(step, name).dtype == bool and not getattr(step, name).any()
    np.testing.assert_array_equal(step.reward, np.zeros(5, np.float32))
    # the target and wait are always available, exactly one wrong signal is not
    rows = np.arange(5)
    assert step.avail_actions[rows, :, _target(step)].all() and step.avail_actions[:, :, TOY_WAIT].all()
    np.testing.assert_array_equal(step.avail_actions.sum(axis=2), np.full((5, 2), 4))
    np.testing.assert_array_equal(step.obs[:, :, 5:], np.broadcast_to(np.eye(2), (5, 2, 2)))


def test_reward_closed_forms_and_episode_ends():
    env = ToyCoopEnv(n_envs=4)
    step = env.reset(seed=7)
    target = _target(step)
    actions = np.stack([np.stack([target, target], 1)[0], [target[1], TOY_WAIT], [TOY_WAIT, TOY_WAIT],
                        np.stack([_wrong(step), _wrong(step)], 1)[3]]).astype(np.int64)
    step = env.step(actions)
    np.testing.assert_array_equal(step.reward, [1.0, 0.25, 0.0, 0.0])
    np.testing.assert_array_equal(step.terminated, [False, False, False, True])
    for t in range(2, TOY_EPISODE_LENGTH + 1):
        step = env.step(np.full((4, 2), TOY_WAIT, np.int64))
        assert step.truncated[:3].all() == (t == TOY_EPISODE_LENGTH)
        assert not step.terminated[:3].any()
    # the step after an end restarts the environment: reward 0, time fraction 0
    step = env.step(np.full((4, 2), TOY_WAIT, np.int64))
    assert not step.done[:3].any() and (step.state[:3, 4] == 0).all()


def test_environment_e_depends_only_on_seed_and_e():
    small, large = ToyCoopEnv(n_envs=2), ToyCoopEnv(n_envs=6)
    a, b = small.reset(seed=11), large.reset(seed=11)
    np.testing.assert_array_equal(a.obs, b.obs[:2])
    for _ in range(10):
        a = small.step(np.full((2, 2), TOY_WAIT, np.int64))
        b = large.step(np.full((6, 2), TOY_WAIT, np.int64))
        np.testing.assert_array_equal(a.obs, b.obs[:2])
        np.testing.assert_array_equal(a.avail_actions, b.avail_actions[:2])
    assert not np.array_equal(ToyCoopEnv(n_envs=2).reset(seed=12).obs, small.reset(seed=11).obs)


def test_global_obs_mode_gives_the_state_and_id():
    step = make_toy_vector_env(n_envs=3, seed=0, obs_mode="global").reset(seed=4)
    np.testing.assert_array_equal(step.obs[:, 1, :5], step.state)
    with pytest.raises(ConfigError, match="unknown obs_mode 'both'; choose one of local, global"):
        make_toy_vector_env(n_envs=3, seed=0, obs_mode="both")


def test_wrong_action_shape_is_named():
    env = ToyCoopEnv(n_envs=3)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=r"toy_coop expects actions of shape \(3, 2\), got \(3,\)"):
        env.step(np.zeros(3, np.int64))


def test_builder_is_deterministic_and_fast(tmp_path):
    start = time.perf_counter()
    path = build_toy_dataset(task="toy_coop", quality="medium", episodes=200, seed=5, path=tmp_path / "a.h5")
    assert time.perf_counter() - start < 1.0
    again = build_toy_dataset(task="toy_coop", quality="medium", episodes=200, seed=5, path=tmp_path / "b.h5")
    first, second = load_dataset(path), load_dataset(again)
    for name, array in first.arrays().items():
        np.testing.assert_array_equal(array, second.arrays()[name])
    assert first.attrs.n_episodes == 200 and first.attrs.source == "built"


def test_qualities_separate_with_disjoint_confidence_intervals():
    intervals = {}
    for quality in ("good", "medium", "poor"):
        returns = rollout_toy_dataset(task="toy_coop", quality=quality, episodes=200, seed=0).episode_returns
        half = 1.96 * returns.std(ddof=1) / np.sqrt(returns.size)
        intervals[quality] = (returns.mean() - half, returns.mean() + half)
    assert intervals["good"][0] > intervals["medium"][1] > intervals["medium"][0] > intervals["poor"][1]
    assert intervals["good"][0] > 6.0 and intervals["poor"][1] < 0.6


def test_unknown_quality():
    with pytest.raises(UnknownNameError, match=r"unknown quality 'great'; known .*: good, medium, poor"):
        rollout_toy_dataset(task="toy_coop", quality="great", episodes=1, seed=0)


def test_the_oracle_reaches_the_best_score_through_the_registry():
    from omiga.data.build_toy import toy_oracle_actions
    from omiga.envs.toy import TOY_BEST_SCORE
    from omiga.tasks import make_vector_env

    env = make_vector_env("toy_coop", n_envs=16, seed=0)
    step, total = env.reset(seed=2), np.zeros(16)
    rng = np.random.default_rng(0)
    for _ in range(TOY_EPISODE_LENGTH):
        step = env.step(toy_oracle_actions(state=step.state, avail_actions=step.avail_actions, epsilon=0.0, rng=rng))
        total += step.reward
    assert step.truncated.all() and not step.terminated.any()
    np.testing.assert_array_equal(total, np.full(16, TOY_BEST_SCORE))
