"""What a trained member reports: its settings, status, final losses and evaluation curve."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["EvalPoint", "MemberResult"]


@dataclass(frozen=True)
class EvalPoint:
    """One evaluation of one member during training."""

    step: int
    mean_return: float
    win_rate: float | None


@dataclass(frozen=True)
class MemberResult:
    """The outcome of one member (one run) of a population."""

    alpha: float
    mixer: str
    global_info: bool
    seed: int
    steps: int
    """Completed gradient steps (a diverged member stops counting at its divergence)."""
    status: str
    """``ok`` or ``diverged``."""
    diverged_step: int | None
    reason: str | None
    final_losses: dict[str, float]
    eval_curve: tuple[EvalPoint, ...]
    final_return: float | None
    final_win_rate: float | None
    method: str = "omiga"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (the eval curve as a list of dicts)."""
        values = dataclasses.asdict(self)
        values["eval_curve"] = [dataclasses.asdict(point) for point in self.eval_curve]
        return values
