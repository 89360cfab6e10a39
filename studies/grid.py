"""The grid of a study plan: one `GridPoint` per run (a trial), and the populations they train in.

OMIGA points cross α × mixer × global_info × seed; other methods (bc) have none of those factors and get one
reference point per quality and seed, never crossed with OMIGA-only levels.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from omiga.methods import METHOD_ACTION_KINDS
from omiga.tasks import get_task
from studies.plan import StudyPlan

__all__ = ["GridPoint", "enumerate_grid", "param_choices", "population_chunks", "runnable_methods"]


@dataclass(frozen=True)
class GridPoint:
    """One run: a task, quality, method, its factor levels (None where not applicable) and a seed."""

    task: str
    """Task name."""
    quality: str
    """Dataset quality."""
    method: str
    """Update rule."""
    alpha: float | None
    """α (None for methods without it)."""
    mixer: str | None
    """Mixer name (None for methods without one)."""
    global_info: bool | None
    """Global information on/off (None for methods without it)."""
    seed: int
    """Seed of the run."""

    def params(self) -> dict[str, Any]:
        """The Optuna trial params: only the applicable factors (bc trials have no alpha/mixer/global_info)."""
        return {key: value for key, value in self.__dict__.items() if value is not None}

    @property
    def key(self) -> str:
        """Canonical string identifying the point (used to skip points already enqueued or finished)."""
        return json.dumps(self.params(), sort_keys=True)

    @property
    def population(self) -> tuple[str, str, str | None]:
        """Points with the same population key share network shapes and train together, whatever their dataset
        quality (a merged population: each member samples its own quality's dataset)."""
        return (self.task, self.method, self.mixer)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GridPoint:
        """Inverse of `params`."""
        return cls(task=params["task"], quality=params["quality"], method=params["method"],
                   alpha=params.get("alpha"), mixer=params.get("mixer"), global_info=params.get("global_info"),
                   seed=int(params["seed"]))


def enumerate_grid(plan: StudyPlan) -> list[GridPoint]:
    """Every point of the plan exactly once, in a stable order (quality, method, mixer, α, global_info, seed).

    Methods that do not support the task's action kind (the registry's ``METHOD_ACTION_KINDS``) are left out.
    """
    factors = plan.spec.factors
    points: list[GridPoint] = []
    for quality, method in itertools.product(plan.qualities, runnable_methods(plan)):
        if method == "omiga":
            levels = itertools.product(factors.mixer, factors.alpha, factors.global_info)
        else:
            levels = [(None, None, None)]
        for (mixer, alpha, global_info), seed in itertools.product(levels, range(plan.seeds)):
            points.append(GridPoint(task=plan.task, quality=quality, method=method, alpha=alpha, mixer=mixer,
                                    global_info=global_info, seed=seed))
    return points


def runnable_methods(plan: StudyPlan) -> tuple[str, ...]:
    """The plan's methods that support its task's action kind, in spec order."""
    kind = get_task(plan.task).action_kind
    return tuple(m for m in plan.spec.factors.method if kind in METHOD_ACTION_KINDS.get(m, (kind,)))


def param_choices(plan: StudyPlan) -> dict[str, tuple]:
    """Every param's possible values (the categorical distributions of the study's trials)."""
    factors = plan.spec.factors
    return {"task": (plan.task,), "quality": plan.qualities, "method": factors.method, "alpha": factors.alpha,
            "mixer": factors.mixer, "global_info": factors.global_info, "seed": tuple(range(plan.seeds))}


def population_chunks(points: list[GridPoint], *, size: int, by_quality: bool = False) -> dict[GridPoint, str]:
    """Assign each point a population id: points sharing shapes (of every quality, or of one quality each when
    ``by_quality``: budgets counted in epochs differ between datasets), in chunks of at most ``size`` members, as
    few chunks as possible and of near-equal sizes."""
    groups: dict[tuple, list[GridPoint]] = {}
    for point in points:
        groups.setdefault((*point.population, point.quality if by_quality else None), []).append(point)
    labels: dict[GridPoint, str] = {}
    for (task, method, mixer, quality), members in groups.items():
        chunks = -(-len(members) // size)
        bounds = [len(members) * k // chunks for k in range(chunks + 1)]
        for index, (start, stop) in enumerate(zip(bounds, bounds[1:])):
            label = (f"{task}/{method}" + (f"-{mixer}" if mixer else "") + (f"/{quality}" if quality else "")
                     + f"/{index}")
            for point in members[start:stop]:
                labels[point] = label
    return labels
