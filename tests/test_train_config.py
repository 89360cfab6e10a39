"""Configuration validation and the ``train`` command line."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from omiga.commands.train import parse_seeds, register
from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError, UnknownNameError
from omiga.methods import get_update_rule, method_names


def test_defaults_follow_the_paper():
    config = TrainConfig(steps=10)
    assert (config.gamma, config.tau, config.lr, config.batch_size, config.grad_clip, config.exp_clamp) == (
        0.99, 0.005, 5e-4, 128, 1.0, 10.0)
    assert (config.network.hidden, config.network.mixer_hidden, config.mixer) == (256, 64, "linear")
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: MemberConfig(seed=0, alpha=0.0), ConfigError, "MemberConfig.alpha must be a finite number > 0, got 0.0"),
    (lambda: MemberConfig(seed=-1, alpha=1.0), ConfigError, "MemberConfig.seed must be an integer >= 0, got -1"),
    (lambda: TrainConfig(steps=0), ConfigError, "TrainConfig.steps must be an integer >= 1, got 0"),
    (lambda: TrainConfig(steps=1, gamma=1.5), ConfigError, r"TrainConfig.gamma must lie in \[0, 1\], got 1.5"),
    (lambda: TrainConfig(steps=1, tau=0.0), ConfigError, r"TrainConfig.tau must lie in \(0, 1\], got 0.0"),
    (lambda: TrainConfig(steps=1, mixer="qplex"), UnknownNameError,
     "unknown mixer 'qplex'; known mixers: linear, qmix, vdn"),
    (lambda: TrainConfig(steps=1, method="qlearn"), UnknownNameError,
     "unknown method 'qlearn'; known methods: bc, bcq, cql, icq, omar, omiga"),
    (lambda: NetworkConfig(hidden=0), ConfigError, "NetworkConfig.hidden must be an integer >= 1, got 0"),
])
def test_bad_values_get_one_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_every_registered_method_has_an_update_rule():
    assert method_names() == ("bc", "bcq", "cql", "icq", "omar", "omiga")
    assert all(callable(get_update_rule(name)) for name in method_names())


def test_parse_seeds():
    assert parse_seeds("0,1,2") == (0, 1, 2) and parse_seeds("3-5") == (3, 4, 5)
    with pytest.raises(ConfigError, match="--seeds must be distinct integers like 0,1,2 or a range 0-4, got '1,1'"):
        parse_seeds("1,1")


def _train_cli(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", *map(str, argv)])
    threads = torch.get_num_threads()
    try:
        return args.func(args)
    finally:
        torch.set_num_threads(threads)  # --threads must not leak into other tests


def test_cli_trains_alpha_by_seed_population_and_writes_result(discrete_dataset_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train_cli(["--dataset", discrete_dataset_file, "--alpha", "1", "10", "--seeds", "0,1", "--steps", 5,
                       "--batch-size", 8, "--hidden", 8, "--mixer", "vdn", "--no-global-info", "--out", out,
                       "--no-progress", "--threads", 1, "--matmul-precision", "bfloat16"]) == 0
    saved = json.loads((out / "result.json").read_text())
    assert [(m["alpha"], m["seed"], m["global_info"], m["status"]) for m in saved["members"]] == [
        (1.0, 0, False, "ok"), (1.0, 1, False, "ok"), (10.0, 0, False, "ok"), (10.0, 1, False, "ok")]
    assert saved["provenance"]["config"]["matmul_precision"] == "bfloat16"
    assert "skipping evaluation" in capsys.readouterr().out


def test_cli_rejects_an_unknown_mixer(discrete_dataset_file, tmp_path):
    with pytest.raises(UnknownNameError, match="unknown mixer 'foo'"):
        _train_cli(["--dataset", discrete_dataset_file, "--alpha", "1", "--steps", 1, "--mixer", "foo",
                    "--out", tmp_path])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_a_cuda_device_without_gpu_is_refused(discrete_dataset):
    from omiga.trainer import PopulationTrainer

    with pytest.raises(ConfigError, match="device 'cuda' requested but this torch build sees no CUDA GPU"):
        PopulationTrainer(discrete_dataset, config=TrainConfig(steps=1, device="cuda"),
                          members=[MemberConfig(seed=0, alpha=1.0)])


def test_cli_cuda_graph_without_a_cuda_device_is_refused(discrete_dataset_file, tmp_path):
    with pytest.raises(ConfigError, match="TrainConfig.cuda_graph needs a CUDA device, got device 'cpu'"):
        _train_cli(["--dataset", discrete_dataset_file, "--alpha", "1", "--steps", 1, "--cuda-graph",
                    "--out", tmp_path])


def test_cli_passes_method_options_to_the_config(discrete_dataset_file, tmp_path):
    out = tmp_path / "cql"
    assert _train_cli(["--dataset", discrete_dataset_file, "--alpha", "1", "--steps", 2, "--batch-size", 8,
                       "--hidden", 8, "--method", "cql", "--method-option", "alpha=2.5", "--out", out,
                       "--no-progress"]) == 0
    saved = json.loads((out / "result.json").read_text())
    assert saved["provenance"]["config"]["method_options"] == [["alpha", 2.5]]


@pytest.mark.parametrize("option", ["alpha", "alpha=", "=2", "alpha=two"])
def test_cli_rejects_a_malformed_method_option(discrete_dataset_file, tmp_path, option):
    with pytest.raises(ConfigError, match=f"--method-option must look like NAME=NUMBER .*got {option!r}"):
        _train_cli(["--dataset", discrete_dataset_file, "--alpha", "1", "--steps", 1, "--method", "cql",
                    "--method-option", option, "--out", tmp_path])
