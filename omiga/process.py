"""Settings a command-line process applies before torch or JAX is imported (``python -m omiga`` and ``studies``).

- ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy: OpenMP threads that spin while waiting make torch
  up to 25x slower when the cores are shared with anything else (measured on a busy 2-core machine: 887 ms/step
  spinning, 33 ms/step passive). On a dedicated machine ``OMP_WAIT_POLICY=ACTIVE`` is faster.
- ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` unless set: JAX (the SMAX evaluation) would otherwise reserve most of
  a GPU's memory at its first use, starving a torch trainer on the same card. On the CPU it changes nothing.
- glibc keeps freed tensor memory mapped (:func:`omiga.allocator.keep_freed_memory`).
"""

from __future__ import annotations

import os

from omiga.allocator import keep_freed_memory

__all__ = ["ENVIRONMENT_DEFAULTS", "prepare_process"]

ENVIRONMENT_DEFAULTS: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
"""Environment variables set where the user has not set them."""


def prepare_process() -> None:
    """Apply the defaults above; call it before anything imports torch or JAX."""
    for name, value in ENVIRONMENT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    keep_freed_memory()
