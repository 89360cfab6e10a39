"""TrainConfig.compile: the Inductor-compiled losses give the eager step's numbers, deterministically, and resume."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_train_checkpoint import _evaluate, _Interrupted, train_whole_and_resumed
from test_train_population import _run

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError
from omiga.train import train_population
from omiga.trainer import PopulationTrainer

MEMBERS = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=3, alpha=4.0, global_info=False)]


def _config(**overrides) -> TrainConfig:
    values = {"steps": 30, "batch_size": 8, "network": NetworkConfig(hidden=16, mixer_hidden=4), **overrides}
    return TrainConfig(**values)


def _trained(dataset, config: TrainConfig, steps: int) -> PopulationTrainer:
    return _run(dataset, dataclasses.replace(config, steps=steps), MEMBERS)


@pytest.mark.parametrize(("dataset_name", "mixer"), [("continuous_dataset", "linear"), ("discrete_dataset", "qmix")])
def test_compiled_steps_equal_the_eager_steps(request, dataset_name, mixer):
    dataset = request.getfixturevalue(dataset_name)
    eager = _trained(dataset, _config(mixer=mixer), steps=5)
    compiled = _trained(dataset, _config(mixer=mixer, compile=True), steps=5)
    assert compiled.loss_names == eager.loss_names
    torch.testing.assert_close(compiled.last_losses, eager.last_losses, rtol=1e-4, atol=1e-5)
    for (name, value), other in zip(eager.nets.state_dict().items(), compiled.nets.state_dict().values()):
        torch.testing.assert_close(other, value, rtol=1e-4, atol=1e-5, msg=name)


def test_compiled_bfloat16_steps_track_the_float32_run(continuous_dataset):
    exact = _trained(continuous_dataset, _config(), steps=20)
    fast = _trained(continuous_dataset, _config(compile=True, matmul_precision="bfloat16"), steps=20)
    assert fast.last_losses.dtype == torch.float32 and torch.isfinite(fast.last_losses).all()
    torch.testing.assert_close(fast.last_losses, exact.last_losses, rtol=0.05, atol=1e-3)
    assert not torch.equal(fast.last_losses, exact.last_losses)


def test_a_compiled_run_resumes_bitwise_and_may_switch_compile_on(continuous_dataset, tmp_path):
    config = _config(compile=True, checkpoint_every=10, eval_every=10)
    final_whole, final_resumed = train_whole_and_resumed(continuous_dataset, config, tmp_path / "compiled",
                                                         members=MEMBERS)
    for name, value in final_whole["nets"].items():
        assert torch.equal(value, final_resumed["nets"][name]), name

    eager_start = tmp_path / "eager_start"  # an eager checkpoint resumed with compile on is accepted
    with pytest.raises(_Interrupted):
        train_population(continuous_dataset, config=_config(checkpoint_every=10, eval_every=10), members=MEMBERS,
                         out_dir=eager_start, evaluate=_evaluate(interrupt_at=20))
    results = train_population(continuous_dataset, config=config, members=MEMBERS, out_dir=eager_start,
                               evaluate=_evaluate())
    assert [r.steps for r in results] == [30, 30]


def test_compile_and_cuda_graph_together_are_refused():
    with pytest.raises(ConfigError, match="TrainConfig.compile and cuda_graph are alternatives"):
        TrainConfig(steps=1, compile=True, cuda_graph=True, device="cuda")


def test_a_failed_build_names_the_missing_compiler(discrete_dataset, monkeypatch, tmp_path):
    import torch._dynamo
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", (None, "no-such-compiler-omiga-test"))
    monkeypatch.setattr(inductor_config, "fx_graph_cache", False)
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    torch._dynamo.reset()
    trainer = PopulationTrainer(discrete_dataset, config=_config(compile=True, mixer="vdn"), members=MEMBERS)
    try:
        with pytest.raises(ConfigError, match=r"torch.compile could not build the training step .*install a C\+\+ "
                                              r"compiler \(g\+\+\).*or train without --compile"):
            trainer.train_step()
    finally:
        torch._dynamo.reset()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_compiled_steps_equal_the_eager_steps_on_a_gpu(discrete_dataset):
    eager = _trained(discrete_dataset, _config(mixer="qmix", device="cuda"), steps=5)
    compiled = _trained(discrete_dataset, _config(mixer="qmix", device="cuda", compile=True), steps=5)
    torch.testing.assert_close(compiled.last_losses, eager.last_losses, rtol=1e-4, atol=1e-5)
    for (name, value), other in zip(eager.nets.state_dict().items(), compiled.nets.state_dict().values()):
        torch.testing.assert_close(other, value, rtol=1e-4, atol=1e-5, msg=name)
