"""Importers: OMIGA's MaMuJoCo HDF5 (s, o, a, r, d) and MADT's pickled SMAC episode files."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import torch

from omiga.data import load_dataset, save_dataset
from omiga.data.importers import import_dataset, import_madt, import_omiga_hdf5
from omiga.errors import DatasetError, UnknownNameError

N_AGENTS, T = 3, 7


def _write_omiga_hdf5(path, *, with_ids: bool = True):
    rng = np.random.default_rng(0)
    state = rng.standard_normal((T, 5))
    ids = np.broadcast_to(np.eye(N_AGENTS), (T, N_AGENTS, N_AGENTS))
    obs = np.concatenate([np.repeat(state[:, None], N_AGENTS, 1), ids], axis=2) if with_ids else \
        rng.standard_normal((T, N_AGENTS, 5))
    d = np.zeros((T, 1))
    d[2] = 1
    arrays = {"s": np.repeat(state[:, None], N_AGENTS, 1), "o": obs, "a": rng.uniform(-1, 1, (T, N_AGENTS, 1)),
              "r": np.arange(T, dtype=np.float64)[:, None], "d": d}
    with h5py.File(path, "w") as file:
        for key, value in arrays.items():
            file[key] = value
    return arrays


def test_omiga_hdf5_round_trip(tmp_path):
    raw = _write_omiga_hdf5(tmp_path / "halfcheetah-6x1-expert.hdf5")
    data = import_omiga_hdf5(tmp_path / "halfcheetah-6x1-expert.hdf5", task="mamujoco_halfcheetah_6x1",
                             quality="expert", episode_limit=3)
    # steps 0-2 end in the terminal d[2]; then 3-step time limits cut 3-5 and the file's end at 6
    np.testing.assert_array_equal(data.terminals, [0, 0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(data.truncations, [0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(data.episode_returns, [0 + 1 + 2, 3 + 4 + 5, 6])
    np.testing.assert_allclose(data.state, raw["s"][:, 0], rtol=1e-6)
    np.testing.assert_allclose(data.obs, raw["o"], rtol=1e-6)
    np.testing.assert_allclose(data.actions, raw["a"], rtol=1e-6)
    assert (data.discrete, data.act_dim, data.obs_dim, data.attrs.source, data.attrs.seed, data.attrs.backend) == (
        False, 1, 5 + N_AGENTS, "omiga-hdf5", None, "mamujoco")
    reloaded = load_dataset(save_dataset(data, tmp_path / "canonical.h5"))
    np.testing.assert_array_equal(reloaded.obs, data.obs)
    assert reloaded.attrs == data.attrs


def test_omiga_hdf5_strips_agent_ids(tmp_path):
    _write_omiga_hdf5(tmp_path / "a.hdf5")
    data = import_omiga_hdf5(tmp_path / "a.hdf5", task="t", quality="q", strip_agent_id=True)
    assert data.obs_dim == 5
    _write_omiga_hdf5(tmp_path / "b.hdf5", with_ids=False)
    with pytest.raises(DatasetError, match="the last 3 columns of 'o' are not one-hot agent ids"):
        import_omiga_hdf5(tmp_path / "b.hdf5", task="t", quality="q", strip_agent_id=True)


def test_omiga_hdf5_missing_keys_are_named(tmp_path):
    with h5py.File(tmp_path / "x.hdf5", "w") as file:
        file["s"] = np.zeros((2, 3))
    with pytest.raises(DatasetError, match=r"x\.hdf5 lacks the OMIGA keys o, a, r, d \(expected s, o, a, r, d\)"):
        import_omiga_hdf5(tmp_path / "x.hdf5", task="t", quality="q")


def _madt_episode(n_steps: int, *, offset: float, last_done: bool = True) -> list:
    """One MADT episode: per agent a list of [g, o, [a], [r], [d], ava] steps (2 agents, 3 actions)."""
    trajectories = []
    for agent in range(2):
        steps = []
        for t in range(n_steps):
            g = np.full(4, offset + t, dtype=np.float32)
            o = [offset + t + agent * 0.5] * 2
            ava = [1, 1, int(t % 2 == 0)]
            steps.append([g, o, [t % 2], [offset + t], [last_done and t == n_steps - 1], ava])
        trajectories.append(steps)
    return trajectories


def _write_madt(directory):
    directory.mkdir()
    torch.save(_madt_episode(3, offset=0.0), directory / "ep_000.pt")
    torch.save(_madt_episode(2, offset=10.0, last_done=False), directory / "ep_001.pt")
    with open(directory / "ep_002.pkl", "wb") as handle:
        pickle.dump(_madt_episode(1, offset=20.0), handle)
    return directory


def test_madt_refuses_pickles_without_trust(tmp_path):
    source = _write_madt(tmp_path / "good")
    with pytest.raises(DatasetError, match="refusing to read MADT episode files .* unpickling runs arbitrary code "
                                           "stored in the file. If you trust where they came from, pass "
                                           "--trust-pickle"):
        import_madt(source, task="smac_corridor", quality="good")


def test_madt_round_trip(tmp_path):
    data = import_dataset(_write_madt(tmp_path / "good"), format="madt", task="smac_corridor", quality="good",
                          trust_pickle=True)
    assert (len(data), data.n_agents, data.obs_dim, data.state_dim, data.n_actions) == (6, 2, 2, 4, 3)
    np.testing.assert_array_equal(data.terminals, [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(data.truncations, [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(data.episode_returns, [0 + 1 + 2, 10 + 11, 20])
    np.testing.assert_array_equal(data.actions[:, 1], [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(data.state[:, 0], [0, 1, 2, 10, 11, 20])
    np.testing.assert_array_equal(data.obs[:, 1, 0], [0.5, 1.5, 2.5, 10.5, 11.5, 20.5])
    np.testing.assert_array_equal(data.avail_actions[:, 0, 2], [1, 0, 1, 1, 0, 1])
    assert data.attrs.source == "madt" and data.attrs.n_episodes == 3 and data.attrs.backend == "sc2"


def test_madt_ragged_agents_are_refused(tmp_path):
    episode = _madt_episode(3, offset=0.0)
    episode[1] = episode[1][:2]
    torch.save(episode, tmp_path / "ep.pt")
    with pytest.raises(DatasetError, match=r"ep\.pt: agents' trajectories have lengths \[3, 2\]"):
        import_madt(tmp_path / "ep.pt", task="t", quality="q", trust_pickle=True)


def test_madt_malformed_step_names_agent_and_step(tmp_path):
    episode = _madt_episode(3, offset=0.0)
    episode[1][2] = episode[1][2][:4]
    torch.save(episode, tmp_path / "ep.pt")
    with pytest.raises(DatasetError, match=r"ep\.pt: agent 1, step 2 is not \[g, o, a, r, d, ava\]"):
        import_madt(tmp_path / "ep.pt", task="t", quality="q", trust_pickle=True)


def test_madt_unreadable_file(tmp_path):
    (tmp_path / "ep.pt").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"cannot read MADT episode file .*ep\.pt"):
        import_madt(tmp_path / "ep.pt", task="t", quality="q", trust_pickle=True)


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown dataset format 'ogmarl'; known dataset formats: madt, "
                                               "omiga-hdf5"):
        import_dataset(tmp_path, format="ogmarl", task="t", quality="q")
