"""``python -m omiga behaviour train | levels | ship``: learn, measure and ship SMAX behaviour policies.

    python -m omiga behaviour train --task smac_corridor --out runs/behaviour/corridor --team-steps 2000000
    python -m omiga behaviour levels --task smac_corridor --run runs/behaviour/corridor --episodes 200
    python -m omiga behaviour ship --task smac_corridor --run runs/behaviour/corridor \\
        --quality poor=step-000000000,step-000040960 --quality medium=... --quality good=...

``train`` resumes from ``--out`` when it holds a run of the same task and config. ``levels`` writes
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
    parser = subparsers.add_parser("behaviour", help="train, measure and ship MAPPO behaviour policies (SMAX)",
                                   description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="behaviour_command", required=True)

    train = commands.add_parser("train", help="train MAPPO on a SMAX task (resumable), saving skill snapshots")
    train.add_argument("--task", required=True, help="registered SMAC-family task, e.g. smac_corridor")
    train.add_argument("--out", required=True, type=Path, help="run directory (resumed when it exists)")
    train.add_argument("--team-steps", type=int, default=2_000_000, help="total team-steps (default 2000000)")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--n-envs", type=int, default=64, help="battles stepped together (default 64)")
    train.add_argument("--rollout-steps", type=int, default=64, help="steps per battle per update (default 64)")
    train.add_argument("--hidden", type=int, default=128, help="hidden units (default 128)")
    train.add_argument("--snapshot-every", type=int, default=40_960, help="team-steps between snapshots")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    train.set_defaults(func=run_train)

    levels = commands.add_parser("levels", help="measure every snapshot of a run (returns, wins, entropy)")
    levels.add_argument("--task", required=True, help="the run's task")
    levels.add_argument("--run", required=True, type=Path, help="run directory of `behaviour train`")
    levels.add_argument("--episodes", type=int, default=200, help="battles per snapshot (default 200)")
    levels.add_argument("--every", type=int, default=1, help="measure every k-th snapshot (default 1)")
    levels.add_argument("--seed", type=int, default=12345, help="seed of the measuring battles")
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
    from omiga.behaviour.ppo import PPOConfig
    from omiga.behaviour.train import BehaviourRun, train_behaviour

    config = PPOConfig(n_envs=args.n_envs, rollout_steps=args.rollout_steps, hidden=args.hidden)
    run = BehaviourRun(task=args.task, out_dir=args.out, team_steps=args.team_steps, seed=args.seed,
                       snapshot_every=args.snapshot_every)
    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {args.out} is a file; give a directory")
    train_behaviour(run, _battles(args.task), config, progress=not args.no_progress)
    print(f"trained {args.task}: {args.out}")
    return 0


def run_levels(args: argparse.Namespace) -> int:
    from omiga.behaviour.levels import measure_level
    from omiga.behaviour.train import snapshot_table

    if args.episodes < 1 or args.every < 1:
        raise ConfigError("--episodes and --every must be >= 1")
    snapshots = snapshot_table(args.run)[:: args.every]
    if not snapshots:
        raise ConfigError(f"{args.run} has no snapshots; train with `python -m omiga behaviour train` first")
    battles = _battles(args.task)
    rows = []
    for entry in snapshots:
        summary = measure_level(args.run / "snapshots" / entry["file"], battles, episodes=args.episodes,
                                seed=args.seed, bands=SMAC_BANDS)
        rows.append({"snapshot": Path(entry["file"]).stem, "team_steps": entry["team_steps"], **summary})
        print(" ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in rows[-1].items()),
              flush=True)
    with open(args.run / "levels.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


def run_ship(args: argparse.Namespace) -> int:
    from omiga.behaviour.manifest import manifest_path
    from omiga.behaviour.policy import file_digest

    levels_csv = args.run / "levels.csv"
    measured = {}
    if levels_csv.exists():
        with open(levels_csv, newline="") as stream:
            measured = {row["snapshot"]: row for row in csv.DictReader(stream)}
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



