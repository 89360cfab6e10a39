"""TrainConfig.compile: the compiled losses and gradient give the eager step's numbers (every method), deterministically,
reuse one compilation per shape and resume."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from test_train_checkpoint import _evaluate, _Interrupted, train_whole_and_resumed
from test_train_population import _run
from torch._dynamo.utils import counters

import omiga.compiled
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


@pytest.mark.parametrize(("method", "dataset_name"), [
    ("bc", "discrete_dataset"), ("bcq", "discrete_dataset"), ("cql", "discrete_dataset"),
    ("icq", "discrete_dataset"), ("omar", "discrete_dataset")])
def test_every_baseline_compiles_to_its_eager_steps(request, method, dataset_name):
    """Sampled actions (noise), frozen-parameter calls and losses that leave a group without gradient all go
    through the one compiled graph: the numbers are the eager step's. (CQL runs on the discrete data: its
continuous graph, with the uniform and policy action samples, took 218 s to compile on a cold cache in CI, against
49 s for the discrete one, which compiles the same mixed penalty. Continuous BCQ, with its VAE, ξ and Q²,
    compiles too and matched its eager steps to 1.5e-8 when checked by hand; its graph takes minutes to compile,
    too long for the suite. Continuous OMAR is CQL's mixed-penalty critic, compiled in the cql case, plus the
    Gaussian search; its graph took 216 s to compile on a cold cache, so the suite compiles discrete OMAR, the
    newer code, instead.)"""
    dataset = request.getfixturevalue(dataset_name)
    options = (("iterations", 1),) if method == "omar" else ()
    config = _config(method=method, method_options=options, mixer="vdn" if method == "bc" else "linear")
    eager = _trained(dataset, config, steps=3)
    graphs = counters["stats"]["unique_graphs"]
    compiled = _trained(dataset, dataclasses.replace(config, compile=True), steps=3)
    assert counters["stats"]["unique_graphs"] - graphs <= 1  # not once per step (the noise's step is a tensor)
    assert compiled.loss_names == eager.loss_names
    torch.testing.assert_close(compiled.last_losses, eager.last_losses, rtol=1e-4, atol=1e-5)
    for (name, value), other in zip(eager.nets.state_dict().items(), compiled.nets.state_dict().values()):
        torch.testing.assert_close(other, value, rtol=1e-4, atol=1e-5, msg=name)
    for state, other in zip(eager.optimizer.state.values(), compiled.optimizer.state.values()):
        assert torch.equal(state["step"], other["step"])
        torch.testing.assert_close(other["exp_avg_sq"], state["exp_avg_sq"], rtol=1e-4, atol=1e-9)


def test_a_population_of_the_same_shapes_reuses_the_compiled_step(discrete_dataset):
    config = _config(mixer="vdn", compile=True)
    _trained(discrete_dataset, config, steps=2)
    graphs = counters["stats"]["unique_graphs"]
    others = [MemberConfig(seed=7, alpha=2.0, global_info=False), MemberConfig(seed=8, alpha=9.0)]
    _run(discrete_dataset, dataclasses.replace(config, steps=3), others)
    assert counters["stats"]["unique_graphs"] == graphs


def test_past_the_recompile_limit_a_population_trains_eagerly_with_a_warning(discrete_dataset, monkeypatch):
    _trained(discrete_dataset, _config(mixer="vdn", compile=True), steps=1)  # the process holds a variant
    monkeypatch.setattr(omiga.compiled, "RECOMPILE_LIMIT", 1)
    config = _config(mixer="vdn", compile=True, batch_size=5)  # another shape: a variant past the limit
    with pytest.warns(RuntimeWarning, match="recompile limit.*this one trains without compiling, with the same"):
        fallen_back = _trained(discrete_dataset, config, steps=3)
    eager = _trained(discrete_dataset, dataclasses.replace(config, compile=False), steps=3)
    assert torch.equal(fallen_back.last_losses, eager.last_losses)
    for (name, value), other in zip(eager.nets.state_dict().items(), fallen_back.nets.state_dict().values()):
        assert torch.equal(other, value), name


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


def test_the_command_line_says_the_first_step_compiles_and_trains(discrete_dataset_file, tmp_path, capsys):
    from omiga.cli import main

    code = main(["train", "--dataset", str(discrete_dataset_file), "--alpha", "1", "4", "--mixer", "vdn",
                 "--steps", "3", "--hidden", "16", "--batch-size", "8", "--compile", "--no-eval", "--no-progress",
                 "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: --compile: the first step compiles the omiga update (10-90 s on a 2-core CPU)" in out
    assert out.index("note: --compile") < out.index("alpha=1 seed=0 status=ok steps=3")
    members = json.loads((tmp_path / "out" / "result.json").read_text())["members"]
    assert [(m["alpha"], m["status"], m["steps"]) for m in members] == [(1.0, "ok", 3), (4.0, "ok", 3)]


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
