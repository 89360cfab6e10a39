"""Coverage diagnostics of an offline dataset: which actions it contains, how stochastic and how coordinated its
behaviour is, how its returns spread and how often it repeats a start.

In-sample learners (OMIGA, IQL) can only re-weight the actions the data contain, and OMIGA's global-to-local
equivalence assumes a factorised behaviour µ_tot(a | o) = Π_i µ_i(a_i | o_i); these numbers say how far a dataset
meets both. Everything is a plug-in (empirical-frequency) estimate in nats, NumPy only, deterministic.

**States** are grouped by sign hashing of a fixed random projection (SimHash, Charikar 2002): each state column
is standardised by the dataset's own mean and standard deviation (a constant column by 1), projected on
``STATE_BITS`` = 6 Gaussian directions drawn from ``RandomState(STATE_SEED = 0)``, and the signs form the cell
id c(s) ∈ [0, 2^6). The same dataset always gives the same cells. An agent counts at step t when it is *alive*,
i.e. has more than one available action (a dead SMAX unit's only action is stop).

- ``action_coverage``: Σ_i |{a : a_i = a at some step}| / Σ_i |{a : a available to i at some step}|.
- ``state_action_coverage``: the same ratio inside each (agent, cell), averaged with weights its alive steps.
- ``action_entropy``: H(a_i | c) = Σ_c p(c) H(a_i | c) per agent, averaged over agents (0: deterministic per
  cell; log |A| at most).
- ``action_mi``: I(a_i; a_j | c) = H(a_i, c) + H(a_j, c) − H(a_i, a_j, c) − H(c) on the steps where both are
  alive, averaged over agent pairs i < j. The plug-in estimate is biased upwards by about
  (k_i − 1)(k_j − 1) / 2n per cell (Miller 1955), so ``action_mi_excess`` subtracts the same estimate after
  permuting a_j within each cell (``RandomState(STATE_SEED)``): ≈ 0 when the agents act independently given
  the cell, > 0 when they coordinate beyond it. Both are only for discrete actions (NaN otherwise).
- ``episodes_per_start``: episodes / distinct initial states (exact float32 rows of ``state`` at episode starts).
- Returns: mean, std (ddof 0, as the file's attributes), min, 10/25/50/75/90% quantiles (linear), max.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from omiga.data.returns import episode_returns

__all__ = ["DIAGNOSTIC_FIELDS", "STATE_BITS", "STATE_SEED", "CoverageDiagnostics", "coverage_diagnostics",
           "dataset_coverage", "plugin_conditional_entropy", "plugin_conditional_mutual_information",
           "plugin_entropy", "state_cells"]

STATE_BITS = 6
"""Sign bits of the state hash: at most 2^6 = 64 cells."""
STATE_SEED = 0
"""Seed of the projection directions and of the within-cell permutation."""
_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class CoverageDiagnostics:
    """The diagnostics of one dataset (module docstring); action measures are NaN for continuous actions."""

    episodes: int
    """Episodes in the dataset."""
    return_mean: float
    """Mean episode return."""
    return_std: float
    """Standard deviation (ddof 0) of episode returns."""
    return_min: float
    """Smallest episode return."""
    return_q10: float
    """10% quantile of episode returns."""
    return_q25: float
    """25% quantile."""
    return_median: float
    """Median."""
    return_q75: float
    """75% quantile."""
    return_q90: float
    """90% quantile."""
    return_max: float
    """Largest episode return."""
    episodes_per_start: float
    """Episodes per distinct initial state (1: every episode starts elsewhere)."""
    state_cells: int
    """Distinct state cells the data visit (of 2^STATE_BITS)."""
    action_coverage: float
    """Fraction of the (agent, action) pairs ever available that are ever taken."""
    state_action_coverage: float
    """Fraction of the available actions taken, per (agent, state cell), step-weighted."""
    action_entropy: float
    """Mean over agents of H(a_i | state cell), nats."""
    action_mi: float
    """Mean over agent pairs of the plug-in I(a_i; a_j | state cell), nats."""
    action_mi_excess: float
    """``action_mi`` minus its value with a_j permuted within cells (bias removed), nats."""

    def to_dict(self) -> dict[str, float | int]:
        """The fields as a plain dict (one row of a datasets summary)."""
        return asdict(self)


DIAGNOSTIC_FIELDS: tuple[str, ...] = tuple(CoverageDiagnostics.__dataclass_fields__)
"""Field names of `CoverageDiagnostics`, in order."""


def plugin_entropy(counts: np.ndarray) -> float:
    """H = −Σ p log p (nats) of the empirical distribution with ``counts`` (zeros ignored; 0 for no counts)."""
    counts = np.asarray(counts, dtype=np.float64).ravel()
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum())


def _joint_entropy(*codes: np.ndarray) -> float:
    """Plug-in entropy of the joint distribution of integer columns (each >= 0)."""
    if not len(codes[0]):
        return 0.0
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for code in codes:
        key = key * (int(code.max()) + 1) + code
    return plugin_entropy(np.unique(key, return_counts=True)[1])


def plugin_conditional_entropy(x: np.ndarray, cells: np.ndarray) -> float:
    """H(X | C) = H(X, C) − H(C), plug-in, for integer samples ``x`` and their cells."""
    x, cells = np.asarray(x, np.int64), np.asarray(cells, np.int64)
    return _joint_entropy(x, cells) - _joint_entropy(cells)


def plugin_conditional_mutual_information(x: np.ndarray, y: np.ndarray, cells: np.ndarray | None = None) -> float:
    """I(X; Y | C) = H(X, C) + H(Y, C) − H(X, Y, C) − H(C), plug-in (nats); I(X; Y) without cells."""
    x, y = np.asarray(x, np.int64), np.asarray(y, np.int64)
    c = np.zeros_like(x) if cells is None else np.asarray(cells, np.int64)
    value = _joint_entropy(x, c) + _joint_entropy(y, c) - _joint_entropy(x, y, c) - _joint_entropy(c)
    return max(0.0, value)  # rounding can leave −1e-16


def state_cells(state: np.ndarray, *, bits: int = STATE_BITS, seed: int = STATE_SEED) -> np.ndarray:
    """Cell id [T] in [0, 2^bits) of each state row [T, state_dim] (sign hash of a random projection)."""
    state = np.asarray(state, dtype=np.float64)
    std = state.std(axis=0)
    z = (state - state.mean(axis=0)) / np.where(std > 0, std, 1.0)
    directions = np.random.RandomState(seed).standard_normal((state.shape[1], bits))
    signs = (z @ directions > 0).astype(np.int64)
    return signs @ (1 << np.arange(bits, dtype=np.int64))


def _within_cell_permutation(values: np.ndarray, cells: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """``values`` permuted among the steps of each cell (a draw under conditional independence)."""
    grouped = np.argsort(cells, kind="stable")
    shuffled = np.lexsort((rng.random_sample(len(cells)), cells))
    out = values.copy()
    out[grouped] = values[shuffled]
    return out


def _return_statistics(returns: np.ndarray) -> dict[str, float]:
    quantiles = np.quantile(returns, _QUANTILES)
    names = ("return_q10", "return_q25", "return_median", "return_q75", "return_q90")
    return {"return_mean": float(returns.mean()), "return_std": float(returns.std()),
            "return_min": float(returns.min()), "return_max": float(returns.max()),
            **{name: float(q) for name, q in zip(names, quantiles)}}


def _action_measures(actions: np.ndarray, avail: np.ndarray, cells: np.ndarray) -> dict[str, float]:
    """Coverage, entropy and mutual information of discrete ``actions [T, N]`` (module docstring)."""
    _, n_agents, n_actions = avail.shape
    alive = avail.sum(axis=-1) > 1
    taken = np.zeros((n_agents, n_actions), bool)
    np.logical_or.at(taken, (np.nonzero(alive)[1], actions[alive]), True)
    offered = (avail & alive[..., None]).any(axis=0)
    coverage = taken.sum() / max(1, offered.sum())
    local, weights, entropies = [], [], []
    for i in range(n_agents):
        steps = np.flatnonzero(alive[:, i])
        if not len(steps):
            continue
        entropies.append(plugin_conditional_entropy(actions[steps, i], cells[steps]))
        for cell in np.unique(cells[steps]):
            inside = steps[cells[steps] == cell]
            used = np.zeros(n_actions, bool)
            used[actions[inside, i]] = True
            local.append(used.sum() / max(1, avail[inside, i].any(axis=0).sum()))
            weights.append(len(inside))
    rng = np.random.RandomState(STATE_SEED)
    mi, excess = [], []
    for i in range(n_agents):
        for j in range(i + 1, n_agents):
            steps = np.flatnonzero(alive[:, i] & alive[:, j])
            if len(steps) < 2:
                continue
            x, y, c = actions[steps, i], actions[steps, j], cells[steps]
            value = plugin_conditional_mutual_information(x, y, c)
            baseline = plugin_conditional_mutual_information(x, _within_cell_permutation(y, c, rng), c)
            mi.append(value)
            excess.append(value - baseline)
    mean = (lambda values: float(np.mean(values)) if values else math.nan)
    return {"action_coverage": float(coverage),
            "state_action_coverage": float(np.average(local, weights=weights)) if local else math.nan,
            "action_entropy": mean(entropies), "action_mi": mean(mi), "action_mi_excess": mean(excess)}


def coverage_diagnostics(*, state: np.ndarray, actions: np.ndarray, avail_actions: np.ndarray | None,
                         rewards: np.ndarray, terminals: np.ndarray, truncations: np.ndarray) -> CoverageDiagnostics:
    """The diagnostics of a dataset given as its arrays (schema of docs/interfaces.md; ``obs`` is not needed)."""
    ends = np.flatnonzero(np.asarray(terminals, bool) | np.asarray(truncations, bool))
    if not len(ends):
        raise ValueError("coverage diagnostics need at least one complete episode (a terminal or truncation)")
    starts = np.concatenate([[0], ends[:-1] + 1])
    is_end = np.asarray(terminals, bool) | np.asarray(truncations, bool)
    returns = episode_returns(np.asarray(rewards)[: ends[-1] + 1], is_end[: ends[-1] + 1])
    first = np.ascontiguousarray(np.asarray(state, np.float32)[starts])
    distinct = len(np.unique(first.view(np.dtype((np.void, first.dtype.itemsize * first.shape[1]))).ravel()))
    cells = state_cells(state)
    discrete = avail_actions is not None and np.asarray(actions).ndim == 2
    measures = (_action_measures(np.asarray(actions, np.int64), np.asarray(avail_actions, bool), cells)
                if discrete else dict.fromkeys(("action_coverage", "state_action_coverage", "action_entropy",
                                                "action_mi", "action_mi_excess"), math.nan))
    return CoverageDiagnostics(episodes=len(starts), **_return_statistics(returns),
                               episodes_per_start=len(starts) / distinct, state_cells=len(np.unique(cells)),
                               **measures)


def dataset_coverage(dataset) -> CoverageDiagnostics:
    """`coverage_diagnostics` of an `omiga.data.OfflineDataset`."""
    return coverage_diagnostics(state=dataset.state, actions=dataset.actions, avail_actions=dataset.avail_actions,
                                rewards=dataset.rewards, terminals=dataset.terminals,
                                truncations=dataset.truncations)
