"""Learned behaviour policies as dataset builders use them: actors loaded from checkpoints, sampling actions.

`LearnedPolicy` is rolled out by `omiga.data.build_smax` like the scripted policies (its ``program`` gives the
jitted team step and the parameters it takes as arrays, so one compilation serves every checkpoint of an
architecture), and it writes a `describe()` line into each dataset. It holds one or more actor checkpoints
(skill levels); each episode draws one level from its episode key, and every step samples the action from that
actor's masked categorical distribution (not argmax), as MADT's data were recorded. Policies are frozen and
hashable (their checkpoint paths and digests).

How a team's agents sample (``correlation``, `omiga.tasks.CORRELATIONS`):

- ``independent`` (factorised): agent i draws a_i ~ π_i(· | o_i) with its own randomness, so given the
  observations µ_tot(a | o) = Π_i π_i(a_i | o_i), the assumption under OMIGA's global-to-local equivalence.
- ``shared`` (correlated): one u ~ U[0, 1) per team and step, and every agent takes the inverse CDF of its own
  policy at that u: a_i = min{k : Σ_{j ≤ k} π_i(j | o_i) > u} (`shared_inverse_cdf_actions`). Each agent's
  marginal is exactly π_i(· | o_i) (u is uniform), but the team's actions are comonotone in the action order, a
  coupling that is as correlated as one shared draw can make them: µ_tot ≠ Π_i π_i.

How sharply they sample (``temperature`` τ > 0, the quality suffix ``@t<τ>``): every agent samples
softmax(logits / τ) instead of softmax(logits) over its available actions. τ < 1 concentrates each state's actions
on the policy's favourites (narrower coverage of the state-action space, the coverage study's lever); τ > 1 spreads
them; τ = 1 is the learned policy itself. Unavailable actions keep probability 0 at every τ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from omiga.behaviour.checkpoint import load_tree, read_meta
from omiga.behaviour.networks import Actor
from omiga.envs.smax import N_MOVE_ACTIONS, STOP_ACTION
from omiga.envs.smax_scenarios import SmaxScenario
from omiga.errors import ConfigError, DatasetError
from omiga.tasks import CORRELATIONS, is_sampling_temperature

__all__ = ["LearnedPolicy", "file_digest", "load_actor", "sample_team_actions", "shared_inverse_cdf_actions",
           "team_act"]



def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@cache
def load_actor(path: str, digest: str, scenario: SmaxScenario) -> tuple[Actor, dict]:
    """(actor module, parameters) of a snapshot, checked against the scenario's shapes and the digest."""
    meta = read_meta(Path(path))  # a missing or unreadable file is named first
    if file_digest(Path(path)) != digest:
        raise DatasetError(f"behaviour checkpoint {path} changed since its manifest was written (digest "
                           f"{file_digest(Path(path))}, expected {digest}); restore it with "
                           "`git checkout -- omiga/behaviour/checkpoints`")
    hidden = int(meta.get("config", {}).get("hidden", 0))
    if meta.get("scenario") != scenario.name or hidden < 1:
        raise DatasetError(f"behaviour checkpoint {path} was trained on scenario {meta.get('scenario')!r}, "
                           f"not {scenario.name!r}; use that scenario's checkpoints")
    n_allies, n_enemies = len(scenario.ally_types), len(scenario.enemy_types)
    actor = Actor(n_actions=N_MOVE_ACTIONS + n_enemies, hidden=hidden)
    obs_dim = int(meta["obs_dim"])
    template = actor.init(jax.random.PRNGKey(0), jnp.zeros((n_allies, obs_dim)),
                          jnp.ones((n_allies, N_MOVE_ACTIONS + n_enemies), bool))
    params, _ = load_tree(Path(path), template)
    return actor, jax.tree.map(jnp.asarray, params)


@dataclass(frozen=True)
class LearnedPolicy:
    """A mixture of MAPPO actor snapshots (skill levels); one level per episode, actions sampled."""

    checkpoints: tuple[str, ...]
    """Paths of the actor snapshots (one per skill level)."""
    digests: tuple[str, ...]
    """SHA-256 prefix of each file (`file_digest`), checked on load."""
    weights: tuple[float, ...] | None = None
    """Probability of each level per episode (default: equal)."""
    label: str = ""
    """Names of the levels for the dataset's ``behavior`` attribute."""
    correlation: str = "independent"
    """How the team samples: ``independent`` (each agent on its own) or ``shared`` (one uniform per team and
    step through every agent's inverse CDF; module docstring)."""
    temperature: float = 1.0
    """Sampling temperature τ > 0: actions from softmax(logits / τ) (module docstring)."""

    def __post_init__(self) -> None:
        if not is_sampling_temperature(self.temperature):
            raise ConfigError(f"sampling temperature must be a finite number > 0, got {self.temperature!r}")
        if self.correlation not in CORRELATIONS:
            raise ConfigError(f"correlation {self.correlation!r} must be one of {', '.join(CORRELATIONS)}")
        if not self.checkpoints or len(self.digests) != len(self.checkpoints):
            raise ConfigError("a learned policy needs at least one checkpoint and one digest per checkpoint")
        if self.weights is not None and (len(self.weights) != len(self.checkpoints)
                                         or min(self.weights) < 0 or sum(self.weights) <= 0):
            raise ConfigError("learned policy weights must be one non-negative number per checkpoint, not all 0")

    def describe(self) -> str:
        """One line for the dataset's ``behavior`` attribute."""
        levels = ", ".join(f"{Path(c).name} (sha256 {d})" for c, d in zip(self.checkpoints, self.digests))
        sampling = ("each agent independently" if self.correlation == "independent" else
                    "by the whole team from one shared uniform per step through each agent's inverse CDF "
                    "(correlation shared: same marginals, correlated actions)")
        if self.temperature != 1:
            sampling += f", at sampling temperature {self.temperature:g} (softmax(logits / {self.temperature:g}))"
        return (f"learned MAPPO actors ({self.label or 'skill levels'}): {levels}; one level per episode "
                f"(weights {self.weights or 'equal'}), actions sampled from the masked policy {sampling}")

    def arrays(self, scenario: SmaxScenario) -> tuple[dict, jax.Array]:
        """(the levels' actor parameters stacked on a leading level axis, each level's probability)."""
        loaded = [load_actor(path, digest, scenario) for path, digest in zip(self.checkpoints, self.digests)]
        hidden = {actor.hidden for actor, _ in loaded}
        if len(hidden) > 1:
            raise DatasetError(f"the skill levels {self.checkpoints} have different hidden sizes {sorted(hidden)}")
        weights = np.asarray(self.weights or [1.0] * len(loaded), dtype=np.float32)
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[params for _, params in loaded])
        return stacked, jnp.asarray(weights / weights.sum())

    def program(self, scenario: SmaxScenario):
        """(act over E battles, its arrays) for `omiga.data.build_smax.policy_program`."""
        hidden = load_actor(self.checkpoints[0], self.digests[0], scenario)[0].hidden
        n_actions = N_MOVE_ACTIONS + len(scenario.enemy_types)
        return team_act(n_actions, hidden, self.correlation, float(self.temperature)), self.arrays(scenario)


def shared_inverse_cdf_actions(logits: jax.Array, u: jax.Array) -> jax.Array:
    """a_i = min{k : CDF_i(k) > u · CDF_i(A − 1)} for every agent's masked logits [..., N, A] and one u [...]
    in [0, 1) shared by the team (scaling by the total keeps the draw inside the support under rounding)."""
    cdf = jnp.cumsum(jax.nn.softmax(logits, axis=-1), axis=-1)
    threshold = u[..., None, None] * cdf[..., -1:]
    return jnp.argmax(cdf > threshold, axis=-1)


def sample_team_actions(logits: jax.Array, key: jax.Array, correlation: str = "independent",
                        temperature: float = 1.0) -> jax.Array:
    """One team's actions [N] from its agents' masked logits [N, A] and one step key: each agent draws from
    softmax(logits / ``temperature``), on its own (``independent``) or all through one uniform (``shared``)."""
    if temperature != 1:  # masked logits stay ~-1e9 / τ: still probability 0
        logits = logits / temperature
    if correlation == "shared":
        return shared_inverse_cdf_actions(logits, jax.random.uniform(key))
    return jax.random.categorical(key, logits)


@cache
def team_act(n_actions: int, hidden: int, correlation: str = "independent", temperature: float = 1.0):
    """Actions [E, N] of E teams from (obs, avail, step keys [E], episode keys [E], (params, probabilities)):
    each episode's key draws its skill level, each step's key samples that level's masked policy at
    ``temperature``, every agent on its own (``independent``) or all through one shared uniform (``shared``,
    `shared_inverse_cdf_actions`)."""
    actor = Actor(n_actions=n_actions, hidden=hidden)

    def one_team(obs, avail, key, episode_key, arrays):
        params, probabilities = arrays
        level = jax.random.choice(jax.random.fold_in(episode_key, 1), probabilities.shape[0], p=probabilities)
        level_params = jax.tree.map(lambda leaf: leaf[level], params)
        action = sample_team_actions(actor.apply(level_params, obs, avail), key, correlation, temperature)
        alive = avail.sum(-1) > 1
        return jnp.where(alive, action, STOP_ACTION).astype(jnp.int32)

    return jax.vmap(one_team, in_axes=(0, 0, 0, 0, None))
