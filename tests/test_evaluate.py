"""Population evaluation: replays the builder's battles for a seed; member slots are independent."""

from __future__ import annotations

import numpy as np
import pytest

from omiga.data.behavior_smax import QUALITY_POLICIES, ScriptedPopulationPolicy
from omiga.data.io import load_dataset
from omiga.envs.smax_scenarios import get_scenario
from omiga.evaluate import EvalResult, cached_vector_env, evaluate_population
from omiga.tasks import build_dataset

EPISODES, SEED = 3, 11
SCENARIO = get_scenario("corridor")


def population(*qualities: str) -> ScriptedPopulationPolicy:
    return ScriptedPopulationPolicy([QUALITY_POLICIES[q] for q in qualities], scenario=SCENARIO, seed=0)


@pytest.fixture(scope="module")
def good_poor():
    return evaluate_population(population("good", "poor"), task="smac_corridor", episodes=EPISODES, seed=SEED)


def test_scripted_good_policy_replays_the_built_returns(good_poor, tmp_path):
    path = build_dataset("smac_corridor", quality="good", episodes=EPISODES, seed=SEED, path=tmp_path / "g.h5")
    recorded = load_dataset(path)
    good = good_poor[0]
    assert isinstance(good, EvalResult) and len(good.returns) == EPISODES
    np.testing.assert_allclose(good.returns, recorded.episode_returns, rtol=1e-5)
    lengths = recorded.episode_ends - recorded.episode_starts + 1
    assert good.mean_length == pytest.approx(lengths.mean())
    assert good.mean_return == pytest.approx(np.mean(good.returns))
    assert 0.0 <= good.win_rate <= 1.0


def test_member_slots_are_independent(good_poor):
    poor_poor = evaluate_population(population("poor", "poor"), task="smac_corridor", episodes=EPISODES,
                                    seed=SEED)
    assert poor_poor[1] == good_poor[1]  # member 1 is unaffected by what member 0 does
    assert poor_poor[0] != good_poor[0]


def test_compiled_env_is_reused(good_poor):
    env = cached_vector_env("smac_corridor", n_envs=2 * EPISODES)
    evaluate_population(population("good", "good"), task="smac_corridor", episodes=EPISODES, seed=SEED)
    assert cached_vector_env("smac_corridor", n_envs=2 * EPISODES) is env
    assert env._step._cache_size() == 1
