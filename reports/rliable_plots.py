"""Figures drawn by ``rliable.plot_utils`` on our own matplotlib Figures (no pyplot state, Agg canvas).

- :func:`plot_performance_profiles`: ``plot_utils.plot_performance_profiles`` with CI bands, per quality; at
  most :data:`MAX_CURVES` configurations (those with the largest area under the profile).
- :func:`plot_probability_of_improvement`: ``plot_utils.plot_probability_of_improvement`` of the best
  configuration (highest across-task IQM) over every other, per quality.
- :func:`plot_learning_curves`: ``plot_utils.plot_sample_efficiency_curve``: IQM against training step with CI
  bands, per quality; at most :data:`MAX_CURVES` configurations (those with the highest final IQM).
Group labels never hold commas (analysis.scores), which rliable's pair labels would split on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rliable import plot_utils

__all__ = ["MAX_CURVES", "empty_figure", "plot_learning_curves", "plot_performance_profiles",
           "plot_probability_of_improvement"]

MAX_CURVES = 8
_PAIR = " > "
_DECORATION = {"labelsize": 9, "ticklabelsize": 8}


def empty_figure(message: str) -> Figure:
    """A small figure saying why there is nothing to draw."""
    figure = Figure(figsize=(6, 1.5))
    figure.text(0.5, 0.5, message, ha="center", va="center")
    return figure


def _colors(groups: list[str]) -> dict[str, tuple[float, float, float]]:
    import seaborn as sns

    return dict(zip(groups, sns.color_palette("colorblind", n_colors=max(1, len(groups))), strict=False))


def _top(values: pd.Series, keep: Sequence[str] = ()) -> list[str]:
    """The groups of ``keep`` present in ``values``, then the largest ``values`` (ties by name) up to
    :data:`MAX_CURVES` in all, in name order."""
    ranked = values.rename_axis("group").reset_index(name="value").sort_values(["value", "group"],
                                                                               ascending=[False, True])
    kept = [g for g in map(str, ranked["group"]) if g in set(keep)]
    rest = [g for g in map(str, ranked["group"]) if g not in set(keep)]
    return sorted(kept + rest[:max(0, MAX_CURVES - len(kept))])


def _legend(ax, shown: int, total: int, title: str):
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(title + (f": best {shown} of {total}" if shown < total else ""), fontsize=10)


def _panels(qualities: list[str], *, height: float, width: float = 9) -> list:
    figure = Figure(figsize=(width, height * len(qualities)), layout="constrained")
    return figure, list(figure.subplots(len(qualities), 1, squeeze=False)[:, 0])


def _quality_panels(table: pd.DataFrame) -> tuple[Figure, list[tuple[object, str, pd.DataFrame]]]:
    """A figure with one 3.5-inch panel per quality of ``table``: (figure, [(axes, quality, its rows)])."""
    qualities = sorted(set(table["quality"]))
    figure, axes = _panels(qualities, height=3.5)
    return figure, [(ax, q, table.loc[table["quality"] == q]) for ax, q in zip(axes, qualities, strict=True)]


def plot_performance_profiles(profiles: pd.DataFrame) -> Figure:
    """Fraction of runs with normalised score > τ, with CI bands, one panel per quality."""
    if profiles.empty:
        return empty_figure("no performance profiles")
    figure, panels = _quality_panels(profiles)
    for ax, quality, sub in panels:
        area = sub.groupby("group", sort=True)["fraction"].mean()
        by_group = {str(g): frame for g, frame in sub.groupby("group", sort=True) if str(g) in _top(area)}
        taus = next(iter(by_group.values()))["tau"].to_numpy()
        plot_utils.plot_performance_profiles(
            {g: f["fraction"].to_numpy() for g, f in by_group.items()}, taus,
            performance_profile_cis={g: (f["ci_low"].to_numpy(), f["ci_high"].to_numpy()) for g, f in by_group.items()},
            ax=ax, colors=_colors(list(by_group)), xlabel="normalised score τ", ylabel="fraction of runs > τ",
            **_DECORATION)
        _legend(ax, len(by_group), len(area), f"Performance profiles ({quality})")
    return figure


def _best_versus_rest(improvement: pd.DataFrame, best: str) -> pd.DataFrame:
    rows = improvement.loc[(improvement["x"] == best) | (improvement["y"] == best)]
    flipped = rows["y"] == best
    out = rows.copy()
    out.loc[flipped, ["x", "y"]] = rows.loc[flipped, ["y", "x"]].to_numpy()
    out.loc[flipped, "estimate"] = 1 - rows.loc[flipped, "estimate"]
    out.loc[flipped, "ci_low"] = 1 - rows.loc[flipped, "ci_high"]
    out.loc[flipped, "ci_high"] = 1 - rows.loc[flipped, "ci_low"]
    return out


def plot_probability_of_improvement(improvement: pd.DataFrame, *, estimates: pd.DataFrame) -> Figure:
    """P(best > Y) with CIs for every other configuration Y, one panel per quality.

    ``estimates`` (analysis.interval_estimates) picks the best: the highest across-task IQM of each quality.
    """
    if improvement.empty:
        return empty_figure("fewer than two configurations: no probability of improvement")
    iqm = estimates.loc[(estimates["task"] == "all") & (estimates["metric"] == "iqm")]
    qualities = sorted(set(improvement["quality"]) & set(iqm["quality"]))
    if not qualities:
        return empty_figure("no configuration ran on every task: no probability of improvement")
    others = max(len(set(sub["x"]) | set(sub["y"])) for _, sub in improvement.groupby("quality")) - 1
    height = max(2.0, 0.3 * others + 1.2)
    figure, axes = _panels(qualities, height=height, width=8)
    for ax, quality in zip(axes, qualities, strict=True):
        ranked = iqm.loc[iqm["quality"] == quality].sort_values(["estimate", "group"], ascending=[False, True])
        pairs = _best_versus_rest(improvement.loc[improvement["quality"] == quality], str(ranked["group"].iloc[0]))
        keys = [f"{x}{_PAIR}{y}" for x, y in zip(pairs["x"], pairs["y"], strict=True)]
        plot_utils.plot_probability_of_improvement(
            dict(zip(keys, pairs["estimate"], strict=True)),
            {k: np.array([lo, hi]) for k, lo, hi in zip(keys, pairs["ci_low"], pairs["ci_high"], strict=True)},
            pair_separator=_PAIR, ax=ax, xlabel="P(X > Y) (normalised scores)", **_DECORATION)
        ax.set_xlim(0, 1)
        ax.set_title(f"Probability of improvement of the best configuration ({quality})", fontsize=10)
    return figure


def plot_learning_curves(bands: pd.DataFrame, *, keep: Sequence[str] = ()) -> Figure:
    """IQM over runs against training step with 95% CI bands, one panel per quality (analysis.learning_curve_bands).

    ``keep``: groups always drawn (the baselines' reference rows, e.g. ``bc``), beside the best by final IQM.
    """
    if bands.empty:
        return empty_figure("no learning curves (the study wrote no curves table)")
    figure, panels = _quality_panels(bands)
    for ax, quality, sub in panels:
        final = sub.sort_values("step").groupby("group", sort=True)["estimate"].last()
        shown = _top(final, keep)
        colors = _colors(shown)
        for group in shown:
            line = sub.loc[sub["group"] == group].sort_values("step")
            plot_utils.plot_sample_efficiency_curve(
                line["step"].to_numpy(), {group: line["estimate"].to_numpy()},
                {group: np.stack([line["ci_low"].to_numpy(), line["ci_high"].to_numpy()])}, algorithms=[group],
                colors=colors, ax=ax, xlabel="training step",
                ylabel=f"IQM of {sub['value'].iloc[0].replace('_', ' ')}", **_DECORATION)
        _legend(ax, len(shown), len(final), f"Learning curves ({quality}), by final IQM"
                + (f" (with {', '.join(k for k in keep if k in shown)})" if any(k in shown for k in keep) else ""))
    return figure
