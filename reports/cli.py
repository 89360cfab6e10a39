"""``python -m reports build --scores PATH --out DIR [--claims FILE.toml] [--curves CSV] [--datasets CSV] ...``.

Renders any scores table. Claims come from a TOML file holding ``[[claims]]`` tables (schema in
analysis.claims). Bad input prints ``error: <message>`` and exits 2, without a traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from analysis import DEFAULT_BOOTSTRAP_REPS, DEFAULT_ENGINE, ENGINES, AnalysisError
from reports.build import build_report
from reports.files import ReportWriteError

__all__ = ["load_claims_file", "main"]


class _UsageError(Exception):
    """Bad command-line input; printed as ``error: ...``."""


def load_claims_file(path: Path) -> list[dict[str, object]]:
    """The ``claims`` array of a TOML file (``[[claims]]`` tables)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _UsageError(f"claims file {path} does not exist: pass a TOML file with [[claims]] tables") from None
    except tomllib.TOMLDecodeError as error:
        raise _UsageError(f"claims file {path} is not valid TOML ({error}): fix its syntax") from None
    claims = data.get("claims")
    if not isinstance(claims, list):
        raise _UsageError(f"claims file {path} has no [[claims]] tables: add e.g. [[claims]] kind = \"improves\"")
    return claims


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="render a report directory from a scores table")
    build.add_argument("--scores", type=Path, required=True, help="scores table (.csv or .parquet)")
    build.add_argument("--out", type=Path, required=True, help="directory to write the report into")
    build.add_argument("--claims", type=Path, help="TOML file with [[claims]] tables (see analysis.claims)")
    build.add_argument("--curves", type=Path, help="curves table (.csv or .parquet): adds learning curves")
    build.add_argument("--datasets", type=Path, help="datasets summary (.csv): adds the behaviour-return row")
    build.add_argument("--reps", type=int, default=DEFAULT_BOOTSTRAP_REPS, help="bootstrap replicates")
    build.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                       help="statistics engine: rliable.library itself, or the vectorised path with its numbers")
    build.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    build.add_argument("--study-name", default=None, help="title of the report (default: the --out folder name)")
    build.add_argument("--backend-note", default=None, help="sentence about the backend (default: derived)")
    build.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.reps < 10:
            raise _UsageError(f"--reps {args.reps} is too small: use at least 10 (default {DEFAULT_BOOTSTRAP_REPS})")
        claims = load_claims_file(args.claims) if args.claims else []
        files = build_report(scores=args.scores, out_dir=args.out, claims=claims,
                             study_name=args.study_name or args.out.resolve().name,
                             backend_note=args.backend_note, bootstrap_reps=args.reps, seed=args.seed,
                             engine=args.engine, curves=args.curves, datasets=args.datasets,
                             provenance={"command": shlex.join(["python", "-m", "reports", *(argv or sys.argv[1:])])})
    except (_UsageError, AnalysisError, ReportWriteError) as error:
        if args.debug:
            raise
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(f"analysis: {files.analysis_seconds:.1f} s ({args.reps} bootstrap replicates, {args.engine} engine)")
    print(f"wrote {len(files.files)} files; open {files.index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
