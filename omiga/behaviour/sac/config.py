"""The SAC behaviour learner's budget and hyper-parameters."""

from __future__ import annotations

from dataclasses import dataclass

from omiga.errors import ConfigError

__all__ = ["SACConfig"]


@dataclass(frozen=True)
class SACConfig:
    """Budget and hyper-parameters of the SAC behaviour learner (defaults: the full, ~1 h per core recipe)."""

    total_steps: int = 300_000
    """Environment steps of training (one gradient update per step after ``start_steps``)."""
    start_steps: int = 10_000
    """Initial steps with uniform random actions and no updates."""
    batch_size: int = 256
    """Transitions per gradient update."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and both critics."""
    lr: float = 3e-4
    """Adam learning rate of actor, critics and temperature."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    snapshot_every: int = 10_000
    """Steps between actor snapshots (each evaluated; candidates for the medium policy)."""
    eval_episodes: int = 3
    """Deterministic episodes per snapshot evaluation."""
    medium_fraction: float = 1.0 / 3.0
    """The medium policy is the snapshot whose return is closest to this fraction of the expert's."""

    def __post_init__(self) -> None:
        for name in ("total_steps", "batch_size", "snapshot_every", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"SACConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.start_steps <= self.total_steps:
            raise ConfigError(f"SACConfig.start_steps must lie in [0, total_steps={self.total_steps}], "
                              f"got {self.start_steps}")
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"SACConfig.hidden needs positive layer sizes, got {self.hidden}")
        if not (0 < self.lr and 0 < self.gamma <= 1 and 0 < self.tau <= 1 and 0 < self.medium_fraction <= 1):
            raise ConfigError("SACConfig needs lr > 0, gamma in (0, 1], tau in (0, 1] and medium_fraction in (0, 1]")

    @classmethod
    def with_budget(cls, total_steps: int) -> SACConfig:
        """The default recipe shrunk (or grown) to ``total_steps``: warm-up and snapshot interval keep their
        1/30 share of the budget (10k of 300k), so ``with_budget(300_000) == SACConfig()``."""
        if total_steps < 1:
            raise ConfigError(f"the SAC budget must be >= 1 environment step, got {total_steps}")
        default = cls()
        share = total_steps / default.total_steps
        return cls(total_steps=total_steps, start_steps=round(default.start_steps * share),
                   snapshot_every=max(1, round(default.snapshot_every * share)))
