"""Checks of the canonical dataset schema, each problem named precisely with its fix.

:func:`validate_dataset` returns a list of human-readable problems (empty means valid). Structural problems
(missing fields, wrong dtype or rank, mismatched lengths) are reported first; content checks (NaN/inf,
episode boundaries, action ranges and masks) run only on structurally sound arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from omiga.data.returns import episode_returns

__all__ = ["REQUIRED_ATTRS", "SCHEMA_VERSION", "validate_arrays", "validate_dataset"]

SCHEMA_VERSION = 1

REQUIRED_ATTRS: tuple[str, ...] = (
    "task", "quality", "source", "behavior", "schema_version", "n_episodes",
    "return_mean", "return_std", "return_min", "return_max",
)

# field -> (allowed ranks, dtype), for the fields whose dtype does not depend on the action kind
_FIXED_FIELDS: dict[str, tuple[tuple[int, ...], type]] = {
    "obs": ((3,), np.float32),
    "state": ((2,), np.float32),
    "rewards": ((1,), np.float32),
    "terminals": ((1,), np.bool_),
    "truncations": ((1,), np.bool_),
    "avail_actions": ((3,), np.bool_),
}
_REQUIRED_FIELDS = ("obs", "state", "actions", "rewards", "terminals", "truncations")


def validate_dataset(arrays: Mapping[str, np.ndarray | None], *, attrs: Mapping[str, object]) -> list[str]:
    """Problems of a dataset given as its arrays and attributes (an empty list means valid).

    ``arrays`` maps field names (obs, state, actions, avail_actions, rewards, terminals, truncations) to
    arrays; ``avail_actions`` may be absent or None for continuous actions. ``attrs`` holds the HDF5
    attributes (task, quality, source, behavior, seed, backend, schema_version, n_episodes, return statistics);
    ``backend`` may be absent (files written before it was stored) but not empty.
    """
    problems = _attr_problems(attrs) + validate_arrays(arrays, attrs=attrs)
    if not problems:
        problems = _return_stat_problems(arrays["rewards"], arrays["terminals"] | arrays["truncations"], attrs)
    return problems


def validate_arrays(arrays: Mapping[str, np.ndarray | None], *, attrs: Mapping[str, object]) -> list[str]:
    """Problems of the arrays alone; ``attrs['n_episodes']`` is cross-checked when present.

    Unlike :func:`validate_dataset` it does not require the attributes nor compare the stored return
    statistics with the rewards (an in-memory dataset may carry transformed rewards, e.g. reward-to-go).
    """
    problems = _structure_problems(arrays)
    if problems:
        return problems
    problems += _finite_problems(arrays)
    problems += _episode_problems(arrays["terminals"], arrays["truncations"], attrs.get("n_episodes"))
    problems += _action_problems(arrays["actions"], arrays.get("avail_actions"))
    return problems


def _return_stat_problems(rewards: np.ndarray, is_end: np.ndarray, attrs: Mapping[str, object]) -> list[str]:
    """Stored return statistics that disagree with the rewards (stale or hand-edited attributes)."""
    returns = episode_returns(rewards, is_end)
    recomputed = {"return_mean": returns.mean(), "return_std": returns.std(), "return_min": returns.min(),
                  "return_max": returns.max()}
    problems = []
    for name, value in recomputed.items():
        stored = attrs.get(name)
        if isinstance(stored, (int, float)) and not np.isclose(stored, value, rtol=1e-5, atol=1e-5):
            problems.append(f"attribute {name} = {stored:.6g} but the rewards give {value:.6g}: the attributes "
                            "are stale; rebuild or re-import the dataset")
    return problems


def _attr_problems(attrs: Mapping[str, object]) -> list[str]:
    problems = [
        f"missing attribute {name!r}: rebuild or re-import the dataset, or set it with "
        f"h5py (f.attrs[{name!r}] = ...)"
        for name in REQUIRED_ATTRS if name not in attrs
    ]
    backend = attrs.get("backend")  # optional: schema_version 1 files written before it was stored lack it
    if backend is not None and (not isinstance(backend, str) or not backend):
        problems.append(f"attribute 'backend' = {backend!r} must be a non-empty string naming the environment "
                        "backend (smax, sc2, mamujoco, toy): rebuild or re-import the dataset")
    version = attrs.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        problems.append(
            f"unknown schema_version {version!r}: this omiga reads schema_version {SCHEMA_VERSION}; "
            "rebuild or re-import the dataset with this version"
        )
    return problems


def _structure_problems(arrays: Mapping[str, np.ndarray | None]) -> list[str]:
    problems = [
        f"missing dataset {name!r}: every dataset needs {', '.join(_REQUIRED_FIELDS)}"
        for name in _REQUIRED_FIELDS if arrays.get(name) is None
    ]
    if problems:
        return problems
    actions, avail = arrays["actions"], arrays.get("avail_actions")
    discrete = actions.ndim == 2
    for name, (ranks, dtype) in _FIXED_FIELDS.items():
        array = arrays.get(name)
        if array is not None:
            problems += _dtype_rank_problems(name, array, ranks, dtype)
    if actions.ndim not in (2, 3):
        problems.append(
            f"field 'actions' has rank {actions.ndim} (shape {actions.shape}), expected [T, N] int64 for "
            "discrete or [T, N, act_dim] float32 for continuous actions"
        )
    else:
        problems += _dtype_rank_problems("actions", actions, (actions.ndim,), np.int64 if discrete else np.float32)
        if discrete and avail is None:
            problems.append("missing dataset 'avail_actions': discrete actions need an [T, N, A] bool mask")
        if not discrete and avail is not None:
            problems.append("field 'avail_actions' is set but actions are continuous: drop avail_actions")
    if problems:
        return problems
    return _shape_problems(arrays)


def _dtype_rank_problems(name: str, array: np.ndarray, ranks: tuple[int, ...], dtype: type) -> list[str]:
    problems = []
    if array.ndim not in ranks:
        problems.append(f"field {name!r} has rank {array.ndim} (shape {array.shape}), expected rank {ranks[0]}")
    if array.dtype != dtype:
        problems.append(
            f"field {name!r} has dtype {array.dtype}, expected {np.dtype(dtype)}: convert it with "
            f".astype(np.{np.dtype(dtype).name})"
        )
    return problems


def _shape_problems(arrays: Mapping[str, np.ndarray | None]) -> list[str]:
    present = {name: arrays[name] for name in (*_FIXED_FIELDS, "actions") if arrays.get(name) is not None}
    n_steps = arrays["rewards"].shape[0]
    problems = [
        f"field {name!r} has {array.shape[0]} steps but 'rewards' has {n_steps}: every field needs the same T"
        for name, array in present.items() if array.shape[0] != n_steps
    ]
    if n_steps == 0:
        problems.append("the dataset has no steps (T = 0): build or import at least one episode")
    n_agents = arrays["obs"].shape[1]
    for name in ("actions", "avail_actions"):
        array = present.get(name)
        if array is not None and array.shape[1] != n_agents:
            problems.append(f"field {name!r} has {array.shape[1]} agents (shape {array.shape}) but 'obs' has "
                            f"{n_agents}: every per-agent field needs the same N")
    return problems


def _finite_problems(arrays: Mapping[str, np.ndarray | None]) -> list[str]:
    problems = []
    for name in ("obs", "state", "rewards", "actions"):
        array = arrays[name]
        if array.dtype.kind != "f":
            continue
        bad = ~np.isfinite(array)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            problems.append(
                f"field {name!r} has {int(bad.sum())} NaN/inf values, the first at index {list(index)} "
                f"(value {array[index]}): drop or repair those steps"
            )
    return problems


def _episode_problems(terminals: np.ndarray, truncations: np.ndarray, n_episodes: object) -> list[str]:
    both = np.flatnonzero(terminals & truncations)
    problems = [
        (f"step {int(both[0])} has both terminals and truncations set ({both.size} such steps): an episode "
        "ends either in a terminal state or by truncation; clear one of the two flags")
    ] if both.size else []
    ends = np.flatnonzero(terminals | truncations)
    n_steps = terminals.shape[0]
    if ends.size == 0:
        return problems + [
            (f"episodes never end: no step of {n_steps} has terminals or truncations set; mark the last step "
            "of every episode (terminals for a true end, truncations for a time limit)")
        ]
    if ends[-1] != n_steps - 1:
        problems.append(
            f"steps {int(ends[-1]) + 1}..{n_steps - 1} come after the last episode end (step {int(ends[-1])}) "
            f"and belong to no complete episode: drop them or set truncations[{n_steps - 1}] = True"
        )
    if n_episodes is not None and not isinstance(n_episodes, (int, np.integer)):
        problems.append(f"attribute n_episodes = {n_episodes!r} is not an integer: rebuild or re-import the dataset")
    elif n_episodes is not None and int(n_episodes) != ends.size:
        problems.append(
            f"attribute n_episodes = {int(n_episodes)} but the terminals/truncations flags mark {ends.size} "
            "episode ends: an episode is missing its end flag (or n_episodes is stale); mark the last step of "
            "every episode"
        )
    return problems


def _action_problems(actions: np.ndarray, avail: np.ndarray | None) -> list[str]:
    if avail is None:
        outside = np.abs(actions) > 1.0
        if not outside.any():
            return []
        step, agent, dim = (int(i) for i in np.argwhere(outside)[0])
        return [
            (f"continuous actions must lie in [-1, 1]: {int(outside.sum())} values outside, the first "
            f"actions[{step}, {agent}, {dim}] = {actions[step, agent, dim]:.6g}; rescale actions to [-1, 1]")
        ]
    n_actions = avail.shape[2]
    out_of_range = (actions < 0) | (actions >= n_actions)
    if out_of_range.any():
        step, agent = (int(i) for i in np.argwhere(out_of_range)[0])
        return [
            (f"discrete action ids must lie in 0..{n_actions - 1}: {int(out_of_range.sum())} out of range, the "
            f"first actions[{step}, {agent}] = {int(actions[step, agent])}")
        ]
    problems = []
    taken_available = np.take_along_axis(avail, actions[..., None], axis=2)[..., 0]
    if not taken_available.all():
        step, agent = (int(i) for i in np.argwhere(~taken_available)[0])
        problems.append(
            f"{int((~taken_available).sum())} actions are unavailable under avail_actions, the first at step "
            f"{step}, agent {agent}: action {int(actions[step, agent])} is masked out; fix the mask or the action"
        )
    return problems
