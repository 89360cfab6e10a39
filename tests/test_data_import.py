"""Importers: OMIGA's MaMuJoCo HDF5 (s, o, a, r, d), MADT's pickled SMAC episode files, OG-MARL vault checks."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import torch

from omiga.data import load_dataset, save_dataset
from omiga.data.importers import (
    import_dataset,
    import_madt,
    import_og_marl_vault,
    import_omiga_hdf5,
    observation_mode,
)
from omiga.errors import BackendUnavailableError, DatasetError, UnknownNameError

T = 7
HOPPER = "mamujoco_hopper_3x1"


def _official_views(state: np.ndarray, n_agents: int) -> np.ndarray:
    """OMIGA's wrapper, written out: per agent v = [state, e_i], then (v - mean(v)) / std(v)."""
    views = []
    for i in range(n_agents):
        v = np.concatenate([state, np.broadcast_to(np.eye(n_agents)[i], state.shape[:-1] + (n_agents,))], axis=-1)
        views.append((v - v.mean(axis=-1, keepdims=True)) / v.std(axis=-1, keepdims=True))
    return np.stack(views, axis=-2)


def _write_omiga_hdf5(path, *, n_agents: int = 3, state_dim: int = 11, act_dim: int = 1, raw_ids: bool = False,
                      seed: int = 0):
    """A file in OMIGA's exact layout (Hopper 3x1 by default): o = s = z([state, e_i]) [T, N, S + N]."""
    rng = np.random.default_rng(seed)
    state = rng.standard_normal((T, state_dim)) * 2 + 1
    views = _official_views(state, n_agents)
    if raw_ids:  # the unnormalised [state, id] vectors (not what OMIGA's wrapper writes)
        views = np.concatenate([np.repeat(state[:, None], n_agents, 1),
                                np.broadcast_to(np.eye(n_agents), (T, n_agents, n_agents))], axis=2)
    d = np.zeros((T, 1))
    d[2] = 1
    arrays = {"s": views.astype(np.float32), "o": views.astype(np.float32),
              "a": rng.uniform(-1, 1, (T, n_agents, act_dim)).astype(np.float32),
              "r": np.arange(T, dtype=np.float64)[:, None], "d": d}
    with h5py.File(path, "w") as file:
        for key, value in arrays.items():
            file[key] = value
    return arrays, state


def test_omiga_hdf5_round_trip(tmp_path):
    raw, _ = _write_omiga_hdf5(tmp_path / "Hopper-v2-3x1-expert.hdf5")
    data = import_omiga_hdf5(tmp_path / "Hopper-v2-3x1-expert.hdf5", task=HOPPER, quality="expert", episode_limit=3)
    # steps 0-2 end in the terminal d[2]; then 3-step time limits cut 3-5 and the file's end at 6
    np.testing.assert_array_equal(data.terminals, [0, 0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(data.truncations, [0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(data.episode_returns, [0 + 1 + 2, 3 + 4 + 5, 6])
    # Hopper's v2 and v5 states are the same 11 entries and agent i drives actuator i in both: o is kept
    np.testing.assert_allclose(data.obs, raw["o"], atol=2e-6)
    np.testing.assert_allclose(data.state, raw["o"].reshape(T, 3 * 14), atol=2e-6)
    np.testing.assert_array_equal(data.actions, raw["a"])
    assert (data.discrete, data.act_dim, data.obs_dim, data.state_dim, data.attrs.source, data.attrs.seed,
            data.attrs.backend) == (False, 1, 11 + 3, 3 * 14, "omiga-hdf5", None, "mamujoco")
    reloaded = load_dataset(save_dataset(data, tmp_path / "canonical.h5"))
    np.testing.assert_array_equal(reloaded.obs, data.obs)
    assert reloaded.attrs == data.attrs
    assert observation_mode(reloaded.attrs) == "global"  # evaluate in the env mode the data were converted to


def test_omiga_hdf5_ant_drops_the_world_body_forces_and_reassigns_actuators(tmp_path):
    raw, state = _write_omiga_hdf5(tmp_path / "ant.hdf5", n_agents=2, state_dim=111, act_dim=4)
    data = import_omiga_hdf5(tmp_path / "ant.hdf5", task="mamujoco_ant_2x4", quality="expert")
    v5_state = np.delete(state, np.arange(27, 33), axis=1)  # Ant-v5 lacks the world body's 6 contact forces
    np.testing.assert_allclose(data.obs, _official_views(v5_state, 2), atol=1e-5)
    assert (data.obs_dim, data.state_dim) == (105 + 2, 2 * 107)
    # OMIGA: agent 0 -> actuators 0-3, agent 1 -> 4-7; gymnasium-robotics: agent 0 -> 2, 3, 4, 5, agent 1 -> 6, 7, 0, 1
    flat = raw["a"].reshape(T, 8)
    np.testing.assert_array_equal(data.actions[:, 0], flat[:, [2, 3, 4, 5]])
    np.testing.assert_array_equal(data.actions[:, 1], flat[:, [6, 7, 0, 1]])


def test_omiga_hdf5_refuses_other_layouts_and_tasks(tmp_path):
    _write_omiga_hdf5(tmp_path / "raw.hdf5", raw_ids=True)
    with pytest.raises(DatasetError, match=r"step 0, agent 0 is not OMIGA's z-scored \[state, id\] vector"):
        import_omiga_hdf5(tmp_path / "raw.hdf5", task=HOPPER, quality="q")
    _write_omiga_hdf5(tmp_path / "cheetah.hdf5", n_agents=6, state_dim=17)
    with pytest.raises(DatasetError, match=r"OMIGA's Hopper-v2 3-agent data have observations \[T, 3, 14\] "
                                           r"\(11 state \+ 3 id entries\).*got \(7, 6, 23\)"):
        import_omiga_hdf5(tmp_path / "cheetah.hdf5", task=HOPPER, quality="q")
    with pytest.raises(UnknownNameError, match="unknown MaMuJoCo task with OMIGA data 'smac_corridor'"):
        import_omiga_hdf5(tmp_path / "cheetah.hdf5", task="smac_corridor", quality="q")


def test_omiga_hdf5_agents_must_see_one_state(tmp_path):
    _write_omiga_hdf5(tmp_path / "a.hdf5")
    with h5py.File(tmp_path / "a.hdf5", "r+") as file:
        o = file["o"][()]
        o[4, 2] = _official_views(np.random.default_rng(5).standard_normal((1, 11)), 3)[0, 2]
        del file["o"]
        file["o"] = o
    with pytest.raises(DatasetError, match="step 4: the agents' vectors hold different states"):
        import_omiga_hdf5(tmp_path / "a.hdf5", task=HOPPER, quality="q")


def test_omiga_hdf5_missing_keys_are_named(tmp_path):
    with h5py.File(tmp_path / "x.hdf5", "w") as file:
        file["s"] = np.zeros((2, 3))
    with pytest.raises(DatasetError, match=r"x\.hdf5 lacks the OMIGA keys o, a, r, d \(expected s, o, a, r, d\)"):
        import_omiga_hdf5(tmp_path / "x.hdf5", task=HOPPER, quality="q")


MADT_TASK, MADT_ACTIONS = "smac_2c_vs_64zg", 6 + 64  # 2 agents


def _madt_episode(n_steps: int, *, offset: float, last_done: bool = True, agent0_dies_at: int | None = None) -> list:
    """One MADT episode: per agent a list of [g, o, [a], [r], [d], ava] steps (2 agents, 70 actions).

    Agent a's state is ``offset + t + 100 a``; a dead agent 0 has a zero state (``use_mustalive``), its done set
    and only no-op available, as the MAPPO SMAC env writes them.
    """
    trajectories = []
    for agent in range(2):
        steps = []
        for t in range(n_steps):
            dead = agent == 0 and agent0_dies_at is not None and t >= agent0_dies_at
            g = np.zeros(4, np.float32) if dead else np.full(4, offset + t + 100 * agent, dtype=np.float32)
            o = [offset + t + agent * 0.5] * 2
            ava = [1, 0, 0] if dead else [1, 1, int(t % 2 == 0)]
            action = 0 if dead else t % 2
            done = dead or (last_done and t == n_steps - 1)
            steps.append([g, o, [action], [offset + t], [done], ava + [0] * (MADT_ACTIONS - 3)])
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
        import_madt(source, task=MADT_TASK, quality="good")


def test_madt_round_trip(tmp_path):
    data = import_dataset(_write_madt(tmp_path / "good"), format="madt", task=MADT_TASK, quality="good",
                          trust_pickle=True)
    assert (len(data), data.n_agents, data.obs_dim, data.state_dim, data.n_actions) == (6, 2, 2, 2 * 4, 70)
    np.testing.assert_array_equal(data.terminals, [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(data.truncations, [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(data.episode_returns, [0 + 1 + 2, 10 + 11, 20])
    np.testing.assert_array_equal(data.actions[:, 1], [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(data.state[:, 0], [0, 1, 2, 10, 11, 20])  # agent 0's state, then agent 1's
    np.testing.assert_array_equal(data.state[:, 4], [100, 101, 102, 110, 111, 120])
    np.testing.assert_array_equal(data.obs[:, 1, 0], [0.5, 1.5, 2.5, 10.5, 11.5, 20.5])
    np.testing.assert_array_equal(data.avail_actions[:, 0, 2], [1, 0, 1, 1, 0, 1])
    assert data.attrs.source == "madt" and data.attrs.n_episodes == 3 and data.attrs.backend == "sc2"
    assert observation_mode(data.attrs) == "local"


def test_madt_state_keeps_the_living_agents_after_agent_0_dies(tmp_path):
    torch.save(_madt_episode(4, offset=1.0, agent0_dies_at=1), tmp_path / "ep.pt")
    data = import_madt(tmp_path / "ep.pt", task=MADT_TASK, quality="good", trust_pickle=True)
    np.testing.assert_array_equal(data.state[:, :4], np.repeat([[1.0], [0], [0], [0]], 4, axis=1))  # agent 0 dies
    np.testing.assert_array_equal(data.state[:, 4:], np.repeat([[101.0], [102], [103], [104]], 4, axis=1))
    # agent 0's early done flags are a death, not the episode's end
    np.testing.assert_array_equal(data.terminals, [0, 0, 0, 1])
    np.testing.assert_array_equal(data.actions[:, 0], [0, 0, 0, 0])


def test_madt_is_checked_against_the_task(tmp_path):
    torch.save(_madt_episode(2, offset=0.0), tmp_path / "ep.pt")
    with pytest.raises(DatasetError, match=r"ep\.pt does not fit task smac_corridor \(nothing was written\):\n"
                                           r"  - agents: 2 in the data, 6 in smac_corridor's environment\n"
                                           r"  - action ids: 70 in the data, 30 in smac_corridor's environment"):
        import_madt(tmp_path / "ep.pt", task="smac_corridor", quality="good", trust_pickle=True)
    with pytest.raises(DatasetError, match="MADT episode files hold SMAC data; import them into a SMAC task"):
        import_madt(tmp_path / "ep.pt", task="toy_coop", quality="good", trust_pickle=True)


def test_madt_ragged_agents_are_refused(tmp_path):
    episode = _madt_episode(3, offset=0.0)
    episode[1] = episode[1][:2]
    torch.save(episode, tmp_path / "ep.pt")
    with pytest.raises(DatasetError, match=r"ep\.pt: agents' trajectories have lengths \[3, 2\]"):
        import_madt(tmp_path / "ep.pt", task=MADT_TASK, quality="q", trust_pickle=True)


def test_madt_malformed_step_names_agent_and_step(tmp_path):
    episode = _madt_episode(3, offset=0.0)
    episode[1][2] = episode[1][2][:4]
    torch.save(episode, tmp_path / "ep.pt")
    with pytest.raises(DatasetError, match=r"ep\.pt: agent 1, step 2 is not \[g, o, a, r, d, ava\]"):
        import_madt(tmp_path / "ep.pt", task=MADT_TASK, quality="q", trust_pickle=True)


def test_madt_unreadable_file(tmp_path):
    (tmp_path / "ep.pt").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"cannot read MADT episode file .*ep\.pt"):
        import_madt(tmp_path / "ep.pt", task=MADT_TASK, quality="q", trust_pickle=True)


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="unknown dataset format 'ogmarl'; known dataset formats: madt, "
                                               "og-marl-vault, omiga-hdf5"):
        import_dataset(tmp_path, format="ogmarl", task="t", quality="q")


def test_omiga_ant_file_from_real_states_imports_as_the_global_mode_observes(tmp_path):
    """A file in OMIGA's exact Ant-v2 2x4 layout, made from real v5 states (world body forces 0, as v2 has them),
    imports into the observations and per-agent actions that gymnasium-robotics' obs_mode global shows and takes."""
    from omiga.envs.mamujoco import make_mamujoco_vector_env

    local = make_mamujoco_vector_env(scenario="Ant", agent_conf="2x4", n_envs=1, seed=0, max_episode_steps=5)
    env = make_mamujoco_vector_env(scenario="Ant", agent_conf="2x4", n_envs=1, seed=0, obs_mode="global",
                                   max_episode_steps=5)
    rng = np.random.default_rng(0)
    states, views, ours = [local.reset(seed=4).state[0]], [env.reset(seed=4).obs[0]], []
    for _ in range(4):
        action = rng.uniform(-1, 1, (1, 2, 4)).astype(np.float32)
        ours.append(action[0])
        states.append(local.step(action).state[0])
        views.append(env.step(action).obs[0])
    ours.append(np.zeros((2, 4), np.float32))
    v2 = np.insert(np.stack(states), 27, np.zeros((6, 1)), axis=1)  # [T, 111]
    flat = np.zeros((5, 8), np.float32)  # OMIGA's agent i drives actuators 4i .. 4i + 3
    flat[:, [2, 3, 4, 5]], flat[:, [6, 7, 0, 1]] = np.stack(ours)[:, 0], np.stack(ours)[:, 1]
    with h5py.File(tmp_path / "Ant-v2-2x4-expert.hdf5", "w") as file:
        file["o"] = file["s"] = _official_views(v2, 2).astype(np.float32)
        file["a"], file["r"], file["d"] = flat.reshape(5, 2, 4), np.zeros((5, 1)), np.zeros((5, 1))
    data = import_omiga_hdf5(tmp_path / "Ant-v2-2x4-expert.hdf5", task="mamujoco_ant_2x4", quality="expert")
    np.testing.assert_allclose(data.obs, np.stack(views), atol=1e-5)
    np.testing.assert_array_equal(data.actions, np.stack(ours))
    assert (data.obs_dim, data.state_dim) == (env.obs_dim, env.state_dim)


def test_vault_without_flashbax_names_the_pip_install(tmp_path, monkeypatch):
    import builtins

    vault = tmp_path / "corridor.vlt" / "Good"
    vault.mkdir(parents=True)
    (vault / "metadata.json").write_text('{"version": 2.0}')
    with pytest.raises(DatasetError, match=r"Good is a Flashbax vault of version 2\.0; this importer reads version 1"):
        import_og_marl_vault(vault, task="smac_corridor")
    (vault / "metadata.json").write_text('{"version": 1.2}')
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("flashbax"):
            raise ImportError("No module named 'flashbax'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendUnavailableError, match=r"reading a Flashbax vault needs flashbax .*: "
                                                      r"pip install flashbax==0\.1\.3"):
        import_og_marl_vault(vault, task="smac_corridor")


def test_omiga_train_evaluates_an_imported_omiga_file_in_the_global_mode(tmp_path, monkeypatch):
    import json

    from omiga import cli

    monkeypatch.setattr(cli, "COMMANDS", ("datasets", "train"))
    _write_omiga_hdf5(tmp_path / "hopper.hdf5")
    assert cli.main(["datasets", "import", "--format", "omiga-hdf5", str(tmp_path / "hopper.hdf5"), "--task",
                     HOPPER, "--quality", "expert", "--out", str(tmp_path / "hopper.h5")]) == 0
    assert cli.main(["train", "--dataset", str(tmp_path / "hopper.h5"), "--alpha", "1", "--steps", "2",
                     "--batch-size", "4", "--hidden", "8", "--eval-every", "2", "--eval-episodes", "1",
                     "--no-progress", "--threads", "1", "--out", str(tmp_path / "run")]) == 0
    member = json.loads((tmp_path / "run" / "result.json").read_text())["members"][0]
    assert member["status"] == "ok" and [p["step"] for p in member["eval_curve"]] == [2]
