"""Power-law fits on exact and noisy power laws (analysis.scaling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import ScoresTableError
from analysis.scaling import power_law_fit


def test_an_exact_power_law_is_recovered_per_group_and_measure():
    n = np.array([5, 10, 20, 40])
    table = pd.concat([pd.DataFrame({"members": m, "n_agents": n, "rate": 3000.0 * m * n ** -1.5,
                                     "memory": 2.0 * n ** 2}) for m in (1, 4)], ignore_index=True)
    fits = power_law_fit(table, x="n_agents", y=["rate", "memory"], by=["members"])
    assert list(fits["measure"]) == ["rate", "memory", "rate", "memory"]
    np.testing.assert_allclose(fits["exponent"], [-1.5, 2.0, -1.5, 2.0])
    np.testing.assert_allclose(fits["prefactor"], [3000.0, 2.0, 12000.0, 2.0])
    np.testing.assert_allclose(fits["r_squared"], 1.0)
    np.testing.assert_allclose(fits["exponent_se"], 0.0, atol=1e-12)
    assert (fits["n_points"] == 4).all()


def test_the_standard_error_is_the_ols_one_and_two_points_have_none():
    x, noise = np.array([1.0, 2.0, 4.0, 8.0]), np.array([0.05, -0.05, -0.05, 0.05])
    fit = power_law_fit(pd.DataFrame({"x": x, "y": x ** 0.5 * np.exp(noise)}), x="x", y="y").iloc[0]
    lx = np.log(x)
    slope, intercept = np.polyfit(lx, 0.5 * lx + noise, 1)
    residual = 0.5 * lx + noise - (intercept + slope * lx)
    expected_se = np.sqrt((residual ** 2).sum() / 2 / ((lx - lx.mean()) ** 2).sum())
    assert fit["exponent"] == pytest.approx(slope) and fit["exponent_se"] == pytest.approx(expected_se)
    two = power_law_fit(pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 12.0]}), x="x", y="y").iloc[0]
    assert two["exponent"] == pytest.approx(2.0) and np.isnan(two["exponent_se"])


def test_bad_tables_are_named():
    with pytest.raises(ScoresTableError, match="lacks column\\(s\\) y"):
        power_law_fit(pd.DataFrame({"x": [1, 2]}), x="x", y="y")
    with pytest.raises(ScoresTableError, match="every value must be > 0"):
        power_law_fit(pd.DataFrame({"x": [1, 2], "y": [0.0, 1.0]}), x="x", y="y")
    with pytest.raises(ScoresTableError, match="two distinct sizes"):
        power_law_fit(pd.DataFrame({"x": [2, 2], "y": [1.0, 3.0]}), x="x", y="y")
