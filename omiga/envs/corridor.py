"""Walkable terrain for SMAX: rectangles units cannot leave, and a corridor map with a narrow choke.

SMAX (jaxmarl) simulates units on an open rectangle. `WalkableLayout` adds terrain: the walkable region is a
union of axis-aligned rectangles, and after every world step each unit is projected onto its nearest point in
that region (so walls stop and slide units instead of killing them). `TerrainSMAX` hooks the projection into
SMAX's collision step, which runs after every movement update, and places each team in its start room.

`corridor_layout()` is the stand-in for SMAC's corridor map: an open room for the allies (west), a narrow
corridor (the choke), and an open room for the enemies (east). `WalkableLayout.waypoint` gives the point a
unit should head for to reach a target through the corridor (SC2 units path-find; SMAX units do not).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from omiga.envs.smax_jax import SMAX
from omiga.errors import ConfigError

__all__ = ["TerrainSMAX", "WalkableLayout", "cliff_layout", "corridor_layout", "open_layout"]


@dataclass(frozen=True)
class WalkableLayout:
    """A map's walkable region (a union of rectangles) and the start boxes of both teams."""

    width: float
    """Map width (x extent) in SMAX distance units."""
    height: float
    """Map height (y extent)."""
    rects: tuple[tuple[float, float, float, float], ...]
    """Walkable rectangles (x_min, y_min, x_max, y_max); their union is where units may stand."""
    ally_start: tuple[float, float, float, float]
    """Box (x_min, y_min, x_max, y_max) where allies are placed uniformly at reset."""
    enemy_start: tuple[float, float, float, float]
    """Box where enemies are placed uniformly at reset."""
    choke: tuple[float, float, float, float] | None = None
    """The corridor rectangle joining the two rooms, or None on an open map."""
    enemy_rects: tuple[tuple[float, float, float, float], ...] | None = None
    """The enemies' walkable rectangles where they differ from the allies' (a cliff only allies climb)."""
    posts: tuple[tuple[float, float], ...] | None = None
    """Positions a "hold" behaviour policy occupies (ally i takes post i mod len), or None: nothing to hold."""

    def __post_init__(self) -> None:
        if not self.rects:
            raise ConfigError("a walkable layout needs at least one rectangle")
        for box in (*self.rects, *(self.enemy_rects or ()), self.ally_start, self.enemy_start):
            x0, y0, x1, y1 = box
            if not (0.0 < x0 < x1 < self.width and 0.0 < y0 < y1 < self.height):
                raise ConfigError(f"box {box} must lie strictly inside the {self.width}x{self.height} map "
                                  "with x_min < x_max and y_min < y_max")
        for box, rects in ((self.ally_start, self.rects), (self.enemy_start, self.enemy_rects or self.rects)):
            if not any(r[0] <= box[0] and r[1] <= box[1] and box[2] <= r[2] and box[3] <= r[3] for r in rects):
                raise ConfigError(f"start box {box} must lie inside one of its team's walkable rectangles")

    def project(self, positions: jax.Array, *, enemy: bool = False) -> jax.Array:
        """Nearest walkable point of each position [..., 2] (for the enemy team if ``enemy``)."""
        rects = jnp.asarray(self.enemy_rects if enemy and self.enemy_rects else self.rects, dtype=jnp.float32)
        clipped = jnp.clip(positions[..., None, :], rects[:, :2], rects[:, 2:])  # [..., R, 2]
        dist = jnp.sum((clipped - positions[..., None, :]) ** 2, axis=-1)
        best = jnp.argmin(dist, axis=-1)
        return jnp.take_along_axis(clipped, best[..., None, None], axis=-2)[..., 0, :]

    def is_walkable(self, positions: jax.Array, *, enemy: bool = False, tolerance: float = 1e-4) -> jax.Array:
        """Whether each position [..., 2] lies in the (enemy team's if ``enemy``) walkable region."""
        return jnp.linalg.norm(self.project(positions, enemy=enemy) - positions, axis=-1) <= tolerance

    def waypoint(self, position: jax.Array, target: jax.Array) -> jax.Array:
        """The point a unit at ``position`` should head for to reach ``target`` along walkable ground.

        On an open map this is the target. Otherwise a unit in a room whose target is beyond the corridor first
        heads for the corridor's near mouth, and a unit inside the corridor heads for the mouth on the target's
        side until the target is in the corridor too.
        """
        if self.choke is None:
            return target
        x0, y0, x1, y1 = self.choke
        mid_y = (y0 + y1) / 2

        def zone(point: jax.Array) -> jax.Array:  # 0 west room, 1 corridor, 2 east room
            return jnp.where(point[0] <= x0, 0, jnp.where(point[0] >= x1, 2, 1))

        own, goal = zone(position), zone(target)
        west_mouth = jnp.array([x0 + 0.5, mid_y])
        east_mouth = jnp.array([x1 - 0.5, mid_y])
        west_exit = jnp.array([x0 - 0.5, mid_y])
        east_exit = jnp.array([x1 + 0.5, mid_y])
        from_room = jnp.where(own == 0, west_mouth, east_mouth)
        from_corridor = jnp.where(goal == 0, west_exit, east_exit)
        via = jnp.where(own == 1, from_corridor, from_room)
        return jnp.where(own == goal, target, via)


def open_layout(*, width: float = 32.0, height: float = 32.0) -> WalkableLayout:
    """SMAX's open map with its default start areas (allies west, enemies east); edges stop units."""
    return WalkableLayout(
        width=width, height=height, rects=((0.5, 0.5, width - 0.5, height - 0.5),),
        ally_start=(width / 4 - 2, height / 2 - 2, width / 4 + 2, height / 2 + 2),
        enemy_start=(width * 3 / 4 - 2, height / 2 - 2, width * 3 / 4 + 2, height / 2 + 2),
    )


def corridor_layout(*, n_posts: int = 6) -> WalkableLayout:
    """The corridor stand-in: a 10x15 west room, a 12-long 2.5-wide corridor, a 10x15 east room.

    The hold posts lie on an arc of radius 1.5 around the corridor's west mouth (10, 8).
    """
    angles = np.deg2rad(np.linspace(-75.0, 75.0, n_posts))
    posts = tuple((10.0 - 1.5 * float(np.cos(a)), 8.0 + 1.5 * float(np.sin(a))) for a in angles)
    return WalkableLayout(
        width=32.0, height=16.0,
        rects=((0.5, 0.5, 10.0, 15.5), (10.0, 6.75, 22.0, 9.25), (22.0, 0.5, 31.5, 15.5)),
        ally_start=(2.0, 5.0, 6.0, 11.0),
        enemy_start=(25.0, 3.0, 30.0, 13.0),
        choke=(10.0, 6.75, 22.0, 9.25),
        posts=posts,
    )


def cliff_layout() -> WalkableLayout:
    """An open 32x32 map with a 6x8 plateau (x 2-8, y 12-20) that only the allies can climb.

    The enemies' walkable region is the map minus the plateau (four rectangles around it); the hold posts
    are on the plateau, 3 from its edges.
    """
    return WalkableLayout(
        width=32.0, height=32.0, rects=((0.5, 0.5, 31.5, 31.5),),
        enemy_rects=((0.5, 0.5, 2.0, 31.5), (8.0, 0.5, 31.5, 31.5), (2.0, 0.5, 8.0, 12.0),
                     (2.0, 20.0, 8.0, 31.5)),
        ally_start=(9.0, 14.0, 12.0, 18.0),
        enemy_start=(20.0, 10.0, 28.0, 22.0),
        posts=((5.0, 15.0), (5.0, 17.0)),
    )


class TerrainSMAX(SMAX):
    """SMAX whose units stay inside a `WalkableLayout` and start in its start boxes."""

    def __init__(self, *, layout: WalkableLayout, **smax_kwargs):
        super().__init__(map_width=layout.width, map_height=layout.height, walls_cause_death=False,
                         **smax_kwargs)
        self.layout = layout

    def reset(self, key: jax.Array):
        """SMAX's reset with each team placed uniformly in its start box (then de-overlapped)."""
        key, layout_key = jax.random.split(key)
        obs, state = super().reset(key)
        ally_key, enemy_key = jax.random.split(layout_key)
        boxes = jnp.asarray((self.layout.ally_start, self.layout.enemy_start), dtype=jnp.float32)
        allies = jax.random.uniform(ally_key, (self.num_allies, 2), minval=boxes[0, :2], maxval=boxes[0, 2:])
        enemies = jax.random.uniform(enemy_key, (self.num_enemies, 2), minval=boxes[1, :2], maxval=boxes[1, 2:])
        state = state.replace(unit_positions=jnp.concatenate([allies, enemies]))
        state = self._push_units_away(state)
        return obs, state  # obs are stale: callers observe the returned state

    def _push_units_away(self, state, firmness: float = 1.0):
        """SMAX's collision resolution followed by projection onto each team's walkable region."""
        state = super()._push_units_away(state, firmness)
        allies = self.layout.project(state.unit_positions[: self.num_allies])
        enemies = self.layout.project(state.unit_positions[self.num_allies:], enemy=True)
        return state.replace(unit_positions=jnp.concatenate([allies, enemies]))
