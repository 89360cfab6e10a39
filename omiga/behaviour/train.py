"""Train MAPPO behaviour policies on a SMAX stand-in, resumably, saving skill snapshots along the way.

``train_behaviour`` runs `omiga.behaviour.ppo` updates until ``team_steps`` team-steps are done. In ``out_dir``:

- ``latest.npz``: actor, critic and Adam state (resume point), written every ``checkpoint_every`` updates and
  at the end; a later call with the same directory resumes from it (the battles restart fresh);
- ``snapshots/step-<team-steps>.npz``: actor-only snapshots every ``snapshot_every`` team-steps, each with the
  training return and win rate of its last updates in its header: the skill levels datasets are made from;
- ``history.csv``: one row per update (team-steps, episodes, mean return, win rate, losses, entropy).

Resuming checks that the directory was made for the same task and learner config.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import jax

from omiga.behaviour.checkpoint import load_tree, read_meta, save_tree
from omiga.behaviour.ppo import PPOConfig, TrainState, init_train_state, make_update
from omiga.envs.smax import SmaxBattles
from omiga.errors import ConfigError

__all__ = ["BehaviourRun", "train_behaviour"]

HISTORY_FIELDS = ("update", "team_steps", "episodes", "mean_return", "win_rate", "loss/policy", "loss/value",
                  "policy/entropy", "seconds")


@dataclass(frozen=True)
class BehaviourRun:
    """What to train and where."""

    task: str
    """Registry task whose SMAX scenario is trained on."""
    out_dir: Path
    """Directory of ``latest.npz``, ``snapshots/`` and ``history.csv``."""
    team_steps: int
    """Train until this many team-steps in total (resuming counts earlier ones)."""
    seed: int = 0
    """Seed of the networks, battles and sampling."""
    snapshot_every: int = 250_000
    """Team-steps between actor snapshots (skill levels)."""
    checkpoint_every: int = 20
    """Updates between resume checkpoints."""

    def __post_init__(self) -> None:
        if self.team_steps < 1 or self.snapshot_every < 1 or self.checkpoint_every < 1:
            raise ConfigError("team_steps, snapshot_every and checkpoint_every must be >= 1")


def _header(run: BehaviourRun, battles: SmaxBattles, config: PPOConfig) -> dict:
    return {"task": run.task, "scenario": battles.scenario.name, "seed": run.seed, "config": asdict(config),
            "n_agents": battles.n_allies, "obs_dim": battles.obs_dim, "state_dim": battles.state_dim,
            "n_actions": battles.n_actions}


def _resume(run: BehaviourRun, template: TrainState, header: dict) -> TrainState:
    latest = run.out_dir / "latest.npz"
    if not latest.exists():
        return template
    meta = read_meta(latest)
    for key in ("task", "scenario", "seed", "config"):
        if meta.get(key) != header[key]:
            raise ConfigError(f"{latest} was trained with {key}={meta.get(key)!r}, not {header[key]!r}; "
                              "resume with the same settings or choose another --out")
    (params, opt_state, updates, key), _ = load_tree(
        latest, (template.params, template.opt_state, template.updates, template.key))
    return template._replace(params=params, opt_state=opt_state, updates=jax.numpy.asarray(updates),
                             key=jax.numpy.asarray(key))


def train_behaviour(run: BehaviourRun, battles: SmaxBattles, config: PPOConfig | None = None, *,
                    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
                    progress: bool = False) -> Path:
    """Train (or resume) until ``run.team_steps`` (``config`` default: `PPOConfig()`); returns ``run.out_dir``.

    ``progress`` shows a tqdm bar on stderr (team-steps done, the recent return and win rate, team-steps/s);
    the checkpoint lines then go through the bar so that they do not break it.
    """
    config = config or PPOConfig()
    header = _header(run, battles, config)
    train = _resume(run, init_train_state(battles, config, seed=run.seed), header)
    update = make_update(battles, config)
    per_update = config.team_steps_per_update
    total_updates = -(-run.team_steps // per_update)
    done = int(train.updates)
    if done:
        log(f"resuming {run.out_dir} at {done * per_update:,} team-steps")
    history = run.out_dir / "history.csv"
    run.out_dir.mkdir(parents=True, exist_ok=True)
    new_file = not history.exists()
    recent: list[dict] = []
    if not done:
        _snapshot(run, train, header, 0, recent)  # the untrained actor: the lowest skill level
    bar = _progress_bar(run, total_updates * per_update, done * per_update) if progress else None
    if bar is not None:
        def log(line: str) -> None:
            bar.write(line, file=sys.stderr)
    start = time.perf_counter()
    with open(history, "a", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=HISTORY_FIELDS)
        if new_file:
            writer.writeheader()
        for index in range(done, total_updates):
            train, metrics = update(train)
            metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
            episodes = metrics["episodes"]
            row = {"update": index + 1, "team_steps": (index + 1) * per_update, "episodes": int(episodes),
                   "mean_return": metrics["return_sum"] / episodes if episodes else float("nan"),
                   "win_rate": metrics["wins"] / episodes if episodes else float("nan"),
                   "seconds": round(time.perf_counter() - start, 2),
                   **{k: metrics[k] for k in ("loss/policy", "loss/value", "policy/entropy")}}
            writer.writerow(row)
            recent = (recent + [metrics])[-10:]
            steps = (index + 1) * per_update
            if bar is not None:
                bar.update(per_update)
                bar.set_postfix(ret=f"{_recent_return(recent):.2f}", win=f"{_recent_wins(recent):.2f}",
                                refresh=False)
            if steps // run.snapshot_every != (steps - per_update) // run.snapshot_every or index + 1 == total_updates:
                _snapshot(run, train, header, steps, recent)
            if (index + 1) % run.checkpoint_every == 0 or index + 1 == total_updates:
                stream.flush()
                save_tree(run.out_dir / "latest.npz", (train.params, train.opt_state, train.updates, train.key),
                          {**header, "team_steps": steps})
                rate = (index + 1 - done) * per_update / (time.perf_counter() - start)
                log(f"{steps:,}/{total_updates * per_update:,} team-steps  return {_recent_return(recent):.2f}  "
                    f"win {_recent_wins(recent):.2f}  {rate:,.0f} team-steps/s")
    if bar is not None:
        bar.close()
    return run.out_dir


def _progress_bar(run: BehaviourRun, total: int, initial: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=f"behaviour {run.task}", unit="team-step", unit_scale=True,
                file=sys.stderr, dynamic_ncols=True)


def _recent_return(recent: list[dict]) -> float:
    episodes = sum(m["episodes"] for m in recent)
    return sum(m["return_sum"] for m in recent) / episodes if episodes else float("nan")


def _recent_wins(recent: list[dict]) -> float:
    episodes = sum(m["episodes"] for m in recent)
    return sum(m["wins"] for m in recent) / episodes if episodes else float("nan")


def _snapshot(run: BehaviourRun, train: TrainState, header: dict, steps: int, recent: list[dict]) -> None:
    meta = {**header, "team_steps": steps, "train_return": _recent_return(recent) if recent else None,
            "train_win_rate": _recent_wins(recent) if recent else None}
    save_tree(run.out_dir / "snapshots" / f"step-{steps:09d}.npz", train.params["actor"], meta)
    with open(run.out_dir / "snapshots" / "index.jsonl", "a") as stream:
        stream.write(json.dumps({"file": f"step-{steps:09d}.npz", **{k: meta[k] for k in (
            "team_steps", "train_return", "train_win_rate")}}) + "\n")


def snapshot_table(out_dir: Path) -> list[dict]:
    """The snapshots of a run directory, in training order: ``snapshots/index.jsonl``, or where a run was copied
    without its index, the ``step-*.npz`` files present and their headers."""
    directory = Path(out_dir) / "snapshots"
    path = directory / "index.jsonl"
    if path.exists():
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = []
    for file in sorted(directory.glob("step-*.npz")):
        meta = read_meta(file)
        rows.append({"file": file.name, **{k: meta.get(k) for k in ("team_steps", "train_return", "train_win_rate")}})
    return rows
