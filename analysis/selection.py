"""Tuned settings chosen without bias: pick the best setting on selection seeds, judge it on the other seeds.

A claim about "OMIGA at its best α" is biased upwards when the α is picked on the same runs that judge it: with
noise, the lucky setting wins the selection and its luck counts as skill. :func:`split_seeds` divides a study's
seeds into selection seeds and test seeds (``select_seeds`` of a claim: a list of seeds, or a fraction of the
study's seeds, lowest first); :func:`select_setting` picks, within each task × quality stratum, the setting
whose metric on the selection seeds is highest and returns that setting's runs on the test seeds. Without
``select_seeds`` both sets are all seeds, and :meth:`SeedSplit.describe` says the selection is optimistic.
Seeds are decided from the seed values alone (the scores table has no seed-role column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import ClaimError
from analysis.metrics import metric_function

__all__ = ["ALL_SETTINGS", "CannotJudge", "SeedSplit", "format_seeds", "select_setting", "setting_labels",
           "split_seeds", "tuned_runs", "validate_select_seeds"]

ALL_SETTINGS = "all"
"""``tune = "all"``: every configuration (``group``) of an arm is a candidate setting."""


class CannotJudge(Exception):
    """The study's runs cannot judge a claim (a group has no ok run, no test seed, a single level...)."""


def format_seeds(seeds: Sequence[int]) -> str:
    """Seeds as compact text: ``0-2, 5``."""
    values = sorted(set(int(s) for s in seeds))
    parts: list[str] = []
    start = previous = None
    for value in values + [None]:  # type: ignore[list-item]
        if start is not None and value is not None and value == previous + 1:  # type: ignore[operator]
            previous = value
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = value
    return ", ".join(parts)


@dataclass(frozen=True)
class SeedSplit:
    """Which seeds pick a tuned setting and which judge it."""

    select: tuple[int, ...]
    """Seeds whose runs choose the setting."""
    test: tuple[int, ...]
    """Seeds whose runs judge the claim (equal to ``select`` when no split was asked for)."""

    def __post_init__(self) -> None:
        if not self.select or not self.test:
            raise ClaimError("a seed split needs at least one selection seed and one test seed")
        if not self.shared and set(self.select) & set(self.test):
            raise ClaimError(f"selection seeds {format_seeds(self.select)} and test seeds "
                             f"{format_seeds(self.test)} overlap: a seed either selects or tests")

    @property
    def shared(self) -> bool:
        """Selection and test use the same seeds (no split)."""
        return self.select == self.test

    def describe(self) -> str:
        """How the setting was chosen, for the claim's text."""
        if self.shared:
            return f"selected and tested on the same seeds {format_seeds(self.test)}, so optimistic"
        return f"selected on seeds {format_seeds(self.select)} and tested on seeds {format_seeds(self.test)}"


def validate_select_seeds(value: object) -> None:
    """Raise :class:`ClaimError` unless ``value`` is a list of seeds or a fraction in (0, 1)."""
    if isinstance(value, bool):
        raise ClaimError(f"select_seeds={value!r}: give a list of seeds such as [0, 1] or a fraction such as 0.4")
    if isinstance(value, float | int) and not isinstance(value, bool):
        if not 0 < value < 1:
            raise ClaimError(f"select_seeds={value!r}: a fraction must lie in (0, 1), e.g. 0.4; "
                             "or give a list of seeds such as [0, 1]")
        return
    if isinstance(value, str) or not isinstance(value, Sequence) or not value \
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        raise ClaimError(f"select_seeds={value!r}: give a non-empty list of integer seeds such as [0, 1] "
                         "or a fraction such as 0.4")


def split_seeds(seeds: Sequence[int], select_seeds: object = None) -> SeedSplit:
    """Split a study's ``seeds`` by a claim's ``select_seeds`` (None: no split, every seed does both)."""
    available = tuple(sorted(set(int(s) for s in seeds)))
    if not available:
        raise CannotJudge("the claim's scope has no runs")
    if select_seeds is None:
        return SeedSplit(select=available, test=available)
    validate_select_seeds(select_seeds)
    if isinstance(select_seeds, float | int):
        if len(available) < 2:
            raise CannotJudge(f"select_seeds={select_seeds} needs at least two seeds, the study has "
                              f"{format_seeds(available)}")
        count = min(len(available) - 1, max(1, round(float(select_seeds) * len(available))))
        chosen = available[:count]
    else:
        chosen = tuple(sorted(set(int(s) for s in select_seeds)))  # type: ignore[union-attr]
        absent = sorted(set(chosen) - set(available))
        if absent:
            raise ClaimError(f"select_seeds {format_seeds(absent)} are not seeds of this study (its seeds: "
                             f"{format_seeds(available)}): choose selection seeds among them")
        if len(chosen) == len(available):
            raise ClaimError(f"select_seeds {format_seeds(chosen)} are every seed of the study, which leaves no "
                             "seed to test on: select on fewer seeds, or run more seeds")
    return SeedSplit(select=chosen, test=tuple(s for s in available if s not in chosen))


def setting_labels(runs: pd.DataFrame, tune: object) -> pd.Series:
    """The candidate setting of each run: its ``group`` and ``hp_*`` values (tune "all"), its tuned columns'
    values, or one setting."""
    if tune == ALL_SETTINGS:
        hp = [c for c in runs.columns if str(c).startswith("hp_")]
        extra = runs.loc[:, hp].apply(lambda r: "".join(f" {c}={v}" for c, v in r.items() if not pd.isna(v)),
                                      axis=1) if hp else ""
        return runs["group"].astype(str) + extra
    columns = list(tune or [])  # type: ignore[call-overload]
    if not columns:
        return pd.Series("", index=runs.index)
    return pd.Series([" ".join(f"{c}={v}" for c, v in zip(columns, values, strict=True))
                      for values in runs.loc[:, columns].astype(object).itertuples(index=False)], index=runs.index)


def _best_setting(stratum: pd.DataFrame, labels: pd.Series, *, split: SeedSplit, statistic) -> str | None:
    """The setting (label) of ``stratum``'s ok runs whose metric on the selection seeds is highest (ties: first in
    sorted order), or None when no setting has an ok selection run."""
    settings = sorted(set(labels))
    selecting = stratum.loc[stratum["seed"].isin(split.select) & stratum["normalized_score"].notna()]
    scores = {s: selecting.loc[labels.loc[selecting.index] == s, "normalized_score"].to_numpy(np.float64)
              for s in settings}
    scored = {s: float(statistic(v[:, None])) for s, v in scores.items() if len(v)}
    return max(scored, key=lambda s: (scored[s], -settings.index(s))) if scored else None


def tuned_runs(scores: pd.DataFrame, *, select_seeds: object, metric: str = "iqm") -> tuple[pd.DataFrame,
                                                                                          pd.DataFrame]:
    """Each method at its own best setting: per method and task × quality, the setting (``group``, which names its
    ``hp_*`` values) whose ``metric`` on the selection seeds is highest, and all its runs on the test seeds (every status,
    so failures stay counted), with ``group`` set to the method. Also returns the choices (task, quality, method,
    setting, n_settings). A method with one setting keeps it; a stratum without an ok selection run takes the
    first setting in sorted order. ``scores`` is a loaded scores table (with ``group``)."""
    split = split_seeds(scores["seed"], select_seeds)
    statistic = metric_function(metric)
    picked, choices = [], []
    for (method, task, quality), stratum in scores.groupby(["method", "task", "quality"], sort=True):
        labels = stratum["group"].astype(str)  # a configuration label names its hp_* values already
        settings = sorted(set(labels))
        best = (_best_setting(stratum, labels, split=split, statistic=statistic) if len(settings) > 1 else None) \
            or settings[0]
        picked.append(stratum.loc[(labels == best) & stratum["seed"].isin(split.test)].assign(group=str(method)))
        choices.append({"task": task, "quality": quality, "method": method, "setting": best,
                        "n_settings": len(settings)})
    return pd.concat(picked, ignore_index=True), pd.DataFrame(choices)


def select_setting(runs: pd.DataFrame, *, tune: object, split: SeedSplit, metric: str,
                   what: str) -> tuple[pd.DataFrame, list[str]]:
    """Per task × quality stratum, the runs on test seeds of the setting best on the selection seeds.

    Returns those runs and one ``"task/quality setting"`` line per stratum where more than one setting competed.
    Ties go to the first setting in sorted order. Raises :class:`CannotJudge` when a stratum has no selection
    run or its chosen setting no test run.
    """
    statistic = metric_function(metric)
    labels = setting_labels(runs, tune)
    chosen_runs, chosen = [], []
    for (task, quality), stratum in runs.groupby(["task", "quality"], sort=True):
        stratum_labels = labels.loc[stratum.index]
        settings = sorted(set(stratum_labels))
        if len(settings) > 1:
            best = _best_setting(stratum, stratum_labels, split=split, statistic=statistic)
            if best is None:
                raise CannotJudge(f"{what} has no ok run on the selection seeds {format_seeds(split.select)} "
                                  f"on {task}/{quality}")
            chosen.append(f"{task}/{quality} {best}")
        else:
            best = settings[0]
        picked = stratum.loc[(stratum_labels == best) & stratum["seed"].isin(split.test)]
        if picked.empty:
            raise CannotJudge(f"{what} ({best or 'its runs'}) has no ok run on the test seeds "
                              f"{format_seeds(split.test)} on {task}/{quality}")
        chosen_runs.append(picked)
    if not chosen_runs:
        raise CannotJudge(f"{what} has no ok run")
    return pd.concat(chosen_runs), chosen
