"""A baseline's own hyperparameter grid in a study spec: the ``[methods.<name>]`` table, validated.

``[methods.cql] alpha = [0.3, 1.0, 3.0]`` sweeps CQL's α; ``[methods.icq.discrete]`` and ``.continuous``
sub-tables set (or override) options for tasks of one action kind; an option that acts on one kind only
(:data:`omiga.methods.options.OPTION_ACTION_KINDS`) is swept only there. Options are those of
:mod:`omiga.methods.options`; a grid sweeps numbers (named choices such as ``penalty`` are not swept).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omiga.config import METHOD_NAMES
from omiga.methods.options import method_options, option_applies, option_kind
from studies.errors import StudyError

__all__ = ["ACTION_KIND_TABLES", "MethodGrid"]

ACTION_KIND_TABLES = ("discrete", "continuous")
"""Sub-tables of ``[methods.<name>]`` whose options apply only to tasks of that action kind."""

OptionLevels = tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True)
class MethodGrid:
    """One method's grid per action kind: each listed option crossed with the others (defaults for the rest)."""

    method: str
    """The method (a baseline with options; OMIGA's α is ``factors.alpha``)."""
    discrete: OptionLevels
    """(option name, its levels) pairs swept on discrete tasks, in the spec's order."""
    continuous: OptionLevels
    """The same on continuous tasks."""

    def options(self, *, discrete: bool) -> OptionLevels:
        """The options swept on a task of that action kind."""
        return self.discrete if discrete else self.continuous

    def settings(self, *, discrete: bool) -> list[tuple[tuple[str, float], ...]]:
        """Every combination of the options' levels on that action kind, as ``method_options`` pairs."""
        options = self.options(discrete=discrete)
        names = [name for name, _ in options]
        return [tuple(zip(names, values)) for values in itertools.product(*(levels for _, levels in options))]

    def to_toml(self) -> dict[str, Any]:
        """The table this grid parses from, per action kind (``from_toml`` inverts it)."""
        return {kind: {name: list(levels) for name, levels in getattr(self, kind)} for kind in ACTION_KIND_TABLES}

    @classmethod
    def from_toml(cls, method: str, values: object, *, where: str, methods: tuple[str, ...]) -> MethodGrid:
        """Validate a ``[methods.<method>]`` table: a method of the study with options, known numeric options each
        with a non-empty list of distinct levels the method accepts; ``[methods.<method>.discrete]`` and
        ``.continuous`` sub-tables set (or override) options for one action kind."""
        at = f"{where} [methods.{method}]"
        if method not in METHOD_NAMES:
            raise StudyError(f"{at}: unknown method {method!r}; methods: {', '.join(METHOD_NAMES)}")
        if method == "omiga":
            raise StudyError(f"{at}: OMIGA's α is the factor factors.alpha; give its levels there and remove "
                             "[methods.omiga]")
        if method not in methods:
            raise StudyError(f"{at}: method {method!r} is not in factors.method ({', '.join(methods)}); add it "
                             "there or remove its grid")
        if not isinstance(values, Mapping) or not values:
            raise StudyError(f"{at} must be a table of option = [levels], e.g. alpha = [0.3, 1.0, 3.0]")
        common = {name: levels for name, levels in values.items() if name not in ACTION_KIND_TABLES}
        by_kind = {}
        for kind in ACTION_KIND_TABLES:
            specific = values.get(kind, {})
            if not isinstance(specific, Mapping):
                raise StudyError(f"{at}: {kind} must be a table [methods.{method}.{kind}] of option = [levels]")
            levels = {name: _option_levels(f"{at}", method, name, value, kind=None)
                      for name, value in common.items()}
            levels = {name: value for name, value in levels.items()
                      if option_applies(method, name, discrete=kind == "discrete")}
            for name, value in specific.items():
                if not option_applies(method, name, discrete=kind == "discrete"):
                    _option_levels(f"{at}.{kind}", method, name, value, kind=kind)  # unknown names first
                    raise StudyError(f"{at}.{kind}: {name} has no effect on {kind} tasks; move it to the other "
                                     "action kind's table or remove it")
                levels[name] = _option_levels(f"{at}.{kind}", method, name, value, kind=kind)
            by_kind[kind] = tuple(levels.items())
        return cls(method=method, **by_kind)


def _option_levels(at: str, method: str, name: str, levels: object, *, kind: str | None) -> tuple[float, ...]:
    """The validated levels of one option of ``method``."""
    from omiga.errors import ConfigError

    try:
        option = option_kind(method, name)
    except ConfigError as error:
        raise StudyError(f"{at}: {error}") from None
    if option == "str":
        raise StudyError(f"{at}: {name} is a named choice, not a number; a grid sweeps numeric options")
    if not isinstance(levels, list) or not levels:
        raise StudyError(f"{at}: {name} must be a non-empty list of levels, got {levels!r}")
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (int, float)) \
                or (option == "int" and not float(level).is_integer()):
            wanted = "integers" if option == "int" else "numbers"
            raise StudyError(f"{at}: {name} levels must be {wanted}, got {level!r}")
        try:
            method_options(method, ((name, level),))
        except ConfigError as error:
            raise StudyError(f"{at}: {name} = {level!r}: {error}") from None
    if len(set(levels)) != len(levels):
        raise StudyError(f"{at}: {name} repeats a level: {levels}")
    return tuple(int(v) if option == "int" else float(v) for v in levels)
