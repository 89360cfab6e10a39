"""Tempered datasets (the coverage study's lever): the sampler draws softmax(logits / τ), the quality suffix @t<τ>
has one spelling and names the file and the behaviour, the spec crosses its temperatures with the qualities, and
builders without tempered sampling refuse it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from omiga.behaviour.networks import masked_logits
from omiga.behaviour.policy import LearnedPolicy, sample_team_actions
from omiga.data.io import load_dataset
from omiga.errors import ConfigError, UnknownNameError
from omiga.tasks import (
    build_dataset,
    dataset_path,
    get_task,
    parse_quality,
    quality_name,
    split_variants,
    with_correlation,
    with_temperature,
)
from studies.errors import StudyError
from studies.plan import resolve_plan
from studies.presets import load_preset as get_preset
from studies.spec import load_spec, parse_spec

DRAWS = 20_000


def _empirical(actions: np.ndarray, n_actions: int) -> np.ndarray:
    return np.stack([np.bincount(actions[:, i], minlength=n_actions) / len(actions) for i in range(actions.shape[1])])


@pytest.mark.parametrize("correlation", ["independent", "shared"])
@pytest.mark.parametrize("temperature", [0.25, 1.0, 3.0])
def test_the_sampler_draws_the_tempered_softmax(correlation, temperature):
    raw = jnp.array([[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, -0.5, 2.5]])
    logits = masked_logits(raw, jnp.ones((2, 4), bool).at[1, 0].set(False))
    keys = jax.random.split(jax.random.PRNGKey(3), DRAWS)
    actions = np.asarray(jax.vmap(lambda k: sample_team_actions(logits, k, correlation, temperature))(keys))
    expected = np.asarray(jax.nn.softmax(logits / temperature, axis=-1))
    assert np.abs(_empirical(actions, 4) - expected).max() < 5 * np.sqrt(0.25 / DRAWS)
    assert not (actions[:, 1] == 0).any()  # an unavailable action stays unavailable at every τ
    if temperature < 1:  # sharper than the policy: the favourite's share grows past its softmax probability
        assert _empirical(actions, 4)[0, 2] > float(jax.nn.softmax(logits[0])[2]) + 0.1


def test_the_quality_suffix_has_one_spelling():
    assert split_variants("medium@t0.1") == ("medium", "independent", 0.1)
    assert split_variants("good+poor@shared@t2") == ("good+poor", "shared", 2.0)
    assert quality_name("medium", correlation="shared", temperature=0.5) == "medium@shared@t0.5"
    assert with_temperature("medium", 0.1) == "medium@t0.1" == with_temperature("medium@t0.1", 0.1)
    assert with_temperature("medium@shared", 1.0) == "medium@shared"
    assert with_correlation("medium@t0.1", "shared") == "medium@shared@t0.1"
    assert parse_quality(get_task("smac_corridor"), "good+poor@t2") == ("good", "poor")
    for written, canonical in (("medium@t0.10", "medium@t0.1"), ("medium@t2@shared", "medium@shared@t2"),
                               ("medium@t1", "medium"), ("medium@t2@t2", "medium@t2")):
        with pytest.raises(ConfigError, match=f"another spelling.*write '{canonical}'"):
            split_variants(written)
    for bad in ("medium@t0", "medium@t-1", "medium@tnan", "medium@tinf"):
        with pytest.raises(ConfigError, match="sampling temperature .* must be a number > 0"):
            split_variants(bad)
    for bad in ("hot", "tx", "team", "2"):
        with pytest.raises(UnknownNameError, match=f"unknown dataset variant '{bad}'.*medium@t0.1"):
            split_variants(f"medium@{bad}")
    with pytest.raises(ConfigError, match="already names sampling temperature 2, not 0.5"):
        with_temperature("medium@t2", 0.5)
    with pytest.raises(ConfigError, match="sampling temperature must be a finite number > 0"):
        LearnedPolicy(checkpoints=("a.npz",), digests=("0",), temperature=0.0)
    described = LearnedPolicy(checkpoints=("a.npz",), digests=("0",), temperature=0.1).describe()
    assert "sampling temperature 0.1" in described


def test_a_tempered_build_is_named_and_near_greedy(tmp_path):
    from omiga.behaviour.manifest import load_manifest
    from omiga.behaviour.policy import load_actor
    from omiga.data.build_smax import task_battles

    task = get_task("smac_corridor")
    assert dataset_path(task, quality="medium@t0.1", cache_dir=tmp_path).name == "smax-v3-medium@t0.1.h5"
    data = {q: load_dataset(build_dataset(task, quality=q, episodes=4, seed=1, path=tmp_path / f"{q}.h5"))
            for q in ("medium", "medium@t0.1")}
    assert data["medium@t0.1"].attrs.quality == "medium@t0.1"
    assert "sampling temperature 0.1" in data["medium@t0.1"].attrs.behavior
    assert "temperature" not in data["medium"].attrs.behavior
    scenario = task_battles(task.name).scenario
    policy = load_manifest(task.name).policy("medium")
    greedy_share = {}
    for name, dataset in data.items():
        avail = np.asarray(dataset.avail_actions, bool)
        alive = avail.sum(-1) > 1
        assert avail[np.arange(len(avail))[:, None], np.arange(avail.shape[1]), dataset.actions].all()
        favourites = [np.asarray(jnp.argmax(actor.apply(params, jnp.asarray(dataset.obs), jnp.asarray(avail)), -1))
                      for actor, params in (load_actor(c, d, scenario)
                                            for c, d in zip(policy.checkpoints, policy.digests))]
        greedy = np.logical_or.reduce([dataset.actions == f for f in favourites])
        greedy_share[name] = greedy[alive].mean()
    # at τ = 0.1 nearly every action is one of the two levels' favourites; the learned policy explores
    assert greedy_share["medium@t0.1"] > 0.9 and greedy_share["medium"] < greedy_share["medium@t0.1"] - 0.2


def test_builders_without_tempered_sampling_refuse_it(tmp_path):
    with pytest.raises(ConfigError, match="option --temperature .* does not apply to task 'toy_coop'"):
        build_dataset("toy_coop", quality="medium@t0.5", episodes=2, seed=0, path=tmp_path / "t.h5")
    with pytest.raises(ConfigError, match="temperature 0.5 needs the learned behaviour"):
        build_dataset("smac_corridor", quality="medium@t0.5", episodes=2, seed=0, path=tmp_path / "s.h5",
                      behavior="scripted-v2")
    from omiga.data.build_smax import build_smax_dataset

    with pytest.raises(ConfigError, match="names sampling temperature 1 but temperature=0.5 .* medium@t0.5"):
        build_smax_dataset(task="smac_corridor", quality="medium", episodes=2, seed=0, path=tmp_path / "m.h5",
                           temperature=0.5)
    assert not any(tmp_path.iterdir())


def test_the_spec_crosses_its_temperatures_with_the_qualities():
    spec = load_spec("coverage")
    plan = resolve_plan(spec=spec, preset=get_preset("smoke"), task="smac_corridor")
    assert plan.qualities == ("medium@t2", "medium", "medium@t0.1")  # smoke keeps one quality, then crosses
    crossed = parse_spec({"qualities": ["poor", "medium@t0.5"], "correlations": ["independent", "shared"],
                          "temperatures": [1.0, 0.1]}, name="x")
    plan = resolve_plan(spec=crossed, preset=get_preset("quick"), task="smac_corridor")
    assert plan.qualities == ("poor", "poor@t0.1", "poor@shared", "poor@shared@t0.1", "medium@t0.5",
                              "medium@shared@t0.5")
    assert crossed.to_dict()["temperatures"] == [1.0, 0.1] and "temperatures" not in load_spec("headline").to_dict()
    for values, message in (({"temperatures": [0.0]}, "temperatures must be numbers > 0"),
                            ({"temperatures": ["hot"]}, "temperatures must be numbers > 0"),
                            ({"temperatures": [True]}, "temperatures must be numbers > 0"),
                            ({"temperatures": [1, 1.0]}, "temperatures repeats a level"),
                            ({"temperatures": 0.1}, "temperatures must be a list")):
        with pytest.raises(StudyError, match=message):
            parse_spec(values, name="x")
    with pytest.raises(StudyError, match="has no dataset quality 'medium@t0' \\(quality 'medium@t0': sampling "
                                         "temperature '0' must be a number > 0"):
        resolve_plan(spec=parse_spec({"qualities": ["medium@t0"]}, name="x"), preset=get_preset("quick"),
                     task="smac_corridor")
