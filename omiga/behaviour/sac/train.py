"""The SAC training loop: environment steps, one SAC step per environment step, snapshots, checkpoint and resume.

Every source of randomness is a pure function of (seed, step): the warm-up's uniform actions and the batch
indices come from ``numpy.random.default_rng((seed, t, k))``, the policy's and the update's noise from
``jax.random.fold_in(key, t)``. A run resumed from its checkpoint therefore continues exactly as an uninterrupted
one. The environment is not serialised: on resume it is rebuilt by replaying the recorded actions from the
first reset (MuJoCo is deterministic for a given build), and the replayed states are checked against the
recorded ones.

A run directory holds ``latest.npz`` (the SAC state and a JSON header: task, seed, config, steps done, snapshot
returns), ``replay.npz`` (the transitions so far), ``history.csv`` (one row per snapshot) and
``snapshots/step-XXXXXXXXX.pt`` (each evaluated actor, in the MaMuJoCo behaviour checkpoint format).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch

from omiga.atomic import write_atomic
from omiga.behaviour.checkpoint import load_tree, read_meta, save_tree
from omiga.behaviour.sac.update import (SACState, actor_state_dict, deterministic_action, init_sac_state,
                                        make_sac_update, params_from_torch, sample_action)
from omiga.data.behavior_mamujoco import BehaviorPolicy, TanhGaussianActor, hidden_layers, save_behavior_checkpoint
from omiga.envs.mamujoco import MaMuJoCoConfig, MaMuJoCoVectorEnv
from omiga.errors import ConfigError, DatasetError

__all__ = ["REPLAY_FIELDS", "SACResult", "replay_actions", "train_sac"]

REPLAY_FIELDS = ("obs", "state", "actions", "rewards", "terminals", "truncations")
HISTORY_FIELDS = ("step", "eval_return", "alpha", "loss/critic", "loss/actor", "entropy", "seconds")
EVAL_SEED_OFFSET = 7919


@dataclass(frozen=True, eq=False)
class SACResult:
    """What a finished SAC run leaves: every snapshot (step, deterministic return, actor) and the replay data."""

    snapshots: tuple[tuple[int, float, dict], ...]
    """(step, mean deterministic return, actor ``state_dict``), in training order; the last is the final actor."""
    replay: dict[str, np.ndarray]
    """Every training step in dataset layout (REPLAY_FIELDS), the final partial episode marked truncated."""


def _initial_state(config, *, n_agents: int, state_dim: int, act_dim: int, seed: int) -> SACState:
    """PyTorch's default initialisation (actor under ``seed``, critics under ``seed + 1``), moved to JAX."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        actor = TanhGaussianActor(state_dim, n_agents * act_dim, config.hidden)
        torch.manual_seed(seed + 1)
        critics = [torch.nn.Sequential(*hidden_layers(state_dim + n_agents * act_dim, config.hidden),
                                       torch.nn.Linear(config.hidden[-1], 1)) for _ in range(2)]
    return init_sac_state(actor=params_from_torch(actor), critics=tuple(params_from_torch(c) for c in critics),
                          lr=config.lr)


def _header(env_config: MaMuJoCoConfig, config, seed: int) -> dict:
    """What a resumed run must share with its checkpoint (all but the budget: a run may be extended)."""
    learner = {k: v for k, v in dataclasses.asdict(config).items() if k != "total_steps"}
    return json.loads(json.dumps({"learner": "sac", "env": dataclasses.asdict(env_config), "config": learner,
                                  "seed": seed}))


def _empty_replay(total: int, n: int, d: int, s: int, a: int) -> dict[str, np.ndarray]:
    return {"obs": np.zeros((total, n, d), np.float32), "state": np.zeros((total, s), np.float32),
            "actions": np.zeros((total, n, a), np.float32), "rewards": np.zeros(total, np.float32),
            "terminals": np.zeros(total, bool), "truncations": np.zeros(total, bool),
            "next_state": np.zeros((total, s), np.float32)}


class _Checkpoints:
    """The run directory's files (module docstring); ``None`` directory = an in-memory run."""

    def __init__(self, out_dir: Path | None, header: dict):
        self.out_dir, self.header = (Path(out_dir) if out_dir is not None else None), header

    def resume(self, template: SACState, replay: dict[str, np.ndarray]) -> tuple[SACState, int, list]:
        """(state, steps done, [(step, return)]) from ``latest.npz``, filling ``replay``; a fresh run if none."""
        latest = self.out_dir / "latest.npz" if self.out_dir else None
        if latest is None or not latest.exists():
            return template, 0, []
        meta = read_meta(latest)
        mine = {k: meta.get(k) for k in self.header}
        if mine != self.header:
            changed = sorted(k for k in self.header if mine[k] != self.header[k])
            raise ConfigError(f"{self.out_dir} holds a SAC run with another {', '.join(changed)}; resume it with "
                              "the same options or give a new --out")
        state, _ = load_tree(latest, template)
        done = int(meta["step"])
        if done > len(replay["rewards"]):
            raise ConfigError(f"{self.out_dir} has trained {done:,} steps already, more than the {len(replay['rewards']):,} "
                              "asked for; ask for at least as many")
        try:
            with np.load(self.out_dir / "replay.npz", allow_pickle=False) as stored:
                for key in replay:
                    replay[key][:done] = stored[key][:done]
        except (OSError, KeyError, ValueError) as error:
            raise DatasetError(f"{self.out_dir / 'replay.npz'} is missing or damaged ({error}); the run cannot "
                               "resume: delete the run directory to start again") from None
        return jax.tree.map(jnp.asarray, state), done, [tuple(s) for s in meta["snapshots"]]

    def save(self, state: SACState, replay: dict[str, np.ndarray], step: int, snapshots: list) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # replay first: if the process dies between the two writes, latest.npz still names fewer steps
        write_atomic(self.out_dir / "replay.npz",
                     lambda temporary: _savez(temporary, {k: v[:step] for k, v in replay.items()}))
        save_tree(self.out_dir / "latest.npz", jax.device_get(state),
                  {**self.header, "step": step, "snapshots": [list(s) for s in snapshots]})

    def snapshot(self, policy: BehaviorPolicy, step: int, row: dict) -> None:
        if self.out_dir is None:
            return
        save_behavior_checkpoint(policy, self.out_dir / "snapshots" / f"step-{step:09d}.pt")
        history = self.out_dir / "history.csv"
        new = not history.exists()
        with open(history, "a", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=HISTORY_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as stream:  # a file object: np.savez would append ".npz" to a path
        np.savez(stream, **arrays)


def replay_actions(env: MaMuJoCoVectorEnv, actions: np.ndarray, *, seed: int) -> tuple[dict[str, np.ndarray], object]:
    """Step a fresh one-environment ``env`` (reset with ``seed``) through recorded ``actions [T, N, A]``.

    Returns the transitions in replay layout (with ``next_state``) and the env step that follows them. This is how
    a resumed run gets its environment back and how the shipped medium-replay data are rebuilt from their actions.
    """
    total = len(actions)
    rows = _empty_replay(total, env.n_agents, env.obs_dim, env.state_dim, env.act_dim)
    step = env.reset(seed=seed)
    for t in range(total):
        step = _record(rows, t, env, step, actions[t][None])
    return rows, step


def _record(rows: dict[str, np.ndarray], t: int, env: MaMuJoCoVectorEnv, step, action: np.ndarray):
    """Step the one-environment ``env`` with ``action [1, N, A]`` from ``step``, write transition ``t`` into
    ``rows`` and return the next step (after an episode's end, the step that resets it)."""
    after = env.step(action)
    for key, value in (("obs", step.obs[0]), ("state", step.state[0]), ("actions", action[0]),
                       ("rewards", after.reward[0]), ("terminals", after.terminated[0]),
                       ("truncations", after.truncated[0]), ("next_state", after.state[0])):
        rows[key][t] = value
    return env.step(np.zeros_like(action)) if after.done[0] else after


def _rebuild_env(env: MaMuJoCoVectorEnv, replay: dict[str, np.ndarray], done: int, seed: int):
    """The env step after the first ``done`` recorded transitions, checked against the recorded states."""
    rows, step = replay_actions(env, replay["actions"][:done], seed=seed)
    if not np.array_equal(rows["next_state"], replay["next_state"][:done]):
        raise DatasetError("replaying the recorded actions did not reproduce the recorded states (another MuJoCo "
                           "build?); the run cannot resume here: delete the run directory to start again")
    return step


def _mean_deterministic_return(act, actor, env: MaMuJoCoVectorEnv, seed: int) -> float:
    """Mean return of the first episode of each of ``env``'s environments under ``tanh(mean)`` actions."""
    step, total = env.reset(seed=seed), np.zeros(env.n_envs)
    running = np.ones(env.n_envs, dtype=bool)
    shape = (env.n_envs, env.n_agents, env.act_dim)
    while running.any():
        step = env.step(np.clip(np.asarray(act(actor, jnp.asarray(step.state))).reshape(shape), -1.0, 1.0))
        total += np.where(running, step.reward, 0.0)
        running &= ~step.done
    return float(total.mean())


def train_sac(*, env_config: MaMuJoCoConfig, config, seed: int, description: str, out_dir: Path | None = None,
              checkpoint_every: int | None = None, progress: bool = False,
              log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)) -> SACResult:
    """Train (or resume, when ``out_dir`` holds a run of the same options) SAC for ``config.total_steps``.

    ``config`` is an :class:`omiga.data.behavior_mamujoco_sac.SACConfig`. Snapshots are evaluated every
    ``config.snapshot_every`` steps; the run is checkpointed every ``checkpoint_every`` steps (default: at each
    snapshot) when ``out_dir`` is given.
    """
    env = MaMuJoCoVectorEnv(config=env_config, n_envs=1)
    eval_env = MaMuJoCoVectorEnv(config=env_config, n_envs=config.eval_episodes)
    try:
        return _train(env, eval_env, env_config=env_config, config=config, seed=seed, description=description,
                      out_dir=out_dir, checkpoint_every=checkpoint_every or config.snapshot_every,
                      progress=progress, log=log)
    finally:
        env.close()
        eval_env.close()


def _train(env, eval_env, *, env_config, config, seed, description, out_dir, checkpoint_every, progress, log):
    n, d, s, a = env.n_agents, env.obs_dim, env.state_dim, env.act_dim
    total, batch = config.total_steps, config.batch_size
    files = _Checkpoints(out_dir, _header(env_config, config, seed))
    replay = _empty_replay(total, n, d, s, a)
    state, done, snapshots = files.resume(_initial_state(config, n_agents=n, state_dim=s, act_dim=a, seed=seed),
                                          replay)
    if done:
        log(f"resuming {out_dir} at step {done:,} of {total:,}")
    update = make_sac_update(lr=config.lr, gamma=config.gamma, tau=config.tau, target_entropy=-float(n * a))
    act = jax.jit(lambda actor, x, key: sample_action(actor, x, key)[0])
    evaluate = jax.jit(deterministic_action)
    act_key, update_key = jax.random.split(jax.random.PRNGKey(seed))
    step = _rebuild_env(env, replay, done, seed)
    metrics: dict = {}
    actors: dict[int, dict] = {}  # this session's snapshots; earlier sessions' are read back from out_dir
    bar = _progress_bar(total, done, env_config) if progress else None
    start = time.perf_counter()
    for t in range(done, total):
        if t < config.start_steps:
            action = np.random.default_rng((seed, t, 1)).uniform(-1.0, 1.0, size=(1, n, a)).astype(np.float32)
        else:
            joint = act(state.actor, jnp.asarray(step.state), jax.random.fold_in(act_key, t))
            action = np.clip(np.asarray(joint).reshape(1, n, a), -1.0, 1.0)
        step = _record(replay, t, env, step, action)
        if t >= config.start_steps and t + 1 >= batch:
            idx = np.random.default_rng((seed, t, 2)).integers(0, t + 1, size=batch)
            arrays = (replay["state"][idx], replay["actions"][idx].reshape(batch, n * a), replay["rewards"][idx],
                      replay["terminals"][idx].astype(np.float32), replay["next_state"][idx])
            state, metrics = update(state, arrays, jax.random.fold_in(update_key, t))
        if bar is not None:
            bar.update(1)
        if (t + 1) % config.snapshot_every == 0 or t + 1 == total:
            score = _mean_deterministic_return(evaluate, state.actor, eval_env, seed + EVAL_SEED_OFFSET)
            snapshots.append((t + 1, score))
            policy = _policy(state, config, n=n, d=d, s=s, a=a, description=f"{description}; snapshot at step "
                                                                                f"{t + 1} (return {score:.1f})")
            values = {k: float(v) for k, v in jax.device_get(metrics).items()}
            files.snapshot(policy, t + 1, {"step": t + 1, "eval_return": round(score, 3),
                                           **{k: round(values.get(k, float("nan")), 5) for k in HISTORY_FIELDS[2:6]},
                                           "seconds": round(time.perf_counter() - start, 1)})
            line = f"SAC step {t + 1:,}/{total:,}: deterministic return {score:.1f}"
            (bar.write(line, file=sys.stderr) if bar is not None else log(line))
            actors[t + 1] = policy.actors[0].state_dict()
        if (t + 1) % checkpoint_every == 0 or t + 1 == total:
            files.save(state, replay, t + 1, snapshots)
    if bar is not None:
        bar.close()
    kept = tuple((st, sc, actors[st] if st in actors else _stored_actor(out_dir, st)) for st, sc in snapshots)
    replay.pop("next_state")
    replay["truncations"][-1] |= ~replay["terminals"][-1]
    return SACResult(snapshots=kept, replay=replay)


def _stored_actor(out_dir: Path | None, step: int) -> dict:
    """The actor state dict of an earlier session's snapshot (resumed runs)."""
    path = Path(out_dir) / "snapshots" / f"step-{step:09d}.pt"
    return torch.load(path, map_location="cpu", weights_only=True)["actors"][0]


def _policy(state: SACState, config, *, n: int, d: int, s: int, a: int, description: str) -> BehaviorPolicy:
    policy = BehaviorPolicy.initialize(kind="joint", hidden=config.hidden, n_agents=n, obs_dim=d, state_dim=s,
                                       act_dim=a, seed=0, description=description)
    policy.actors[0].load_state_dict(actor_state_dict(state.actor))
    return policy


def _progress_bar(total: int, initial: int, env_config: MaMuJoCoConfig):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=f"SAC {env_config.scenario} {env_config.agent_conf}",
                unit="step", unit_scale=True, file=sys.stderr, dynamic_ncols=True, mininterval=5.0)
