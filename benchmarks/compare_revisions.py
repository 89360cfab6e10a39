"""Training speed of the working tree's trainer against another git revision's, in one process, alternating.

    python -m benchmarks.compare_revisions REV [--shapes halfcheetah_6x1] [--members 1 16]
        [--precision float32 bfloat16] [--compile] [--blocks 20] [--block-steps 25] [--omp-wait-policy P]

On a shared machine whose speed drifts by tens of percent over minutes, two benchmark runs minutes apart cannot
resolve a change of a few percent. Here the ``omiga`` package of revision ``REV`` (``git archive``) and the
working tree's are both imported into one process (the working tree's modules are set aside while REV's are
imported), one trainer is built and warmed up from each on the same synthetic dataset, and they train in
alternating blocks of ``--block-steps`` steps. Each row gives both rates (median over blocks) and the median
and quartiles of the per-block ratio working tree ÷ REV: both trainers see the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.train_throughput import population_trainer, prepare_process, steps_per_second, synthetic_dataset

__all__ = ["compare_trainers", "omiga_of", "warm_trainer"]

REPOSITORY = Path(__file__).resolve().parent.parent


def _omiga_modules() -> dict:
    return {n: m for n, m in sys.modules.items() if n == "omiga" or n.startswith("omiga.")}


@contextmanager
def omiga_of(revision: str, directory: Path) -> Iterator[None]:
    """Within the block, ``import omiga`` gives the package of ``revision`` (a ``git archive`` of it extracted
    under ``directory``); the ``omiga`` modules imported before are set aside and restored afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / "omiga.tar"
    subprocess.run(["git", "-C", str(REPOSITORY), "archive", "--format=tar", "-o", str(archive), revision, "omiga"],
                   check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(directory, filter="data")
    saved = _omiga_modules()
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in _omiga_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def warm_trainer(shapes: str, members: int, precision: str, compile_: bool, *, hidden: int = 256,
                 batch_size: int = 128):
    """A trainer of the ``omiga`` importable now, after 10 steps (its compilation included); built and warmed
    inside :func:`omiga_of` so that imports made inside functions resolve to the same revision."""
    from omiga.config import NetworkConfig

    trainer = population_trainer(synthetic_dataset(shapes), members, matmul_precision=precision, compile=compile_,
                                 batch_size=batch_size, network=NetworkConfig(hidden=hidden))
    for _ in range(10):
        trainer.train_step()
    return trainer


def compare_trainers(base, tree, *, blocks: int, block_steps: int) -> tuple[float, float, float, float, float]:
    """Steps/s of trainers ``base`` and ``tree`` (medians over alternating blocks) and the median and quartiles of
    the per-block ratio tree ÷ base."""
    rates: list[list[float]] = [[], []]
    for block in range(blocks):
        order = (0, 1) if block % 2 == 0 else (1, 0)  # neither always runs first
        for index in order:
            rates[index].append(steps_per_second((base, tree)[index].train_step, "cpu", 0.0, min_steps=block_steps))
    ratios = [t / b for b, t in zip(*rates)]
    low, _, high = statistics.quantiles(ratios, n=4)
    return statistics.median(rates[0]), statistics.median(rates[1]), statistics.median(ratios), low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="git revision to compare the working tree against (e.g. HEAD~3)")
    parser.add_argument("--shapes", nargs="+", default=["halfcheetah_6x1"], help="shape sets (train_throughput's)")
    parser.add_argument("--members", type=int, nargs="+", default=[1, 16], help="population sizes")
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"], help="matmul precisions")
    parser.add_argument("--compile", action="store_true", help="with TrainConfig.compile (both revisions need it)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden width of V, Q and π")
    parser.add_argument("--batch-size", type=int, default=128, help="transitions per member and step")
    parser.add_argument("--blocks", type=int, default=20, help="blocks per trainer")
    parser.add_argument("--block-steps", type=int, default=25, help="steps per block (divided by M, at least 2)")
    parser.add_argument("--omp-wait-policy", choices=["passive", "active", "unset"], default="unset",
                        help="OMP_WAIT_POLICY of this process (default unset: OpenMP's own)")
    args = parser.parse_args()
    policy = prepare_process(args.omp_wait_policy)
    print(f"# working tree ÷ {args.revision}: hidden {args.hidden}, batch {args.batch_size}; {args.blocks} "
          f"alternating blocks each, OMP_WAIT_POLICY={policy}; "
          "member-steps/s are medians over blocks")
    print(f"{'shapes':<16} {'M':>3} {'precision':<9} {'compile':<7} {'base':>8} {'tree':>8} {'ratio':>6} "
          f"{'quartiles':>13}")
    with tempfile.TemporaryDirectory() as directory:
        for shapes in args.shapes:
            for precision in args.precision:
                for members in args.members:
                    row, sizes = (shapes, members, precision, args.compile), {"hidden": args.hidden,
                                                                              "batch_size": args.batch_size}
                    with omiga_of(args.revision, Path(directory) / f"{shapes}-{precision}-{members}"):
                        base = warm_trainer(*row, **sizes)
                    tree = warm_trainer(*row, **sizes)
                    base_rate, tree_rate, ratio, low, high = compare_trainers(
                        base, tree, blocks=args.blocks, block_steps=max(2, args.block_steps // members))
                    print(f"{shapes:<16} {members:>3} {precision:<9} {args.compile!s:<7} {base_rate * members:>8.1f} "
                          f"{tree_rate * members:>8.1f} {ratio:>6.3f} {low:>6.3f}-{high:<6.3f}", flush=True)
                    del base, tree


if __name__ == "__main__":
    main()
