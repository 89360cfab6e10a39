"""The trial queue: enqueue each grid point once, let workers claim WAITING trials, find stale RUNNING ones.

Optuna's ``Study.ask`` pops a WAITING trial but creates a fresh one when the queue is empty, so workers claim
with the same atomic storage call it uses (``set_trial_state_values(..., RUNNING)`` returns False when another
worker won the race). A worker claims one trial and then its population siblings (user attr ``population``).

Liveness: a worker refreshes the user attr ``heartbeat`` (Unix time) of the trials it runs every few seconds.
A RUNNING trial is stale when its heartbeat is older than the lease, or when its worker ran on this host and
that process no longer exists. Stale trials are failed and re-enqueued; the retry resumes from the
population's checkpoint. This works on every storage (Optuna's own heartbeats exist only for databases).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from studies.errors import StudyError
from studies.grid import GridPoint, enumerate_grid, param_choices, population_chunks
from studies.plan import StudyPlan

__all__ = [
    "WORKER_ID",
    "ClaimedTrial",
    "Heartbeat",
    "claim_population",
    "enqueue_grid",
    "reap_stale_trials",
    "settled_points",
]

HOST = socket.gethostname()
WORKER_ID = f"{HOST}:{os.getpid()}"


@dataclass(frozen=True)
class ClaimedTrial:
    """A trial this worker now runs, with its grid point."""

    trial: optuna.Trial
    """The live trial (params already suggested)."""
    point: GridPoint
    """The run it stands for."""


def _is_settled(trial: FrozenTrial) -> bool:
    """Finished for good: complete, or failed because training diverged (re-running gives the same)."""
    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and trial.user_attrs.get("status") == "diverged")


def settled_points(study: optuna.Study) -> set[str]:
    """Keys of the points that have a settled trial."""
    return {t.user_attrs.get("point") for t in study.get_trials(deepcopy=False) if _is_settled(t)}


def enqueue_grid(study: optuna.Study, plan: StudyPlan) -> int:
    """Enqueue every point of ``plan`` not already waiting, running or settled; return how many were added."""
    active = {t.user_attrs.get("point") for t in study.get_trials(deepcopy=False)
              if _is_settled(t) or t.state in (TrialState.WAITING, TrialState.RUNNING)}
    points = enumerate_grid(plan)
    labels = population_chunks(points, size=plan.population_size, by_quality=plan.epochs is not None)
    added = 0
    for point in points:
        if point.key not in active:
            study.enqueue_trial(point.params(), user_attrs={"point": point.key, "population": labels[point]})
            added += 1
    return added


def _claim(study: optuna.Study, trial_id: int) -> bool:
    try:
        return bool(study._storage.set_trial_state_values(trial_id, state=TrialState.RUNNING))
    except UpdateFinishedTrialError:
        return False


def _superseded(trial: FrozenTrial, others: Iterable[FrozenTrial]) -> bool:
    """Whether another trial of the same point is settled, or queued/running with a lower number."""
    key = trial.user_attrs.get("point")
    for other in others:
        if other.number == trial.number or other.user_attrs.get("point") != key:
            continue
        if _is_settled(other) or (other.state in (TrialState.WAITING, TrialState.RUNNING)
                                  and other.number < trial.number):
            return True
    return False


def claim_population(study: optuna.Study, plan: StudyPlan) -> list[ClaimedTrial]:
    """Claim a WAITING trial and up to ``population_size - 1`` siblings; [] when the queue is empty."""
    claimed_ids: list[int] = []
    label = None
    for trial in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        if label is not None and trial.user_attrs.get("population") != label:
            continue
        if _claim(study, trial._trial_id):
            claimed_ids.append(trial._trial_id)
            label = trial.user_attrs.get("population")
            if len(claimed_ids) >= plan.population_size:
                break
    everyone = study.get_trials(deepcopy=False)
    by_id = {t._trial_id: t for t in everyone}
    choices = param_choices(plan)
    claimed: list[ClaimedTrial] = []
    for trial_id in claimed_ids:
        frozen = by_id[trial_id]
        if _superseded(frozen, everyone):
            study._storage.set_trial_user_attr(trial_id, "status", "duplicate")
            study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
            continue
        trial = optuna.Trial(study, trial_id)
        fixed = frozen.system_attrs["fixed_params"]
        for name in fixed:
            trial.suggest_categorical(name, list(choices[name]))
        trial.set_user_attr("worker", WORKER_ID)
        trial.set_user_attr("host", HOST)
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("heartbeat", time.time())
        claimed.append(ClaimedTrial(trial=trial, point=GridPoint.from_params(fixed)))
    return claimed


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child that nobody reaped yet is a zombie: gone for our purposes
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _stale_reason(trial: FrozenTrial, *, lease_s: float, now: float) -> str | None:
    attrs = trial.user_attrs
    if attrs.get("host") == HOST and isinstance(attrs.get("pid"), int) and attrs["pid"] != os.getpid() \
            and _process_gone(attrs["pid"]):
        return f"worker {attrs.get('worker')} is no longer running"
    beat = attrs.get("heartbeat")
    if beat is None and trial.datetime_start is not None:
        beat = trial.datetime_start.timestamp()
    if beat is not None and now - float(beat) > lease_s:
        return f"no heartbeat from worker {attrs.get('worker')} for {now - float(beat):.0f} s (lease {lease_s:g} s)"
    return None


def reap_stale_trials(study: optuna.Study, *, lease_s: float) -> list[int]:
    """Fail every stale RUNNING trial and enqueue a fresh copy of it; return the failed trial numbers."""
    now = time.time()
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        reason = _stale_reason(trial, lease_s=lease_s, now=now)
        if reason is None:
            continue
        try:
            study._storage.set_trial_user_attr(trial._trial_id, "status", "failed")
            study._storage.set_trial_user_attr(trial._trial_id, "reason", f"stale: {reason}")
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # another worker reaped or finished it first
        attrs = {key: trial.user_attrs[key] for key in ("point", "population")}
        study.enqueue_trial(trial.system_attrs["fixed_params"], user_attrs={**attrs, "retry_of": trial.number})
        reaped.append(trial.number)
    return reaped


class Heartbeat:
    """Context manager: a daemon thread refreshes ``heartbeat`` on the given trials every ``interval_s``."""

    def __init__(self, study: optuna.Study, trial_ids: list[int], *, interval_s: float) -> None:
        self._storage, self._ids, self._interval = study._storage, list(trial_ids), interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="study-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            for trial_id in list(self._ids):
                try:
                    self._storage.set_trial_user_attr(trial_id, "heartbeat", time.time())
                except UpdateFinishedTrialError:
                    self._ids.remove(trial_id)  # taken over as stale by another worker
                except StudyError:  # the storage stayed unreachable past its patience: the lease will expire
                    return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
