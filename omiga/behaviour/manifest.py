"""The shipped behaviour of a task: its MAPPO skill levels and, per quality, the levels and the return band.

``omiga/behaviour/checkpoints/<task>/manifest.json`` names each skill level (an actor snapshot of
`omiga.behaviour.train`, with its SHA-256 and measured returns) and each quality's recipe, the way MADT/OMIGA
made SMAC's datasets: roll out the quality's levels, sampling actions, and keep the episodes whose SMAC-scale
return falls in the quality's band (corridor: poor < 10, medium 10-15, good >= 15, as OG-MARL's cards of
OMIGA's data show). The manifest also records the command, seed and steps that trained the levels.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from omiga.behaviour.policy import LearnedPolicy
from omiga.errors import DatasetError, UnknownNameError

__all__ = ["CHECKPOINT_ROOT", "BehaviourManifest", "default_behavior", "has_manifest", "load_manifest",
           "manifest_path"]

CHECKPOINT_ROOT = Path(__file__).parent / "checkpoints"
"""Where shipped behaviour checkpoints live (one directory per task)."""


def manifest_path(task: str) -> Path:
    """The manifest file of ``task``'s shipped behaviour."""
    return CHECKPOINT_ROOT / task / "manifest.json"


def has_manifest(task: str) -> bool:
    """Whether ``task`` ships learned behaviour policies."""
    return manifest_path(task).is_file()


def default_behavior(task: str) -> str:
    """``learned`` where the task ships skill levels, else ``scripted-v2``."""
    return "learned" if has_manifest(task) else "scripted-v2"


def _bound(value) -> float:
    return float(value) if value is not None else math.inf


@dataclass(frozen=True)
class BehaviourManifest:
    """A task's skill levels and quality recipes (see the module docstring)."""

    task: str
    directory: Path
    levels: dict
    """Level name -> {file, sha256, team_steps, return_mean, ...}."""
    qualities: dict
    """Quality -> {levels: [names], weights: [..] | null, band: [low | null, high | null]}."""
    provenance: dict
    """How the levels were trained (command, seed, team-steps, learner config)."""

    def _quality(self, quality: str) -> dict:
        try:
            return self.qualities[quality]
        except KeyError:
            raise UnknownNameError("quality", quality, self.qualities,
                                   plural=f"qualities of {self.task}'s learned behaviour") from None

    def policy(self, quality: str) -> LearnedPolicy:
        """The mixture of skill levels that ``quality`` is rolled out from."""
        recipe = self._quality(quality)
        files = [self.levels[name]["file"] for name in recipe["levels"]]
        weights = recipe.get("weights")
        return LearnedPolicy(checkpoints=tuple(str(self.directory / f) for f in files),
                             digests=tuple(self.levels[name]["sha256"] for name in recipe["levels"]),
                             weights=tuple(weights) if weights else None,
                             label=", ".join(recipe["levels"]))

    def band(self, quality: str) -> tuple[float, float]:
        """[low, high) of the SMAC-scale episode returns kept for ``quality``."""
        low, high = self._quality(quality)["band"]
        return (-_bound(None) if low is None else float(low), _bound(high))

    def describe(self, quality: str, *, policy: LearnedPolicy | None = None) -> str:
        """One line for the dataset's ``behavior`` attribute: ``policy``, the quality's levels as they were rolled
        out (with their sampling, `omiga.behaviour.policy`; default: ``self.policy(quality)``), and its band."""
        low, high = self.band(quality)
        policy = policy or self.policy(quality)
        return (f"smax-behavior-v3 {policy.describe()}; episodes kept with return in "
                f"[{low:g}, {high:g}); trained by `{self.provenance.get('command', '?')}`")


def load_manifest(task: str) -> BehaviourManifest:
    """The shipped manifest of ``task`` (a DatasetError naming the file and the fix when it is bad)."""
    path = manifest_path(task)
    if not path.is_file():
        raise DatasetError(f"task {task!r} ships no learned behaviour ({path} is missing); build with "
                           "--behavior scripted-v2 or train one with `python -m omiga behaviour train`")
    try:
        data = json.loads(path.read_text())
        manifest = BehaviourManifest(task=task, directory=path.parent, levels=dict(data["levels"]),
                                     qualities=dict(data["qualities"]), provenance=dict(data["provenance"]))
        for quality in manifest.qualities:
            for name in manifest.qualities[quality]["levels"]:
                manifest.levels[name]["file"], manifest.levels[name]["sha256"]
            manifest.band(quality)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"behaviour manifest {path} is unreadable or incomplete ({error!r}); restore it "
                           "with `git checkout -- omiga/behaviour/checkpoints`") from None
    return manifest
