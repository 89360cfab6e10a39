"""Import jaxmarl's SMAX quietly, with JAX's persistent compilation cache enabled.

`import jaxmarl` prints to stdout; a study's output must stay clean, so the import runs with stdout
redirected. Compiled SMAX programs take 3-20 s each on 2 cores: the persistent cache (in
``$OMIGA_CACHE_DIR/jax`` or ``~/.cache/omiga/jax``) lets a later process reuse them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import jax

__all__ = ["SMAX", "jax_cache_dir"]


def jax_cache_dir() -> Path:
    """Where compiled JAX programs are cached between processes."""
    root = os.environ.get("OMIGA_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "omiga") / "jax"


def _enable_compilation_cache() -> None:
    if jax.config.jax_compilation_cache_dir is None:
        directory = jax_cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(directory))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@contextlib.contextmanager
def _stdout_silenced():
    """Discard stdout, at the file-descriptor level too (a module jaxmarl imports rebinds sys.stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(io.StringIO()):
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


_enable_compilation_cache()
with _stdout_silenced():
    from jaxmarl.environments.smax.smax_env import SMAX
