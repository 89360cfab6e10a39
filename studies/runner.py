"""The one module that talks to the trainer: datasets for a plan, and a population of grid points trained.

Everything else in studies/ sees only `GridPoint` in and `RunOutcome` out, so a change in omiga's trainer
API touches this file alone.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.tasks import build_dataset, dataset_path, get_task, normalized_score
from studies.execution import CPU_EAGER, Execution
from studies.grid import GridPoint
from studies.memory import peak_rss_mb, reset_peak_rss
from studies.plan import StudyPlan

__all__ = ["RunOutcome", "build_missing_datasets", "check_plan_buildable", "check_plan_datasets", "dataset_file",
           "population_dir", "train_points"]

PLACEHOLDER_ALPHA = 1.0
"""α handed to the trainer for methods that ignore it (bc); never reported."""


@dataclass(frozen=True)
class RunOutcome:
    """What one finished run reports back to its trial."""

    status: str
    """"ok" | "diverged" | "failed"."""
    score: float | None
    """Final evaluation return (None unless ok)."""
    win_rate: float | None
    """Final evaluation win rate (None where the task has no win)."""
    normalized_score: float | None
    """(score - random) / (best - random) of the task."""
    steps: int
    """Completed gradient steps."""
    run_dir: str
    """Directory of the population's checkpoint and result.json."""
    curve_path: str
    """result.json holding this run's evaluation curve (member ``member_index``)."""
    member_index: int
    """Index of the run in its population."""
    reason: str | None = None
    """Why the run diverged or failed."""
    config: dict[str, Any] | None = None
    """Resolved trainer config, member config and dataset of the run (provenance)."""
    timing: dict[str, float] | None = None
    """This run's share (1/M) of its population's seconds of training and of evaluation, and the steps trained,
    in the call that finished it (``result.json``'s ``timing``; :mod:`studies.timing` sums them)."""

    def user_attrs(self) -> dict[str, Any]:
        """The outcome as trial user attributes (None-valued fields left out)."""
        return {key: value for key, value in asdict(self).items() if value is not None}


def _data_root() -> Path:
    env_dir = os.environ.get("OMIGA_DATA_DIR")
    return Path(env_dir) if env_dir else Path.home() / ".cache" / "omiga" / "datasets"


def dataset_file(plan: StudyPlan, quality: str) -> Path:
    """The dataset of ``quality`` for the plan (a non-default size lives in its own cache subdirectory)."""
    cache = None if plan.dataset_episodes is None else _data_root() / f"episodes-{plan.dataset_episodes}"
    return dataset_path(plan.task, quality=quality, cache_dir=cache, backend=plan.backend)


def build_missing_datasets(plan: StudyPlan, *, log=print) -> list[Path]:
    """Build every dataset of the plan that is not on disk yet; return the paths built."""
    built = []
    for quality in plan.qualities:
        path = dataset_file(plan, quality)
        if path.exists():
            continue
        episodes = plan.dataset_episodes or get_task(plan.task).default_episodes
        log(f"building dataset {plan.task}/{quality} ({episodes} episodes, backend {plan.backend}) -> {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        build_dataset(plan.task, quality=quality, episodes=plan.dataset_episodes, seed=0, path=path,
                      backend=plan.backend)
        built.append(path)
    return built


def check_plan_buildable(plan: StudyPlan) -> None:
    """Refuse now, before the study is stored, a plan whose missing datasets its backend cannot build here."""
    from omiga.errors import BackendUnavailableError, ConfigError
    from omiga.tasks import BACKENDS, backend_available

    missing = [quality for quality in plan.qualities if not dataset_file(plan, quality).exists()]
    if not missing:
        return
    backend = BACKENDS[plan.backend]
    if backend.builder is None:
        raise ConfigError(f"backend {plan.backend!r} cannot build the missing datasets ({', '.join(missing)}) of "
                          f"task {plan.task}: place them at {dataset_file(plan, missing[0])} (e.g. with `python -m "
                          "omiga datasets import`), or choose a backend that builds them (omit --backend)")
    if not backend_available(plan.backend):
        raise BackendUnavailableError(f"building the {plan.task} datasets needs backend {plan.backend!r}, which is "
                                      f"not installed; install it with: {backend.install_hint}")


def check_plan_datasets(plan: StudyPlan, *, missing_ok: bool = False) -> None:
    """Load every dataset of the plan (schema validation) and check it fits the task's environment on the plan's
    backend, before any trial is claimed; ``missing_ok``: skip datasets not on disk (a custom trainer's affair)."""
    from omiga.data import load_dataset
    from omiga.data.task_fit import check_dataset_fits_task

    for quality in plan.qualities:
        path = dataset_file(plan, quality)
        if missing_ok and not path.exists():
            continue
        check_dataset_fits_task(load_dataset(path), where=path, task=plan.task, backend=plan.backend)


def _train_config(plan: StudyPlan, point: GridPoint, execution: Execution = CPU_EAGER, *,
                  transitions: int | None = None) -> TrainConfig:
    network = NetworkConfig() if plan.hidden is None else NetworkConfig(hidden=plan.hidden)
    steps, checkpoint_every, eval_every = plan.schedule(transitions)
    return TrainConfig(steps=steps, batch_size=plan.batch_size, mixer=point.mixer or "linear",
                       method=point.method, method_options=point.options, network=network, checkpoint_every=checkpoint_every,
                       eval_every=eval_every, eval_episodes=plan.eval_episodes, **execution.train_options())


def _qualities(plan: StudyPlan, points: list[GridPoint]) -> list[str]:
    """The dataset qualities of ``points``, in the plan's order: the population's datasets."""
    present = {point.quality for point in points}
    return [quality for quality in plan.qualities if quality in present]


def _member(point: GridPoint, qualities: list[str]) -> MemberConfig:
    alpha = PLACEHOLDER_ALPHA if point.alpha is None else point.alpha
    return MemberConfig(seed=point.seed, alpha=alpha, global_info=point.global_info is not False,
                        dataset=qualities.index(point.quality))


def population_dir(study_dir: Path, plan: StudyPlan, points: list[GridPoint], *,
                   transitions: int | None = None) -> Path:
    """Run directory named from the config and member list (never the clock, nor the worker's execution
    options), so a retry resumes there on any worker. A one-quality population's digest leaves the member
    dataset index (always 0) out, as before merged populations existed."""
    config = _train_config(plan, points[0], transitions=transitions).to_dict()
    qualities = _qualities(plan, points)
    members = [vars(_member(point, qualities)) for point in points]
    if len(qualities) == 1:
        members = [{key: value for key, value in member.items() if key != "dataset"} for member in members]
    digest = hashlib.sha256(json.dumps([config, members], sort_keys=True).encode()).hexdigest()[:12]
    first = points[0]
    name = first.method + (f"-{first.mixer}" if first.mixer else "")
    return Path(study_dir) / "runs" / "+".join(qualities) / name / digest


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def train_points(plan: StudyPlan, points: list[GridPoint], *, study_dir: Path,
                 execution: Execution = CPU_EAGER) -> list[RunOutcome]:
    """Train ``points`` (same task, method, mixer and method options; any qualities) as one population and evaluate each run; each
    member samples its own quality's dataset."""
    from omiga.data import load_dataset
    from omiga.data.importers import observation_mode
    from omiga.evaluate import evaluate_population
    from omiga.train import train_population

    if len({point.population for point in points}) != 1:
        raise ValueError("train_points needs points of one population (same task, method, mixer, options)")
    qualities = _qualities(plan, points)
    if plan.epochs is not None and len(qualities) != 1:
        raise ValueError("a plan whose budget counts epochs trains each quality as its own population")
    datasets = [load_dataset(dataset_file(plan, quality)) for quality in qualities]
    transitions = len(datasets[0].rewards) if plan.epochs is not None else None
    out_dir = population_dir(study_dir, plan, points, transitions=transitions)
    out_dir.mkdir(parents=True, exist_ok=True)

    obs_mode = observation_mode(datasets[0].attrs)  # imported OMIGA MaMuJoCo data: the global mode's inputs

    config = _train_config(plan, points[0], execution, transitions=transitions)

    def evaluate(policy, step: int):
        return evaluate_population(policy, task=plan.task, episodes=plan.episodes_at(step, config.steps),
                                   seed=1_000_003, backend=plan.backend, obs_mode=obs_mode)

    members = [_member(point, qualities) for point in points]
    measured = reset_peak_rss()
    results = train_population(datasets, config=config, members=members, out_dir=out_dir, evaluate=evaluate,
                               progress=True, tensorboard=True)
    peak = peak_rss_mb() if measured else None
    clock = json.loads((out_dir / "result.json").read_text())["timing"]
    timing = {"train_s": clock["train_s"] / len(points), "eval_s": clock["eval_s"] / len(points),
              "steps": clock["steps"], **({} if peak is None else {"peak_rss_mb": peak})}
    outcomes = []
    for index, result in enumerate(results):
        score = _finite(result.final_return) if result.status == "ok" else None
        status = result.status if score is not None or result.status != "ok" else "failed"
        outcomes.append(RunOutcome(
            status=status, score=score, win_rate=_finite(result.final_win_rate) if score is not None else None,
            normalized_score=None if score is None else normalized_score(plan.task, score), steps=result.steps,
            run_dir=str(out_dir), curve_path=str(out_dir / "result.json"), member_index=index,
            reason=result.reason or (None if status == "ok" else "no finite final evaluation"),
            config={"train": config.to_dict(), "member": vars(members[index]).copy(),
                    "dataset": str(dataset_file(plan, points[index].quality)), "backend": plan.backend},
            timing=timing))
    return outcomes
