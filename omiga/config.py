"""Typed, frozen configuration of the trainer: networks, the training run and each population member.

Defaults follow the paper and its official code (γ 0.99, τ 0.005, lr 5e-4, batch 128, gradient-norm clip
1.0, hidden 256, mixer hidden 64, exponent clamp 10). Every value is validated in ``__post_init__`` and a
bad value raises :class:`~omiga.errors.ConfigError` (or :class:`~omiga.errors.UnknownNameError` for names).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from omiga.errors import ConfigError, UnknownNameError
from omiga.methods import method_names
from omiga.methods.options import method_options

__all__ = ["GRAPHABLE_METHODS", "METHOD_NAMES", "MIXER_NAMES", "MemberConfig", "NetworkConfig", "TrainConfig"]

MIXER_NAMES: tuple[str, ...] = ("linear", "qmix", "vdn")
"""Mixers known to :mod:`omiga.mixers` (kept here so configuration can be validated without torch)."""

METHOD_NAMES: tuple[str, ...] = method_names()
"""Update rules registered in :mod:`omiga.methods`."""

GRAPHABLE_METHODS: tuple[str, ...] = ("bc", "omiga")
"""Update rules whose step draws no host-side randomness, so that a CUDA graph can replay it."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _positive_int(owner: str, name: str, value: object, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    _require(isinstance(value, int) and not isinstance(value, bool) and value >= low,
             f"{owner}.{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class NetworkConfig:
    """Sizes of the per-agent networks (V, Q, π) and of the mixer."""

    hidden: int = 256
    """Width of both hidden layers of the V, Q and policy networks."""
    mixer_hidden: int = 64
    """Width of the mixer's hidden layer (linear mixer) or embedding (qmix)."""

    def __post_init__(self) -> None:
        _positive_int("NetworkConfig", "hidden", self.hidden)
        _positive_int("NetworkConfig", "mixer_hidden", self.mixer_hidden)


@dataclass(frozen=True)
class TrainConfig:
    """Settings shared by every member of a population."""

    steps: int
    """Number of gradient steps per member."""
    batch_size: int = 128
    """Transitions per member per step."""
    lr: float = 5e-4
    """Adam learning rate of every network."""
    gamma: float = 0.99
    """Discount factor of the Q step's bootstrap."""
    tau: float = 0.005
    """Soft target update rate of the Q, V and mixer target networks."""
    grad_clip: float = 1.0
    """Per-member gradient-norm clip of each optimised group (policy, Q + mixer, V); 0 disables it."""
    exp_clamp: float = 10.0
    """Upper clamp of the exponent w(Q̄ − V)/α of the policy weights (the reference clamps at 10)."""
    mixer: str = "linear"
    """Mixer name: linear (the paper's), vdn or qmix."""
    method: str = "omiga"
    """Update rule: omiga, bc (per-agent behaviour cloning) or a baseline: bcq, cql, icq, omar."""
    method_options: tuple[tuple[str, float | str], ...] = ()
    """(name, value) pairs overriding the method's hyperparameters (omiga.methods.options), e.g. (("alpha", 5.0),)."""
    reward_to_go: bool = False
    """Replace each reward by the discounted reward-to-go of its episode (the official SMAC code's quirk)."""
    network: NetworkConfig = field(default_factory=NetworkConfig)
    """Sizes of the networks."""
    checkpoint_every: int = 0
    """Write out_dir/checkpoint.pt every this many steps (0 = never)."""
    eval_every: int = 0
    """Call the evaluation callback every this many steps (0 = only at the end)."""
    eval_episodes: int = 32
    """Evaluation episodes per member (used by the caller that builds the evaluation callback)."""
    device: str = "cpu"
    """Torch device of the training tensors."""
    check_every: int = 50
    """Steps between synchronising divergence checks (a cheap per-step flag records the exact step)."""
    matmul_precision: str = "float32"
    """float32 (faithful default) or bfloat16: run the V/Q/π networks' matrix products under autocast in
    bfloat16 (parameters, optimiser, mixers and losses stay float32); about 2x faster on CPUs with AVX512-BF16."""
    cuda_graph: bool = False
    """On a CUDA device, capture the whole training step (batch gather, losses, backward, clipping, Adam, target
    update) in a CUDA graph after a few eager steps and replay it (omiga.graphed); methods omiga and bc only."""
    compile: bool = False
    """torch.compile the method's losses and their gradient (torch.func.grad) as one Inductor graph
    (omiga.compiled): fused kernels and no autograd engine, 10-45% more steps/s on CPU at HalfCheetah-like
    shapes after 10-90 s of compilation per population (needs a C++ compiler); equal to the eager step up to
    float rounding. Not with cuda_graph, which removes the launches it would save."""

    def __post_init__(self) -> None:
        _positive_int("TrainConfig", "steps", self.steps)
        _positive_int("TrainConfig", "batch_size", self.batch_size)
        for name in ("checkpoint_every", "eval_every"):
            _positive_int("TrainConfig", name, getattr(self, name), allow_zero=True)
        _positive_int("TrainConfig", "eval_episodes", self.eval_episodes)
        _positive_int("TrainConfig", "check_every", self.check_every)
        _require(math.isfinite(self.lr) and self.lr > 0, f"TrainConfig.lr must be > 0, got {self.lr!r}")
        _require(0.0 <= self.gamma <= 1.0, f"TrainConfig.gamma must lie in [0, 1], got {self.gamma!r}")
        _require(0.0 < self.tau <= 1.0, f"TrainConfig.tau must lie in (0, 1], got {self.tau!r}")
        _require(self.grad_clip >= 0, f"TrainConfig.grad_clip must be >= 0 (0 disables), got {self.grad_clip!r}")
        _require(self.exp_clamp > 0, f"TrainConfig.exp_clamp must be > 0, got {self.exp_clamp!r}")
        if self.mixer not in MIXER_NAMES:
            raise UnknownNameError("mixer", self.mixer, MIXER_NAMES)
        if self.method not in METHOD_NAMES:
            raise UnknownNameError("method", self.method, METHOD_NAMES)
        _require(isinstance(self.method_options, tuple)
                 and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in self.method_options),
                 f"TrainConfig.method_options must be a tuple of (name, value) pairs, got {self.method_options!r}")
        method_options(self.method, self.method_options)
        _require(isinstance(self.network, NetworkConfig),
                 f"TrainConfig.network must be a NetworkConfig, got {type(self.network).__name__}")
        _require(self.matmul_precision in ("float32", "bfloat16"),
                 f"TrainConfig.matmul_precision must be 'float32' or 'bfloat16', got {self.matmul_precision!r}")
        _require(self.device == "cpu" or self.device.startswith("cuda"),
                 f"TrainConfig.device must be 'cpu' or 'cuda[:k]', got {self.device!r}")
        _require(isinstance(self.cuda_graph, bool), f"TrainConfig.cuda_graph must be a bool, got {self.cuda_graph!r}")
        _require(isinstance(self.compile, bool), f"TrainConfig.compile must be a bool, got {self.compile!r}")
        _require(not (self.compile and self.cuda_graph),
                 "TrainConfig.compile and cuda_graph are alternatives (a CUDA graph already removes the launch "
                 "overhead that compiling would save); set one of them False")
        if self.cuda_graph:
            _require(self.device.startswith("cuda"),
                     f"TrainConfig.cuda_graph needs a CUDA device, got device {self.device!r}; "
                     "set device 'cuda' or cuda_graph False")
            _require(self.method in GRAPHABLE_METHODS,
                     f"TrainConfig.cuda_graph supports the methods {', '.join(GRAPHABLE_METHODS)} (the baselines "
                     f"draw step-dependent noise on the host), got method {self.method!r}; set cuda_graph False")

    def to_dict(self) -> dict[str, object]:
        """Plain nested dict (for result.json and checkpoints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> TrainConfig:
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        values["network"] = NetworkConfig(**dict(values.get("network", {})))  # type: ignore[arg-type]
        values["method_options"] = tuple((str(k), v) for k, v in values.get("method_options", ()))  # JSON lists
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class MemberConfig:
    """What distinguishes one member (one independent run) of a population."""

    seed: int
    """Seed of the member's network initialisation and batch sampling."""
    alpha: float
    """Regularisation strength α of Eq. 13 and Eq. 15 (ignored by bc)."""
    global_info: bool = True
    """False replaces the mixer weights w_i by 1 inside the V and π steps (the Q step keeps the mixer)."""
    dataset: int = 0
    """Index of the member's dataset among the population's datasets (0 where it trains on one dataset)."""

    def __post_init__(self) -> None:
        _require(isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
                 f"MemberConfig.seed must be an integer >= 0, got {self.seed!r}")
        _require(isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha > 0,
                 f"MemberConfig.alpha must be a finite number > 0, got {self.alpha!r}")
        _require(isinstance(self.global_info, bool),
                 f"MemberConfig.global_info must be a bool, got {self.global_info!r}")
        _require(isinstance(self.dataset, int) and not isinstance(self.dataset, bool) and self.dataset >= 0,
                 f"MemberConfig.dataset must be an integer >= 0 (an index into the datasets), got {self.dataset!r}")
