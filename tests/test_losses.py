"""Closed forms of OMIGA's losses (Eq. 13-15) on tabular problems, and gradient isolation of the update."""

from __future__ import annotations

import math

import pytest
import torch

from omiga.batch import BatchSampler
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.losses import bc_loss, policy_loss, q_loss, v_loss, v_loss_unstabilised
from omiga.methods import get_update_rule
from omiga.mixers import VdnMixer
from omiga.networks import ActionSpace, PopulationNetworks
from omiga.population import MemberTensors
from omiga.stacked import member_generators

N_ACTIONS = 4



def _tabular_problem(seed: int = 0):
    """Two agents; behaviour μ_i, Q_i(a), w_i; a batch of 10 dataset actions whose frequencies are exactly μ."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    q = torch.randn(2, N_ACTIONS, generator=g) * 2.0
    w = torch.tensor([0.5, 2.0])
    counts = (mu * 10).round().long()
    actions = torch.stack([torch.repeat_interleave(torch.arange(N_ACTIONS), counts[i]) for i in range(2)], 1)
    q_batch = q.gather(1, actions.T).T  # [10, 2]
    return q, w, actions, mu, q_batch


def test_v_step_converges_to_prop_4_4_closed_form():
    q, w, _, empirical, q_batch = _tabular_problem()
    alpha = torch.tensor([3.0])
    v_param = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.Adam([v_param], lr=0.1)
    for _ in range(600):
        optimizer.zero_grad()
        v = v_param.expand_as(q_batch).unsqueeze(0)
        loss, _ = v_loss(q_target=q_batch.unsqueeze(0), v=v, w=w.expand_as(q_batch).unsqueeze(0), alpha=alpha,
                         global_info=torch.tensor([True]))
        loss.sum().backward()
        optimizer.step()
    expected = alpha / w * torch.log((empirical * torch.exp(w[:, None] * q / alpha)).sum(1))
    assert torch.allclose(v_param.detach(), expected, rtol=0.01, atol=1e-3)


def test_stabilised_v_loss_is_exp_minus_max_times_eq_13():
    g = torch.Generator().manual_seed(1)
    q_target, v = torch.randn(3, 16, 2, generator=g) * 5, torch.randn(3, 16, 2, generator=g)
    w, alpha = torch.rand(3, 16, 2, generator=g), torch.tensor([0.5, 1.0, 4.0])
    on = torch.tensor([True, True, True])
    stabilised, diagnostics = v_loss(q_target=q_target, v=v, w=w, alpha=alpha, global_info=on)
    plain = v_loss_unstabilised(q_target=q_target, v=v, w=w, alpha=alpha)
    z = w * (q_target - v) / alpha.view(-1, 1, 1)
    shift = z.flatten(1).amax(1).clamp(min=-1.0)  # per member, never across members
    assert torch.allclose(diagnostics["value/z_max"], shift)
    assert torch.allclose(stabilised, torch.exp(-shift) * plain, rtol=1e-5)


def test_v_loss_stays_finite_where_eq_13_overflows():
    q_target, v = torch.full((1, 4, 2), 500.0), torch.zeros(1, 4, 2, requires_grad=True)
    w, alpha = torch.ones(1, 4, 2), torch.tensor([1.0])
    assert torch.isinf(v_loss_unstabilised(q_target=q_target, v=v, w=w, alpha=alpha)).all()
    loss, _ = v_loss(q_target=q_target, v=v, w=w, alpha=alpha, global_info=torch.tensor([True]))
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(v.grad).all() and (v.grad != 0).all()


def test_global_info_false_replaces_weights_by_one_in_v_and_pi_losses():
    g = torch.Generator().manual_seed(2)
    q_target, v, w = torch.randn(2, 8, 3, generator=g), torch.randn(2, 8, 3, generator=g), torch.rand(2, 8, 3)
    log_prob, alpha = -torch.rand(2, 8, 3, generator=g), torch.tensor([1.0, 2.0])
    mixed = torch.tensor([True, False])
    ones = torch.ones_like(w)
    kwargs = {"q_target": q_target, "v": v, "alpha": alpha}
    loss_v, _ = v_loss(w=w, global_info=mixed, **kwargs)
    loss_v_ones, _ = v_loss(w=ones, global_info=torch.tensor([True, True]), **kwargs)
    loss_v_w, _ = v_loss(w=w, global_info=torch.tensor([True, True]), **kwargs)
    assert loss_v[1] == loss_v_ones[1] and loss_v[0] == loss_v_w[0]
    loss_pi, _ = policy_loss(log_prob=log_prob, w=w, global_info=mixed, exp_clamp=10.0, **kwargs)
    loss_pi_ones, _ = policy_loss(log_prob=log_prob, w=ones, global_info=torch.tensor([True, True]),
                                  exp_clamp=10.0, **kwargs)
    assert loss_pi[1] == loss_pi_ones[1] and loss_pi[0] != loss_pi_ones[0]


def test_policy_step_converges_to_weighted_behaviour_on_a_bandit():
    q, w, actions, empirical, q_batch = _tabular_problem(seed=3)
    alpha, v = torch.tensor([2.0]), torch.tensor([0.3, -0.2])
    logits = torch.zeros(2, N_ACTIONS, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.1)
    v_batch = v.expand_as(q_batch).unsqueeze(0)
    for _ in range(600):
        optimizer.zero_grad()
        log_prob = torch.log_softmax(logits, -1).gather(1, actions.T).T.unsqueeze(0)
        loss, _ = policy_loss(log_prob=log_prob, q_target=q_batch.unsqueeze(0), v=v_batch,
                              w=w.expand_as(q_batch).unsqueeze(0), alpha=alpha, global_info=torch.tensor([True]),
                              exp_clamp=10.0)
        loss.sum().backward()
        optimizer.step()
    target = empirical * torch.exp(w[:, None] * (q - v[:, None]) / alpha)
    target = target / target.sum(1, keepdim=True)
    total_variation = 0.5 * (torch.softmax(logits.detach(), -1) - target).abs().sum(1)
    assert (total_variation < 0.02).all(), total_variation


def test_policy_weights_exponent_is_clamped():
    log_prob = -torch.ones(1, 2, 1)
    loss, diagnostics = policy_loss(log_prob=log_prob, q_target=torch.tensor([[[100.0], [0.0]]]),
                                    v=torch.zeros(1, 2, 1), w=torch.ones(1, 2, 1), alpha=torch.tensor([1.0]),
                                    global_info=torch.tensor([True]), exp_clamp=10.0)
    assert diagnostics["weights/exp_mean"].item() == pytest.approx((math.exp(10.0) + 1.0) / 2, rel=1e-6)
    assert loss.item() == pytest.approx((math.exp(10.0) + 1.0) / 2, rel=1e-6)


def test_vdn_q_step_recovers_least_squares_additive_decomposition():
    rewards = torch.tensor([[4.0, 0.0, 1.0], [0.0, 2.0, 0.0], [1.0, 0.0, 5.0]])  # R[a1, a2], not additive
    a1, a2 = torch.meshgrid(torch.arange(3), torch.arange(3), indexing="ij")
    a1, a2 = a1.flatten(), a2.flatten()
    q1, q2 = torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.Adam([q1, q2], lr=0.05)
    mixer = VdnMixer(n_agents=2, state_dim=1, hidden=1, generators=[])
    for _ in range(2000):
        optimizer.zero_grad()
        q = torch.stack([q1[a1], q2[a2]], -1).unsqueeze(0)
        q_tot = mixer(q, torch.zeros(1, 9, 1)).q_tot
        loss, _ = q_loss(q_tot=q_tot, rewards=rewards.flatten().unsqueeze(0), terminals=torch.ones(1, 9),
                         next_v_tot=torch.full((1, 9), 1e3), gamma=0.99)  # terminal: the bootstrap is masked
        loss.sum().backward()
        optimizer.step()
    fitted = q1.detach()[:, None] + q2.detach()[None, :]
    least_squares = rewards.mean(1, keepdim=True) + rewards.mean(0, keepdim=True) - rewards.mean()
    assert torch.allclose(fitted, least_squares, atol=1e-3)


def test_q_loss_bootstraps_through_non_terminal_steps():
    loss, diagnostics = q_loss(q_tot=torch.tensor([[1.0, 1.0]]), rewards=torch.tensor([[1.0, 1.0]]),
                               terminals=torch.tensor([[0.0, 1.0]]), next_v_tot=torch.tensor([[2.0, 2.0]]),
                               gamma=0.5)
    assert diagnostics["value/q_target"].item() == pytest.approx((2.0 + 1.0) / 2)
    assert loss.item() == pytest.approx((1.0 + 0.0) / 2)


def test_bc_loss_is_negative_mean_log_likelihood():
    loss, _ = bc_loss(log_prob=torch.tensor([[[-1.0, -3.0]], [[-2.0, -2.0]]]))
    assert loss.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("global_info", [True, False])
@pytest.mark.parametrize("mixer", ["linear", "qmix"])
def test_each_loss_moves_only_its_network(discrete_dataset, mixer, global_info):
    space = ActionSpace(n_agents=3, obs_dim=4, state_dim=6, n_actions=5)
    nets = PopulationNetworks(space, network=NetworkConfig(hidden=8, mixer_hidden=4), mixer=mixer,
                              generators=member_generators([0, 1], "init"))
    batch = BatchSampler(discrete_dataset, seeds=[0, 1], batch_size=8).sample()
    members = MemberTensors.from_members([MemberConfig(seed=0, alpha=1.0, global_info=global_info)] * 2)
    losses, _ = get_update_rule("omiga")(nets, batch, members, TrainConfig(steps=1, mixer=mixer))
    modules = {"v": nets.v, "q": nets.q, "pi": nets.policy, "mixer": nets.mixer}
    moved_by = {"loss/v": {"v"}, "loss/q": {"q", "mixer"}, "loss/pi": {"pi"}}
    for name, loss in losses.items():
        nets.zero_grad(set_to_none=True)
        loss.sum().backward()
        for module_name, module in modules.items():
            has_grad = any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())
            assert has_grad == (module_name in moved_by[name]), (name, module_name)
        for target in (nets.v_target, nets.q_target, nets.mixer_target):
            assert all(p.grad is None and not p.requires_grad for p in target.parameters())
