"""Where a study's time went: wall time per stage, and the training rate and evaluation share of its trials.

The stages (datasets, training, export, report) are timed where they run (:class:`StageClock`); the training
rate and the evaluation share come from the trials themselves (each finished trial records its share of its
population's training and evaluation seconds, `studies.runner.RunOutcome.timing`), so they count the work of
every worker process, this one's or not, of the runs finished in this call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

__all__ = ["StageClock", "TrainingTime", "training_time"]


class StageClock:
    """Wall seconds per named stage, in the order the stages first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def line(self) -> str:
        """``wall time: datasets 3 s, training 120 s, ...``."""
        return "wall time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())


@dataclass(frozen=True)
class TrainingTime:
    """The summed timing of finished trials."""

    runs: int
    """Trials with a timing record."""
    member_steps: int
    """Gradient steps of those runs (each run's own steps)."""
    train_s: float
    """Seconds of training, each run's share of its population's."""
    eval_s: float
    """Seconds of evaluation, likewise."""
    peak_rss_mb: float = float("nan")
    """The largest peak resident memory of a trial's population (its worker process during that population's
    training, `studies.memory`); NaN where no trial recorded one."""

    @property
    def member_steps_per_s(self) -> float:
        return self.member_steps / self.train_s if self.train_s > 0 else float("nan")

    @property
    def eval_share(self) -> float:
        """Evaluation's share of training plus evaluation."""
        total = self.train_s + self.eval_s
        return self.eval_s / total if total > 0 else float("nan")

    def line(self) -> str:
        if not self.runs:
            return "training: no run trained in this call"
        return (f"training: {self.runs} runs, {self.member_steps} member-steps in {self.train_s:.1f} s = "
                f"{self.member_steps_per_s:.1f} member-steps/s; evaluation {self.eval_s:.1f} s = "
                f"{100 * self.eval_share:.1f}% of training + evaluation"
                + ("" if math.isnan(self.peak_rss_mb) else f"; peak memory {self.peak_rss_mb:.0f} MB"))


def training_time(trials: Iterable[optuna.trial.FrozenTrial], *, since: float | None = None) -> TrainingTime:
    """Sum the timing of ``trials`` (finished, or failed with a run) completed at or after ``since`` (a
    ``datetime.timestamp()``; None: all)."""
    runs, steps, train_s, eval_s = 0, 0, 0.0, 0.0
    peaks: list[float] = []
    for trial in trials:
        timing = trial.user_attrs.get("timing")
        if trial.state not in (TrialState.COMPLETE, TrialState.FAIL) or not isinstance(timing, dict):
            continue
        if since is not None and (trial.datetime_complete is None or trial.datetime_complete.timestamp() < since):
            continue
        runs += 1
        steps += int(timing.get("steps", 0))
        train_s += float(timing.get("train_s", 0.0))
        eval_s += float(timing.get("eval_s", 0.0))
        if timing.get("peak_rss_mb") is not None:
            peaks.append(float(timing["peak_rss_mb"]))
    return TrainingTime(runs=runs, member_steps=steps, train_s=train_s, eval_s=eval_s,
                        peak_rss_mb=max(peaks, default=float("nan")))
