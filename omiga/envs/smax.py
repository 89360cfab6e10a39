"""SMAX backend: E SMAX battles stepped in lock-step, vmapped and jitted, returning NumPy (no torch).

The allies are the learning team; the enemies follow a scripted state-based policy (attack the closest ally in
range, else walk towards the closest ally along the terrain's waypoints). Rewards are rebuilt on SMAC's 0-20
scale from state changes: enemy hit points lost + 10 per kill + 200 for a win, times 20 / (their maximum).
No auto-reset: a finished battle keeps being stepped and its outputs are meaningless (callers track the
first episode of each slot). Environment e of ``reset(seed=s)`` is seeded from ``fold_in(PRNGKey(s), e)``
only, so slot e replays the same battle whatever the number of environments.
"""

from __future__ import annotations

from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from flax.struct import dataclass as pytree_dataclass

from omiga.envs.base import EnvStep
from omiga.envs.corridor import TerrainSMAX
from omiga.envs.smax_jax import SMAX  # noqa: F401  (silenced import, compilation cache)
from omiga.envs.smax_scenarios import SmaxScenario, get_scenario
from omiga.errors import ConfigError

__all__ = ["N_MOVE_ACTIONS", "STOP_ACTION", "SmaxBattles", "SmaxVectorEnv", "battles_for", "make_smax_vector_env"]

STOP_ACTION = 4
N_MOVE_ACTIONS = 5
KILL_BONUS, WIN_BONUS, SMAC_MAX_RETURN = 10.0, 200.0, 20.0


@pytree_dataclass
class BattleState:
    """One battle: SMAX's state, its random key, and whether the first episode has ended."""

    smax: object
    key: jax.Array
    ended: jax.Array


class SmaxBattles:
    """Pure, jittable single-battle functions for a scenario (vmapped by `SmaxVectorEnv` and the builders)."""

    def __init__(self, scenario: SmaxScenario):
        from jaxmarl.environments.smax.smax_env import Scenario

        self.scenario = scenario
        types = jnp.asarray((*scenario.ally_types, *scenario.enemy_types), dtype=jnp.uint8)
        n_allies, n_enemies = len(scenario.ally_types), len(scenario.enemy_types)
        stats = {k: jnp.asarray(v) for k, v in scenario.smax_kwargs().items()}
        self.env = TerrainSMAX(layout=scenario.layout, max_steps=scenario.max_steps,
                               scenario=Scenario(types, n_allies, n_enemies, False, False), **stats)
        self.n_allies, self.n_enemies = n_allies, n_enemies
        self.obs_dim = int(self.env.obs_size)
        self.state_dim = int(self.env.state_size)
        self.n_actions = N_MOVE_ACTIONS + n_enemies
        enemy_health = np.asarray(stats["unit_type_health"])[list(scenario.enemy_types)]
        self.reward_scale = SMAC_MAX_RETURN / (enemy_health.sum() + KILL_BONUS * n_enemies + WIN_BONUS)

    def reset(self, key: jax.Array) -> BattleState:
        """A fresh battle; leaves are cast to strong types so the step compiles once."""
        key, reset_key = jax.random.split(key)
        _, smax_state = self.env.reset(reset_key)
        state = BattleState(smax=smax_state, key=key, ended=jnp.array(False))
        return jax.tree.map(lambda x: jnp.asarray(x, dtype=x.dtype), state)

    def observe(self, state: BattleState) -> tuple[jax.Array, jax.Array, jax.Array]:
        """(obs [N, obs_dim] float32, world state [state_dim] float32, avail [N, A] bool) of the allies."""
        avail = self.env.get_avail_actions(state.smax)
        agents = self.env.agents[: self.n_allies]
        return (self.ally_observations(state.smax).astype(jnp.float32),
                self.env.get_world_state(state.smax).astype(jnp.float32),
                jnp.stack([avail[a] for a in agents]).astype(bool))

    def ally_observations(self, smax_state) -> jax.Array:
        """The allies' rows of SMAX's unit-list observation ([N, obs_dim], equal to ``env.get_obs``'s values).

        ``get_obs`` builds every unit's observation, the enemies' too (30 rows on the corridor, 66 on 2c_vs_64zg)
        of which the allies use N; this evaluates SMAX's own per-pair and own-unit feature functions
        (``_observe_features``, ``_get_own_features``) for the allies alone. Ally i sees the other units in index
        order (unit j for j < i, j + 1 after), each zeroed unless i and it are alive and it is within i's sight.
        """
        env, n_others = self.env, self.env.num_agents - 1
        allies, others = jnp.arange(self.n_allies)[:, None], jnp.arange(n_others)[None, :]
        seen = jnp.where(others < allies, others, others + 1)  # [N, n_others] unit indices
        viewer = jnp.broadcast_to(allies, seen.shape)
        features = jax.vmap(jax.vmap(env._observe_features, in_axes=(None, 0, 0)), in_axes=(None, 0, 0))(
            smax_state, viewer, seen)
        positions, alive = smax_state.unit_positions, smax_state.unit_alive
        sight = env.unit_type_sight_ranges[smax_state.unit_types[viewer]]
        visible = jnp.linalg.norm(positions[seen] - positions[viewer], axis=-1) < sight
        shown = visible & alive[viewer] & alive[seen]
        others_obs = jnp.where(shown[..., None], features, jnp.zeros_like(features)).reshape(self.n_allies, -1)
        own = jax.vmap(env._get_own_features, in_axes=(None, 0))(smax_state, jnp.arange(self.n_allies))
        return jnp.concatenate([others_obs, own], axis=-1)

    def enemy_actions(self, smax_state) -> jax.Array:
        """Each enemy attacks the closest living ally in range, else walks towards it (via waypoints)."""
        env, na = self.env, self.n_allies
        positions, alive = smax_state.unit_positions, smax_state.unit_alive
        ally_pos, enemy_pos = positions[:na], positions[na:]
        dist = jnp.linalg.norm(enemy_pos[:, None] - ally_pos[None], axis=-1)
        dist = jnp.where(alive[None, :na], dist, jnp.inf)
        target = jnp.argmin(dist, axis=-1)
        in_range = dist[jnp.arange(self.n_enemies), target] < env.unit_type_attack_ranges[
            smax_state.unit_types[na:]]
        waypoints = jax.vmap(env.layout.waypoint)(enemy_pos, ally_pos[target])
        directions = jnp.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]])
        move = jnp.argmax((waypoints - enemy_pos) @ directions.T, axis=-1)
        attack = N_MOVE_ACTIONS + na - 1 - target  # enemies index allies in reverse order
        action = jnp.where(in_range, attack, move)
        return jnp.where(jnp.any(alive[:na]), action, STOP_ACTION)

    def step(self, state: BattleState, actions: jax.Array):
        """Advance one battle by one env step; returns (state, reward, terminated, truncated, won)."""
        env, na = self.env, self.n_allies
        smax_state = state.smax
        key, step_key = jax.random.split(state.key)
        all_actions = jnp.concatenate([actions.astype(jnp.int32), self.enemy_actions(smax_state)])
        decoded = env._decode_discrete_actions(all_actions)
        _, new_smax, _, _, _ = env.step_env_no_decode(step_key, smax_state, decoded)
        max_health = env.unit_type_health[smax_state.unit_types[na:]]
        hp_lost = jnp.sum(jnp.clip(smax_state.unit_health[na:] - new_smax.unit_health[na:], 0.0, max_health))
        kills = jnp.sum(smax_state.unit_alive[na:] & ~new_smax.unit_alive[na:])
        allies_dead = ~jnp.any(new_smax.unit_alive[:na])
        enemies_dead = ~jnp.any(new_smax.unit_alive[na:])
        won = enemies_dead & ~allies_dead
        terminated = allies_dead | enemies_dead
        truncated = (new_smax.step >= self.scenario.max_steps) & ~terminated
        reward = (hp_lost + KILL_BONUS * kills + WIN_BONUS * won) * self.reward_scale
        new_state = BattleState(smax=new_smax, key=key, ended=state.ended | terminated | truncated)
        return new_state, reward.astype(jnp.float32), terminated, truncated, won


@cache
def battles_for(scenario: SmaxScenario) -> SmaxBattles:
    """The process-wide `SmaxBattles` of a scenario (one object per scenario, so jitted code is reused)."""
    return SmaxBattles(scenario)


class SmaxVectorEnv:
    """`VectorEnv` over E SMAX battles of one scenario (backend "smax")."""

    backend = "smax"
    discrete = True
    act_dim = None

    def __init__(self, *, scenario: str | SmaxScenario, n_envs: int, seed: int = 0):
        if n_envs < 1:
            raise ConfigError(f"n_envs must be >= 1, got {n_envs}")
        self.battles = battles_for(get_scenario(scenario) if isinstance(scenario, str) else scenario)
        self.n_envs, self.seed = n_envs, seed
        self.n_agents = self.battles.n_allies
        self.obs_dim, self.state_dim = self.battles.obs_dim, self.battles.state_dim
        self.n_actions = self.battles.n_actions
        self._reset = jax.jit(partial(_reset_battles, self.battles), static_argnums=(1,))
        self._step = jax.jit(partial(_step_battles, self.battles))
        self._state: BattleState | None = None

    def reset(self, *, seed: int) -> EnvStep:
        """Reset all battles; battle e is seeded from (seed, e)."""
        self._state, outputs = self._reset(jnp.asarray(seed, dtype=jnp.uint32), self.n_envs)
        return _to_env_step(outputs)

    def step(self, actions: np.ndarray) -> EnvStep:
        """Step every battle with the allies' actions [E, N] (int)."""
        if self._state is None:
            raise ConfigError("call reset(seed=...) before step()")
        actions = np.asarray(actions)
        if actions.shape != (self.n_envs, self.n_agents):
            raise ConfigError(f"actions must have shape {(self.n_envs, self.n_agents)}, got {actions.shape}")
        self._state, outputs = self._step(self._state, jnp.asarray(actions, dtype=jnp.int32))
        return _to_env_step(outputs)


def battle_keys(seed: jax.Array, n_envs: int, offset: int = 0) -> jax.Array:
    """The reset key of battles offset..offset+n_envs-1 for a seed."""
    base = jax.random.PRNGKey(seed)
    return jax.vmap(lambda e: jax.random.fold_in(base, e))(jnp.arange(offset, offset + n_envs))


def _observed(battles: SmaxBattles, state: BattleState, reward, terminated, truncated, won):
    obs, world, avail = jax.vmap(battles.observe)(state)
    return obs, world, avail, reward, terminated, truncated, won


def _reset_battles(battles: SmaxBattles, seed: jax.Array, n_envs: int, offset: int = 0):
    state = jax.vmap(battles.reset)(battle_keys(seed, n_envs, offset))
    zeros = jnp.zeros((n_envs,), bool)
    return state, _observed(battles, state, jnp.zeros((n_envs,), jnp.float32), zeros, zeros, zeros)


def _step_battles(battles: SmaxBattles, state: BattleState, actions: jax.Array):
    state, reward, terminated, truncated, won = jax.vmap(battles.step)(state, actions)
    return state, _observed(battles, state, reward, terminated, truncated, won)


def _to_env_step(outputs) -> EnvStep:
    obs, world, avail, reward, terminated, truncated, won = jax.device_get(outputs)
    return EnvStep(obs=np.array(obs), state=np.array(world), avail_actions=np.array(avail),
                   reward=np.asarray(reward), terminated=np.asarray(terminated),
                   truncated=np.asarray(truncated), won=np.asarray(won))


def make_smax_vector_env(*, scenario: str, n_envs: int, seed: int = 0) -> SmaxVectorEnv:
    """The registry's factory: E battles of a SMAX scenario ("corridor", "5m_vs_6m", ...)."""
    return SmaxVectorEnv(scenario=scenario, n_envs=n_envs, seed=seed)
