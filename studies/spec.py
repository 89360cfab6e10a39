"""Study specs: TOML files under ``studies/specs/`` validated into frozen dataclasses.

A spec names the factors of a study and their levels (method, α, mixer, global_info), each baseline's grid
over its own hyperparameters (``[methods.<name>]`` tables: option name -> list of levels, e.g.
``[methods.cql] alpha = [0.3, 1.0, 3.0]``; the options of :mod:`omiga.methods.options`), the seeds, the
training length and the claims handed to analysis (validated against analysis's schema when the spec loads, so
an outdated claim fails with analysis's migration message before any training). Presets (``studies/presets.py``) scale a spec; the
spec's own ``steps`` and ``seeds`` are the paper-scale values.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from omiga.config import METHOD_NAMES, MIXER_NAMES
from omiga.errors import UnknownNameError
from omiga.tasks import CORRELATIONS, get_task, is_sampling_temperature
from studies.errors import StudyError
from studies.method_grid import MethodGrid

__all__ = [
    "OMIGA_ONLY_FACTORS",
    "SPEC_DIR",
    "Factors",
    "MethodGrid",
    "StudySpec",
    "load_spec",
    "parse_spec",
    "reject_unknown_keys",
    "spec_names",
]

SPEC_DIR = Path(__file__).parent / "specs"

OMIGA_ONLY_FACTORS: tuple[str, ...] = ("alpha", "mixer", "global_info")
"""Factors that only OMIGA has; other methods (bc) are reference rows not crossed with them."""


def reject_unknown_keys(where: str, values: Mapping[str, Any], valid: tuple[str, ...]) -> None:
    """Raise a `StudyError` naming every key of ``values`` not in ``valid`` and listing the valid ones."""
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise StudyError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"valid keys: {', '.join(valid)}")


_LEVEL_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "method": ((str,), "names (strings)"), "alpha": ((int, float), "finite numbers > 0"),
    "mixer": ((str,), "names (strings)"), "global_info": ((bool,), "true or false"),
}


def _levels(where: str, name: str, values: Any) -> tuple:
    if not isinstance(values, (list, tuple)):
        raise StudyError(f"{where}: factors.{name} must be a list of levels, got {values!r}")
    if not values:
        raise StudyError(f"{where}: factors.{name} is empty, so the grid is empty; give at least one level")
    types, wanted = _LEVEL_TYPES.get(name, ((str, int, float, bool), "plain values"))
    for value in values:  # strictly typed: no "false" for false, no [1.0] for 1.0
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise StudyError(f"{where}: factors.{name} levels must be {wanted}, got {value!r}")
    if len(set(values)) != len(values):
        raise StudyError(f"{where}: factors.{name} repeats a level: {list(values)}")
    return tuple(values)


@dataclass(frozen=True)
class Factors:
    """The levels of each factor; the grid crosses them (OMIGA-only factors are not crossed with bc)."""

    method: tuple[str, ...] = ("omiga",)
    """Update rules: omiga, bc, or every registered one with ``method = "all"`` in TOML."""
    alpha: tuple[float, ...] = (10.0,)
    """Regularisation strengths α > 0 of Eq. 13/15 (OMIGA only)."""
    mixer: tuple[str, ...] = ("linear",)
    """Mixing networks: linear (the paper's), vdn, qmix (OMIGA only)."""
    global_info: tuple[bool, ...] = (True,)
    """Whether the V and π steps use the mixer's weights w (the ablation's off switch; OMIGA only)."""
    where: str = field(default="factors", compare=False, repr=False)
    """Where these factors came from, for error messages."""

    def __post_init__(self) -> None:
        where = self.where
        for item in fields(self):
            if item.name != "where":
                _levels(where, item.name, getattr(self, item.name))
        for method in self.method:
            if method not in METHOD_NAMES:
                raise UnknownNameError("method", method, METHOD_NAMES)
        for mixer in self.mixer:
            if mixer not in MIXER_NAMES:
                raise UnknownNameError("mixer", mixer, MIXER_NAMES)
        for alpha in self.alpha:
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) \
                    or alpha <= 0:
                raise StudyError(f"{where}: factors.alpha levels must be finite numbers > 0, got {alpha!r}")
        for flag in self.global_info:
            if not isinstance(flag, bool):
                raise StudyError(f"{where}: factors.global_info levels must be true or false, got {flag!r}")

    @classmethod
    def from_toml(cls, values: Mapping[str, Any], *, where: str) -> Factors:
        """Validate the ``[factors]`` table (``method = "all"`` expands to every registered method)."""
        valid = tuple(item.name for item in fields(cls) if item.name != "where")
        reject_unknown_keys(f"{where} [factors]", values, valid)
        values = dict(values)
        if values.get("method") == "all":
            values["method"] = ("omiga",) + tuple(m for m in METHOD_NAMES if m != "omiga")
        if "alpha" in values and isinstance(values["alpha"], list):
            values["alpha"] = [float(a) if isinstance(a, int) and not isinstance(a, bool) else a
                               for a in values["alpha"]]
        return cls(**{key: _levels(where, key, value) for key, value in values.items()}, where=where)


@dataclass(frozen=True)
class StudySpec:
    """A declared study: what varies, on which tasks, for how long, and which claims to check."""

    name: str
    """Study name (the file name without .toml)."""
    description: str = ""
    """One line saying what the study asks."""
    tasks: tuple[str, ...] = ()
    """Default tasks (``--task`` overrides); empty: ``--task`` is required."""
    qualities: tuple[str, ...] = ()
    """Dataset qualities; empty: every quality the task has."""
    correlations: tuple[str, ...] = ()
    """Dataset variants crossed with every quality (`omiga.tasks.CORRELATIONS`): ``independent`` (the quality's
    own factorised data) and ``shared`` (``<quality>@shared``, the team's correlated draws); empty: independent."""
    temperatures: tuple[float, ...] = ()
    """Sampling temperatures crossed with every quality (and correlation): τ = 1 the quality's own data, another τ
    ``<quality>@t<τ>`` (its learned levels sampling softmax(logits / τ): narrower coverage below 1, broader
    above; `omiga.tasks.split_variants`); empty: τ = 1 only."""
    factors: Factors = field(default_factory=Factors)
    """Levels of method, α, mixer and global_info."""
    methods: tuple[MethodGrid, ...] = ()
    """Each baseline's grid over its own hyperparameters (a method without one runs at its defaults)."""
    seeds: int = 5
    """Independent runs per grid point (paper scale; presets change it)."""
    steps: int = 100_000
    """Gradient steps per run (paper scale; presets change it)."""
    eval_episodes: int = 32
    """Evaluation episodes per run at the end of training."""
    batch_size: int = 128
    """Transitions per member per step."""
    claims: tuple[Mapping[str, Any], ...] = ()
    """Claims for analysis (plain dicts, schema in analysis/claims.py), e.g. {"kind": "beats", ...}."""
    select_seeds: tuple[int, ...] | float | None = None
    """Default ``select_seeds`` of the claims that tune a setting: seeds (or a fraction of them, lowest first)
    that choose it, the others judge it (analysis/selection.py); None: selection and test share seeds."""

    def __post_init__(self) -> None:
        where = f"study spec {self.name!r}"
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise StudyError(f"{where}: name must be letters, digits, '_' or '-'")
        for name in ("seeds", "steps", "eval_episodes", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise StudyError(f"{where}: {name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.description, str):
            raise StudyError(f"{where}: description must be a string, got {self.description!r}")
        for key in ("tasks", "qualities", "correlations"):
            for item in getattr(self, key):
                if not isinstance(item, str):
                    raise StudyError(f"{where}: {key} must be a list of names (strings), got {item!r}")
        for task in self.tasks:
            get_task(task)  # UnknownNameError listing the known tasks
        for correlation in self.correlations:
            if correlation not in CORRELATIONS:
                raise StudyError(f"{where}: correlations must be among {', '.join(CORRELATIONS)}, got "
                                 f"{correlation!r}")
        if len(set(self.correlations)) != len(self.correlations):
            raise StudyError(f"{where}: correlations repeats a level: {list(self.correlations)}")
        for temperature in self.temperatures:
            if not is_sampling_temperature(temperature):
                raise StudyError(f"{where}: temperatures must be numbers > 0 (sampling temperatures, 1 = the "
                                 f"learned policy), got {temperature!r}")
        if len({float(t) for t in self.temperatures}) != len(self.temperatures):
            raise StudyError(f"{where}: temperatures repeats a level: {list(self.temperatures)}")
        for claim in self.claims:
            if not isinstance(claim, Mapping) or not isinstance(claim.get("kind"), str):
                raise StudyError(f"{where}: each [[claims]] entry needs a string 'kind', got {claim!r}")
        _validate_claims(where, self.claims, self.select_seeds)

    def settings(self, method: str, *, discrete: bool) -> list[tuple[tuple[str, float], ...]]:
        """The method_options settings ``method`` runs at on a task of that action kind: its grid's
        combinations, or its defaults alone."""
        for grid in self.methods:
            if grid.method == method:
                return grid.settings(discrete=discrete)
        return [()]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (recorded in the Optuna study for provenance and remote workers)."""
        variants = {"correlations": list(self.correlations)} if self.correlations else {}  # older plans lack it
        if self.temperatures:  # likewise
            variants["temperatures"] = list(self.temperatures)
        if self.methods:  # likewise: a spec without method grids stores the plan it stored before
            variants["methods"] = {grid.method: grid.to_toml() for grid in self.methods}
        return {
            "name": self.name, "description": self.description, "tasks": list(self.tasks),
            "qualities": list(self.qualities), **variants, "seeds": self.seeds, "steps": self.steps,
            "eval_episodes": self.eval_episodes, "batch_size": self.batch_size,
            "factors": {key: list(getattr(self.factors, key)) for key in ("method", "alpha", "mixer", "global_info")},
            "claims": [dict(claim) for claim in self.claims],
            "select_seeds": list(self.select_seeds) if isinstance(self.select_seeds, tuple) else self.select_seeds,
        }


def _validate_claims(where: str, claims: tuple[Mapping[str, Any], ...], select_seeds: object) -> None:
    """Check the claims against analysis's schema now, so a bad or outdated spec fails before any training."""
    from analysis.claims import validate_claim
    from analysis.errors import ClaimError
    from analysis.selection import validate_select_seeds

    checks = [("select_seeds", validate_select_seeds, select_seeds)] if select_seeds is not None else []
    checks += [(f"claim {index}", validate_claim, claim) for index, claim in enumerate(claims, 1)]
    for which, check, value in checks:
        try:
            check(value)
        except ClaimError as error:
            raise StudyError(f"{where}: {which}: {error}") from None


def _with_select_seeds(claims: list[Any], select_seeds: object) -> tuple[Any, ...]:
    """Each claim that lacks ``select_seeds`` gets the spec's (analysis ignores it where nothing is tuned)."""
    if select_seeds is None:
        return tuple(claims)
    return tuple({**claim, "select_seeds": select_seeds} if isinstance(claim, Mapping) and "select_seeds" not in claim
                 else claim for claim in claims)


_SPEC_KEYS = ("name", "description", "tasks", "qualities", "correlations", "temperatures", "factors", "methods",
              "seeds", "steps", "eval_episodes", "batch_size", "select_seeds", "claims")


def parse_spec(values: Mapping[str, Any], *, name: str) -> StudySpec:
    """Validate a parsed TOML document into a `StudySpec` called ``name``."""
    where = f"study spec {name!r}"
    reject_unknown_keys(where, values, _SPEC_KEYS)
    if values.get("name", name) != name:
        raise StudyError(f"{where}: name = {values['name']!r} differs from the file name; make them equal")
    for key in ("tasks", "qualities", "correlations", "temperatures"):
        if not isinstance(values.get(key, []), list):
            raise StudyError(f"{where}: {key} must be a list, got {values[key]!r}")
    factors = values.get("factors", {})
    if not isinstance(factors, Mapping):
        raise StudyError(f"{where}: factors must be a table [factors]")
    claims = values.get("claims", [])
    if not isinstance(claims, list):
        raise StudyError(f"{where}: claims must be an array of tables [[claims]]")
    scalars = {key: values[key] for key in ("description", "seeds", "steps", "eval_episodes", "batch_size")
               if key in values}
    select_seeds = values.get("select_seeds")
    parsed = Factors.from_toml(factors, where=where)
    grids = values.get("methods", {})
    if not isinstance(grids, Mapping):
        raise StudyError(f"{where}: methods must be tables [methods.<name>], e.g. [methods.cql] alpha = [0.3, 1.0]")
    return StudySpec(name=name, tasks=tuple(values.get("tasks", ())), qualities=tuple(values.get("qualities", ())),
                     correlations=tuple(values.get("correlations", ())),
                     temperatures=tuple(values.get("temperatures", ())),
                     factors=parsed,
                     methods=tuple(MethodGrid.from_toml(method, grid, where=where, methods=parsed.method)
                                   for method, grid in grids.items()),
                     select_seeds=tuple(select_seeds) if isinstance(select_seeds, list) else select_seeds,
                     claims=_with_select_seeds(claims, select_seeds), **scalars)


def spec_names() -> tuple[str, ...]:
    """Names of the built-in studies (files in ``studies/specs/``)."""
    return tuple(sorted(path.stem for path in SPEC_DIR.glob("*.toml")))


def load_spec(name_or_path: str | Path) -> StudySpec:
    """Load a built-in study by name, or a spec file by path (``*.toml``)."""
    text = str(name_or_path)
    path = Path(text) if text.endswith(".toml") else SPEC_DIR / f"{text}.toml"
    if path.is_dir():
        raise StudyError(f"study spec {text} is a directory; give the .toml file itself")
    if not path.is_file():
        if text.endswith(".toml"):
            raise StudyError(f"study spec file {text} does not exist; give an existing .toml file")
        raise StudyError(f"unknown study {text!r}; built-in studies: {', '.join(spec_names())} "
                         "(or give the path of a .toml spec)")
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise StudyError(f"study spec {path}: invalid TOML ({error}); fix the syntax") from None
    except UnicodeDecodeError:
        raise StudyError(f"study spec {path} is not UTF-8 text; give a TOML file") from None
    except OSError as error:
        raise StudyError(f"cannot read study spec {path}: {error.strerror or error}; make it readable") from None
    return parse_spec(values, name=path.stem)
