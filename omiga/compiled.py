"""``TrainConfig.compile``: an update rule's losses through ``torch.compile`` (Inductor), errors made plain.

Compiling the losses fuses their many small tensor operations, and AOTAutograd compiles the backward pass
the same way, so a step runs fewer and larger kernels (the matrix products stay library calls). Shapes are
static per population (``dynamic=False``): a population of another size or mixer compiles again, while a new
population of the same shapes reuses the compiled code (measured: eleven trainers in one process, two
compilations). Past torch._dynamo's ``recompile_limit`` (8 variants per method and process) further variants
run eager, with torch's warning; results are the same. The optimiser, clipping and target update stay eager:
compiling them measured no further gain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
import torch._dynamo.exc
import torch._inductor.exc

from omiga.errors import ConfigError

__all__ = ["compile_update_rule"]

_BUILD_ERRORS = (torch._dynamo.exc.BackendCompilerFailed, torch._inductor.exc.InductorError)


def compile_update_rule(rule: Callable[..., Any]) -> Callable[..., Any]:
    """``rule`` compiled with Inductor; a failed build raises a `ConfigError` that names the fix."""
    compiled = torch.compile(rule, dynamic=False)

    @functools.wraps(rule)
    def losses(*args: Any) -> Any:
        try:
            return compiled(*args)
        except _BUILD_ERRORS as error:
            text = str(error).strip()
            reason = text.splitlines()[0][:300] if text else type(error).__name__
            raise ConfigError(f"torch.compile could not build the training step ({reason}); install a C++ "
                              "compiler (g++) and the Python headers, or train without --compile") from error
    return losses
