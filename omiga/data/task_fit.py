"""Whether a dataset fits its task's environment: checked before training or importing, never after.

A dataset whose shapes the environment does not share trains to the end and then fails in evaluation, the
first time the policy meets the environment. :func:`check_dataset_fits_task` compares, before any work, the
dataset with one environment of its task (built once, with one slot): the number of agents, the observation and
state sizes, the action kind and count (discrete: ``avail_actions``' width; continuous: ``act_dim``), and the
agent-id layout (an environment that puts a one-hot agent id in its observations, such as toy_coop, names the
columns in ``agent_id_columns``; the dataset must hold the same one-hot there, agents in the same order).

Datasets of unregistered tasks (synthetic data) have nothing to be checked against; neither do backends that are
not installed here (the check is skipped: evaluation on them would fail on its own, with the install hint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omiga.data.schema import OfflineDataset
from omiga.errors import DatasetError, UnknownNameError

__all__ = ["EnvShape", "check_dataset_fits_task", "dataset_fit_problems", "env_shape"]


@dataclass(frozen=True)
class EnvShape:
    """What a dataset of a task must share with the task's environment."""

    backend: str
    n_agents: int
    obs_dim: int
    state_dim: int
    discrete: bool
    n_actions: int | None
    act_dim: int | None
    agent_id_columns: slice | None


_SHAPES: dict[tuple[str, str], EnvShape] = {}


def env_shape(task: str, *, backend: str | None = None) -> EnvShape | None:
    """The shape of one environment of ``task`` on ``backend`` (default: the task's), None when the task is not
    registered or the backend is not installed here. Built once per task and backend."""
    from omiga.tasks import backend_available, get_task, make_vector_env, resolve_backend

    try:
        spec = get_task(task)
    except UnknownNameError:
        return None
    name = resolve_backend(spec, backend)
    if not backend_available(name):
        return None
    if (spec.name, name) not in _SHAPES:
        env = make_vector_env(spec, n_envs=1, seed=0, backend=name)
        try:
            _SHAPES[spec.name, name] = EnvShape(
                backend=name, n_agents=int(env.n_agents), obs_dim=int(env.obs_dim), state_dim=int(env.state_dim),
                discrete=bool(env.discrete), n_actions=None if env.n_actions is None else int(env.n_actions),
                act_dim=None if env.act_dim is None else int(env.act_dim),
                agent_id_columns=getattr(env, "agent_id_columns", None))
        finally:
            close = getattr(env, "close", None)
            if callable(close):
                close()
    return _SHAPES[spec.name, name]


def _id_layout_problem(dataset: OfflineDataset, columns: slice) -> str | None:
    n_agents = dataset.n_agents
    ids = dataset.obs[:, :, columns]
    if ids.shape[-1] != n_agents:
        return None  # the obs size already differs; that problem is reported
    wrong = np.flatnonzero((ids != np.eye(n_agents, dtype=ids.dtype)).any(axis=(1, 2)))
    if not wrong.size:
        return None
    start, stop = columns.indices(dataset.obs_dim)[:2]
    return (f"obs columns {start}..{stop - 1} must hold the one-hot agent id (agent i has a 1 in column "
            f"{start} + i), but {wrong.size} steps differ, the first step {int(wrong[0])}: the agents are permuted "
            "or their ids are elsewhere in the observation")


def dataset_fit_problems(dataset: OfflineDataset, shape: EnvShape) -> list[str]:
    """Every way ``dataset`` differs from an environment of ``shape`` (empty: it fits)."""
    problems = []
    for name in ("n_agents", "obs_dim", "state_dim"):
        have, want = getattr(dataset, name), getattr(shape, name)
        if have != want:
            problems.append(f"{name} is {have}, the environment's is {want}")
    if dataset.discrete != shape.discrete:
        kind = "discrete" if dataset.discrete else "continuous"
        problems.append(f"actions are {kind}, the environment's are {'discrete' if shape.discrete else 'continuous'}")
    elif shape.discrete and dataset.n_actions != shape.n_actions:
        problems.append(f"n_actions (avail_actions' width) is {dataset.n_actions}, the environment's is "
                        f"{shape.n_actions}")
    elif not shape.discrete and dataset.act_dim != shape.act_dim:
        problems.append(f"act_dim is {dataset.act_dim}, the environment's is {shape.act_dim}")
    if not problems and shape.agent_id_columns is not None:
        problem = _id_layout_problem(dataset, shape.agent_id_columns)
        if problem:
            problems.append(problem)
    return problems


def check_dataset_fits_task(dataset: OfflineDataset, *, where: object = "the dataset", task: str | None = None,
                            backend: str | None = None) -> None:
    """Raise `DatasetError` listing every mismatch between ``dataset`` and an environment of ``task``
    (default: the dataset's own task attribute) on ``backend`` (default: the dataset's, if the task has it)."""
    from omiga.tasks import get_task

    task = task or dataset.attrs.task
    try:
        spec = get_task(task)
    except UnknownNameError:
        return
    if backend is None and dataset.attrs.backend in spec.backends:
        backend = dataset.attrs.backend
    shape = env_shape(spec.name, backend=backend)
    if shape is None:
        return
    problems = dataset_fit_problems(dataset, shape)
    if problems:
        raise DatasetError(f"{where} does not fit task {spec.name} (backend {shape.backend}): "
                           + "; ".join(problems) + ". Build the dataset with `python -m omiga datasets build --task "
                           f"{spec.name}`, or import data recorded on this task (`datasets import --task ...`)")
