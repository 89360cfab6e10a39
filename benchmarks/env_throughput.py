"""Print SMAX env throughput (team-steps/s) and population evaluation time (M=16 members x 32 episodes).

Usage: python benchmarks/env_throughput.py [--task smac_corridor] [--n-envs 64 256] [--steps 50]
Timings exclude the first (compiling) call; on a shared 2-core machine they are noisy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from omiga.data.behavior_smax import QUALITY_POLICIES, ScriptedPopulationPolicy
from omiga.envs.smax_scenarios import get_scenario
from omiga.evaluate import evaluate_population
from omiga.tasks import get_task, make_vector_env


def env_team_steps_per_second(task: str, *, n_envs: int, steps: int) -> float:
    """Team-steps/s of ``n_envs`` battles stepped with random available actions (after one warm-up step)."""
    env = make_vector_env(task, n_envs=n_envs, seed=0)
    rng = np.random.default_rng(0)
    step = env.reset(seed=0)
    step = env.step(np.where(step.avail_actions, rng.random(step.avail_actions.shape), -1).argmax(-1))
    start = time.perf_counter()
    for _ in range(steps):
        step = env.step(np.where(step.avail_actions, rng.random(step.avail_actions.shape), -1).argmax(-1))
    return n_envs * steps / (time.perf_counter() - start)


def population_evaluation_seconds(task: str, *, members: int, episodes: int) -> tuple[float, float]:
    """(first call incl. compile, second call) seconds to evaluate a scripted population."""
    scenario = get_scenario(get_task(task).backend_kwargs["smax"]["scenario"])
    policy = ScriptedPopulationPolicy([QUALITY_POLICIES["good"]] * members, scenario=scenario)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        evaluate_population(policy, task=task, episodes=episodes, seed=0)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="smac_corridor")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--episodes", type=int, default=32)
    args = parser.parse_args()
    for n_envs in args.n_envs:
        rate = env_team_steps_per_second(args.task, n_envs=n_envs, steps=args.steps)
        print(f"{args.task} smax n_envs={n_envs}: {rate:,.0f} team-steps/s")
    first, second = population_evaluation_seconds(args.task, members=args.members, episodes=args.episodes)
    print(f"evaluate_population M={args.members} x {args.episodes} episodes: "
          f"{first:.1f} s first call (compiles), {second:.1f} s cached")


if __name__ == "__main__":
    main()
