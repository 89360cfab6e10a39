"""OMIGA's MaMuJoCo data layout (v2 environments, mujoco-py) and its conversion to the gymnasium-robotics one.

What OMIGA's data hold (official wrapper ``envs/ma_mujoco/multiagent_mujoco/mujoco_multi.py``; OG-MARL's OMIGA
vaults were converted from the same files):

- every agent's observation, and its state, is ``z([x, e_i])``: the full single-agent v2 observation ``x``
  (HalfCheetah-v2 17, Hopper-v2 11, Ant-v2 111 dims) with agent i's one-hot id appended, z-scored within
  the vector, ``(v - mean(v)) / std(v)``; so ``o`` and ``s`` are ``[T, N, S + N]`` (23, 14, 113);
- the wrapper steps the single-agent env with the agents' actions concatenated in agent order, so OMIGA agent
  i drives actuators ``i*k .. (i+1)*k - 1`` whatever its partition's ``act_ids``; gymnasium-robotics sends
  each agent's actions to its partition's actuators (Ant 2x4: agent 0 -> 2, 3, 4, 5 and agent 1 -> 6, 7, 0, 1;
  HalfCheetah 6x1 and Hopper 3x1: agent i -> actuator i, the same as OMIGA's).

:func:`convert_omiga_mamujoco` turns such arrays into what ``obs_mode="global"`` of
:class:`~omiga.envs.mamujoco.MaMuJoCoVectorEnv` produces, so a policy trained on them is evaluated on inputs
computed the same way:

1. ``x`` is recovered exactly from each z-scored vector through its id entries: the own id is
   ``(1 - m) / sd`` and every other id ``-m / sd``, so ``sd = 1 / (z_own - z_other)``, ``m = -sd * z_other``
   and ``x = sd * z[:S] + m`` (checked: the other ids agree, the rebuilt vector has mean m and std sd, and all
   agents' ``x`` agree);
2. ``x`` (v2) becomes the v5 observation: HalfCheetah and Hopper have the same 17 / 11 entries; Ant-v2's
   111 entries hold the contact forces of all 14 bodies, Ant-v5's 105 drop the world body's 6 (always 0),
   columns 27-32;
3. ``obs = z([x_v5, e_n])`` for our agent n (:func:`~omiga.envs.mamujoco.omiga_agent_views`), ``state`` every
   agent's view concatenated (``[T, N * (S5 + N)]``, what the official mixer reads);
4. actions are reassigned actuator by actuator: OMIGA's concatenated action vector, indexed by each of our
   agents' actuators.

What cannot match (docs/mamujoco.md): the v2 data were simulated by MuJoCo 2.0 under mujoco-py, whose Ant
contact forces (``cfrc_ext``) are zero unless explicitly computed, while MuJoCo 4.0 fills them; dynamics and
contact solvers differ between the versions, so returns of replayed actions differ too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omiga.envs.mamujoco import omiga_agent_views
from omiga.errors import DatasetError, UnknownNameError

__all__ = ["OMIGA_MAMUJOCO_LAYOUTS", "OmigaMaMuJoCoLayout", "convert_omiga_mamujoco", "omiga_layout"]


@dataclass(frozen=True)
class OmigaMaMuJoCoLayout:
    """How one task's OMIGA (v2) arrays map onto gymnasium-robotics mamujoco_v1 (v5)."""

    v2_scenario: str
    """The official code's scenario name, e.g. ``Ant-v2``."""
    n_agents: int
    """Number of agents N."""
    v2_state_dim: int
    """Entries of the single-agent v2 observation."""
    v2_only_columns: tuple[int, ...]
    """Columns of the v2 observation that the v5 one lacks."""
    agent_actuators: tuple[tuple[int, ...], ...]
    """Per gymnasium-robotics agent, the single-agent actuator index of each of its action entries."""

    @property
    def act_dim(self) -> int:
        """Action entries per agent."""
        return len(self.agent_actuators[0])

    @property
    def omiga_obs_dim(self) -> int:
        """Size of an agent's vector in OMIGA's data (v2 state + id)."""
        return self.v2_state_dim + self.n_agents

    @property
    def v5_state_dim(self) -> int:
        """Entries of the single-agent v5 observation (gymnasium-robotics ``state()``)."""
        return self.v2_state_dim - len(self.v2_only_columns)

    @property
    def obs_dim(self) -> int:
        """Size of an agent's observation after import (v5 state + id), as ``obs_mode="global"`` gives."""
        return self.v5_state_dim + self.n_agents


OMIGA_MAMUJOCO_LAYOUTS: dict[str, OmigaMaMuJoCoLayout] = {
    "mamujoco_halfcheetah_6x1": OmigaMaMuJoCoLayout("HalfCheetah-v2", 6, 17, (), tuple((i,) for i in range(6))),
    "mamujoco_hopper_3x1": OmigaMaMuJoCoLayout("Hopper-v2", 3, 11, (), tuple((i,) for i in range(3))),
    "mamujoco_ant_2x4": OmigaMaMuJoCoLayout("Ant-v2", 2, 111, tuple(range(27, 33)), ((2, 3, 4, 5), (6, 7, 0, 1))),
}
"""Task -> layout. Ant-v2: qpos[2:] 13, qvel 14, then 14 bodies x 6 contact forces, the world body's first."""


def omiga_layout(task: str) -> OmigaMaMuJoCoLayout:
    """The layout of a MaMuJoCo task (UnknownNameError naming the tasks OMIGA's data exist for)."""
    if task not in OMIGA_MAMUJOCO_LAYOUTS:
        raise UnknownNameError("MaMuJoCo task with OMIGA data", task, OMIGA_MAMUJOCO_LAYOUTS)
    return OMIGA_MAMUJOCO_LAYOUTS[task]


def convert_omiga_mamujoco(obs: np.ndarray, actions: np.ndarray, *, task: str,
                           source: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(obs [T, N, S5 + N], state [T, N * (S5 + N)], actions [T, N, k])`` from OMIGA's ``o`` and ``a``.

    ``obs [T, N, S2 + N]`` are OMIGA's z-scored vectors, ``actions [T, N, k]`` its agent-ordered actions;
    DatasetError (naming ``source``) when the shapes or the id entries are not OMIGA's layout for ``task``.
    """
    layout = omiga_layout(task)
    n, dim, k = layout.n_agents, layout.omiga_obs_dim, layout.act_dim
    if obs.ndim != 3 or obs.shape[1:] != (n, dim) or actions.shape != (obs.shape[0], n, k):
        raise DatasetError(
            f"{source}: OMIGA's {layout.v2_scenario} {n}-agent data have observations [T, {n}, {dim}] "
            f"({layout.v2_state_dim} state + {n} id entries) and actions [T, {n}, {k}]; got "
            f"{tuple(obs.shape)} and {tuple(actions.shape)}: is this {task}'s data?")
    v2_state = _recover_state(np.asarray(obs, dtype=np.float64), source)
    v5_state = np.delete(v2_state, layout.v2_only_columns, axis=1)
    views = omiga_agent_views(v5_state, n)
    flat = np.asarray(actions, dtype=np.float32).reshape(actions.shape[0], n * k)
    ours = np.stack([flat[:, list(actuators)] for actuators in layout.agent_actuators], axis=1)
    return views, views.reshape(views.shape[0], -1), ours


def _recover_state(views: np.ndarray, source: object) -> np.ndarray:
    """The state x ``[T, S]`` of OMIGA's vectors ``z([x, e_i])`` ``[T, N, S + N]`` (method in the module doc)."""
    n_steps, n = views.shape[:2]
    ids = views[:, :, -n:]
    own = np.einsum("tii->ti", ids)
    others = ids[:, ~np.eye(n, dtype=bool)].reshape(n_steps, n, n - 1)
    z_scored = (np.abs(views.mean(axis=-1)) <= 1e-3) & (np.abs(views.std(axis=-1) - 1.0) <= 1e-3)
    one_hot = (np.ptp(others, axis=-1) <= 1e-4 * np.maximum(1.0, np.abs(others).max(axis=-1))) & \
        (own > others[..., 0])
    if not (z_scored & one_hot).all():
        t, i = (int(v) for v in np.argwhere(~(z_scored & one_hot))[0])
        raise DatasetError(
            f"{source}: step {t}, agent {i} is not OMIGA's z-scored [state, id] vector (mean "
            f"{views[t, i].mean():.3g}, std {views[t, i].std():.3g}, id entries {ids[t, i].round(4).tolist()}); "
            "OMIGA's wrapper writes (v - mean(v)) / std(v) for v = [state, e_i]: is this OMIGA's MaMuJoCo data?")
    scale = 1.0 / (own - others[..., 0])  # the std of [x, e_i]
    states = scale[..., None] * (views[:, :, :-n] - others[..., :1])  # x = sd * z + m with m = -sd * z_other
    spread = np.abs(states - states[:, :1]).max(axis=(1, 2))
    disagree = spread > 1e-3 * np.maximum(1.0, np.abs(states).max(axis=(1, 2)))
    if disagree.any():
        t = int(np.flatnonzero(disagree)[0])
        raise DatasetError(f"{source}: step {t}: the agents' vectors hold different states (up to {spread[t]:.3g} "
                           "apart); OMIGA's agents all observe the one full state: is this OMIGA's MaMuJoCo data?")
    return states.mean(axis=1)
