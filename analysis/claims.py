"""Claims about a study and their verdicts: supported, refuted or inconclusive, judged by bootstrap CIs.

Claims arrive as plain dicts (the study layer parses them from TOML ``[[claims]]`` tables). Kinds — keys other
than those listed are errors:

- ``{"kind": "beats", "a": {"method": "omiga", ...}}`` — method A (at its best setting) beats each baseline
  (each other method in scope, or ``"baselines": ["bc", ...]``, each at its own best setting). The candidate
  settings are each method's configurations (``tune = "all"``, the default; or a list of columns). Pairs
  A − B are judged like ``improves``; supported when A beats every baseline, refuted when some baseline is
  significantly better. With ``"aggregate": "every_quality"`` (and optionally ``"margin": 0.02``) this is the
  paper's robustness across qualities: "A ≥ the baselines on every quality".
- ``{"kind": "improves", "a": SELECTOR, "b": SELECTOR}`` — a's metric is higher than b's (CI of the difference
  above 0). Without ``tune`` each side pools every run its selector matches; with ``"tune": ["alpha"]`` each
  side is compared at its own best α (the temperature confound of the global-information ablation).
- ``{"kind": "ranks", "order": ["omiga", "bc"], "by": "method", "where": SELECTOR}`` — the values of ``by``
  rank in that order; each adjacent pair is judged like ``improves``.
- ``{"kind": "sensitivity", "factor": "alpha", "within": 0.1, "where": SELECTOR}`` — every level of the factor
  (or those in ``"range": [lo, hi]``) scores within ``within`` (relative, one-sided) of the best level; the
  note names the near-best range (analysis.sensitivity).
- ``{"kind": "interaction", "a": SELECTOR, "b": SELECTOR, "factor": "quality", "levels": [X, Y]}`` — a's
  advantage over b is larger at level X than at level Y: the CI of the difference of differences
  (a − b at X) − (a − b at Y) lies above 0 (analysis.interaction; a level may pool several qualities).
- ``{"kind": "robust", "factor": FACTOR, "within": 0.1, "where": SELECTOR}`` — the older two-sided form of
  ``sensitivity`` over a configuration column, on shared seeds. ``factor = "quality"`` is refused: it tests
  invariance to the data's quality, which nobody claims; use ``beats`` with ``aggregate = "every_quality"``.

Optional on every kind: ``task`` and ``quality`` (restrict to one; default all), ``metric`` (``iqm`` default,
``mean`` or ``median``), ``name`` (a label for the report), ``aggregate`` (``pooled``, the default: one
verdict over all qualities, strata resampled separately; ``every_quality``: supported when supported on every
quality, refuted when refuted on one). Where a claim picks a setting (``beats``; ``tune``; the best level of
``sensitivity``), ``select_seeds`` (a list of seeds, or a fraction of the study's seeds, lowest first) picks it
on those seeds and judges on the others (analysis.selection); without it the claim's text says that selection
and test share seeds. ``margin`` ≥ 0 (normalised-score units) turns "beats" into "no worse by more than
margin". ``min_effect`` = δ > 0 (normalised-score units; ``beats``, ``improves``, ``ranks``) is the smallest
advantage the claim counts: a difference whose CI is not above 0 but lies wholly below δ refutes the claim
("any advantage is smaller than δ"), so a claim between two near-equal methods can be decided with a finite
number of seeds; a significant advantage below δ is still supported. SELECTOR is a dict over the
configuration columns ``method``, ``alpha`` (number), ``mixer``, ``global_info`` (bool) and any ``hp_*``
column, e.g. ``{"global_info": true}``.

Claims are judged on ``normalized_score`` (comparable across tasks), resampling runs within each
task × quality stratum. A claim over several qualities gets one verdict per quality (``scope`` = the quality)
followed by its aggregate (``scope`` = ``"all"``); :func:`evaluate_claim` returns the aggregate. Each verdict
carries the statistic, estimate, CI, number of runs (smallest group) and, when inconclusive, the seeds per
configuration a bootstrap power analysis expects to make it decisive (analysis.power; selection seeds
included). A claim whose CI allows the opposite is never supported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.bootstrap import DEFAULT_BOOTSTRAP_REPS
from analysis.claim_scope import (
    ALL_QUALITIES,
    ClaimScope,
    ClaimVerdict,
    describe_selector,
    is_config_column,
    select_runs,
)
from analysis.comparisons import beats_arms, beats_baselines, combine_codes, comparison_arms, judge_pairs
from analysis.errors import ClaimError
from analysis.interaction import check_interaction, describe_interaction, judge_interaction, spans_qualities
from analysis.judgement import VERDICT_NAMES
from analysis.power import PowerConfig
from analysis.scores import CONFIG_COLUMNS
from analysis.selection import ALL_SETTINGS, CannotJudge, format_seeds, split_seeds, validate_select_seeds
from analysis.sensitivity import SENSITIVITY_COLUMNS, judge_robust, judge_sensitivity

__all__ = ["AGGREGATES", "CLAIM_KINDS", "ROBUST_FACTORS", "ClaimVerdict", "evaluate_claim", "evaluate_claim_rows",
           "evaluate_claims", "select_runs", "sensitivity_table", "validate_claim", "verdicts_table"]

CLAIM_KINDS = {"beats": {"a"}, "improves": {"a", "b"}, "ranks": {"order"}, "sensitivity": {"factor", "within"},
               "robust": {"factor", "within"}, "interaction": {"a", "b", "factor", "levels"}}
_OPTIONAL = {"beats": {"baselines", "tune", "select_seeds", "margin", "min_effect"},
             "improves": {"tune", "select_seeds", "margin", "min_effect"},
             "interaction": {"tune", "select_seeds", "margin"},
             "ranks": {"by", "where", "tune", "select_seeds", "margin", "min_effect"},
             "sensitivity": {"where", "range", "select_seeds"},
             "robust": {"where"}}
_COMMON = {"kind", "task", "quality", "metric", "name", "aggregate"}
_CLAIM_METRICS = ("iqm", "mean", "median")
AGGREGATES = ("pooled", "every_quality")
"""How a claim over several qualities is aggregated: pooled over them, or required on every one."""
ROBUST_FACTORS = CONFIG_COLUMNS
"""Columns a robust or sensitivity claim may vary (and any ``hp_*`` column)."""
_QUALITY_FACTOR = ("{kind} claim factor 'quality' tests invariance to the data's quality, which nobody claims "
                   "(poorer data must score lower); to claim that a method stays ahead of the baselines on every "
                   "quality write kind = \"beats\", a = {{method = \"omiga\"}}, aggregate = \"every_quality\"")


def _check_selector(selector: object, *, key: str) -> dict[str, object]:
    if not isinstance(selector, Mapping):
        raise ClaimError(f"claim {key} must be a table such as {{global_info = true}}, got {selector!r}")
    unknown = sorted(c for c in selector if not is_config_column(c))
    if unknown:
        raise ClaimError(f"claim {key} selects on {unknown}: select on {', '.join(CONFIG_COLUMNS)} or hp_* columns")
    for column, value in selector.items():  # strictly typed: "false" is not false
        _check_scalar(f"claim {key}.{column}", value, _selector_types(column))
    return dict(selector)


_SELECTOR_TYPES = {"alpha": (int, float), "global_info": (bool,)}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a number", float: "a number"}


def _selector_types(column: str) -> tuple[type, ...]:
    return _SELECTOR_TYPES.get(column, (str, int, float) if column.startswith("hp_") else (str,))


def _check_scalar(key: str, value: object, types: tuple[type, ...]) -> None:
    """ClaimError unless ``value`` is one of ``types`` (a bool is not a number, a string not a bool)."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        wanted = " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
        raise ClaimError(f"{key} must be {wanted}, got {value!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_options(kind: str, claim: Mapping[str, object]) -> None:
    if claim.get("aggregate", "pooled") not in AGGREGATES:
        raise ClaimError(f"claim aggregate={claim['aggregate']!r}: use one of {', '.join(AGGREGATES)}")
    if "select_seeds" in claim:
        validate_select_seeds(claim["select_seeds"])
    margin = claim.get("margin", 0.0)
    if not _is_number(margin) or not 0 <= margin < 1:  # type: ignore[operator]
        raise ClaimError(f"{kind} claim margin={margin!r}: give a normalised-score margin in [0, 1), e.g. 0.02")
    min_effect = claim.get("min_effect", 0.0)
    if not _is_number(min_effect) or not 0 <= min_effect < 1:  # type: ignore[operator]
        raise ClaimError(f"{kind} claim min_effect={min_effect!r}: give the smallest advantage that counts, a "
                         "normalised-score difference in [0, 1), e.g. 0.1")
    if min_effect and margin:
        raise ClaimError(f"{kind} claim gives both margin={margin!r} (no worse than) and min_effect={min_effect!r} "
                         "(better by at least): they ask different questions, keep one")
    tune = claim.get("tune", [])
    if tune != ALL_SETTINGS and (isinstance(tune, str) or not isinstance(tune, Sequence)
                                 or not all(is_config_column(c) and c != "method" for c in tune)):
        raise ClaimError(f"{kind} claim tune={tune!r}: give \"all\" or a list of configuration columns other "
                         "than method, e.g. [\"alpha\"]")


def _check_kind(kind: str, claim: Mapping[str, object]) -> None:
    if kind == "beats":
        if "method" not in claim["a"]:  # type: ignore[operator]
            raise ClaimError("beats claim a names no method: write e.g. a = {method = \"omiga\"}")
        baselines = claim.get("baselines", ["-"])
        if isinstance(baselines, str) or not isinstance(baselines, Sequence) or not baselines \
                or claim["a"]["method"] in baselines:  # type: ignore[index]
            raise ClaimError(f"beats claim baselines={baselines!r}: give a list of other methods, e.g. [\"bc\"]")
    if kind == "interaction":
        check_interaction(claim)
    if kind in ("robust", "sensitivity"):
        if claim["factor"] == "quality":
            raise ClaimError(_QUALITY_FACTOR.format(kind=kind))
        if not is_config_column(claim["factor"]):
            raise ClaimError(f"{kind} claim factor {claim['factor']!r}: use one of {', '.join(ROBUST_FACTORS)} "
                             "or an hp_* column")
        within = claim["within"]
        if not _is_number(within) or not 0 < within < 1:  # type: ignore[operator]
            raise ClaimError(f"{kind} claim within={within!r}: give a fraction in (0, 1), e.g. 0.1")
    bounds = claim.get("range", [0, 0])
    if isinstance(bounds, str) or not isinstance(bounds, Sequence) or len(bounds) != 2 \
            or not all(map(_is_number, bounds)) or bounds[0] > bounds[1]:
        raise ClaimError(f"sensitivity claim range={bounds!r}: give [low, high] numbers with low <= high")
    if kind == "ranks":
        order = claim["order"]
        if isinstance(order, str) or not isinstance(order, Sequence) or len(order) < 2:
            raise ClaimError(f"ranks claim order={order!r}: give a list of at least two values")
        for value in order:
            _check_scalar("ranks claim order item", value, (str, int, float, bool))
        if not is_config_column(claim.get("by", "method")):
            raise ClaimError(f"ranks claim by={claim['by']!r}: use one of {', '.join(CONFIG_COLUMNS)}")


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
    _check_options(kind, claim)
    _check_kind(kind, claim)


def _tunes(claim: Mapping[str, object]) -> bool:
    """Does the claim pick a setting (so selection seeds matter)?"""
    if claim["kind"] == "sensitivity":
        return True
    if claim["kind"] == "beats":
        return claim.get("tune", ALL_SETTINGS) != []
    return bool(claim.get("tune"))


def _tune_text(claim: Mapping[str, object]) -> str:
    tune = claim.get("tune", ALL_SETTINGS if claim["kind"] == "beats" else [])
    if not tune:
        return ""
    return ", each at its own best " + ("setting" if tune == ALL_SETTINGS else " and ".join(tune))  # type: ignore[arg-type]


def _min_effect_text(claim: Mapping[str, object]) -> str:
    min_effect = float(claim.get("min_effect", 0.0))  # type: ignore[arg-type]
    return f" (an advantage below {min_effect:g} counts as none)" if min_effect else ""


def _statement(claim: Mapping[str, object], scope: ClaimScope, *, per_quality: bool = False) -> str:
    kind = claim["kind"]
    if kind == "beats":
        baselines = ", ".join(beats_baselines(scope, claim)) or "none"
        margin = float(claim.get("margin", 0.0))  # type: ignore[arg-type]
        verb = "beats" if margin == 0 else f"is no worse by more than {margin:g} than"
        text = f"{describe_selector(claim['a'])} {verb} each baseline ({baselines})"  # type: ignore[arg-type]
        text += _min_effect_text(claim)
    elif kind == "improves":
        text = f"{describe_selector(claim['a'])} improves on {describe_selector(claim['b'])}"  # type: ignore[arg-type]
        text += _min_effect_text(claim)
    elif kind == "ranks":
        text = f"{claim.get('by', 'method')} ranks " + " > ".join(map(str, claim["order"]))  # type: ignore[arg-type]
        text += _min_effect_text(claim)
    elif kind == "interaction":
        text = describe_interaction(claim)
    elif kind == "sensitivity":
        where = describe_selector(claim.get("where", {}))  # type: ignore[arg-type]
        text = f"{where} {claim['factor']} within {float(claim['within']):.0%} of the best {claim['factor']}"  # type: ignore[arg-type]
        if "range" in claim:
            low, high = claim["range"]  # type: ignore[misc]
            text += f" for {claim['factor']} in [{low:g}, {high:g}]"
    else:
        text = f"robust to {claim['factor']} within {float(claim['within']):.0%}"  # type: ignore[arg-type]
    if claim.get("aggregate") == "every_quality" and not per_quality:
        text += " on every quality"
    return text + _tune_text(claim)


def _name(claim: Mapping[str, object], scope: ClaimScope, quality: str | None) -> str:
    base = str(claim.get("name") or _statement(claim, scope, per_quality=quality is not None))
    where = " ".join(str(claim[k]) for k in ("task", "quality") if k in claim)
    if where and not claim.get("name"):
        base += f" ({where})"
    return base + (f" [{quality}]" if quality is not None else "")


def _judge(scope: ClaimScope, claim: Mapping[str, object], scope_name: str) -> tuple[ClaimVerdict, list[str]]:
    kind = claim["kind"]
    margin = float(claim.get("margin", 0.0))  # type: ignore[arg-type]
    min_effect = float(claim.get("min_effect", 0.0))  # type: ignore[arg-type]
    if kind in ("improves", "ranks", "beats"):
        arms, pairs, chosen = beats_arms(scope, claim) if kind == "beats" else comparison_arms(scope, claim)
        return judge_pairs(scope, arms, pairs, kind=kind, margin=margin, min_effect=min_effect), chosen
    if kind == "sensitivity":
        return judge_sensitivity(scope, claim, scope_name)[0], []
    if kind == "interaction":
        return judge_interaction(scope, claim)
    return judge_robust(scope, claim), []


def _cannot(claim: Mapping[str, object], name: str, reason: CannotJudge, *, scope: str = ALL_QUALITIES,
            selection: str = "") -> ClaimVerdict:
    return ClaimVerdict(name=name, kind=str(claim["kind"]), verdict="inconclusive", statistic="none",
                        estimate=float("nan"), ci_low=float("nan"), ci_high=float("nan"), n_seeds=0,
                        seeds_needed="unknown", note=f"cannot judge: {reason}", scope=scope, selection=selection)


def _selection_text(scope: ClaimScope, claim: Mapping[str, object], chosen: Sequence[str]) -> str:
    if not _tunes(claim):
        return ""
    if chosen or claim["kind"] == "sensitivity":
        return scope.split.describe()
    return "" if scope.split.shared else f"judged on seeds {format_seeds(scope.split.test)} only"


def _verdict(scope: ClaimScope, claim: Mapping[str, object], *, quality: str | None) -> ClaimVerdict:
    name = _name(claim, scope, quality)
    scope_name = quality or ALL_QUALITIES
    try:
        judged, chosen = _judge(scope, claim, scope_name)
    except CannotJudge as reason:
        selection = _selection_text(scope, claim, ["?"])
        return _cannot(claim, name + (f" ({selection})" if selection else ""), reason, scope=scope_name,
                       selection=selection)
    selection = _selection_text(scope, claim, chosen)
    notes = [judged.note] if judged.note else []
    if chosen:
        notes.append("settings chosen: " + "; ".join(chosen))
    return replace(judged, name=name + (f" ({selection})" if selection else ""), note="; ".join(notes),
                   scope=scope_name, selection=selection)


def _every_quality(rows: Sequence[ClaimVerdict], name: str) -> ClaimVerdict:
    codes = [{v: k for k, v in VERDICT_NAMES.items()}[r.verdict] for r in rows]
    code = int(combine_codes([np.array(c) for c in codes]))
    weakest = min(rows, key=lambda r: r.ci_low if np.isfinite(r.ci_low) else -np.inf)
    needed = "-"
    if code == 0:
        undecided = [r.seeds_needed for r in rows if r.verdict == "inconclusive"]
        numbers = [int(n) for n in undecided if n.isdigit()]
        needed = (next((n for n in undecided if n == "unknown"), None)
                  or next((n for n in undecided if n.startswith(">")), None) or str(max(numbers)))
    return ClaimVerdict(name=name, kind=weakest.kind, verdict=VERDICT_NAMES[code],
                        statistic=f"{weakest.statistic} on the weakest quality ({weakest.scope})",
                        estimate=weakest.estimate, ci_low=weakest.ci_low, ci_high=weakest.ci_high,
                        n_seeds=min(r.n_seeds for r in rows), seeds_needed=needed, note=weakest.note,
                        scope=ALL_QUALITIES, selection=weakest.selection)


def _scope(scores: pd.DataFrame, claim: Mapping[str, object], *, reps: int, seed: int,
           power: PowerConfig | None) -> ClaimScope:
    validate_claim(claim)
    all_runs = scores
    for key in ("task", "quality"):
        if key in claim:
            all_runs = all_runs.loc[all_runs[key] == str(claim[key])]
            if all_runs.empty:
                raise ClaimError(f"claim {key}={claim[key]!r} matches no run: use a {key} of the scores table")
    split = split_seeds(all_runs["seed"].dropna().astype(int).tolist(),
                        claim.get("select_seeds") if _tunes(claim) else None)
    return ClaimScope(runs=all_runs.loc[all_runs["status"] == "ok"], all_runs=all_runs,
                      metric=str(claim.get("metric", "iqm")), reps=reps, rng=np.random.RandomState(seed),
                      split=split, power=power or PowerConfig())


def _fresh(scope: ClaimScope, seed: int) -> ClaimScope:
    return replace(scope, rng=np.random.RandomState(seed))


def evaluate_claim_rows(scores: pd.DataFrame, claim: Mapping[str, object], *,
                        reps: int = DEFAULT_BOOTSTRAP_REPS // 4, seed: int = 0,
                        power: PowerConfig | None = None) -> list[ClaimVerdict]:
    """Judge one claim per quality (when it spans several) and then overall; the last row is the aggregate.

    Every row draws its bootstrap from a fresh ``RandomState(seed)``, so the aggregate equals
    :func:`evaluate_claim`'s.
    """
    try:
        scope = _scope(scores, claim, reps=reps, seed=seed, power=power)
    except CannotJudge as reason:
        return [_cannot(claim, str(claim.get("name") or claim["kind"]), reason)]
    qualities = scope.qualities
    rows = []
    if len(qualities) > 1 and not spans_qualities(claim):
        rows = [_verdict(_fresh(scope.restrict(q), seed), claim, quality=q) for q in qualities]
    if claim.get("aggregate") == "every_quality" and rows:
        return [*rows, _every_quality(rows, _name(claim, scope, None) + _suffix(rows))]
    return [*rows, _verdict(_fresh(scope, seed), claim, quality=None)]


def _suffix(rows: Sequence[ClaimVerdict]) -> str:
    selection = next((r.selection for r in rows if r.selection), "")
    return f" ({selection})" if selection else ""


def evaluate_claim(scores: pd.DataFrame, claim: Mapping[str, object], *, reps: int = DEFAULT_BOOTSTRAP_REPS // 4,
                   seed: int = 0, power: PowerConfig | None = None) -> ClaimVerdict:
    """Judge one claim (schema in the module docstring) on a table from :func:`analysis.scores.load_scores`.

    Returns the aggregate verdict over the claim's qualities; :func:`evaluate_claim_rows` adds one per quality.
    """
    validate_claim(claim)
    if claim.get("aggregate") == "every_quality":
        return evaluate_claim_rows(scores, claim, reps=reps, seed=seed, power=power)[-1]
    try:
        scope = _scope(scores, claim, reps=reps, seed=seed, power=power)
    except CannotJudge as reason:
        return _cannot(claim, str(claim.get("name") or claim["kind"]), reason)
    return _verdict(scope, claim, quality=None)


def evaluate_claims(scores: pd.DataFrame, claims: Sequence[Mapping[str, object]], *,
                    reps: int = DEFAULT_BOOTSTRAP_REPS // 4, seed: int = 0,
                    power: PowerConfig | None = None, by_quality: bool = True) -> list[ClaimVerdict]:
    """Judge every claim; each claim is validated first, so a bad one fails before any work.

    With ``by_quality`` (the default) a claim over several qualities yields its per-quality rows followed by
    its aggregate (:func:`evaluate_claim_rows`); otherwise one aggregate row per claim.
    """
    for index, claim in enumerate(claims):
        try:
            validate_claim(claim)
        except ClaimError as error:
            raise ClaimError(f"claim {index + 1}: {error}") from None
    if not by_quality:
        return [evaluate_claim(scores, claim, reps=reps, seed=seed, power=power) for claim in claims]
    return [row for claim in claims for row in evaluate_claim_rows(scores, claim, reps=reps, seed=seed, power=power)]


def sensitivity_table(scores: pd.DataFrame, claim: Mapping[str, object], *,
                      reps: int = DEFAULT_BOOTSTRAP_REPS // 4, seed: int = 0) -> pd.DataFrame:
    """Per level of a ``sensitivity`` claim's factor, per quality and overall (``scope`` "all"): its metric with
    CI, its ratio to the best level with CI, and its role (best, near, far, undecided, no test run).

    Columns :data:`analysis.sensitivity.SENSITIVITY_COLUMNS`. A scope that cannot be judged has no rows.
    """
    if not isinstance(claim, Mapping) or claim.get("kind") != "sensitivity":
        raise ClaimError("sensitivity_table needs a claim of kind \"sensitivity\"")
    scope = _scope(scores, claim, reps=reps, seed=seed, power=None)
    scopes = [(q, scope.restrict(q)) for q in scope.qualities] if len(scope.qualities) > 1 else []
    rows: list[dict[str, object]] = []
    for name, part in [*scopes, (ALL_QUALITIES, scope)]:
        try:
            rows += judge_sensitivity(_fresh(part, seed), claim, name)[1]
        except CannotJudge:
            continue
    return pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))


def verdicts_table(verdicts: Sequence[ClaimVerdict]) -> pd.DataFrame:
    """The verdicts as a table, one row per claim and scope, columns named after :class:`ClaimVerdict` fields."""
    columns = list(ClaimVerdict.__dataclass_fields__)
    return pd.DataFrame([[getattr(v, c) for c in columns] for v in verdicts], columns=columns)
