"""Figures of a study (matplotlib, no pyplot state, Agg canvas): each function returns a Figure.

- :func:`plot_interval_estimates`: IQM, mean, median and optimality gap across tasks (normalised) with CIs.
- :func:`plot_alpha_sensitivity`: OMIGA's IQM and CI against α (log x), one line per mixer / global_info.
- :func:`plot_dataset_returns`: the histogram of each dataset's episode returns (as OG-MARL's data cards show
  them), one panel per task × quality on a shared x axis.
One panel row per dataset quality. rliable.plot_utils draws the others (reports.rliable_plots); its
``plot_interval_estimates`` makes its own pyplot figure, so this one is ours. :func:`save_figure` writes PNG
and PDF atomically, without timestamps, so two builds give identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from reports.files import write_atomic
from reports.rliable_plots import empty_figure

__all__ = ["plot_alpha_sensitivity", "plot_dataset_returns", "plot_interval_estimates", "save_figure"]

_METRIC_TITLES = {"iqm": "IQM", "mean": "Mean", "median": "Median", "optimality_gap": "Optimality gap"}


_empty = empty_figure


def plot_interval_estimates(estimates: pd.DataFrame, *, task: str = "all") -> Figure:
    """Point estimate and CI per group (rows of ``estimates`` for ``task``), one panel per quality × metric."""
    rows = estimates.loc[estimates["task"] == task]
    if rows.empty:
        return _empty(f"no estimates for task {task}")
    qualities, metrics = sorted(set(rows["quality"])), [m for m in _METRIC_TITLES if m in set(rows["metric"])]
    groups = sorted(set(rows["group"]))
    figure = Figure(figsize=(3.2 * len(metrics) + 2, 0.4 * len(groups) * len(qualities) + 1.2), layout="constrained")
    axes = figure.subplots(len(qualities), len(metrics), squeeze=False)
    for i, quality in enumerate(qualities):
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            sub = rows.loc[(rows["quality"] == quality) & (rows["metric"] == metric)].set_index("group")
            for y, group in enumerate(groups):
                if group in sub.index:
                    est = sub.loc[group]
                    ax.plot([est["ci_low"], est["ci_high"]], [y, y], linewidth=6, alpha=0.5, color=f"C{y % 10}")
                    ax.plot([est["estimate"]], [y], "|", markersize=14, color="black")
            ax.set_yticks(range(len(groups)), groups if j == 0 else [""] * len(groups))
            ax.set_title(f"{_METRIC_TITLES[metric]} ({quality})", fontsize=9)
            ax.set_xlabel("normalised score" if task == "all" else "score", fontsize=8)
    return figure


def plot_alpha_sensitivity(estimates: pd.DataFrame, *, configurations: pd.DataFrame,
                           metric: str = "iqm", task: str = "all", method: str = "omiga") -> Figure:
    """``metric`` of ``method`` and its CI against α (log x where all α > 0), one line per (mixer,
    global_info), one panel per quality.

    ``configurations`` maps each group label to its columns (group, method, alpha, mixer, global_info).
    """
    rows = estimates.loc[(estimates["task"] == task) & (estimates["metric"] == metric)]
    merged = rows.merge(configurations.drop_duplicates("group"), on="group").dropna(subset=["alpha"])
    merged = merged.loc[merged["method"] == method]
    if merged.empty:
        return _empty(f"no {method} configuration with an α: no sensitivity curve")
    qualities = sorted(set(merged["quality"]))
    figure = Figure(figsize=(6, 3.5 * len(qualities)), layout="constrained")
    axes = figure.subplots(len(qualities), 1, squeeze=False)
    alphas = merged["alpha"].to_numpy(float)
    log_scale = bool((alphas > 0).all())
    for ax, quality in zip(axes[:, 0], qualities, strict=True):
        sub = merged.loc[merged["quality"] == quality]
        lines = sub.groupby(["method", "mixer", "global_info"], dropna=False, sort=True)
        for k, (key, line) in enumerate(lines):
            line = line.sort_values("alpha")
            method, mixer, global_info = key
            label = " ".join(str(p) for p in (method, mixer) if isinstance(p, str))
            if not pd.isna(global_info):
                label += " global" if bool(global_info) else " local"
            ax.plot(line["alpha"], line["estimate"], marker="o", color=f"C{k % 10}", label=label)
            ax.fill_between(line["alpha"], line["ci_low"], line["ci_high"], color=f"C{k % 10}", alpha=0.2)
        if log_scale:
            ax.set_xscale("log")
        ax.set_xlabel("α")
        ax.set_ylabel(f"{_METRIC_TITLES.get(metric, metric)} (normalised)")
        ax.set_title(f"{method} α sensitivity ({quality})", fontsize=10)
        ax.legend(fontsize=7)
    return figure


def plot_dataset_returns(returns: pd.DataFrame, *, bins: int = 30) -> Figure:
    """Histogram of the episode returns of each task × quality (rows of a dataset returns table), with the mean
    as a dashed line; one panel per dataset, the same bin edges in every panel."""
    if returns.empty:
        return _empty("no dataset returns")
    datasets = list(returns.groupby(["task", "quality"], sort=True))
    values = returns["return"].to_numpy(float)
    edges = np.linspace(values.min(), values.max() if values.max() > values.min() else values.min() + 1, bins + 1)
    figure = Figure(figsize=(6, 1.8 * len(datasets) + 0.6), layout="constrained")
    axes = figure.subplots(len(datasets), 1, squeeze=False, sharex=True)
    for k, (ax, ((task, quality), rows)) in enumerate(zip(axes[:, 0], datasets, strict=True)):
        episode_returns = rows["return"].to_numpy(float)
        ax.hist(episode_returns, bins=edges, color=f"C{k % 10}", alpha=0.8)
        ax.axvline(episode_returns.mean(), color="black", linestyle="--", linewidth=1)
        ax.set_title(f"{task} {quality}: {len(episode_returns)} episodes, mean {episode_returns.mean():.3g}",
                     fontsize=9)
        ax.set_ylabel("episodes", fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1, 0].set_xlabel("episode return")
    return figure


def save_figure(figure: Figure, path_stem: Path) -> tuple[Path, Path]:
    """Write ``<stem>.png`` (150 dpi) and ``<stem>.pdf`` atomically, with no creation date or software version in
    them (so the same figure gives the same bytes); returns both paths."""
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None, "Creator": None}}
    paths = []
    for suffix in ("png", "pdf"):
        target = Path(path_stem).with_suffix(f".{suffix}")
        write_atomic(target, lambda tmp, fmt=suffix: figure.savefig(tmp, format=fmt, dpi=150,
                                                                    metadata=metadata[fmt]))
        paths.append(target)
    return paths[0], paths[1]
