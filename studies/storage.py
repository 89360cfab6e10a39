"""Optuna storages: a journal file under ``results/<study>/`` by default, or any SQLAlchemy URL.

The journal file is safe for several local worker processes; PostgreSQL (``postgresql://...``) lets workers
on many machines share one study. SQLite is refused for several workers. Passwords are never printed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from omiga.errors import BackendUnavailableError
from studies.errors import StudyError
from studies.retry import DEFAULT_STORAGE_PATIENCE_S, RetryingStorage

__all__ = ["JOURNAL_NAME", "dashboard_command", "journal_path", "mask_url", "open_storage"]

JOURNAL_NAME = "optuna-journal.log"

_DRIVERS = {  # SQLAlchemy dialect -> what to pip install
    "postgresql": "psycopg2-binary (or psycopg)", "postgresql+psycopg2": "psycopg2-binary", "postgresql+psycopg": "psycopg",
    "mysql": "mysqlclient", "mysql+pymysql": "pymysql",
}


def journal_path(study_dir: Path) -> Path:
    """The journal file of the study whose results live in ``study_dir``."""
    return Path(study_dir) / JOURNAL_NAME


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to print or store)."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def _with_installed_driver(url: str) -> str:
    """Plain ``postgresql://`` means psycopg (v3) to SQLAlchemy 2.1; use psycopg2 when only it is installed."""
    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg") is None \
            and importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


def _open_database(url: str) -> RDBStorage:
    """The RDBStorage at ``url``; refuses at once (no retry) when the server cannot be reached now."""
    url = _with_installed_driver(url)
    scheme = url.split("://", 1)[0]
    driver = _DRIVERS.get(scheme, f"the SQLAlchemy driver for {scheme!r}")
    try:
        return RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
    except ImportError:
        raise BackendUnavailableError(f"storage {mask_url(url)} needs a database driver; "
                                      f"install it with: pip install {driver}") from None
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises ArgumentError, NoSuchModuleError, OperationalError...
        kind = type(error).__name__
        if kind in ("ArgumentError", "NoSuchModuleError"):
            raise StudyError(f"--storage {mask_url(url)} is not a database URL SQLAlchemy knows; use e.g. "
                             "postgresql://USER:PASSWORD@HOST:5432/DBNAME") from None
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
        raise StudyError(f"cannot connect to storage {mask_url(url)} ({mask_url(detail)}); start the database "
                         "server (e.g. `sudo service postgresql start`), create the database and user, and check "
                         "the host, port and credentials") from None


def open_storage(*, url: str | None, study_dir: Path, workers: int = 1,
                 patience_s: float = DEFAULT_STORAGE_PATIENCE_S) -> BaseStorage:
    """The storage at ``url``, or the journal file in ``study_dir`` when ``url`` is None.

    A database must be reachable now (a typo should fail fast); once open, calls that cannot reach it are
    retried with backoff for up to ``patience_s`` seconds (`studies.retry.RetryingStorage`).
    """
    if url is None:
        Path(study_dir).mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(journal_path(study_dir))))
    if "://" not in url:
        raise StudyError(f"--storage {mask_url(url)} is not a URL; use postgresql://USER:PASSWORD@HOST/DB "
                         "or omit --storage for the journal file under results/")
    if url.startswith("sqlite") and workers > 1:
        raise StudyError("SQLite cannot be shared by several workers; omit --storage (journal file) or use "
                         "postgresql://... with --workers")
    if not patience_s >= 0:
        raise StudyError(f"--storage-patience must be >= 0 seconds, got {patience_s:g}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    database = optuna.storages.get_storage(_open_database(url))  # Optuna's cache in front of the database
    return RetryingStorage(database, name=mask_url(url), patience_s=patience_s,
                           log=lambda line: print(line, file=sys.stderr, flush=True))


def dashboard_command(*, url: str | None, study_dir: Path) -> str:
    """The optuna-dashboard command that shows this storage (password masked)."""
    target = str(journal_path(study_dir)) if url is None else mask_url(url)
    return f"optuna-dashboard {target}"
