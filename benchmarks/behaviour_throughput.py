"""Team-steps/s of the MAPPO behaviour learner (`omiga.behaviour.ppo`) on a SMAX stand-in, by number of battles.

    python -m benchmarks.behaviour_throughput                       # corridor, E = 32, 64, 128
    python -m benchmarks.behaviour_throughput --quick               # E = 64 only, fewer updates

One update = E battles × T steps of rollout (actor sampling, SMAX step, critic) plus 4 PPO epochs. Each row is
compiled first (not timed), then timed over ``--updates`` updates; rows alternate over ``--rounds`` rounds and the
table gives the median rate, since this machine's speed drifts.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax

from omiga.behaviour.ppo import PPOConfig, init_train_state, make_update
from omiga.envs.smax import battles_for
from omiga.envs.smax_scenarios import get_scenario


def team_steps_per_second(scenario: str, *, n_envs: int, updates: int) -> float:
    """Team-steps/s over ``updates`` updates after one compiling update."""
    battles = battles_for(get_scenario(scenario))
    config = PPOConfig(n_envs=n_envs)
    update = make_update(battles, config)
    state = init_train_state(battles, config, seed=0)
    state, metrics = update(state)
    jax.block_until_ready(metrics)
    start = time.perf_counter()
    for _ in range(updates):
        state, metrics = update(state)
    jax.block_until_ready(metrics)
    return updates * config.team_steps_per_update / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="corridor")
    parser.add_argument("--envs", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="E = 64, 2 updates, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.envs, args.updates, args.rounds = [64], 2, 1
    rates: dict[int, list[float]] = {e: [] for e in args.envs}
    for _ in range(args.rounds):
        for n_envs in args.envs:
            rates[n_envs].append(team_steps_per_second(args.scenario, n_envs=n_envs, updates=args.updates))
    print(f"| scenario | battles E | team-steps per update | team-steps/s (median of {args.rounds}) |")
    print("|---|---|---|---|")
    for n_envs, values in rates.items():
        print(f"| {args.scenario} | {n_envs} | {n_envs * 64} | {statistics.median(values):,.0f} |")


if __name__ == "__main__":
    main()
