"""The project's own MaMuJoCo behaviour learner as the dataset builder uses it: SAC runs cached per task and seed.

The learner itself is :mod:`omiga.behaviour.sac` (JAX SAC on the single-agent-equivalent joint action: one
``joint`` :class:`~omiga.data.behavior_mamujoco.BehaviorPolicy` reads the global state and outputs every agent's
action). Every ``snapshot_every`` steps its actor is evaluated (deterministic ``tanh(mean)`` actions); the final
actor is the expert, the snapshot whose return is closest to ``medium_fraction`` of the expert's is the medium
policy, and the replay buffer up to that snapshot is the medium-replay data. :class:`SACRun` holds all three and
serialises to a ``weights_only``-loadable dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from omiga.behaviour.sac.config import SACConfig
from omiga.behaviour.sac.train import REPLAY_FIELDS, train_sac
from omiga.data.behavior_mamujoco import BehaviorPolicy
from omiga.envs.mamujoco import MaMuJoCoConfig
from omiga.errors import ConfigError

__all__ = ["REPLAY_FIELDS", "SAC_RUN_FORMAT", "SACConfig", "SACRun", "train_sac_behavior"]

SAC_RUN_FORMAT = "omiga-mamujoco-sac-run-v1"


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


def train_sac_behavior(*, env_config: MaMuJoCoConfig, config: SACConfig, seed: int, description: str,
                       out_dir: Path | None = None) -> SACRun:
    """Train a joint-action SAC actor on ``env_config`` (:func:`omiga.behaviour.sac.train.train_sac`), resumable
    from ``out_dir`` when given (an interrupted build picks up where it stopped), else in memory.

    Cost: about 50 environment steps (one SAC step each) per second and core with the default network, i.e.
    about 100 minutes for the default 300k steps (docs/mamujoco.md). Deterministic for a seed on a given machine.
    """
    result = train_sac(env_config=env_config, config=config, seed=seed, description=description, out_dir=out_dir)
    snapshots = [(step, score) for step, score, _ in result.snapshots]
    expert_return = snapshots[-1][1]
    medium_index = min(range(len(snapshots)),
                       key=lambda i: (abs(snapshots[i][1] - config.medium_fraction * expert_return), i))
    medium_step = snapshots[medium_index][0]

    def policy(index: int, text: str) -> BehaviorPolicy:
        probe = result.replay
        n, d, a = probe["obs"].shape[1], probe["obs"].shape[2], probe["actions"].shape[2]
        made = BehaviorPolicy.initialize(kind="joint", hidden=config.hidden, n_agents=n, obs_dim=d,
                                         state_dim=probe["state"].shape[1], act_dim=a, seed=seed, description=text)
        made.actors[0].load_state_dict(result.snapshots[index][2])
        return made

    return SACRun(expert=policy(-1, f"{description}; expert = final actor at step {config.total_steps} "
                                    f"(return {expert_return:.1f})"),
                  medium=policy(medium_index, f"{description}; medium snapshot at step {medium_step} "
                                              f"(return {snapshots[medium_index][1]:.1f})"),
                  medium_step=medium_step, snapshots=tuple(snapshots), replay=result.replay)
