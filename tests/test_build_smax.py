"""SMAX dataset builder: schema-valid files, deterministic for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from omiga.data.io import load_dataset
from omiga.errors import UnknownNameError
from omiga.tasks import build_dataset


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("smax")
    paths = [build_dataset("smac_corridor", quality="medium", episodes=3, seed=5, path=root / f"{i}.h5")
             for i in range(2)]
    return [load_dataset(p) for p in paths]


def test_small_build_is_schema_valid(built):
    data = built[0]
    assert data.attrs.task == "smac_corridor" and data.attrs.quality == "medium"
    assert data.attrs.source == "built" and data.attrs.seed == 5 and data.attrs.n_episodes == 3
    assert data.attrs.backend == "smax" and "backend" not in data.attrs.behavior
    assert "SMAX scenario corridor" in data.attrs.behavior and "epsilon=0.3" in data.attrs.behavior
    assert data.obs.shape[1:] == (6, 387) and data.state.shape[1:] == (360,)
    assert data.actions.dtype == np.int64 and data.avail_actions.dtype == np.bool_
    taken = np.take_along_axis(data.avail_actions, data.actions[..., None], axis=-1)
    assert taken.all()
    assert (data.terminals | data.truncations).sum() == 3
    returns = data.episode_returns
    assert returns.shape == (3,) and (returns >= 0).all() and (returns <= 20 + 1e-4).all()
    assert data.attrs.return_mean == pytest.approx(returns.mean(), rel=1e-6)


def test_same_seed_gives_identical_arrays(built):
    first, second = built
    for name, value in first.arrays().items():
        np.testing.assert_array_equal(value, second.arrays()[name], err_msg=name)


def test_unknown_quality_is_named(tmp_path):
    with pytest.raises(UnknownNameError, match="'expert'"):
        build_dataset("smac_corridor", quality="expert", episodes=1, seed=0, path=tmp_path / "x.h5")
