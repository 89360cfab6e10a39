"""Counter-based random numbers per member: the noise of step t of member m is a pure function of (m's seed, t).

Methods that sample actions inside their losses (continuous CQL, ICQ, OMAR, BCQ) need random numbers that
keep member m of a population identical to a solo run, survive checkpoint and resume, and need no Python loop
over members. A stateful generator per member gives the first two only with a loop. Here every number is a
hash of (member key, step, stream, element index), computed with vectorised int64 tensor ops on any device:

    x = h(h(h(key_m + h(step)) + stream · φ) + h(index)),  u = (top 23 bits of x + 1/2) / 2²³ ∈ (0, 1),

with h the 32-bit "lowbias32" integer hash (C. Wellons), φ = 0x9E3779B9, all arithmetic modulo 2³² (products
split into 16-bit halves so that no int64 overflows). Standard normals are √2 · erfinv(2u − 1).
Each call within a step names its own ``stream`` so that the draws are independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["MemberNoise", "member_noise_keys"]

_MASK = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9
_NOISE_PURPOSE = 2  # omiga.stacked uses 0 (init) and 1 (sample)


def _mul32(x: torch.Tensor, constant: int) -> torch.Tensor:
    """x · constant mod 2³² for x in [0, 2³²), without int64 overflow."""
    low, high = constant & 0xFFFF, constant >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & _MASK


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """lowbias32: a bijective avalanche hash of 32-bit values held in int64."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def member_noise_keys(seeds: Sequence[int], *, device: str | torch.device = "cpu") -> torch.Tensor:
    """``[M]`` int64 keys in [0, 2³²), one per member seed (independent of the init and sample seeds)."""
    keys = [int(np.random.SeedSequence([int(s), _NOISE_PURPOSE]).generate_state(1, dtype=np.uint32)[0])
            for s in seeds]
    return torch.tensor(keys, dtype=torch.int64, device=device)


@dataclass(frozen=True)
class MemberNoise:
    """The random numbers of one step of M members: ``uniform`` and ``normal`` tensors ``[M, *shape]``."""

    keys: torch.Tensor
    """``[M]`` int64 member keys (:func:`member_noise_keys`)."""
    step: int | torch.Tensor
    """The step counter (the number of batches drawn before this one); the trainer's sampler passes a 0-d int64
    tensor, so that a compiled step neither syncs with the host nor compiles again for every step."""

    def _bits(self, shape: Sequence[int], stream: int) -> torch.Tensor:
        step = torch.as_tensor(self.step, dtype=torch.int64, device=self.keys.device)
        base = _hash32((self.keys + _hash32(step & _MASK)) & _MASK)
        base = _hash32((base + (stream * _GOLDEN)) & _MASK)  # [M]
        count = int(np.prod(shape, dtype=np.int64))
        index = _hash32(torch.arange(count, dtype=torch.int64, device=self.keys.device))
        bits = _hash32((base.unsqueeze(1) + index.unsqueeze(0)) & _MASK)
        return bits.view(len(self.keys), *shape)

    def uniform(self, *shape: int, stream: int) -> torch.Tensor:
        """Uniform in (0, 1), ``[M, *shape]`` float32."""
        return ((self._bits(shape, stream) >> 9).float() + 0.5) * (1.0 / (1 << 23))  # exact in float32

    def normal(self, *shape: int, stream: int) -> torch.Tensor:
        """Standard normal, ``[M, *shape]`` float32."""
        return torch.erfinv(2.0 * self.uniform(*shape, stream=stream) - 1.0) * (2.0**0.5)
