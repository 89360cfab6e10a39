"""Hyperparameters of the baseline methods: one frozen dataclass per method, validated, torch-free.

``TrainConfig.method_options`` carries ``(name, value)`` pairs; :func:`method_options` turns them into the
method's dataclass (defaults for the names not given) and raises :class:`~omiga.errors.ConfigError` for an
unknown name or a bad value. This module imports no torch, so configuration is validated without it.

Sources of the defaults (the OMIGA paper, arXiv 2307.11620, defers baseline settings to the baselines'
papers and code; "OMIGA baseline code" below is its reference implementation of the MaMuJoCo baselines):

- BCQ: threshold τ = 0.3 (discrete BCQ, Fujimoto et al. 2019, "Benchmarking Batch Deep RL Algorithms");
  10 sampled actions per observation (BCQ, Fujimoto et al. 2019, and the OMIGA baseline code).
- CQL: α = 1.0 and 10 sampled actions per kind (the OMIGA baseline code's CQL critic, as in OMAR's code);
  entropy coefficient 0 (the baseline code's actors have no entropy term).
- ICQ: critic temperature α = 10, policy temperature β = 100 (the OMIGA baseline code's ICQ);
  10 policy samples for the continuous advantage baseline (our choice, as CQL's sample count).
- OMAR: CQL α = 1.0 with 10 samples, rectification coefficient 0.5, 2 zeroth-order (CEM) iterations of 20
  samples keeping 5 elites, initial sampling mean 0 and standard deviation 2 (the OMIGA baseline code's OMAR).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from omiga.errors import ConfigError

__all__ = ["METHOD_OPTIONS", "BcqOptions", "CqlOptions", "IcqOptions", "OmarOptions", "method_options"]


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
    """τ_bcq: discrete actions with π_b(a|o) / max_a' π_b(a'|o) < τ are never chosen."""
    n_samples: int = 10
    """Continuous: candidate actions sampled from the behaviour model per observation."""

    def __post_init__(self) -> None:
        _check("BcqOptions", "threshold", self.threshold, low=0.0, high=1.0)
        _check("BcqOptions", "n_samples", self.n_samples, low=1, integer=True)


@dataclass(frozen=True)
class CqlOptions:
    """CQL-MA: the Q step plus the conservative penalty α (logsumexp_a Q_i(o, a) − Q_i(o, a_data))."""

    alpha: float = 1.0
    """α_cql, the weight of the conservative penalty."""
    n_samples: int = 10
    """Continuous: uniform and policy actions (each) sampled for the logsumexp estimate."""
    entropy: float = 0.0
    """Continuous: fixed entropy coefficient β of the actor's loss E[β log π − Q_tot]."""

    def __post_init__(self) -> None:
        _check("CqlOptions", "alpha", self.alpha, low=0.0)
        _check("CqlOptions", "n_samples", self.n_samples, low=1, integer=True)
        _check("CqlOptions", "entropy", self.entropy, low=0.0)


@dataclass(frozen=True)
class IcqOptions:
    """ICQ: in-sample critic targets and advantage-weighted policy regression, both softmax over the batch."""

    critic_temperature: float = 10.0
    """α_icq of the critic's importance weights softmax(Q̄_tot(s′, a′) / α)."""
    policy_temperature: float = 100.0
    """β_icq of the policy's weights softmax(w_i A_i / β)."""
    n_samples: int = 10
    """Continuous: policy samples estimating the advantage baseline E_π Q_i(o, ·)."""

    def __post_init__(self) -> None:
        _check("IcqOptions", "critic_temperature", self.critic_temperature, low=0.0, low_open=True)
        _check("IcqOptions", "policy_temperature", self.policy_temperature, low=0.0, low_open=True)
        _check("IcqOptions", "n_samples", self.n_samples, low=1, integer=True)


@dataclass(frozen=True)
class OmarOptions:
    """OMAR: the CQL-MA critic and an actor rectified toward the best action a zeroth-order search finds."""

    alpha: float = 1.0
    """α_cql of the critic's conservative penalty."""
    n_samples: int = 10
    """Uniform and policy actions (each) of the critic's logsumexp estimate."""
    coefficient: float = 0.5
    """τ_omar: actor loss τ ‖a_π − â‖² − (1 − τ) Q_i(o, a_π)."""
    iterations: int = 2
    """Cross-entropy-method iterations of the zeroth-order search."""
    cem_samples: int = 20
    """Actions sampled per iteration."""
    elites: int = 5
    """Best samples kept per iteration (they refit the sampling distribution)."""
    init_mean: float = 0.0
    """Mean of the first iteration's Gaussian."""
    init_std: float = 2.0
    """Standard deviation of the first iteration's Gaussian."""

    def __post_init__(self) -> None:
        _check("OmarOptions", "alpha", self.alpha, low=0.0)
        _check("OmarOptions", "n_samples", self.n_samples, low=1, integer=True)
        _check("OmarOptions", "coefficient", self.coefficient, low=0.0, high=1.0)
        _check("OmarOptions", "iterations", self.iterations, low=1, integer=True)
        _check("OmarOptions", "cem_samples", self.cem_samples, low=2, integer=True)
        _check("OmarOptions", "elites", self.elites, low=2, integer=True, high=self.cem_samples)
        _check("OmarOptions", "init_mean", self.init_mean, low=-1.0, high=1.0)
        _check("OmarOptions", "init_std", self.init_std, low=0.0, low_open=True)


METHOD_OPTIONS: dict[str, type] = {"bcq": BcqOptions, "cql": CqlOptions, "icq": IcqOptions, "omar": OmarOptions}
"""Method name -> its options dataclass (methods not listed take no options)."""

_FIELD_TYPES: dict[str, dict[str, str]] = {method: {f.name: f.type for f in dataclasses.fields(options)}
                                          for method, options in METHOD_OPTIONS.items()}
"""Method name -> its options' field names and types, read once (a compiled training step resolves the options
while torch.compile traces it, and Dynamo cannot read the fields of a dataclass type)."""


def method_options(method: str, pairs: tuple[tuple[str, float], ...] = ()) -> object | None:
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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"method_options {name!r} must be a number, got {value!r}")
        if fields[name] == "int":
            _check(options_type.__name__, name, float(value), low=-math.inf, integer=True)
            value = int(value)
        values[name] = value
    return options_type(**values)
