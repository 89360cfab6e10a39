"""Training throughput of the population trainer versus a reference-style single run.

    python -m benchmarks.train_throughput [--quick] [--json] [--members 1 4 16] [--shapes ...] [--rounds R]
        [--threads N] [--precision float32 bfloat16] [--device cuda [--cuda-graph]] [--compile] [--floor]
        [--omp-wait-policy P]

Rows: steps/s (population steps) and member-steps/s for M members at two shape sets, HalfCheetah-6x1-like
(6 agents, obs 17, 1 continuous action, state 17) and corridor-like (6 agents, obs 387, 29 discrete actions,
state 360), batch 128, hidden 256, plus the reference-style implementation (benchmarks/reference_style.py) at
the HalfCheetah-like shapes. Population rows are given for float32 (the faithful default) and bfloat16 autocast
(``TrainConfig.matmul_precision``). ``--cuda-graph`` adds rows with ``TrainConfig.cuda_graph``, ``--compile``
rows with ``TrainConfig.compile`` (timed after the compilation, which the warm-up steps include), ``--floor``
``matmul_floor`` rows: the step's matrix products timed alone (benchmarks/matmul_floor.py), which no
implementation of the same step can exceed. ``--device cuda`` times everything on the GPU (the reference moves
each host-sampled batch to the device, as the official code does).

Each row runs in a fresh subprocess that applies :func:`omiga.allocator.keep_freed_memory` as the command-line
entry points do (the reference row too). ``peak_mem_mb`` is that process's peak resident memory
(``resource.getrusage`` ru_maxrss) after ten steps minus its value just before the networks were built, i.e.
what training adds on top of torch and the dataset (on a GPU: ``torch.cuda.max_memory_allocated``).

Timings on a shared machine are noisy, and the host's speed drifts over minutes. So the speed-up ``x ref`` of a
row at the reference's shapes is measured paired: in the row's own process, the row and the reference-style step
alternate in blocks of ``BLOCK_S`` seconds, and the ratio is the median over blocks of (row member-steps/s ÷
reference steps/s in the block just before). Every row runs ``--rounds`` times (default 3), the rounds
interleaved, and the table gives medians over rounds. The header names the OpenMP wait policy
(``--omp-wait-policy``).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue as queue_module
import resource
import statistics
import time
from dataclasses import asdict, dataclass

__all__ = ["DEFAULT_SHAPES", "SHAPES", "BenchRow", "bench_matmul_floor", "bench_population", "bench_reference", "population_trainer",
           "prepare_process", "smax_shapes", "steps_per_second", "synthetic_dataset"]

def smax_shapes(n_allies: int, n_enemies: int) -> dict[str, int]:
    """SMAX's unit-list shapes (measured on the corridor and the protoss_<n>v<n> scenarios): 13 features per
    other unit + 10 own per agent observation, 12 per unit in the world state, 5 moves + one attack per enemy."""
    units = n_allies + n_enemies
    return {"n_agents": n_allies, "obs_dim": 13 * (units - 1) + 10, "state_dim": 12 * units,
            "n_actions": 5 + n_enemies}


SHAPES: dict[str, dict[str, int]] = {
    "halfcheetah_6x1": {"n_agents": 6, "obs_dim": 17, "state_dim": 17, "act_dim": 1},
    "corridor": smax_shapes(6, 24),
    **{f"protoss_{n}v{n}": smax_shapes(n, n) for n in (5, 10, 20)},  # benchmarks.agent_scaling
}
DEFAULT_SHAPES = ("halfcheetah_6x1", "corridor")
"""The shape sets timed unless ``--shapes`` names others."""
REFERENCE_SHAPES = ("halfcheetah_6x1",)
"""Shapes the reference-style implementation runs at (continuous actions)."""


@dataclass(frozen=True)
class BenchRow:
    impl: str
    shapes: str
    members: int
    steps_per_s: float
    member_steps_per_s: float
    peak_mem_mb: float
    precision: str = "float32"
    device: str = "cpu"
    paired_ratio: float | None = None
    """Median over alternating blocks of (this row's member-steps/s ÷ the reference's, timed in the same
    process just before); None where the row has no reference (corridor shapes)."""


def prepare_process(omp_wait_policy: str) -> str:
    """Set this process's ``OMP_WAIT_POLICY`` (``passive`` | ``active`` | ``unset``: OpenMP's own) and keep freed
    memory mapped as the command-line entry points do; the policy in force, for a table's header."""
    if omp_wait_policy == "unset":
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = omp_wait_policy.upper()
    from omiga.allocator import keep_freed_memory

    keep_freed_memory()
    return os.environ.get("OMP_WAIT_POLICY", "unset")


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def steps_per_second(step, device: str, min_s: float, min_steps: int = 1) -> float:
    """Steps per second of ``step()`` over at least ``min_s`` seconds and ``min_steps`` steps.

    On a GPU the device is synchronised every 10 steps, before the clock is read, not after every step.
    """
    sync, chunk = _synchronizer(device), 10 if device.startswith("cuda") else 1
    count, start = 0, time.perf_counter()
    while count < min_steps or time.perf_counter() - start < min_s:
        for _ in range(chunk):
            step()
        count += chunk
        sync()
    return count / (time.perf_counter() - start)


def _timed(step, budget_s: float, device: str = "cpu", warmup: int = 5) -> float:
    """Steps per second of ``step()`` after ``warmup`` steps, over at least ``budget_s`` seconds and 3 steps."""
    for _ in range(warmup):
        step()
    _synchronizer(device)()
    return steps_per_second(step, device, budget_s, min_steps=3)


BLOCK_S = 0.25
"""Length of one block of the paired timing: the row and the reference alternate in blocks this long."""


def _timed_pair(step, reference_step, budget_s: float, device: str = "cpu", warmup: int = 5) -> tuple[float, float]:
    """Steps/s of ``step`` and the median ratio of its rate to ``reference_step``'s, alternating blocks of
    ``BLOCK_S`` seconds for ``budget_s`` seconds each, so that both see the same machine (a shared host's speed
    drifts over minutes; the ratio of adjacent blocks does not)."""
    for _ in range(warmup):
        step()
        reference_step()
    _synchronizer(device)()
    rates, ratios, spent = [], [], 0.0
    while len(rates) < 3 or spent < budget_s:
        reference = steps_per_second(reference_step, device, BLOCK_S)
        rates.append(steps_per_second(step, device, BLOCK_S))
        ratios.append(rates[-1] / reference)
        spent += 2 * BLOCK_S
    return statistics.median(rates), statistics.median(ratios)


def _peak_mb(device: str, rss_before: float) -> float:
    """Peak memory of the row: GPU memory allocated by torch on a GPU, else resident memory added."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return _max_rss_mb() - rss_before


def _synchronizer(device: str):
    if not device.startswith("cuda"):
        return lambda: None
    import torch

    return torch.cuda.synchronize


def synthetic_dataset(shapes: str):
    """The benchmark's dataset at ``shapes``: 20 synthetic episodes of 100 steps.

    omiga is imported when called, not at module import, here and in :func:`population_trainer`: so
    benchmarks.compare_revisions can build both from another revision's omiga."""
    from omiga.data import make_synthetic_dataset

    return make_synthetic_dataset(n_episodes=20, episode_length=100, seed=0, **SHAPES[shapes])


def population_trainer(dataset, members: int, **config):
    """A trainer of ``members`` members (seeds 0, 1, ..., α 10) on ``dataset``; ``config``: TrainConfig fields."""
    from omiga.config import MemberConfig, TrainConfig
    from omiga.trainer import PopulationTrainer

    return PopulationTrainer(dataset, config=TrainConfig(steps=1, **config),
                             members=[MemberConfig(seed=s, alpha=10.0) for s in range(members)])


def bench_population(shapes: str, members: int, budget_s: float, device: str = "cpu",
                     precision: str = "float32", mode: str = "eager") -> BenchRow:
    """``mode``: eager, graph (``TrainConfig.cuda_graph``) or compile (``TrainConfig.compile``)."""
    import omiga.trainer  # noqa: F401  (imported before the memory baseline: its imports are not what training adds)

    dataset = synthetic_dataset(shapes)
    before = _max_rss_mb()
    trainer = population_trainer(dataset, members, device=device, matmul_precision=precision,
                                 cuda_graph=mode == "graph", compile=mode == "compile")
    rate, peak, ratio = _timed_row(trainer.train_step, shapes, members, budget_s, device, before)
    impl = "population" if mode == "eager" else f"population+{mode}"
    return BenchRow(impl, shapes, members, rate, rate * members, peak, precision, device, ratio)


def reference_step(shapes: str, device: str = "cpu"):
    """One training step of the reference-style implementation, as a callable."""
    import torch

    from benchmarks.reference_style import ReferenceStyleOmiga

    dims = SHAPES[shapes]
    dataset = synthetic_dataset(shapes)
    learner = ReferenceStyleOmiga(n_agents=dims["n_agents"], obs_dim=dims["obs_dim"], act_dim=dims["act_dim"],
                                  state_dim=dims["state_dim"], device=device)
    valid = torch.from_numpy(dataset.transition_indices())
    tensors = {k: torch.from_numpy(getattr(dataset, k)).float() for k in ("obs", "state", "actions", "rewards",
                                                                            "terminals")}
    generator = torch.Generator().manual_seed(0)

    def step() -> None:  # the official code samples on the host and moves each batch to the device
        t = valid[torch.randint(len(valid), (128,), generator=generator)]
        batch = [tensors["obs"][t], tensors["actions"][t], tensors["state"][t], tensors["rewards"][t],
                 tensors["terminals"][t], tensors["obs"][t + 1], tensors["state"][t + 1]]
        learner.train_step(*(x.to(device) for x in batch))

    return step


def bench_reference(shapes: str, budget_s: float, device: str = "cpu") -> BenchRow:
    before = _max_rss_mb()
    step = reference_step(shapes, device)
    rate = _timed(step, budget_s, device)
    return BenchRow("reference_style", shapes, 1, rate, rate, _peak_mb(device, before), device=device,
                    paired_ratio=1.0)


def _timed_row(step, shapes: str, members: int, budget_s: float, device: str,
               rss_before: float) -> tuple[float, float, float | None]:
    """(steps/s, peak MB, paired ratio to the reference or None): peak memory is read after ten steps, before
    the reference joins the process; rows at the reference's shapes are timed in alternation with it."""
    for _ in range(10):
        step()
    peak = _peak_mb(device, rss_before)
    if shapes not in REFERENCE_SHAPES:
        return _timed(step, budget_s, device), peak, None
    rate, ratio = _timed_pair(step, reference_step(shapes, device), budget_s, device)
    return rate, peak, ratio * members


def bench_matmul_floor(shapes: str, members: int, budget_s: float, device: str = "cpu",
                       precision: str = "float32") -> BenchRow:
    import torch

    from benchmarks.matmul_floor import step_products, step_products_runner

    dims = {k: v for k, v in SHAPES[shapes].items() if k != "state_dim"}
    before = _max_rss_mb()
    step = step_products_runner(step_products(**dims), members=members, dtype=getattr(torch, precision),
                                device=device)
    rate, peak, ratio = _timed_row(step, shapes, members, budget_s, device, before)
    return BenchRow("matmul_floor", shapes, members, rate, rate * members, peak, precision, device, ratio)


def _run_row(queue, kind: str, shapes: str, members: int, budget_s: float, threads: int | None, device: str,
             precision: str, mode: str) -> None:
    import torch

    from omiga.allocator import keep_freed_memory

    keep_freed_memory()  # as `python -m omiga` and `python -m studies` do; for the reference row too (fair)
    if threads:
        torch.set_num_threads(threads)
    if kind == "reference":
        row = bench_reference(shapes, budget_s, device)
    elif kind == "matmul_floor":
        row = bench_matmul_floor(shapes, members, budget_s, device, precision)
    else:
        row = bench_population(shapes, members, budget_s, device, precision, mode)
    queue.put(asdict(row))


def _row_of(process, queue, label: str) -> dict:
    """The row the subprocess puts on ``queue``; a clear error instead of a hang when it dies first."""
    while True:
        try:
            return queue.get(timeout=1.0)
        except queue_module.Empty:
            if not process.is_alive():
                raise SystemExit(f"error: benchmark row {label} failed (exit code {process.exitcode}); "
                                 "run it as `python -m benchmarks.train_throughput` from the repository root")


def _median_rows(rounds: list[list[dict]]) -> list[dict]:
    """Per row, the median steps/s and paired ratio over the rounds (and the largest peak memory)."""
    merged = []
    for runs in zip(*rounds, strict=True):
        row = dict(runs[0])
        row["steps_per_s"] = statistics.median(r["steps_per_s"] for r in runs)
        row["member_steps_per_s"] = row["steps_per_s"] * row["members"]
        row["peak_mem_mb"] = max(r["peak_mem_mb"] for r in runs)
        ratios = [r["paired_ratio"] for r in runs if r["paired_ratio"] is not None]
        row["paired_ratio"] = statistics.median(ratios) if ratios else None
        row["rounds"] = len(runs)
        merged.append(row)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 1 s per row and one round")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON records")
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 16], help="population sizes")
    parser.add_argument("--shapes", nargs="+", default=list(DEFAULT_SHAPES), choices=list(SHAPES),
                        help="shape sets of the population rows")
    parser.add_argument("--rounds", type=int, default=None,
                        help="run every row this many times, interleaved, and report medians (default 3; 1 if --quick)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="device of the population rows (cpu | cuda)")
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"],
                        help="TrainConfig.matmul_precision values of the population rows")
    parser.add_argument("--cuda-graph", action="store_true",
                        help="with --device cuda: also time every population row with TrainConfig.cuda_graph")
    parser.add_argument("--compile", action="store_true",
                        help="also time every population row with TrainConfig.compile (torch.compile of the losses)")
    parser.add_argument("--floor", action="store_true",
                        help="add matmul_floor rows: the step's matrix products alone, an upper bound on any "
                             "implementation's steps/s (benchmarks/matmul_floor.py)")
    parser.add_argument("--omp-wait-policy", choices=["passive", "active", "unset"], default=None,
                        help="OMP_WAIT_POLICY of every row's process (default: as inherited; "
                             "`python -m omiga` and `python -m studies` use passive unless set)")
    args = parser.parse_args()
    if args.omp_wait_policy == "unset":
        os.environ.pop("OMP_WAIT_POLICY", None)
    elif args.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    budget = 1.0 if args.quick else 5.0
    n_rounds = args.rounds or (1 if args.quick else 3)
    modes = ("eager",) + (("graph",) if args.cuda_graph else ()) + (("compile",) if args.compile else ())
    jobs = [("reference", "halfcheetah_6x1", 1, "float32", "eager")] + [
        ("population", s, m, p, mode) for p in args.precision for mode in modes for s in args.shapes
        for m in args.members]
    if args.floor:
        jobs += [("matmul_floor", s, m, p, "eager") for p in args.precision for s in args.shapes for m in args.members]
    context = mp.get_context("spawn")
    rounds = []
    for _ in range(n_rounds):
        rows = []
        for kind, shapes, members, precision, mode in jobs:
            queue = context.Queue()
            process = context.Process(target=_run_row, args=(queue, kind, shapes, members, budget, args.threads,
                                                             args.device, precision, mode))
            process.start()
            rows.append(_row_of(process, queue, f"{kind} {precision} {shapes} M={members}"))
            process.join()
        rounds.append(rows)
    rows = _median_rows(rounds)
    for row in rows:
        row["speedup_vs_reference"] = row["paired_ratio"]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"# median of {n_rounds} interleaved round(s); OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}; threads={args.threads or 'torch default'}; "
          f"x ref: paired with the reference in {BLOCK_S:g} s blocks in the row's own process")
    print(f"{'impl':<19} {'device':<6} {'precision':<9} {'shapes':<16} {'M':>3} {'steps/s':>9} {'member-steps/s':>15} "
          f"{'peak MB':>8} {'x ref':>6}")
    for row in rows:
        ratio = "" if row["speedup_vs_reference"] is None else f"{row['speedup_vs_reference']:.2f}"
        print(f"{row['impl']:<19} {row['device']:<6} {row['precision']:<9} {row['shapes']:<16} {row['members']:>3} "
              f"{row['steps_per_s']:>9.1f} {row['member_steps_per_s']:>15.1f} {row['peak_mem_mb']:>8.1f} {ratio:>6}")


if __name__ == "__main__":
    main()
