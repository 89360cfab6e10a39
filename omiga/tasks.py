"""The task registry: a task name maps to its backends, dataset qualities, score and normalisation constants.

Environment factories and dataset builders are named by ``"module:function"`` strings and imported only when
used, so importing this module is cheap and a missing optional backend fails only when it is needed, with a
`BackendUnavailableError` that says what to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omiga.errors import BackendUnavailableError, ConfigError, UnknownNameError

__all__ = [
    "BACKENDS",
    "CORRELATIONS",
    "SMAX_BEHAVIORS",
    "SMAX_BEHAVIOR_VERSION",
    "BackendSpec",
    "TaskSpec",
    "backend_available",
    "build_dataset",
    "dataset_path",
    "get_task",
    "is_sampling_temperature",
    "make_vector_env",
    "normalized_score",
    "parse_quality",
    "resolve_backend",
    "quality_name",
    "split_correlation",
    "split_variants",
    "task_names",
    "with_correlation",
    "with_temperature",
]

SMAC_QUALITIES = ("good", "medium", "poor")
D4RL_QUALITIES = ("expert", "medium", "medium-replay", "medium-expert")
OBS_MODES = ("local", "global")


@dataclass(frozen=True)
class BackendSpec:
    """How to construct one backend's vector env and datasets, and what it needs installed."""

    name: str
    """Backend name, e.g. "smax"."""
    env_factory: str
    """"module:function" called with (*, **task.backend_kwargs[backend], n_envs, seed[, obs_mode])."""
    builder: str | None
    """"module:function" called with (*, task=<name>, quality, episodes, seed, path); None: cannot build."""
    requires: tuple[str, ...]
    """Importable top-level modules the backend needs."""
    install_hint: str
    """What to install when a required module is missing."""
    obs_modes: tuple[str, ...] = ("local",)
    """Observation modes the factory offers; obs_mode is passed to it only if it offers more than "local"."""


BACKENDS: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in (
        BackendSpec("smax", "omiga.envs.smax:make_smax_vector_env", "omiga.data.build_smax:build_smax_dataset",
                    ("jax", "jaxmarl"), "pip install jaxmarl==0.2.0 jax==0.10.2 jaxlib==0.10.2"),
        BackendSpec("sc2", "omiga.envs.sc2:make_sc2_vector_env", None, ("smac",),
                    "pip install git+https://github.com/oxwhirl/smac.git and install StarCraft II "
                    "(set SC2PATH) with the SMAC maps"),
        BackendSpec("mamujoco", "omiga.envs.mamujoco:make_mamujoco_vector_env",
                    "omiga.data.build_mamujoco:build_mamujoco_dataset",
                    ("gymnasium_robotics", "mujoco"), "pip install gymnasium-robotics==1.4.2 mujoco==4.0.0",
                    obs_modes=("local", "global")),
        BackendSpec("toy", "omiga.envs.toy:make_toy_vector_env", "omiga.data.build_toy:build_toy_dataset",
                    (), "nothing (the toy backend is pure NumPy)"),
    )
}


@dataclass(frozen=True)
class TaskSpec:
    """A registered task and its capabilities."""

    name: str
    """Registry key, e.g. "smac_corridor"."""
    family: str
    """"smac" | "mamujoco" | "toy"."""
    backends: tuple[str, ...]
    """Backends that run it; the first is the default."""
    action_kind: str
    """"discrete" | "continuous"."""
    qualities: tuple[str, ...]
    """Dataset qualities that can be built or imported."""
    has_win_rate: bool
    """Whether episodes can be won (SMAC) and a win rate is reported."""
    score_name: str
    """What the score is: "return" (on the SMAC 0-20 scale for smac tasks)."""
    random_score: float
    """Score of a uniformly random policy (normalisation: (score - random) / (best - random))."""
    best_score: float
    """Score of the best behaviour policy (normalisation's 1.0)."""
    default_episodes: int
    """Dataset size when built (1000 episodes for SMAC maps, the paper's)."""
    description: str
    """What the task is, including how a stand-in differs from the real map."""
    backend_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    """Per backend, the keyword arguments its env factory gets besides n_envs, seed and obs_mode."""

    def __post_init__(self) -> None:
        if self.family not in ("smac", "mamujoco", "toy"):
            raise ConfigError(f"task {self.name!r}: family {self.family!r} must be smac, mamujoco or toy")
        if not self.backends or any(b not in BACKENDS for b in self.backends):
            raise ConfigError(f"task {self.name!r}: backends {self.backends} must be among {sorted(BACKENDS)}")
        if self.action_kind not in ("discrete", "continuous"):
            raise ConfigError(f"task {self.name!r}: action_kind must be 'discrete' or 'continuous'")
        if not self.qualities:
            raise ConfigError(f"task {self.name!r}: needs at least one dataset quality")
        if not self.best_score > self.random_score:
            raise ConfigError(f"task {self.name!r}: best_score must exceed random_score")
        if self.default_episodes < 1:
            raise ConfigError(f"task {self.name!r}: default_episodes must be >= 1")

    @property
    def discrete(self) -> bool:
        """Whether actions are discrete indices (with an available-action mask)."""
        return self.action_kind == "discrete"

    @property
    def default_backend(self) -> str:
        """The backend used when none is asked for."""
        return self.backends[0]


SMAX_BEHAVIOR_VERSION = 3
"""Version of the SMAX behaviour, written into every SMAX dataset's ``behavior`` attribute as
``smax-behavior-v<N>``; bump it whenever the quality recipes change so that `dataset_path` never reuses cached
files built by older ones. v1: scripted, qualities differed by ε only; v2: scripted per-episode hold/scatter
mixtures (still available as ``behavior="scripted-v2"``); v3: learned MAPPO skill levels and return bands
(`omiga.behaviour`), the default where a task ships them."""

SMAX_BEHAVIORS: dict[str, int] = {"learned": 3, "scripted-v2": 2}
"""SMAX behaviour names and the version their cached files carry."""


CORRELATIONS = ("independent", "shared")
"""How a team's agents draw their actions in a built dataset (docs/corridor.md, "Factorised and correlated data"):
``independent`` — each agent samples its own policy with its own randomness (a factorised behaviour, the
default: the plain quality name); ``shared`` — one uniform number per team and step drives every agent's
inverse-CDF draw, so each agent's marginal policy is unchanged but the team's choices are correlated (quality
``<quality>@shared``)."""
_VARIANT_MARK = "@"
_TEMPERATURE_MARK = "t"


def split_variants(quality: str) -> tuple[str, str, float]:
    """(base quality, correlation, sampling temperature) of a quality name, whose suffixes name how its learned
    behaviour samples (`omiga.behaviour.policy`): ``"medium"`` -> ("medium", "independent", 1.0),
    ``"medium@shared"`` -> ("medium", "shared", 1.0), ``"medium@t0.1"`` -> ("medium", "independent", 0.1),
    ``"medium@shared@t2"`` both. A name must be written as `quality_name` writes it (one spelling per dataset, so
    one cache file): an unknown or repeated suffix, a temperature that is not a number > 0, ``@t1`` or another
    spelling of the same temperature is a ConfigError naming the spelling to use."""
    base, *suffixes = str(quality).split(_VARIANT_MARK)
    correlation, temperature = CORRELATIONS[0], 1.0
    for suffix in suffixes:
        if suffix in CORRELATIONS[1:]:
            correlation = suffix
        elif _is_temperature(suffix):
            temperature = _temperature(suffix, quality)
        else:
            raise UnknownNameError("dataset variant", suffix, (*CORRELATIONS[1:], "t<temperature>"),
                                   plural=f"variants of a dataset (quality {quality!r}: write e.g. {base}@shared "
                                          f"or {base}@t0.1)")
    canonical = quality_name(base, correlation=correlation, temperature=temperature)
    if canonical != quality:
        raise ConfigError(f"quality {quality!r} names its variants in another spelling (or twice); write "
                          f"{canonical!r}")
    return base, correlation, temperature


def _is_temperature(suffix: str) -> bool:
    """Whether a suffix is ``t`` and a number (``t0.1``; ``tinf`` too, refused by `_temperature`)."""
    try:
        float(suffix.removeprefix(_TEMPERATURE_MARK))
    except ValueError:
        return False
    return suffix.startswith(_TEMPERATURE_MARK)


def is_sampling_temperature(value: object) -> bool:
    """Whether ``value`` is a sampling temperature: a finite number > 0 (a bool is not one)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and value > 0)


def _temperature(suffix: str, quality: str) -> float:
    """The τ of a ``t<τ>`` suffix (`_is_temperature`; a ConfigError unless τ is a finite number > 0)."""
    text = suffix[len(_TEMPERATURE_MARK):]
    return _checked_temperature(float(text), text, quality)


def _checked_temperature(value: float, text: str, quality: str) -> float:
    """``value`` as a float, or a ConfigError quoting ``text`` unless it `is_sampling_temperature`."""
    if not is_sampling_temperature(value):
        raise ConfigError(f"quality {quality!r}: sampling temperature {text!r} must be a number > 0 (e.g. @t0.1: "
                          f"softmax(logits / 0.1))")
    return float(value)


def quality_name(base: str, *, correlation: str = CORRELATIONS[0], temperature: float = 1.0) -> str:
    """The one spelling of ``base``'s dataset drawn with ``correlation`` at ``temperature`` (`split_variants`'
    inverse): the base, then ``@shared``, then ``@t<τ>`` (τ in %g); the defaults write nothing."""
    if correlation not in CORRELATIONS:
        raise UnknownNameError("correlation", correlation, CORRELATIONS)
    name = base if correlation == CORRELATIONS[0] else f"{base}{_VARIANT_MARK}{correlation}"
    return name if temperature == 1 else f"{name}{_VARIANT_MARK}{_TEMPERATURE_MARK}{temperature:g}"


def split_correlation(quality: str) -> tuple[str, str]:
    """(base quality, correlation) of a quality name: ``"medium@shared"`` -> ("medium", "shared"),
    ``"medium"`` -> ("medium", "independent") (`split_variants`)."""
    return split_variants(quality)[:2]


def with_correlation(quality: str, correlation: str) -> str:
    """The quality name of ``quality``'s data drawn with ``correlation`` (the inverse of `split_correlation`)."""
    base, current, temperature = split_variants(quality)
    if correlation not in CORRELATIONS:
        raise UnknownNameError("correlation", correlation, CORRELATIONS)
    if current != CORRELATIONS[0] and current != correlation:
        raise ConfigError(f"quality {quality!r} already names correlation {current!r}, not {correlation!r}")
    return quality_name(base, correlation=correlation, temperature=temperature)


def with_temperature(quality: str, temperature: float) -> str:
    """The quality name of ``quality``'s data sampled at ``temperature`` (a ConfigError when ``quality`` names
    another one)."""
    base, correlation, current = split_variants(quality)
    value = _checked_temperature(temperature, str(temperature), quality)
    if current != 1 and current != value:
        raise ConfigError(f"quality {quality!r} already names sampling temperature {current:g}, not {value:g}")
    return quality_name(base, correlation=correlation, temperature=value)


def parse_quality(task: TaskSpec, quality: str) -> tuple[str, ...]:
    """The parts of a quality: ``"good"`` -> ("good",), a mixture ``"good+poor"`` -> ("good", "poor"); a
    variant suffix (``"good+poor@shared"``, `split_variants`) is checked and left out."""
    base = split_variants(quality)[0] if isinstance(quality, str) else None
    parts = tuple(base.split("+")) if isinstance(base, str) else ()
    if not parts or any(p not in task.qualities for p in parts) or len(set(parts)) != len(parts):
        hint = " (a mixture joins distinct ones with '+', e.g. good+poor)" if "+" in str(quality) else ""
        raise UnknownNameError("quality", quality, task.qualities, plural=f"qualities of task {task.name}{hint}")
    return parts


def _smac_task(name: str, *, scenario: str, best: float, random: float, description: str) -> TaskSpec:
    """A SMAC map: SMAX stand-in by default, real StarCraft II when installed.

    ``random`` / ``best``: mean SMAC-scale return of a uniform random policy (128 battles, 64 for 2c_vs_64zg)
    and of the "good" behaviour in the SMAX stand-in: the learned good quality where the map ships MAPPO levels
    (behaviour v3; corridor, 6h_vs_8z and 2c_vs_64zg: their 1000-episode datasets of seed 0, 19.39, 18.22 and
    19.31; 5m_vs_6m: every good episode is a win, 20.0).
    """
    return TaskSpec(name=name, family="smac", backends=("smax", "sc2"), action_kind="discrete",
                    qualities=SMAC_QUALITIES, has_win_rate=True, score_name="return", random_score=random,
                    best_score=best, default_episodes=1000, description=description,
                    backend_kwargs={"smax": {"scenario": scenario}, "sc2": {"map_name": name.removeprefix("smac_")}})


def _mamujoco_task(name: str, *, scenario: str, agent_conf: str, best: float, random: float) -> TaskSpec:
    """A MaMuJoCo problem. ``random`` / ``best``: where the task ships SAC behaviour, the mean return of 100
    episodes of the uniform random policy and of the shipped expert actor, actions sampled (its manifest's
    ``random`` and ``levels.expert``: `python -m omiga behaviour levels`); elsewhere rough guesses, not measured.
    """
    return TaskSpec(name=name, family="mamujoco", backends=("mamujoco",), action_kind="continuous",
                    qualities=D4RL_QUALITIES, has_win_rate=False, score_name="return", random_score=random,
                    best_score=best, default_episodes=1000,
                    description=f"Multi-agent MuJoCo {scenario} {agent_conf} (gymnasium-robotics mamujoco_v1, "
                                "agent_obsk=1); return over 1000-step episodes.",
                    backend_kwargs={"mamujoco": {"scenario": scenario, "agent_conf": agent_conf}})


_SMAX_NOTE = ("SMAX (jaxmarl) stand-in, not StarCraft II: continuous 2-D unit simulation with no terrain "
              "height, no fog or pathing, simplified unit stats; return rebuilt on the SMAC 0-20 scale.")

_TASKS: dict[str, TaskSpec] = {
    task.name: task
    for task in (
        _smac_task("smac_corridor", scenario="corridor", best=19.39, random=6.24, description=(
            "6 zealots vs 24 zerglings in a walled corridor (SMAX stand-in for SMAC 'corridor'): an open ally "
            "area, a narrow choke and an open enemy area; units cannot leave the walkable region. " + _SMAX_NOTE
            + " See docs/corridor.md for the exact differences (map size, stats, walls).")),
        _smac_task("smac_5m_vs_6m", scenario="5m_vs_6m", best=20.0, random=1.58, description=(
            "5 marines vs 6 marines in the open (SMAX scenario, same unit mix as SMAC 5m_vs_6m). " + _SMAX_NOTE)),
        _smac_task("smac_6h_vs_8z", scenario="6h_vs_8z", best=18.22, random=4.81, description=(
            "6 hydralisks vs 8 zealots in the open (SMAX scenario, same unit mix as SMAC 6h_vs_8z). "
            + _SMAX_NOTE)),
        _smac_task("smac_2c_vs_64zg", scenario="2c_vs_64zg", best=19.31, random=5.14, description=(
            "Stand-in for SMAC 2c_vs_64zg: SMAX has no colossus, so 2 stalker slots with SC2 colossus "
            "health, range and radius (splash approximated by 40 single-target damage) fight 64 zerglings "
            "(melee range 2) on an open map with a plateau only the allies can climb. " + _SMAX_NOTE)),
        *(_smac_task(f"smac_protoss_{n}_vs_{n}", scenario=f"protoss_{n}v{n}", best=20.0, random=0.0, description=(
            f"{n} vs {n} protoss units, SMACv2-style mix without colossi ({(n + 1) // 2} stalkers and {n // 2} "
            "zealots a side, fixed), SMAX's open map and default stats: the scaling study's battles (5, 10, 20 a "
            "side). Normalisation constants are the SMAC scale's 0 and 20, not measured behaviour returns. "
            + _SMAX_NOTE)) for n in (5, 10, 20)),
        _mamujoco_task("mamujoco_halfcheetah_6x1", scenario="HalfCheetah", agent_conf="6x1",
                       best=3412.40, random=-297.96),
        _mamujoco_task("mamujoco_hopper_3x1", scenario="Hopper", agent_conf="3x1", best=2998.91, random=16.80),
        _mamujoco_task("mamujoco_ant_2x4", scenario="Ant", agent_conf="2x4", best=6000.0, random=-60.0),
        TaskSpec(name="toy_coop", family="toy", backends=("toy",), action_kind="discrete",
                 qualities=SMAC_QUALITIES, has_win_rate=False, score_name="return", random_score=0.34,
                 best_score=8.0, default_episodes=200,
                 description="Tiny cooperative NumPy task for CI (omiga/envs/toy.py); no win condition."),
    )
}


def task_names() -> tuple[str, ...]:
    """Names of all registered tasks, in registry order."""
    return tuple(_TASKS)


def get_task(name: TaskSpec | str) -> TaskSpec:
    """The registered task called ``name`` (a TaskSpec is returned unchanged)."""
    if isinstance(name, TaskSpec):
        return name
    try:
        return _TASKS[name]
    except KeyError:
        raise UnknownNameError("task", name, _TASKS) from None


def backend_available(backend: str) -> bool:
    """Whether the backend's required modules can be imported here (an import check; nothing is built)."""
    spec = BACKENDS[backend]
    return all(importlib.util.find_spec(module) is not None for module in spec.requires)


def resolve_backend(task: TaskSpec | str, backend: str | None = None) -> str:
    """The backend to use for ``task``: ``backend`` if the task supports it, else the task's default."""
    spec = get_task(task)
    if backend is None:
        return spec.default_backend
    if backend not in spec.backends:
        raise UnknownNameError("backend", backend, spec.backends, plural=f"backends of task {spec.name}")
    return backend


def _load(target: str, backend: str) -> Any:
    spec = BACKENDS[backend]
    if not backend_available(backend):
        raise BackendUnavailableError(
            f"backend {backend!r} is not installed (needs modules {', '.join(spec.requires)}); "
            f"install it with: {spec.install_hint}")
    module_name, _, function = target.partition(":")
    return getattr(importlib.import_module(module_name), function)


def make_vector_env(task: TaskSpec | str, *, n_envs: int, seed: int, backend: str | None = None,
                    obs_mode: str = "local"):
    """Construct ``n_envs`` environments of ``task`` on ``backend`` (default: the task's first backend)."""
    spec = get_task(task)
    name = resolve_backend(spec, backend)
    if n_envs < 1:
        raise ConfigError(f"n_envs must be >= 1, got {n_envs}")
    if obs_mode not in OBS_MODES:
        raise ConfigError(f"obs_mode {obs_mode!r} must be one of {', '.join(OBS_MODES)}")
    backend_spec = BACKENDS[name]
    if obs_mode not in backend_spec.obs_modes:
        raise ConfigError(f"backend {name!r} offers obs_mode {', '.join(backend_spec.obs_modes)}, "
                          f"not {obs_mode!r}; pass obs_mode='local'")
    factory = _load(backend_spec.env_factory, name)
    extra = {"obs_mode": obs_mode} if len(backend_spec.obs_modes) > 1 else {}
    return factory(**spec.backend_kwargs.get(name, {}), n_envs=n_envs, seed=seed, **extra)


def build_dataset(task: TaskSpec | str, *, quality: str, episodes: int | None, seed: int, path: Path,
                  backend: str | None = None, **builder_options: Any) -> Path:
    """Roll out the behaviour policy of ``quality`` for ``episodes`` (default: the task's) and write ``path``.

    ``builder_options`` go to the backend's builder as keyword arguments (MaMuJoCo: ``behavior_checkpoint``,
    ``sac_steps``, ``max_episode_steps``, ...); an option the builder does not take is a ConfigError naming
    the option, the task and the options it does take. Options set to None are treated as not given. A quality
    with a variant suffix passes it as well: ``medium@shared`` ``correlation="shared"``, ``medium@t0.1``
    ``temperature=0.1`` (SMAX learned behaviour only; `split_variants`).
    """
    spec = get_task(task)
    name = resolve_backend(spec, backend)
    parse_quality(spec, quality)
    _, correlation, temperature = split_variants(quality)
    if correlation != CORRELATIONS[0]:  # a builder without correlated sampling refuses the option below
        builder_options = {**builder_options, "correlation": correlation}
    if temperature != 1:  # likewise for a builder without tempered sampling
        builder_options = {**builder_options, "temperature": temperature}
    builder = BACKENDS[name].builder
    if builder is None:
        raise ConfigError(f"backend {name!r} cannot build datasets; build with the default backend "
                          f"{spec.default_backend!r} (omit --backend)")
    n_episodes = spec.default_episodes if episodes is None else episodes
    if n_episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {n_episodes}")
    options = {key: value for key, value in builder_options.items() if value is not None}
    function = _load(builder, name)
    _check_builder_options(function, options, task=spec.name, backend=name)
    return function(task=spec.name, quality=quality, episodes=n_episodes, seed=seed, path=Path(path), **options)


_BUILDER_ARGUMENTS = frozenset({"task", "quality", "episodes", "seed", "path"})


def _check_builder_options(function: Any, options: dict[str, Any], *, task: str, backend: str) -> None:
    """ConfigError for the first option ``function`` (a dataset builder) takes no keyword argument for."""
    parameters = inspect.signature(function).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return  # the builder takes any keyword and checks its options itself
    accepted = sorted(p.name for p in parameters.values()
                      if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in _BUILDER_ARGUMENTS)
    for option in options:
        if option not in accepted:
            takes = f"only {', '.join(accepted)}" if accepted else "no options"
            raise ConfigError(f"option --{option.replace('_', '-')} ({option}) does not apply to task {task!r}: "
                              f"its {backend} dataset builder takes {takes}")


def dataset_path(task: TaskSpec | str, *, quality: str, cache_dir: Path | None = None,
                 backend: str | None = None, behavior: str | None = None) -> Path:
    """Where the built dataset of ``task`` and ``quality`` lives: ``<cache>/<task>/<backend>-<quality>.h5``.

    The cache directory is ``cache_dir``, else ``$OMIGA_DATA_DIR``, else ``~/.cache/omiga/datasets``. SMAX files
    carry their behaviour's version in their name (``smax-v<version>-<quality>.h5``, `SMAX_BEHAVIORS`; the
    task's default behaviour when ``behavior`` is None): files built by older behaviour policies are never
    reused, and never touched either.
    """
    spec = get_task(task)
    name = resolve_backend(spec, backend)
    parse_quality(spec, quality)
    if cache_dir is None:
        env_dir = os.environ.get("OMIGA_DATA_DIR")
        cache_dir = Path(env_dir) if env_dir else Path.home() / ".cache" / "omiga" / "datasets"
    version = f"-v{_smax_version(spec.name, behavior)}" if name == "smax" else ""
    return Path(cache_dir) / spec.name / f"{name}{version}-{quality}.h5"


def _smax_version(task: str, behavior: str | None) -> int:
    from omiga.behaviour.manifest import default_behavior

    behavior = behavior or default_behavior(task)
    if behavior not in SMAX_BEHAVIORS:
        raise UnknownNameError("SMAX behaviour", behavior, SMAX_BEHAVIORS)
    return SMAX_BEHAVIORS[behavior]


def normalized_score(task: TaskSpec | str, score: float) -> float:
    """``(score - random_score) / (best_score - random_score)``: 0 is random, 1 the best behaviour policy."""
    spec = get_task(task)
    return (float(score) - spec.random_score) / (spec.best_score - spec.random_score)
