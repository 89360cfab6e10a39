"""The shipped SAC behaviour of a MaMuJoCo task: expert and medium actors and the medium-replay actions.

``omiga/behaviour/checkpoints/<task>/manifest.json`` (``"learner": "sac"``) names the two actors (snapshots of
:func:`omiga.behaviour.sac.train.train_sac`, in the MaMuJoCo behaviour checkpoint format, each with its SHA-256,
training step and measured returns), the medium-replay data and how everything was made. The medium-replay
data are the training run's replay buffer up to the medium snapshot, as D4RL's are; shipping 50k transitions of
observations would take megabytes, so only the actions are shipped and the transitions are rebuilt by replaying
them in the simulator from the run's first reset (:func:`omiga.behaviour.sac.train.replay_actions`); the
rebuilt rewards are checked against a digest of the recorded ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omiga.behaviour.manifest import manifest_path
from omiga.behaviour.policy import file_digest
from omiga.data.behavior_mamujoco import BehaviorPolicy, load_behavior_checkpoint
from omiga.envs.mamujoco import MaMuJoCoConfig, MaMuJoCoVectorEnv
from omiga.errors import DatasetError

__all__ = ["ShippedSAC", "has_shipped_sac", "load_shipped_sac", "rewards_digest"]

ROLES = ("expert", "medium")
RESTORE = "restore it with `git checkout -- omiga/behaviour/checkpoints`"


def rewards_digest(rewards: np.ndarray) -> str:
    """First 16 hex digits of the SHA-256 of the float32 rewards: what a rebuilt medium-replay is checked against."""
    return hashlib.sha256(np.ascontiguousarray(rewards, dtype=np.float32).tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class ShippedSAC:
    """A MaMuJoCo task's shipped SAC behaviour (module docstring)."""

    task: str
    directory: Path
    levels: dict
    """Role (expert, medium) -> {file, sha256, step, eval_return, return_mean, ...}."""
    medium_replay: dict
    """{file, sha256, steps, rewards_sha256, seed, max_episode_steps}."""
    provenance: dict
    """How the actors were trained (command, seed, steps, learner config)."""

    def _file(self, entry: dict) -> Path:
        path = self.directory / entry["file"]
        if not path.is_file():
            raise DatasetError(f"shipped behaviour file {path} is missing; {RESTORE}")
        if file_digest(path) != entry["sha256"]:
            raise DatasetError(f"shipped behaviour file {path} changed since its manifest was written (digest "
                               f"{file_digest(path)}, manifest {entry['sha256']}); {RESTORE}")
        return path

    def policy(self, role: str, sizes: Mapping[str, int]) -> BehaviorPolicy:
        """The ``expert`` or ``medium`` actor, checked against its digest and the env's ``sizes``
        (:func:`omiga.envs.mamujoco.mamujoco_sizes`)."""
        policy = load_behavior_checkpoint(self._file(self.levels[role]), **sizes)
        entry = self.levels[role]
        policy.description = (f"shipped SAC {role} actor (step {entry['step']:,}, deterministic return "
                              f"{entry['eval_return']:.1f}), trained by `{self.provenance.get('command', '?')}`")
        return policy

    def replay(self, env_config: MaMuJoCoConfig) -> dict[str, np.ndarray]:
        """The medium-replay transitions, rebuilt from the shipped actions (REPLAY_FIELDS and ``next_state``)."""
        from omiga.behaviour.sac.train import replay_actions

        entry = self.medium_replay
        if env_config.max_episode_steps != int(entry["max_episode_steps"]):
            raise DatasetError(f"the shipped medium-replay data of {self.task} were recorded with "
                               f"{entry['max_episode_steps']}-step episodes, not {env_config.max_episode_steps}: "
                               "build medium-replay with the default --max-episode-steps")
        try:
            with np.load(self._file(entry), allow_pickle=False) as stored:
                actions = stored["actions"]
        except (OSError, KeyError, ValueError) as error:
            raise DatasetError(f"shipped medium-replay actions {self.directory / entry['file']} are unreadable "
                               f"({error}); {RESTORE}") from None
        env = MaMuJoCoVectorEnv(config=env_config, n_envs=1)
        try:
            rows, _ = replay_actions(env, actions, seed=int(entry["seed"]))
        finally:
            env.close()
        if rewards_digest(rows["rewards"]) != entry["rewards_sha256"]:
            raise DatasetError(f"replaying the shipped medium-replay actions of {self.task} did not reproduce the "
                               "recorded rewards: this MuJoCo build simulates differently (pin mujoco==4.0.0), or "
                               "train the behaviour yourself with --sac-steps")
        return rows


def has_shipped_sac(task: str) -> bool:
    """Whether ``task`` ships SAC behaviour (a manifest with ``"learner": "sac"``)."""
    path = manifest_path(task)
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("learner") == "sac"
    except (OSError, ValueError):
        return True  # a damaged manifest is reported by load_shipped_sac


def load_shipped_sac(task: str) -> ShippedSAC:
    """The shipped SAC behaviour of ``task`` (a DatasetError naming the file and the fix when it is bad)."""
    path = manifest_path(task)
    if not path.is_file():
        raise DatasetError(f"task {task!r} ships no SAC behaviour ({path} is missing); train one with "
                           "`python -m omiga behaviour train` or build with --sac-steps")
    try:
        data = json.loads(path.read_text())
        shipped = ShippedSAC(task=task, directory=path.parent, levels={r: dict(data["levels"][r]) for r in ROLES},
                             medium_replay=dict(data["medium_replay"]), provenance=dict(data["provenance"]))
        for entry in (*shipped.levels.values(), shipped.medium_replay):
            entry["file"], entry["sha256"]
        for key in ("steps", "rewards_sha256", "seed", "max_episode_steps"):
            shipped.medium_replay[key]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"behaviour manifest {path} is unreadable or incomplete ({error!r}); {RESTORE}") from None
    return shipped
