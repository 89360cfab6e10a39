"""The baselines in the population machinery: member = solo run, determinism, gradient isolation, resume,
evaluation through the method's own actions, the registry, method options and the per-member noise."""

from __future__ import annotations

import json

import pytest
import torch
from test_train_checkpoint import _config as _checkpoint_config
from test_train_checkpoint import train_whole_and_resumed
from test_train_population import _config, _params, _run

from omiga.batch import BatchSampler
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError
from omiga.methods import METHOD_ACTION_KINDS, get_action_rule, get_extra_networks, get_update_rule
from omiga.methods.noise import MemberNoise, member_noise_keys
from omiga.networks import ActionSpace, PopulationNetworks
from omiga.population import MemberTensors
from omiga.stacked import member_generators
from omiga.train import train_population

CASES = [("bcq", "discrete"), ("bcq", "continuous"), ("cql", "discrete"), ("cql", "continuous"),
         ("icq", "discrete"), ("icq", "continuous"), ("omar", "discrete"), ("omar", "continuous")]


@pytest.fixture
def datasets(discrete_dataset, continuous_dataset):
    return {"discrete": discrete_dataset, "continuous": continuous_dataset}


@pytest.mark.parametrize(("method", "kind"), CASES)
def test_population_member_equals_solo_run(datasets, method, kind):
    members = [MemberConfig(seed=5, alpha=1.0), MemberConfig(seed=6, alpha=3.0), MemberConfig(seed=7, alpha=1.0)]
    config = _config(steps=40, method=method)
    population = _run(datasets[kind], config, members)
    solo = _run(datasets[kind], config, [members[1]])
    for name, value in _params(solo, 0).items():
        assert torch.allclose(_params(population, 1)[name], value, rtol=1e-4, atol=1e-5), name
    assert torch.isfinite(population.last_losses).all()
    assert not torch.allclose(_params(population, 0)["q.head.weight"], _params(solo, 0)["q.head.weight"])


@pytest.mark.parametrize(("method", "kind"), CASES)
def test_same_seed_gives_bitwise_identical_results(datasets, method, kind):
    members = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=1.0)]
    first = _run(datasets[kind], _config(steps=10, method=method), members)
    second = _run(datasets[kind], _config(steps=10, method=method), members)
    for (name, a), (_, b) in zip(first.nets.state_dict().items(), second.nets.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(first.last_losses, second.last_losses)


MOVED_BY = {
    ("bcq", "discrete"): {"loss/q": {"q", "mixer"}, "loss/pi": {"pi"}},
    ("bcq", "continuous"): {"loss/q": {"q", "mixer", "q2"}, "loss/vae": {"vae"}, "loss/pi": {"xi"}},
    ("cql", "discrete"): {"loss/q": {"q", "mixer"}, "loss/cql": {"q", "mixer"}},
    ("cql", "continuous"): {"loss/q": {"q", "mixer"}, "loss/cql": {"q", "mixer"}, "loss/pi": {"pi"}},
    ("icq", "discrete"): {"loss/q": {"q", "mixer"}, "loss/pi": {"pi"}},
    ("icq", "continuous"): {"loss/q": {"q", "mixer"}, "loss/pi": {"pi"}},
    ("omar", "discrete"): {"loss/q": {"q", "mixer"}, "loss/cql": {"q", "mixer"}, "loss/pi": {"pi"}},
    ("omar", "continuous"): {"loss/q": {"q", "mixer"}, "loss/cql": {"q", "mixer"}, "loss/pi": {"pi"}},
}
"""Which networks each loss may move (the mixed CQL penalty reaches the mixer's w, as the cited code)."""


@pytest.mark.parametrize(("method", "kind"), CASES)
def test_each_loss_moves_only_its_network(datasets, method, kind):
    dataset = datasets[kind]
    space = ActionSpace(n_agents=dataset.n_agents, obs_dim=dataset.obs_dim, state_dim=dataset.state_dim,
                        n_actions=dataset.n_actions, act_dim=dataset.act_dim)
    network = NetworkConfig(hidden=8, mixer_hidden=4)
    nets = PopulationNetworks(space, network=network, mixer="linear", generators=member_generators([0, 1], "init"),
                              extra=get_extra_networks(method, space=space, network=network))
    batch = BatchSampler(dataset, seeds=[0, 1], batch_size=8).sample()
    members = MemberTensors.from_members([MemberConfig(seed=0, alpha=1.0)] * 2)
    losses, _ = get_update_rule(method)(nets, batch, members, TrainConfig(steps=1, method=method))
    expected = MOVED_BY[(method, kind)]
    assert set(losses) == set(expected)
    modules = {"v": nets.v, "q": nets.q, "pi": nets.policy, "mixer": nets.mixer}
    if nets.extra is not None:
        modules |= {"q2": nets.extra.q2, "xi": nets.extra.perturbation,
                    "vae": torch.nn.ModuleList([nets.extra.encoder, nets.extra.decoder])}
    for name, loss in losses.items():
        nets.zero_grad(set_to_none=True)
        loss.sum().backward(retain_graph=True)
        for module_name, module in modules.items():
            has_grad = any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
            assert has_grad == (module_name in expected[name]), (name, module_name)


def test_a_resumed_omar_run_equals_an_uninterrupted_one_bitwise(continuous_dataset, tmp_path):
    config = _checkpoint_config(method="omar", method_options=(("alpha", 2.0), ("iterations", 3)))
    final_whole, final_resumed = train_whole_and_resumed(continuous_dataset, config, tmp_path)
    for name, value in final_whole["nets"].items():
        assert torch.equal(value, final_resumed["nets"][name]), name
    saved = json.loads((tmp_path / "resumed" / "result.json").read_text())
    assert TrainConfig.from_dict(saved["provenance"]["config"]) == config
    assert set(saved["members"][0]["final_losses"]) == {"loss/q", "loss/cql", "loss/pi"}


def test_evaluation_acts_with_the_methods_own_rule(discrete_dataset):
    """CQL on a discrete task acts greedily on Q, not with the (untrained) policy head."""
    seen = []

    def evaluate(policy, step):
        obs = torch.randn(policy.n_members, 4, 3, 4, generator=torch.Generator().manual_seed(0))
        avail = torch.ones(policy.n_members, 4, 3, 5, dtype=torch.bool)
        seen.append(policy.act(obs, avail))
        return [type("Score", (), {"mean_return": 0.0, "win_rate": None})()] * policy.n_members

    members = [MemberConfig(seed=0, alpha=1.0)]
    config = _config(steps=5, method="cql")
    train_population(discrete_dataset, config=config, members=members, evaluate=evaluate)
    trainer = _run(discrete_dataset, config, members)
    obs = torch.randn(1, 4, 3, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(seen[-1], trainer.nets.q(obs).argmax(-1))
    assert get_action_rule("omiga", config=_config(steps=1)) is None


def test_every_baseline_supports_both_action_kinds():
    assert all(kinds == ("discrete", "continuous") for kinds in METHOD_ACTION_KINDS.values())


@pytest.mark.parametrize(("overrides", "message"), [
    ({"method": "cql", "method_options": (("alpah", 1.0),)}, r"unknown method_options \['alpah'\] for method 'cql'"),
    ({"method": "omiga", "method_options": (("alpha", 1.0),)}, "method 'omiga' takes no method_options"),
    ({"method": "bcq", "method_options": (("threshold", 1.5),)}, r"BcqOptions.threshold must be a number >= 0.0"),
    ({"method": "omar", "method_options": (("elites", 30),)}, "OmarOptions.elites must be an integer >= 2"),
    ({"method": "icq", "method_options": (("n_samples", 2.5),)}, "IcqOptions.n_samples must be an integer"),
    ({"method": "cql", "method_options": {"alpha": 1.0}}, "must be a tuple of"),
    ({"method": "cql", "method_options": (("penalty", "sum"),)}, "CqlOptions.penalty must be one of 'mixed', 'agent'"),
    ({"method": "cql", "method_options": (("alpha", "1"),)}, "method_options 'alpha' must be a number"),
    ({"method": "bcq", "method_options": (("phi", -0.1),)}, r"BcqOptions.phi must be a number >= 0.0"),
])
def test_bad_method_options_get_one_clear_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(steps=1, **overrides)


def test_method_options_survive_a_json_round_trip():
    config = TrainConfig(steps=1, method="icq", method_options=(("policy_temperature", 3.0), ("n_samples", 4)))
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_member_noise_depends_only_on_the_members_seed_and_the_step():
    keys = member_noise_keys([4, 9, 11])
    population = MemberNoise(keys=keys, step=7)
    solo = MemberNoise(keys=member_noise_keys([9]), step=7)
    assert torch.equal(population.normal(100, 3, stream=2)[1], solo.normal(100, 3, stream=2)[0])
    assert not torch.equal(population.normal(100, stream=2), population.normal(100, stream=3))
    assert not torch.equal(population.normal(100, stream=2), MemberNoise(keys=keys, step=8).normal(100, stream=2))
    u = MemberNoise(keys=keys, step=0).uniform(20_000, stream=0)
    assert 0.0 < u.min() and u.max() < 1.0 and abs(u.mean().item() - 0.5) < 0.01
    z = MemberNoise(keys=keys, step=0).normal(20_000, stream=1)
    assert abs(z.mean().item()) < 0.03 and abs(z.std().item() - 1.0) < 0.03
    assert abs(torch.corrcoef(torch.stack([z[0], z[1]]))[0, 1].item()) < 0.03  # members are independent
