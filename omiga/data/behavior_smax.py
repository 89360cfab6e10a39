"""Scripted behaviour policies for SMAX scenarios, computed from each ally's local observation only.

A policy reads what an ally sees (its own map position and the relative positions of the enemies in sight,
laid out as in SMAX's ``unit_list`` observation) plus its available-action mask, and follows one of two
strategies (the scatter spot on the corridor's circle at angle 0 is the corridor mouth itself: one of the six
scattered zealots stands in the choke alone):

- ``hold``: walk to the layout's post (an arc around the corridor's west mouth; the plateau of the cliff map;
  on open maps there is nothing to hold and ``hold`` behaves like ``charge``) and stay there, attacking the
  closest enemy in range. ``charge``: attack the closest enemy in range, else walk towards the closest enemy in sight (through the
  corridor if needed), else towards the enemies' start box.
- ``scatter`` (the bad decision): ally i walks to its own spot on a wide circle around the allies' start box
  (radius `SCATTER_RADIUS`, kept inside the walkable region) and stays there, attacking the closest enemy in
  range: the team fights spread out in the open and is overrun one unit at a time.

At the start of each episode the team draws its strategy: ``scatter`` with probability ``scatter_prob``, else
``hold`` (one draw from the episode key, kept for the whole battle). So the qualities differ in what they
*decide*, as SMAC's datasets do (policies of different skill; medium mixes good and bad decisions), not only in
noise. With probability ``epsilon`` an ally instead takes a uniformly random available action. Dead allies have
only stop available and take it. Because they read observations only, the same policies can be replayed through
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
from omiga.tasks import SMAX_BEHAVIORS

__all__ = ["BEHAVIOR_VERSION", "QUALITY_POLICIES", "ScriptedPolicy", "ScriptedPopulationPolicy", "behavior_policy",
           "episode_keys"]

BEHAVIOR_VERSION = SMAX_BEHAVIORS["scripted-v2"]
"""Recorded in each dataset's ``behavior`` attribute (see `omiga.tasks.SMAX_BEHAVIORS`)."""

N_UNIT_FEATURES = 13  # health, dx, dy, last move x/y, last target, cooldown, 6 type bits
SCATTER_RADIUS = 6.0  # map units from the centre of the allies' start box
ARRIVED = 0.8  # an ally this close to its post stops (one move covers ~1.6)
_DIRECTIONS = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]])  # SMAX moves 0..3: N, E, S, W


@dataclass(frozen=True)
class ScriptedPolicy:
    """A scripted team policy: how often an episode scatters instead of holding, and an exploration rate."""

    scatter_prob: float
    """Probability that a whole episode is played with ``scatter`` instead of ``hold`` (0: always hold)."""
    epsilon: float
    """Probability of a uniformly random available action instead of the scripted one (per ally and step)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.scatter_prob <= 1.0:
            raise ConfigError(f"scatter_prob must be in [0, 1], got {self.scatter_prob}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], got {self.epsilon}")

    def describe(self) -> str:
        """One line for the dataset's ``behavior`` attribute (names `BEHAVIOR_VERSION`)."""
        return (f"scripted smax-behavior-v{BEHAVIOR_VERSION}: per episode the team scatters over the open "
                f"ground with probability scatter_prob={self.scatter_prob}, else holds the choke (charges on "
                f"maps without one); all attack the closest enemy in range; epsilon={self.epsilon} uniform "
                "random available action")

    def act(self, scenario: SmaxScenario, obs: jax.Array, avail: jax.Array, key: jax.Array,
            episode_key: jax.Array) -> jax.Array:
        """Actions [N] int32 of one team from its observations [N, obs_dim] and masks [N, A] (jittable).

        ``key`` drives this step's exploration; ``episode_key`` (the same on every step of a battle) draws the
        team's strategy.
        """
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
        scatter = jax.random.uniform(episode_key) < self.scatter_prob
        target = jnp.where(scatter, scatter_posts(scenario), _move_target(scenario, position, offsets, distance))
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


def _move_target(scenario: SmaxScenario, position, offsets, distance) -> jax.Array:
    """Where ``hold`` walks [N, 2]: the ally's post when the layout has posts, else the closest enemy."""
    layout = scenario.layout
    ex0, ey0, ex1, ey1 = layout.enemy_start
    fallback = jnp.array([(ex0 + ex1) / 2, (ey0 + ey1) / 2])
    closest = jnp.argmin(distance, axis=-1)
    seen = jnp.isfinite(jnp.min(distance, axis=-1))
    chase = position + offsets[jnp.arange(position.shape[0]), closest]
    charge_target = jnp.where(seen[:, None], chase, fallback)
    if layout.posts is None:
        return charge_target
    return jnp.broadcast_to(hold_posts(scenario), charge_target.shape)


def hold_posts(scenario: SmaxScenario) -> jax.Array:
    """Posts [N, 2]: ally i holds the layout's post i mod (number of posts)."""
    posts = scenario.layout.posts
    return jnp.asarray([posts[i % len(posts)] for i in range(len(scenario.ally_types))], dtype=jnp.float32)


def scatter_posts(scenario: SmaxScenario) -> jax.Array:
    """Scatter spots [N, 2]: ally i at angle 2πi/N on a circle of radius `SCATTER_RADIUS` around the centre of
    the allies' start box, projected onto the walkable region."""
    layout = scenario.layout
    x0, y0, x1, y1 = layout.ally_start
    n = len(scenario.ally_types)
    angles = 2 * np.pi * np.arange(n) / n
    spots = np.stack([(x0 + x1) / 2 + SCATTER_RADIUS * np.cos(angles),
                      (y0 + y1) / 2 + SCATTER_RADIUS * np.sin(angles)], axis=-1)
    return layout.project(jnp.asarray(spots, dtype=jnp.float32))


QUALITY_POLICIES: dict[str, ScriptedPolicy] = {
    "good": ScriptedPolicy(scatter_prob=0.0, epsilon=0.05),
    "medium": ScriptedPolicy(scatter_prob=0.6, epsilon=0.05),
    "poor": ScriptedPolicy(scatter_prob=0.9, epsilon=0.1),
}


def behavior_policy(quality: str) -> ScriptedPolicy:
    """The scripted policy that makes datasets of ``quality`` (good | medium | poor)."""
    try:
        return QUALITY_POLICIES[quality]
    except KeyError:
        raise UnknownNameError("SMAX dataset quality", quality, QUALITY_POLICIES) from None


def episode_keys(seed: int, first: int, count: int) -> jax.Array:
    """Episode keys [count] of battles first..first+count-1: ``fold_in(PRNGKey(seed), e)``; step t uses
    ``fold_in(episode_key, t)``."""
    return jax.vmap(lambda e: jax.random.fold_in(jax.random.PRNGKey(seed), e))(jnp.arange(first, first + count))


class ScriptedPopulationPolicy:
    """A population (for `omiga.evaluate`) whose member m runs the scripted policy ``policies[m]``.

    Slot e of member m (battle ``m * E + e`` of `omiga.evaluate`'s vector env) uses episode key
    ``fold_in(PRNGKey(seed), m * E + e)`` and, on its t-th call, step key ``fold_in(episode_key, t)``: the
    builder's keys for episode ``m * E + e``, so with ``seed = build seed + 1`` an evaluation replays a built
    dataset's episodes exactly. One instance is meant for one evaluation (its step counter is not reset).
    """

    def __init__(self, policies: list[ScriptedPolicy], *, scenario: SmaxScenario, seed: int = 0):
        self.policies, self.scenario, self.seed = tuple(policies), scenario, seed
        self.n_members = len(self.policies)
        self._t = 0
        self._act = [jitted_team_act(p, scenario) for p in self.policies]

    def act(self, obs, avail_actions):
        """obs [M, E, N, obs_dim], avail [M, E, N, A] torch tensors -> actions [M, E, N] int64."""
        import torch

        n_envs = obs.shape[1]
        episodes = episode_keys(self.seed, 0, self.n_members * n_envs)
        steps = jax.vmap(jax.random.fold_in, in_axes=(0, None))(episodes, self._t)
        self._t += 1
        obs_np, avail_np = obs.cpu().numpy(), avail_actions.cpu().numpy()
        rows = [slice(m * n_envs, (m + 1) * n_envs) for m in range(self.n_members)]
        actions = [np.asarray(act(obs_np[m], avail_np[m], steps[rows[m]], episodes[rows[m]]))
                   for m, act in enumerate(self._act)]
        return torch.from_numpy(np.stack(actions).astype(np.int64))


@cache
def jitted_team_act(policy: ScriptedPolicy, scenario: SmaxScenario):
    """Jitted ``policy.act`` over E battles: (obs [E, N, D], avail [E, N, A], step keys [E], episode keys [E])
    -> actions [E, N]."""
    return jax.jit(jax.vmap(partial_act(policy, scenario)))


def partial_act(policy: ScriptedPolicy, scenario: SmaxScenario):
    """``policy.act`` with the scenario bound: (obs [N, D], avail [N, A], key, episode_key) -> actions [N]."""
    return lambda obs, avail, key, episode_key: policy.act(scenario, obs, avail, key, episode_key)
