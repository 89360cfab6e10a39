"""The population trainer: member = solo run, determinism, divergence, evaluation callback, methods."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.train import train_population
from omiga.trainer import PopulationTrainer

SMALL = NetworkConfig(hidden=32, mixer_hidden=8)



def _config(**overrides) -> TrainConfig:
    return TrainConfig(**{"steps": 200, "batch_size": 16, "network": SMALL, **overrides})


def _params(trainer: PopulationTrainer, member: int) -> dict[str, torch.Tensor]:
    return {name: value[member] for name, value in trainer.nets.state_dict().items()}


def _run(dataset, config: TrainConfig, members) -> PopulationTrainer:
    trainer = PopulationTrainer(dataset, config=config, members=members)
    for _ in range(config.steps):
        trainer.train_step()
    return trainer


@pytest.mark.parametrize("mixer", ["linear", "qmix"])
def test_population_member_equals_solo_run_after_200_steps(continuous_dataset, mixer):
    members = [MemberConfig(seed=5, alpha=1.0), MemberConfig(seed=6, alpha=3.0, global_info=False),
               MemberConfig(seed=7, alpha=10.0)]
    config = _config(mixer=mixer)
    population = _run(continuous_dataset, config, members)
    solo = _run(continuous_dataset, config, [members[1]])
    for name, value in _params(solo, 0).items():
        assert torch.allclose(_params(population, 1)[name], value, rtol=1e-4, atol=1e-5), name
    assert not torch.allclose(_params(population, 0)["v.head.weight"], _params(solo, 0)["v.head.weight"])


def test_same_seed_gives_bitwise_identical_results(discrete_dataset):
    members = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=2.0)]
    first = _run(discrete_dataset, _config(steps=30), members)
    second = _run(discrete_dataset, _config(steps=30), members)
    for (name, a), (_, b) in zip(first.nets.state_dict().items(), second.nets.state_dict().items()):
        assert torch.equal(a, b), name
    assert torch.equal(first.last_losses, second.last_losses)


@pytest.mark.parametrize("check_every", [1, 5])
def test_a_poisoned_member_is_reported_diverged_and_the_others_go_on(discrete_dataset, check_every):
    members = [MemberConfig(seed=s, alpha=1.0) for s in range(3)]
    config = _config(steps=12, check_every=check_every)
    trainer = PopulationTrainer(discrete_dataset, config=config, members=members)
    reference = _run(discrete_dataset, config, members)
    for _ in range(3):
        trainer.train_step()
    with torch.no_grad():
        trainer.nets.q.layer2.weight[1] = float("nan")  # a member whose Q blows up at step 4
    at_detection = None
    while trainer.step < config.steps:
        trainer.train_step()
        if trainer.step == check_every + 3 - (3 % check_every):  # the first check after step 4
            at_detection = {k: v.clone() for k, v in _params(trainer, 1).items()}
    trainer.check_divergence()
    assert trainer.active == [True, False, True]
    step, reason = trainer.divergences[1]
    assert step == 4 and reason.startswith("non-finite loss at step 4: loss/q=nan")
    for name, value in _params(trainer, 1).items():  # frozen: never updated after the check
        assert torch.equal(value.nan_to_num(), at_detection[name].nan_to_num()), name
    if check_every == 1:  # caught before the NaN reached the policy through the target Q
        assert all(torch.isfinite(v).all() for k, v in _params(trainer, 1).items() if k.startswith("policy"))
    for member in (0, 2):
        for name, value in _params(reference, member).items():
            assert torch.equal(_params(trainer, member)[name], value), name
    assert trainer.completed_steps(1) == 3 and trainer.completed_steps(0) == 12


@dataclass(frozen=True)
class _Score:
    mean_return: float
    win_rate: float | None


def test_train_population_evaluates_and_writes_result_json(discrete_dataset, tmp_path):
    calls = []

    def evaluate(policy, step):
        obs = torch.zeros(policy.n_members, 2, 3, 4)
        avail = torch.ones(policy.n_members, 2, 3, 5, dtype=torch.bool)
        assert policy.act(obs, avail).shape == (policy.n_members, 2, 3)
        calls.append(step)
        return [_Score(mean_return=float(step + m), win_rate=0.5) for m in range(policy.n_members)]

    members = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=5.0, global_info=False)]
    results = train_population(discrete_dataset, config=_config(steps=25, eval_every=10, mixer="vdn"),
                               members=members, out_dir=tmp_path, evaluate=evaluate)
    assert calls == [10, 20, 25]
    assert [r.final_return for r in results] == [25.0, 26.0]
    saved = json.loads((tmp_path / "result.json").read_text())
    second = saved["members"][1]
    assert (second["alpha"], second["mixer"], second["global_info"], second["seed"]) == (5.0, "vdn", False, 1)
    assert second["status"] == "ok" and second["steps"] == 25
    assert set(second["final_losses"]) == {"loss/q", "loss/v", "loss/pi"}
    assert [p["step"] for p in second["eval_curve"]] == [10, 20, 25] and second["final_win_rate"] == 0.5
    provenance = saved["provenance"]
    assert provenance["config"]["mixer"] == "vdn" and len(provenance["dataset"]["sha256_arrays"]) == 64
    assert provenance["versions"]["torch"] == torch.__version__


def test_behaviour_cloning_raises_the_likelihood_of_dataset_actions(continuous_dataset):
    members = [MemberConfig(seed=0, alpha=1.0)]
    trainer = PopulationTrainer(continuous_dataset, config=_config(steps=60, method="bc", lr=3e-3),
                                members=members)
    q_before = [p.detach().clone() for p in trainer.nets.q.parameters()]
    trainer.train_step()
    first = trainer.last_losses[0, 0].item()
    for _ in range(59):
        trainer.train_step()
    assert trainer.loss_names == ("loss/pi",) and trainer.last_losses[0, 0].item() < first - 0.3
    for p, before in zip(trainer.nets.q.parameters(), q_before):  # BC never moves Q (its gradient is zero)
        assert torch.equal(p, before) and not p.grad.any()


def test_reward_to_go_replaces_rewards(discrete_dataset):
    plain = PopulationTrainer(discrete_dataset, config=_config(steps=1), members=[MemberConfig(seed=0, alpha=1.0)])
    rtg = PopulationTrainer(discrete_dataset, config=_config(steps=1, reward_to_go=True),
                            members=[MemberConfig(seed=0, alpha=1.0)])
    last = int(discrete_dataset.episode_ends[0])
    first = int(discrete_dataset.episode_starts[0])
    assert rtg.sampler.rewards[last] == plain.sampler.rewards[last]
    assert rtg.sampler.rewards[first] == pytest.approx(plain.sampler.rewards[first:last + 1].sum().item(), rel=1e-5)


def test_bfloat16_matmuls_track_the_float32_run(continuous_dataset):
    members = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=3.0)]
    exact = _run(continuous_dataset, _config(steps=20), members)
    fast = _run(continuous_dataset, _config(steps=20, matmul_precision="bfloat16"), members)
    assert fast.last_losses.dtype == torch.float32 and torch.isfinite(fast.last_losses).all()
    assert torch.allclose(fast.last_losses, exact.last_losses, rtol=0.05)
    assert not torch.equal(fast.last_losses, exact.last_losses)
    assert fast.nets.v.head.weight.dtype == torch.float32
