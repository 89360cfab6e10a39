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
  (agent-major); this is what the project's SAC learner (:mod:`omiga.data.behavior_mamujoco_sac`) trains
  (single-agent-equivalent joint action).
- ``shared``: one actor reads ``[obs (D), one-hot agent id (N)]`` and outputs the agent's ``[A]``.
- ``per_agent``: actor n reads agent n's ``[D]`` observation and outputs its ``[A]``.

An actor is ``body`` (Linear + ReLU per hidden layer) and ``head`` (Linear to ``2 * out``: mean, then
log-std clamped to [-5, 2]); actions are ``tanh(mean + std * noise)`` (``tanh(mean)`` when deterministic).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from omiga.atomic import write_atomic
from omiga.errors import ConfigError

__all__ = [
    "ACTOR_KINDS",
    "BEHAVIOR_CHECKPOINT_FORMAT",
    "BehaviorPolicy",
    "TanhGaussianActor",
    "hidden_layers",
    "load_behavior_checkpoint",
    "save_behavior_checkpoint",
    "single_torch_thread",
]

BEHAVIOR_CHECKPOINT_FORMAT = "omiga-mamujoco-behavior-v1"
ACTOR_KINDS = ("joint", "shared", "per_agent")
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
_SAC_NAMES = ("REPLAY_FIELDS", "SACConfig", "SACRun", "train_sac_behavior")


@contextlib.contextmanager
def single_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the previous count.

    Behaviour policies act on a handful of environments at a time: for such tiny matrices a second thread only
    adds synchronisation (about 10x slower on a busy 2-core machine), and one thread keeps runs reproducible.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def hidden_layers(in_dim: int, hidden: Sequence[int]) -> list[nn.Module]:
    """Linear + ReLU for each hidden width, starting from ``in_dim``."""
    layers: list[nn.Module] = []
    for width_in, width_out in zip((in_dim, *hidden[:-1]), hidden):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return layers


class TanhGaussianActor(nn.Module):
    """MLP ``in_dim -> hidden... -> (mean, log_std)`` of a tanh-squashed Gaussian over ``out_dim`` actions."""

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.body = nn.Sequential(*hidden_layers(in_dim, hidden))
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
    return write_atomic(path, lambda temporary: torch.save(policy.to_checkpoint(), temporary))


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


def __getattr__(name: str) -> object:
    """The SAC learner's names, which moved to :mod:`omiga.data.behavior_mamujoco_sac`, stay importable here."""
    if name in _SAC_NAMES:
        from omiga.data import behavior_mamujoco_sac

        return getattr(behavior_mamujoco_sac, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
