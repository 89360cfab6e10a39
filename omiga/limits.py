"""Sane limits on sizes: past them a value is almost surely a typo (an extra zero, a seed for a size), and would
cost hours or memory torch could never allocate before failing. ``--allow-large`` lifts them.

Stdlib only.
"""

from __future__ import annotations

from omiga.errors import ConfigError

__all__ = ["LIMITS", "check_size"]

LIMITS: dict[str, int] = {
    "hidden": 8192,  # width of a hidden layer (the paper's networks are 256 wide)
    "batch_size": 65_536,  # transitions per member per step
    "members": 4096,  # members of one population (α values × seeds)
    "eval_episodes": 10_000,  # evaluation episodes per member
    "episodes": 1_000_000,  # episodes of a built dataset
    "grid": 100_000,  # runs of one study (grid points × seeds)
    "sac_steps": 100_000_000,  # environment steps of the SAC behaviour learner
    "workers": 256,  # local worker processes of one study
    "steps": 100_000_000,  # gradient steps per run (the paper's are 10^6 at most)
}


def check_size(option: str, value: int, *, kind: str, allow_large: bool = False) -> None:
    """`ConfigError` when ``value`` passes ``LIMITS[kind]`` and ``allow_large`` is not set."""
    limit = LIMITS[kind]
    if value > limit and not allow_large:
        raise ConfigError(f"{option} {value} is larger than {limit:,}, a size this suite treats as a typo (it would "
                          "take memory or hours no run needs); lower it, or pass --allow-large if you mean it")
