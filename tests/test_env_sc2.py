"""StarCraft II adapter against a fake of smac's StarCraft2Env API (StarCraft II cannot run here)."""

from __future__ import annotations

import builtins
from typing import ClassVar

import numpy as np
import pytest

from omiga.envs.base import VectorEnv, episode_seed
from omiga.envs.sc2 import SC2_INSTALL_HINT, make_sc2_vector_env
from omiga.errors import BackendUnavailableError, ConfigError

N_AGENTS, OBS, STATE, N_ACTIONS = 3, 4, 5, 6


class FakeStarCraft2Env:
    """The StarCraft2Env API: agent i may use actions 0..i+3; the episode ends after ``ending[0]`` steps."""

    created: ClassVar[list[FakeStarCraft2Env]] = []
    ending: ClassVar[tuple[int, dict]] = (3, {"battle_won": True})

    def __init__(self, *, map_name: str, seed: int):
        self.map_name, self.seed, self.t, self.resets, self.closed = map_name, seed, 0, 0, False
        self.actions: list[list[int]] = []
        FakeStarCraft2Env.created.append(self)

    def get_env_info(self) -> dict:
        return {"n_agents": N_AGENTS, "obs_shape": OBS, "state_shape": STATE, "n_actions": N_ACTIONS,
                "episode_limit": 3}

    def reset(self):
        self.t, self.resets = 0, self.resets + 1

    def get_obs(self):
        return [np.full(OBS, 10 * self.t + i, dtype=np.float64) for i in range(N_AGENTS)]

    def get_state(self):
        return np.full(STATE, self.seed % 1000 + self.t, dtype=np.float64)

    def get_avail_actions(self):
        return [[1 if a <= i + 3 else 0 for a in range(N_ACTIONS)] for i in range(N_AGENTS)]

    def step(self, actions):
        self.t += 1
        self.actions.append(actions)
        steps, info = self.ending
        return 1.5, self.t >= steps, (dict(info) if self.t >= steps else {})

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def _fresh_fake():
    FakeStarCraft2Env.created = []
    FakeStarCraft2Env.ending = (3, {"battle_won": True})


def _env(n_envs: int = 2, seed: int = 0):
    return make_sc2_vector_env(map_name="corridor", n_envs=n_envs, seed=seed, env_class=FakeStarCraft2Env)


def test_shapes_dtypes_and_avail_masks():
    env = _env()
    assert isinstance(env, VectorEnv) and env.backend == "sc2" and env.discrete and env.act_dim is None
    assert (env.n_agents, env.obs_dim, env.state_dim, env.n_actions) == (N_AGENTS, OBS, STATE, N_ACTIONS)
    first = env.reset(seed=0)
    assert first.obs.shape == (2, N_AGENTS, OBS) and first.obs.dtype == np.float32
    assert first.state.shape == (2, STATE) and first.state.dtype == np.float32
    assert first.avail_actions.dtype == bool
    np.testing.assert_array_equal(first.avail_actions[0].sum(axis=1), [4, 5, 6])
    step = env.step(np.zeros((2, N_AGENTS), dtype=np.int64))
    np.testing.assert_array_equal(step.reward, [1.5, 1.5])
    np.testing.assert_array_equal(step.obs[1, :, 0], [10, 11, 12])
    assert FakeStarCraft2Env.created[0].actions == [[0, 0, 0]]
    assert all(isinstance(a, int) for a in FakeStarCraft2Env.created[0].actions[0])


@pytest.mark.parametrize(("info", "won", "terminated", "truncated"), [
    ({"battle_won": True}, True, True, False),
    ({"battle_won": False}, False, True, False),
    ({"battle_won": False, "episode_limit": True}, False, False, True),
])
def test_won_terminated_and_truncated_come_from_smac_info(info, won, terminated, truncated):
    FakeStarCraft2Env.ending = (2, info)
    env = _env()
    env.reset(seed=0)
    actions = np.zeros((2, N_AGENTS), dtype=np.int64)
    mid, end = env.step(actions), env.step(actions)
    assert not (mid.terminated.any() or mid.truncated.any() or mid.won.any())
    np.testing.assert_array_equal(end.won, [won, won])
    np.testing.assert_array_equal(end.terminated, [terminated, terminated])
    np.testing.assert_array_equal(end.truncated, [truncated, truncated])
    restarted = env.step(np.full((2, N_AGENTS), 99))  # actions of finished envs are ignored
    np.testing.assert_array_equal(restarted.reward, 0.0)
    assert [fake.resets for fake in FakeStarCraft2Env.created] == [2, 2]


def test_unavailable_actions_and_bad_shapes_are_rejected():
    env = _env()
    env.reset(seed=0)
    actions = np.zeros((2, N_AGENTS), dtype=np.int64)
    actions[1, 0] = 5
    with pytest.raises(ConfigError, match=r"sc2 env 1: agent 0 chose action 5, which is not available "
                                          r"\(available: \[0, 1, 2, 3\]\); mask the policy's choices"):
        env.step(actions)
    with pytest.raises(ConfigError, match=r"integer actions of shape \[E, N\] = \(2, 3\), got float64 \(2, 3\)"):
        env.step(np.zeros((2, N_AGENTS)))


def test_reset_with_another_seed_relaunches_seeded_games():
    env = _env(seed=1)
    launch_seeds = [fake.seed for fake in FakeStarCraft2Env.created]
    assert len(set(launch_seeds)) == 2
    env.reset(seed=1)
    assert len(FakeStarCraft2Env.created) == 2
    env.reset(seed=2)
    assert len(FakeStarCraft2Env.created) == 4 and all(f.closed for f in FakeStarCraft2Env.created[:2])
    assert [f.seed for f in FakeStarCraft2Env.created[2:]] != launch_seeds
    assert [f.seed for f in FakeStarCraft2Env.created[2:]] == [episode_seed(2, e, 0) for e in range(2)]


def test_missing_smac_says_exactly_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("smac"):
            raise ImportError("No module named 'smac'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendUnavailableError) as caught:
        make_sc2_vector_env(map_name="corridor", n_envs=1, seed=0)
    message = str(caught.value)
    assert message.startswith("the sc2 backend needs the `smac` package (No module named 'smac'): ")
    for needed in ("pip install git+https://github.com/oxwhirl/smac.git", "StarCraft II 4.10", "SC2PATH",
                   "SMAC_Maps"):
        assert needed in message and needed in SC2_INSTALL_HINT


def test_smac_without_starcraft_ii_names_the_missing_sc2path(monkeypatch, tmp_path):
    import sys
    import types
    fake_smac_env = types.ModuleType("smac.env")
    fake_smac_env.StarCraft2Env = FakeStarCraft2Env
    monkeypatch.setitem(sys.modules, "smac", types.ModuleType("smac"))
    monkeypatch.setitem(sys.modules, "smac.env", fake_smac_env)
    monkeypatch.setenv("SC2PATH", str(tmp_path / "nowhere"))
    with pytest.raises(BackendUnavailableError, match=f"StarCraft II was not found at {tmp_path / 'nowhere'}: "):
        make_sc2_vector_env(map_name="corridor", n_envs=1, seed=0)
    monkeypatch.setenv("SC2PATH", str(tmp_path))
    assert make_sc2_vector_env(map_name="corridor", n_envs=1, seed=0).n_agents == N_AGENTS
