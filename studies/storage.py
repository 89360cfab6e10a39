"""Optuna storages: a journal file under ``results/<study>/`` by default, or any SQLAlchemy URL.

The journal file is safe for several local worker processes; PostgreSQL (``postgresql://...``) lets workers
on many machines share one study. SQLite is refused for several workers. Passwords are never printed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from omiga.errors import BackendUnavailableError
from omiga.masking import mask_secrets
from omiga.paths import check_output_dir, check_output_file
from studies.artifacts import ARTIFACT_DIR
from studies.errors import StudyError
from studies.journal import check_journal
from studies.retry import DEFAULT_STORAGE_PATIENCE_S, RetryingStorage

__all__ = ["JOURNAL_NAME", "check_storage_url", "dashboard_command", "journal_path", "mask_url", "open_storage"]

JOURNAL_NAME = "optuna-journal.log"

_DRIVERS = {  # SQLAlchemy dialect -> what to pip install
    "postgresql": "psycopg2-binary (or psycopg)", "postgresql+psycopg2": "psycopg2-binary", "postgresql+psycopg": "psycopg",
    "mysql": "mysqlclient", "mysql+pymysql": "pymysql",
}


def journal_path(study_dir: Path) -> Path:
    """The journal file of the study whose results live in ``study_dir``."""
    return Path(study_dir) / JOURNAL_NAME


def mask_url(url: str) -> str:
    """``url`` with any credential replaced by ``***`` (safe to print or store): `omiga.masking.mask_secrets`."""
    return mask_secrets(url)


_SQLITE_HEADER = b"SQLite format 3\x00"


def check_storage_url(url: str, *, workers: int = 1) -> None:
    """Refuse, before anything is opened, a storage URL that cannot work: not a URL, a malformed one, SQLite shared
    by several workers, in memory, or a file that is no SQLite database or sits in no writable directory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        raise StudyError(f"--storage {mask_url(url)} is not a URL; use postgresql://USER:PASSWORD@HOST/DB "
                         "or omit --storage for the journal file under results/")
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - parsing the port raises on a non-number
    except (ArgumentError, ValueError) as error:
        raise StudyError(f"--storage {mask_url(url)} is not a valid database URL ({mask_url(error)}); write it as "
                         "postgresql://USER:PASSWORD@HOST:5432/DBNAME (a number for the port, special characters "
                         "of the password %-encoded)") from None
    if parsed.get_backend_name() != "sqlite":
        return
    if workers > 1:
        raise StudyError("SQLite cannot be shared by several workers; omit --storage (journal file) or use "
                         "postgresql://... with --workers")
    if parsed.database in (None, "", ":memory:"):
        raise StudyError(f"--storage {url} keeps the study in memory, where it is lost when the command ends; give "
                         "a file (sqlite:///results/optuna.db) or omit --storage for the journal file")
    path = Path(parsed.database)
    if path.is_dir():
        raise StudyError(f"--storage {url}: {path} is a directory; name the database file, e.g. "
                         f"sqlite:///{path / 'optuna.db'}")
    if path.exists():
        with open(path, "rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
        if header and header != _SQLITE_HEADER:
            raise StudyError(f"--storage {url}: {path} is not an SQLite database file; name another file (it is "
                             "created when missing) or omit --storage for the journal file")
    elif not path.parent.is_dir():
        raise StudyError(f"--storage {url}: the directory {path.parent} of the SQLite file does not exist (SQLite "
                         f"creates the file, not its directory); create it with `mkdir -p {path.parent}`")
    else:
        check_output_file(path, option=f"--storage {url}: the SQLite file")


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
        detail = (str(getattr(error, "orig", None) or error).strip() or kind).splitlines()[0][:300]
        if scheme.startswith("sqlite"):  # a file, not a server: no server to start
            raise StudyError(f"cannot open SQLite storage {mask_url(url)} ({mask_url(detail)}); check that the file "
                             "is an SQLite database this Optuna can read and that its directory is writable, or "
                             "omit --storage for the journal file") from None
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
        check_output_dir(study_dir, option="the study directory")
        Path(study_dir).mkdir(parents=True, exist_ok=True)
        check_journal(journal_path(study_dir))
        return JournalStorage(JournalFileBackend(str(journal_path(study_dir))))
    check_storage_url(url, workers=workers)
    if not patience_s >= 0:
        raise StudyError(f"--storage-patience must be >= 0 seconds, got {patience_s:g}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    database = optuna.storages.get_storage(_open_database(url))  # Optuna's cache in front of the database
    return RetryingStorage(database, name=mask_url(url), patience_s=patience_s,
                           log=lambda line: print(line, file=sys.stderr, flush=True))


def dashboard_command(*, url: str | None, study_dir: Path) -> str:
    """The optuna-dashboard command that shows this storage (password masked) and each trial's result file
    (studies.artifacts)."""
    target = str(journal_path(study_dir)) if url is None else mask_url(url)
    return f"optuna-dashboard {target} --artifact-dir {Path(study_dir) / ARTIFACT_DIR}"
