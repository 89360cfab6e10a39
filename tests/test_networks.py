"""Networks: masked categorical, safe tanh-Gaussian log-density, per-member init equals solo init."""

from __future__ import annotations

import math

import torch

from omiga.config import NetworkConfig
from omiga.networks import ActionSpace, PopulationNetworks, categorical_log_prob, tanh_gaussian_log_prob
from omiga.stacked import StackedMLP, member_generators


def test_masked_actions_never_get_probability():
    logits = torch.tensor([[5.0, 100.0, 0.0, 50.0]])
    avail = torch.tensor([[True, False, True, False]])
    log_probs = torch.stack([categorical_log_prob(logits, torch.tensor([a]), avail) for a in range(4)], -1)
    assert torch.isneginf(log_probs[0, 1]) and torch.isneginf(log_probs[0, 3])
    assert torch.allclose(log_probs[0, [0, 2]].exp().sum(), torch.tensor(1.0))


def test_greedy_actions_pick_only_available_actions():
    space = ActionSpace(n_agents=2, obs_dim=3, state_dim=2, n_actions=6)
    nets = PopulationNetworks(space, network=NetworkConfig(hidden=8), mixer="vdn",
                              generators=member_generators([0, 1], "init"))
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(2, 50, 2, 3, generator=g)
    avail = torch.rand(2, 50, 2, 6, generator=g) < 0.3
    avail[..., 5] = True
    actions = nets.greedy_actions(obs, avail)
    assert actions.shape == (2, 50, 2) and avail.gather(-1, actions.unsqueeze(-1)).all()


def test_tanh_gaussian_log_density_matches_change_of_variables_and_is_finite_at_bounds():
    mean, log_std = torch.tensor([[0.3, -0.5]]), torch.tensor([[-0.2, 0.1]])
    actions = torch.tensor([[0.4, -0.9]])
    y = torch.atanh(actions)
    expected = (torch.distributions.Normal(mean, log_std.exp()).log_prob(y) - torch.log1p(-actions**2)).sum(-1)
    assert torch.allclose(tanh_gaussian_log_prob(mean, log_std, actions), expected, atol=1e-5)
    at_bounds = tanh_gaussian_log_prob(mean, log_std, torch.tensor([[1.0, -1.0]]))
    assert torch.isfinite(at_bounds).all()


def test_stacked_member_initialisation_equals_solo_initialisation():
    population = StackedMLP(5, 3, 16, 2, generators=member_generators([4, 7, 9], "init"))
    solo = StackedMLP(5, 3, 16, 2, generators=member_generators([7], "init"))
    for (name, stacked), (_, single) in zip(population.named_parameters(), solo.named_parameters()):
        assert torch.equal(stacked[1], single[0]), name


def test_stacked_init_is_uniform_within_the_linear_bound():
    mlp = StackedMLP(20, 4, 64, 1, generators=member_generators([0], "init"))
    bound = 1 / math.sqrt(24)
    weight = mlp.layer1.weight
    assert weight.abs().max() <= bound and weight.abs().max() > 0.9 * bound


def test_agent_id_bias_equals_concatenating_the_one_hot_id():
    mlp = StackedMLP(5, 3, 16, 2, generators=member_generators([0, 1], "init"))
    obs = torch.randn(2, 4, 3, 5)
    with_id = torch.cat([obs, torch.eye(3).expand(2, 4, 3, 3)], -1)
    h = torch.relu(with_id.reshape(2, 12, 8) @ mlp.layer1.weight + mlp.layer1.bias)
    expected = mlp.head(torch.relu(mlp.layer2(h))).view(2, 4, 3, 2)
    assert torch.allclose(mlp(obs), expected, atol=1e-5)


def test_continuous_q_takes_the_action_as_input():
    space = ActionSpace(n_agents=2, obs_dim=3, state_dim=2, act_dim=2)
    nets = PopulationNetworks(space, network=NetworkConfig(hidden=8), mixer="linear",
                              generators=member_generators([0], "init"))
    obs, actions = torch.randn(1, 5, 2, 3), torch.rand(1, 5, 2, 2) * 2 - 1
    assert not torch.equal(nets.q_values(obs, actions), nets.q_values(obs, -actions))
    assert nets.greedy_actions(obs, None).abs().max() < 1
