"""The allocator setting of the command-line entry points: freed activations stay mapped (no page faults)."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

_PROGRAM = """
import resource, sys, torch
if sys.argv[1] == "keep":
    from omiga.allocator import keep_freed_memory
    assert keep_freed_memory()
from omiga.config import MemberConfig, TrainConfig
from omiga.data import make_synthetic_dataset
from omiga.trainer import PopulationTrainer
torch.set_num_threads(1)
dataset = make_synthetic_dataset(n_episodes=4, episode_length=50, seed=0, n_agents=6, obs_dim=17, state_dim=17,
                                 act_dim=1)
trainer = PopulationTrainer(dataset, config=TrainConfig(steps=1), members=[MemberConfig(seed=0, alpha=1.0)])
for _ in range(30):
    trainer.train_step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    trainer.train_step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_per_step(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_training_steps_reuse_kept_memory_without_page_faults():
    default = statistics.median(_faults_per_step("default") for _ in range(3))  # page faults vary run to run
    kept = statistics.median(_faults_per_step("keep") for _ in range(3))
    assert kept * 5 < default  # glibc unmaps freed activations and faults them in again at the next step
