"""Factorised and correlated datasets: the shared-uniform sampler keeps every agent's marginal and correlates the
team, the quality suffix names the file and the behaviour, and builders without it refuse it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from omiga.behaviour.networks import masked_logits
from omiga.behaviour.policy import LearnedPolicy, shared_inverse_cdf_actions
from omiga.data.coverage import plugin_conditional_mutual_information
from omiga.errors import ConfigError, UnknownNameError
from omiga.tasks import (
    build_dataset,
    dataset_path,
    get_task,
    parse_quality,
    split_correlation,
    with_correlation,
)

DRAWS = 20_000


def _logits() -> jax.Array:
    """Three agents, five actions, different policies, action 3 unavailable to agent 1."""
    raw = jnp.array([[0.5, -1.0, 2.0, 0.0, 0.3], [1.0, 1.0, -0.5, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    avail = jnp.ones((3, 5), bool).at[1, 3].set(False)
    return masked_logits(raw, avail)


def _empirical(actions: np.ndarray, n_actions: int = 5) -> np.ndarray:
    return np.stack([np.bincount(actions[:, i], minlength=n_actions) / len(actions) for i in range(actions.shape[1])])


def test_the_shared_sampler_keeps_each_marginal_and_correlates_the_team():
    logits = _logits()
    policy = np.asarray(jax.nn.softmax(logits, axis=-1))
    u = jax.random.uniform(jax.random.PRNGKey(0), (DRAWS,))
    shared = np.asarray(shared_inverse_cdf_actions(logits[None], u))  # [DRAWS, 3]: one u per team draw
    independent = np.asarray(jax.random.categorical(jax.random.PRNGKey(1), logits, shape=(DRAWS, 3)))
    tolerance = 5 * np.sqrt(0.25 / DRAWS)  # five binomial standard deviations at p = 1/2
    for actions in (shared, independent):
        assert np.abs(_empirical(actions) - policy).max() < tolerance
        assert not (actions[:, 1] == 3).any()  # never an unavailable action
    mi_shared = plugin_conditional_mutual_information(shared[:, 0], shared[:, 1])
    mi_independent = plugin_conditional_mutual_information(independent[:, 0], independent[:, 1])
    assert mi_independent < 0.003 and mi_shared > 0.2  # plug-in bias (4 x 3 cells) / 2n is about 3e-4


def test_the_inverse_cdf_at_known_points():
    logits = jnp.log(jnp.array([[0.2, 0.0, 0.5, 0.3]]) + 1e-30)
    u = jnp.array([0.0, 0.19, 0.21, 0.69, 0.71, 1 - 1e-7])
    actions = np.asarray(shared_inverse_cdf_actions(logits[None], u))[:, 0]
    np.testing.assert_array_equal(actions, [0, 0, 2, 2, 3, 3])  # action 1 has probability 0: never drawn


def test_quality_suffix_names_correlation_file_and_parts(tmp_path):
    task = get_task("smac_corridor")
    assert split_correlation("medium@shared") == ("medium", "shared")
    assert split_correlation("good+poor") == ("good+poor", "independent")
    assert parse_quality(task, "good+poor@shared") == ("good", "poor")
    assert with_correlation("medium", "shared") == "medium@shared" == with_correlation("medium@shared", "shared")
    assert with_correlation("medium", "independent") == "medium"
    assert dataset_path(task, quality="medium@shared", cache_dir=tmp_path).name == "smax-v3-medium@shared.h5"
    with pytest.raises(UnknownNameError, match="unknown dataset variant 'team'.*write e.g. medium@shared"):
        parse_quality(task, "medium@team")
    with pytest.raises(ConfigError, match="correlation 'team' must be one of independent, shared"):
        LearnedPolicy(checkpoints=("a.npz",), digests=("0",), correlation="team")
    described = LearnedPolicy(checkpoints=("a.npz",), digests=("0",), correlation="shared").describe()
    assert "one shared uniform per step" in described and "correlation shared" in described


def test_builders_without_correlated_sampling_refuse_it(tmp_path):
    with pytest.raises(ConfigError, match="option --correlation .* does not apply to task 'toy_coop'"):
        build_dataset("toy_coop", quality="medium@shared", episodes=2, seed=0, path=tmp_path / "t.h5")
    with pytest.raises(ConfigError, match="needs the learned behaviour"):
        build_dataset("smac_corridor", quality="medium@shared", episodes=2, seed=0, path=tmp_path / "s.h5",
                      behavior="scripted-v2")
    from omiga.data.build_smax import build_smax_dataset

    with pytest.raises(ConfigError, match="names correlation 'independent' but correlation='shared'"):
        build_smax_dataset(task="smac_corridor", quality="medium", episodes=2, seed=0, path=tmp_path / "m.h5",
                           correlation="shared")
    assert not any(tmp_path.iterdir())
