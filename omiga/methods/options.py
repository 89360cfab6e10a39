"""Hyperparameters of the baseline methods: one frozen dataclass per method, validated, torch-free.

``TrainConfig.method_options`` carries ``(name, value)`` pairs; :func:`method_options` turns them into the
method's dataclass (defaults for the names not given) and raises :class:`~omiga.errors.ConfigError` for an
unknown name or a bad value. Values are numbers, except the named choices (``penalty``), which are strings.
This module imports no torch, so configuration is validated without it.

Sources of the defaults (the OMIGA paper, arXiv 2307.11620, defers baseline settings to the baselines'
papers and code; "OMIGA baseline code" below is its reference implementation of the MaMuJoCo baselines, as
carried by vietbt/ComaDICE ``agents/continuous``; "ICQ SMAC code" is YiqinYang/ICQ's ICQ-MA SMAC learner):

- BCQ: threshold τ = 0.3 (discrete BCQ, Fujimoto et al. 2019, "Benchmarking Batch Deep RL Algorithms");
  continuous: Φ = 0.05, λ = 0.75, 10 sampled actions at the target and 100 at evaluation (BCQ, Fujimoto et
  al. 2019, "Off-Policy Deep RL without Exploration", and the OMIGA baseline code, which uses the same values).
- CQL: α = 1.0 on the mixed penalty and 10 sampled actions per kind (the OMIGA baseline code's CQL critic adds
  its mixed penalty with weight 1, as OMAR's code does); entropy coefficient 0 (the baseline code's actors have
  no entropy term). α = 1 on the mixed form is N·w̄ times the strength of α = 1 on the per-agent form.
- ICQ: continuous critic temperature α = 10, policy temperature β = 100 (the OMIGA baseline code's ICQ);
  discrete α = 1000, β = 0.1 (the ICQ SMAC code, on SMAC's 0-20 returns); 10 policy samples for the
  continuous advantage baseline (our choice, as CQL's sample count).
- OMAR: CQL α = 1.0 with 10 samples on the mixed penalty, rectification coefficient 0.5, 2 zeroth-order (CEM)
  iterations of 20 samples keeping 5 elites, initial sampling mean 0 and standard deviation 2 (the OMIGA
  baseline code's OMAR); the discrete variant's categorical CEM uses the same iteration, sample and elite counts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from omiga.errors import ConfigError

__all__ = [
    "CQL_PENALTIES",
    "ICQ_TEMPERATURES",
    "METHOD_OPTIONS",
    "OPTION_ACTION_KINDS",
    "BcqOptions",
    "CqlOptions",
    "IcqOptions",
    "OmarOptions",
    "check_option_kinds",
    "method_options",
    "option_applies",
    "option_kind",
]

CQL_PENALTIES: tuple[str, ...] = ("mixed", "agent")
"""Forms of the conservative penalty: on the mixed Q_tot (the cited code's) or on each agent's Q_i (mean)."""


def _check_choice(owner: str, name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{owner}.{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _check(owner: str, name: str, value: float, *, low: float, integer: bool = False,
           high: float = math.inf, low_open: bool = False) -> None:
    bad_type = integer and (not float(value).is_integer())
    above_low = value > low if low_open else value >= low
    if bad_type or not (math.isfinite(value) and above_low and value <= high):
        kind = "an integer" if integer else "a number"
        bound = f"> {low}" if low_open else f">= {low}"
        upper = "" if math.isinf(high) else f" and <= {high}"
        raise ConfigError(f"{owner}.{name} must be {kind} {bound}{upper}, got {value!r}")


@dataclass(frozen=True)
class BcqOptions:
    """BCQ-MA: Q-learning restricted to actions the behaviour model finds likely."""

    threshold: float = 0.3
    """Discrete: τ_bcq, actions with π_b(a|o) / max_a' π_b(a'|o) < τ are never chosen."""
    phi: float = 0.05
    """Continuous: Φ, the perturbation ξ(o, a) is bounded by Φ · max_action (max_action = 1)."""
    min_weight: float = 0.75
    """Continuous: λ of the clipped double-Q target λ min(Q¹, Q²) + (1 − λ) max(Q¹, Q²)."""
    n_samples: int = 10
    """Continuous: actions decoded by the VAE (and perturbed) per next observation in the target."""
    eval_samples: int = 100
    """Continuous: actions decoded and perturbed per observation when acting (the best under Q¹ is taken)."""

    def __post_init__(self) -> None:
        _check("BcqOptions", "threshold", self.threshold, low=0.0, high=1.0)
        _check("BcqOptions", "phi", self.phi, low=0.0, high=2.0)
        _check("BcqOptions", "min_weight", self.min_weight, low=0.0, high=1.0)
        _check("BcqOptions", "n_samples", self.n_samples, low=1, integer=True)
        _check("BcqOptions", "eval_samples", self.eval_samples, low=1, integer=True)


@dataclass(frozen=True)
class CqlOptions:
    """CQL-MA: the Q step plus the conservative penalty α (logsumexp over actions − the data action's value)."""

    alpha: float = 1.0
    """α_cql, the weight of the conservative penalty."""
    penalty: str = "mixed"
    """"mixed": on w_i Q_i, summed over agents (the cited code's Q_tot form); "agent": on Q_i, mean over agents."""
    n_samples: int = 10
    """Continuous: uniform and policy actions (each) sampled for the logsumexp estimate."""
    entropy: float = 0.0
    """Continuous: fixed entropy coefficient β of the actor's loss E[β log π − Q_tot]."""

    def __post_init__(self) -> None:
        _check("CqlOptions", "alpha", self.alpha, low=0.0)
        _check_choice("CqlOptions", "penalty", self.penalty, CQL_PENALTIES)
        _check("CqlOptions", "n_samples", self.n_samples, low=1, integer=True)
        _check("CqlOptions", "entropy", self.entropy, low=0.0)


@dataclass(frozen=True)
class IcqOptions:
    """ICQ: in-sample critic targets and advantage-weighted policy regression, both softmax over the batch."""

    critic_temperature: float | None = None
    """α_icq of the critic's importance weights softmax(Q̄_tot(s′, a′) / α); None: 1000 discrete, 10 continuous."""
    policy_temperature: float | None = None
    """β_icq of the policy's weights (w_i softmax(A_i / β) discrete, softmax(w_i A_i / β) continuous); None: 0.1
    discrete, 100 continuous."""
    n_samples: int = 10
    """Continuous: policy samples estimating the advantage baseline E_π Q_i(o, ·)."""

    def __post_init__(self) -> None:
        for name in ("critic_temperature", "policy_temperature"):
            if getattr(self, name) is not None:
                _check("IcqOptions", name, getattr(self, name), low=0.0, low_open=True)
        _check("IcqOptions", "n_samples", self.n_samples, low=1, integer=True)

    def temperatures(self, *, discrete: bool) -> tuple[float, float]:
        """(critic α, policy β) with the action kind's defaults where not given."""
        critic, policy = ICQ_TEMPERATURES["discrete" if discrete else "continuous"]
        return (critic if self.critic_temperature is None else self.critic_temperature,
                policy if self.policy_temperature is None else self.policy_temperature)


ICQ_TEMPERATURES: dict[str, tuple[float, float]] = {"discrete": (1000.0, 0.1), "continuous": (10.0, 100.0)}
"""ICQ's default (critic, policy) temperatures by action kind: the ICQ SMAC code's and the OMIGA baseline code's."""


@dataclass(frozen=True)
class OmarOptions:
    """OMAR: the CQL-MA critic and an actor rectified toward the best action a zeroth-order search finds."""

    alpha: float = 1.0
    """α_cql of the critic's conservative penalty."""
    penalty: str = "mixed"
    """Form of the critic's penalty, as :attr:`CqlOptions.penalty`."""
    n_samples: int = 10
    """Continuous: uniform and policy actions (each) of the critic's logsumexp estimate."""
    coefficient: float = 0.5
    """τ_omar: actor loss τ ‖a_π − â‖² − (1 − τ) Q_i(o, a_π)."""
    iterations: int = 2
    """Cross-entropy-method iterations of the zeroth-order search."""
    cem_samples: int = 20
    """Actions sampled per iteration."""
    elites: int = 5
    """Best samples kept per iteration (they refit the sampling distribution)."""
    init_mean: float = 0.0
    """Continuous: mean of the first iteration's Gaussian (discrete: the first categorical is uniform)."""
    init_std: float = 2.0
    """Continuous: standard deviation of the first iteration's Gaussian."""

    def __post_init__(self) -> None:
        _check("OmarOptions", "alpha", self.alpha, low=0.0)
        _check_choice("OmarOptions", "penalty", self.penalty, CQL_PENALTIES)
        _check("OmarOptions", "n_samples", self.n_samples, low=1, integer=True)
        _check("OmarOptions", "coefficient", self.coefficient, low=0.0, high=1.0)
        _check("OmarOptions", "iterations", self.iterations, low=1, integer=True)
        _check("OmarOptions", "cem_samples", self.cem_samples, low=2, integer=True)
        _check("OmarOptions", "elites", self.elites, low=2, integer=True, high=self.cem_samples)
        _check("OmarOptions", "init_mean", self.init_mean, low=-1.0, high=1.0)
        _check("OmarOptions", "init_std", self.init_std, low=0.0, low_open=True)


METHOD_OPTIONS: dict[str, type] = {"bcq": BcqOptions, "cql": CqlOptions, "icq": IcqOptions, "omar": OmarOptions}
"""Method name -> its options dataclass (methods not listed take no options)."""

OPTION_ACTION_KINDS: dict[str, dict[str, str]] = {
    "bcq": {"threshold": "discrete", "phi": "continuous", "min_weight": "continuous", "n_samples": "continuous",
            "eval_samples": "continuous"},
    "cql": {"n_samples": "continuous", "entropy": "continuous"},
    "icq": {"n_samples": "continuous"},
    "omar": {"n_samples": "continuous", "init_mean": "continuous", "init_std": "continuous"},
}
"""Options that act on one action kind only (the others act on both): a study sweeps them only there."""


def check_option_kinds(method: str, options: Sequence[tuple[str, object]], *, discrete: bool) -> None:
    """ConfigError naming the first option of ``method`` that acts on the other action kind only (it would be
    silently ignored on this dataset)."""
    kind = "discrete" if discrete else "continuous"
    for name, _ in options:
        if not option_applies(method, name, discrete=discrete):
            usable = sorted(n for n, k in OPTION_ACTION_KINDS.get(method, {}).items() if k == kind)
            hint = f" (its {kind}-only options: {', '.join(usable)})" if usable else ""
            raise ConfigError(f"method {method!r} option {name!r} acts on {OPTION_ACTION_KINDS[method][name]} "
                              f"actions only, but the dataset's actions are {kind}: drop it{hint}")


def option_applies(method: str, name: str, *, discrete: bool) -> bool:
    """Whether option ``name`` of ``method`` changes anything on a task of that action kind."""
    kind = OPTION_ACTION_KINDS.get(method, {}).get(name)
    return kind is None or kind == ("discrete" if discrete else "continuous")

_FIELD_TYPES: dict[str, dict[str, str]] = {method: {f.name: f.type for f in dataclasses.fields(options)}
                                          for method, options in METHOD_OPTIONS.items()}
"""Method name -> its options' field names and types, read once (a compiled training step resolves the options
while torch.compile traces it, and Dynamo cannot read the fields of a dataclass type)."""


def option_kind(method: str, name: str) -> str:
    """"int", "float" or "str": the kind of value option ``name`` of ``method`` takes (ConfigError if unknown)."""
    fields = _FIELD_TYPES.get(method)
    if fields is None:
        raise ConfigError(f"method {method!r} takes no method_options; methods with options: "
                          f"{', '.join(sorted(_FIELD_TYPES))}")
    if name not in fields:
        raise ConfigError(f"unknown method_options [{name!r}] for method {method!r}; known: {', '.join(fields)}")
    kind = fields[name].split(" |")[0]
    return kind if kind in ("int", "str") else "float"


def method_options(method: str, pairs: tuple[tuple[str, float | str], ...] = ()) -> object | None:
    """The options of ``method`` with ``pairs`` applied (None for a method without options)."""
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ConfigError(f"method_options name a setting twice: {names}")
    options_type = METHOD_OPTIONS.get(method)
    if options_type is None:
        if pairs:
            raise ConfigError(f"method {method!r} takes no method_options, got {names}")
        return None
    fields = _FIELD_TYPES[method]
    unknown = sorted(set(names) - set(fields))
    if unknown:
        raise ConfigError(f"unknown method_options {unknown} for method {method!r}; known: {', '.join(fields)}")
    values = {}
    for name, value in pairs:
        if option_kind(method, name) == "str":
            if not isinstance(value, str):
                raise ConfigError(f"method_options {name!r} must be a string, got {value!r}")
            values[name] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"method_options {name!r} must be a number, got {value!r}")
        if fields[name] == "int":
            _check(options_type.__name__, name, float(value), low=-math.inf, integer=True)
            value = int(value)
        values[name] = value
    return options_type(**values)
