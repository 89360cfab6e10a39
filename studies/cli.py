"""``python -m studies run | worker | export | all | list``: run OMIGA studies on Optuna.

Examples::

    python -m studies all --task smac_corridor                    # quick preset, headline study, report
    python -m studies run --task toy_coop --preset smoke --workers 2
    python -m studies run --task smac_corridor --storage postgresql://USER:PASSWORD@HOST/DB   # on each machine
    python -m studies worker --name ablation-smac_corridor-quick --storage postgresql://...   # extra workers
    python -m studies worker --name ablation-smac_corridor-paper --device cuda --cuda-graph   # a GPU worker
    python -m studies export --study ablation --task smac_corridor                           # or --name NAME
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from pathlib import Path

from omiga.boundary import CommandLineParser, add_debug_options, run_command
from omiga.errors import OmigaError
from studies.errors import StudyError
from studies.execution import add_execution_options, execution_from_args
from omiga.limits import check_size
from omiga.paths import check_output_dir
from studies.plan import Overrides, StudyPlan, check_plan_sizes, resolve_plan
from studies.presets import DEFAULT_PRESET, load_preset, preset_names
from studies.retry import DEFAULT_STORAGE_PATIENCE_S
from studies.session import STORAGE_ENV, export_study, load_named_study, run_study
from studies.runner import check_plan_datasets
from studies.spec import load_spec, spec_names
from studies.timing import StageClock
from studies.worker import DEFAULT_HEARTBEAT_S, DEFAULT_LEASE_S, DEFAULT_TRAINER, run_worker

__all__ = ["DEFAULT_STUDY", "build_parser", "main"]

DEFAULT_STUDY = "headline"


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", type=_csv, help="task(s), comma-separated (default: the spec's tasks)")
    parser.add_argument("--study", default=DEFAULT_STUDY,
                        help=f"study spec name or .toml path (default {DEFAULT_STUDY}; built in: {', '.join(spec_names())})")
    parser.add_argument("--preset", default=DEFAULT_PRESET,
                        help=f"scale: {', '.join(preset_names())} (default {DEFAULT_PRESET})")
    parser.add_argument("--qualities", type=_csv, help="dataset qualities, comma-separated (default: the preset's)")
    parser.add_argument("--steps", type=int, help="gradient steps per run (overrides the preset)")
    parser.add_argument("--seeds", type=int, help="runs per grid point (overrides the preset)")
    parser.add_argument("--eval-episodes", type=int, help="evaluation episodes per run")
    parser.add_argument("--batch-size", type=int, help="transitions per member per step")
    parser.add_argument("--backend", help="environment backend (default: the task's first, e.g. smax)")
    parser.add_argument("--allow-large", action="store_true",
                        help="allow a grid or batch size past the sane limits of omiga.limits")


def _add_storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage", default=os.environ.get(STORAGE_ENV),
                        help="SQLAlchemy URL, e.g. postgresql://USER:PASSWORD@HOST/DB (default: a journal file "
                             f"under results/<study>/; also read from ${STORAGE_ENV})")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="default results/")
    parser.add_argument("--storage-patience", type=float, default=DEFAULT_STORAGE_PATIENCE_S, metavar="SECONDS",
                        help="how long to retry (with backoff) a database that stopped answering "
                             f"(default {DEFAULT_STORAGE_PATIENCE_S:g})")


def _add_worker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lease", type=float, default=DEFAULT_LEASE_S,
                        help=f"seconds without a heartbeat after which a running trial is retried ({DEFAULT_LEASE_S:g})")
    parser.add_argument("--heartbeat", type=float, default=DEFAULT_HEARTBEAT_S,
                        help=f"seconds between a worker's heartbeats ({DEFAULT_HEARTBEAT_S:g})")
    parser.add_argument("--trainer", default=DEFAULT_TRAINER,
                        help=f"population trainer as module:function (default {DEFAULT_TRAINER})")
    add_execution_options(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m studies``."""
    parser = CommandLineParser(prog="python -m studies", description=__doc__.splitlines()[0],
                                     epilog=__doc__.split("::", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run (or resume) a study and export its scores"),
                       ("all", "build datasets, run, export, analyse and write the report")):
        command = commands.add_parser(name, help=text, description=text)
        _add_plan_options(command)
        _add_storage_options(command)
        _add_worker_options(command)
        command.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
        if name == "all":
            command.add_argument("--reports-dir", type=Path, default=Path("reports"), help="default reports/")
    worker = commands.add_parser("worker", help="join a running study as one more worker")
    worker.add_argument("--name", required=True, help="full study name, printed by `run`")
    _add_storage_options(worker)
    _add_worker_options(worker)
    export = commands.add_parser("export", help="write results/<study>/scores.csv and scores.parquet")
    export.add_argument("--name", help="full study name (else resolved from --study/--task/--preset)")
    _add_plan_options(export)
    _add_storage_options(export)
    commands.add_parser("list", help="list built-in studies and presets")
    add_debug_options(parser)
    return parser


def _plans(args: argparse.Namespace) -> list[StudyPlan]:
    spec = load_spec(args.study)
    preset = load_preset(args.preset)
    if args.task is not None and not args.task:
        raise StudyError("--task is empty; give a task name, or several comma-separated (e.g. --task toy_coop)")
    tasks = args.task or spec.tasks
    if not tasks:
        raise StudyError(f"study {spec.name!r} names no task; pass --task (e.g. --task smac_corridor)")
    overrides = Overrides(qualities=args.qualities, steps=args.steps, seeds=args.seeds,
                          eval_episodes=args.eval_episodes, batch_size=args.batch_size, backend=args.backend)
    plans = [resolve_plan(spec=spec, preset=preset, task=task, overrides=overrides) for task in tasks]
    for plan in plans:
        check_plan_sizes(plan, allow_large=args.allow_large)
    return plans


def _report_dir(args: argparse.Namespace, plan: StudyPlan) -> Path:
    default = plan.spec.name == DEFAULT_STUDY and plan.preset == DEFAULT_PRESET and not plan.overrides
    return args.reports_dir / (plan.task if default else plan.study_name)


def _run(args: argparse.Namespace) -> int:
    plans = _plans(args)
    check_size("--workers", args.workers, kind="workers", allow_large=args.allow_large)
    check_output_dir(args.results_dir, option="--results-dir")
    if args.command == "all":  # the report's directory is checked before any training too
        from reports.files import check_report_dir

        for plan in plans:
            check_report_dir(_report_dir(args, plan), option="the report directory (under --reports-dir)")
        if len(plans) > 1:
            check_output_dir(_across_dir(args, plans), option="the across-tasks directory (under --reports-dir)")
    for plan in plans:
        clock = StageClock()
        csv_path = run_study(plan=plan, storage_url=args.storage, results_dir=args.results_dir,
                             workers=args.workers, lease_s=args.lease, heartbeat_s=args.heartbeat,
                             train=args.trainer, storage_patience_s=args.storage_patience,
                             execution=execution_from_args(args), clock=clock)
        if args.command == "all":
            from studies.reporting import render_report, verdict_lines

            with clock.stage("report"):
                index = render_report(plan=plan, scores_csv=csv_path, out_dir=_report_dir(args, plan))
            print("claims:", *verdict_lines(index.parent), sep="\n")
            print(f"report: {index}")
            print(clock.line())
    if args.command == "all" and len(plans) > 1:
        print(f"across tasks: {_write_across_tasks(args, plans)}")
    return 0


def _across_dir(args: argparse.Namespace, plans: Sequence[StudyPlan]) -> Path:
    return args.reports_dir / f"{plans[0].spec.name}-{plans[0].preset}-across-tasks"


def _write_across_tasks(args: argparse.Namespace, plans: Sequence[StudyPlan]) -> Path:
    """The tasks' reports side by side (studies/across.py), with the training rate of each study's trials."""
    from studies.across import TaskOutcome, write_across_tasks
    from studies.timing import training_time

    outcomes = []
    for plan in plans:
        study, _ = load_named_study(name=plan.study_name, storage_url=args.storage, results_dir=args.results_dir,
                                    storage_patience_s=args.storage_patience)
        outcomes.append(TaskOutcome.of(plan, report_dir=_report_dir(args, plan),
                                       timing=training_time(study.get_trials(deepcopy=False))))
    return write_across_tasks(outcomes, out_dir=_across_dir(args, plans), title=plans[0].spec.name)


def _check_study_name(name: str) -> str:
    """A full study name is one directory name under --results-dir: no path, no '..'."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) or ".." in name:
        raise StudyError(f"--name {name!r} is not a study name (letters, digits, '_', '-', '.'; no path); give the "
                         "name `python -m studies run` printed, e.g. ablation-toy_coop-smoke")
    return name


def _worker(args: argparse.Namespace) -> int:
    _check_study_name(args.name)
    check_output_dir(args.results_dir, option="--results-dir")
    study, plan = load_named_study(name=args.name, storage_url=args.storage, results_dir=args.results_dir,
                                   storage_patience_s=args.storage_patience)
    check_plan_datasets(plan, missing_ok=True)
    finished = run_worker(study=study, plan=plan, study_dir=args.results_dir / plan.study_name,
                          lease_s=args.lease, heartbeat_s=args.heartbeat, train=args.trainer,
                          execution=execution_from_args(args))
    print(f"worker {os.getpid()}: {finished} trials finished")
    return 0


def _export(args: argparse.Namespace) -> int:
    names = [_check_study_name(args.name)] if args.name is not None else [plan.study_name for plan in _plans(args)]
    for name in names:
        study, plan = load_named_study(name=name, storage_url=args.storage, results_dir=args.results_dir,
                                       storage_patience_s=args.storage_patience)
        print(f"scores: {export_study(study, plan, results_dir=args.results_dir)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name in spec_names():
        print(f"study  {name:12s} {load_spec(name).description}")
    for name in preset_names():
        print(f"preset {name:12s} {load_preset(name).description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with ``error: ...`` on a user error)."""
    args = build_parser().parse_args(argv)
    handlers = {"run": _run, "all": _run, "worker": _worker, "export": _export, "list": _list}
    subject = getattr(args, "name", None) or getattr(args, "study", None)

    def command() -> int:
        patience = getattr(args, "storage_patience", 0.0)
        if not patience >= 0:  # also when no database is named: a bad value is refused, not ignored
            raise StudyError(f"--storage-patience must be >= 0 seconds, got {patience:g}")
        return handlers[args.command](args)

    return run_command(command, stage_name=f"python -m studies {args.command}",
                       subject=subject, debug=args.debug, expected=(OmigaError,))
