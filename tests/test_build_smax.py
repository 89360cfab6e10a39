"""SMAX dataset builder: schema-valid files, deterministic for a seed; behaviour strategies drawn per episode;
cached files of older behaviour versions are set aside."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from omiga.data.behavior_smax import ScriptedPolicy, episode_keys, partial_act
from omiga.data.io import load_dataset
from omiga.envs.smax_scenarios import get_scenario
from omiga.errors import UnknownNameError
from omiga.tasks import SMAX_BEHAVIORS, build_dataset, dataset_path, make_vector_env


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("smax")
    paths = [build_dataset("smac_corridor", quality="medium", episodes=3, seed=5, path=root / f"{i}.h5",
                           behavior="scripted-v2") for i in range(2)]
    return [load_dataset(p) for p in paths]


def test_small_build_is_schema_valid(built):
    data = built[0]
    assert data.attrs.task == "smac_corridor" and data.attrs.quality == "medium"
    assert data.attrs.source == "built" and data.attrs.seed == 5 and data.attrs.n_episodes == 3
    assert data.attrs.backend == "smax" and "backend" not in data.attrs.behavior
    assert "SMAX scenario corridor" in data.attrs.behavior
    assert "scatter_prob=0.6" in data.attrs.behavior and "epsilon=0.05" in data.attrs.behavior
    assert f"smax-behavior-v{SMAX_BEHAVIORS['scripted-v2']}" in data.attrs.behavior
    assert data.obs.shape[1:] == (6, 387) and data.state.shape[1:] == (360,)
    assert data.actions.dtype == np.int64 and data.avail_actions.dtype == np.bool_
    taken = np.take_along_axis(data.avail_actions, data.actions[..., None], axis=-1)
    assert taken.all()
    assert (data.terminals | data.truncations).sum() == 3
    returns = data.episode_returns
    assert returns.shape == (3,) and (returns >= 0).all() and (returns <= 20 + 1e-4).all()
    assert data.attrs.return_mean == pytest.approx(returns.mean(), rel=1e-6)


def test_same_seed_gives_identical_arrays(built):
    first, second = built
    for name, value in first.arrays().items():
        np.testing.assert_array_equal(value, second.arrays()[name], err_msg=name)


def test_unknown_quality_is_named(tmp_path):
    with pytest.raises(UnknownNameError, match="'expert'"):
        build_dataset("smac_corridor", quality="expert", episodes=1, seed=0, path=tmp_path / "x.h5")


def test_mixed_policy_plays_one_strategy_per_episode():
    """With ε = 0, every episode of a 50/50 mixture acts exactly as pure hold or as pure scatter, and both occur."""
    scenario = get_scenario("corridor")
    step = make_vector_env("smac_corridor", n_envs=1, seed=3).reset(seed=3)
    obs, avail = step.obs[0], step.avail_actions[0]
    key = jax.random.PRNGKey(0)

    def actions(scatter_prob, episode_key):
        act = partial_act(ScriptedPolicy(scatter_prob=scatter_prob, epsilon=0.0), scenario)
        return np.asarray(act(obs, avail, key, episode_key))

    keys = episode_keys(7, 0, 64)
    hold, scatter = actions(0.0, keys[0]), actions(1.0, keys[0])
    assert not np.array_equal(hold, scatter)  # the strategies disagree at the start
    mixed = [actions(0.5, k) for k in keys]
    is_scatter = [np.array_equal(a, scatter) for a in mixed]
    assert all(s or np.array_equal(a, hold) for a, s in zip(mixed, is_scatter))
    assert 16 <= sum(is_scatter) <= 48  # Binomial(64, 0.5): outside this range with probability < 1e-4


def test_cached_files_of_older_behaviour_versions_are_never_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path))
    current = dataset_path("smac_corridor", quality="medium")
    assert current.name == f"smax-v{SMAX_BEHAVIORS['learned']}-medium.h5"  # the corridor ships learned levels
    scripted = dataset_path("smac_corridor", quality="medium", behavior="scripted-v2")
    assert scripted.name == "smax-v2-medium.h5" and scripted != current
    monkeypatch.setitem(SMAX_BEHAVIORS, "learned", SMAX_BEHAVIORS["learned"] + 1)
    assert dataset_path("smac_corridor", quality="medium") != current
