"""The canonical dataset: derived properties, HDF5 round trip, atomic writes, digests, reward-to-go."""

from __future__ import annotations

import dataclasses
import hashlib

import h5py
import numpy as np
import pytest

from omiga.data import (
    DatasetAttrs,
    OfflineDataset,
    dataset_digest,
    load_dataset,
    make_synthetic_dataset,
    reward_to_go,
    save_dataset,
)
from omiga.errors import ConfigError, DatasetError


def _hand_built() -> OfflineDataset:
    """Two episodes: steps 0-2 end terminal, steps 3-4 end truncated; 2 agents, 3 actions."""
    avail = np.ones((5, 2, 3), dtype=bool)
    avail[1, 0, 2] = False
    return OfflineDataset.from_arrays(
        obs=np.zeros((5, 2, 4), np.float32), state=np.zeros((5, 3), np.float32),
        actions=np.array([[0, 1], [1, 2], [2, 0], [0, 0], [1, 1]], np.int64), avail_actions=avail,
        rewards=np.array([1, 2, 3, 4, 5], np.float32),
        terminals=np.array([0, 0, 1, 0, 0], bool), truncations=np.array([0, 0, 0, 0, 1], bool),
        task="toy_coop", quality="good", source="built", behavior="hand", seed=3, backend="toy",
    )


def test_derived_properties_of_a_hand_built_dataset():
    data = _hand_built()
    assert (data.discrete, data.n_agents, data.obs_dim, data.state_dim, data.n_actions, data.act_dim) == (
        True, 2, 4, 3, 3, None)
    np.testing.assert_array_equal(data.episode_starts, [0, 3])
    np.testing.assert_array_equal(data.episode_ends, [2, 4])
    np.testing.assert_array_equal(data.episode_returns, [6.0, 9.0])
    # the truncated last step (4) has no successor; the terminal step (2) is usable
    np.testing.assert_array_equal(data.transition_indices(), [0, 1, 2, 3])
    assert (data.attrs.n_episodes, data.attrs.return_mean, data.attrs.return_min, data.attrs.return_max) == (
        2, 7.5, 6.0, 9.0)
    assert data.attrs.return_std == pytest.approx(1.5)


def test_continuous_properties(continuous_dataset):
    assert not continuous_dataset.discrete
    assert (continuous_dataset.act_dim, continuous_dataset.n_actions, len(continuous_dataset)) == (2, None, 20)
    assert continuous_dataset.actions.dtype == np.float32 and np.abs(continuous_dataset.actions).max() <= 1


def test_synthetic_is_deterministic_and_respects_the_mask(discrete_dataset):
    again = make_synthetic_dataset(n_episodes=6, episode_length=8, min_episode_length=3, n_agents=3, obs_dim=4,
                                   state_dim=6, n_actions=5, seed=0)
    for name, array in discrete_dataset.arrays().items():
        np.testing.assert_array_equal(array, again.arrays()[name])
    chosen = np.take_along_axis(discrete_dataset.avail_actions, discrete_dataset.actions[..., None], 2)
    assert chosen.all() and not discrete_dataset.avail_actions.all()


def test_synthetic_needs_exactly_one_action_kind():
    with pytest.raises(ConfigError, match="exactly one of n_actions"):
        make_synthetic_dataset(n_episodes=1, episode_length=2, n_agents=1, obs_dim=1, state_dim=1, seed=0)


def test_invalid_arrays_cannot_build_a_dataset(discrete_dataset):
    with pytest.raises(DatasetError, match="field 'rewards' has dtype float64, expected float32"):
        dataclasses.replace(discrete_dataset, rewards=discrete_dataset.rewards.astype(np.float64))


def test_unknown_schema_version_in_attrs():
    with pytest.raises(DatasetError, match="unknown dataset schema_version 2"):
        DatasetAttrs(task="t", quality="q", source="built", behavior="", seed=0, backend="toy", n_episodes=1,
                     return_mean=0, return_std=0, return_min=0, return_max=0, schema_version=2)


@pytest.mark.parametrize("backend", ["", None, 3])
def test_backend_must_be_a_non_empty_string(backend):
    with pytest.raises(DatasetError, match="dataset attribute 'backend' must be a non-empty string"):
        DatasetAttrs(task="t", quality="q", source="built", behavior="", seed=0, backend=backend, n_episodes=1,
                     return_mean=0, return_std=0, return_min=0, return_max=0)


def test_backend_attribute_round_trips(tmp_path):
    data = _hand_built()
    path = save_dataset(data, tmp_path / "toy.h5")
    with h5py.File(path) as file:
        assert file.attrs["backend"] == "toy"
    assert load_dataset(path).attrs.backend == "toy"


@pytest.mark.parametrize(("behavior", "source", "expected"), [
    ("scripted focus fire, epsilon=0.3; backend smax, scenario corridor", "built", "smax"),
    ("expert (2 episodes): SAC ...; backend mamujoco (gymnasium-robotics 1.4.2 mamujoco_v1)", "built", "mamujoco"),
    ("imported from ep (3 MADT episode files)", "madt", "sc2"),
    ("imported from x.hdf5 (OMIGA MaMuJoCo HDF5)", "omiga-hdf5", "mamujoco"),
    ("toy ε-oracle, ε=0.5", "built", "unknown"),
])
def test_a_file_written_before_backend_was_stored_still_loads(behavior, source, expected, tmp_path):
    data = _hand_built()
    path = save_dataset(data, tmp_path / "old.h5")
    with h5py.File(path, "r+") as file:  # the layout of schema_version 1 files written before the attribute
        del file.attrs["backend"]
        file.attrs["behavior"], file.attrs["source"] = behavior, source
    loaded = load_dataset(path)
    assert loaded.attrs.backend == expected and loaded.attrs.behavior == behavior
    np.testing.assert_array_equal(loaded.rewards, data.rewards)


def test_an_empty_stored_backend_is_a_named_problem(tmp_path):
    path = save_dataset(_hand_built(), tmp_path / "bad.h5")
    with h5py.File(path, "r+") as file:
        file.attrs["backend"] = ""
    with pytest.raises(DatasetError, match="attribute 'backend' = '' must be a non-empty string naming the "
                                           "environment backend"):
        load_dataset(path)


@pytest.mark.parametrize("fixture", ["discrete_dataset", "continuous_dataset"])
def test_round_trip_preserves_arrays_and_attrs(fixture, request, tmp_path):
    data = request.getfixturevalue(fixture)
    path = save_dataset(data, tmp_path / "sub" / "data.h5")
    loaded = load_dataset(path)
    assert loaded.attrs == data.attrs
    for name, array in data.arrays().items():
        if array is None:
            assert loaded.arrays()[name] is None
        else:
            assert loaded.arrays()[name].dtype == array.dtype
            np.testing.assert_array_equal(loaded.arrays()[name], array)
    with h5py.File(path) as file:
        assert file["obs"].compression == "gzip"
        assert file.attrs["schema_version"] == 1 and file.attrs["source"] == "synthetic"
        assert file.attrs["backend"] == "synthetic"


def test_imported_dataset_without_seed_round_trips(discrete_dataset, tmp_path):
    data = dataclasses.replace(discrete_dataset, attrs=dataclasses.replace(discrete_dataset.attrs, seed=None))
    assert load_dataset(save_dataset(data, tmp_path / "x.h5")).attrs.seed is None


def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(discrete_dataset, tmp_path, monkeypatch):
    target = save_dataset(discrete_dataset, tmp_path / "data.h5")
    before = target.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_dataset", fail)
    with pytest.raises(OSError, match="disk full"):
        save_dataset(discrete_dataset, target)
    with pytest.raises(OSError, match="disk full"):
        save_dataset(discrete_dataset, tmp_path / "new.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.h5"]
    assert target.read_bytes() == before


def test_digest_is_the_sha256_of_the_file(discrete_dataset_file):
    assert dataset_digest(discrete_dataset_file) == hashlib.sha256(discrete_dataset_file.read_bytes()).hexdigest()


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(DatasetError, match=r"no dataset file at .*nope\.h5: .*datasets build"):
        load_dataset(tmp_path / "nope.h5")


@pytest.mark.parametrize("damage", ["not_hdf5", "cut_in_half"])
def test_corrupted_files_raise_dataset_error(damage, discrete_dataset_file, tmp_path):
    bad = tmp_path / "bad.h5"
    data = discrete_dataset_file.read_bytes()
    bad.write_bytes(b"just some text, not HDF5\n" * 10 if damage == "not_hdf5" else data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"bad\.h5 is not a readable HDF5 dataset \(truncated, corrupted"):
        load_dataset(bad)


def test_reward_to_go_closed_forms():
    rewards = np.array([1, 2, 3, 4, 5], np.float32)
    starts, ends = np.array([0, 3]), np.array([2, 4])
    np.testing.assert_allclose(reward_to_go(rewards, episode_starts=starts, episode_ends=ends, gamma=1.0),
                               [6, 5, 3, 9, 5])
    np.testing.assert_allclose(reward_to_go(rewards, episode_starts=starts, episode_ends=ends, gamma=0.5),
                               [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3, 4 + 0.5 * 5, 5])
    assert reward_to_go(rewards, episode_starts=starts, episode_ends=ends, gamma=0.9).dtype == np.float32


def test_reward_to_go_rejects_bad_gamma():
    with pytest.raises(ConfigError, match=r"gamma must lie in \[0, 1\], got 1.5"):
        reward_to_go(np.ones(2, np.float32), episode_starts=np.array([0]), episode_ends=np.array([1]), gamma=1.5)


def test_rewards_can_be_replaced_by_reward_to_go(discrete_dataset):
    rtg = reward_to_go(discrete_dataset.rewards, episode_starts=discrete_dataset.episode_starts,
                       episode_ends=discrete_dataset.episode_ends, gamma=1.0)
    transformed = dataclasses.replace(discrete_dataset, rewards=rtg)
    np.testing.assert_allclose(transformed.rewards[discrete_dataset.episode_starts],
                               discrete_dataset.episode_returns, rtol=1e-5)
