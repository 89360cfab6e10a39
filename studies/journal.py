"""The journal file of a study (``results/<study>/optuna-journal.log``): checked line by line, and backed up.

Optuna reads the journal as one JSON record per line and fails with a bare ``JSONDecodeError`` on a damaged
line (a disk fault, an editor, a copy cut short). :func:`check_journal` finds the first complete line that is
not a journal record before Optuna reads it, and says what to do: truncate the file just before that line (a
printed ``truncate`` command keeps every record before it; trials recorded after it are run again), or restore
the backup the suite keeps beside it. The backup (``optuna-journal.log.bak``) is refreshed, atomically, each time
a journal is found sound. An incomplete last line (no newline yet: a record being written) is not damage.
"""

from __future__ import annotations

import json
from pathlib import Path

from omiga.atomic import write_atomic
from studies.errors import StudyError

__all__ = ["BACKUP_SUFFIX", "backup_path", "check_journal"]

BACKUP_SUFFIX = ".bak"


def backup_path(journal: Path) -> Path:
    """Where the backup of ``journal`` lives."""
    return Path(journal).with_name(Path(journal).name + BACKUP_SUFFIX)


def _damage(line: bytes) -> str | None:
    """Why ``line`` (a complete line) is not a journal record, or None when it is one."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return f"not JSON: {type(error).__name__} at column {getattr(error, 'colno', '?')}"
    if not isinstance(record, dict) or record.get("op_code") not in _OP_CODES or "worker_id" not in record:
        return "JSON, but not an Optuna journal record (a known op_code and a worker_id)"
    return None


def _op_codes() -> frozenset[int]:
    from optuna.storages.journal._storage import JournalOperation

    return frozenset(int(op.value) for op in JournalOperation)


_OP_CODES = _op_codes()


def _read(journal: Path) -> bytes:
    if journal.is_dir():
        raise StudyError(f"{journal} is a directory, where the study's journal file belongs; move it away (the "
                         "study then starts afresh) or pass another --results-dir")
    try:
        return journal.read_bytes()
    except OSError as error:
        from omiga.errors import os_error_fix

        raise StudyError(f"cannot read the study journal {journal}: {error.strerror or error}; "
                         f"{os_error_fix(error, elsewhere='pass another --results-dir')}") from None


def check_journal(journal: str | Path, *, back_up: bool = True) -> None:
    """Raise `StudyError` naming the first damaged line of ``journal`` and the way out; when it is sound and
    ``back_up``, refresh its backup. A missing journal is a new study: nothing to check."""
    journal = Path(journal)
    if not journal.exists() and not journal.is_symlink():
        return
    data = _read(journal)
    offset = 0
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        complete = line.endswith(b"\n")
        problem = _damage(line) if complete and line.strip() else ("an empty line" if complete else None)
        if problem is not None:
            backup = backup_path(journal)
            restore = (f", or restore the backup made when it was last sound: `cp {backup} {journal}`"
                       if backup.is_file() else "")
            raise StudyError(f"study journal {journal} is damaged at line {number} ({problem}); truncate it "
                             f"just before that line: `truncate -s {offset} {journal}` (the trials recorded after "
                             f"it run again){restore}; then rerun the same command")
        offset += len(line)
    if back_up and data:
        sound = data[: data.rfind(b"\n") + 1]
        write_atomic(backup_path(journal), lambda temporary: temporary.write_bytes(sound))
