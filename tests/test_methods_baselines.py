"""The baselines' core equations against hand-computed values (BCQ's ELBO, perturbation and clipped double Q,
CQL's mixed penalty, ICQ's discrete weights, OMAR's discrete selection and actor) and each baseline learning
above random play on toy_coop."""

from __future__ import annotations

import math

import pytest
import torch

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.data.build_toy import rollout_toy_dataset
from omiga.envs.toy import TOY_RANDOM_SCORE
from omiga.evaluate import evaluate_population
from omiga.methods.bcq_continuous import clipped_double_q, perturb, vae_elbo_loss
from omiga.methods.cql import conservative_penalty
from omiga.methods.icq import icq_policy_loss
from omiga.methods.noise import MemberNoise, member_noise_keys
from omiga.methods.omar import (
    categorical_cross_entropy_search,
    discrete_omar_policy_loss,
    rectification_target,
)
from omiga.methods.options import OmarOptions
from omiga.train import train_population


# -- BCQ ------------------------------------------------------------------------------------------------
def test_bcq_vae_elbo_is_reconstruction_plus_half_the_kl():
    loss, diagnostics = vae_elbo_loss(reconstruction=torch.tensor([[[[0.5, -0.5]]]]),
                                      actions=torch.zeros(1, 1, 1, 2), mean=torch.tensor([[[[1.0, 0.0]]]]),
                                      log_std=torch.tensor([[[[0.0, math.log(2.0)]]]]))
    kl = (0.5 + (1.5 - math.log(2.0))) / 2  # −½(1 + 2 log σ − μ² − σ²) per entry: 0.5 and 1.5 − ln 2
    assert diagnostics["loss/vae_recon"].item() == pytest.approx(0.25)
    assert diagnostics["loss/vae_kl"].item() == pytest.approx(kl, rel=1e-6)
    assert loss.item() == pytest.approx(0.25 + 0.5 * kl, rel=1e-6)


def test_bcq_perturbation_moves_an_action_by_at_most_phi_and_stays_in_bounds():
    actions = torch.tensor([0.0, 0.99, -0.5])
    perturbed = perturb(actions=actions, raw=torch.tensor([100.0, 100.0, -0.3]), phi=0.05)
    assert perturbed.tolist() == pytest.approx([0.05, 1.0, -0.5 - 0.05 * math.tanh(0.3)], rel=1e-6)
    g = torch.Generator().manual_seed(0)
    many = torch.rand(1000, generator=g) * 2 - 1
    moved = perturb(actions=many, raw=torch.randn(1000, generator=g) * 10, phi=0.2)
    assert (moved - many).abs().max() <= 0.2 + 1e-6 and moved.abs().max() <= 1.0
    assert (moved - many).abs().max() > 0.19  # the bound is reached, not merely respected


def test_bcq_target_mixes_min_and_max_of_the_two_heads_by_lambda():
    mixed = clipped_double_q(torch.tensor([1.0, 4.0]), torch.tensor([3.0, 2.0]), min_weight=0.75)
    assert mixed.tolist() == pytest.approx([0.75 * 1 + 0.25 * 3, 0.75 * 2 + 0.25 * 4])


# -- CQL ------------------------------------------------------------------------------------------------
def test_mixed_cql_penalty_is_the_sum_over_agents_of_the_weighted_logsumexp_minus_the_mixed_data_value():
    q = torch.tensor([[[[1.0, 2.0], [0.0, float("-inf")]]]])  # [M=1, B=1, N=2, K=2], one action excluded
    q_data = torch.tensor([[[2.0, 0.0]]])
    w = torch.tensor([[[0.5, 2.0]]], requires_grad=True)
    penalty = conservative_penalty(q_samples=q, q_data=q_data, w=w, form="mixed")
    expected = (math.log(math.exp(0.5) + math.exp(1.0)) - 1.0) + (0.0 - 0.0)
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    penalty.sum().backward()
    assert torch.isfinite(w.grad).all()  # the excluded action does not poison w's gradient
    g = torch.Generator().manual_seed(1)
    q, q_data = torch.randn(2, 8, 3, 5, generator=g), torch.randn(2, 8, 3, generator=g)
    per_agent = conservative_penalty(q_samples=q, q_data=q_data, form="agent")
    assert torch.allclose(conservative_penalty(q_samples=q, q_data=q_data, w=torch.ones(2, 8, 3), form="mixed"),
                          3 * per_agent)  # w ≡ 1: N times the per-agent mean (the 1/N the review found)


# -- ICQ ------------------------------------------------------------------------------------------------
def test_discrete_icq_weights_are_w_times_the_batch_softmax_of_advantages():
    advantage = torch.tensor([[[1.0, -1.0], [0.0, 2.0], [3.0, 0.5]]])  # [M=1, B=3, N=2]
    w = torch.tensor([[[0.5, 1.0], [2.0, 1.0], [1.0, 4.0]]])
    log_prob = -torch.tensor([[[1.0, 2.0], [0.5, 1.5], [2.0, 0.1]]], requires_grad=True)
    loss, diagnostics = icq_policy_loss(log_prob=log_prob, advantage=advantage, w=w, temperature=0.5,
                                        w_outside=True)
    scores = torch.exp(advantage / 0.5)
    weights = w * 3 * scores / scores.sum(1, keepdim=True)
    assert loss.item() == pytest.approx(-(weights * log_prob).mean().item(), rel=1e-6)
    assert diagnostics["weights/icq_max"].item() == pytest.approx(weights.max().item(), rel=1e-6)


# -- OMAR (discrete) ------------------------------------------------------------------------------------
def test_categorical_search_finds_the_best_available_action():
    q = torch.tensor([[[[0.0, 1.0, 5.0, 2.0, 3.0]], [[0.0, 1.0, 5.0, 2.0, 3.0]]]])  # [M=1, B=2, N=1, A=5]
    avail = torch.tensor([[[[True, True, False, True, True]], [[True] * 5]]])
    noise = MemberNoise(keys=member_noise_keys([0]), step=0)
    best, best_q = categorical_cross_entropy_search(q, avail=avail, noise=noise,
                                                    options=OmarOptions())  # 20 draws per iteration
    assert best.tolist() == [[[4], [2]]] and best_q.tolist() == [[[3.0], [5.0]]]


def test_discrete_rectification_keeps_the_better_of_policy_sample_and_candidate():
    target = rectification_target(policy_action=torch.tensor([1, 3]), policy_q=torch.tensor([1.0, 2.0]),
                                  candidate_action=torch.tensor([4, 0]), candidate_q=torch.tensor([3.0, 1.0]))
    assert target.tolist() == [4, 3]


def test_discrete_omar_actor_loss_is_cross_entropy_toward_the_target_minus_expected_q():
    logits = torch.tensor([[[[0.0, math.log(3.0), 5.0]]]], requires_grad=True)  # [M=1, B=1, N=1, A=3]
    avail = torch.tensor([[[[True, True, False]]]])
    q = torch.tensor([[[[2.0, -1.0, 100.0]]]])
    loss, _ = discrete_omar_policy_loss(logits=logits, target_action=torch.tensor([[[0]]]), q=q, avail=avail,
                                        coefficient=0.25)
    pi = [0.25, 0.75]  # the unavailable action has no mass and its Q does not count
    expected = 0.25 * -math.log(pi[0]) - 0.75 * (pi[0] * 2.0 + pi[1] * -1.0)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


# -- learning -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["bcq", "cql", "icq", "omar"])
def test_each_baseline_learns_well_above_random_play_on_toy_coop(method):
    dataset = rollout_toy_dataset(task="toy_coop", quality="medium", episodes=200, seed=0)
    config = TrainConfig(steps=150, batch_size=64, network=NetworkConfig(hidden=64), method=method)
    (result,) = train_population(
        dataset, config=config, members=[MemberConfig(seed=0, alpha=1.0)],
        evaluate=lambda policy, step: evaluate_population(policy, task="toy_coop", episodes=16, seed=step))
    assert result.status == "ok" and result.final_return > TOY_RANDOM_SCORE + 1.5, result.final_return
