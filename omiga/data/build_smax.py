"""Build SMAC-style datasets (good / medium / poor) by rolling scripted policies out in SMAX battles.

Episode i of a build with seed s is battle ``fold_in(PRNGKey(s), i)`` (the same battle that slot i of
``SmaxVectorEnv.reset(seed=s)`` plays); its behaviour policy draws its strategy from the episode key
``fold_in(PRNGKey(s + 1), i)`` and its exploration from ``fold_in(episode key, t)`` at step t, so a build is
deterministic for a seed and does not depend on how episodes are batched. Battles are rolled out in chunks
of vmapped environments.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from omiga.data.behavior_smax import ScriptedPolicy, behavior_policy, episode_keys, partial_act
from omiga.data.io import save_dataset
from omiga.data.schema import OfflineDataset
from omiga.envs.smax import SmaxBattles, _reset_battles, _step_battles, battles_for
from omiga.envs.smax_scenarios import get_scenario
from omiga.errors import ConfigError

__all__ = ["CHUNK_EPISODES", "build_smax_dataset", "rollout_smax_episodes"]

CHUNK_EPISODES = 200
"""Battles rolled out together (memory: ~2 MB of observations per step per 100 battles on the corridor)."""


def build_smax_dataset(*, task: str, quality: str, episodes: int, seed: int, path: Path) -> Path:
    """Roll out ``quality``'s behaviour policy for ``episodes`` battles of ``task``'s SMAX scenario; write ``path``."""
    from omiga.tasks import get_task

    spec = get_task(task)
    if "smax" not in spec.backend_kwargs:
        raise ConfigError(f"task {spec.name!r} has no SMAX scenario; build it with its own backend")
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    policy = behavior_policy(quality)
    battles = battles_for(get_scenario(spec.backend_kwargs["smax"]["scenario"]))
    arrays = rollout_smax_episodes(battles, policy, episodes=episodes, seed=seed)
    behavior = f"{policy.describe()}; SMAX scenario {battles.scenario.name}"
    dataset = OfflineDataset.from_arrays(**arrays, task=spec.name, quality=quality, source="built",
                                         behavior=behavior, seed=seed, backend="smax")
    return save_dataset(dataset, path)


def rollout_smax_episodes(battles: SmaxBattles, policy: ScriptedPolicy, *, episodes: int,
                          seed: int) -> dict[str, np.ndarray]:
    """Episodes 0..episodes-1 of a seed, concatenated into the dataset arrays (obs, state, actions, ...)."""
    act = _vmapped_act(policy, battles.scenario)
    parts = [_rollout_chunk(battles, act, seed=seed, offset=offset,
                            n_envs=min(CHUNK_EPISODES, episodes - offset))
             for offset in range(0, episodes, CHUNK_EPISODES)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _rollout_chunk(battles: SmaxBattles, act, *, seed: int, offset: int, n_envs: int) -> dict[str, np.ndarray]:
    policy_keys = episode_keys(seed + 1, offset, n_envs)
    state, outputs = _jit_reset(battles, jnp.asarray(seed, dtype=jnp.uint32), n_envs, offset)
    records: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "state", "avail_actions", "actions",
                                                               "rewards", "terminals", "truncations")}
    ended = np.zeros(n_envs, dtype=bool)
    for t in range(battles.scenario.max_steps):
        obs, world, avail = outputs[:3]
        actions, state, outputs = _jit_act_and_step(battles, act, state, obs, avail, policy_keys, t)
        for name, value in zip(("obs", "state", "avail_actions", "actions"), (obs, world, avail, actions)):
            records[name].append(np.asarray(value))
        reward, terminated, truncated = (np.asarray(v) for v in outputs[3:6])
        records["rewards"].append(reward)
        records["terminals"].append(terminated & ~ended)
        records["truncations"].append(truncated & ~ended)
        ended |= terminated | truncated
        if ended.all():
            break
    stacked = {k: np.stack(v, axis=1) for k, v in records.items()}  # [E, T, ...]
    ends = np.argmax(stacked["terminals"] | stacked["truncations"], axis=1)
    dtypes = {"obs": np.float32, "state": np.float32, "avail_actions": bool, "actions": np.int64,
              "rewards": np.float32, "terminals": bool, "truncations": bool}
    return {k: np.concatenate([v[e, : ends[e] + 1] for e in range(n_envs)]).astype(dtypes[k])
            for k, v in stacked.items()}


@cache
def _vmapped_act(policy: ScriptedPolicy, scenario):
    return jax.vmap(partial_act(policy, scenario))


@partial(jax.jit, static_argnums=(0, 2, 3))
def _jit_reset(battles: SmaxBattles, seed: jax.Array, n_envs: int, offset: int):
    return _reset_battles(battles, seed, n_envs, offset)


@partial(jax.jit, static_argnums=(0, 1))
def _jit_act_and_step(battles: SmaxBattles, act, state, obs, avail, policy_keys, t):
    actions = act(obs, avail, jax.vmap(jax.random.fold_in, in_axes=(0, None))(policy_keys, t), policy_keys)
    state, outputs = _step_battles(battles, state, actions)
    return actions, state, outputs
