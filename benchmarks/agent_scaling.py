"""The trainer's cost against the number of agents: member-steps/s and peak memory at the scaling scenarios'
shapes, and the fitted power-law exponents.

    python -m benchmarks.agent_scaling [--members 1 8] [--budget-s 3] [--device cpu|cuda] [--out scaling_cost.csv]

Shapes are those of SMAX's ``protoss_<n>v<n>`` battles (n = 5, 10, 20 a side; `omiga.envs.smax_scenarios`): obs
13(2n − 1) + 10, state 24n, 5 + n actions (benchmarks.train_throughput.smax_shapes), on a synthetic dataset of 20
episodes × 100 steps, the trainer's defaults (hidden 256, batch 128, linear mixer, float32). Each row runs in a
fresh subprocess (benchmarks.train_throughput: peak memory is the resident memory training adds, or
``torch.cuda.max_memory_allocated`` on a GPU). The tidy table (one row per n × M) goes to ``--out``; the fit
(analysis.scaling.power_law_fit, log-log least squares, per M) of member-steps/s and peak memory against n is
printed: an exponent of −1 means the cost per member-step grows linearly with the agents.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
from pathlib import Path

import pandas as pd

from benchmarks.train_throughput import SHAPES, _row_of, _run_row, prepare_process

__all__ = ["SCALING_SHAPES", "scaling_rows"]

SCALING_SHAPES = {n: f"protoss_{n}v{n}" for n in (5, 10, 20)}
"""Agents per side -> the shape set of benchmarks.train_throughput."""


def scaling_rows(*, members: list[int], budget_s: float, device: str = "cpu") -> pd.DataFrame:
    """One row per agent count × population size: shapes, member-steps/s, peak memory (MB)."""
    context = mp.get_context("spawn")
    rows = []
    for shapes in SCALING_SHAPES.values():
        for m in members:
            queue = context.Queue()
            process = context.Process(target=_run_row, args=(queue, "population", shapes, m, budget_s, None, device,
                                                             "float32", "eager"))
            process.start()
            row = _row_of(process, queue, f"{shapes} M={m}")
            process.join()
            rows.append({"scenario": shapes, **SHAPES[shapes], "members": m, "device": device,
                         "member_steps_per_s": row["member_steps_per_s"], "peak_mem_mb": row["peak_mem_mb"]})
    return pd.DataFrame(rows)


def main() -> None:
    from analysis.scaling import power_law_fit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 8], help="population sizes")
    parser.add_argument("--budget-s", type=float, default=3.0, help="seconds timed per row")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--out", type=Path, default=None, help="write the tidy table here (.csv)")
    args = parser.parse_args()
    policy = prepare_process("passive")
    table = scaling_rows(members=args.members, budget_s=args.budget_s, device=args.device)
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"# trainer cost against agents per side (hidden 256, batch 128, float32, {args.device}, "
          f"OMP_WAIT_POLICY={policy})")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    fits = power_law_fit(table, x="n_agents", y=["member_steps_per_s", "peak_mem_mb"], by=["members"])
    print("# log-log least squares: measure ≈ prefactor · n_agents^exponent")
    print(fits.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
