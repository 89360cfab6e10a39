"""The baselines' update rules on problems whose right behaviour is known: CQL, BCQ, ICQ, OMAR."""

from __future__ import annotations

import math

import pytest
import torch
from test_train_population import SMALL, _run

from omiga.batch import BatchSampler
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.methods import get_action_rule, get_update_rule
from omiga.methods.bcq import allowed_actions
from omiga.methods.cql import conservative_penalty
from omiga.methods.icq import icq_policy_loss, in_sample_target
from omiga.methods.noise import MemberNoise, member_noise_keys
from omiga.methods.omar import cross_entropy_search, omar_policy_loss, rectification_target
from omiga.methods.options import OmarOptions
from omiga.networks import ActionSpace, PopulationNetworks
from omiga.population import MemberTensors
from omiga.stacked import member_generators


# -- CQL ------------------------------------------------------------------------------------------------
def test_conservative_penalty_is_logsumexp_over_allowed_actions_minus_data_q():
    q = torch.tensor([[[[1.0, 2.0, float("-inf")]], [[0.0, 0.0, 0.0]]]])  # [M=1, B=2, N=1, A=3], one masked
    q_data = torch.tensor([[[2.0], [0.0]]])
    expected = ((math.log(math.e + math.e**2) - 2.0) + (math.log(3.0) - 0.0)) / 2
    assert conservative_penalty(q_samples=q, q_data=q_data).item() == pytest.approx(expected, rel=1e-6)


def _gap_seen_minus_unseen(trainer, dataset) -> float:
    """Mean over dataset steps and agents of Q_i(o, a_data) − mean of Q_i(o, a) over the other available actions."""
    obs = torch.from_numpy(dataset.obs).unsqueeze(0)
    with torch.no_grad():
        q = trainer.nets.q(obs)[0]  # [T, N, A]
    actions = torch.from_numpy(dataset.actions)
    others = torch.from_numpy(dataset.avail_actions).clone()
    others.scatter_(-1, actions.unsqueeze(-1), False)
    seen = q.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    unseen = (q * others).sum(-1) / others.sum(-1).clamp(min=1)
    return (seen - unseen)[others.any(-1)].mean().item()


def test_cql_penalty_lowers_q_of_unseen_actions_relative_to_seen_ones(discrete_dataset):
    members = [MemberConfig(seed=0, alpha=1.0)]

    def gap(alpha: float) -> float:
        config = TrainConfig(steps=150, batch_size=32, lr=3e-3, network=SMALL, method="cql",
                             method_options=(("alpha", alpha),))
        return _gap_seen_minus_unseen(_run(discrete_dataset, config, members), discrete_dataset)

    plain, conservative = gap(0.0), gap(2.0)
    assert conservative > 0.5 and conservative > plain + 0.5, (plain, conservative)


def test_continuous_cql_penalty_lowers_q_of_random_actions_relative_to_dataset_actions(continuous_dataset):
    members = [MemberConfig(seed=0, alpha=1.0)]
    obs = torch.from_numpy(continuous_dataset.obs).unsqueeze(0)
    data = torch.from_numpy(continuous_dataset.actions).unsqueeze(0)
    random = torch.rand(1, obs.shape[1], 8, *data.shape[2:], generator=torch.Generator().manual_seed(0)) * 2 - 1

    def gap(alpha: float) -> float:
        config = TrainConfig(steps=150, batch_size=16, lr=3e-3, network=SMALL, method="cql",
                             method_options=(("alpha", alpha),))
        nets = _run(continuous_dataset, config, members).nets
        with torch.no_grad():
            seen = nets.q_values(obs, data)
            unseen = nets.q_values_of_samples(obs, random).mean(2)
        return (seen - unseen).mean().item()

    plain, conservative = gap(0.0), gap(2.0)
    assert conservative > 0.3 and conservative > plain + 0.3, (plain, conservative)


# -- BCQ ------------------------------------------------------------------------------------------------
def _nets(space: ActionSpace, seeds=(0, 1), hidden: int = 16) -> PopulationNetworks:
    return PopulationNetworks(space, network=NetworkConfig(hidden=hidden, mixer_hidden=4), mixer="linear",
                              generators=member_generators(list(seeds), "init"))


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.8])
def test_bcq_never_selects_an_action_below_its_behaviour_threshold(threshold):
    space = ActionSpace(n_agents=3, obs_dim=4, state_dim=6, n_actions=6)
    nets = _nets(space)
    with torch.no_grad():  # Q = −3 · logits: unconstrained greedy Q would pick the least likely action
        for q_param, pi_param in zip(nets.q.parameters(), nets.policy.parameters()):
            q_param.copy_(pi_param)
        nets.q.head.weight.mul_(-3.0), nets.q.head.bias.mul_(-3.0)
        nets.policy.head.weight.mul_(3.0), nets.policy.head.bias.mul_(3.0)
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(2, 64, 3, 4, generator=g)
    avail = torch.rand(2, 64, 3, 6, generator=g) < 0.7
    config = TrainConfig(steps=1, method="bcq", method_options=(("threshold", threshold),))
    chosen = get_action_rule("bcq", config=config)(nets, obs, avail)
    probs = torch.softmax(nets.policy(obs).detach().masked_fill(~(avail | ~avail.any(-1, keepdim=True)),
                                                                 float("-inf")), -1)
    ratio = probs / probs.amax(-1, keepdim=True)
    chosen_ratio = ratio.gather(-1, chosen.unsqueeze(-1)).squeeze(-1)
    has_avail = avail.any(-1)
    assert (chosen_ratio >= threshold - 1e-6).all()
    assert avail.gather(-1, chosen.unsqueeze(-1)).squeeze(-1)[has_avail].all()
    allowed = allowed_actions(logits=nets.policy(obs).detach(), avail=avail, threshold=threshold)
    q = nets.q(obs).detach().masked_fill(~allowed, float("-inf"))
    assert torch.equal(chosen, q.argmax(-1))  # greedy within G(o)
    unconstrained = nets.q(obs).detach().masked_fill(~avail, float("-inf")).argmax(-1)
    below = ratio.gather(-1, unconstrained.unsqueeze(-1)).squeeze(-1) < threshold
    assert below.any() == (threshold > 0)  # the constraint was binding (the test can fail)


# -- ICQ ------------------------------------------------------------------------------------------------
def test_icq_policy_weights_are_a_softmax_over_in_sample_advantages():
    advantage = torch.tensor([[[1.0, -1.0], [0.0, 2.0], [3.0, 0.5]]])  # [M=1, B=3, N=2]
    w = torch.tensor([[[0.5, 1.0], [2.0, 1.0], [1.0, 4.0]]])
    negative_log_prob = torch.tensor([[[1.0, 2.0], [0.5, 1.5], [2.0, 0.1]]], requires_grad=True)
    log_prob = -negative_log_prob
    beta = 2.0
    loss, diagnostics = icq_policy_loss(log_prob=log_prob, advantage=advantage, w=w, temperature=beta)
    scores = torch.exp(w * advantage / beta)
    weights = 3 * scores / scores.sum(1, keepdim=True)  # softmax over the batch, per agent
    assert loss.item() == pytest.approx(-(weights * log_prob).mean().item(), rel=1e-6)
    assert diagnostics["weights/icq_max"].item() == pytest.approx(weights.max().item(), rel=1e-6)
    loss.sum().backward()
    assert torch.allclose(negative_log_prob.grad, weights / 6)  # the weights carry no gradient


def test_icq_critic_target_weights_next_values_by_their_batch_softmax():
    next_q = torch.tensor([[1.0, 3.0, -2.0]])
    target = in_sample_target(rewards=torch.tensor([[0.5, 0.0, 1.0]]), terminals=torch.tensor([[0.0, 0.0, 1.0]]),
                              next_q_tot=next_q, gamma=0.9, temperature=2.0)
    rho = 3 * torch.softmax(next_q / 2.0, dim=1)
    expected = torch.tensor([[0.5, 0.0, 1.0]]) + 0.9 * torch.tensor([[1.0, 1.0, 0.0]]) * rho * next_q
    assert torch.allclose(target, expected)


def test_icq_critic_reads_q_only_at_in_sample_next_actions(discrete_dataset):
    space = ActionSpace(n_agents=3, obs_dim=4, state_dim=6, n_actions=5)
    nets = _nets(space)
    batch = BatchSampler(discrete_dataset, seeds=[0, 1], batch_size=16).sample()
    members = MemberTensors.from_members([MemberConfig(seed=0, alpha=1.0)] * 2)
    config = TrainConfig(steps=1, method="icq")
    rule = get_update_rule("icq")
    before, _ = rule(nets, batch, members, config)
    in_sample = torch.nn.functional.one_hot(batch.next_actions, 5).bool()

    def shift_out_of_sample(module, args, out, amount=100.0):  # target Q at actions the dataset never takes next
        return out + amount * ~in_sample

    handle = nets.q_target.register_forward_hook(shift_out_of_sample)
    after, _ = rule(nets, batch, members, config)
    handle.remove()
    assert torch.equal(before["loss/q"], after["loss/q"])
    handle = nets.q_target.register_forward_hook(lambda module, args, out: out + 1.0 * in_sample)
    shifted, _ = rule(nets, batch, members, config)
    handle.remove()
    assert not torch.equal(before["loss/q"], shifted["loss/q"])  # the in-sample values do matter


# -- OMAR -----------------------------------------------------------------------------------------------
def _quadratic_q(peak: float):
    return lambda actions: -((actions - peak) ** 2).sum(-1)


def test_omar_zeroth_order_search_finds_the_peak_of_a_quadratic_q():
    noise = MemberNoise(keys=member_noise_keys([0, 1]), step=0)
    best, best_q = cross_entropy_search(_quadratic_q(0.6), noise=noise, shape=(8, 1, 1),
                                        options=OmarOptions(iterations=3, cem_samples=64, elites=8))
    assert best.shape == (2, 8, 1, 1) and ((best - 0.6).abs() < 0.1).all()
    assert torch.allclose(best_q, _quadratic_q(0.6)(best))


def test_omar_rectification_moves_the_policy_action_toward_the_higher_q_sample():
    q_of = _quadratic_q(0.6)
    action = torch.full((1, 4, 1, 1), -0.5, requires_grad=True)
    noise = MemberNoise(keys=member_noise_keys([3]), step=0)
    best, best_q = cross_entropy_search(lambda a: q_of(a), noise=noise, shape=(4, 1, 1), options=OmarOptions())
    optimizer = torch.optim.SGD([action], lr=1.0)
    for _ in range(30):
        optimizer.zero_grad()
        policy_q = q_of(action)
        target = rectification_target(policy_action=action, policy_q=policy_q, candidate_action=best,
                                      candidate_q=best_q)
        loss, _ = omar_policy_loss(policy_action=action, target_action=target, policy_q=policy_q, coefficient=1.0)
        loss.sum().backward()  # coefficient 1: the rectification term alone moves the action
        optimizer.step()
    assert ((action.detach() - best).abs() < 0.05).all() and ((action.detach() - 0.6).abs() < 0.15).all()


def test_omar_rectification_keeps_a_policy_action_better_than_the_candidate():
    policy = torch.tensor([[[[0.6]], [[-0.9]]]])
    candidate = torch.tensor([[[[0.2]], [[0.2]]]])
    q_of = _quadratic_q(0.6)
    target = rectification_target(policy_action=policy, policy_q=q_of(policy), candidate_action=candidate,
                                  candidate_q=q_of(candidate))
    assert target.flatten().tolist() == pytest.approx([0.6, 0.2])
