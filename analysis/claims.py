"""Claims about a study and their verdicts: supported, refuted or inconclusive, judged by bootstrap CIs.

Claims arrive as plain dicts (the study layer parses them from TOML). Schema — keys other than those listed
are errors:

- ``{"kind": "improves", "a": SELECTOR, "b": SELECTOR}`` — a's metric is higher than b's. Statistic: the
  difference ``metric(a) - metric(b)``; supported when its CI lies above 0, refuted when below 0.
- ``{"kind": "robust", "factor": FACTOR, "within": 0.1, "where": SELECTOR}`` — every level of ``factor``
  scores within ``within`` (relative) of the best level. Statistic: each level's ratio to the best level;
  supported when every ratio's CI lies inside ``[1 - within, 1 + within]``, refuted when some CI lies wholly
  outside, else inconclusive. The reported estimate and CI are those of the worst level.
- ``{"kind": "ranks", "order": ["omiga", "bc"], "by": "method", "where": SELECTOR}`` — the values of ``by``
  rank in that order; each adjacent pair is judged like ``improves``: supported when every pair is,
  refuted when some pair is refuted. The reported statistic is the weakest pair's.

Optional on every kind: ``"task"`` and ``"quality"`` (restrict to one; default all), ``"metric"`` (``iqm``
default, ``mean`` or ``median``), ``"name"`` (a label for the report). ``where`` defaults to ``{}``;
``by`` defaults to ``"method"``. SELECTOR is a dict over the configuration columns ``method``, ``alpha``
(number), ``mixer``, ``global_info`` (bool), e.g. ``{"global_info": true}``; a group's runs are all ok runs
matching it, pooled over the other columns. FACTOR is one of those columns or ``quality`` (robustness to the
dataset's quality: every quality's score within ``within`` of the best quality's).

Claims are judged on ``normalized_score`` (comparable across tasks), resampling runs within each
task × quality stratum. Each verdict carries the statistic, estimate, CI, number of seeds (smallest group) and,
when inconclusive, the seeds per group a bootstrap power analysis expects to make it decisive
(analysis.power). A claim whose CI allows the opposite is never supported.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS, pooled_strata_resamples
from analysis.errors import ClaimError
from analysis.judgement import (
    INCONCLUSIVE,
    REFUTED,
    SUPPORTED,
    VERDICT_NAMES,
    difference_verdict,
    interval_on_last_axis,
    ratio_band_verdict,
)
from analysis.metrics import metric_function
from analysis.power import Judge, PowerConfig, seeds_for_decision
from analysis.scores import CONFIG_COLUMNS

__all__ = ["CLAIM_KINDS", "ROBUST_FACTORS", "ClaimVerdict", "evaluate_claim", "evaluate_claims", "select_runs", "validate_claim",
           "verdicts_table"]

CLAIM_KINDS = {"improves": {"a", "b"}, "robust": {"factor", "within"}, "ranks": {"order"}}
_OPTIONAL = {"improves": set(), "robust": {"where"}, "ranks": {"by", "where"}}
_COMMON = {"kind", "task", "quality", "metric", "name"}
_CLAIM_METRICS = ("iqm", "mean", "median")
ROBUST_FACTORS = (*CONFIG_COLUMNS, "quality")
"""Columns a robust claim may vary: the configuration columns and the dataset quality."""


@dataclass(frozen=True)
class ClaimVerdict:
    """The judgement of one claim."""

    name: str
    """Readable statement of the claim."""
    kind: str
    """improves | robust | ranks."""
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
    """Seeds per group expected to make the claim decisive: "-" when already decisive, "N" or "> cap"."""
    note: str = ""
    """Anything a reader must know (e.g. why no ratio could be formed)."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICT_NAMES.values():
            raise ValueError(f"verdict must be one of {sorted(VERDICT_NAMES.values())}, got {self.verdict!r}")


def _check_selector(selector: object, *, key: str) -> dict[str, object]:
    if not isinstance(selector, Mapping):
        raise ClaimError(f"claim {key} must be a table such as {{global_info = true}}, got {selector!r}")
    unknown = sorted(set(selector) - set(CONFIG_COLUMNS))
    if unknown:
        raise ClaimError(f"claim {key} selects on {unknown}: select on {', '.join(CONFIG_COLUMNS)}")
    for column, value in selector.items():  # strictly typed: "false" is not false
        _check_scalar(f"claim {key}.{column}", value, _SELECTOR_TYPES.get(column, (str,)))
    return dict(selector)


_SELECTOR_TYPES = {"alpha": (int, float), "global_info": (bool,)}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a number", float: "a number"}


def _check_scalar(key: str, value: object, types: tuple[type, ...]) -> None:
    """ClaimError unless ``value`` is one of ``types`` (a bool is not a number, a string not a bool)."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        wanted = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
        raise ClaimError(f"{key} must be {wanted}, got {value!r}")


def validate_claim(claim: Mapping[str, object]) -> None:
    """Raise :class:`ClaimError` naming the problem unless ``claim`` follows the schema above."""
    if not isinstance(claim, Mapping) or not isinstance(claim.get("kind"), str) or claim["kind"] not in CLAIM_KINDS:
        kind = claim.get("kind") if isinstance(claim, Mapping) else claim
        raise ClaimError(f"claim kind {kind!r} is unknown: use one of {', '.join(CLAIM_KINDS)}")
    kind = str(claim["kind"])
    missing = sorted(CLAIM_KINDS[kind] - set(claim))
    if missing:
        raise ClaimError(f"{kind} claim lacks {', '.join(missing)}: see analysis.claims for the schema")
    unknown = sorted(set(claim) - CLAIM_KINDS[kind] - _OPTIONAL[kind] - _COMMON)
    if unknown:
        raise ClaimError(f"{kind} claim has unknown key(s) {', '.join(unknown)}: see analysis.claims")
    for key in ("task", "quality", "metric", "name", "factor", "by"):
        if key in claim:
            _check_scalar(f"claim {key}", claim[key], (str,))
    if claim.get("metric", "iqm") not in _CLAIM_METRICS:
        raise ClaimError(f"claim metric {claim['metric']!r} is unknown: use one of {', '.join(_CLAIM_METRICS)}")
    for key in ("a", "b", "where"):
        if key in claim:
            _check_selector(claim[key], key=key)
    if kind == "robust":
        if claim["factor"] not in ROBUST_FACTORS:
            raise ClaimError(f"robust claim factor {claim['factor']!r}: use one of {', '.join(ROBUST_FACTORS)}")
        within = claim["within"]
        if isinstance(within, bool) or not isinstance(within, (int, float)) or not 0 < within < 1:
            raise ClaimError(f"robust claim within={within!r}: give a fraction in (0, 1), e.g. 0.1")
    if kind == "ranks":
        order = claim["order"]
        if isinstance(order, str) or not isinstance(order, Sequence) or len(order) < 2:
            raise ClaimError(f"ranks claim order={order!r}: give a list of at least two values")
        for value in order:
            _check_scalar("ranks claim order item", value, (str, int, float, bool))
        if claim.get("by", "method") not in CONFIG_COLUMNS:
            raise ClaimError(f"ranks claim by={claim['by']!r}: use one of {', '.join(CONFIG_COLUMNS)}")


def _matches(column: pd.Series, value: object) -> pd.Series:
    if column.name == "alpha":
        return pd.Series(np.isclose(column.to_numpy(float), float(value)), index=column.index)  # type: ignore[arg-type]
    if column.name == "global_info":
        return (column == bool(value)).fillna(False).astype(bool)
    return (column == str(value)).fillna(False).astype(bool)


def select_runs(runs: pd.DataFrame, selector: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``runs`` matching every ``column: value`` of ``selector``."""
    mask = pd.Series(True, index=runs.index)
    for column, value in selector.items():
        mask &= _matches(runs[column], value)
    return runs.loc[mask]


def _strata(runs: pd.DataFrame) -> list[np.ndarray]:
    return [g["normalized_score"].to_numpy(np.float64) for _, g in runs.groupby(["task", "quality"], sort=True)]


def _describe(selector: Mapping[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in selector.items()) or "all"


def _seeds_needed(code: int, groups: list[pd.DataFrame], judge: Judge, metric: str, power: PowerConfig) -> str:
    if code != INCONCLUSIVE:
        return "-"
    pooled = [g["normalized_score"].to_numpy(np.float64) for g in groups]
    n = seeds_for_decision(groups=pooled, judge=judge, metric=metric, n_start=min(map(len, pooled)) + 1,
                           config=power)
    return f"> {power.cap}" if n is None else str(n)


def _combine_pairs(codes: Sequence[np.ndarray]) -> np.ndarray:
    stacked = np.stack(codes)
    return np.where((stacked == SUPPORTED).all(axis=0), SUPPORTED,
                    np.where((stacked == REFUTED).any(axis=0), REFUTED, INCONCLUSIVE))


class _CannotJudge(Exception):
    """The study's runs cannot judge the claim (a selected group has no ok run; a factor has a single level)."""


@dataclass(frozen=True)
class _Context:
    runs: pd.DataFrame
    all_runs: pd.DataFrame
    metric: str
    reps: int
    rng: np.random.RandomState
    power: PowerConfig = field(default_factory=PowerConfig)

    def group(self, selector: Mapping[str, object], *, what: str) -> pd.DataFrame:
        chosen = select_runs(self.runs, selector)
        if chosen.empty and not select_runs(self.all_runs, selector).empty:
            statuses = select_runs(self.all_runs, selector)["status"].value_counts().sort_index()
            counts = ", ".join(f"{n} {status}" for status, n in statuses.items())
            raise _CannotJudge(f"{what} ({_describe(selector)}) has no ok run ({counts})")
        if chosen.empty:
            raise ClaimError(f"claim {what} ({_describe(selector)}) selects no ok runs: check the values "
                             "against the scores table")
        return chosen

    def replicates(self, runs: pd.DataFrame) -> tuple[np.ndarray, float]:
        statistic = metric_function(self.metric)
        resampled = pooled_strata_resamples(_strata(runs), reps=self.reps, rng=self.rng)
        pooled = np.concatenate(_strata(runs))
        return statistic(resampled[..., None]), float(statistic(pooled[:, None]))


def _pairwise(ctx: _Context, groups: list[pd.DataFrame]) -> tuple[list[int], list[tuple[float, float, float]]]:
    codes, stats = [], []
    for upper, lower in itertools.pairwise(groups):
        (ra, ea), (rb, eb) = ctx.replicates(upper), ctx.replicates(lower)
        low, high = interval_on_last_axis(ra - rb)
        codes.append(int(difference_verdict(ra, rb)))
        stats.append((ea - eb, float(low), float(high)))
    return codes, stats


def _pairs_judge(replicates: list[np.ndarray], _estimates: list[np.ndarray]) -> np.ndarray:
    return _combine_pairs([difference_verdict(a, b) for a, b in itertools.pairwise(replicates)])


def _evaluate_ordered(ctx: _Context, claim: Mapping[str, object], name: str,
                      groups: list[pd.DataFrame]) -> ClaimVerdict:
    codes, stats = _pairwise(ctx, groups)
    code = int(_combine_pairs([np.array(c) for c in codes]))
    weakest = int(np.argmin([low for _, low, _ in stats]))
    estimate, low, high = stats[weakest]
    statistic = f"{ctx.metric} difference" + (f" (pair {weakest + 1} of {len(stats)})" if len(stats) > 1 else "")
    return ClaimVerdict(name=name, kind=str(claim["kind"]), verdict=VERDICT_NAMES[code], statistic=statistic,
                        estimate=estimate, ci_low=low, ci_high=high, n_seeds=min(map(len, groups)),
                        seeds_needed=_seeds_needed(code, groups, _pairs_judge, ctx.metric, ctx.power))


def _evaluate_robust(ctx: _Context, claim: Mapping[str, object], name: str) -> ClaimVerdict:
    factor, within = str(claim["factor"]), float(claim["within"])  # type: ignore[arg-type]
    runs = ctx.group(claim.get("where", {}), what="where")  # type: ignore[arg-type]
    levels = sorted(runs[factor].dropna().unique().tolist())
    if len(levels) < 2:
        raise _CannotJudge(f"{factor} has the single level {levels[0] if levels else 'none'} in this study; "
                           f"robustness to {factor} needs at least two (vary {factor} in the study)")
    groups = [select_runs(runs, {factor: level}) for level in levels]
    pairs = [ctx.replicates(g) for g in groups]
    verdict, worst, low, high = ratio_band_verdict(np.stack([r for r, _ in pairs]),
                                                   np.array([e for _, e in pairs]), within=within)
    estimates = np.array([e for _, e in pairs])
    best = int(np.argmax(estimates))
    code, worst = int(verdict), int(worst)
    note = "" if estimates[best] > 0 else "best level's estimate is not positive: ratios are undefined"

    def judge(replicates: list[np.ndarray], estimates_: list[np.ndarray]) -> np.ndarray:
        return ratio_band_verdict(np.stack(replicates), np.stack(estimates_), within=within)[0]

    return ClaimVerdict(
        name=name, kind="robust", verdict=VERDICT_NAMES[code],
        statistic=f"{ctx.metric} ratio of {factor}={levels[worst]} to best {factor}={levels[best]}",
        estimate=float(estimates[worst] / estimates[best]) if estimates[best] > 0 else float("nan"),
        ci_low=float(low), ci_high=float(high), n_seeds=min(map(len, groups)),
        seeds_needed=_seeds_needed(code, groups, judge, ctx.metric, ctx.power), note=note)


def _default_name(claim: Mapping[str, object]) -> str:
    kind = claim["kind"]
    if kind == "improves":
        text = f"{_describe(claim['a'])} improves on {_describe(claim['b'])}"  # type: ignore[arg-type]
    elif kind == "robust":
        text = f"robust to {claim['factor']} within {float(claim['within']):.0%}"  # type: ignore[arg-type]
    else:
        text = f"{claim.get('by', 'method')} ranks " + " > ".join(map(str, claim["order"]))  # type: ignore[arg-type]
    scope = " ".join(str(claim[k]) for k in ("task", "quality") if k in claim)
    return f"{text} ({scope})" if scope else text


def evaluate_claim(scores: pd.DataFrame, claim: Mapping[str, object], *, reps: int = DEFAULT_BOOTSTRAP_REPS // 4,
                   seed: int = 0, power: PowerConfig | None = None) -> ClaimVerdict:
    """Judge one claim (schema in the module docstring) on a table from :func:`analysis.scores.load_scores`."""
    validate_claim(claim)
    all_runs = scores
    for key in ("task", "quality"):
        if key in claim:
            all_runs = all_runs.loc[all_runs[key] == str(claim[key])]
            if all_runs.empty:
                raise ClaimError(f"claim {key}={claim[key]!r} matches no run: use a {key} of the scores table")
    runs = all_runs.loc[all_runs["status"] == "ok"]
    ctx = _Context(runs=runs, all_runs=all_runs, metric=str(claim.get("metric", "iqm")), reps=reps,
                   rng=np.random.RandomState(seed), power=power or PowerConfig())
    name = str(claim.get("name") or _default_name(claim))
    try:
        return _evaluate(ctx, claim, name)
    except _CannotJudge as reason:
        return ClaimVerdict(name=name, kind=str(claim["kind"]), verdict="inconclusive", statistic="none",
                            estimate=float("nan"), ci_low=float("nan"), ci_high=float("nan"), n_seeds=0,
                            seeds_needed="unknown", note=f"cannot judge: {reason}")


def _evaluate(ctx: _Context, claim: Mapping[str, object], name: str) -> ClaimVerdict:
    if claim["kind"] == "improves":
        groups = [ctx.group(claim["a"], what="a"), ctx.group(claim["b"], what="b")]  # type: ignore[arg-type]
        return _evaluate_ordered(ctx, claim, name, groups)
    if claim["kind"] == "ranks":
        where, by = dict(claim.get("where", {})), str(claim.get("by", "method"))  # type: ignore[call-overload]
        groups = [ctx.group({**where, by: value}, what=f"order value {value!r}")
                  for value in claim["order"]]  # type: ignore[union-attr]
        return _evaluate_ordered(ctx, claim, name, groups)
    return _evaluate_robust(ctx, claim, name)


def evaluate_claims(scores: pd.DataFrame, claims: Sequence[Mapping[str, object]], *,
                    reps: int = DEFAULT_BOOTSTRAP_REPS // 4, seed: int = 0,
                    power: PowerConfig | None = None) -> list[ClaimVerdict]:
    """Judge every claim; each claim is validated first, so a bad one fails before any work."""
    for index, claim in enumerate(claims):
        try:
            validate_claim(claim)
        except ClaimError as error:
            raise ClaimError(f"claim {index + 1}: {error}") from None
    return [evaluate_claim(scores, claim, reps=reps, seed=seed, power=power) for claim in claims]


def verdicts_table(verdicts: Sequence[ClaimVerdict]) -> pd.DataFrame:
    """The verdicts as a table, one row per claim, columns named after :class:`ClaimVerdict` fields."""
    columns = list(ClaimVerdict.__dataclass_fields__)
    return pd.DataFrame([[getattr(v, c) for c in columns] for v in verdicts], columns=columns)
