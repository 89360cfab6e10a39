"""omiga.flat: parameter groups re-homed into one [M, P] buffer each behave as the parameters did."""

from __future__ import annotations

import copy

import pytest
import torch

from omiga.flat import FlatGroups, flat_adam_state, per_parameter_adam_state
from omiga.stacked import StackedMLP, member_generators

N_MEMBERS = 3


def _networks() -> tuple[StackedMLP, StackedMLP]:
    generators = member_generators(range(N_MEMBERS), "init")
    return (StackedMLP(4, 2, 8, 3, generators=generators), StackedMLP(4, 2, 8, 1, generators=generators))


def _loss(nets: tuple[StackedMLP, StackedMLP], x: torch.Tensor) -> torch.Tensor:
    return (nets[0](x) ** 2).sum() + nets[1](x).sin().sum() * 5.0


def _groups(nets) -> dict[str, list[torch.nn.Parameter]]:
    return {"a": list(nets[0].parameters()), "b": list(nets[1].parameters())}


def test_parameters_become_views_of_the_buffers_with_the_same_values():
    plain = _networks()
    nets = copy.deepcopy(plain)
    flat = FlatGroups(_groups(nets), grads=True)
    for p, q in zip(_groups(plain)["a"] + _groups(plain)["b"], _groups(nets)["a"] + _groups(nets)["b"]):
        assert torch.equal(p, q) and q.untyped_storage().data_ptr() in {
            b.untyped_storage().data_ptr() for b in flat.buffers.values()}
    assert flat.buffers["a"].shape == (N_MEMBERS, sum(p[0].numel() for p in _groups(nets)["a"]))
    flat.buffers["b"].add_(1.0)
    for p, q in zip(_groups(plain)["b"], _groups(nets)["b"]):
        assert torch.equal(q, p + 1.0)


def test_gradients_accumulate_into_the_buffer_as_autograd_computes_them():
    plain, x = _networks(), torch.randn(N_MEMBERS, 5, 2, 4)
    nets = copy.deepcopy(plain)
    flat = FlatGroups(_groups(nets), grads=True)
    for _ in range(2):  # zeroed between backward passes, like zero_grad
        flat.zero_grad()
        _loss(nets, x).backward()
    _loss(plain, x).backward()
    for name in ("a", "b"):
        expected = torch.cat([p.grad.reshape(N_MEMBERS, -1) for p in _groups(plain)[name]], dim=1)
        torch.testing.assert_close(flat.buffers[name].grad, expected)
        for p, grad in zip(_groups(nets)[name], flat.split(name, flat.buffers[name].grad)):
            assert p.grad.data_ptr() == grad.data_ptr()


def test_per_member_clipping_matches_clip_grad_norm_of_each_member_and_group():
    nets, x = _networks(), torch.randn(N_MEMBERS, 5, 2, 4)
    flat = FlatGroups(_groups(nets), grads=True)
    flat.zero_grad()
    (_loss(nets, x) * torch.tensor(50.0)).backward()
    before = {name: b.grad.clone() for name, b in flat.buffers.items()}
    flat.clip_grad_norm_per_member(1.0)
    for name, grad in before.items():
        for member in range(N_MEMBERS):
            solo = grad[member].clone().requires_grad_()
            solo.grad = grad[member].clone()
            torch.nn.utils.clip_grad_norm_([solo], max_norm=1.0)
            torch.testing.assert_close(flat.buffers[name].grad[member], solo.grad)
            assert flat.buffers[name].grad[member].norm() <= 1.0 + 1e-5


def test_adam_on_the_buffers_equals_adam_per_parameter_and_its_state_converts_both_ways():
    plain, x = _networks(), torch.randn(N_MEMBERS, 5, 2, 4)
    nets = copy.deepcopy(plain)
    flat = FlatGroups(_groups(nets), grads=True)
    per_parameter = torch.optim.Adam([p for g in _groups(plain).values() for p in g], lr=1e-2)
    on_buffers = torch.optim.Adam(list(flat.buffers.values()), lr=1e-2)
    for _ in range(5):
        per_parameter.zero_grad()
        _loss(plain, x).backward()
        per_parameter.step()
        flat.zero_grad()
        _loss(nets, x).backward()
        on_buffers.step()
    for name in ("a", "b"):
        for p, q in zip(_groups(plain)[name], _groups(nets)[name]):
            assert torch.equal(q, p)  # elementwise: the same numbers however the tensors are grouped
    saved = per_parameter_adam_state(on_buffers.state_dict(), flat)
    reference = per_parameter.state_dict()
    assert saved["state"].keys() == reference["state"].keys()
    assert saved["param_groups"][0]["params"] == reference["param_groups"][0]["params"]
    for index, state in reference["state"].items():
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(saved["state"][index][key], state[key])
    restored = flat_adam_state(saved, flat, on_buffers.state_dict())
    for position, state in on_buffers.state_dict()["state"].items():
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(restored["state"][position][key], state[key])


def test_a_parameter_without_saved_state_starts_from_zero_averages():
    nets = _networks()
    flat = FlatGroups(_groups(nets), grads=True)
    optimizer = torch.optim.Adam(list(flat.buffers.values()), lr=1e-2)
    first = {"step": torch.tensor(4.0), **{k: torch.ones_like(p) for k in ("exp_avg", "exp_avg_sq")
                                             for p in [_groups(nets)["a"][0]]}}
    restored = flat_adam_state({"state": {0: first}, "param_groups": []}, flat, optimizer.state_dict())
    assert list(restored["state"]) == [0]  # group b had no state at all: left for Adam to initialise
    width = _groups(nets)["a"][0][0].numel()
    assert restored["state"][0]["step"].item() == 4.0
    assert restored["state"][0]["exp_avg"][:, :width].eq(1).all() and restored["state"][0]["exp_avg"][:, width:].eq(0).all()


def test_soft_update_and_finiteness_per_member():
    online, target = _networks(), _networks()
    for p in target[0].parameters():
        p.data.zero_()
    online_flat = FlatGroups({"a": list(online[0].parameters())}, grads=True)
    target_flat = FlatGroups({"a": list(target[0].parameters())}, grads=False)
    target_flat.lerp_towards(online_flat, 0.25)
    torch.testing.assert_close(target_flat.buffers["a"], 0.25 * online_flat.buffers["a"])
    assert online_flat.finite_members().tolist() == [True] * N_MEMBERS
    with torch.no_grad():
        next(online[0].parameters())[1, 0, 0] = float("nan")
    assert online_flat.finite_members().tolist() == [True, False, True]


def test_an_empty_group_is_refused():
    with pytest.raises(ValueError, match="parameter group 'a' is empty"):
        FlatGroups({"a": []}, grads=True)
