"""Load and validate the tidy scores table (docs/interfaces.md, "Scores table").

One row per run. A *configuration* (group) is a combination of method, alpha, mixer and global_info; it gets a
readable label without commas (rliable's plots split on commas), e.g. ``"omiga α=1 linear global"`` or ``"bc"``
(``alpha``/``mixer``/``global_info`` that are empty are left out of the label). Every column whose name starts
with ``hp_`` is a method hyperparameter and a configuration column too: it is kept (as a number) and a run's
non-empty ones join its label as ``name=value`` (``"cql linear cql_alpha=5"``). Each task must come from one
backend (SMAX is not SMAC). Runs whose status is not ``ok`` keep their row: they are counted and reported as missing cells, never scored.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ScoresTableError

__all__ = [
    "CONFIG_COLUMNS",
    "REQUIRED_COLUMNS",
    "STATUSES",
    "configuration_label",
    "hyperparameter_columns",
    "load_scores",
    "ok_runs",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "task", "backend", "quality", "method", "alpha", "mixer", "global_info", "seed", "steps",
    "score", "win_rate", "normalized_score", "status",
)
CONFIG_COLUMNS: tuple[str, ...] = ("method", "alpha", "mixer", "global_info")
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed")
_TEXT_COLUMNS = ("task", "backend", "quality", "method", "mixer", "status")
_NUMERIC_COLUMNS = ("alpha", "seed", "steps", "score", "win_rate", "normalized_score")
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def _format_alpha(alpha: float) -> str:
    return f"{alpha:g}"


def hyperparameter_columns(table: pd.DataFrame) -> list[str]:
    """The ``hp_*`` columns of a scores or curves table, sorted."""
    return sorted(str(c) for c in table.columns if str(c).startswith("hp_"))


def configuration_label(*, method: str, alpha: float | None, mixer: str | None,
                        global_info: bool | None, hyperparameters: dict[str, float] | None = None) -> str:
    """Readable label of one configuration, without commas: ``"omiga α=1 linear global"``.

    ``hyperparameters`` maps ``hp_*`` column names to values; empty (NaN) ones are left out.
    """
    parts = [str(method)]
    if alpha is not None and not (isinstance(alpha, float) and math.isnan(alpha)):
        parts.append(f"α={_format_alpha(float(alpha))}")
    if mixer:
        parts.append(str(mixer))
    if global_info is not None and not pd.isna(global_info):
        parts.append("global" if bool(global_info) else "local")
    for name, value in sorted((hyperparameters or {}).items()):
        if value is not None and not pd.isna(value):
            parts.append(f"{name.removeprefix('hp_')}={_format_alpha(float(value))}")
    return " ".join(parts).replace(",", ";")


def _read_table(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if path.is_dir():
        raise ScoresTableError(f"scores table {path} is a directory: pass the scores.csv or .parquet file in it")
    if not path.is_file():
        raise ScoresTableError(f"scores table {path} does not exist: pass the path of a scores.csv or .parquet")
    if path.suffix not in (".csv", ".parquet"):
        raise ScoresTableError(f"scores table {path} has suffix {path.suffix!r}: write it as .csv or .parquet")
    try:
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except PermissionError as error:  # permission denied is not "truncated"
        raise ScoresTableError(f"scores table {path} cannot be opened: {error.strerror or error}; make it readable "
                               "(chmod / chown) or copy it somewhere readable") from None
    except Exception as error:  # noqa: BLE001 - pandas/pyarrow raise many types for an unreadable file
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise ScoresTableError(
            f"scores table {path} cannot be read as {path.suffix[1:]} ({type(error).__name__}: {detail}): it is "
            "empty, truncated or not a scores table; re-export it with `python -m studies export`") from None


def _parse_bool(value: object, *, row: int) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return pd.NA
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text == "":
        return pd.NA
    raise ScoresTableError(
        f"scores table row {row}: global_info={value!r} is not a boolean: write true or false")


MAX_MAGNITUDE = 1e15
"""Scores beyond ±1e15 overflow the bootstrap's sums (and are no return any task gives): refused."""
_RANGES = {  # column -> (test, what it must be)
    "alpha": (lambda v: v > 0, "a number > 0 (or empty for methods without α)"),
    "seed": (lambda v: (v >= 0) & (v == np.floor(v)), "a whole number >= 0"),
    "steps": (lambda v: (v >= 0) & (v == np.floor(v)), "a whole number >= 0"),
    "win_rate": (lambda v: (v >= 0) & (v <= 1), "a fraction in [0, 1] (or empty)"),
    "score": (lambda v: ~np.isfinite(v) | (np.abs(v) < MAX_MAGNITUDE), f"a finite number within ±{MAX_MAGNITUDE:g}"),
    "normalized_score": (lambda v: ~np.isfinite(v) | (np.abs(v) < MAX_MAGNITUDE),
                         f"a finite number within ±{MAX_MAGNITUDE:g}"),
}


def _check_ranges(table: pd.DataFrame) -> None:
    """ScoresTableError naming the first value outside its column's range (empty values pass)."""
    for column, (test, wanted) in _RANGES.items():
        values = table[column].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(values) & ~test(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ScoresTableError(f"scores table row {row}: {column}={values[row]:g} must be {wanted}: fix the "
                                   "row or re-export the table with `python -m studies export`")


def load_scores(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Read and validate a scores table; return a copy with typed columns and a ``group`` label column.

    Text columns become pandas ``string`` dtype, numbers ``float64`` (``seed``/``steps`` ``Int64``),
    ``global_info`` nullable ``boolean``. Raises :class:`ScoresTableError` naming the column or row and the fix.
    """
    table = _read_table(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ScoresTableError(
            f"scores table lacks column(s) {', '.join(missing)}: it needs {', '.join(REQUIRED_COLUMNS)} "
            "(docs/interfaces.md, 'Scores table')")
    if table.empty:
        raise ScoresTableError("scores table has no rows: run the study first or pass a non-empty table")
    hp_columns = hyperparameter_columns(table)
    out = table.loc[:, [*REQUIRED_COLUMNS, *hp_columns]].reset_index(drop=True)
    for column in _TEXT_COLUMNS:
        out[column] = out[column].astype("string").str.strip()
    for column in ("task", "backend", "quality", "method", "status"):
        blank = out[column].isna() | (out[column] == "")
        if blank.any():
            raise ScoresTableError(
                f"scores table row {int(np.flatnonzero(blank)[0])}: column {column} is empty: fill it in")
    for column in (*_NUMERIC_COLUMNS, *hp_columns):
        converted = pd.to_numeric(out[column], errors="coerce")
        bad = converted.isna() & out[column].notna() & (out[column].astype("string").str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ScoresTableError(
                f"scores table row {row}: {column}={out[column].iloc[row]!r} is not a number: write a number "
                "or leave it empty")
        out[column] = converted.astype("float64")
    _check_ranges(out)
    for column in ("seed", "steps"):
        if out[column].isna().any():
            raise ScoresTableError(f"scores table column {column} has empty values: every run needs its {column}")
        out[column] = out[column].astype("Int64")
    out["global_info"] = pd.array([_parse_bool(v, row=i) for i, v in enumerate(out["global_info"])],
                                  dtype="boolean")
    unknown = sorted(set(out["status"]) - set(STATUSES))
    if unknown:
        raise ScoresTableError(f"scores table has status {unknown}: status must be one of {', '.join(STATUSES)}")
    ok = out["status"] == "ok"
    for column in ("score", "normalized_score"):
        values = out.loc[ok, column]
        if values.isna().any() or not np.isfinite(values.to_numpy()).all():
            row = int(values.index[~np.isfinite(values.fillna(np.nan).to_numpy())][0])
            raise ScoresTableError(
                f"scores table row {row}: status is ok but {column} is empty or not finite: "
                "give ok runs a finite score, or mark the run diverged/failed")
    out["group"] = group_labels(out)
    backends = out.groupby("task")["backend"].nunique()
    if (backends > 1).any():
        task = str(backends.index[backends > 1][0])
        found = ", ".join(sorted(set(out.loc[out["task"] == task, "backend"])))
        raise ScoresTableError(
            f"scores table task {task} mixes backends {found}: scores from different backends are not "
            "comparable (SMAX is not SMAC); render one table per backend")
    duplicated = out.duplicated(subset=["task", "backend", "quality", "group", "seed"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise ScoresTableError(
            f"scores table row {row}: run {out.loc[row, 'group']} seed {out.loc[row, 'seed']} on "
            f"{out.loc[row, 'task']}/{out.loc[row, 'quality']} appears twice: keep one row per run")
    return out


def group_labels(table: pd.DataFrame) -> pd.Series:
    """:func:`configuration_label` of every row (method, alpha, mixer, global_info and ``hp_*`` columns)."""
    hp_columns = hyperparameter_columns(table)
    hp_rows = [dict(zip(hp_columns, values, strict=True))
               for values in table.loc[:, hp_columns].itertuples(index=False)] if hp_columns else [{}] * len(table)
    labels = [
        configuration_label(method=m, alpha=None if pd.isna(a) else a, mixer=None if pd.isna(x) else x,
                            global_info=None if pd.isna(g) else g, hyperparameters=hp)
        for m, a, x, g, hp in zip(table["method"], table["alpha"], table["mixer"], table["global_info"], hp_rows,
                                  strict=True)]
    return pd.Series(pd.array(labels, dtype="string"), index=table.index)


def ok_runs(scores: pd.DataFrame) -> pd.DataFrame:
    """The runs with status ``ok``, sorted by task, quality, group and seed."""
    ok = scores.loc[scores["status"] == "ok"]
    if ok.empty:
        raise ScoresTableError("scores table has no run with status ok: nothing can be scored; "
                               "check the study's failed runs")
    return ok.sort_values(["task", "quality", "group", "seed"], kind="stable").reset_index(drop=True)
