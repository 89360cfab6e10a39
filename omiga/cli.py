"""``python -m omiga <command>``: train, evaluate, datasets, tasks.

Each command lives in ``omiga/commands/<name>.py`` and exposes ``register(subparsers)``, which adds its parser
and sets ``func`` (called with the parsed arguments, returning an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from omiga.errors import OmigaError

__all__ = ["COMMANDS", "main"]

COMMANDS: tuple[str, ...] = ("train", "datasets", "tasks", "behaviour")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m omiga", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"omiga.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OmigaError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
