"""Shared fixtures: small schema-valid datasets (discrete and continuous), their saved files, a PostgreSQL URL and a
study run with a closed-form trainer."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: spinning threads stall a shared CPU

from pathlib import Path

import pytest
import torch

from omiga.data import OfflineDataset, make_synthetic_dataset, save_dataset


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread for the whole run: CI has two cores, and test timings stay stable on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def discrete_dataset() -> OfflineDataset:
    """6 episodes of 3-8 steps, 3 agents, 5 discrete actions with some unavailable."""
    return make_synthetic_dataset(n_episodes=6, episode_length=8, min_episode_length=3, n_agents=3, obs_dim=4,
                                  state_dim=6, n_actions=5, seed=0)


@pytest.fixture
def continuous_dataset() -> OfflineDataset:
    """4 episodes of 5 steps, 2 agents, 2-dimensional actions in [-1, 1]."""
    return make_synthetic_dataset(n_episodes=4, episode_length=5, n_agents=2, obs_dim=3, state_dim=4, act_dim=2,
                                  seed=1)


@pytest.fixture
def discrete_dataset_file(discrete_dataset: OfflineDataset, tmp_path: Path) -> Path:
    """``discrete_dataset`` saved as HDF5 under tmp_path."""
    return save_dataset(discrete_dataset, tmp_path / "discrete.h5")


@pytest.fixture
def postgres_url() -> str:
    """``$OMIGA_TEST_POSTGRES_URL`` once a server answers there (``.ci/run`` starts one); the test skips otherwise."""
    url = os.environ.get("OMIGA_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set OMIGA_TEST_POSTGRES_URL=postgresql://USER:PASSWORD@127.0.0.1:5432/DB to run this test")
    from studies.storage import mask_url, open_storage

    try:
        open_storage(url=url, study_dir=Path("."))
    except Exception as error:  # noqa: BLE001 - any failure means no usable server
        pytest.skip(f"PostgreSQL at {mask_url(url)} is not reachable: {error}")
    return url


@pytest.fixture
def closed_form_study(tmp_path: Path, monkeypatch) -> tuple[list[str], Path]:
    """Run the smoke global_info study on toy_coop in tmp_path (the working directory) with a trainer whose
    outcomes are closed-form (score = seed, win rate 0.5); returns the CLI arguments naming the study and its
    results directory."""
    from studies.cli import main

    argv = ["--task", "toy_coop", "--preset", "smoke", "--study", "global_info"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "closed_form_trainer.py").write_text(
        "from studies.runner import RunOutcome\n"
        "def train(plan, points, *, study_dir, execution=None):\n"
        "    return [RunOutcome(status='ok', score=float(p.seed), win_rate=0.5, normalized_score=0.1,\n"
        "                       steps=plan.steps, run_dir='', curve_path='', member_index=i)\n"
        "            for i, p in enumerate(points)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", *argv, "--trainer", "closed_form_trainer:train"]) == 0
    return argv, tmp_path / "results" / "global_info-toy_coop-smoke"
