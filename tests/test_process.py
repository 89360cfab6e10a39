"""omiga.process: the entry points' environment defaults, applied before torch loads and never over the user's."""

from __future__ import annotations

import os
import subprocess
import sys

from omiga.process import ENVIRONMENT_DEFAULTS

_PROBE = ("import os, sys; from omiga.process import prepare_process; prepare_process(); "
          "print('torch' in sys.modules, os.environ['OMP_WAIT_POLICY'], os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])")


def _probe(env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_prepare_process_sets_the_defaults_without_importing_torch():
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_DEFAULTS}
    assert _probe(env) == "False PASSIVE false"


def test_prepare_process_keeps_what_the_user_set():
    env = {**os.environ, "OMP_WAIT_POLICY": "ACTIVE", "XLA_PYTHON_CLIENT_PREALLOCATE": "true"}
    assert _probe(env) == "False ACTIVE true"
