"""The error boundary of every command of the three command lines (``python -m omiga | studies | reports``).

:func:`run_command` calls a command and turns every way it can fail into one ``error:`` line on stderr:

- a foreseeable failure is a typed project error (``omiga.errors.OmigaError``, ``analysis.AnalysisError``, ...)
  whose message names the problem and the fix: printed as it is, exit status 2;
- an ``OSError`` nobody wrapped names the file, the real cause (permission denied is not "corrupted") and the
  fix for that cause (``omiga.errors.os_error_fix``), exit status 2;
- anything else names the stage that failed (:func:`stage` marks them: "training", "analysis", "report", ...),
  its input and the exception, and says how to get the traceback: exit status 1.

Every line goes through :func:`omiga.masking.mask_secrets`. ``--debug`` (:func:`add_debug_option`, accepted before
and after the command name by all three command lines) re-raises instead, traceback included. Stdlib only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from omiga.errors import os_error_fix
from omiga.masking import mask_secrets

__all__ = ["CommandLineParser", "add_debug_option", "add_debug_options", "run_command", "stage"]

_STAGE = "_omiga_stage"


class CommandLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are the same one ``error:`` line as every other error (exit 2)."""

    error_prefix = "error: "

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.error_prefix}{self.prog}: {message}; see `{self.prog} --help`\n")


def add_debug_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--debug`` on ``parser``; on a subcommand (``top=False``) it leaves the top-level value alone unless given."""
    parser.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="show the traceback of an error (accepted before or after the command name)")


def add_debug_options(parser: argparse.ArgumentParser) -> None:
    """``--debug`` on ``parser`` and on every (nested) subcommand of it, so it may come before or after them."""
    add_debug_option(parser, top=True)
    pending = [parser]
    while pending:
        for action in pending.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                    if not any("--debug" in a.option_strings for a in sub._actions):
                        add_debug_option(sub)
                    pending.append(sub)


@contextmanager
def stage(name: str, subject: object = None) -> Iterator[None]:
    """Mark the exceptions escaping the block as raised in stage ``name`` on input ``subject`` (innermost wins)."""
    try:
        yield
    except Exception as error:
        if not hasattr(error, _STAGE):
            try:
                setattr(error, _STAGE, (name, subject))
            except (AttributeError, TypeError):  # an exception type without a __dict__
                pass
        raise


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else ""


def _unexpected(error: Exception, *, stage_name: str, subject: object) -> tuple[str, int]:
    name, subject = getattr(error, _STAGE, (stage_name, subject))
    where = f"{name}" + ("" if subject is None else f" of {subject}")
    if isinstance(error, OSError):
        target = error.filename if error.filename is not None else subject
        cause = error.strerror or _first_line(error)
        return f"{where} failed: {target}: {cause}; {os_error_fix(error)}", 2
    detail = _first_line(error)
    return (f"{where} failed with an unexpected {type(error).__name__}{': ' + detail if detail else ''}; "
            "check that input, and rerun with --debug for the traceback (please report it: this input "
            "should have been refused with a clear message)"), 1


def run_command(command: Callable[[], int | None], *, stage_name: str, subject: object = None, debug: bool = False,
                expected: tuple[type[BaseException], ...], prefix: str = "error: ") -> int:
    """Run ``command``; return its exit status, or print one ``error:`` line and return 2 (1 when unforeseen).

    ``expected``: the project's error types, printed as they are. ``stage_name`` and ``subject`` name the
    command and its main input in messages about unforeseen errors that no :func:`stage` marked.
    """
    try:
        return int(command() or 0)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except expected as error:
        if debug:
            raise
        print(f"{prefix}{mask_secrets(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the boundary: nothing escapes as a traceback
        if debug:
            raise
        message, code = _unexpected(error, stage_name=stage_name, subject=subject)
        print(f"{prefix}{mask_secrets(message)}", file=sys.stderr)
        return code
