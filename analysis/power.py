"""Bootstrap power analysis: how many seeds per group would make a claim decisive?

For a growing number of seeds n, draw ``simulations`` synthetic experiments by resampling n runs per group
(with replacement, from that group's observed ok runs pooled over tasks — the observed distribution stands in
for the truth), judge each experiment with the claim's own rule and an inner bootstrap, and return the smallest
n at which at least ``target`` (80%) of the experiments are decisive (supported or refuted). Beyond ``cap``
the answer is ``None`` ("> cap"). Resampling from few observed runs understates the true spread, so treat the
answer as an order of magnitude, not a promise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.metrics import metric_function

__all__ = ["SEED_GRID", "Judge", "PowerConfig", "seeds_for_decision"]

Judge = Callable[[list[np.ndarray], list[np.ndarray]], np.ndarray]
"""(replicates per group ``(K, B)``, estimates per group ``(K,)``) -> verdict codes ``(K,)``."""
SEED_GRID = (2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256)


@dataclass(frozen=True)
class PowerConfig:
    """Settings of the power analysis."""

    cap: int = 64
    """Largest number of seeds per group considered; above it the answer is "> cap"."""
    target: float = 0.8
    """Share of simulated experiments that must be decisive."""
    simulations: int = 200
    """Synthetic experiments per candidate n."""
    inner_reps: int = 200
    """Bootstrap replicates inside each synthetic experiment."""
    seed: int = 0
    """Seed of the simulation."""

    def __post_init__(self) -> None:
        if self.cap < 2:
            raise ValueError(f"PowerConfig.cap must be >= 2, got {self.cap}")
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"PowerConfig.target must be in (0, 1), got {self.target}")
        if self.simulations < 10 or self.inner_reps < 10:
            raise ValueError("PowerConfig.simulations and inner_reps must be >= 10")


def _decisive_share(groups: Sequence[np.ndarray], *, n: int, judge: Judge, metric: str,
                    config: PowerConfig, rng: np.random.RandomState) -> float:
    statistic = metric_function(metric)
    replicates, estimates = [], []
    for values in groups:
        experiments = values[rng.randint(0, len(values), size=(config.simulations, n))]
        inner = np.take_along_axis(experiments[:, None, :],
                                   rng.randint(0, n, size=(config.simulations, config.inner_reps, n)), axis=2)
        replicates.append(statistic(inner[..., None]))
        estimates.append(statistic(experiments[..., None]))
    return float(np.mean(judge(replicates, estimates) != 0))


def seeds_for_decision(*, groups: Sequence[np.ndarray], judge: Judge, metric: str = "iqm",
                       n_start: int = 2, config: PowerConfig = PowerConfig()) -> int | None:
    """Smallest n in :data:`SEED_GRID` (>= ``n_start``, <= ``config.cap``) with a decisive share >= target."""
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    if any(a.ndim != 1 or len(a) == 0 for a in arrays):
        raise ValueError("each group needs a non-empty 1-D array of scores")
    rng = np.random.RandomState(config.seed)
    for n in (n for n in SEED_GRID if n_start <= n <= config.cap):
        if _decisive_share(arrays, n=n, judge=judge, metric=metric, config=config, rng=rng) >= config.target:
            return n
    return None
