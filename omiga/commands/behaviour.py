"""``python -m omiga behaviour train | levels | ship``: learn, measure and ship behaviour policies.

    python -m omiga behaviour train --task smac_corridor --out runs/behaviour/corridor --team-steps 2000000
    python -m omiga behaviour train --task mamujoco_hopper_3x1 --out runs/behaviour/hopper --team-steps 300000
    python -m omiga behaviour levels --task smac_corridor --run runs/behaviour/corridor --episodes 200
    python -m omiga behaviour ship --task smac_corridor --run runs/behaviour/corridor \\
        --quality poor=step-000000000,step-000040960 --quality medium=... --quality good=...

``train`` runs MAPPO on SMAX tasks and SAC (:mod:`omiga.behaviour.sac`) on MaMuJoCo tasks, and resumes from
``--out`` when it holds a run of the same task and config (a larger ``--team-steps`` extends it). ``levels`` writes
``levels.csv`` into the run directory. ``ship`` copies the chosen snapshots into
``omiga/behaviour/checkpoints/<task>/`` and writes its ``manifest.json`` (the quality bands of the task family,
the levels' measurements and the command that trained them).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

from omiga.errors import ConfigError

__all__ = ["SMAC_BANDS", "register"]

SMAC_BANDS: dict[str, tuple[float, float]] = {"poor": (-float("inf"), 10.0), "medium": (10.0, 15.0),
                                              "good": (15.0, float("inf"))}
"""SMAC-scale return bands of the qualities, as the OG-MARL cards of OMIGA's data show (min/max per quality)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``behaviour`` command and its subcommands."""
    parser = subparsers.add_parser("behaviour", help="train, measure and ship behaviour policies (MAPPO on SMAX, "
                                   "SAC on MaMuJoCo)",
                                   description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="behaviour_command", required=True)

    train = commands.add_parser("train", help="train MAPPO (SMAX) or SAC (MaMuJoCo) on a task (resumable), saving "
                                "skill snapshots")
    train.add_argument("--task", required=True, help="registered SMAC-family or MaMuJoCo task, e.g. smac_corridor")
    train.add_argument("--out", required=True, type=Path, help="run directory (resumed when it exists)")
    train.add_argument("--team-steps", type=int, default=None,
                       help="total team-steps (default 2000000 for MAPPO, 300000 for SAC)")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--n-envs", type=int, default=64, help="MAPPO: battles stepped together (default 64)")
    train.add_argument("--rollout-steps", type=int, default=64,
                       help="MAPPO: steps per battle per update (default 64)")
    train.add_argument("--hidden", type=int, default=None,
                       help="hidden units per layer (default 128 for MAPPO, 256 (two layers) for SAC)")
    train.add_argument("--snapshot-every", type=int, default=None,
                       help="team-steps between snapshots (default 40960 for MAPPO, 10000 for SAC)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    train.set_defaults(func=run_train)

    levels = commands.add_parser("levels", help="measure every snapshot of a run (returns, wins, entropy)")
    levels.add_argument("--task", required=True, help="the run's task")
    levels.add_argument("--run", required=True, type=Path, help="run directory of `behaviour train`")
    levels.add_argument("--episodes", type=int, default=200, help="battles per snapshot (default 200)")
    levels.add_argument("--every", type=int, default=1, help="measure every k-th snapshot (default 1)")
    levels.add_argument("--seed", type=int, default=12345, help="seed of the measuring battles")
    levels.add_argument("--only", nargs="+", default=None, metavar="SNAP",
                        help="measure only these snapshots (file stems; MaMuJoCo: after the random policy)")
    levels.set_defaults(func=run_levels)

    ship = commands.add_parser("ship", help="copy chosen snapshots into the package and write the manifest")
    ship.add_argument("--task", required=True, help="the run's task")
    ship.add_argument("--run", required=True, type=Path, help="run directory of `behaviour train`")
    ship.add_argument("--quality", action="append", required=True, metavar="Q=SNAP[,SNAP...]",
                      help="a quality and the snapshots (file stems) it is rolled out from; repeat per quality")
    ship.add_argument("--command", default="", help="the training command, recorded in the manifest")
    ship.set_defaults(func=run_ship)


def _battles(task: str):
    from omiga.data.build_smax import task_battles

    return task_battles(task)


def run_train(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {args.out} is a file; give a directory")
    for name in ("team_steps", "hidden", "snapshot_every"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    from omiga.envs.mamujoco import MAMUJOCO_TASKS

    if args.task in MAMUJOCO_TASKS:
        return _train_sac(args)
    from omiga.behaviour.ppo import PPOConfig
    from omiga.behaviour.train import BehaviourRun, train_behaviour

    config = PPOConfig(n_envs=args.n_envs, rollout_steps=args.rollout_steps, hidden=args.hidden or 128)
    run = BehaviourRun(task=args.task, out_dir=args.out, team_steps=args.team_steps or 2_000_000, seed=args.seed,
                       snapshot_every=args.snapshot_every or 40_960)
    train_behaviour(run, _battles(args.task), config, progress=not args.no_progress)
    print(f"trained {args.task}: {args.out}")
    return 0


def _train_sac(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from omiga.behaviour.sac.train import train_sac
    from omiga.data.behavior_mamujoco_sac import SACConfig
    from omiga.envs.mamujoco import mamujoco_config_for_task

    config = SACConfig()
    if args.team_steps is not None and args.team_steps < config.start_steps:  # before SACConfig's own, terser check
        raise ConfigError(f"--team-steps must be at least SAC's {config.start_steps:,} warm-up steps, got "
                          f"{args.team_steps:,}")
    config = replace(config, total_steps=args.team_steps or config.total_steps,
                     hidden=(args.hidden,) * 2 if args.hidden else config.hidden,
                     snapshot_every=args.snapshot_every or config.snapshot_every, eval_episodes=5)
    description = (f"SAC (joint action, state input, hidden {list(config.hidden)}) trained online by omiga, "
                   f"seed {args.seed}")
    train_sac(env_config=mamujoco_config_for_task(args.task), config=config, seed=args.seed,
              description=description, out_dir=args.out, progress=not args.no_progress)
    print(f"trained {args.task}: {args.out}")
    return 0


def _is_mamujoco(task: str) -> bool:
    from omiga.envs.mamujoco import MAMUJOCO_TASKS

    return task in MAMUJOCO_TASKS


def _write_levels(run: Path, rows: list[dict]) -> None:
    with open(run / "levels.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _print_row(row: dict) -> None:
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)


def _sac_levels(args: argparse.Namespace) -> int:
    """levels.csv of a SAC run: the uniform random policy, then every ``--every``-th snapshot, sampled actions."""
    from omiga.behaviour.sac.levels import UniformPolicy, measure_policy
    from omiga.data.behavior_mamujoco import load_behavior_checkpoint
    from omiga.envs.mamujoco import mamujoco_config_for_task, mamujoco_sizes

    found = sorted((args.run / "snapshots").glob("step-*.pt"))
    snapshots = _chosen_snapshots(args, found, stem=lambda path: path.stem)
    env_config = mamujoco_config_for_task(args.task)
    sizes = mamujoco_sizes(env_config)
    rows = []
    policies = [("random", 0, UniformPolicy(n_agents=sizes["n_agents"], act_dim=sizes["act_dim"]))]
    policies += [(path.stem, int(path.stem.removeprefix("step-")), load_behavior_checkpoint(path, **sizes))
                 for path in snapshots]
    for name, step, policy in policies:
        summary = measure_policy(policy, env_config=env_config, episodes=args.episodes, seed=args.seed)
        rows.append({"snapshot": name, "team_steps": step, **summary})
        _print_row(rows[-1])
    _write_levels(args.run, rows)
    return 0


def _chosen_snapshots(args: argparse.Namespace, found: list, *, stem) -> list:
    """The run's snapshots to measure: those named by ``--only`` (each must exist), else every ``--every``-th."""
    if not found:
        raise ConfigError(f"{args.run} has no snapshots; train with `python -m omiga behaviour train` first")
    if not args.only:
        return found[:: args.every]
    stems = [stem(item) for item in found]
    unknown = [name for name in args.only if name not in stems]
    if unknown:
        raise ConfigError(f"--only names {', '.join(unknown)}, not a snapshot of {args.run}; its snapshots are "
                          f"{', '.join(stems[:3])}{' ...' if len(stems) > 3 else ''} (file stems)")
    return [item for item, name in zip(found, stems) if name in args.only]


def run_levels(args: argparse.Namespace) -> int:
    from omiga.behaviour.levels import measure_level
    from omiga.behaviour.train import snapshot_table

    if args.episodes < 1 or args.every < 1:
        raise ConfigError("--episodes and --every must be >= 1")
    if _is_mamujoco(args.task):
        return _sac_levels(args)
    snapshots = _chosen_snapshots(args, snapshot_table(args.run), stem=lambda entry: Path(entry["file"]).stem)
    battles = _battles(args.task)
    rows = []
    for entry in snapshots:
        summary = measure_level(args.run / "snapshots" / entry["file"], battles, episodes=args.episodes,
                                seed=args.seed, bands=SMAC_BANDS)
        rows.append({"snapshot": Path(entry["file"]).stem, "team_steps": entry["team_steps"], **summary})
        _print_row(rows[-1])
    _write_levels(args.run, rows)
    return 0


def _measured_levels(run: Path) -> dict[str, dict]:
    levels_csv = run / "levels.csv"
    if not levels_csv.exists():
        return {}
    with open(levels_csv, newline="") as stream:
        return {row["snapshot"]: row for row in csv.DictReader(stream)}


def _ship_sac(args: argparse.Namespace) -> int:
    """Copy a SAC run's expert and medium snapshots and its medium-replay actions into the package."""
    import numpy as np

    from omiga.behaviour.checkpoint import read_meta
    from omiga.behaviour.manifest import manifest_path
    from omiga.behaviour.policy import file_digest
    from omiga.behaviour.sac.shipped import ROLES, rewards_digest

    roles = dict(item.partition("=")[::2] for item in args.quality)
    if sorted(roles) != sorted(ROLES) or not all(roles.values()):
        raise ConfigError("a MaMuJoCo task ships --quality expert=SNAP and --quality medium=SNAP (file stems of "
                          f"{args.run / 'snapshots'}); medium-replay and medium-expert follow from them")
    measured, history = _measured_levels(args.run), _history(args.run)
    meta = read_meta(args.run / "latest.npz")
    target = manifest_path(args.task).parent
    target.mkdir(parents=True, exist_ok=True)
    levels = {}
    for role, name in roles.items():
        source = args.run / "snapshots" / f"{name}.pt"
        if not source.is_file():
            raise ConfigError(f"snapshot {source} does not exist; see {args.run / 'snapshots'}")
        shutil.copyfile(source, target / f"{role}.pt")
        step = int(name.removeprefix("step-"))
        levels[role] = {"file": f"{role}.pt", "sha256": file_digest(target / f"{role}.pt"), "step": step,
                        "eval_return": history.get(step, float("nan")),
                        **{k: _number(v) for k, v in measured.get(name, {}).items() if k not in ("snapshot",)}}
    steps = levels["medium"]["step"]
    with np.load(args.run / "replay.npz", allow_pickle=False) as replay:
        actions, rewards = replay["actions"][:steps], replay["rewards"][:steps]
    if len(actions) < steps:
        raise ConfigError(f"{args.run / 'replay.npz'} holds {len(actions):,} steps, fewer than the medium step")
    with open(target / "medium-replay-actions.npz", "wb") as stream:
        np.savez_compressed(stream, actions=actions)
    random = measured.get("random", {})
    manifest = {
        "task": args.task, "learner": "sac", "levels": levels,
        "medium_replay": {"file": "medium-replay-actions.npz",
                          "sha256": file_digest(target / "medium-replay-actions.npz"), "steps": steps,
                          "rewards_sha256": rewards_digest(rewards), "seed": int(meta["seed"]),
                          "max_episode_steps": int(meta["env"]["max_episode_steps"])},
        "random": {k: _number(v) for k, v in random.items() if k != "snapshot"},
        "provenance": {"command": args.command or f"python -m omiga behaviour train --task {args.task}",
                       "ship_command": "python -m omiga behaviour ship " + " ".join(sys.argv[3:]),
                       **{k: meta[k] for k in ("seed", "config", "env", "step") if k in meta}},
    }
    manifest_path(args.task).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"shipped expert ({roles['expert']}) and medium ({roles['medium']}) to {target}")
    return 0


def _history(run: Path) -> dict[int, float]:
    path = run / "history.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as stream:
        return {int(row["step"]): float(row["eval_return"]) for row in csv.DictReader(stream)}


def run_ship(args: argparse.Namespace) -> int:
    from omiga.behaviour.manifest import manifest_path
    from omiga.behaviour.policy import file_digest

    if _is_mamujoco(args.task):
        return _ship_sac(args)
    measured = _measured_levels(args.run)
    recipes: dict[str, list[str]] = {}
    for item in args.quality:
        quality, _, names = item.partition("=")
        if quality not in SMAC_BANDS or not names:
            raise ConfigError(f"--quality {item!r} must be Q=SNAP[,SNAP...] with Q one of {', '.join(SMAC_BANDS)}")
        recipes[quality] = names.split(",")
    target = manifest_path(args.task).parent
    target.mkdir(parents=True, exist_ok=True)
    levels = {}
    for name in sorted({n for names in recipes.values() for n in names}):
        source = args.run / "snapshots" / f"{name}.npz"
        if not source.is_file():
            raise ConfigError(f"snapshot {source} does not exist; see {args.run / 'snapshots' / 'index.jsonl'}")
        shutil.copyfile(source, target / source.name)
        row = measured.get(name, {})
        levels[name] = {"file": source.name, "sha256": file_digest(source),
                        **{k: _number(v) for k, v in row.items() if k != "snapshot"}}
    trained = _run_header(args.run) if (args.run / "latest.npz").exists() else {}
    manifest = {
        "task": args.task,
        "levels": levels,
        "qualities": {q: {"levels": names, "weights": None,
                          "band": [None if SMAC_BANDS[q][0] == -float("inf") else SMAC_BANDS[q][0],
                                   None if SMAC_BANDS[q][1] == float("inf") else SMAC_BANDS[q][1]]}
                      for q, names in recipes.items()},
        "provenance": {"command": args.command or f"python -m omiga behaviour train --task {args.task}",
                       "ship_command": "python -m omiga behaviour ship " + " ".join(sys.argv[3:]), **trained},
    }
    manifest_path(args.task).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"shipped {len(levels)} levels to {target}")
    return 0


def _run_header(run: Path) -> dict:
    from omiga.behaviour.checkpoint import read_meta

    meta = read_meta(run / "latest.npz")
    return {k: meta[k] for k in ("seed", "config", "team_steps", "scenario") if k in meta}


def _number(value: str):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value



