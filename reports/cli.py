"""``python -m reports build --scores PATH --out DIR [--claims FILE.toml] [--curves CSV] [--datasets CSV] ...``.

Renders any scores table. Claims come from a TOML file holding ``[[claims]]`` tables (schema in
analysis.claims). Every input is checked before any work (the claims, ``--reps`` and ``--seed``, and ``--out``:
writable, holding no input, new or a previous report, since the report replaces it whole). Bad input prints
``error: <message>`` and exits 2, without a traceback unless ``--debug`` (before or after ``build``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from analysis import DEFAULT_BOOTSTRAP_REPS, DEFAULT_ENGINE, ENGINES, AnalysisError, validate_claim
from omiga.boundary import CommandLineParser, add_debug_options, run_command
from omiga.errors import OmigaError
from reports.build import build_report
from reports.files import ReportWriteError, check_report_dir

__all__ = ["MAX_BOOTSTRAP_REPS", "load_claims_file", "main"]

MAX_BOOTSTRAP_REPS = 100_000
"""More bootstrap replicates than this need ``--allow-large`` (the CI's digits stop moving long before)."""


class _ReportsParser(CommandLineParser):
    error_prefix = "python -m reports: error: "


class _UsageError(Exception):
    """Bad command-line input; printed as ``error: ...``."""


def load_claims_file(path: Path) -> list[dict[str, object]]:
    """The ``claims`` array of a TOML file (``[[claims]]`` tables)."""
    if Path(path).is_dir():
        raise _UsageError(f"claims file {path} is a directory: pass a TOML file with [[claims]] tables")
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _UsageError(f"claims file {path} does not exist: pass a TOML file with [[claims]] tables") from None
    except UnicodeDecodeError:
        raise _UsageError(f"claims file {path} is not UTF-8 text: pass a TOML file with [[claims]] tables") from None
    except tomllib.TOMLDecodeError as error:
        raise _UsageError(f"claims file {path} is not valid TOML ({error}): fix its syntax") from None
    claims = data.get("claims")
    if not isinstance(claims, list):
        raise _UsageError(f"claims file {path} has no [[claims]] tables: add e.g. [[claims]] kind = \"improves\"")
    unknown = sorted(set(data) - {"claims"})
    if unknown:
        raise _UsageError(f"claims file {path} has unknown top-level key(s) {', '.join(unknown)}: it holds only "
                          "[[claims]] tables")
    for number, claim in enumerate(claims, start=1):
        try:
            validate_claim(claim)
        except AnalysisError as error:
            raise _UsageError(f"claim {number}: {error} (claims file {path})") from None
    return claims


def _check_options(args: argparse.Namespace) -> None:
    """Every command-line value checked before any work."""
    if args.reps < 10:
        raise _UsageError(f"--reps {args.reps} is too small: use at least 10 (default {DEFAULT_BOOTSTRAP_REPS})")
    if args.reps > MAX_BOOTSTRAP_REPS and not args.allow_large:
        raise _UsageError(f"--reps {args.reps} is more than {MAX_BOOTSTRAP_REPS} bootstrap replicates (hours of "
                          "resampling for no visible digit): lower it, or pass --allow-large")
    if not 0 <= args.seed < 2**32:
        raise _UsageError(f"--seed {args.seed} must lie in 0..{2**32 - 1}")
    inputs = [args.scores] + ([args.claims] if args.claims else [])
    check_report_dir(args.out, inputs=inputs)


def _parser() -> argparse.ArgumentParser:
    parser = _ReportsParser(prog="python -m reports", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="render a report directory from a scores table")
    build.add_argument("--scores", type=Path, required=True, help="scores table (.csv or .parquet)")
    build.add_argument("--out", type=Path, required=True, help="directory to write the report into")
    build.add_argument("--claims", type=Path, help="TOML file with [[claims]] tables (see analysis.claims)")
    build.add_argument("--curves", type=Path, help="curves table (.csv or .parquet): adds learning curves")
    build.add_argument("--datasets", type=Path, help="datasets summary (.csv): adds the behaviour-return row and "
                                                      "the coverage diagnostics")
    build.add_argument("--dataset-returns", type=Path, help="episode returns of the datasets (.csv: task, quality, "
                                                             "return): adds the return histograms")
    build.add_argument("--reps", type=int, default=DEFAULT_BOOTSTRAP_REPS, help="bootstrap replicates")
    build.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                       help="statistics engine: rliable.library itself, or the vectorised path with its numbers")
    build.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    build.add_argument("--study-name", default=None, help="title of the report (default: the --out folder name)")
    build.add_argument("--backend-note", default=None, help="sentence about the backend (default: derived)")
    build.add_argument("--paper-reference", action="store_true",
                       help="print the paper's reported scores as reference rows (only for the paper's own data)")
    build.add_argument("--allow-large", action="store_true",
                       help=f"allow more than {MAX_BOOTSTRAP_REPS} bootstrap replicates")
    add_debug_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0, or exits with status 2 (1 when unforeseen) after one ``error:`` line."""
    parser = _parser()
    args = parser.parse_args(argv)

    def build() -> int:
        _check_options(args)
        claims = load_claims_file(args.claims) if args.claims else []
        files = build_report(scores=args.scores, out_dir=args.out, claims=claims,
                             study_name=args.study_name or args.out.resolve().name,
                             backend_note=args.backend_note, bootstrap_reps=args.reps, seed=args.seed,
                             engine=args.engine, curves=args.curves, datasets=args.datasets,
                             dataset_returns=args.dataset_returns,
                             provenance={"command": shlex.join(["python", "-m", "reports", *(argv or sys.argv[1:])])},
                             paper_reference=args.paper_reference)
        print(f"analysis: {files.analysis_seconds:.1f} s ({args.reps} bootstrap replicates, {args.engine} engine)")
        print(f"wrote {len(files.files)} files; open {files.index}")
        return 0

    code = run_command(build, stage_name="python -m reports build", subject=args.scores, debug=args.debug,
                       expected=(_UsageError, AnalysisError, ReportWriteError, OmigaError),
                       prefix=f"{parser.prog}: error: ")
    if code:
        sys.exit(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
