"""CUDA-graph replay of the training step: refused where it cannot work, and equal to the eager step on a GPU.

The GPU tests run only where torch sees a CUDA device (the project's device checks); on CI they are skipped
and the configuration checks still run.
"""

from __future__ import annotations

import pytest
import torch

from omiga.checkpoint import load_checkpoint, save_checkpoint
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError
from omiga.graphed import GRAPH_WARMUP_STEPS
from omiga.trainer import PopulationTrainer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
MEMBERS = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=3.0, global_info=False),
           MemberConfig(seed=2, alpha=10.0)]


def _config(**overrides) -> TrainConfig:
    values = {"steps": 20, "batch_size": 16, "network": NetworkConfig(hidden=32, mixer_hidden=8), "device": "cuda",
              **overrides}
    return TrainConfig(**values)


def _run(dataset, config: TrainConfig, steps: int) -> PopulationTrainer:
    trainer = PopulationTrainer(dataset, config=config, members=MEMBERS)
    for _ in range(steps):
        trainer.train_step()
    return trainer


@pytest.mark.parametrize(("overrides", "message"), [
    ({"device": "cpu"}, "TrainConfig.cuda_graph needs a CUDA device, got device 'cpu'"),
    ({"method": "cql"}, "TrainConfig.cuda_graph supports the methods bc, omiga .* got method 'cql'"),
])
def test_cuda_graph_is_refused_where_it_cannot_work(overrides, message):
    with pytest.raises(ConfigError, match=message):
        _config(cuda_graph=True, **overrides)


@needs_cuda
@pytest.mark.parametrize("mixer", ["linear", "qmix"])
@pytest.mark.parametrize("data", ["discrete_dataset", "continuous_dataset"])
def test_graph_replay_equals_the_eager_step(request, data, mixer):
    dataset = request.getfixturevalue(data)
    eager = _run(dataset, _config(mixer=mixer), 20)
    graphed = _run(dataset, _config(mixer=mixer, cuda_graph=True), 20)
    assert graphed._graph.captured and graphed.step == 20
    for (name, a), (_, b) in zip(eager.nets.state_dict().items(), graphed.nets.state_dict().items()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
    torch.testing.assert_close(graphed.last_losses, eager.last_losses, rtol=1e-5, atol=1e-6)


@needs_cuda
def test_graph_replay_is_deterministic(discrete_dataset):
    first, second = (_run(discrete_dataset, _config(cuda_graph=True), 15) for _ in range(2))
    for (name, a), (_, b) in zip(first.nets.state_dict().items(), second.nets.state_dict().items()):
        assert torch.equal(a, b), name


@needs_cuda
def test_a_member_poisoned_after_the_capture_is_frozen_and_the_others_go_on(discrete_dataset):
    config = _config(cuda_graph=True, check_every=1)
    clean = _run(discrete_dataset, config, 12)
    trainer = _run(discrete_dataset, config, GRAPH_WARMUP_STEPS + 2)
    assert trainer._graph.captured
    with torch.no_grad():
        trainer.nets.q.layer2.weight[1] = float("nan")
    poisoned_at = trainer.step + 1
    while trainer.step < 12:
        trainer.train_step()
    assert trainer.active == [True, False, True]
    step, reason = trainer.divergences[1]
    assert step == poisoned_at and reason.startswith(f"non-finite loss at step {poisoned_at}: loss/q=nan")
    for member in (0, 2):
        for name, value in clean.nets.state_dict().items():
            assert torch.equal(trainer.nets.state_dict()[name][member], value[member]), name


@needs_cuda
def test_resume_recaptures_and_matches_the_uninterrupted_run(discrete_dataset, tmp_path):
    config = _config(cuda_graph=True)
    whole = _run(discrete_dataset, config, 20)
    save_checkpoint(_run(discrete_dataset, config, 10).state_dict(), tmp_path / "checkpoint.pt")
    resumed = PopulationTrainer(discrete_dataset, config=config, members=MEMBERS)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))  # host tensors, as a real resume
    while resumed.step < 20:
        resumed.train_step()
    for (name, a), (_, b) in zip(whole.nets.state_dict().items(), resumed.nets.state_dict().items()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
