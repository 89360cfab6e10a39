"""Coverage diagnostics against closed forms on hand-built action arrays (omiga.data.coverage)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omiga.data.coverage import (
    coverage_diagnostics,
    dataset_coverage,
    plugin_conditional_entropy,
    plugin_conditional_mutual_information,
    plugin_entropy,
    state_cells,
)


def test_plugin_entropy_closed_forms():
    assert plugin_entropy(np.array([5, 5])) == pytest.approx(math.log(2))
    assert plugin_entropy(np.array([3, 0, 3, 3, 3])) == pytest.approx(math.log(4))
    assert plugin_entropy(np.array([7])) == 0.0
    p = np.array([0.5, 0.25, 0.25])
    assert plugin_entropy(p * 8) == pytest.approx(-(p * np.log(p)).sum())


def test_mutual_information_of_copies_products_and_cells():
    x = np.repeat(np.arange(4), 4)  # with y = tile: the exact product of two uniforms
    assert plugin_conditional_mutual_information(x, np.tile(np.arange(4), 4)) == pytest.approx(0.0, abs=1e-12)
    assert plugin_conditional_mutual_information(x, x) == pytest.approx(math.log(4))
    # cell 0: y copies x (I = log 2); cell 1: independent (I = 0); equal weights -> log(2) / 2
    cells = np.array([0] * 4 + [1] * 4)
    xs = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    ys = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    assert plugin_conditional_mutual_information(xs, ys, cells) == pytest.approx(math.log(2) / 2)
    # pooled, x and y are dependent only through the cell: given the cell they are independent
    x2, y2 = np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert plugin_conditional_mutual_information(x2, y2) == pytest.approx(math.log(2))
    assert plugin_conditional_mutual_information(x2, y2, cells) == pytest.approx(0.0, abs=1e-12)
    # H(X | C): cell 0 uniform on 2, cell 1 constant
    assert plugin_conditional_entropy(np.array([0, 1, 2, 2]), np.array([0, 0, 1, 1])) == pytest.approx(math.log(2) / 2)


def test_state_cells_are_deterministic_sign_hashes():
    state = np.random.RandomState(3).standard_normal((500, 7)).astype(np.float32)
    cells = state_cells(state)
    np.testing.assert_array_equal(cells, state_cells(state.copy()))
    assert cells.min() >= 0 and cells.max() < 64 and len(np.unique(cells)) > 32
    assert (state_cells(np.ones((10, 3))) == state_cells(np.ones((10, 3)))[0]).all()  # constant state: one cell
    flipped = state_cells(-state)  # -z flips every sign bit
    np.testing.assert_array_equal(flipped, 63 - cells)


def _episode_arrays(actions: np.ndarray, avail: np.ndarray, *, lengths, rewards=None, state=None) -> dict:
    steps = len(actions)
    ends = np.cumsum(lengths) - 1
    terminals = np.zeros(steps, bool)
    terminals[ends] = True
    return {"state": np.zeros((steps, 2), np.float32) if state is None else state, "actions": actions,
            "avail_actions": avail, "rewards": np.ones(steps, np.float32) if rewards is None else rewards,
            "terminals": terminals, "truncations": np.zeros(steps, bool)}


def test_coverage_fraction_entropy_and_starts():
    steps = 6
    avail = np.zeros((steps, 2, 3), bool)
    avail[:, 0, :] = True        # agent 0: actions 0, 1, 2 available; takes 0 and 1
    avail[:, 1, :2] = True       # agent 1: actions 0, 1 available; takes only 0
    actions = np.stack([np.array([0, 1, 0, 1, 0, 1]), np.zeros(steps, int)], axis=1)
    rewards = np.array([1, 2, 3, 0, 0, 10], np.float32)
    d = coverage_diagnostics(**_episode_arrays(actions, avail, lengths=[3, 2, 1], rewards=rewards))
    assert d.action_coverage == pytest.approx(3 / 5)  # (2 + 1) taken of (3 + 2) offered
    assert d.state_action_coverage == pytest.approx(0.5 * 2 / 3 + 0.5 * 1 / 2)  # one cell: the constant state
    assert d.state_cells == 1
    assert d.action_entropy == pytest.approx((math.log(2) + 0.0) / 2)
    assert d.action_mi == pytest.approx(0.0, abs=1e-12)  # agent 1 is constant
    assert d.episodes == 3 and d.episodes_per_start == 3.0  # every episode starts in the same (zero) state
    np.testing.assert_allclose([d.return_mean, d.return_min, d.return_max, d.return_median], [16 / 3, 0, 10, 6])
    assert d.return_std == pytest.approx(np.std([6, 0, 10]))


def test_a_dead_agent_counts_nowhere():
    avail = np.zeros((4, 2, 3), bool)
    avail[:, 0] = True
    avail[:, 1, 2] = True  # agent 1 is dead: its only action is 2
    actions = np.stack([np.array([0, 1, 2, 0]), np.full(4, 2)], axis=1)
    d = coverage_diagnostics(**_episode_arrays(actions, avail, lengths=[4]))
    assert d.action_coverage == pytest.approx(1.0) and math.isnan(d.action_mi)  # no pair is ever both alive
    assert d.action_entropy == pytest.approx(plugin_entropy(np.array([2, 1, 1])))


def test_coordinated_agents_show_excess_information_and_independent_ones_none():
    rng = np.random.RandomState(0)
    steps = 4000
    avail = np.ones((steps, 3, 4), bool)
    independent = rng.randint(0, 4, size=(steps, 3))
    shared = np.repeat(rng.randint(0, 4, size=(steps, 1)), 3, axis=1)
    state = rng.standard_normal((steps, 5)).astype(np.float32)
    free = coverage_diagnostics(**_episode_arrays(independent, avail, lengths=[steps], state=state))
    tied = coverage_diagnostics(**_episode_arrays(shared, avail, lengths=[steps], state=state))
    assert abs(free.action_mi_excess) < 0.01 and free.action_mi < 0.1
    copied = plugin_conditional_entropy(shared[:, 0], state_cells(state))  # I(X; X | C) = H(X | C)
    assert tied.action_mi == pytest.approx(copied) and copied > 1.3 and tied.action_mi_excess > 1.0


def test_continuous_data_has_returns_but_no_action_measures(continuous_dataset, discrete_dataset):
    d = dataset_coverage(continuous_dataset)
    assert math.isnan(d.action_coverage) and math.isnan(d.action_mi)
    assert d.return_mean == pytest.approx(float(continuous_dataset.episode_returns.mean()))
    assert d.episodes == continuous_dataset.attrs.n_episodes
    assert 0 < dataset_coverage(discrete_dataset).action_coverage <= 1
