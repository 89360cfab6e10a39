"""``python -m omiga datasets info | import | build``: inspect, convert and build offline datasets."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from omiga.data.coverage import STATE_BITS, dataset_coverage
from omiga.data.io import dataset_digest, load_dataset, read_dataset_file
from omiga.data.schema import ARRAY_FIELDS, OfflineDataset, legacy_backend
from omiga.data.task_fit import check_dataset_fits_task
from omiga.data.validate import validate_dataset
from omiga.errors import ConfigError, DatasetError
from omiga.paths import check_output_file

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command and its ``info`` / ``import`` / ``build`` subcommands."""
    parser = subparsers.add_parser("datasets", help="inspect, import and build offline datasets",
                                   description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="datasets_command", required=True)

    info = commands.add_parser("info", help="shapes, episodes, return statistics and validation verdict")
    info.add_argument("path", type=Path, help="canonical HDF5 dataset file")
    info.set_defaults(func=run_info)

    imports = commands.add_parser("import", help="convert a foreign dataset into the canonical schema")
    imports.add_argument("source", type=Path, help="file (omiga-hdf5), file / directory of episodes (madt) or "
                                                    "a vault's uid directory, e.g. corridor.vlt/Good (og-marl-vault)")
    imports.add_argument("--format", required=True, choices=("omiga-hdf5", "madt", "og-marl-vault"),
                         help="format of SOURCE")
    imports.add_argument("--task", required=True, help="registered task the data belongs to")
    imports.add_argument("--quality", default=None,
                         help="quality label stored in the file (default: the vault's uid, else 'imported')")
    imports.add_argument("--out", required=True, type=Path, help="canonical HDF5 file to write")
    imports.add_argument("--trust-pickle", action="store_true",
                         help="allow unpickling (madt); only for files from a source you trust")
    imports.set_defaults(func=run_import)

    build = commands.add_parser("build", help="roll out a behaviour policy and write a dataset")
    build.add_argument("--task", required=True, help="registered task name")
    build.add_argument("--quality", required=True, help="dataset quality, e.g. good / medium / poor")
    build.add_argument("--episodes", type=int, default=None, help="number of episodes (default: the task's)")
    build.add_argument("--seed", type=int, default=0, help="seed of the rollouts")
    build.add_argument("--backend", default=None, help="environment backend (default: the task's first)")
    build.add_argument("--behavior", choices=("learned", "scripted-v2"), default=None,
                       help="SMAX tasks: the shipped MAPPO skill levels (learned; the default where the task ships "
                            "them) or the scripted hold/scatter policies of behaviour v2")
    build.add_argument("--correlation", choices=("independent", "shared"), default=None,
                       help="SMAX learned behaviour: each agent samples on its own (independent, the default) or the "
                            "team shares one uniform per step through every agent's inverse CDF (shared: same "
                            "marginals, correlated actions); the same as the quality suffix @shared")
    build.add_argument("--temperature", type=float, default=None, metavar="TAU",
                       help="SMAX learned behaviour: sample softmax(logits / TAU) (below 1: narrower coverage of the "
                            "actions, above 1: broader; default 1); the same as the quality suffix @t<TAU>")
    options = build.add_argument_group("builder options (MaMuJoCo tasks; other builders refuse them)")
    options.add_argument("--behavior-checkpoint", type=_checkpoint_argument, default=None, metavar="PATH",
                         help="behaviour policy checkpoint (expert / medium), or medium=PATH,expert=PATH for "
                              "medium-expert; default: train the SAC learner")
    options.add_argument("--sac-steps", type=int, default=None, metavar="N",
                         help="train the SAC behaviour learner for N environment steps instead of using the task's "
                              "shipped behaviour (the shipped runs took 300000, about 100 min a core)")
    options.add_argument("--max-episode-steps", type=int, default=None, metavar="N",
                         help="episode time limit in steps, at most 1000 (default 1000; shorter for smoke builds)")
    build.add_argument("--allow-large", action="store_true", help="allow --episodes / --sac-steps past omiga.limits")
    where = build.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None, help="file to write")
    where.add_argument("--cache-dir", type=Path, default=None,
                       help="cache directory (default $OMIGA_DATA_DIR or ~/.cache/omiga/datasets)")
    build.set_defaults(func=run_build)


def run_info(args: argparse.Namespace) -> int:
    """Print a dataset's summary; exit 0 when it is valid and fits its task's environment, 1 otherwise."""
    arrays, attrs = read_dataset_file(args.path)
    problems = validate_dataset(arrays, attrs=attrs)
    print(f"dataset  {args.path}")
    print(f"sha256   {dataset_digest(args.path)}")
    for key in ("task", "quality", "source", "backend", "behavior", "seed", "schema_version"):
        if key == "backend" and key not in attrs:
            print(f"{key:<15}{legacy_backend(attrs)} (not stored: inferred for a file written before it was)")
        else:
            print(f"{key:<15}{attrs.get(key, '(missing)')}")
    print("arrays:")
    for name in ARRAY_FIELDS:
        array = arrays.get(name)
        print(f"  {name:<14}{'absent' if array is None else f'{list(array.shape)} {array.dtype}'}")
    if not problems:
        dataset = load_dataset(args.path)
        print(_summary(dataset))
        try:
            check_dataset_fits_task(dataset, where=args.path)
        except DatasetError as error:  # schema-valid, but not data of its task
            problems = [str(error)]
        else:
            print("validation: OK")
            return 0
    print(f"validation: INVALID ({len(problems)} problem{'s' * (len(problems) > 1)})")
    for problem in problems:
        print(f"  - {problem}")
    return 1


def run_import(args: argparse.Namespace) -> int:
    """Convert ``args.source`` and write the canonical file."""
    from omiga.data.importers import import_dataset
    from omiga.data.io import save_dataset
    from omiga.tasks import get_task

    task = get_task(args.task).name
    if not args.source.exists():
        raise DatasetError(f"import source {args.source} does not exist: check the path")
    check_output_file(args.out, inputs=[args.source])
    if args.source.is_dir() and args.out.absolute().resolve().is_relative_to(args.source.absolute().resolve()):
        raise ConfigError(f"--out {args.out} lies inside the source directory {args.source}; write the canonical "
                          "file elsewhere, so the source stays as it was")
    dataset = import_dataset(args.source, format=args.format, task=task, quality=args.quality,
                             trust_pickle=args.trust_pickle)
    path = save_dataset(dataset, args.out)
    print(f"imported {args.source} ({args.format}) -> {path}")
    print(_summary(dataset))
    return 0


def run_build(args: argparse.Namespace) -> int:
    """Build a dataset with the task's behaviour policy and print where it went and how long it took."""
    from omiga.limits import check_size
    from omiga.tasks import build_dataset, dataset_path, with_correlation, with_temperature

    if args.correlation is not None:
        args.quality = with_correlation(args.quality, args.correlation)
    if args.temperature is not None:
        args.quality = with_temperature(args.quality, args.temperature)
    if args.episodes is not None:
        check_size("--episodes", args.episodes, kind="episodes", allow_large=args.allow_large)
    if args.sac_steps is not None:
        check_size("--sac-steps", args.sac_steps, kind="sac_steps", allow_large=args.allow_large)
    path = args.out or dataset_path(args.task, quality=args.quality, cache_dir=args.cache_dir,
                                    backend=args.backend, behavior=args.behavior)
    if args.seed < 0:
        raise ConfigError(f"--seed must be an integer >= 0, got {args.seed}")
    check_output_file(path, option="--out" if args.out else "--cache-dir (the dataset's path in it)")
    start = time.perf_counter()
    path = build_dataset(args.task, quality=args.quality, episodes=args.episodes, seed=args.seed, path=path,
                         backend=args.backend, behavior=args.behavior,
                         behavior_checkpoint=args.behavior_checkpoint,
                         sac_steps=args.sac_steps, max_episode_steps=args.max_episode_steps)
    seconds = time.perf_counter() - start
    print(f"built {args.task} / {args.quality} -> {path} in {seconds:.2f} s")
    print(_summary(load_dataset(path)))
    return 0


def _checkpoint_argument(value: str) -> Path | dict[str, Path]:
    """``PATH``, or ``ROLE=PATH,ROLE=PATH`` (roles medium, expert) for medium-expert."""
    if "=" not in value:
        return Path(value)
    roles: dict[str, Path] = {}
    for item in value.split(","):
        role, _, path = item.partition("=")
        if not role.strip() or not path.strip():
            raise argparse.ArgumentTypeError(f"{item!r} is not ROLE=PATH; write e.g. medium=m.pt,expert=e.pt")
        roles[role.strip()] = Path(path.strip())
    return roles


def _diagnostics(dataset: OfflineDataset) -> str:
    """The coverage diagnostics (omiga.data.coverage) as a few lines."""
    d = dataset_coverage(dataset)
    quantiles = " / ".join(f"{q:.4g}" for q in (d.return_q10, d.return_q25, d.return_median, d.return_q75,
                                                  d.return_q90))
    lines = [f"return quantiles 10/25/50/75/90%: {quantiles}",
             (f"starts: {d.episodes_per_start:.3g} episodes per distinct start; {d.state_cells} of "
              f"{2 ** STATE_BITS} state cells visited (sign hash of a fixed random projection, omiga.data.coverage)")]
    if dataset.discrete:
        lines.append(f"coverage: {d.action_coverage:.1%} of the available (agent, action) pairs taken; "
                     f"{d.state_action_coverage:.1%} per state cell")
        lines.append(f"behaviour: action entropy H(a_i | cell) {d.action_entropy:.3f} nats; mutual information "
                     f"I(a_i; a_j | cell) {d.action_mi:.4f} nats (plug-in), {d.action_mi_excess:.4f} above its "
                     "within-cell permutation")
    return "\n".join(lines)


def _summary(dataset: OfflineDataset) -> str:
    lengths = dataset.episode_ends - dataset.episode_starts + 1
    returns = dataset.episode_returns
    return (
        f"steps {len(dataset)}, episodes {dataset.attrs.n_episodes} "
        f"(length min {lengths.min()} / mean {lengths.mean():.1f} / max {lengths.max()}; "
        f"{int(dataset.terminals.sum())} terminal, {int(dataset.truncations.sum())} truncated)\n"
        f"return mean {returns.mean():.4g} ± {returns.std():.4g} (std), min {returns.min():.4g}, "
        f"max {returns.max():.4g}, median {np.median(returns):.4g}\n"
        + _diagnostics(dataset)
    )
