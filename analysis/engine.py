"""The statistics engine: rliable itself, or a vectorised fast path that draws rliable's exact numbers.

Two engines compute every bootstrap interval of a report:

- ``"rliable"`` calls ``rliable.library.get_interval_estimates`` (with ``rliable.metrics``) and
  ``rliable.library.create_performance_profile``. rliable draws its bootstrap indices from NumPy's *global* RNG
  whatever ``random_state`` says, so each call runs inside :func:`analysis.bootstrap.seeded_global_rng`:
  seeded, and the caller's global state restored afterwards.
- ``"vectorised"`` (the default) draws the same indices in the same order from a private
  ``np.random.RandomState(seed)`` — one ``(n_runs, ...)`` draw per replicate, as rliable's
  ``StratifiedBootstrap`` does; for two inputs x then y per replicate, as its
  ``StratifiedIndependentBootstrap`` does — and evaluates the statistic on all replicates at once. For a fixed
  seed its estimates equal rliable's to float rounding (tests/test_analysis_engine.py checks every statistic),
  and it is about 100 times faster: on 26 configurations × 2 qualities × 5 seeds at 20,000 replicates the
  estimates take seconds instead of a quarter of an hour.

Both take score arrays shaped ``(n_runs, n_tasks, ...)`` with runs resampled within each task (and, as in
rliable, independently at every trailing index, e.g. every step of a learning curve).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

from analysis.bootstrap import percentile_bounds, seeded_global_rng, stratified_bootstrap_resamples
from analysis.errors import AnalysisError
from analysis.metrics import metric_function

__all__ = ["DEFAULT_ENGINE", "ENGINES", "IntervalArrays", "check_engine", "curve_metric_intervals", "metric_intervals",
           "performance_profile_intervals", "probability_of_improvement_intervals", "rliable_library",
           "statistic_intervals"]

ENGINES = ("vectorised", "rliable")
DEFAULT_ENGINE = "vectorised"
IntervalArrays = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(point estimates, CI lower bounds, CI upper bounds), each of shape ``(k,)``."""
_CHUNK_ELEMENTS = 4_000_000


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else a ValueError naming the valid ones."""
    if engine not in ENGINES:
        raise ValueError(f"unknown statistics engine {engine!r}: use one of {', '.join(ENGINES)}")
    return engine


def rliable_library() -> ModuleType:
    """``rliable.library``, or an AnalysisError saying which pins make it import."""
    try:
        return importlib.import_module("rliable.library")
    except (ImportError, TypeError) as error:
        raise AnalysisError(
            f"rliable.library does not import ({type(error).__name__}: {error}): rliable 1.2.0 needs arch < 8 and "
            "arch 7.2 needs pandas < 3; reinstall with `pip install -e .` (pyproject.toml pins them), or use "
            "engine='vectorised'") from None


def _rliable_metric(name: str) -> Callable[[np.ndarray], float]:
    from rliable import metrics

    functions = {"iqm": metrics.aggregate_iqm, "mean": metrics.aggregate_mean, "median": metrics.aggregate_median,
                 "optimality_gap": metrics.aggregate_optimality_gap}
    metric_function(name)  # unknown names: the error listing the valid ones
    return functions[name]


def _rliable_intervals(score_arrays: np.ndarray | list[np.ndarray], func: Callable[..., np.ndarray], *,
                       reps: int, seed: int, confidence: float) -> IntervalArrays:
    library = rliable_library()
    with seeded_global_rng(seed):
        points, intervals = library.get_interval_estimates({"x": score_arrays}, func, reps=reps,
                                                           confidence_interval_size=confidence)
    return (np.atleast_1d(np.asarray(points["x"], np.float64)), np.asarray(intervals["x"][0], np.float64),
            np.asarray(intervals["x"][1], np.float64))


def statistic_intervals(scores: np.ndarray, *, statistic: Callable[[np.ndarray], np.ndarray], reps: int, seed: int,
                        confidence: float = 0.95) -> IntervalArrays:
    """Vectorised stratified-bootstrap percentile CIs of ``statistic`` (maps ``(..., *scores.shape)`` to
    ``(..., k)``): equal to ``get_interval_estimates({"x": scores}, statistic)`` after ``np.random.seed(seed)``."""
    scores = np.asarray(scores, dtype=np.float64)
    rng = np.random.RandomState(seed)
    replicates = np.concatenate([statistic(chunk) for chunk in
                                 stratified_bootstrap_resamples(scores, reps=reps, rng=rng)])
    low, high = percentile_bounds(replicates, confidence=confidence)
    return np.atleast_1d(np.asarray(statistic(scores), np.float64)), low, high


def metric_intervals(scores: np.ndarray, *, metrics: Sequence[str], reps: int, seed: int, confidence: float = 0.95,
                     engine: str = DEFAULT_ENGINE) -> IntervalArrays:
    """Each metric of ``metrics`` (names of analysis.metrics) on a runs × tasks matrix, with its CI.

    One bootstrap serves every metric (rliable's usual ``lambda x: np.array([iqm(x), mean(x), ...])``).
    """
    check_engine(engine)
    if engine == "rliable":
        functions = [_rliable_metric(name) for name in metrics]
        return _rliable_intervals(np.asarray(scores, np.float64), lambda x: np.array([f(x) for f in functions]),
                                  reps=reps, seed=seed, confidence=confidence)
    ours = [metric_function(name) for name in metrics]
    return statistic_intervals(scores, statistic=lambda x: np.stack([f(x) for f in ours], axis=-1), reps=reps,
                               seed=seed, confidence=confidence)


def curve_metric_intervals(scores: np.ndarray, *, metric: str, reps: int, seed: int, confidence: float = 0.95,
                           engine: str = DEFAULT_ENGINE) -> IntervalArrays:
    """``metric`` at every step of a runs × tasks × steps array, with pointwise CIs: arrays ``(n_steps,)``.

    rliable's learning-curve recipe: ``get_interval_estimates`` on the 3-D array with
    ``lambda x: np.array([metric(x[..., t]) for t in steps])``.
    """
    check_engine(engine)
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 3:
        raise ValueError(f"curve scores must be runs × tasks × steps, got shape {scores.shape}")
    if engine == "rliable":
        function = _rliable_metric(metric)
        return _rliable_intervals(scores, lambda x: np.array([function(x[..., t]) for t in range(x.shape[-1])]),
                                  reps=reps, seed=seed, confidence=confidence)
    ours = metric_function(metric)
    return statistic_intervals(scores, statistic=lambda x: ours(np.moveaxis(x, -1, -3)), reps=reps, seed=seed,
                               confidence=confidence)


def _score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Fraction of runs × tasks above each τ: ``(..., n_runs, n_tasks)`` -> ``(..., len(taus))``."""
    flat = np.sort(scores.reshape(*scores.shape[:-2], -1), axis=-1)
    below = np.stack([np.searchsorted(row, taus, side="right") for row in flat.reshape(-1, flat.shape[-1])])
    n = flat.shape[-1]
    return (n - below.reshape(*flat.shape[:-1], len(taus))) / n


def performance_profile_intervals(scores: np.ndarray, *, taus: np.ndarray, reps: int, seed: int,
                                  confidence: float = 0.95, engine: str = DEFAULT_ENGINE) -> IntervalArrays:
    """Score distribution (fraction of runs above τ) of a runs × tasks matrix at each τ, with its CI.

    The rliable engine is ``rliable.library.create_performance_profile`` (score distributions).
    """
    check_engine(engine)
    taus = np.asarray(taus, dtype=np.float64)
    if engine == "rliable":
        library = rliable_library()
        with seeded_global_rng(seed):
            profiles, cis = library.create_performance_profile({"x": np.asarray(scores, np.float64)}, taus,
                                                               reps=reps, confidence_interval_size=confidence)
        return np.asarray(profiles["x"], np.float64), np.asarray(cis["x"][0]), np.asarray(cis["x"][1])
    return statistic_intervals(scores, statistic=lambda x: _score_distribution(x, taus), reps=reps, seed=seed,
                               confidence=confidence)


def _pairwise_wins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mann–Whitney P(X > Y) per task, averaged over tasks: x ``(..., n_x, T)``, y ``(..., n_y, T)`` -> ``(...)``."""
    x, y = x[..., :, None, :], y[..., None, :, :]
    return ((x > y).mean(axis=(-3, -2)) + 0.5 * (x == y).mean(axis=(-3, -2))).mean(axis=-1)


def _paired_resamples(x: np.ndarray, y: np.ndarray, *, reps: int, rng: np.random.RandomState):
    """Chunks of (x replicates, y replicates) drawn as rliable does: per replicate x's indices, then y's."""
    (n_x, n_tasks), n_y = x.shape, y.shape[0]
    columns = np.arange(n_tasks)
    chunk = max(1, _CHUNK_ELEMENTS // (n_x * n_y * n_tasks))
    for start in range(0, reps, chunk):
        size = min(chunk, reps - start)
        if n_x == n_y:  # one draw holds both, in rliable's order
            rows = rng.randint(0, n_x, size=(size, 2 * n_x, n_tasks))
            x_rows, y_rows = rows[:, :n_x], rows[:, n_x:]
        else:
            draws = [(rng.randint(0, n_x, size=(n_x, n_tasks)), rng.randint(0, n_y, size=(n_y, n_tasks)))
                     for _ in range(size)]
            x_rows, y_rows = np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])
        yield x[x_rows, columns], y[y_rows, columns]


def probability_of_improvement_intervals(x: np.ndarray, y: np.ndarray, *, reps: int, seed: int,
                                         confidence: float = 0.95, engine: str = DEFAULT_ENGINE) -> IntervalArrays:
    """P(X > Y) (``rliable.metrics.probability_of_improvement``) of runs × tasks matrices x and y, with its CI;
    x's and y's runs are resampled independently (they may differ in number)."""
    check_engine(engine)
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be runs × tasks matrices over the same tasks, got {x.shape} and {y.shape}")
    if engine == "rliable":
        from rliable import metrics

        return _rliable_intervals([x, y], lambda a, b: np.array([metrics.probability_of_improvement(a, b)]),
                                  reps=reps, seed=seed, confidence=confidence)
    rng = np.random.RandomState(seed)
    replicates = np.concatenate([_pairwise_wins(xs, ys) for xs, ys in _paired_resamples(x, y, reps=reps, rng=rng)])
    low, high = percentile_bounds(replicates[:, None], confidence=confidence)
    return np.array([float(_pairwise_wins(x, y))]), low, high
