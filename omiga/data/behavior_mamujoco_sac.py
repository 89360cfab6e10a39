"""The project's own MaMuJoCo behaviour learner: SAC on the single-agent-equivalent joint action.

One ``joint`` :class:`~omiga.data.behavior_mamujoco.BehaviorPolicy` reads the global state and outputs every
agent's action; two critics Q(state, joint action) with Polyak targets and a learned temperature complete
standard SAC. Every ``snapshot_every`` steps the actor is evaluated (deterministic ``tanh(mean)`` actions); the
final actor is the expert, the snapshot whose return is closest to ``medium_fraction`` of the expert's is the
medium policy, and the replay buffer up to that snapshot is the medium-replay data. :class:`SACRun` holds all
three and serialises to a ``weights_only``-loadable dict.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from omiga.data.behavior_mamujoco import BehaviorPolicy, hidden_layers
from omiga.envs.mamujoco import MaMuJoCoConfig, MaMuJoCoVectorEnv
from omiga.errors import ConfigError

__all__ = ["REPLAY_FIELDS", "SAC_RUN_FORMAT", "SACConfig", "SACRun", "train_sac_behavior"]

_log = logging.getLogger(__name__)

SAC_RUN_FORMAT = "omiga-mamujoco-sac-run-v1"
REPLAY_FIELDS = ("obs", "state", "actions", "rewards", "terminals", "truncations")


@dataclass(frozen=True)
class SACConfig:
    """Budget and hyper-parameters of the SAC behaviour learner (defaults: the full, ~1 h per core recipe)."""

    total_steps: int = 300_000
    """Environment steps of training (one gradient update per step after ``start_steps``)."""
    start_steps: int = 10_000
    """Initial steps with uniform random actions and no updates."""
    batch_size: int = 256
    """Transitions per gradient update."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the actor and both critics."""
    lr: float = 3e-4
    """Adam learning rate of actor, critics and temperature."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    snapshot_every: int = 10_000
    """Steps between actor snapshots (each evaluated; candidates for the medium policy)."""
    eval_episodes: int = 3
    """Deterministic episodes per snapshot evaluation."""
    medium_fraction: float = 1.0 / 3.0
    """The medium policy is the snapshot whose return is closest to this fraction of the expert's."""

    def __post_init__(self) -> None:
        for name in ("total_steps", "batch_size", "snapshot_every", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"SACConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.start_steps <= self.total_steps:
            raise ConfigError(f"SACConfig.start_steps must lie in [0, total_steps={self.total_steps}], "
                              f"got {self.start_steps}")
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"SACConfig.hidden needs positive layer sizes, got {self.hidden}")
        if not (0 < self.lr and 0 < self.gamma <= 1 and 0 < self.tau <= 1 and 0 < self.medium_fraction <= 1):
            raise ConfigError("SACConfig needs lr > 0, gamma in (0, 1], tau in (0, 1] and medium_fraction in (0, 1]")

    @classmethod
    def with_budget(cls, total_steps: int) -> SACConfig:
        """The default recipe shrunk (or grown) to ``total_steps``: warm-up and snapshot interval keep their
        1/30 share of the budget (10k of 300k), so ``with_budget(300_000) == SACConfig()``."""
        if total_steps < 1:
            raise ConfigError(f"the SAC budget must be >= 1 environment step, got {total_steps}")
        default = cls()
        share = total_steps / default.total_steps
        return cls(total_steps=total_steps, start_steps=round(default.start_steps * share),
                   snapshot_every=max(1, round(default.snapshot_every * share)))


@dataclass(frozen=True, eq=False)
class SACRun:
    """What a SAC behaviour training run leaves: expert and medium actors, snapshot returns, the replay data."""

    expert: BehaviorPolicy
    medium: BehaviorPolicy
    medium_step: int
    """Training step of the medium snapshot; ``replay[:medium_step]`` is the medium-replay data."""
    snapshots: tuple[tuple[int, float], ...]
    """(step, mean deterministic return) of every snapshot, the last one being the expert."""
    replay: dict[str, np.ndarray]
    """Every training step in dataset layout (REPLAY_FIELDS), the final partial episode marked truncated."""

    def to_checkpoint(self) -> dict[str, object]:
        """A ``weights_only``-loadable dict (cached next to the datasets, shared by all qualities)."""
        return {"format": SAC_RUN_FORMAT, "expert": self.expert.to_checkpoint(),
                "medium": self.medium.to_checkpoint(), "medium_step": self.medium_step,
                "snapshots": [list(s) for s in self.snapshots],
                "replay": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.replay.items()}}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, *, source: str) -> SACRun:
        """Inverse of :meth:`to_checkpoint`."""
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != SAC_RUN_FORMAT:
            raise ConfigError(f"{source} is not an omiga SAC run cache; delete it to retrain")
        return cls(expert=BehaviorPolicy.from_checkpoint(checkpoint["expert"], source=source),
                   medium=BehaviorPolicy.from_checkpoint(checkpoint["medium"], source=source),
                   medium_step=int(checkpoint["medium_step"]),
                   snapshots=tuple((int(s), float(r)) for s, r in checkpoint["snapshots"]),
                   replay={k: v.numpy() for k, v in checkpoint["replay"].items()})


def _critic(in_dim: int, hidden: Sequence[int]) -> nn.Sequential:
    """Q(state, joint action) MLP with a scalar output."""
    return nn.Sequential(*hidden_layers(in_dim, hidden), nn.Linear(hidden[-1], 1))


def _mean_deterministic_return(policy: BehaviorPolicy, *, env: MaMuJoCoVectorEnv, seed: int) -> float:
    """Mean return of the first episode of each of ``env``'s environments under ``tanh(mean)`` actions.

    ``env.reset(seed=seed)`` restarts the same episodes every call, so one env serves every snapshot.
    """
    step, total = env.reset(seed=seed), np.zeros(env.n_envs)
    running = np.ones(env.n_envs, dtype=bool)
    while running.any():
        step = env.step(policy.act(obs=step.obs, state=step.state, deterministic=True))
        total += np.where(running, step.reward, 0.0)
        running &= ~step.done
    return float(total.mean())


def train_sac_behavior(*, env_config: MaMuJoCoConfig, config: SACConfig, seed: int, description: str) -> SACRun:
    """Train a joint-action SAC actor on the MaMuJoCo problem ``env_config`` (local observations recorded).

    Cost: ~35-80 environment steps (one update each) per second with the default network on a 2-core
    machine, i.e. 1-2.5 hours for the default 300k steps (docs/mamujoco.md). Deterministic for a seed on a given
    machine and thread count.
    Snapshot returns are logged at INFO level (logger ``omiga.data.behavior_mamujoco_sac``).
    """
    env = MaMuJoCoVectorEnv(config=env_config, n_envs=1)
    eval_env = MaMuJoCoVectorEnv(config=env_config, n_envs=config.eval_episodes)
    n, d, s, a = env.n_agents, env.obs_dim, env.state_dim, env.act_dim
    rng, generator = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    policy = BehaviorPolicy.initialize(kind="joint", hidden=config.hidden, n_agents=n, obs_dim=d, state_dim=s,
                                       act_dim=a, seed=seed, description=description)
    actor = policy.actors[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 1)
        critics = nn.ModuleList([_critic(s + n * a, config.hidden) for _ in range(2)])
    targets = copy.deepcopy(critics).requires_grad_(False)
    log_alpha = torch.zeros((), requires_grad=True)
    optimisers = [torch.optim.Adam(p, lr=config.lr) for p in (actor.parameters(), critics.parameters(), [log_alpha])]
    target_entropy = -float(n * a)
    total = config.total_steps
    replay = {"obs": np.zeros((total, n, d), np.float32), "state": np.zeros((total, s), np.float32),
              "actions": np.zeros((total, n, a), np.float32), "rewards": np.zeros(total, np.float32),
              "terminals": np.zeros(total, bool), "truncations": np.zeros(total, bool)}
    next_state = np.zeros((total, s), np.float32)
    snapshots: list[tuple[int, float, dict]] = []
    step = env.reset(seed=seed)
    for t in range(total):
        action = (rng.uniform(-1.0, 1.0, size=(1, n, a)).astype(np.float32) if t < config.start_steps
                  else policy.act(obs=step.obs, state=step.state, generator=generator))
        after = env.step(action)
        for key, value in (("obs", step.obs[0]), ("state", step.state[0]), ("actions", action[0]),
                           ("rewards", after.reward[0]), ("terminals", after.terminated[0]),
                           ("truncations", after.truncated[0])):
            replay[key][t] = value
        next_state[t] = after.state[0]
        step = env.step(np.zeros_like(action)) if after.done[0] else after  # the next step resets it
        if t >= config.start_steps and t + 1 >= config.batch_size:
            _sac_update(actor, critics, targets, log_alpha, optimisers, config=config, rng=rng, generator=generator,
                        target_entropy=target_entropy, replay=replay, next_state=next_state, size=t + 1)
        if (t + 1) % config.snapshot_every == 0 or t + 1 == total:
            score = _mean_deterministic_return(policy, env=eval_env, seed=seed + 7919)
            snapshots.append((t + 1, score, copy.deepcopy(actor.state_dict())))
            _log.info("SAC behaviour step %d/%d: deterministic return %.1f", t + 1, total, score)
    env.close()
    eval_env.close()
    replay["truncations"][-1] |= ~replay["terminals"][-1]
    expert_return = snapshots[-1][1]
    medium_index = min(range(len(snapshots)),
                       key=lambda i: (abs(snapshots[i][1] - config.medium_fraction * expert_return), i))
    medium = BehaviorPolicy.initialize(kind="joint", hidden=config.hidden, n_agents=n, obs_dim=d, state_dim=s,
                                       act_dim=a, seed=seed, description="")
    medium.actors[0].load_state_dict(snapshots[medium_index][2])
    medium_step = snapshots[medium_index][0]
    medium.description = f"{description}; medium snapshot at step {medium_step} (return {snapshots[medium_index][1]:.1f})"
    policy.description = f"{description}; expert = final actor at step {total} (return {expert_return:.1f})"
    return SACRun(expert=policy, medium=medium, medium_step=medium_step,
                  snapshots=tuple((st, sc) for st, sc, _ in snapshots), replay=replay)


def _sac_update(actor, critics, targets, log_alpha, optimisers, *, config: SACConfig, rng: np.random.Generator,
                generator: torch.Generator, target_entropy: float, replay: dict[str, np.ndarray],
                next_state: np.ndarray, size: int) -> None:
    """One SAC gradient step on a uniform batch of the first ``size`` transitions."""
    idx = rng.integers(0, size, size=config.batch_size)
    state, next_s = torch.from_numpy(replay["state"][idx]), torch.from_numpy(next_state[idx])
    action = torch.from_numpy(replay["actions"][idx]).flatten(1)
    reward, terminal = torch.from_numpy(replay["rewards"][idx]), torch.from_numpy(replay["terminals"][idx]).float()
    alpha = log_alpha.exp().detach()
    with torch.no_grad():
        next_action, next_log_prob = actor.sample(next_s, generator=generator)
        next_q = torch.min(*(t(torch.cat([next_s, next_action], -1)).squeeze(-1) for t in targets))
        target = reward + config.gamma * (1.0 - terminal) * (next_q - alpha * next_log_prob)
    critic_loss = sum(((c(torch.cat([state, action], -1)).squeeze(-1) - target) ** 2).mean() for c in critics)
    optimisers[1].zero_grad()
    critic_loss.backward()
    optimisers[1].step()
    new_action, log_prob = actor.sample(state, generator=generator)
    q_new = torch.min(*(c(torch.cat([state, new_action], -1)).squeeze(-1) for c in critics))
    actor_loss = (alpha * log_prob - q_new).mean()
    optimisers[0].zero_grad()
    actor_loss.backward()
    optimisers[0].step()
    alpha_loss = -(log_alpha * (log_prob.detach() + target_entropy)).mean()
    optimisers[2].zero_grad()
    alpha_loss.backward()
    optimisers[2].step()
    with torch.no_grad():
        for critic, target_net in zip(critics, targets):
            for p, p_target in zip(critic.parameters(), target_net.parameters()):
                p_target.lerp_(p, config.tau)
