"""Population evaluation: replays the builder's battles and behaviour draws for a seed; member slots are
independent."""

from __future__ import annotations

import numpy as np
import pytest

from omiga.data.behavior_smax import QUALITY_POLICIES, ScriptedPolicy, ScriptedPopulationPolicy
from omiga.data.io import load_dataset
from omiga.envs.smax_scenarios import get_scenario
from omiga.evaluate import EvalResult, cached_vector_env, evaluate_population
from omiga.tasks import build_dataset

EPISODES, SEED = 3, 11
SCENARIO = get_scenario("corridor")


def population(*qualities: str) -> ScriptedPopulationPolicy:
    # the builder of seed s draws its behaviour from seed s + 1: the same keys replay its episodes exactly
    return ScriptedPopulationPolicy([QUALITY_POLICIES[q] for q in qualities], scenario=SCENARIO, seed=SEED + 1)


@pytest.fixture(scope="module")
def good_poor():
    return evaluate_population(population("good", "poor"), task="smac_corridor", episodes=EPISODES, seed=SEED)


@pytest.mark.parametrize("member, quality", [(0, "good"), (1, "poor")])
def test_scripted_policies_replay_the_built_returns(good_poor, tmp_path, member, quality):
    """ε-noise and the per-episode strategy draw included, member m replays the builder's episodes m·E..m·E+E-1."""
    path = build_dataset("smac_corridor", quality=quality, episodes=(member + 1) * EPISODES, seed=SEED,
                         path=tmp_path / "d.h5", behavior="scripted-v2")
    recorded = load_dataset(path)
    result = good_poor[member]
    assert isinstance(result, EvalResult) and len(result.returns) == EPISODES
    np.testing.assert_allclose(result.returns, recorded.episode_returns[member * EPISODES:], rtol=1e-5)
    ends, starts = recorded.episode_ends[member * EPISODES:], recorded.episode_starts[member * EPISODES:]
    lengths = ends - starts + 1
    assert result.mean_length == pytest.approx(lengths.mean())
    assert result.mean_return == pytest.approx(np.mean(result.returns))
    assert 0.0 <= result.win_rate <= 1.0


def test_scattering_loses_where_holding_wins():
    """The bad decision of the poor and medium data is bad: pure scatter scores below pure hold in every battle."""
    hold, scatter = ScriptedPolicy(scatter_prob=0.0, epsilon=0.0), ScriptedPolicy(scatter_prob=1.0, epsilon=0.0)
    results = evaluate_population(ScriptedPopulationPolicy([hold, scatter], scenario=SCENARIO, seed=0),
                                  task="smac_corridor", episodes=EPISODES, seed=SEED)
    assert (np.array(results[1].returns) < np.array(results[0].returns) - 3.0).all()
    assert results[1].win_rate == 0.0


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
