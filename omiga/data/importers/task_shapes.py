"""What a task's environment expects of imported data: agents, action kind and sizes, observation and state sizes.

Imports are checked before anything is written (:func:`check_task_shapes`): against the task's environment
where it is installed here (:mod:`omiga.data.task_fit`), else against these tables:

- MaMuJoCo tasks: the gymnasium-robotics env in ``obs_mode="global"`` (OMIGA's transform), from
  :data:`~omiga.data.importers.mamujoco_layout.OMIGA_MAMUJOCO_LAYOUTS` (tests check it against the real env);
- SMAC tasks: the map's agents and actions (``6 + enemies``: no-op, stop, 4 moves, one attack per enemy), as
  SMAC's ``smac_maps.py`` defines them; observation and state sizes depend on the StarCraft II env's feature
  flags (the MAPPO-modified env of OMIGA's data differs from SMAC's), so they are not checked;
- the toy task: :class:`~omiga.envs.toy.ToyCoopEnv`'s local-mode sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from omiga.data.importers.mamujoco_layout import OMIGA_MAMUJOCO_LAYOUTS
from omiga.data.schema import OfflineDataset
from omiga.errors import DatasetError, UnknownNameError

__all__ = ["SMAC_MAP_UNITS", "TaskShapes", "check_task_shapes", "task_shapes"]

SMAC_MAP_UNITS: dict[str, tuple[int, int]] = {
    "smac_corridor": (6, 24), "smac_5m_vs_6m": (5, 6), "smac_6h_vs_8z": (6, 8), "smac_2c_vs_64zg": (2, 64),
}
"""SMAC task -> (allied agents, enemies), from SMAC's map registry."""


@dataclass(frozen=True)
class TaskShapes:
    """Sizes a dataset of the task must have; None where the environment does not fix them here."""

    n_agents: int
    discrete: bool
    n_actions: int | None = None
    act_dim: int | None = None
    obs_dim: int | None = None
    state_dim: int | None = None


def task_shapes(task: str) -> TaskShapes | None:
    """The sizes the environment of ``task`` expects, or None for a task this module does not know."""
    if task in OMIGA_MAMUJOCO_LAYOUTS:
        layout = OMIGA_MAMUJOCO_LAYOUTS[task]
        return TaskShapes(n_agents=layout.n_agents, discrete=False, act_dim=layout.act_dim,
                          obs_dim=layout.obs_dim, state_dim=layout.n_agents * layout.obs_dim)
    if task in SMAC_MAP_UNITS:
        agents, enemies = SMAC_MAP_UNITS[task]
        return TaskShapes(n_agents=agents, discrete=True, n_actions=6 + enemies)
    if task == "toy_coop":
        from omiga.envs.toy import ToyCoopEnv

        return TaskShapes(n_agents=ToyCoopEnv.n_agents, discrete=True, n_actions=ToyCoopEnv.n_actions,
                          obs_dim=ToyCoopEnv.obs_dim, state_dim=ToyCoopEnv.state_dim)
    return None


def _checked_against_environment(dataset: OfflineDataset, *, task: str, source: object) -> bool:
    from omiga.data.importers import observation_mode
    from omiga.data.task_fit import check_dataset_fits_task, env_shape
    from omiga.tasks import get_task

    if observation_mode(dataset.attrs) != "local":  # the environment is built in local mode; the tables know global
        return False
    try:
        spec = get_task(task)
    except UnknownNameError:
        return False
    backend = dataset.attrs.backend if dataset.attrs.backend in spec.backends else None
    if env_shape(spec.name, backend=backend) is None:
        return False
    check_dataset_fits_task(dataset, where=source, task=spec.name, backend=backend)
    return True


def check_task_shapes(dataset: OfflineDataset, *, task: str, source: object) -> OfflineDataset:
    """``dataset`` unchanged if its sizes fit ``task``'s environment; else DatasetError listing every mismatch.

    Where the task's environment is installed here, :func:`omiga.data.task_fit.check_dataset_fits_task` checks
    against the environment itself (agent-id layout included); these tables are the fallback where it is not."""
    if _checked_against_environment(dataset, task=task, source=source):
        return dataset
    expected = task_shapes(task)
    if expected is None:
        raise DatasetError(f"{source}: no environment sizes are known for task {task!r}, so the import cannot be "
                           "checked against it; import into a SMAC, MaMuJoCo or toy task")
    found = {"agents": dataset.n_agents, "actions": "discrete" if dataset.discrete else "continuous",
             "action ids": dataset.n_actions, "action entries per agent": dataset.act_dim,
             "observation entries": dataset.obs_dim, "state entries": dataset.state_dim}
    wanted = {"agents": expected.n_agents, "actions": "discrete" if expected.discrete else "continuous",
              "action ids": expected.n_actions, "action entries per agent": expected.act_dim,
              "observation entries": expected.obs_dim, "state entries": expected.state_dim}
    problems = [f"{name}: {found[name]} in the data, {value} in {task}'s environment"
                for name, value in wanted.items() if value is not None and found[name] != value]
    if problems:
        raise DatasetError(f"{source} does not fit task {task} (nothing was written):\n  - " + "\n  - ".join(problems)
                           + "\nimport it into the task it was recorded on")
    return dataset
