"""SMAX scenarios standing in for the SMAC maps of the registry: unit mix, unit stats, terrain, episode length.

SMAX unit type ids: 0 marine, 1 marauder, 2 stalker, 3 zealot, 4 zergling, 5 hydralisk. Stats are SMAX's
per-type constructor arrays (velocity, attack, attack range, sight range, radius, health, weapon cooldown);
a scenario overrides the entries of the types it uses. Distances are centre to centre, times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omiga.envs.corridor import WalkableLayout, cliff_layout, corridor_layout, open_layout
from omiga.errors import ConfigError, UnknownNameError

__all__ = ["SCALING_SIZES", "SCENARIOS", "SMAX_DEFAULT_STATS", "SmaxScenario", "UnitStats", "get_scenario",
           "protoss_mix"]

ZEALOT, ZERGLING, STALKER = 3, 4, 2


@dataclass(frozen=True)
class UnitStats:
    """One unit type's stats in SMAX units."""

    velocity: float
    """Distance per second."""
    attack: float
    """Damage per hit (after armour)."""
    attack_range: float
    """Centre-to-centre range within which the unit hits."""
    sight_range: float
    """Range within which it observes other units."""
    radius: float
    """Collision radius."""
    health: float
    """Hit points (SC2 shields added to health)."""
    cooldown: float
    """Seconds between hits."""


SMAX_DEFAULT_STATS: tuple[UnitStats, ...] = (
    UnitStats(3.15, 9.0, 5.0, 9.0, 0.375, 45.0, 0.61),    # marine
    UnitStats(2.25, 10.0, 6.0, 10.0, 0.5625, 125.0, 1.07),  # marauder
    UnitStats(4.13, 13.0, 6.0, 10.0, 0.625, 160.0, 1.87),   # stalker
    UnitStats(3.15, 8.0, 2.0, 9.0, 0.5, 150.0, 0.86),      # zealot
    UnitStats(4.13, 5.0, 2.0, 8.0, 0.375, 35.0, 0.5),      # zergling
    UnitStats(3.15, 12.0, 5.0, 9.0, 0.625, 80.0, 0.59),    # hydralisk
)


@dataclass(frozen=True)
class SmaxScenario:
    """A SMAX battle: who fights, with which stats, on which terrain, for how long."""

    name: str
    """Scenario key, e.g. "corridor"."""
    ally_types: tuple[int, ...]
    """SMAX type id of each ally (the learning team)."""
    enemy_types: tuple[int, ...]
    """SMAX type id of each enemy (driven by the scripted enemy policy)."""
    layout: WalkableLayout
    """Walkable terrain and start boxes."""
    max_steps: int = 100
    """Episode time limit in env steps (0.5 s of game time each); reaching it is a truncation."""
    stat_overrides: dict[int, UnitStats] = field(default_factory=dict, compare=False)
    """Per type id, stats that replace SMAX's defaults."""

    def __post_init__(self) -> None:
        if not self.ally_types or not self.enemy_types:
            raise ConfigError(f"scenario {self.name!r} needs at least one ally and one enemy")
        if any(t not in range(6) for t in (*self.ally_types, *self.enemy_types, *self.stat_overrides)):
            raise ConfigError(f"scenario {self.name!r}: SMAX unit type ids are 0..5")
        if self.max_steps < 1:
            raise ConfigError(f"scenario {self.name!r}: max_steps must be >= 1")

    @property
    def stats(self) -> tuple[UnitStats, ...]:
        """Stats of all six SMAX unit types with this scenario's overrides applied."""
        return tuple(self.stat_overrides.get(i, s) for i, s in enumerate(SMAX_DEFAULT_STATS))

    def smax_kwargs(self) -> dict[str, np.ndarray]:
        """The SMAX constructor's unit-stat keyword arguments."""
        columns = {"unit_type_velocities": "velocity", "unit_type_attacks": "attack",
                   "unit_type_attack_ranges": "attack_range", "unit_type_sight_ranges": "sight_range",
                   "unit_type_radiuses": "radius", "unit_type_health": "health",
                   "unit_type_weapon_cooldowns": "cooldown"}
        return {kw: np.array([getattr(s, attr) for s in self.stats], dtype=np.float32)
                for kw, attr in columns.items()}


# SC2 values (normal game speed): zealot 100 HP + 50 shields, 2x8 damage per 0.86 s, melee; zergling 35 HP,
# 5 damage (4 after the zealot's armour) per 0.5 s, melee, speed 4.13 (no Metabolic Boost). Melee range is
# 0.1 edge to edge; SMAX measures centre to centre, so 0.1 + both radii (0.875) rounded up to 1.0 for the
# discrete 0.5 s decision steps.
_CORRIDOR_STATS = {
    ZEALOT: UnitStats(velocity=3.15, attack=16.0, attack_range=1.0, sight_range=9.0, radius=0.5,
                      health=150.0, cooldown=0.86),
    ZERGLING: UnitStats(velocity=4.13, attack=4.0, attack_range=1.0, sight_range=8.0, radius=0.375,
                        health=35.0, cooldown=0.5),
}
# SMAX has no colossus: a stalker slot gets SC2 colossus numbers (200 HP + 150 shields, range 7, radius 1,
# 1.07 s cooldown) with its 2x10 line-splash damage approximated by 40 single-target damage.
# Zerglings as on the corridor but with SMAX's melee range 2 (0.1 + radii is 1.475 against a colossus; 2 stops
# zerglings dancing out of reach between 0.5 s decisions).
_COLOSSUS_STATS = {STALKER: UnitStats(velocity=3.15, attack=40.0, attack_range=7.0, sight_range=10.0,
                                      radius=1.0, health=350.0, cooldown=1.07),
                   ZERGLING: UnitStats(velocity=4.13, attack=4.0, attack_range=2.0, sight_range=8.0,
                                       radius=0.375, health=35.0, cooldown=0.5)}

def protoss_mix(n_units: int) -> tuple[int, ...]:
    """SMACv2's protoss mix without the colossus SMAX lacks: ⌈n/2⌉ stalkers and ⌊n/2⌋ zealots (SMACv2 draws
    stalker 45%, zealot 45%, colossus 10% per unit; here the mix is fixed, the same every episode and side)."""
    return (STALKER,) * ((n_units + 1) // 2) + (ZEALOT,) * (n_units // 2)


SCALING_SIZES = (5, 10, 20)
"""Units per side of the scaling scenarios ``protoss_<n>v<n>`` (the scaling study, docs/studies.md)."""

SCENARIOS: dict[str, SmaxScenario] = {
    s.name: s
    for s in (
        SmaxScenario("corridor", ally_types=(ZEALOT,) * 6, enemy_types=(ZERGLING,) * 24,
                     layout=corridor_layout(), max_steps=80, stat_overrides=_CORRIDOR_STATS),
        SmaxScenario("5m_vs_6m", ally_types=(0,) * 5, enemy_types=(0,) * 6, layout=open_layout()),
        SmaxScenario("6h_vs_8z", ally_types=(5,) * 6, enemy_types=(ZEALOT,) * 8, layout=open_layout()),
        SmaxScenario("2c_vs_64zg", ally_types=(STALKER,) * 2, enemy_types=(ZERGLING,) * 64,
                     layout=cliff_layout(), stat_overrides=_COLOSSUS_STATS),
        *(SmaxScenario(f"protoss_{n}v{n}", ally_types=protoss_mix(n), enemy_types=protoss_mix(n),
                       layout=open_layout()) for n in SCALING_SIZES),
    )
}


def get_scenario(name: str) -> SmaxScenario:
    """The SMAX scenario called ``name``."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownNameError("SMAX scenario", name, SCENARIOS) from None
