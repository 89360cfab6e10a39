"""A resolved study plan: spec × preset × command-line overrides for one task, all values concrete.

The plan is what a worker needs to run trials, so it is stored (as JSON) in the Optuna study; a worker on
another machine needs only the study name and the storage URL.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from omiga.methods import METHOD_ACTION_KINDS
from omiga.tasks import get_task, resolve_backend
from studies.errors import StudyError
from studies.presets import Preset
from studies.spec import StudySpec, parse_spec

__all__ = ["Overrides", "StudyPlan", "check_plan_sizes", "resolve_plan"]


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace the preset's and spec's (None: not given)."""

    qualities: tuple[str, ...] | None = None
    """Dataset qualities to use."""
    steps: int | None = None
    """Gradient steps per run."""
    seeds: int | None = None
    """Runs per grid point."""
    eval_episodes: int | None = None
    """Evaluation episodes per run."""
    batch_size: int | None = None
    """Transitions per member per step."""
    backend: str | None = None
    """Environment backend (default: the task's first)."""

    def __post_init__(self) -> None:
        for name in ("steps", "seeds", "eval_episodes", "batch_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise StudyError(f"--{name.replace('_', '-')} must be an integer >= 1, got {value!r}")
        if self.qualities is not None and not self.qualities:
            raise StudyError("--qualities is empty; give a comma-separated list such as good,medium")

    def given(self) -> dict[str, Any]:
        """The overrides that were given, as a plain dict."""
        return {key: (list(value) if isinstance(value, tuple) else value)
                for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True)
class StudyPlan:
    """Everything a worker needs to run the trials of one study on one task."""

    study_name: str
    """Optuna study name and directory under results/: <spec>-<task>-<preset>[-<hash of overrides>]."""
    spec: StudySpec
    """The study spec (factors, claims)."""
    preset: str
    """Preset name (for provenance)."""
    task: str
    """Task name."""
    backend: str
    """Environment backend; every table names it."""
    qualities: tuple[str, ...]
    """Dataset qualities."""
    seeds: int
    """Runs per grid point (seeds 0 .. seeds-1)."""
    steps: int
    """Gradient steps per run (unless ``epochs`` is set)."""
    eval_episodes: int
    """Evaluation episodes per run."""
    batch_size: int
    """Transitions per member per step."""
    hidden: int | None
    """Hidden width of the agent networks (None: the trainer's default)."""
    dataset_episodes: int | None
    """Episodes per built dataset (None: the task's default)."""
    population_size: int
    """Most trials trained as one population."""
    checkpoint_every: int
    """Checkpoint interval in steps (with ``epochs``: a tenth of each run's steps)."""
    epochs: float | None = None
    """Passes over each dataset instead of ``steps``: a run trains ⌈epochs × transitions / batch_size⌉ steps."""
    eval_points: int = 1
    """Evaluations per run, evenly spaced, the last at the final step (1: only the final one)."""
    curve_eval_episodes: int | None = None
    """Episodes of the evaluations before the final one (None: ``eval_episodes``; `episodes_at`)."""
    overrides: dict[str, Any] = field(default_factory=dict, compare=False)
    """The command-line overrides, for provenance."""

    def __post_init__(self) -> None:
        if self.checkpoint_every < 1:
            raise StudyError(f"plan {self.study_name}: checkpoint_every must be >= 1")
        if self.eval_points < 1:
            raise StudyError(f"plan {self.study_name}: eval_points must be >= 1")
        if self.curve_eval_episodes is not None and not 1 <= self.curve_eval_episodes <= self.eval_episodes:
            raise StudyError(f"plan {self.study_name}: curve_eval_episodes must lie in 1..eval_episodes "
                             f"({self.eval_episodes}), got {self.curve_eval_episodes}")

    def episodes_at(self, step: int, steps: int) -> int:
        """Evaluation episodes of the evaluation at ``step`` of a run of ``steps``: the full ``eval_episodes`` at
        the final step (the score every verdict uses), ``curve_eval_episodes`` at the learning curve's earlier
        points."""
        return self.eval_episodes if step >= steps or self.curve_eval_episodes is None else self.curve_eval_episodes

    @property
    def discrete(self) -> bool:
        """Whether the task's actions are discrete (method grids sweep each action kind's options)."""
        return get_task(self.task).action_kind == "discrete"

    def run_steps(self, transitions: int | None = None) -> int:
        """Gradient steps of a run on a dataset of ``transitions`` steps (``steps``, or from ``epochs``)."""
        if self.epochs is None:
            return self.steps
        if transitions is None:
            raise StudyError(f"plan {self.study_name} counts training in epochs: its steps depend on the dataset's "
                             "transitions, so pass them")
        return max(1, math.ceil(self.epochs * transitions / self.batch_size))

    def schedule(self, transitions: int | None = None) -> tuple[int, int, int]:
        """(steps, checkpoint_every, eval_every) of a run on a dataset of ``transitions`` steps.

        ``eval_every`` = ⌊steps / eval_points⌋ gives ``eval_points`` evaluations (one more when it does not
        divide the steps), the last at the final step; 0 when only the final evaluation is asked for.
        """
        steps = self.run_steps(transitions)
        checkpoint = min(self.checkpoint_every, steps) if self.epochs is None else max(1, steps // 10)
        eval_every = 0 if self.eval_points == 1 else max(1, steps // self.eval_points)
        return steps, checkpoint, eval_every

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; `from_dict` inverts it."""
        values = {key: value for key, value in self.__dict__.items() if key != "spec"}
        if values["curve_eval_episodes"] is None:  # plans stored before it existed lack it
            del values["curve_eval_episodes"]
        values["qualities"] = list(self.qualities)
        values["spec"] = self.spec.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> StudyPlan:
        """Rebuild a plan stored by `to_dict`."""
        values = dict(values)
        spec_values = dict(values.pop("spec"))
        spec = parse_spec(spec_values, name=spec_values["name"])
        return cls(spec=spec, **{**values, "qualities": tuple(values["qualities"])})


def _short_hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]


def resolve_plan(*, spec: StudySpec, preset: Preset, task: str, overrides: Overrides = Overrides()) -> StudyPlan:
    """Combine a spec, a preset and overrides for ``task`` into a concrete `StudyPlan`."""
    task_spec = get_task(task)
    backend = resolve_backend(task_spec, overrides.backend)
    if overrides.qualities is not None:
        qualities = overrides.qualities
    else:
        qualities = spec.qualities or task_spec.qualities
        preferred = tuple(q for q in preset.qualities if q in qualities)
        qualities = preferred + tuple(q for q in qualities if q not in preferred)
        if preset.max_qualities is not None:
            qualities = qualities[:preset.max_qualities]
    for quality in qualities:
        base, problem = _base_quality(quality)
        if base not in task_spec.qualities:
            raise StudyError(f"task {task_spec.name} has no dataset quality {quality!r}{problem}; its qualities: "
                             f"{', '.join(task_spec.qualities)} (fix --qualities or the spec's qualities)")
    qualities = _with_variants(qualities, spec.correlations, spec.temperatures)
    kind = task_spec.action_kind
    if not any(kind in METHOD_ACTION_KINDS.get(method, (kind,)) for method in spec.factors.method):
        raise StudyError(f"study {spec.name!r}: none of its methods ({', '.join(spec.factors.method)}) supports "
                         f"the {kind} actions of task {task_spec.name}; choose another task or study")
    seeds = overrides.seeds or preset.seeds or spec.seeds
    if seeds < preset.min_seeds:
        raise StudyError(f"--seeds {seeds} conflicts with preset {preset.name!r}, which needs at least "
                         f"{preset.min_seeds} seeds; raise --seeds or choose another --preset (e.g. smoke)")
    budget = preset.budget(task_spec.family)
    steps = overrides.steps or budget.steps or preset.steps or spec.steps
    epochs = None if overrides.steps or budget.steps else budget.epochs
    checkpoint_every = preset.checkpoint_every or max(1, steps // 10)
    given = overrides.given()
    if backend == task_spec.default_backend:
        given.pop("backend", None)
    name = f"{spec.name}-{task_spec.name}-{preset.name}"
    if given:
        name += f"-{_short_hash(given)}"
    eval_episodes = overrides.eval_episodes or budget.eval_episodes or preset.eval_episodes or spec.eval_episodes
    curve_episodes = None if preset.curve_eval_episodes is None else min(preset.curve_eval_episodes, eval_episodes)
    return StudyPlan(
        study_name=name, spec=spec, preset=preset.name, task=task_spec.name, backend=backend,
        qualities=tuple(qualities), seeds=seeds, steps=steps, curve_eval_episodes=curve_episodes,
        eval_episodes=eval_episodes,
        batch_size=overrides.batch_size or preset.batch_size or spec.batch_size,
        hidden=preset.hidden, dataset_episodes=preset.dataset_episodes,
        population_size=preset.population_size, checkpoint_every=min(checkpoint_every, steps), epochs=epochs,
        eval_points=preset.eval_points, overrides=given)


def _base_quality(quality: str) -> tuple[str | None, str]:
    """(the base quality of a quality name, ``""``): ``medium@shared`` -> ("medium", ""); (None, " (why)") when its
    suffixes are wrong (`omiga.tasks.split_variants`' error)."""
    from omiga.errors import ConfigError, UnknownNameError
    from omiga.tasks import split_variants

    try:
        return split_variants(quality)[0], ""
    except (ConfigError, UnknownNameError) as error:
        return None, f" ({error.args[0]})"


def _with_variants(qualities: tuple[str, ...], correlations: tuple[str, ...],
                   temperatures: tuple[float, ...]) -> tuple[str, ...]:
    """Each quality crossed with the spec's dataset correlations, then with its sampling temperatures (a quality
    that names a variant of that kind already is kept as it is)."""
    from omiga.tasks import split_variants, with_correlation, with_temperature

    crossed = list(qualities)
    if correlations:
        crossed = [q if split_variants(q)[1] != "independent" else with_correlation(q, c)
                   for q in crossed for c in correlations]
    if temperatures:
        crossed = [q if split_variants(q)[2] != 1 else with_temperature(q, t) for q in crossed for t in temperatures]
    return tuple(dict.fromkeys(crossed))


def check_plan_sizes(plan: StudyPlan, *, allow_large: bool = False) -> None:
    """Refuse a grid (runs: points × seeds, counted, not enumerated), a batch, evaluation or training length past
    `omiga.limits.LIMITS` unless ``allow_large``."""
    from omiga.limits import check_size
    from studies.grid import runnable_methods

    factors = plan.spec.factors
    per_quality = sum(len(factors.mixer) * len(factors.alpha) * len(factors.global_info) if method == "omiga"
                      else len(plan.spec.settings(method, discrete=plan.discrete)) for method in runnable_methods(plan))
    runs = len(plan.qualities) * per_quality * plan.seeds
    check_size("--batch-size", plan.batch_size, kind="batch_size", allow_large=allow_large)
    check_size("--eval-episodes", plan.eval_episodes, kind="eval_episodes", allow_large=allow_large)
    check_size("--steps", plan.steps, kind="steps", allow_large=allow_large)
    check_size(f"study {plan.study_name}: runs (grid points x seeds)", runs, kind="grid", allow_large=allow_large)
