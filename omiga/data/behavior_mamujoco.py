"""Behaviour policies for MaMuJoCo datasets: a tanh-Gaussian MLP actor and its checkpoint format.

Checkpoint format (a ``torch.save`` of plain containers and tensors, read with ``weights_only=True``)::

    {"format": "omiga-mamujoco-behavior-v1",
     "kind": "joint" | "shared" | "per_agent",
     "hidden": [256, 256],                 # hidden layer sizes of every actor
     "n_agents": N, "obs_dim": D, "state_dim": S, "act_dim": A,
     "description": "how the policy was made",
     "actors": [state_dict, ...]}          # 1 actor ("joint", "shared") or N actors ("per_agent")

Inputs and outputs of the actors (observations are the env's ``obs_mode="local"`` zero-padded ones):

- ``joint``: one actor reads the global state ``[S]`` and outputs all agents' actions ``[N * A]``
  (agent-major); this is what the project's SAC learner trains (single-agent-equivalent joint action).
- ``shared``: one actor reads ``[obs (D), one-hot agent id (N)]`` and outputs the agent's ``[A]``.
- ``per_agent``: actor n reads agent n's ``[D]`` observation and outputs its ``[A]``.

An actor is ``body`` (Linear + ReLU per hidden layer) and ``head`` (Linear to ``2 * out``: mean, then
log-std clamped to [-5, 2]); actions are ``tanh(mean + std * noise)`` (``tanh(mean)`` when deterministic).
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from omiga.envs.mamujoco import MaMuJoCoConfig, MaMuJoCoVectorEnv
from omiga.errors import ConfigError

__all__ = [
    "ACTOR_KINDS",
    "BEHAVIOR_CHECKPOINT_FORMAT",
    "BehaviorPolicy",
    "SACConfig",
    "SACRun",
    "TanhGaussianActor",
    "load_behavior_checkpoint",
    "save_behavior_checkpoint",
    "train_sac_behavior",
]

BEHAVIOR_CHECKPOINT_FORMAT = "omiga-mamujoco-behavior-v1"
ACTOR_KINDS = ("joint", "shared", "per_agent")
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
_log = logging.getLogger(__name__)


def _hidden_layers(in_dim: int, hidden: Sequence[int]) -> list[nn.Module]:
    """Linear + ReLU for each hidden width, starting from ``in_dim``."""
    layers: list[nn.Module] = []
    for width_in, width_out in zip((in_dim, *hidden[:-1]), hidden):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return layers


class TanhGaussianActor(nn.Module):
    """MLP ``in_dim -> hidden... -> (mean, log_std)`` of a tanh-squashed Gaussian over ``out_dim`` actions."""

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.body = nn.Sequential(*_hidden_layers(in_dim, hidden))
        self.head = nn.Linear(hidden[-1] if hidden else in_dim, 2 * out_dim)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and clamped log-std, each ``[..., out_dim]``."""
        mean, log_std = self.head(self.body(x)).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
               deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """A squashed action ``tanh(u)`` and its log-probability (with the tanh change of variables)."""
        mean, log_std = self(x)
        if deterministic:
            u = mean
        else:
            noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
            u = mean + log_std.exp() * noise
        normal_log_prob = -0.5 * ((u - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)
        squash_correction = 2.0 * (np.log(2.0) - u - nn.functional.softplus(-2.0 * u))
        return torch.tanh(u), (normal_log_prob - squash_correction).sum(-1)


class BehaviorPolicy:
    """One or N :class:`TanhGaussianActor` s acting for N agents (layouts in the module docstring)."""

    def __init__(self, *, kind: str, actors: Sequence[TanhGaussianActor], hidden: Sequence[int], n_agents: int,
                 obs_dim: int, state_dim: int, act_dim: int, description: str):
        if kind not in ACTOR_KINDS:
            raise ConfigError(f"unknown behaviour actor kind {kind!r}; choose one of {', '.join(ACTOR_KINDS)}")
        expected = n_agents if kind == "per_agent" else 1
        if len(actors) != expected:
            raise ConfigError(f"a {kind!r} behaviour policy needs {expected} actor(s), got {len(actors)}")
        self.kind, self.actors, self.hidden = kind, list(actors), tuple(int(h) for h in hidden)
        self.n_agents, self.obs_dim, self.state_dim, self.act_dim = n_agents, obs_dim, state_dim, act_dim
        self.description = description

    @classmethod
    def initialize(cls, *, kind: str, hidden: Sequence[int], n_agents: int, obs_dim: int, state_dim: int,
                   act_dim: int, seed: int, description: str) -> BehaviorPolicy:
        """A policy with freshly initialised actors (PyTorch default init under ``seed``)."""
        in_dim, out_dim = cls.actor_dims(kind=kind, n_agents=n_agents, obs_dim=obs_dim, state_dim=state_dim,
                                         act_dim=act_dim)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            actors = [TanhGaussianActor(in_dim, out_dim, hidden)
                      for _ in range(n_agents if kind == "per_agent" else 1)]
        return cls(kind=kind, actors=actors, hidden=hidden, n_agents=n_agents, obs_dim=obs_dim,
                   state_dim=state_dim, act_dim=act_dim, description=description)

    @staticmethod
    def actor_dims(*, kind: str, n_agents: int, obs_dim: int, state_dim: int, act_dim: int) -> tuple[int, int]:
        """(input size, output size) of one actor of ``kind``."""
        return {"joint": (state_dim, n_agents * act_dim), "shared": (obs_dim + n_agents, act_dim),
                "per_agent": (obs_dim, act_dim)}[kind]

    @torch.no_grad()
    def act(self, *, obs: np.ndarray, state: np.ndarray, generator: torch.Generator | None = None,
            deterministic: bool = False) -> np.ndarray:
        """Actions ``[E, N, act_dim]`` float32 in [-1, 1] for ``obs [E, N, obs_dim]`` and ``state [E, S]``."""
        obs_t, state_t = torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(state, dtype=torch.float32)
        n_envs = state_t.shape[0]
        if self.kind == "joint":
            actions, _ = self.actors[0].sample(state_t, generator=generator, deterministic=deterministic)
        elif self.kind == "shared":
            ids = torch.eye(self.n_agents).expand(n_envs, -1, -1)
            actions, _ = self.actors[0].sample(torch.cat([obs_t, ids], dim=-1), generator=generator,
                                               deterministic=deterministic)
        else:
            actions = torch.stack([actor.sample(obs_t[:, n], generator=generator, deterministic=deterministic)[0]
                                   for n, actor in enumerate(self.actors)], dim=1)
        return actions.reshape(n_envs, self.n_agents, self.act_dim).clamp(-1.0, 1.0).numpy().astype(np.float32)

    def to_checkpoint(self) -> dict[str, object]:
        """The checkpoint dict of the module docstring."""
        return {"format": BEHAVIOR_CHECKPOINT_FORMAT, "kind": self.kind, "hidden": list(self.hidden),
                "n_agents": self.n_agents, "obs_dim": self.obs_dim, "state_dim": self.state_dim,
                "act_dim": self.act_dim, "description": self.description,
                "actors": [{k: v.detach().clone() for k, v in actor.state_dict().items()} for actor in self.actors]}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict, *, source: str = "checkpoint") -> BehaviorPolicy:
        """Rebuild a policy from :meth:`to_checkpoint`'s dict; ConfigError names what is wrong."""
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != BEHAVIOR_CHECKPOINT_FORMAT:
            found = checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint).__name__
            raise ConfigError(f"{source} is not an omiga MaMuJoCo behaviour checkpoint (format {found!r}, expected "
                              f"{BEHAVIOR_CHECKPOINT_FORMAT!r}); see docs/mamujoco.md for the format")
        missing = [k for k in ("kind", "hidden", "n_agents", "obs_dim", "state_dim", "act_dim", "actors")
                   if k not in checkpoint]
        if missing:
            raise ConfigError(f"{source} lacks the keys {missing}; see docs/mamujoco.md for the format")
        dims = {k: int(checkpoint[k]) for k in ("n_agents", "obs_dim", "state_dim", "act_dim")}
        kind, hidden = checkpoint["kind"], [int(h) for h in checkpoint["hidden"]]
        if kind not in ACTOR_KINDS:
            raise ConfigError(f"{source}: unknown actor kind {kind!r}; choose one of {', '.join(ACTOR_KINDS)}")
        policy = cls.initialize(kind=kind, hidden=hidden, seed=0, description=str(checkpoint.get("description", "")),
                                **dims)
        if len(checkpoint["actors"]) != len(policy.actors):
            raise ConfigError(f"{source}: a {kind!r} checkpoint needs {len(policy.actors)} actor state dict(s), "
                              f"got {len(checkpoint['actors'])}")
        for n, (actor, state_dict) in enumerate(zip(policy.actors, checkpoint["actors"])):
            try:
                actor.load_state_dict(state_dict)
            except RuntimeError as exc:
                raise ConfigError(f"{source}: actor {n} does not match hidden={hidden} and the stated dims "
                                  f"{dims}: {exc}") from exc
        return policy


def save_behavior_checkpoint(policy: BehaviorPolicy, path: str | os.PathLike[str]) -> Path:
    """Write ``policy`` as a behaviour checkpoint at ``path`` atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(policy.to_checkpoint(), tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_behavior_checkpoint(path: str | os.PathLike[str], *, n_agents: int, obs_dim: int, state_dim: int,
                             act_dim: int) -> BehaviorPolicy:
    """Load a behaviour checkpoint (``weights_only=True``) and check it fits the environment's sizes."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no behaviour checkpoint at {path}: check the path (format in docs/mamujoco.md)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad files
        raise ConfigError(f"cannot read behaviour checkpoint {path} with weights_only=True ({exc}); save plain "
                          f"dicts, lists and tensors as described in docs/mamujoco.md") from exc
    policy = BehaviorPolicy.from_checkpoint(checkpoint, source=f"behaviour checkpoint {path}")
    wanted = {"n_agents": n_agents, "obs_dim": obs_dim, "state_dim": state_dim, "act_dim": act_dim}
    got = {k: getattr(policy, k) for k in wanted}
    if got != wanted:
        raise ConfigError(f"behaviour checkpoint {path} was made for {got} but the environment has {wanted}; "
                          f"use a checkpoint of this task")
    return policy


# ---------------------------------------------------------------------------------------------------------
# The project's own online learner: SAC on the single-agent-equivalent joint action (state -> all actions).
# ---------------------------------------------------------------------------------------------------------

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
    return nn.Sequential(*_hidden_layers(in_dim, hidden), nn.Linear(hidden[-1], 1))


def _mean_deterministic_return(policy: BehaviorPolicy, *, env_config: MaMuJoCoConfig, episodes: int,
                               seed: int) -> float:
    """Mean return of the first episode of ``episodes`` environments under ``tanh(mean)`` actions."""
    env = MaMuJoCoVectorEnv(config=env_config, n_envs=episodes)
    step, total = env.reset(seed=seed), np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    while running.any():
        step = env.step(policy.act(obs=step.obs, state=step.state, deterministic=True))
        total += np.where(running, step.reward, 0.0)
        running &= ~step.done
    env.close()
    return float(total.mean())


def train_sac_behavior(*, env_config: MaMuJoCoConfig, config: SACConfig, seed: int, description: str) -> SACRun:
    """Train a joint-action SAC actor on the MaMuJoCo problem ``env_config`` (local observations recorded).

    Cost: ~35-80 environment steps (one update each) per second with the default network on a 2-core
    machine, i.e. 1-2.5 hours for the default 300k steps (docs/mamujoco.md). Deterministic for a seed on a given machine and thread count.
    Snapshot returns are logged at INFO level (logger ``omiga.data.behavior_mamujoco``).
    """
    env = MaMuJoCoVectorEnv(config=env_config, n_envs=1)
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
            score = _mean_deterministic_return(policy, env_config=env_config, episodes=config.eval_episodes,
                                               seed=seed + 7919)
            snapshots.append((t + 1, score, copy.deepcopy(actor.state_dict())))
            _log.info("SAC behaviour step %d/%d: deterministic return %.1f", t + 1, total, score)
    env.close()
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
