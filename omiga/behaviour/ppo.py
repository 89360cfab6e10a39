"""MAPPO for the SMAX stand-ins: the online learner that makes the behaviour policies of the SMAC datasets.

The paper's SMAC data come from MADT, whose behaviour policies are MAPPO agents of different skill. This is
that learner, written in JAX so the rollout, the advantages and the update run as one jitted program over E
vmapped battles (`omiga.envs.smax.SmaxBattles`):

- parameter sharing with a one-hot agent id; a masked categorical policy over the available actions
  (`omiga.behaviour.networks.Actor`); a centralised critic V(s, i) on the world state (MAPPO);
- a rollout of T steps in every battle (``lax.scan``), a finished battle restarting from a fresh one;
  time-limit truncations bootstrap from the value of the last state, terminations do not;
- GAE(λ) per agent on the team reward, scaled by ``reward_scale`` (SMAC's 0-20 return becomes 0-2);
- ``epochs`` passes of clipped PPO over ``minibatches`` shuffled minibatches, one Adam for actor and critic,
  global gradient-norm clipping; dead agents (only stop available) are left out of the policy loss.

Hyperparameters follow MAPPO's SMAC settings (Yu et al. 2022: clip 0.2, GAE λ 0.95, γ 0.99, entropy 0.01,
lr 5e-4, gradient norm 10 there, 0.5 here with the smaller scaled rewards) with the rollout sized for 2 CPU
cores. One `update` = E × T team-steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from omiga.behaviour.networks import Actor, Critic
from omiga.envs.smax import BattleState, SmaxBattles
from omiga.errors import ConfigError

__all__ = ["PPOConfig", "TrainState", "init_train_state", "make_update"]


@dataclass(frozen=True)
class PPOConfig:
    """MAPPO hyperparameters (see the module docstring for their sources)."""

    n_envs: int = 64
    """Battles stepped together (E)."""
    rollout_steps: int = 64
    """Steps per battle per update (T); an update sees E × T team-steps."""
    lr: float = 5e-4
    """Adam learning rate (actor and critic)."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """GAE λ."""
    clip: float = 0.2
    """PPO ratio clip ε."""
    entropy_coef: float = 0.01
    """Weight of the policy entropy bonus."""
    value_coef: float = 0.5
    """Weight of the critic's squared error."""
    epochs: int = 4
    """Passes over each rollout."""
    minibatches: int = 4
    """Minibatches per pass (over the E × T team-steps)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    hidden: int = 128
    """Hidden units of actor and critic (two layers each)."""
    reward_scale: float = 0.1
    """Rewards are multiplied by this before the critic sees them."""

    def __post_init__(self) -> None:
        for name in ("n_envs", "rollout_steps", "epochs", "minibatches", "hidden"):
            if getattr(self, name) < 1:
                raise ConfigError(f"PPO {name} must be >= 1, got {getattr(self, name)}")
        if (self.n_envs * self.rollout_steps) % self.minibatches:
            raise ConfigError("PPO n_envs * rollout_steps must be divisible by minibatches")
        if not (0 < self.gamma <= 1 and 0 <= self.gae_lambda <= 1 and self.clip > 0 and self.lr > 0):
            raise ConfigError("PPO needs 0 < gamma <= 1, 0 <= gae_lambda <= 1, clip > 0 and lr > 0")

    @property
    def team_steps_per_update(self) -> int:
        """Team-steps (one step of one battle) collected per update."""
        return self.n_envs * self.rollout_steps


class TrainState(NamedTuple):
    """Everything an update reads and writes: parameters, optimiser, battles, statistics."""

    params: dict[str, Any]
    opt_state: Any
    battles: BattleState
    episode_return: jax.Array  # [E] SMAC-scale return of each battle so far
    key: jax.Array
    updates: jax.Array  # updates done


class Transition(NamedTuple):
    obs: jax.Array
    state: jax.Array
    avail: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    terminal: jax.Array
    done: jax.Array
    finished_return: jax.Array  # the battle's return where it ended this step, else NaN
    won: jax.Array


def networks(battles: SmaxBattles, config: PPOConfig) -> tuple[Actor, Critic]:
    """The actor and critic modules of a scenario."""
    return (Actor(n_actions=battles.n_actions, hidden=config.hidden),
            Critic(n_agents=battles.n_allies, hidden=config.hidden))


def optimiser(config: PPOConfig) -> optax.GradientTransformation:
    """Global-norm clipping then Adam."""
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(config.lr, eps=1e-5))


def init_train_state(battles: SmaxBattles, config: PPOConfig, *, seed: int) -> TrainState:
    """Fresh networks, optimiser and E battles for ``seed``."""
    actor, critic = networks(battles, config)
    key = jax.random.PRNGKey(seed)
    key, actor_key, critic_key, env_key = jax.random.split(key, 4)
    obs = jnp.zeros((battles.n_allies, battles.obs_dim))
    avail = jnp.ones((battles.n_allies, battles.n_actions), bool)
    params = {"actor": actor.init(actor_key, obs, avail),
              "critic": critic.init(critic_key, jnp.zeros((battles.state_dim,)))}
    states = jax.vmap(battles.reset)(jax.random.split(env_key, config.n_envs))
    return TrainState(params=params, opt_state=optimiser(config).init(params), battles=states,
                      episode_return=jnp.zeros((config.n_envs,)), key=key, updates=jnp.asarray(0))


def _select(mask: jax.Array, a, b):
    """Per battle: a where mask else b, over a pytree of battle states [E, ...]."""
    return jax.tree.map(lambda x, y: jnp.where(mask.reshape((-1,) + (1,) * (x.ndim - 1)), x, y), a, b)


@cache
def make_update(battles: SmaxBattles, config: PPOConfig):
    """The jitted update: (TrainState) -> (TrainState, metrics dict of scalars); one per scenario and config,
    so a process compiles it once."""
    actor, critic = networks(battles, config)
    tx = optimiser(config)
    observe = jax.vmap(battles.observe)
    step = jax.vmap(battles.step)
    world_state = jax.vmap(lambda s: battles.env.get_world_state(s.smax).astype(jnp.float32))

    def rollout_step(carry, _):
        params, states, episode_return, fresh, key = carry
        key, act_key = jax.random.split(key)
        obs, state, avail = observe(states)
        logits = actor.apply(params["actor"], obs, avail)
        action = jax.random.categorical(act_key, logits)
        log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[..., None], axis=-1)[..., 0]
        value = critic.apply(params["critic"], state)
        new_states, reward, terminated, truncated, won = step(states, action)
        done = terminated | truncated
        # A time limit is not a terminal: bootstrap from the value of the state it stopped in.
        last_value = critic.apply(params["critic"], world_state(new_states)).mean(axis=-1)
        scaled = reward * config.reward_scale + jnp.where(truncated, config.gamma * last_value, 0.0)
        episode_return = episode_return + reward
        finished = jnp.where(done, episode_return, jnp.nan)
        next_states = _select(done, fresh, new_states)
        transition = Transition(obs, state, avail, action, log_prob, value, scaled, terminated, done,
                                finished, won & done)
        return (params, next_states, jnp.where(done, 0.0, episode_return), fresh, key), transition

    def advantages(trajectory: Transition, last_value: jax.Array) -> tuple[jax.Array, jax.Array]:
        def backward(carry, t):
            gae, next_value = carry
            not_done = (1.0 - t.done)[:, None]
            delta = t.reward[:, None] + config.gamma * next_value * not_done - t.value
            gae = delta + config.gamma * config.gae_lambda * not_done * gae
            return (gae, t.value), gae

        _, adv = jax.lax.scan(backward, (jnp.zeros_like(last_value), last_value), trajectory, reverse=True)
        return adv, adv + trajectory.value

    def loss(params, batch: Transition, adv, target):
        logits = actor.apply(params["actor"], batch.obs, batch.avail)
        log_probs = jax.nn.log_softmax(logits)
        log_prob = jnp.take_along_axis(log_probs, batch.action[..., None], axis=-1)[..., 0]
        alive = (batch.avail.sum(-1) > 1).astype(jnp.float32)  # dead agents have only stop
        n_alive = jnp.maximum(alive.sum(), 1.0)
        norm_adv = (adv - (adv * alive).sum() / n_alive) / (jnp.sqrt(
            (((adv - (adv * alive).sum() / n_alive) ** 2) * alive).sum() / n_alive) + 1e-8)
        ratio = jnp.exp(log_prob - batch.log_prob)
        surrogate = jnp.minimum(ratio * norm_adv, jnp.clip(ratio, 1 - config.clip, 1 + config.clip) * norm_adv)
        policy_loss = -(surrogate * alive).sum() / n_alive
        probs = jnp.exp(log_probs)
        entropy = (-(probs * jnp.where(batch.avail, log_probs, 0.0)).sum(-1) * alive).sum() / n_alive
        value_loss = jnp.mean((critic.apply(params["critic"], batch.state) - target) ** 2)
        total = policy_loss + config.value_coef * value_loss - config.entropy_coef * entropy
        return total, {"loss/policy": policy_loss, "loss/value": value_loss, "policy/entropy": entropy}

    def minibatch_step(carry, batch):
        params, opt_state = carry
        transition, adv, target = batch
        grads, info = jax.grad(loss, has_aux=True)(params, transition, adv, target)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), info

    def epoch(carry, key):
        params, opt_state, data = carry
        size = config.n_envs * config.rollout_steps
        order = jax.random.permutation(key, size)
        shuffled = jax.tree.map(
            lambda x: x.reshape((size, *x.shape[2:]))[order].reshape(
                (config.minibatches, size // config.minibatches, *x.shape[2:])), data)
        (params, opt_state), info = jax.lax.scan(minibatch_step, (params, opt_state), shuffled)
        return (params, opt_state, data), info

    @jax.jit
    def update(train: TrainState):
        key, reset_key, rollout_key, epoch_key = jax.random.split(train.key, 4)
        fresh = jax.vmap(battles.reset)(jax.random.split(reset_key, config.n_envs))
        carry = (train.params, train.battles, train.episode_return, fresh, rollout_key)
        (params, states, episode_return, _, _), trajectory = jax.lax.scan(
            rollout_step, carry, None, length=config.rollout_steps)
        last_value = critic.apply(params["critic"], observe(states)[1])
        adv, target = advantages(trajectory, last_value)
        (params, opt_state, _), info = jax.lax.scan(
            epoch, (params, train.opt_state, (trajectory, adv, target)),
            jax.random.split(epoch_key, config.epochs))
        finished = trajectory.finished_return
        n_finished = jnp.sum(~jnp.isnan(finished))
        metrics = {k: v.mean() for k, v in info.items()}
        metrics.update({
            "episodes": n_finished,
            "return_sum": jnp.nansum(finished),
            "wins": jnp.sum(trajectory.won),
        })
        new = TrainState(params=params, opt_state=opt_state, battles=states, episode_return=episode_return,
                         key=key, updates=train.updates + 1)
        return new, metrics

    return update
