"""The runs a claim is judged on, and what every claim kind needs from them.

A :class:`ClaimScope` holds the claim's ok runs (after its ``task`` / ``quality`` restriction), the seed split of
its tuned settings, the bootstrap settings and the power settings; a claim kind returns a :class:`ClaimVerdict`
for one scope (one quality, or all of the claim's qualities), made by :func:`judged` and named by
analysis.claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.bootstrap import pooled_strata_resamples
from analysis.errors import ClaimError
from analysis.metrics import metric_function
from analysis.power import Judge, PowerConfig, seeds_for_decision
from analysis.judgement import INCONCLUSIVE, VERDICT_NAMES
from analysis.scores import CONFIG_COLUMNS
from analysis.selection import CannotJudge, SeedSplit, format_seeds, select_setting

__all__ = ["ALL_QUALITIES", "ClaimScope", "ClaimVerdict", "describe_selector", "is_config_column", "judged",
           "select_runs"]


def is_config_column(name: object) -> bool:
    """A configuration column: method, alpha, mixer, global_info, or any method hyperparameter ``hp_*``."""
    return isinstance(name, str) and (name in CONFIG_COLUMNS or name.startswith("hp_"))


def _matches(column: pd.Series, value: object) -> pd.Series:
    if column.name == "global_info":
        return (column == bool(value)).fillna(False).astype(bool)
    if column.name == "alpha" or (isinstance(value, int | float) and not isinstance(value, bool)):
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(float)
        return pd.Series(np.isclose(numbers, float(value)), index=column.index)  # type: ignore[arg-type]
    return (column.astype("string") == str(value)).fillna(False).astype(bool)


def select_runs(runs: pd.DataFrame, selector: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``runs`` matching every ``column: value`` of ``selector``."""
    mask = pd.Series(True, index=runs.index)
    for column, value in selector.items():
        if column not in runs.columns:
            raise ClaimError(f"claim selects on {column}, which the scores table lacks: select on its columns "
                             f"({', '.join(c for c in runs.columns if is_config_column(c))})")
        mask &= _matches(runs[column], value)
    return runs.loc[mask]


def describe_selector(selector: Mapping[str, object]) -> str:
    """``method=omiga mixer=linear`` (``all`` for an empty selector)."""
    return " ".join(f"{k}={v}" for k, v in selector.items()) or "all"


ALL_QUALITIES = "all"
"""The scope of a claim's aggregate verdict over its qualities."""


@dataclass(frozen=True)
class ClaimVerdict:
    """The judgement of one claim on one scope."""

    name: str
    """Readable statement of the claim (with how tuned settings were chosen)."""
    kind: str
    """beats | improves | ranks | sensitivity | robust."""
    verdict: str
    """supported | refuted | inconclusive."""
    statistic: str
    """What the estimate and CI measure."""
    estimate: float
    """Point estimate of the statistic."""
    ci_low: float
    """Lower CI bound."""
    ci_high: float
    """Upper CI bound."""
    n_seeds: int
    """Ok runs in the smallest compared group."""
    seeds_needed: str
    """Seeds per configuration expected to make the claim decisive: "-" when already decisive, "N" or "> cap"."""
    note: str = ""
    """Anything a reader must know (settings chosen, near-best range, why no ratio could be formed)."""
    scope: str = ALL_QUALITIES
    """The dataset quality judged, or "all" for the claim's aggregate over its qualities."""
    selection: str = ""
    """How tuned settings were chosen (selection and test seeds); empty when the claim tunes nothing."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICT_NAMES.values():
            raise ValueError(f"verdict must be one of {sorted(VERDICT_NAMES.values())}, got {self.verdict!r}")


@dataclass(frozen=True)
class ClaimScope:
    """A claim's runs and settings."""

    runs: pd.DataFrame
    """Ok runs in scope."""
    all_runs: pd.DataFrame
    """Runs of every status in scope (to say why a group has no ok run)."""
    metric: str
    reps: int
    rng: np.random.RandomState
    split: SeedSplit
    """Selection and test seeds (shared when the claim tunes nothing)."""
    power: PowerConfig = field(default_factory=PowerConfig)

    def restrict(self, quality: str) -> ClaimScope:
        """The same scope on one dataset quality."""
        return replace(self, runs=self.runs.loc[self.runs["quality"] == quality],
                       all_runs=self.all_runs.loc[self.all_runs["quality"] == quality])

    @property
    def qualities(self) -> list[str]:
        return sorted(str(q) for q in self.all_runs["quality"].unique())

    def group(self, selector: Mapping[str, object], *, what: str) -> pd.DataFrame:
        """The ok runs matching ``selector``; CannotJudge when it has runs but none ok, ClaimError when none."""
        chosen = select_runs(self.runs, selector)
        if chosen.empty and not select_runs(self.all_runs, selector).empty:
            statuses = select_runs(self.all_runs, selector)["status"].value_counts().sort_index()
            counts = ", ".join(f"{n} {status}" for status, n in statuses.items())
            raise CannotJudge(f"{what} ({describe_selector(selector)}) has no ok run ({counts})")
        if chosen.empty:
            raise ClaimError(f"claim {what} ({describe_selector(selector)}) selects no ok runs: check the values "
                             "against the scores table")
        return chosen

    def tuned(self, runs: pd.DataFrame, *, tune: object, what: str) -> tuple[pd.DataFrame, list[str]]:
        """``runs`` at their best setting (chosen on selection seeds), on the test seeds."""
        return select_setting(runs, tune=tune, split=self.split, metric=self.metric, what=what)

    def replicates(self, runs: pd.DataFrame, *, what: str = "a compared group") -> tuple[np.ndarray, float]:
        """Bootstrap replicates ``(reps,)`` of the metric on normalised scores (strata resampled) and its value.

        A stratum with a single run would give a zero-width CI (a verdict from one seed): CannotJudge instead.
        """
        groups = list(runs.groupby(["task", "quality"], sort=True))
        for (task, quality), group in groups:
            if len(group) < 2:
                raise CannotJudge(f"{what} has {len(group)} run on {task}/{quality} (seeds "
                                  f"{format_seeds(group['seed'])}); a bootstrap CI needs at least 2: run more "
                                  "seeds" + ("" if self.split.shared else " or select on fewer"))
        strata = [g["normalized_score"].to_numpy(np.float64) for _, g in groups]
        statistic = metric_function(self.metric)
        resampled = pooled_strata_resamples(strata, reps=self.reps, rng=self.rng)
        return statistic(resampled[..., None]), float(statistic(np.concatenate(strata)[:, None]))

    def seeds_needed(self, code: int, groups: Sequence[pd.DataFrame], judge: Judge) -> str:
        """Seeds per configuration that would make the claim decisive (selection seeds included)."""
        if code != INCONCLUSIVE:
            return "-"
        pooled = [g["normalized_score"].to_numpy(np.float64) for g in groups]
        n = seeds_for_decision(groups=pooled, judge=judge, metric=self.metric,
                               n_start=min(map(len, pooled)) + 1, config=self.power)
        extra = 0 if self.split.shared else len(self.split.select)
        return f"> {self.power.cap + extra}" if n is None else str(n + extra)


def judged(kind: object, code: int, *, statistic: str, estimate: float, ci_low: float, ci_high: float,
           n_seeds: int, seeds_needed: str, note: str = "") -> ClaimVerdict:
    """A kind's verdict before analysis.claims names it and says how settings were chosen."""
    return ClaimVerdict(name="", kind=str(kind), verdict=VERDICT_NAMES[int(code)], statistic=statistic,
                        estimate=float(estimate), ci_low=float(ci_low), ci_high=float(ci_high), n_seeds=int(n_seeds),
                        seeds_needed=seeds_needed, note=note)
