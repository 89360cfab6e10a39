"""The grid of a study plan: one `GridPoint` per run (a trial), and the populations they train in.

OMIGA points cross α × mixer × global_info × seed; other methods have none of those factors and get one point
per quality, seed and setting of their own grid (``[methods.<name>]``; one setting, their defaults, without a
grid), never crossed with OMIGA-only levels. A setting's options become trial params and scores columns named
``hp_<method>_<option>`` (:func:`hp_column`); points of different settings train in different populations (a
setting is shared by a population's members).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from omiga.methods import METHOD_ACTION_KINDS
from omiga.tasks import get_task
from studies.plan import StudyPlan

__all__ = ["GridPoint", "enumerate_grid", "hp_column", "param_choices", "population_chunks", "runnable_methods"]


def hp_column(method: str, option: str) -> str:
    """The trial param and scores column of ``method``'s option: ``hp_<method>_<option>``."""
    return f"hp_{method}_{option}"


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
    options: tuple[tuple[str, float], ...] = ()
    """The method's options at this point (``TrainConfig.method_options``; empty: its defaults)."""

    def params(self) -> dict[str, Any]:
        """The Optuna trial params: only the applicable factors (bc trials have no alpha/mixer/global_info), and
        the options as ``hp_<method>_<option>``."""
        params = {key: value for key, value in self.__dict__.items() if value is not None and key != "options"}
        return params | {hp_column(self.method, name): value for name, value in self.options}

    @property
    def key(self) -> str:
        """Canonical string identifying the point (used to skip points already enqueued or finished)."""
        return json.dumps(self.params(), sort_keys=True)

    @property
    def population(self) -> tuple[str, str, str | None, tuple[tuple[str, float], ...]]:
        """Points with the same population key share network shapes and method options and train together,
        whatever their dataset quality (a merged population: each member samples its own quality's dataset)."""
        return (self.task, self.method, self.mixer, self.options)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GridPoint:
        """Inverse of `params`."""
        prefix = hp_column(params["method"], "")
        options = tuple((key.removeprefix(prefix), value) for key, value in params.items() if key.startswith(prefix))
        return cls(task=params["task"], quality=params["quality"], method=params["method"],
                   alpha=params.get("alpha"), mixer=params.get("mixer"), global_info=params.get("global_info"),
                   seed=int(params["seed"]), options=options)


def enumerate_grid(plan: StudyPlan) -> list[GridPoint]:
    """Every point of the plan exactly once, in a stable order (quality, method, mixer, α, global_info, setting,
    seed).

    Methods that do not support the task's action kind (the registry's ``METHOD_ACTION_KINDS``) are left out.
    """
    factors = plan.spec.factors
    points: list[GridPoint] = []
    for quality, method in itertools.product(plan.qualities, runnable_methods(plan)):
        if method == "omiga":
            levels = itertools.product(factors.mixer, factors.alpha, factors.global_info)
        else:
            levels = [(None, None, None)]
        settings = plan.spec.settings(method, discrete=plan.discrete)
        for (mixer, alpha, global_info), options, seed in itertools.product(levels, settings, range(plan.seeds)):
            points.append(GridPoint(task=plan.task, quality=quality, method=method, alpha=alpha, mixer=mixer,
                                    global_info=global_info, seed=seed, options=options))
    return points


def runnable_methods(plan: StudyPlan) -> tuple[str, ...]:
    """The plan's methods that support its task's action kind, in spec order."""
    kind = get_task(plan.task).action_kind
    return tuple(m for m in plan.spec.factors.method if kind in METHOD_ACTION_KINDS.get(m, (kind,)))


def param_choices(plan: StudyPlan) -> dict[str, tuple]:
    """Every param's possible values (the categorical distributions of the study's trials)."""
    factors = plan.spec.factors
    hp = {hp_column(grid.method, name): levels for grid in plan.spec.methods
          for name, levels in grid.options(discrete=plan.discrete)}
    return {"task": (plan.task,), "quality": plan.qualities, "method": factors.method, "alpha": factors.alpha,
            "mixer": factors.mixer, "global_info": factors.global_info, "seed": tuple(range(plan.seeds)), **hp}


def population_chunks(points: list[GridPoint], *, size: int, by_quality: bool = False) -> dict[GridPoint, str]:
    """Assign each point a population id: points sharing shapes (of every quality, or of one quality each when
    ``by_quality``: budgets counted in epochs differ between datasets), in chunks of at most ``size`` members, as
    few chunks as possible and of near-equal sizes."""
    groups: dict[tuple, list[GridPoint]] = {}
    for point in points:
        groups.setdefault((*point.population, point.quality if by_quality else None), []).append(point)
    labels: dict[GridPoint, str] = {}
    for (task, method, mixer, options, quality), members in groups.items():
        chunks = -(-len(members) // size)
        bounds = [len(members) * k // chunks for k in range(chunks + 1)]
        setting = "".join(f"-{name}={value:g}" for name, value in options)
        for index, (start, stop) in enumerate(zip(bounds, bounds[1:])):
            label = (f"{task}/{method}" + (f"-{mixer}" if mixer else "") + setting
                     + (f"/{quality}" if quality else "") + f"/{index}")
            for point in members[start:stop]:
                labels[point] = label
    return labels
