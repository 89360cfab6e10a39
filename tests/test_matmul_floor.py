"""benchmarks/matmul_floor.py: the matrix products of one OMIGA step, counted against the closed form."""

from __future__ import annotations

import torch

from benchmarks.matmul_floor import MIN_SIDE, Product, step_products, step_products_runner


def test_halfcheetah_step_has_the_products_of_five_forwards_and_three_backwards():
    products = step_products(n_agents=6, obs_dim=17, act_dim=1)
    rows, hidden = 128 * 6, 256
    middle = 2 * rows * hidden * hidden  # one hidden -> hidden product
    first_v, first_q = 2 * rows * 23 * hidden, 2 * rows * 24 * hidden  # [obs, id] and [obs, action, id] inputs
    # forward: V, π, V̄ and Q, Q̄ (first and middle layers); backward of V, Q, π: middle weight and input
    # gradients, first-layer weight gradients; the one- and two-unit heads fall under MIN_SIDE
    expected = 3 * first_v + 2 * first_q + 5 * middle + 6 * middle + 2 * first_v + first_q
    assert sum(p.flops for p in products) == expected == 1_180_827_648
    assert len(products) == 19 and all(min(p.m, p.k, p.n) >= MIN_SIDE for p in products)


def test_discrete_heads_over_many_actions_are_counted():
    products = step_products(n_agents=6, obs_dim=387, n_actions=29)
    heads = [p for p in products if 29 in (p.m, p.k, p.n)]
    # forward of Q, Q̄ and π heads; backward of the Q and π heads: weight and input gradients
    assert sorted((p.m, p.k, p.n) for p in heads) == sorted(
        [(768, 256, 29)] * 3 + [(256, 768, 29)] * 2 + [(768, 29, 256)] * 2)


def test_the_runner_multiplies_operands_of_the_products_shapes(monkeypatch):
    shapes = []
    real_bmm = torch.bmm
    monkeypatch.setattr(torch, "bmm", lambda a, b: shapes.append((tuple(a.shape), tuple(b.shape))) or real_bmm(a, b))
    step = step_products_runner([Product(8, 9, 10), Product(10, 12, 9, transposed_a=True)], members=2,
                                dtype=torch.float32)
    step()
    assert shapes == [((2, 8, 9), (2, 9, 10)), ((2, 10, 12), (2, 12, 9))]


def test_the_full_floor_counts_the_parameters_of_the_real_networks():
    from benchmarks.step_floor import parameter_counts

    trained, targets = parameter_counts(n_agents=2, obs_dim=3, state_dim=4, hidden=5, act_dim=1, mixer_hidden=6)
    mlp = lambda inputs, out: (inputs + 2) * 5 + 5 + 5 * 5 + 5 + 5 * out + out  # [in, one-hot id] -> 5 -> 5 -> out
    mixer = 4 * 6 + 6 + 6 * 2 + 2 + 6 + 1  # state -> 6, then the agents' weights and the offset
    assert trained == {"pi": mlp(3, 2), "q": mlp(4, 1) + mixer, "v": mlp(3, 1)} == {"pi": 72, "q": 122, "v": 66}
    assert targets == {"q": 122, "v": 66}
