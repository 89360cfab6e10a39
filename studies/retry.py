"""A storage that survives a database outage: every call is retried with exponential backoff.

Workers on a cluster outlive database restarts, failovers and network blips. `RetryingStorage` wraps an Optuna
storage; when a call fails because the database cannot be reached (SQLAlchemy ``OperationalError`` /
``InterfaceError``, also when Optuna re-raises it as ``StorageInternalError``), it says so (the storage named with
its password masked), waits 1, 2, 4, ... s (at most ``max_delay_s``) and tries again, for up to ``patience_s``
seconds; then it raises `StudyError` telling the user to rerun once the database is back. Nothing that finished
is lost: Optuna commits each call in its own transaction, and the queue tolerates a retried claim or enqueue
(a duplicate claim is failed as ``duplicate``; a claim whose reply was lost is reaped as stale after the lease).
Other errors pass through unchanged.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from optuna.exceptions import StorageInternalError
from optuna.storages import BaseStorage

from studies.errors import StudyError

__all__ = ["DEFAULT_STORAGE_PATIENCE_S", "RetryingStorage", "is_connection_error"]

DEFAULT_STORAGE_PATIENCE_S = 600.0
"""How long a worker keeps retrying an unreachable database before it gives up."""


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (as opposed to a bad request)."""
    from sqlalchemy import exc

    while error is not None:
        if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError)):
            return True
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        if not isinstance(error, StorageInternalError):
            return False
        error = error.__cause__
    return False


class RetryingStorage(BaseStorage):
    """Delegates every `BaseStorage` call to ``inner``, retrying calls that fail to reach the database."""

    def __init__(self, inner: BaseStorage, *, name: str, patience_s: float = DEFAULT_STORAGE_PATIENCE_S,
                 max_delay_s: float = 30.0, log: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._inner, self._name, self._patience, self._max_delay = inner, name, patience_s, max_delay_s
        self._log, self._sleep = log, sleep

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        first_failure = None
        attempt = 0
        while True:
            try:
                result = getattr(self._inner, method)(*args, **kwargs)
            except Exception as error:
                if not is_connection_error(error):
                    raise
                now = time.monotonic()
                first_failure = now if first_failure is None else first_failure
                waited = now - first_failure
                if waited >= self._patience:
                    raise StudyError(
                        f"storage {self._name} has been unreachable for {waited:.0f} s ({_cause(error)}); gave up "
                        "after --storage-patience. Finished trials are kept: rerun the same command once the "
                        "database is back") from None
                delay = min(self._max_delay, 2.0 ** attempt, max(0.0, self._patience - waited))
                attempt += 1
                self._log(f"storage {self._name} unreachable ({_cause(error)}); retry {attempt} in {delay:.0f} s "
                          f"(giving up after {self._patience:g} s)")
                self._sleep(delay)
                continue
            if first_failure is not None:
                self._log(f"storage {self._name} reachable again after {time.monotonic() - first_failure:.0f} s; "
                          "continuing")
            return result

    def __getattr__(self, name: str) -> Any:  # anything BaseStorage does not declare
        return getattr(self._inner, name)


def _cause(error: BaseException) -> str:
    from studies.storage import mask_url

    root = error.__cause__ if isinstance(error, StorageInternalError) and error.__cause__ else error
    message = str(getattr(root, "orig", None) or root).strip()  # the driver's words, without SQLAlchemy's echo
    text = message.splitlines()[0][:200] if message else ""
    return mask_url(f"{type(root).__name__}: {text}" if text else type(root).__name__)


def _delegate(method: str) -> Callable[..., Any]:
    @functools.wraps(getattr(BaseStorage, method))
    def call(self: RetryingStorage, *args: Any, **kwargs: Any) -> Any:
        return self._call(method, *args, **kwargs)

    return call


for _method in [name for name in vars(BaseStorage) if not name.startswith("_") and callable(vars(BaseStorage)[name])]:
    setattr(RetryingStorage, _method, _delegate(_method))
RetryingStorage.__abstractmethods__ = frozenset()
