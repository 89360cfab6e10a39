"""``python -m omiga <command>``: train, evaluate, datasets, tasks.

Each command lives in ``omiga/commands/<name>.py`` and exposes ``register(subparsers)``, which adds its parser
and sets ``func`` (called with the parsed arguments, returning an exit status).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from omiga.boundary import CommandLineParser, add_debug_options, run_command
from omiga.errors import OmigaError

__all__ = ["COMMANDS", "main"]

COMMANDS: tuple[str, ...] = ("train", "datasets", "tasks", "behaviour")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandLineParser(prog="python -m omiga", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"omiga.commands.{name}").register(subparsers)
    add_debug_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = " ".join(str(getattr(args, key)) for key in ("command", "datasets_command") if hasattr(args, key))
    subject = next((getattr(args, key) for key in ("dataset", "source", "path") if getattr(args, key, None)), None)
    return run_command(lambda: args.func(args), stage_name=f"python -m omiga {command}", subject=subject,
                       debug=args.debug, expected=(OmigaError,))
