"""Build SMAC-style datasets (good / medium / poor) by rolling behaviour policies out in SMAX battles.

Two kinds of behaviour: the learned MAPPO skill levels shipped under ``omiga/behaviour/checkpoints/<task>/``
(the default where a task has them, behaviour version 3: a quality is a band of episode returns, kept from the
rollouts of its skill levels as MADT/OMIGA made theirs, see `omiga.behaviour.manifest`), and the scripted
hold/scatter mixtures of behaviour version 2 (`omiga.data.behavior_smax`, by name ``scripted-v2``).

Episode i of a build with seed s is battle ``fold_in(PRNGKey(s), i)`` (the same battle that slot i of
``SmaxVectorEnv.reset(seed=s)`` plays); its behaviour policy draws its strategy from the episode key
``fold_in(PRNGKey(s + 1), i)`` and its exploration from ``fold_in(episode key, t)`` at step t, so a build is
deterministic for a seed and does not depend on how episodes are batched. Battles are rolled out in chunks
of vmapped environments.
"""

from __future__ import annotations

from dataclasses import replace
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

__all__ = ["CHUNK_EPISODES", "build_smax_dataset", "policy_program", "rollout_band_episodes",
           "rollout_smax_episodes", "split_episodes", "task_battles"]

CHUNK_EPISODES = 200
"""Battles rolled out together (memory: ~2 MB of observations per step per 100 battles on the corridor)."""


def build_smax_dataset(*, task: str, quality: str, episodes: int, seed: int, path: Path,
                       behavior: str | None = None, correlation: str = "independent",
                       temperature: float = 1.0) -> Path:
    """Roll out ``quality``'s behaviour for ``episodes`` battles of ``task``'s SMAX scenario; write ``path``.

    ``behavior``: ``learned`` (the task's shipped MAPPO skill levels; the default where it has them) or
    ``scripted-v2`` (the hold/scatter scripts; the default elsewhere). A quality ``a+b`` (e.g. ``good+poor``) is
    the union of the two qualities' datasets, half of the episodes each (the first part gets the odd one).
    ``correlation``: how the team samples (`omiga.behaviour.policy`; learned behaviour only); it must match the
    quality's suffix (``medium@shared`` is ``medium`` drawn with ``correlation="shared"``). ``temperature``: the
    sampling temperature of the learned levels (``medium@t0.1`` is ``medium`` at ``temperature=0.1``).
    """
    from omiga.behaviour.manifest import default_behavior, load_manifest
    from omiga.tasks import get_task, quality_name, split_variants

    spec = get_task(task)
    full_name, (quality, named, named_temperature) = quality, split_variants(quality)
    asked = quality_name(quality, correlation=correlation, temperature=temperature)
    if named != correlation:
        raise ConfigError(f"quality {full_name!r} names correlation {named!r} but correlation={correlation!r} "
                          f"was asked for; name the dataset {asked} (or drop the option)")
    if named_temperature != temperature:
        raise ConfigError(f"quality {full_name!r} names sampling temperature {named_temperature:g} but "
                          f"temperature={temperature:g} was asked for; name the dataset {asked} (or drop the option)")
    battles = task_battles(spec.name)
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    behavior = behavior or default_behavior(spec.name)
    parts = quality.split("+")
    counts = [episodes // len(parts) + (i < episodes % len(parts)) for i in range(len(parts))]
    pieces, descriptions = [], []
    for index, (part, count) in enumerate(zip(parts, counts)):
        part_seed = seed + 1000 * index  # a mixture's parts roll out different battles
        if behavior != "learned" and correlation != "independent":
            raise ConfigError(f"correlation {correlation!r} needs the learned behaviour (sampled policies); the "
                              f"{behavior} scripts draw one strategy per team already: drop @{correlation}")
        if behavior != "learned" and temperature != 1:
            raise ConfigError(f"sampling temperature {temperature:g} needs the learned behaviour (sampled "
                              f"policies); the {behavior} scripts have none: drop @t{temperature:g}")
        if behavior == "learned":
            manifest = load_manifest(spec.name)
            policy = replace(manifest.policy(part), correlation=correlation, temperature=temperature)
            pieces.append(rollout_band_episodes(battles, policy, episodes=count, seed=part_seed,
                                                band=manifest.band(part)))
            descriptions.append(f"{part}: {manifest.describe(part, policy=policy)}")
        elif behavior == "scripted-v2":
            policy = behavior_policy(part)
            pieces.append(rollout_smax_episodes(battles, policy, episodes=count, seed=part_seed))
            descriptions.append(f"{part}: {policy.describe()}")
        else:
            raise ConfigError(f"behavior {behavior!r} is not one of learned, scripted-v2")
    arrays = {name: np.concatenate([piece[name] for piece in pieces]) for name in pieces[0]}
    behavior = f"{'; '.join(descriptions)}; SMAX scenario {battles.scenario.name}"
    dataset = OfflineDataset.from_arrays(**arrays, task=spec.name, quality=full_name, source="built",
                                         behavior=behavior, seed=seed, backend="smax")
    return save_dataset(dataset, path)


def task_battles(task: str) -> SmaxBattles:
    """The SMAX battles of a registered task's scenario (a ConfigError for a task without one)."""
    from omiga.tasks import get_task

    spec = get_task(task)
    if "smax" not in spec.backend_kwargs:
        raise ConfigError(f"task {spec.name!r} has no SMAX scenario; use its own backend (SMAX builders and "
                          "behaviour learning are for SMAC-family tasks)")
    return battles_for(get_scenario(spec.backend_kwargs["smax"]["scenario"]))


def rollout_smax_episodes(battles: SmaxBattles, policy: ScriptedPolicy, *, episodes: int,
                          seed: int) -> dict[str, np.ndarray]:
    """Episodes 0..episodes-1 of a seed, concatenated into the dataset arrays (obs, state, actions, ...)."""
    parts = [_rollout_chunk(battles, policy, seed=seed, offset=offset,
                            n_envs=min(CHUNK_EPISODES, episodes - offset))
             for offset in range(0, episodes, CHUNK_EPISODES)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def rollout_band_episodes(battles: SmaxBattles, policy, *, episodes: int, seed: int,
                          band: tuple[float, float], max_battles: int | None = None) -> dict[str, np.ndarray]:
    """The first ``episodes`` battles of a seed whose SMAC-scale return lies in ``band`` = [low, high).

    Battles are rolled out in chunks of `CHUNK_EPISODES` (battle i of the seed is always the same battle, so a
    smaller build is a prefix of a larger one) until enough returns fell in the band; more than
    ``max_battles`` (default 50 per kept episode) is a ConfigError naming the yield.
    """
    limit = max_battles or 50 * episodes
    kept: list[dict[str, np.ndarray]] = []
    offset = 0
    while len(kept) < episodes:
        if offset >= limit:
            raise ConfigError(f"only {len(kept)} of {offset} battles returned within {band}; the behaviour's "
                              f"skill levels rarely reach this band: ask for fewer episodes or retrain them")
        chunk = _rollout_chunk(battles, policy, seed=seed, offset=offset, n_envs=CHUNK_EPISODES)
        kept.extend(e for e in split_episodes(chunk) if band[0] <= float(e["rewards"].sum()) < band[1])
        offset += CHUNK_EPISODES
    kept = kept[:episodes]
    return {name: np.concatenate([e[name] for e in kept]) for name in kept[0]}


def split_episodes(arrays: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Contiguous episodes of concatenated dataset arrays (each ends at a terminal or truncation)."""
    ends = np.flatnonzero(arrays["terminals"] | arrays["truncations"]) + 1
    starts = np.concatenate([[0], ends[:-1]])
    return [{name: value[a:b] for name, value in arrays.items()} for a, b in zip(starts, ends)]


def _rollout_chunk(battles: SmaxBattles, policy, *, seed: int, offset: int, n_envs: int) -> dict[str, np.ndarray]:
    act, policy_arrays = policy_program(policy, battles.scenario)
    policy_keys = episode_keys(seed + 1, offset, n_envs)
    state, outputs = _jit_reset(battles, jnp.asarray(seed, dtype=jnp.uint32), n_envs, offset)
    records: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "state", "avail_actions", "actions",
                                                               "rewards", "terminals", "truncations")}
    ended = np.zeros(n_envs, dtype=bool)
    for t in range(battles.scenario.max_steps):
        obs, world, avail = outputs[:3]
        actions, state, outputs = _jit_act_and_step(battles, act, state, obs, avail, policy_keys, t, policy_arrays)
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


def policy_program(policy, scenario) -> tuple:
    """(static act over E battles, its array arguments) of a behaviour policy.

    ``act(obs [E, N, D], avail [E, N, A], step keys [E], episode keys [E], arrays) -> actions [E, N]``. A
    learned policy passes its actors' parameters as ``arrays`` (traced), so every policy of one architecture
    shares one compiled rollout step; a scripted policy has none.
    """
    if hasattr(policy, "program"):
        return policy.program(scenario)
    return _vmapped_scripted_act(policy, scenario), ()


@cache
def _vmapped_scripted_act(policy: ScriptedPolicy, scenario):
    act = jax.vmap(partial_act(policy, scenario))
    return lambda obs, avail, keys, episode_keys, _: act(obs, avail, keys, episode_keys)


@partial(jax.jit, static_argnums=(0, 2, 3))
def _jit_reset(battles: SmaxBattles, seed: jax.Array, n_envs: int, offset: int):
    return _reset_battles(battles, seed, n_envs, offset)


@partial(jax.jit, static_argnums=(0, 1))
def _jit_act_and_step(battles: SmaxBattles, act, state, obs, avail, policy_keys, t, policy_arrays):
    actions = act(obs, avail, jax.vmap(jax.random.fold_in, in_axes=(0, None))(policy_keys, t), policy_keys,
                  policy_arrays)
    state, outputs = _step_battles(battles, state, actions)
    return actions, state, outputs
