"""Power-law fits of a cost (or score) against a size: y ≈ c · x^k by least squares on log y = log c + k log x.

Input is a tidy table (one row per measurement, e.g. the scaling benchmark's ``n_agents`` and
``member_steps_per_s`` or ``peak_mem_mb``); output one row per group: the exponent k with its ordinary
least-squares standard error (sqrt(SSR / (n − 2) / Σ (log x − mean)²), NaN with two points), the prefactor c,
R² on the log scale and the number of points. Rows with x ≤ 0 or y ≤ 0 have no logarithm and are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ScoresTableError

__all__ = ["POWER_LAW_COLUMNS", "power_law_fit"]

POWER_LAW_COLUMNS = ("measure", "exponent", "exponent_se", "prefactor", "r_squared", "n_points")


def _fit(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    lx, ly = np.log(x), np.log(y)
    centred = lx - lx.mean()
    sxx = float((centred ** 2).sum())
    if sxx == 0:
        raise ScoresTableError("a power-law fit needs at least two distinct sizes")
    slope = float((centred * (ly - ly.mean())).sum() / sxx)
    intercept = float(ly.mean() - slope * lx.mean())
    residual = ly - (intercept + slope * lx)
    ssr, sst = float((residual ** 2).sum()), float(((ly - ly.mean()) ** 2).sum())
    se = float(np.sqrt(ssr / (len(x) - 2) / sxx)) if len(x) > 2 else float("nan")
    return {"exponent": slope, "exponent_se": se, "prefactor": float(np.exp(intercept)),
            "r_squared": 1.0 - ssr / sst if sst > 0 else 1.0, "n_points": len(x)}


def power_law_fit(table: pd.DataFrame, *, x: str, y: Sequence[str] | str, by: Sequence[str] = ()) -> pd.DataFrame:
    """Fit y ≈ c · x^k for each measure column in ``y`` within each group of ``by`` (module docstring).

    Columns: the ``by`` columns, then :data:`POWER_LAW_COLUMNS` (``measure`` names the y column).
    """
    measures = [y] if isinstance(y, str) else list(y)
    missing = [c for c in [x, *measures, *by] if c not in table.columns]
    if missing:
        raise ScoresTableError(f"power-law fit: the table lacks column(s) {', '.join(missing)}")
    rows = []
    groups = table.groupby(list(by), sort=True) if by else [((), table)]
    for key, group in groups:
        for measure in measures:
            values = group[[x, measure]].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(np.float64)
            if (values <= 0).any():
                raise ScoresTableError(f"power-law fit of {measure} against {x}: every value must be > 0 (no "
                                       "logarithm otherwise)")
            labels = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
            rows.append({**labels, "measure": measure, **_fit(values[:, 0], values[:, 1])})
    return pd.DataFrame(rows, columns=[*by, *POWER_LAW_COLUMNS])
