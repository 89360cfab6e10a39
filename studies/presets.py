"""Presets scale any study spec: ``smoke`` (CI, seconds), ``quick`` (a 2-core laptop), ``paper`` (GPU/cluster).

A preset is a TOML file under ``studies/presets/``. Each value it leaves out keeps the spec's (paper-scale)
value; ``min_seeds`` is a floor that neither the preset nor ``--seeds`` may go below. A ``[family.<name>]``
table (``smac``, ``mamujoco``, ``toy``) sets the budget of that task family: ``steps``, or ``epochs`` over the
dataset (steps = ⌈epochs × transitions / batch size⌉, computed per dataset when it is loaded, as the paper
counts SMAC training), and ``eval_episodes``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omiga.errors import UnknownNameError
from studies.errors import StudyError
from studies.spec import reject_unknown_keys

__all__ = ["DEFAULT_PRESET", "FAMILIES", "PRESET_DIR", "FamilyBudget", "Preset", "load_preset", "preset_names"]

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "quick"
FAMILIES = ("smac", "mamujoco", "toy")
"""Task families a preset may budget separately (omiga.tasks.TaskSpec.family)."""


@dataclass(frozen=True)
class FamilyBudget:
    """A preset's training budget for one task family."""

    steps: int | None = None
    """Gradient steps per run; None keeps the preset's (or the spec's)."""
    epochs: float | None = None
    """Passes over the dataset instead of a step count (steps = ⌈epochs × transitions / batch size⌉)."""
    eval_episodes: int | None = None
    """Evaluation episodes per evaluation point; None keeps the preset's."""
    where: str = field(default="family", compare=False, repr=False)
    """Where this budget came from, for error messages."""

    def __post_init__(self) -> None:
        for name in ("steps", "eval_episodes"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise StudyError(f"{self.where}: {name} must be an integer >= 1, got {value!r}")
        if self.epochs is not None and (isinstance(self.epochs, bool) or not isinstance(self.epochs, int | float)
                                        or not math.isfinite(self.epochs) or self.epochs <= 0):
            raise StudyError(f"{self.where}: epochs must be a number > 0, got {self.epochs!r}")
        if self.steps is not None and self.epochs is not None:
            raise StudyError(f"{self.where}: give steps or epochs, not both")


@dataclass(frozen=True)
class Preset:
    """How far to scale a spec down (or keep it) for a given machine."""

    name: str
    """Preset name (the file name without .toml)."""
    description: str = ""
    """What the preset is for and how long it takes."""
    steps: int | None = None
    """Gradient steps per run; None keeps the spec's."""
    seeds: int | None = None
    """Runs per grid point; None keeps the spec's."""
    min_seeds: int = 1
    """The fewest seeds this preset accepts (``--seeds`` below it is an error)."""
    eval_episodes: int | None = None
    """Evaluation episodes per run; None keeps the spec's."""
    batch_size: int | None = None
    """Transitions per member per step; None keeps the spec's."""
    hidden: int | None = None
    """Hidden width of the V, Q and π networks; None keeps the trainer's default (256)."""
    dataset_episodes: int | None = None
    """Episodes per built dataset; None keeps the task's default (the paper's)."""
    qualities: tuple[str, ...] = ()
    """Preferred dataset qualities: those the task has are used (empty, or none matching: the task's order)."""
    max_qualities: int | None = None
    """Use at most this many of the spec's (or task's) qualities, in order; None uses all."""
    population_size: int = 64
    """Most trials trained together as one population."""
    checkpoint_every: int = 0
    """Checkpoint every this many steps (0: a tenth of the steps)."""
    eval_points: int = 5
    """Evaluations per run, evenly spaced, the last at the final step (the learning curve; verdicts use the last)."""
    curve_eval_episodes: int | None = None
    """Episodes of the evaluations before the final one (the learning curve's earlier points; at most the eval
    episodes); None: every point uses the eval episodes. The final score always uses the full eval episodes."""
    family: Mapping[str, FamilyBudget] = field(default_factory=dict)
    """Per task family (smac, mamujoco, toy), the budget that replaces steps and eval_episodes."""

    def __post_init__(self) -> None:
        where = f"preset {self.name!r}"
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("name", "description", "qualities", "family") or value is None:
                continue
            low = 0 if item.name == "checkpoint_every" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise StudyError(f"{where}: {item.name} must be an integer >= {low}, got {value!r}")
        if self.seeds is not None and self.seeds < self.min_seeds:
            raise StudyError(f"{where}: seeds = {self.seeds} is below its min_seeds = {self.min_seeds}")
        unknown = sorted(set(self.family) - set(FAMILIES))
        if unknown:
            raise StudyError(f"{where}: unknown task family {', '.join(unknown)}; families: {', '.join(FAMILIES)}")

    def budget(self, family: str) -> FamilyBudget:
        """The budget of task ``family`` (empty: the preset's own values apply)."""
        return self.family.get(family, FamilyBudget())


def preset_names() -> tuple[str, ...]:
    """Names of the presets (files in ``studies/presets/``)."""
    return tuple(sorted(path.stem for path in PRESET_DIR.glob("*.toml")))


def load_preset(name: str) -> Preset:
    """Load the preset called ``name``."""
    path = PRESET_DIR / f"{name}.toml"
    if not path.is_file():
        raise UnknownNameError("preset", name, preset_names())
    values: dict[str, Any] = tomllib.loads(path.read_text())
    valid = tuple(item.name for item in fields(Preset) if item.name != "name")
    reject_unknown_keys(f"preset {name!r}", values, valid)
    if not isinstance(values.get("qualities", []), list):
        raise StudyError(f"preset {name!r}: qualities must be a list of names, got {values['qualities']!r}")
    values["qualities"] = tuple(values.get("qualities", ()))
    families = values.pop("family", {})
    if not isinstance(families, dict) or not all(isinstance(v, dict) for v in families.values()):
        raise StudyError(f"preset {name!r}: family must hold tables such as [family.smac]")
    budgets = {}
    for family, budget in families.items():
        where = f"preset {name!r} [family.{family}]"
        reject_unknown_keys(where, budget, ("steps", "epochs", "eval_episodes"))
        budgets[family] = FamilyBudget(**budget, where=where)
    return Preset(name=name, family=budgets, **values)
