"""Build MaMuJoCo datasets (D4RL-style qualities) by rolling behaviour policies out on real MuJoCo.

Qualities: ``expert`` and ``medium`` roll out one behaviour policy (stochastic ``tanh(mean + std * noise)``);
``medium-expert`` is the union of ceil(episodes / 2) medium and floor(episodes / 2) expert episodes;
``medium-replay`` is the replay buffer of the SAC training run up to the medium snapshot (its first
``episodes`` episodes, or all of it when ``episodes`` is None).

Behaviour policies come, in this order of preference, from checkpoints the user supplies (format in
:mod:`omiga.data.behavior_mamujoco`; one path for expert / medium, a mapping ``{"medium": p, "expert": q}`` for
medium-expert), from the project's SAC learner when a budget is asked for
(:func:`~omiga.data.behavior_mamujoco_sac.train_sac_behavior`, cached in ``<dataset dir>/behavior/`` so the four
qualities of a task and seed share one training), or from the SAC behaviour the task ships
(:mod:`omiga.behaviour.sac.shipped`: expert and medium actors, medium-replay rebuilt from its actions).
Observations are stored in ``obs_mode="local"`` (zero-padded agent_obsk=1 observations); ``obs_mode="global"``
is the ``state`` broadcast to every agent, which any consumer can rebuild from the stored ``state``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from omiga.behaviour.sac.shipped import ShippedSAC, has_shipped_sac, load_shipped_sac
from omiga.checkpoint import save_checkpoint
from omiga.data.behavior_mamujoco import BehaviorPolicy, load_behavior_checkpoint, single_torch_thread
from omiga.data.behavior_mamujoco_sac import REPLAY_FIELDS, SACConfig, SACRun, train_sac_behavior
from omiga.data.io import save_dataset
from omiga.data.schema import OfflineDataset
from omiga.envs.mamujoco import (
    MAMUJOCO_MAX_EPISODE_STEPS,
    MaMuJoCoConfig,
    MaMuJoCoVectorEnv,
    mamujoco_config_for_task,
    mamujoco_sizes,
)
from omiga.errors import ConfigError, UnknownNameError

__all__ = ["MAMUJOCO_QUALITIES", "build_mamujoco_dataset", "collect_episodes", "load_or_train_sac_run"]

MAMUJOCO_QUALITIES = ("expert", "medium", "medium-replay", "medium-expert")
DEFAULT_EPISODES = 1000
ENV_NOTE = "gymnasium-robotics {} mamujoco_v1, agent_obsk=1, mujoco {}, obs_mode local"


def collect_episodes(policy: BehaviorPolicy, *, env_config: MaMuJoCoConfig, episodes: int, seed: int,
                     n_envs: int = 8) -> dict[str, np.ndarray]:
    """Roll ``policy`` out until ``episodes`` episodes are complete; arrays in dataset layout (REPLAY_FIELDS).

    ``min(episodes, n_envs)`` environments run in lock-step; episodes are kept in order of completion (ties by
    environment index). Deterministic for (policy, seed, n_envs).
    """
    if episodes < 1:
        raise ConfigError(f"a MaMuJoCo dataset needs episodes >= 1, got {episodes}")
    env = MaMuJoCoVectorEnv(config=env_config, n_envs=min(episodes, n_envs))
    generator = torch.Generator().manual_seed(seed)
    running: list[list[tuple]] = [[] for _ in range(env.n_envs)]
    finished: list[list[tuple]] = []
    step = env.reset(seed=seed)
    restarting = np.zeros(env.n_envs, dtype=bool)  # ended at the previous step: this step resets it
    while len(finished) < episodes:
        actions = policy.act(obs=step.obs, state=step.state, generator=generator)
        after = env.step(actions)
        for e in np.flatnonzero(~restarting):
            running[e].append((step.obs[e], step.state[e], actions[e], after.reward[e], after.terminated[e],
                               after.truncated[e]))
            if after.done[e]:
                finished.append(running[e])
                running[e] = []
        restarting, step = after.done, after
    env.close()
    rows = [row for episode in finished[:episodes] for row in episode]
    return {name: np.stack([row[i] for row in rows]) for i, name in enumerate(REPLAY_FIELDS)}


def _first_episodes(arrays: dict[str, np.ndarray], episodes: int | None) -> dict[str, np.ndarray]:
    """The first ``episodes`` complete episodes of dataset-layout arrays (all of them when None)."""
    if episodes is None:
        return arrays
    ends = np.flatnonzero(arrays["terminals"] | arrays["truncations"])
    stop = int(ends[min(episodes, len(ends)) - 1]) + 1
    return {name: value[:stop] for name, value in arrays.items()}


def _concatenate(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([part[name] for part in parts]) for name in REPLAY_FIELDS}


def load_or_train_sac_run(*, task_name: str, env_config: MaMuJoCoConfig, sac: SACConfig, seed: int,
                          cache_dir: Path) -> SACRun:
    """The SAC behaviour run of (task, seed, budget, time limit): read from ``cache_dir`` or trained and cached."""
    cache = cache_dir / _sac_cache_name(task_name=task_name, env_config=env_config, sac=sac, seed=seed)
    if cache.is_file():
        checkpoint = torch.load(cache, map_location="cpu", weights_only=True)
        return SACRun.from_checkpoint(checkpoint, source=f"SAC run cache {cache}")
    description = (f"SAC (joint action, state input, hidden {list(sac.hidden)}) trained online by omiga for "
                   f"{sac.total_steps} steps, seed {seed}, episode cap {env_config.max_episode_steps}")
    progress = cache.with_suffix(".run")  # the training's run directory: an interrupted build resumes from it
    run = train_sac_behavior(env_config=env_config, config=sac, seed=seed, description=description,
                             out_dir=progress)
    save_checkpoint(run.to_checkpoint(), cache)  # atomic: temp file removed on error
    shutil.rmtree(progress, ignore_errors=True)
    return run


def _sac_cache_name(*, task_name: str, env_config: MaMuJoCoConfig, sac: SACConfig, seed: int) -> str:
    """File name of a SAC run: task, seed, budget, time limit, widths, and a digest of any other non-default field.

    The recipe of :meth:`SACConfig.with_budget` has no digest, so runs cached before the digest existed are found.
    """
    name = (f"{task_name}_sac_seed{seed}_steps{sac.total_steps}_cap{env_config.max_episode_steps}"
            f"_h{'x'.join(map(str, sac.hidden))}")
    recipe = dataclasses.replace(SACConfig.with_budget(sac.total_steps), hidden=sac.hidden)
    if sac != recipe:
        name += "_" + hashlib.sha256(repr(sac).encode()).hexdigest()[:10]
    return name + ".pt"


def _environment_note() -> str:
    """The simulator versions and observation layout the dataset was recorded with."""
    return ENV_NOTE.format(*(importlib.metadata.version(dist) for dist in ("gymnasium-robotics", "mujoco")))


def _checkpoint_policies(checkpoints: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]], *,
                         quality: str, env_config: MaMuJoCoConfig) -> dict[str, BehaviorPolicy]:
    """Behaviour policies by role ("medium", "expert") from user checkpoints."""
    if quality == "medium-replay":
        raise ConfigError("medium-replay is the replay buffer of a training run, which a checkpoint does not "
                          "contain: build it without --behavior-checkpoint (SAC learner) or import OMIGA's data")
    if isinstance(checkpoints, Mapping):
        paths = dict(checkpoints)
    elif quality == "medium-expert":
        raise ConfigError("medium-expert needs two behaviour checkpoints: pass {'medium': PATH, 'expert': PATH}")
    else:
        paths = {quality: checkpoints}
    needed = ("medium", "expert") if quality == "medium-expert" else (quality,)
    missing = [role for role in needed if role not in paths]
    if missing:
        raise ConfigError(f"quality {quality!r} needs behaviour checkpoints for {list(needed)}; missing {missing}")
    sizes = mamujoco_sizes(env_config)
    return {role: load_behavior_checkpoint(paths[role], **sizes) for role in needed}


def build_mamujoco_dataset(*, task, quality: str, episodes: int | None, seed: int, path: str | os.PathLike[str],
                           behavior_checkpoint=None, sac: SACConfig | None = None, sac_steps: int | None = None,
                           max_episode_steps: int = MAMUJOCO_MAX_EPISODE_STEPS, n_envs: int = 8,
                           cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Roll out behaviour policies of ``quality`` on the MaMuJoCo ``task`` and save the dataset at ``path``.

    ``task`` is a TaskSpec (its ``.name`` is read) or a task name. ``episodes`` None means the task's
    ``default_episodes`` (1000), or the whole replay buffer for medium-replay. ``behavior_checkpoint``: a path
    (expert / medium) or ``{"medium": path, "expert": path}``; without it the task's shipped SAC behaviour is
    used, or, when ``sac`` or ``sac_steps`` is given or the task ships none, the SAC learner is trained with
    ``sac`` (default :class:`SACConfig`: about 100 minutes on one core), or with ``SACConfig.with_budget(sac_steps)``,
    and cached under ``cache_dir`` (default ``<path's directory>/behavior``). ``max_episode_steps`` < 1000 shortens
    episodes (smoke builds only).
    """
    task_name = task if isinstance(task, str) else task.name
    if quality not in MAMUJOCO_QUALITIES:
        raise UnknownNameError("MaMuJoCo dataset quality", quality, MAMUJOCO_QUALITIES)
    if episodes is not None and episodes < 1:
        raise ConfigError(f"episodes must be >= 1 (or None for the default), got {episodes}")
    if sac is not None and sac_steps is not None:
        raise ConfigError("pass either sac (a full SACConfig) or sac_steps (the default recipe with that budget), "
                          "not both")
    if behavior_checkpoint is not None and (sac is not None or sac_steps is not None):
        raise ConfigError("a behaviour checkpoint replaces the SAC learner: drop the SAC options "
                          "(sac / sac_steps, --sac-steps) or the checkpoint")
    env_config = mamujoco_config_for_task(task_name, max_episode_steps=max_episode_steps)
    path = Path(path)
    if episodes is None and quality != "medium-replay":
        episodes = int(getattr(task, "default_episodes", DEFAULT_EPISODES))
    with single_torch_thread():
        if behavior_checkpoint is None and sac is None and sac_steps is None and has_shipped_sac(task_name):
            arrays, behavior = _from_shipped(load_shipped_sac(task_name), quality=quality, episodes=episodes,
                                             env_config=env_config, seed=seed, n_envs=n_envs)
        elif behavior_checkpoint is not None:
            policies = _checkpoint_policies(behavior_checkpoint, quality=quality, env_config=env_config)
            arrays, behavior = _roll_out(policies, quality=quality, episodes=episodes, env_config=env_config,
                                         seed=seed, n_envs=n_envs)
        else:
            if sac is None:
                sac = SACConfig.with_budget(sac_steps) if sac_steps is not None else SACConfig()
            run = load_or_train_sac_run(task_name=task_name, env_config=env_config, sac=sac, seed=seed,
                                        cache_dir=Path(cache_dir) if cache_dir is not None else path.parent / "behavior")
            arrays, behavior = (_medium_replay(run, episodes=episodes) if quality == "medium-replay" else
                                _roll_out({"medium": run.medium, "expert": run.expert}, quality=quality,
                                          episodes=episodes, env_config=env_config, seed=seed, n_envs=n_envs))
    dataset = OfflineDataset.from_arrays(
        avail_actions=None, task=task_name, quality=quality, source="built", seed=seed,
        backend=MaMuJoCoVectorEnv.backend, behavior=f"{behavior}; {_environment_note()}",
        **{k: arrays[k] for k in REPLAY_FIELDS},
    )
    return save_dataset(dataset, path)


def _from_shipped(shipped: ShippedSAC, *, quality: str, episodes: int | None, env_config: MaMuJoCoConfig,
                  seed: int, n_envs: int) -> tuple[dict[str, np.ndarray], str]:
    """Data of ``quality`` from the task's shipped SAC behaviour (and its text)."""
    if quality == "medium-replay":
        rows = shipped.replay(env_config)
        arrays = _first_episodes({k: rows[k] for k in REPLAY_FIELDS}, episodes)
        arrays["truncations"][-1] |= ~arrays["terminals"][-1]
        entry = shipped.levels["medium"]
        return arrays, (f"replay buffer of the shipped SAC run up to its medium snapshot (step {entry['step']:,}), "
                        f"rebuilt from the shipped actions; trained by `{shipped.provenance.get('command', '?')}`")
    sizes = mamujoco_sizes(env_config)
    roles = ("medium", "expert") if quality == "medium-expert" else (quality,)
    policies = {role: shipped.policy(role, sizes) for role in roles}
    return _roll_out(policies, quality=quality, episodes=episodes, env_config=env_config, seed=seed, n_envs=n_envs)


def _medium_replay(run: SACRun, *, episodes: int | None) -> tuple[dict[str, np.ndarray], str]:
    """The first ``episodes`` episodes (all when None) of the SAC replay buffer up to the medium snapshot."""
    arrays = _first_episodes({k: v[: run.medium_step].copy() for k, v in run.replay.items()}, episodes)
    arrays["truncations"][-1] |= ~arrays["terminals"][-1]
    return arrays, (f"replay buffer of SAC training up to the medium snapshot (step {run.medium_step}); "
                    f"{run.medium.description}")


def _roll_out(policies: dict[str, BehaviorPolicy], *, quality: str, episodes: int, env_config: MaMuJoCoConfig,
              seed: int, n_envs: int) -> tuple[dict[str, np.ndarray], str]:
    """Episodes of the ``quality`` policy (medium-expert: ceil half medium, then floor half expert) and their text."""
    roles = ("medium", "expert") if quality == "medium-expert" else (quality,)
    counts = (math.ceil(episodes / 2), episodes // 2) if quality == "medium-expert" else (episodes,)
    parts = [collect_episodes(policies[role], env_config=env_config, episodes=count, seed=seed + i, n_envs=n_envs)
             for i, (role, count) in enumerate(zip(roles, counts)) if count > 0]
    behavior = "; ".join(f"{role} ({count} episodes, stochastic actions): {policies[role].description}"
                         for role, count in zip(roles, counts))
    return _concatenate(parts), behavior
