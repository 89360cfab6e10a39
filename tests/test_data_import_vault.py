"""OG-MARL vault import: vaults written by flashbax's own writer (``flashbax.vault.Vault``) at toy size."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from omiga.data import load_dataset
from omiga.data.importers import import_dataset, import_og_marl_vault, observation_mode
from omiga.envs.mamujoco import omiga_agent_views
from omiga.errors import DatasetError

fbx = pytest.importorskip("flashbax", reason="the og-marl-vault importer needs flashbax (pip install flashbax==0.1.3)")
jnp = pytest.importorskip("jax.numpy")

T = 9
SMAC_TASK, SMAC_ACTIONS, SMAC_STATE = "smac_2c_vs_64zg", 6 + 64, 5  # 2 agents


def _write_vault(root, name: str, uid: str, experience: dict) -> object:
    """``experience`` (leaves ``[T, ...]``) added to a flashbax trajectory buffer and written to a vault."""
    from flashbax.vault import Vault

    buffer = fbx.make_trajectory_buffer(add_batch_size=1, sample_batch_size=1, sample_sequence_length=1, period=1,
                                        min_length_time_axis=1, max_length_time_axis=2 * T)
    first = {key: (jnp.asarray(value[0]) if not isinstance(value, dict) else
                   {k: jnp.asarray(v[0]) for k, v in value.items()}) for key, value in experience.items()}
    state = buffer.init(first)
    batch = {key: (jnp.asarray(value)[None] if not isinstance(value, dict) else
                   {k: jnp.asarray(v)[None] for k, v in value.items()}) for key, value in experience.items()}
    state = buffer.add(state, batch)
    vault = Vault(vault_name=name, experience_structure=state.experience, rel_dir=str(root), vault_uid=uid)
    assert vault.write(state) == T
    return root / name / uid


def _smac_experience(*, rewards_differ: bool = False) -> dict:
    """Two episodes (steps 0-4 won, 5-8 cut by the time limit); agent 0 dies at step 2 (its terminal set early)."""
    rng = np.random.default_rng(0)
    legals = np.zeros((T, 2, SMAC_ACTIONS), np.float32)
    legals[:, :, :4] = 1
    legals[2:5, 0] = 0
    legals[2:5, 0, 0] = 1  # dead: only no-op
    actions = rng.integers(1, 4, (T, 2)).astype(np.int32)
    actions[2:5, 0] = 0
    terminals = np.zeros((T, 2), np.float32)
    terminals[2:5, 0] = 1
    terminals[4] = 1
    truncations = np.zeros((T, 2), np.float32)
    truncations[8] = 1
    rewards = np.repeat(np.arange(T, dtype=np.float32)[:, None], 2, axis=1)
    if rewards_differ:
        rewards[3, 1] += 1
    return {"observations": rng.standard_normal((T, 2, 6)).astype(np.float32), "actions": actions,
            "rewards": rewards, "terminals": terminals, "truncations": truncations,
            "infos": {"legals": legals, "state": rng.standard_normal((T, SMAC_STATE)).astype(np.float32)}}


def _hopper_experience() -> tuple[dict, np.ndarray]:
    """OMIGA's Hopper 3x1 data as OG-MARL's vault holds them: z-scored [state, id] views, state agent 0's view."""
    rng = np.random.default_rng(1)
    state = rng.standard_normal((T, 11)) * 2
    views = omiga_agent_views(state, 3)
    terminals = np.zeros((T, 3), np.float32)
    terminals[3] = 1
    return ({"observations": views, "actions": rng.uniform(-1, 1, (T, 3, 1)).astype(np.float32),
             "rewards": np.repeat(rng.standard_normal((T, 1)).astype(np.float32), 3, axis=1),
             "terminals": terminals, "truncations": np.zeros((T, 3), np.float32),
             "infos": {"state": views[:, 0]}}, state)


def _tree_digest(directory) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def vaults(tmp_path_factory):
    root = tmp_path_factory.mktemp("vaults")
    smac = _smac_experience()
    hopper, hopper_state = _hopper_experience()
    return {"root": root, "smac": smac, "hopper": hopper, "hopper_state": hopper_state,
            "smac_path": _write_vault(root, "2c_vs_64zg.vlt", "Good", smac),
            "hopper_path": _write_vault(root, "3hopper.vlt", "Medium-Replay", hopper)}


def test_smac_vault_imports_as_stored_and_is_never_written(vaults):
    before = _tree_digest(vaults["smac_path"])
    data = import_dataset(vaults["smac_path"], format="og-marl-vault", task=SMAC_TASK)
    assert _tree_digest(vaults["smac_path"]) == before
    raw = vaults["smac"]
    np.testing.assert_array_equal(data.obs, raw["observations"])
    np.testing.assert_array_equal(data.state, raw["infos"]["state"])
    np.testing.assert_array_equal(data.actions, raw["actions"])
    np.testing.assert_array_equal(data.avail_actions, raw["infos"]["legals"].astype(bool))
    # agent 0's early terminal flags (steps 2-3) are its death, not an episode end
    np.testing.assert_array_equal(np.flatnonzero(data.terminals), [4])
    np.testing.assert_array_equal(np.flatnonzero(data.truncations), [8])
    np.testing.assert_array_equal(data.episode_returns, [0 + 1 + 2 + 3 + 4, 5 + 6 + 7 + 8])
    assert (data.attrs.quality, data.attrs.source, data.attrs.backend, data.attrs.task) == (
        "good", "og-marl-vault", "sc2", SMAC_TASK)
    assert observation_mode(data.attrs) == "local"


def test_mamujoco_vault_matches_the_omiga_conversion_and_trains(vaults, tmp_path):
    from omiga.config import MemberConfig, NetworkConfig, TrainConfig
    from omiga.evaluate import evaluate_population
    from omiga.train import train_population

    data = import_og_marl_vault(vaults["hopper_path"], task="mamujoco_hopper_3x1")
    np.testing.assert_allclose(data.obs, omiga_agent_views(vaults["hopper_state"], 3), atol=1e-5)
    assert (data.obs_dim, data.state_dim, data.attrs.quality, data.attrs.backend) == (
        14, 42, "medium-replay", "mamujoco")
    np.testing.assert_array_equal(np.flatnonzero(data.terminals), [3])
    np.testing.assert_array_equal(np.flatnonzero(data.truncations), [8])
    # trains, and the policy runs in gymnasium-robotics' obs_mode global (same observation size and transform)
    assert observation_mode(data.attrs) == "global"
    results = train_population(
        data, config=TrainConfig(steps=4, batch_size=4, eval_every=4, network=NetworkConfig(hidden=8)),
        members=[MemberConfig(seed=0, alpha=1.0)], out_dir=tmp_path,
        evaluate=lambda policy, step: evaluate_population(policy, task="mamujoco_hopper_3x1", episodes=1,
                                                          seed=step, obs_mode=observation_mode(data.attrs)))
    assert results[0].status == "ok" and [p.step for p in results[0].eval_curve] == [4]
    assert np.isfinite(results[0].final_return)


def test_vault_cli_import_and_refusals(vaults, tmp_path, capsys, monkeypatch):
    from omiga import cli

    monkeypatch.setattr(cli, "COMMANDS", ("datasets",))
    out = tmp_path / "corridor-good.h5"
    argv = ["datasets", "import", "--format", "og-marl-vault", str(vaults["smac_path"]), "--task", SMAC_TASK]
    assert cli.main(argv + ["--out", str(out)]) == 0
    assert f"(og-marl-vault) -> {out}" in capsys.readouterr().out
    assert load_dataset(out).attrs.quality == "good"
    inside = vaults["smac_path"] / "canonical.h5"
    assert cli.main(argv + ["--out", str(inside)]) == 2
    assert "lies inside the source directory" in capsys.readouterr().err and not inside.exists()
    assert cli.main(argv[:-1] + ["smac_corridor", "--out", str(tmp_path / "x.h5")]) == 2
    assert "agents: 2 in the data, 6 in smac_corridor's environment" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_vault_errors_are_named(vaults, tmp_path):
    with pytest.raises(DatasetError, match="no Flashbax vault at .*nothing.vlt/Good"):
        import_og_marl_vault(tmp_path / "nothing.vlt" / "Good", task=SMAC_TASK)
    with pytest.raises(DatasetError, match=r"3hopper\.vlt \(no metadata.json\); it holds the vaults Medium-Replay: "
                                           "pass one of them"):
        import_og_marl_vault(vaults["hopper_path"].parent, task="mamujoco_hopper_3x1")
    differ = _write_vault(tmp_path, "differ.vlt", "Good", _smac_experience(rewards_differ=True))
    with pytest.raises(DatasetError, match=r"the agents' rewards differ at step 3 \(\[3\.0, 4\.0\]\)"):
        import_og_marl_vault(differ, task=SMAC_TASK)
    with pytest.raises(DatasetError, match=r"OMIGA's Ant-v2 2-agent data have observations \[T, 2, 113\]"):
        import_og_marl_vault(vaults["hopper_path"], task="mamujoco_ant_2x4", quality="medium")
    with pytest.raises(DatasetError, match="the vault uid 'Medium-Replay' is not one of the task's qualities "
                                           r"\(good, medium, poor\); pass the quality explicitly"):
        import_og_marl_vault(vaults["hopper_path"], task=SMAC_TASK)
