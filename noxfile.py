"""Nox sessions of the OMIGA study suite.

    nox -s study -- --task smac_corridor            # quick preset, headline study, report in reports/headline-smac_corridor-quick/
    nox -s study -- --task toy_coop --preset smoke  # seconds
    nox -s tests                                    # pytest (arguments after -- go to pytest, e.g. -m "not slow")
    nox -s lint                                     # ruff
    nox -s bench                                    # python -m benchmarks.NAME --quick, each

Options for the study go after ``--`` (nox's own options come before it). The venv under .nox/ is built once
with pip (not uv, which would ignore the local CPU torch wheel and pull a CUDA build) from the local Python
3.11 (never downloaded), and reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.download_python = "never"
nox.options.sessions = ["tests", "lint"]

PYTHON = "3.11"
ROOT = Path(__file__).parent
STAMP_NAME = ".omiga-install-stamp"


def _install_project(session: nox.Session, *, extras: str = "test") -> None:
    """``pip install -e .[extras]`` unless this venv was already installed so from the same pyproject.toml."""
    if session.venv_backend == "none":  # nox --no-venv: the current environment is used as it is
        session.log("no venv (--no-venv): using the current environment without installing")
        return
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / STAMP_NAME
    if stamp.exists() and stamp.read_text() == digest:
        session.log("project already installed from this pyproject.toml; skipping pip install")
        return
    session.install("-e", f".[{extras}]")
    stamp.write_text(digest)


@nox.session(python=PYTHON, reuse_venv=True)
def study(session: nox.Session) -> None:
    """Build missing datasets, run the study, export scores, analyse and write the report.

    Arguments after ``--`` go to ``python -m studies all`` (default ``--task smac_corridor``): --task, --study,
    --preset (smoke | quick | paper), --storage, --workers, --qualities, --steps, --seeds, ...
    Installs the ``dashboard`` extra too, so the printed ``optuna-dashboard ...`` hint works in this venv.
    """
    _install_project(session, extras="test,dashboard")
    args = list(session.posargs)
    if not any(arg == "--task" or arg.startswith("--task=") for arg in args):
        args = ["--task", "smac_corridor", *args]
    args, env = _storage_to_env(args)
    session.run("python", "-m", "studies", "all", *args, env=env)


def _storage_to_env(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """``--storage URL`` moved into $OMIGA_STUDY_STORAGE, so nox never echoes a password in the command it logs."""
    kept, env = [], {}
    items = iter(args)
    for arg in items:
        if arg == "--storage":
            env["OMIGA_STUDY_STORAGE"] = next(items, "")
        elif arg.startswith("--storage="):
            env["OMIGA_STUDY_STORAGE"] = arg.split("=", 1)[1]
        else:
            kept.append(arg)
    return kept, env


@nox.session(python=PYTHON, reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Run pytest; arguments after ``--`` are passed to it."""
    _install_project(session)
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON, reuse_venv=True)
def lint(session: nox.Session) -> None:
    """Run ruff on the repository."""
    session.install("ruff")
    session.run("ruff", "check", ".", *session.posargs)


@nox.session(python=PYTHON, reuse_venv=True)
def bench(session: nox.Session) -> None:
    """Run every benchmark in benchmarks/ that offers ``--quick`` (as ``python -m benchmarks.NAME --quick``)."""
    _install_project(session)
    scripts = [path for path in sorted((ROOT / "benchmarks").glob("*.py")) if "--quick" in path.read_text()]
    if not scripts:
        session.skip("no benchmarks/*.py with --quick yet")
    for script in scripts:
        session.run("python", "-m", f"benchmarks.{script.stem}", "--quick", *session.posargs)
