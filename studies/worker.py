"""A study worker: claim a population of WAITING trials, train it, tell each trial its outcome; repeat.

Any number of workers (local processes or other machines sharing a database) may run the same loop; the
queue (studies/queue.py) guarantees that every grid point runs once.
"""

from __future__ import annotations

import importlib
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from omiga.masking import mask_secrets
from omiga.monitor import format_duration
from studies.artifacts import attach_trial_result
from studies.errors import StudyError
from studies.execution import CPU_EAGER, Execution
from studies.grid import GridPoint
from studies.plan import StudyPlan
from studies.queue import ClaimedTrial, Heartbeat, claim_population, reap_stale_trials
from studies.runner import RunOutcome

__all__ = [
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_LEASE_S",
    "DEFAULT_TRAINER",
    "PopulationTrain",
    "resolve_trainer",
    "run_worker",
]

PopulationTrain = Callable[..., list[RunOutcome]]
"""``train(plan, points, *, study_dir, execution) -> one RunOutcome per point`` (default:
`studies.runner.train_points`); ``execution`` is the worker's `studies.execution.Execution`."""

DEFAULT_TRAINER = "studies.runner:train_points"
"""The population trainer workers use unless ``--trainer module:function`` names another."""
DEFAULT_LEASE_S = 120.0
DEFAULT_HEARTBEAT_S = 10.0


def resolve_trainer(target: str | PopulationTrain) -> PopulationTrain:
    """The trainer named by ``"module:function"`` (a callable is returned unchanged)."""
    if callable(target):
        return target
    module_name, _, function = target.partition(":")
    try:
        trainer = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError, ValueError) as error:
        raise StudyError(f"--trainer {target!r} cannot be imported ({error}); give module:function, default "
                         f"{DEFAULT_TRAINER}") from None
    if not callable(trainer):
        raise StudyError(f"--trainer {target!r} is not callable; give module:function")
    return trainer


def check_lease(*, lease_s: float, heartbeat_s: float) -> None:
    """A lease must outlast a few heartbeats, or live workers would be taken for dead."""
    if not heartbeat_s > 0 or not lease_s >= 3 * heartbeat_s:
        raise StudyError(f"--lease {lease_s:g} must be at least 3 x --heartbeat {heartbeat_s:g} (and --heartbeat > 0), "
                         "or running trials of live workers would be retried")


def _tell(study: optuna.Study, claimed: ClaimedTrial, outcome: RunOutcome, log: Callable[[str], None],
          study_dir: Path) -> None:
    trial = claimed.trial
    try:
        attrs = outcome.user_attrs()
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        attach_trial_result(study_dir, trial, attrs, storage=study._storage, log=log)
        if outcome.status == "ok":
            study.tell(trial, outcome.score)
        else:
            study.tell(trial, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        log(f"trial {trial.number} was taken over by another worker (its lease expired); result dropped")


def _fail_all(study: optuna.Study, claimed: list[ClaimedTrial], reason: str) -> None:
    for item in claimed:
        try:
            item.trial.set_user_attr("status", "failed")
            item.trial.set_user_attr("reason", mask_secrets(reason)[-2000:])
            study.tell(item.trial, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            pass


def _describe(points: list[GridPoint]) -> str:
    first = points[0]
    mixer = f" {first.mixer}" if first.mixer else ""
    setting = "".join(f" {name}={value:g}" for name, value in first.options)
    qualities = "+".join(dict.fromkeys(point.quality for point in points))
    return f"{qualities} {first.method}{mixer}{setting}: {len(points)} run{'s' if len(points) > 1 else ''}"


def study_progress(study: optuna.Study, *, finished: int, elapsed_s: float) -> str:
    """``study: 80/90 trials finished (this worker 80), ETA 2 min 10 s at this worker's pace``.

    The ETA assumes the trials left cost what this worker's did on average: a rough guide (BC trains faster
    than OMIGA), and with several workers sharing the study it is an upper bound.
    """
    states = [t.state for t in study.get_trials(deepcopy=False)]
    done = sum(s in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED) for s in states)
    left = sum(s in (TrialState.WAITING, TrialState.RUNNING) for s in states)
    text = f"study: {done}/{done + left} trials finished (this worker {finished})"
    if left and finished:
        text += f", ETA {format_duration(elapsed_s / finished * left)} at this worker's pace"
    return text


def run_worker(*, study: optuna.Study, plan: StudyPlan, study_dir: Path,
               train: PopulationTrain | str = DEFAULT_TRAINER,
               lease_s: float = DEFAULT_LEASE_S, heartbeat_s: float = DEFAULT_HEARTBEAT_S,
               log: Callable[[str], None] = print, execution: Execution = CPU_EAGER) -> int:
    """Run populations until no WAITING trial is left; return the number of trials this worker finished.

    An exception from ``train`` fails the population's trials (status "failed", reason: the traceback) and is
    re-raised: a broken configuration should stop the study, not loop over every population.
    """
    check_lease(lease_s=lease_s, heartbeat_s=heartbeat_s)
    execution.check(plan)
    train = resolve_trainer(train)
    finished, began = 0, time.monotonic()
    while True:
        for number in reap_stale_trials(study, lease_s=lease_s):
            log(f"trial {number} was stale (its worker stopped); re-enqueued to resume from its checkpoint")
        claimed = claim_population(study, plan)
        if not claimed:
            return finished
        points = [item.point for item in claimed]
        log(f"training {_describe(points)}")
        started = time.monotonic()
        with Heartbeat(study, [item.trial._trial_id for item in claimed], interval_s=heartbeat_s):
            try:
                outcomes = train(plan, points, study_dir=study_dir, execution=execution)
            except BaseException:
                _fail_all(study, claimed, traceback.format_exc())
                raise
        for item, outcome in zip(claimed, outcomes, strict=True):
            _tell(study, item, outcome, log, study_dir)
        scores = [o.score for o in outcomes if o.score is not None]
        summary = f"mean score {sum(scores) / len(scores):.3g}" if scores else "no finite score"
        log(f"  done in {time.monotonic() - started:.0f} s: {summary}, "
            f"{sum(o.status != 'ok' for o in outcomes)} not ok")
        finished += len(claimed)
        log(f"  {study_progress(study, finished=finished, elapsed_s=time.monotonic() - began)}")
