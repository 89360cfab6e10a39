"""``python -m omiga tasks``: the registered tasks, their backends, and which backends are installed here."""

from __future__ import annotations

import argparse

from omiga.tasks import backend_available, get_task, task_names

__all__ = ["format_task_table", "register"]


def format_task_table() -> str:
    """One line per task: name, family, qualities, and each backend marked available or missing."""
    rows = [("task", "family", "qualities", "backends (default first)")]
    for name in task_names():
        spec = get_task(name)
        backends = ", ".join(f"{b} ({'available' if backend_available(b) else 'missing'})"
                             for b in spec.backends)
        rows.append((name, spec.family, "/".join(spec.qualities), backends))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows)


def _run(args: argparse.Namespace) -> int:
    if args.describe is not None:
        spec = get_task(args.describe)
        print(f"{spec.name}: {spec.description}")
        return 0
    print(format_task_table())
    return 0


def register(subparsers) -> None:
    """Add the ``tasks`` command."""
    parser = subparsers.add_parser("tasks", help="list tasks and backend availability")
    parser.add_argument("--describe", metavar="TASK", help="print one task's description instead")
    parser.set_defaults(func=_run)
