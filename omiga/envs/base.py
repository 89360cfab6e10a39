"""The one interface every environment backend implements: a vector of E environments stepped in lock-step.

Arrays are NumPy. After an environment's episode ends, stepping it again is allowed and its outputs are
ignored by callers (a backend may auto-reset it); callers track the first episode of each slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["EnvStep", "VectorEnv", "episode_seed"]


def episode_seed(seed: int, env_index: int, episode: int) -> int:
    """The 32-bit seed of episode ``episode`` of environment ``env_index`` under the reset seed ``seed``.

    Backends that seed a simulator per episode (MaMuJoCo) or per launch (StarCraft II, episode 0) derive it
    here, so environment e's episodes depend only on (seed, e), never on the number of environments.
    """
    return int(np.random.SeedSequence((int(seed) & (2**63 - 1), env_index, episode)).generate_state(1)[0])


@dataclass(frozen=True)
class EnvStep:
    """What a reset or a step of E environments with N agents returns."""

    obs: np.ndarray
    """[E, N, obs_dim] float32 per-agent observations."""
    state: np.ndarray
    """[E, state_dim] float32 global state."""
    avail_actions: np.ndarray | None
    """[E, N, A] bool available-action mask (discrete tasks only, else None)."""
    reward: np.ndarray
    """[E] float32 team reward of the step (0 after reset); SMAC tasks use the 0-20 SMAC scale."""
    terminated: np.ndarray
    """[E] bool: the episode reached a true terminal state at this step."""
    truncated: np.ndarray
    """[E] bool: the episode was cut at this step by a time limit."""
    won: np.ndarray
    """[E] bool: the episode ended in a win (always False where the task has no win)."""

    @property
    def done(self) -> np.ndarray:
        """[E] bool: the episode ended at this step, terminated or truncated."""
        return self.terminated | self.truncated


@runtime_checkable
class VectorEnv(Protocol):
    """E environments with N agents each, stepped in lock-step."""

    n_envs: int
    n_agents: int
    obs_dim: int
    state_dim: int
    discrete: bool
    n_actions: int | None
    act_dim: int | None
    backend: str
    """"smax" | "sc2" | "mamujoco" | "toy": every report names it."""

    def reset(self, *, seed: int) -> EnvStep:
        """Reset all E environments; environment e is seeded deterministically from (seed, e)."""
        ...

    def step(self, actions: np.ndarray) -> EnvStep:
        """Step all environments with actions [E, N] int64 (discrete) or [E, N, act_dim] float32."""
        ...
