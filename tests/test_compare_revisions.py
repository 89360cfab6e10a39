"""benchmarks.compare_revisions: another revision's omiga is imported beside the working tree's, then set aside."""

from __future__ import annotations

import sys

import pytest

import omiga.trainer
from benchmarks.compare_revisions import compare_trainers, omiga_of


def test_a_revision_is_imported_from_its_archive_and_the_working_tree_modules_come_back(tmp_path):
    before = sys.modules["omiga.trainer"]
    with omiga_of("HEAD", tmp_path / "rev"):
        import omiga.trainer as archived

        assert archived is not before and archived.__file__.startswith(str(tmp_path / "rev"))
    assert sys.modules["omiga.trainer"] is before is omiga.trainer
    assert not any(str(tmp_path) in path for path in sys.path)


class _Clock:
    now = 0.0

    def perf_counter(self) -> float:
        return self.now


class _FakeTrainer:
    """A step that advances the fake clock by ``seconds``."""

    def __init__(self, clock: _Clock, seconds: float):
        self.clock, self.seconds, self.steps = clock, seconds, 0

    def train_step(self) -> None:
        self.clock.now += self.seconds
        self.steps += 1


def test_compare_trainers_alternates_blocks_and_reports_the_rate_ratio(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr("benchmarks.train_throughput.time", clock)
    base, tree = _FakeTrainer(clock, 0.004), _FakeTrainer(clock, 0.002)
    base_rate, tree_rate, ratio, low, high = compare_trainers(base, tree, blocks=4, block_steps=3)
    assert base.steps == tree.steps == 12
    assert (base_rate, tree_rate) == pytest.approx((250.0, 500.0))
    assert (ratio, low, high) == pytest.approx((2.0, 2.0, 2.0))
