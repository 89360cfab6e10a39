"""Vectorised evaluation of a whole population: one vector env with M * episodes slots, all members at once.

Slot k belongs to member k // episodes; only the first episode of each slot counts. Environments are built
once per (task, backend, obs_mode, n_envs) in a process and reused, so repeated evaluations during training
do not recompile (SMAX) or rebuild them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from omiga.errors import ConfigError, OmigaError
from omiga.tasks import TaskSpec, get_task, make_vector_env, resolve_backend

__all__ = ["MAX_EVAL_STEPS", "EvalResult", "PopulationPolicy", "cached_vector_env", "evaluate_population"]

MAX_EVAL_STEPS = 100_000
"""Safety limit on the steps of one evaluation (every backend has a shorter episode time limit)."""


@runtime_checkable
class PopulationPolicy(Protocol):
    """M policies acting at once: obs [M, E, N, obs_dim] -> actions [M, E, N] (int64) or [M, E, N, act_dim]."""

    n_members: int

    def act(self, obs: torch.Tensor, avail_actions: torch.Tensor | None) -> torch.Tensor:
        """Deterministic actions (greedy / tanh(mean)); avail_actions [M, E, N, A] bool or None."""
        ...


@dataclass(frozen=True)
class EvalResult:
    """One member's evaluation."""

    mean_return: float
    """Mean undiscounted return of its episodes (SMAC tasks: 0-20 scale)."""
    win_rate: float | None
    """Fraction of episodes won, or None where the task has no win."""
    mean_length: float
    """Mean episode length in env steps."""
    returns: tuple[float, ...]
    """Each episode's return, in slot order."""


_ENV_CACHE: dict[tuple, object] = {}


def cached_vector_env(task: TaskSpec | str, *, n_envs: int, backend: str | None = None,
                      obs_mode: str = "local"):
    """The process-wide vector env for (task, backend, obs_mode, n_envs), built on first use."""
    spec = get_task(task)
    key = (spec.name, resolve_backend(spec, backend), obs_mode, n_envs)
    if key not in _ENV_CACHE:
        _ENV_CACHE[key] = make_vector_env(spec, n_envs=n_envs, seed=0, backend=key[1], obs_mode=obs_mode)
    return _ENV_CACHE[key]


def evaluate_population(policy: PopulationPolicy, *, task: TaskSpec | str, episodes: int, seed: int,
                        backend: str | None = None, obs_mode: str = "local") -> list[EvalResult]:
    """Run ``episodes`` episodes per member of ``policy``; one `EvalResult` per member, deterministic for a seed."""
    spec = get_task(task)
    n_members = int(policy.n_members)
    if episodes < 1 or n_members < 1:
        raise ConfigError(f"evaluation needs episodes >= 1 and n_members >= 1, got {episodes} and {n_members}")
    env = cached_vector_env(spec, n_envs=n_members * episodes, backend=backend, obs_mode=obs_mode)
    step = env.reset(seed=seed)
    n_slots = n_members * episodes
    returns, lengths = np.zeros(n_slots), np.zeros(n_slots)
    won, ended = np.zeros(n_slots, dtype=bool), np.zeros(n_slots, dtype=bool)
    for _ in range(MAX_EVAL_STEPS):
        actions = _population_actions(policy, step, n_members, episodes)
        step = env.step(actions)
        active = ~ended
        returns += np.where(active, step.reward, 0.0)
        lengths += active
        won |= active & step.won
        ended |= step.terminated | step.truncated
        if ended.all():
            break
    else:
        raise OmigaError(f"evaluation of {spec.name} did not finish within {MAX_EVAL_STEPS} steps: "
                         "the environment never ended its episodes; check its time limit")
    return [_member_result(spec, returns[m * episodes:(m + 1) * episodes],
                           lengths[m * episodes:(m + 1) * episodes], won[m * episodes:(m + 1) * episodes])
            for m in range(n_members)]


def _population_actions(policy: PopulationPolicy, step, n_members: int, episodes: int) -> np.ndarray:
    shape = (n_members, episodes) + step.obs.shape[1:]
    obs = torch.from_numpy(np.ascontiguousarray(step.obs, dtype=np.float32)).reshape(shape)
    avail = None
    if step.avail_actions is not None:
        avail = torch.from_numpy(np.ascontiguousarray(step.avail_actions)).reshape(
            (n_members, episodes) + step.avail_actions.shape[1:])
    with torch.no_grad():
        actions = policy.act(obs, avail)
    actions = actions.detach().cpu().numpy()
    return actions.reshape((n_members * episodes,) + actions.shape[2:])


def _member_result(spec: TaskSpec, returns: np.ndarray, lengths: np.ndarray, won: np.ndarray) -> EvalResult:
    return EvalResult(mean_return=float(returns.mean()),
                      win_rate=float(won.mean()) if spec.has_win_rate else None,
                      mean_length=float(lengths.mean()), returns=tuple(float(r) for r in returns))
