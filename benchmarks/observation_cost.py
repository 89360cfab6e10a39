"""Print the cost of the allies' SMAX observations: SMAX's ``get_obs`` (every unit's row, the allies' taken) against
`omiga.envs.smax.SmaxBattles.ally_observations` (the allies' rows alone), per scenario, in one process.

Usage: python -m benchmarks.observation_cost [--scenarios corridor 2c_vs_64zg] [--n-envs 480] [--blocks 10]

Each block times both (10 calls each, compiled beforehand) in alternating order; the table shows the medians
and the median of the paired ratios, so the machine's drift cancels.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from omiga.envs.smax import battle_keys, battles_for
from omiga.envs.smax_scenarios import get_scenario


def _milliseconds(function, state, calls: int = 10) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        jax.block_until_ready(function(state))
    return 1e3 * (time.perf_counter() - start) / calls


def observation_costs(scenario: str, *, n_envs: int, blocks: int) -> tuple[float, float, float]:
    """(median ms of get_obs, median ms of ally_observations, median paired ratio) over ``n_envs`` battles."""
    battles = battles_for(get_scenario(scenario))
    agents = battles.env.agents[:battles.n_allies]
    state = jax.vmap(battles.reset)(battle_keys(jnp.uint32(0), n_envs)).smax
    every_unit = jax.jit(jax.vmap(lambda s: jnp.stack([battles.env.get_obs(s)[a] for a in agents])))
    allies_only = jax.jit(jax.vmap(battles.ally_observations))
    for function in (every_unit, allies_only):
        jax.block_until_ready(function(state))
    full, ours = [], []
    for block in range(blocks):
        order = (every_unit, allies_only) if block % 2 == 0 else (allies_only, every_unit)
        times = {id(f): _milliseconds(f, state) for f in order}
        full.append(times[id(every_unit)])
        ours.append(times[id(allies_only)])
    return statistics.median(full), statistics.median(ours), statistics.median(a / b for a, b in zip(full, ours))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["corridor", "6h_vs_8z", "2c_vs_64zg", "protoss_20v20"])
    parser.add_argument("--n-envs", type=int, default=480, help="battles observed at once (480: 30 members x 16)")
    parser.add_argument("--blocks", type=int, default=10)
    args = parser.parse_args()
    print(f"| scenario | units | get_obs (ms) | ally_observations (ms) | ratio (median of {args.blocks} paired) |")
    print("|---|---|---|---|---|")
    for scenario in args.scenarios:
        full, ours, ratio = observation_costs(scenario, n_envs=args.n_envs, blocks=args.blocks)
        units = len(get_scenario(scenario).ally_types) + len(get_scenario(scenario).enemy_types)
        print(f"| {scenario} | {units} | {full:.2f} | {ours:.2f} | {ratio:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
