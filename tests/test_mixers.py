"""Mixers: shared interface, qmix local weights equal autograd, linear weights non-negative, errors."""

from __future__ import annotations

import pytest
import torch

from omiga.errors import ConfigError, UnknownNameError
from omiga.mixers import MIXERS, make_mixer
from omiga.stacked import member_generators

M, B, N, S = 3, 7, 4, 5


def _inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(M, B, N, generator=g) * 3, torch.randn(M, B, S, generator=g)


def _mixer(name: str):
    return make_mixer(name, n_agents=N, state_dim=S, hidden=6, generators=member_generators(range(M), "init"))


@pytest.mark.parametrize("name", sorted(MIXERS))
def test_mixer_output_decomposes_q_tot(name):
    q, state = _inputs()
    out = _mixer(name)(q, state)
    assert out.q_tot.shape == (M, B) and out.w.shape == (M, B, N) and out.b.shape == (M, B)
    assert torch.allclose(out.q_tot, (out.w * q).sum(-1) + out.b, atol=1e-5)
    assert (out.w >= 0).all()


def test_linear_weights_are_non_negative_and_independent_of_q():
    q, state = _inputs(1)
    mixer = _mixer("linear")
    first, second = mixer(q, state), mixer(-5 * q, state)
    assert (first.w >= 0).all() and torch.equal(first.w, second.w) and torch.equal(first.b, second.b)


def test_vdn_sums_the_agents():
    q, state = _inputs(2)
    out = _mixer("vdn")(q, state)
    assert torch.equal(out.q_tot, q.sum(-1)) and torch.equal(out.w, torch.ones_like(q))


def test_qmix_local_weights_equal_autograd_derivatives():
    q, state = _inputs(3)
    q.requires_grad_(True)
    out = _mixer("qmix")(q, state)
    (autograd_w,) = torch.autograd.grad(out.q_tot.sum(), q)
    assert torch.allclose(out.w, autograd_w, atol=1e-5)
    assert (out.w >= 0).all()  # monotone


def test_qmix_is_monotone_in_each_agent():
    q, state = _inputs(4)
    mixer = _mixer("qmix")
    raised = q.clone()
    raised[..., 0] += 1.0
    assert (mixer(raised, state).q_tot >= mixer(q, state).q_tot).all()


def test_mixer_members_are_independent():
    q, state = _inputs(5)
    mixer = _mixer("qmix")
    changed = state.clone()
    changed[1] += 1.0
    first, second = mixer(q, state), mixer(q, changed)
    assert torch.equal(first.q_tot[0], second.q_tot[0]) and torch.equal(first.q_tot[2], second.q_tot[2])
    assert not torch.equal(first.q_tot[1], second.q_tot[1])


def test_unknown_mixer_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown mixer 'qplex'; known mixers: linear, qmix, vdn"):
        make_mixer("qplex", n_agents=N, state_dim=S, hidden=4, generators=[])


def test_mixer_rejects_a_wrong_state_shape():
    q, state = _inputs()
    with pytest.raises(ConfigError, match=r"mixer expects state of shape \[3, 7, 5\], got \(3, 7, 4\)"):
        _mixer("linear")(q, state[..., :4])
