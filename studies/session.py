"""Open a study's Optuna study and run it: datasets, enqueue, local workers, export.

`run_study` is the coordinator behind ``python -m studies run``: it records the plan in the study (so
workers elsewhere need only the study name and storage URL), builds missing datasets, fails and re-enqueues
stale trials, enqueues the grid once, runs ``workers`` local workers and exports the scores table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.trial import TrialState

from studies.errors import StudyError
from studies.execution import CPU_EAGER, Execution
from studies.export import curves_frame, scores_frame, write_curves, write_scores
from studies.journal import check_journal
from studies.plan import StudyPlan
from studies.queue import enqueue_grid, reap_stale_trials
from studies.retry import DEFAULT_STORAGE_PATIENCE_S
from studies.runner import build_missing_datasets, check_plan_buildable, check_plan_datasets
from studies.storage import dashboard_command, journal_path, mask_url, open_storage
from studies.timing import StageClock, training_time
from studies.worker import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_LEASE_S,
    DEFAULT_TRAINER,
    PopulationTrain,
    check_lease,
    resolve_trainer,
    run_worker,
)

__all__ = ["STORAGE_ENV", "export_study", "load_named_study", "open_plan_study", "run_study", "trial_counts"]

STORAGE_ENV = "OMIGA_STUDY_STORAGE"
"""Environment variable through which local workers get the storage URL (kept out of the process list)."""


def open_plan_study(*, plan: StudyPlan, storage_url: str | None, results_dir: Path, workers: int = 1,
                    storage_patience_s: float = DEFAULT_STORAGE_PATIENCE_S) -> optuna.Study:
    """Create or load the study of ``plan``; refuse one that was created from a different plan."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_dir = Path(results_dir) / plan.study_name
    storage = open_storage(url=storage_url, study_dir=study_dir, workers=workers, patience_s=storage_patience_s)
    study = optuna.create_study(study_name=plan.study_name, storage=storage, direction="maximize",
                                load_if_exists=True)
    stored = study.user_attrs.get("plan")
    wanted = plan.to_dict()
    if stored is None:
        study.set_user_attr("plan", wanted)
    elif json.dumps(stored, sort_keys=True) != json.dumps(wanted, sort_keys=True):
        differs = sorted(key for key in wanted if stored.get(key) != wanted[key])
        where = mask_url(storage_url) if storage_url else str(journal_path(study_dir))
        raise StudyError(f"study {plan.study_name!r} in {where} "
                         f"was created from a different plan (differs in {', '.join(differs)}); delete "
                         f"{study_dir} (or the study in the database) to start over, or rerun the original command")
    return study


def load_named_study(*, name: str, storage_url: str | None, results_dir: Path,
                     storage_patience_s: float = DEFAULT_STORAGE_PATIENCE_S) -> tuple[optuna.Study, StudyPlan]:
    """Load an existing study by its full name (a worker or ``export`` needs nothing else)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_dir = Path(results_dir) / name
    if storage_url is None and not journal_path(study_dir).exists():
        known = sorted(p.name for p in Path(results_dir).glob("*") if journal_path(p).exists())
        raise StudyError(f"no study {name!r} under {results_dir}/ (known: {', '.join(known) or 'none'}); run "
                         "`python -m studies run ...` first, or pass --storage for a database study")
    storage = open_storage(url=storage_url, study_dir=study_dir, patience_s=storage_patience_s)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise StudyError(f"no study {name!r} in storage {mask_url(storage_url or str(study_dir))}") from None
    if "plan" not in study.user_attrs:
        raise StudyError(f"study {name!r} has no recorded plan; it was not created by `python -m studies run`")
    return study, StudyPlan.from_dict(study.user_attrs["plan"])


def trial_counts(study: optuna.Study) -> dict[str, int]:
    """How many trials are in each state (``duplicate`` claims counted apart from real failures)."""
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        name = trial.state.name.lower()
        if trial.state == TrialState.FAIL and trial.user_attrs.get("status") == "duplicate":
            name = "duplicate"
        counts[name] = counts.get(name, 0) + 1
    return counts


def export_study(study: optuna.Study, plan: StudyPlan, *, results_dir: Path) -> Path:
    """Write results/<study>/scores.csv and .parquet and curves.csv; return the scores csv path. A journal found
    sound is backed up."""
    out_dir = Path(results_dir) / plan.study_name
    csv_path, _ = write_scores(scores_frame(study, plan), out_dir=out_dir)
    write_curves(curves_frame(study, plan), out_dir=out_dir)
    if journal_path(out_dir).is_file():
        check_journal(journal_path(out_dir))
    return csv_path


def _spawn_workers(*, plan: StudyPlan, storage_url: str | None, results_dir: Path, workers: int,
                   lease_s: float, heartbeat_s: float, trainer: str, storage_patience_s: float,
                   execution: Execution) -> None:
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if storage_url is not None:
        env[STORAGE_ENV] = storage_url
    command = [sys.executable, "-m", "studies", "worker", "--name", plan.study_name, "--results-dir",
               str(results_dir), "--lease", str(lease_s), "--heartbeat", str(heartbeat_s), "--trainer", trainer,
               "--storage-patience", str(storage_patience_s), *execution.to_argv()]
    processes = [subprocess.Popen(command, env=env) for _ in range(workers)]
    codes = [process.wait() for process in processes]
    if any(codes):
        raise StudyError(f"{sum(1 for c in codes if c)} of {workers} workers failed (exit codes {codes}); see "
                         "their messages above and rerun the same command to resume")


def run_study(*, plan: StudyPlan, storage_url: str | None, results_dir: Path, workers: int = 1,
              lease_s: float = DEFAULT_LEASE_S, heartbeat_s: float = DEFAULT_HEARTBEAT_S,
              train: PopulationTrain | str = DEFAULT_TRAINER, log: Callable[[str], None] = print,
              storage_patience_s: float = DEFAULT_STORAGE_PATIENCE_S, execution: Execution = CPU_EAGER,
              clock: StageClock | None = None) -> Path:
    """Run every trial of ``plan`` not yet finished (resuming), then export; return the scores.csv path.

    At the end it logs the training rate and evaluation share of the runs finished in this call and the wall
    time of each stage (into ``clock`` if given, so that a caller can add its own stages and log them again)."""
    if workers < 1:
        raise StudyError(f"--workers must be >= 1, got {workers}")
    if workers > 1 and not isinstance(train, str):
        raise StudyError("worker processes need the trainer as 'module:function', not a Python object")
    resolve_trainer(train)  # fail before any work when it cannot be imported
    check_lease(lease_s=lease_s, heartbeat_s=heartbeat_s)
    execution.check(plan)
    check_plan_buildable(plan)
    check_plan_datasets(plan, missing_ok=True)  # the datasets on disk fit the task: checked before the study is stored
    results_dir = Path(results_dir)
    study = open_plan_study(plan=plan, storage_url=storage_url, results_dir=results_dir, workers=workers,
                            storage_patience_s=storage_patience_s)
    study_dir = results_dir / plan.study_name
    study.set_user_attr("command", " ".join(mask_url(arg) for arg in sys.argv))
    log(f"study {plan.study_name}: watch it with `{dashboard_command(url=storage_url, study_dir=study_dir)}`")
    clock = StageClock() if clock is None else clock
    started = time.time()
    with clock.stage("datasets"):
        built = build_missing_datasets(plan, log=log)
        if built:
            check_plan_datasets(plan)  # and the ones just built, before any training
    for number in reap_stale_trials(study, lease_s=lease_s):
        log(f"trial {number} was left running by a stopped worker; re-enqueued (resumes from its checkpoint)")
    added = enqueue_grid(study, plan)
    log(f"{added} trials enqueued; {trial_counts(study)}")
    with clock.stage("training"):
        if workers == 1:
            run_worker(study=study, plan=plan, study_dir=study_dir, train=train, lease_s=lease_s,
                       heartbeat_s=heartbeat_s, log=log, execution=execution)
        else:
            _spawn_workers(plan=plan, storage_url=storage_url, results_dir=results_dir, workers=workers,
                           lease_s=lease_s, heartbeat_s=heartbeat_s, trainer=train,
                           storage_patience_s=storage_patience_s, execution=execution)
    counts = trial_counts(study)
    if counts.get("running") or counts.get("waiting"):
        log(f"note: {counts.get('running', 0)} trials still running elsewhere, {counts.get('waiting', 0)} "
            "waiting; rerun this command (or `export`) once they finish")
    with clock.stage("export"):
        csv_path = export_study(study, plan, results_dir=results_dir)
    log(f"scores: {csv_path} ({counts})")
    log(training_time(study.get_trials(deepcopy=False), since=started).line())
    log(clock.line())
    return csv_path
