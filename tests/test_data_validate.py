"""Every validator failure is reported with the field, index or episode and the fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from omiga.data import load_dataset, make_synthetic_dataset, save_dataset, validate_dataset, validate_file
from omiga.errors import DatasetError

Case = Callable[[dict, dict], None]


def _base(discrete: bool = True) -> tuple[dict, dict]:
    data = make_synthetic_dataset(n_episodes=3, episode_length=4, n_agents=2, obs_dim=3, state_dim=2, seed=5,
                                  truncated_fraction=0.0, **({"n_actions": 4} if discrete else {"act_dim": 2}))
    arrays = {name: None if array is None else array.copy() for name, array in data.arrays().items()}
    return arrays, data.attrs.to_dict()


def _set(field: str, index: tuple, value) -> Case:
    def mutate(arrays: dict, attrs: dict) -> None:
        arrays[field][index] = value
    return mutate


def _both_set(arrays, attrs):
    arrays["truncations"][3] = True


def _trailing(arrays, attrs):
    for name in arrays:
        arrays[name] = np.concatenate([arrays[name], arrays[name][:2]])
    arrays["terminals"][-2:] = False


def _never_end(arrays, attrs):
    arrays["terminals"][:] = False


def _missing_end(arrays, attrs):
    arrays["terminals"][3] = False  # episodes 0 and 1 merge: 2 ends for n_episodes = 3


def _unavailable(arrays, attrs):
    arrays["avail_actions"][5, 1, arrays["actions"][5, 1]] = False


DISCRETE_CASES: dict[str, tuple[Case, str]] = {
    "missing dataset": (lambda a, t: a.pop("state"), "missing dataset 'state': every dataset needs obs, state"),
    "missing attribute": (lambda a, t: t.pop("quality"), r"missing attribute 'quality': rebuild or re-import"),
    "unknown schema_version": (lambda a, t: t.update(schema_version=7),
                               "unknown schema_version 7: this omiga reads schema_version 1"),
    "n_episodes not an integer": (lambda a, t: t.update(n_episodes="3"),
                                  "attribute n_episodes = '3' is not an integer: rebuild or re-import"),
    "stale return statistics": (lambda a, t: t.update(return_mean=99.0),
                                "attribute return_mean = 99 but the rewards give .*: the attributes are stale"),
    "wrong dtype": (lambda a, t: a.update(obs=a["obs"].astype(np.float64)),
                    r"field 'obs' has dtype float64, expected float32: convert it with \.astype\(np\.float32\)"),
    "wrong rank": (lambda a, t: a.update(state=a["state"][:, :, None]),
                   r"field 'state' has rank 3 \(shape \(12, 2, 1\)\), expected rank 2"),
    "mismatched T": (lambda a, t: a.update(state=a["state"][:-1]),
                     "field 'state' has 11 steps but 'rewards' has 12: every field needs the same T"),
    "mismatched N": (lambda a, t: a.update(actions=a["actions"][:, :1]),
                     r"field 'actions' has 1 agents \(shape \(12, 1\)\) but 'obs' has 2"),
    "discrete without mask": (lambda a, t: a.update(avail_actions=None),
                              "missing dataset 'avail_actions': discrete actions need an"),
    "NaN": (_set("obs", (4, 1, 2), np.nan),
            r"field 'obs' has 1 NaN/inf values, the first at index \[4, 1, 2\] \(value nan\)"),
    "inf": (_set("rewards", (7,), np.inf), r"field 'rewards' has 1 NaN/inf values, the first at index \[7\]"),
    "both flags": (_both_set, "step 3 has both terminals and truncations set .* clear one of the two flags"),
    "trailing steps": (_trailing, (r"steps 12\.\.13 come after the last episode end \(step 11\) .* "
                                  r"set truncations\[13\] = True")),
    "never ends": (_never_end, "episodes never end: no step of 12 has terminals or truncations set"),
    "episode without end": (_missing_end, ("attribute n_episodes = 3 but the terminals/truncations flags mark 2 "
                                          "episode ends: an episode is missing its end flag")),
    "action id out of range": (_set("actions", (6, 0), 4),
                               r"discrete action ids must lie in 0\.\.3: 1 out of range, the first actions\[6, 0\] = 4"),
    "unavailable action": (_unavailable, ("1 actions are unavailable under avail_actions, the first at step 5, "
                                         "agent 1: action .* is masked out")),
}


@pytest.mark.parametrize("name", list(DISCRETE_CASES))
def test_discrete_failure_is_named(name):
    arrays, attrs = _base()
    assert validate_dataset(arrays, attrs=attrs) == []
    mutate, message = DISCRETE_CASES[name]
    mutate(arrays, attrs)
    problems = validate_dataset(arrays, attrs=attrs)
    assert len(problems) == 1, problems
    assert re.search(message, problems[0]), problems[0]


CONTINUOUS_CASES: dict[str, tuple[Case, str]] = {
    "action outside [-1, 1]": (_set("actions", (2, 1, 0), 1.5),
                               (r"continuous actions must lie in \[-1, 1\]: 1 values outside, the first "
                               r"actions\[2, 1, 0\] = 1\.5; rescale")),
    "integer continuous actions": (lambda a, t: a.update(actions=np.zeros((12, 2, 2), np.int64)),
                                   "field 'actions' has dtype int64, expected float32"),
    "mask on continuous": (lambda a, t: a.update(avail_actions=np.ones((12, 2, 2), bool)),
                           "field 'avail_actions' is set but actions are continuous: drop avail_actions"),
    "NaN action": (_set("actions", (0, 0, 1), np.nan), (r"field 'actions' has 1 NaN/inf values, the first at "
                                                       r"index \[0, 0, 1\]")),
}


@pytest.mark.parametrize("name", list(CONTINUOUS_CASES))
def test_continuous_failure_is_named(name):
    arrays, attrs = _base(discrete=False)
    assert validate_dataset(arrays, attrs=attrs) == []
    mutate, message = CONTINUOUS_CASES[name]
    mutate(arrays, attrs)
    problems = validate_dataset(arrays, attrs=attrs)
    assert len(problems) == 1 and re.search(message, problems[0]), problems


def _corrupt_file(path: Path) -> None:
    with h5py.File(path, "r+") as file:
        actions = file["actions"][()]
        actions[2, 0] = 99
        del file["actions"]
        file["actions"] = actions


def test_load_reports_file_problems_with_the_fix(discrete_dataset_file):
    _corrupt_file(discrete_dataset_file)
    assert len(validate_file(discrete_dataset_file)) == 1
    with pytest.raises(DatasetError, match=r"discrete\.h5 is not a valid omiga dataset \(rebuild it .*\):\n  - "
                                           r"discrete action ids must lie in 0\.\.4: 1 out of range, the first "
                                           r"actions\[2, 0\] = 99"):
        load_dataset(discrete_dataset_file)


def test_file_with_wrong_schema_version_is_refused(discrete_dataset, tmp_path):
    path = save_dataset(discrete_dataset, tmp_path / "v.h5")
    with h5py.File(path, "r+") as file:
        file.attrs["schema_version"] = 2
    with pytest.raises(DatasetError, match="unknown schema_version 2"):
        load_dataset(path)
