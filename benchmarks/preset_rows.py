"""Training speed at the shapes the presets' studies train, beside the step's two floors.

    python -m benchmarks.preset_rows [--presets quick smoke] [--tasks corridor halfcheetah_6x1 ...]
        [--members 12] [--mixer linear] [--compile] [--blocks 8] [--block-s 0.5] [--omp-wait-policy P]

For each preset (its ``hidden`` and ``batch_size``) and task shape set, one process builds the population
trainer of M members on a synthetic dataset of the task's shapes, and two floors of the same step: the matrix
products alone (:mod:`benchmarks.matmul_floor`) and the full floor, the products plus fused Adam, per-member
clipping and the soft target update over the same parameter counts (:mod:`benchmarks.step_floor`). The three
run in alternating blocks of ``--block-s`` seconds, so that a shared machine's drift hits them alike; the table
gives member-steps/s (medians over blocks) and the trainer's share of each floor (median of the per-block ratios).
No implementation of the same step can exceed either floor.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from benchmarks.matmul_floor import step_products, step_products_runner
from benchmarks.step_floor import parameter_counts, step_floor_runner
from benchmarks.train_throughput import prepare_process, steps_per_second

__all__ = ["TASK_SHAPES", "preset_row"]

TASK_SHAPES: dict[str, dict[str, int]] = {
    "corridor": {"n_agents": 6, "obs_dim": 387, "state_dim": 360, "n_actions": 29},
    "halfcheetah_6x1": {"n_agents": 6, "obs_dim": 9, "state_dim": 17, "act_dim": 1},
    "hopper_3x1": {"n_agents": 3, "obs_dim": 9, "state_dim": 11, "act_dim": 1},
    "ant_2x4": {"n_agents": 2, "obs_dim": 63, "state_dim": 105, "act_dim": 4},
}
"""The registry's tasks (smac_corridor on SMAX, the MaMuJoCo tasks' padded local observations; docs/mamujoco.md)."""


def preset_row(preset: str, task: str, *, members: int, mixer: str, compile_: bool, blocks: int,
               block_s: float) -> dict[str, object]:
    """Member-steps/s of the trainer and of both floors, and the trainer's share of each, at one preset × task."""
    from omiga.config import MemberConfig, NetworkConfig, TrainConfig
    from omiga.data import make_synthetic_dataset
    from omiga.trainer import PopulationTrainer
    from studies.presets import load_preset

    chosen = load_preset(preset)
    hidden, batch = chosen.hidden or NetworkConfig().hidden, chosen.batch_size or 128
    shapes = TASK_SHAPES[task]
    dataset = make_synthetic_dataset(n_episodes=20, episode_length=100, seed=0, **shapes)
    config = TrainConfig(steps=1, batch_size=batch, mixer=mixer, network=NetworkConfig(hidden=hidden),
                         compile=compile_)
    trainer = PopulationTrainer(dataset, config=config,
                                members=[MemberConfig(seed=s, alpha=10.0) for s in range(members)])
    dims = {k: v for k, v in shapes.items() if k != "state_dim"}
    products = step_products(**dims, batch=batch, hidden=hidden)
    trained, targets = parameter_counts(**shapes, hidden=hidden, mixer=mixer)
    steps = {"trainer": trainer.train_step,
             "matmul_floor": step_products_runner(products, members=members, dtype=torch.float32),
             "full_floor": step_floor_runner(products, members=members, trained=trained, targets=targets)}
    for step in steps.values():  # warm-up (and compilation)
        for _ in range(10):
            step()
    rates: dict[str, list[float]] = {name: [] for name in steps}
    for block in range(blocks):
        names = list(steps) if block % 2 == 0 else list(reversed(steps))
        for name in names:
            rates[name].append(steps_per_second(steps[name], "cpu", block_s, min_steps=2))
    share = lambda floor: statistics.median(t / f for t, f in zip(rates["trainer"], rates[floor]))
    return {"preset": preset, "task": task, "hidden": hidden, "batch": batch, "members": members, "mixer": mixer,
            "compile": compile_, "params_per_member": sum(trained.values()),
            **{name: statistics.median(values) * members for name, values in rates.items()},
            "share_matmul_floor": share("matmul_floor"), "share_full_floor": share("full_floor")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["quick", "smoke"], help="presets (their hidden, batch)")
    parser.add_argument("--tasks", nargs="+", default=list(TASK_SHAPES), choices=list(TASK_SHAPES))
    parser.add_argument("--members", type=int, default=12, help="population size")
    parser.add_argument("--mixer", default="linear", help="mixer of the trainer (the floors leave mixers out)")
    parser.add_argument("--compile", action="store_true", help="the trainer with TrainConfig.compile")
    parser.add_argument("--blocks", type=int, default=8, help="alternating blocks per step")
    parser.add_argument("--block-s", type=float, default=0.5, help="seconds per block")
    parser.add_argument("--omp-wait-policy", choices=["passive", "active", "unset"], default="passive",
                        help="OMP_WAIT_POLICY (default passive, as `python -m studies` runs)")
    args = parser.parse_args()
    policy = prepare_process(args.omp_wait_policy)
    print(f"# member-steps/s, medians over {args.blocks} alternating blocks of {args.block_s:g} s; "
          f"M = {args.members}, mixer {args.mixer}, compile {args.compile}, float32, torch threads "
          f"{torch.get_num_threads()}, OMP_WAIT_POLICY={policy}")
    print(f"{'preset':<7} {'task':<16} {'hidden':>6} {'batch':>5} {'params':>8} {'trainer':>9} {'matmul':>9} "
          f"{'full':>9} {'% matmul':>8} {'% full':>7}")
    for preset in args.presets:
        for task in args.tasks:
            row = preset_row(preset, task, members=args.members, mixer=args.mixer, compile_=args.compile,
                             blocks=args.blocks, block_s=args.block_s)
            print(f"{preset:<7} {task:<16} {row['hidden']:>6} {row['batch']:>5} {row['params_per_member']:>8} "
                  f"{row['trainer']:>9.1f} {row['matmul_floor']:>9.1f} {row['full_floor']:>9.1f} "
                  f"{100 * row['share_matmul_floor']:>7.0f}% {100 * row['share_full_floor']:>6.0f}%", flush=True)


if __name__ == "__main__":
    main()
