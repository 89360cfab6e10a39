"""Scripted behaviour policies for SMAX scenarios, computed from each ally's local observation only.

A policy reads what an ally sees (its own map position and the relative positions of the enemies in sight,
laid out as in SMAX's ``unit_list`` observation) plus its available-action mask:

- ``hold``: walk to the layout's post (an arc around the corridor's west mouth; the plateau of the cliff map;
  on open maps there is nothing to hold and ``hold`` behaves like ``charge``) and stay there, attacking the
  closest enemy in range.
- ``charge``: attack the closest enemy in range, else walk towards the closest enemy in sight (through the
  corridor if needed), else towards the enemies' start box.

With probability ``epsilon`` an ally instead takes a uniformly random available action. Dead allies have only
stop available and take it. Because they read observations only, the same policies can be replayed through
`omiga.evaluate` (see `ScriptedPopulationPolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np

from omiga.envs.smax import N_MOVE_ACTIONS, STOP_ACTION
from omiga.envs.smax_scenarios import SmaxScenario
from omiga.errors import ConfigError, UnknownNameError

__all__ = ["QUALITY_POLICIES", "ScriptedPolicy", "ScriptedPopulationPolicy", "behavior_policy"]

N_UNIT_FEATURES = 13  # health, dx, dy, last move x/y, last target, cooldown, 6 type bits
ARRIVED = 0.8  # an ally this close to its post stops (one move covers ~1.6)
_DIRECTIONS = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]])  # SMAX moves 0..3: N, E, S, W


@dataclass(frozen=True)
class ScriptedPolicy:
    """A scripted ally policy: a movement mode and an exploration rate."""

    mode: str
    """"hold" (hold the choke) or "charge" (go for the enemy)."""
    epsilon: float
    """Probability of a uniformly random available action instead of the scripted one."""

    def __post_init__(self) -> None:
        if self.mode not in ("hold", "charge"):
            raise ConfigError(f"policy mode {self.mode!r} must be 'hold' or 'charge'")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], got {self.epsilon}")

    def describe(self) -> str:
        """One line for the dataset's ``behavior`` attribute."""
        what = {"hold": "hold the choke, attack the closest enemy in range",
                "charge": "charge the closest enemy in sight, attack the closest in range"}[self.mode]
        return f"scripted {self.mode}: {what}; epsilon={self.epsilon} uniform random available action"

    def act(self, scenario: SmaxScenario, obs: jax.Array, avail: jax.Array, key: jax.Array) -> jax.Array:
        """Actions [N] int32 of one team from its observations [N, obs_dim] and masks [N, A] (jittable)."""
        n_allies, n_enemies = len(scenario.ally_types), len(scenario.enemy_types)
        layout = scenario.layout
        own = obs[:, -10:]
        position = own[:, 1:3] * jnp.array([layout.width, layout.height])
        first = (n_allies - 1) * N_UNIT_FEATURES
        enemies = obs[:, first:first + n_enemies * N_UNIT_FEATURES].reshape(-1, n_enemies, N_UNIT_FEATURES)
        sight = jnp.asarray([s.sight_range for s in scenario.stats])[jnp.array(scenario.ally_types)]
        offsets = enemies[..., 1:3] * sight[:, None, None]
        distance = jnp.where(enemies[..., 0] > 0, jnp.linalg.norm(offsets, axis=-1), jnp.inf)
        attackable = avail[:, N_MOVE_ACTIONS:]
        attack = N_MOVE_ACTIONS + jnp.argmin(jnp.where(attackable, distance, jnp.inf), axis=-1)
        target = self._move_target(scenario, position, offsets, distance)
        waypoint = jax.vmap(layout.waypoint)(position, target)
        to_go = waypoint - position
        move = jnp.argmax(to_go @ _DIRECTIONS.T, axis=-1)
        move = jnp.where(jnp.linalg.norm(target - position, axis=-1) < ARRIVED, STOP_ACTION, move)
        scripted = jnp.where(jnp.any(attackable, axis=-1), attack, move)
        explore_key, choice_key = jax.random.split(key)
        explore = jax.random.uniform(explore_key, (n_allies,)) < self.epsilon
        random = jax.random.categorical(choice_key, jnp.where(avail, 0.0, -jnp.inf), axis=-1)
        action = jnp.where(explore, random, scripted)
        alive = own[:, 0] > 0
        return jnp.where(alive, action, STOP_ACTION).astype(jnp.int32)

    def _move_target(self, scenario: SmaxScenario, position, offsets, distance) -> jax.Array:
        layout = scenario.layout
        ex0, ey0, ex1, ey1 = layout.enemy_start
        fallback = jnp.array([(ex0 + ex1) / 2, (ey0 + ey1) / 2])
        closest = jnp.argmin(distance, axis=-1)
        seen = jnp.isfinite(jnp.min(distance, axis=-1))
        chase = position + offsets[jnp.arange(position.shape[0]), closest]
        charge = jnp.where(seen[:, None], chase, fallback)
        if self.mode == "charge" or layout.posts is None:
            return charge
        return hold_posts(scenario)


def hold_posts(scenario: SmaxScenario) -> jax.Array:
    """Posts [N, 2]: ally i holds the layout's post i mod (number of posts)."""
    posts = scenario.layout.posts
    return jnp.asarray([posts[i % len(posts)] for i in range(len(scenario.ally_types))], dtype=jnp.float32)


QUALITY_POLICIES: dict[str, ScriptedPolicy] = {
    "good": ScriptedPolicy(mode="hold", epsilon=0.0),
    "medium": ScriptedPolicy(mode="hold", epsilon=0.3),
    "poor": ScriptedPolicy(mode="charge", epsilon=0.6),
}


def behavior_policy(quality: str) -> ScriptedPolicy:
    """The scripted policy that makes datasets of ``quality`` (good | medium | poor)."""
    try:
        return QUALITY_POLICIES[quality]
    except KeyError:
        raise UnknownNameError("SMAX dataset quality", quality, QUALITY_POLICIES) from None


class ScriptedPopulationPolicy:
    """A population (for `omiga.evaluate`) whose member m runs the scripted policy ``policies[m]``.

    Random choices (epsilon) use a key advanced on every call, starting from ``seed``.
    """

    def __init__(self, policies: list[ScriptedPolicy], *, scenario: SmaxScenario, seed: int = 0):
        self.policies, self.scenario = tuple(policies), scenario
        self.n_members = len(self.policies)
        self._key = jax.random.PRNGKey(seed)
        self._act = [jitted_team_act(p, scenario) for p in self.policies]

    def act(self, obs, avail_actions):
        """obs [M, E, N, obs_dim], avail [M, E, N, A] torch tensors -> actions [M, E, N] int64."""
        import torch

        self._key, key = jax.random.split(self._key)
        keys = jax.random.split(key, self.n_members * obs.shape[1]).reshape(self.n_members, obs.shape[1], -1)
        obs_np, avail_np = obs.cpu().numpy(), avail_actions.cpu().numpy()
        actions = [np.asarray(act(obs_np[m], avail_np[m], keys[m])) for m, act in enumerate(self._act)]
        return torch.from_numpy(np.stack(actions).astype(np.int64))


@cache
def jitted_team_act(policy: ScriptedPolicy, scenario: SmaxScenario):
    """Jitted ``policy.act`` over E battles: (obs [E, N, D], avail [E, N, A], keys [E]) -> actions [E, N]."""
    return jax.jit(jax.vmap(partial_act(policy, scenario)))


def partial_act(policy: ScriptedPolicy, scenario: SmaxScenario):
    """``policy.act`` with the scenario bound: (obs [N, D], avail [N, A], key) -> actions [N]."""
    return lambda obs, avail, key: policy.act(scenario, obs, avail, key)
