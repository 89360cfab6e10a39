"""``train_population``: train M independent members on one dataset (or several), with checkpoints, resume and evaluation.

``out_dir`` holds ``checkpoint.pt`` (every ``checkpoint_every`` steps and at the end, atomic, loaded with
``weights_only=True``) and ``result.json``; calling again with the same ``out_dir`` resumes from the
checkpoint, and the final parameters are bitwise those of an uninterrupted run on the CPU.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from omiga.checkpoint import load_checkpoint, save_checkpoint, write_json_atomic
from omiga.config import MemberConfig, TrainConfig
from omiga.data.schema import OfflineDataset
from omiga.errors import ConfigError
from omiga.methods import get_action_rule
from omiga.monitor import StepProgress, member_label, scalar_rows, write_member_scalars
from omiga.population import NetworkPolicy
from omiga.results import EvalPoint, MemberResult
from omiga.trainer import PopulationTrainer

__all__ = ["EvalPoint", "MemberResult", "dataset_content_digest", "provenance", "train_population"]

CHECKPOINT_NAME, RESULT_NAME = "checkpoint.pt", "result.json"
EvaluateFn = Callable[[Any, int], Sequence[Any]]


def dataset_content_digest(dataset: OfflineDataset) -> str:
    """sha256 of the dataset's arrays (names, dtypes, shapes and bytes): independent of file compression."""
    digest = hashlib.sha256()
    for name, array in dataset.arrays().items():
        if array is not None:
            digest.update(f"{name}:{array.dtype}:{array.shape};".encode())
            digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def population_data_digest(dataset: OfflineDataset | Sequence[OfflineDataset]) -> str:
    """The digest a checkpoint and result.json are tied to: one dataset's `dataset_content_digest`, or for a
    merged population (several datasets) the sha256 of their digests joined in member-index order."""
    datasets = [dataset] if isinstance(dataset, OfflineDataset) else list(dataset)
    return _joined([dataset_content_digest(d) for d in datasets])


def _joined(digests: Sequence[str]) -> str:
    return digests[0] if len(digests) == 1 else hashlib.sha256("+".join(digests).encode()).hexdigest()


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _described(dataset: OfflineDataset) -> dict:
    return {**dataset.attrs.to_dict(), "sha256_arrays": dataset_content_digest(dataset)}


def provenance(*, config: TrainConfig, members: Sequence[MemberConfig],
               dataset: OfflineDataset | Sequence[OfflineDataset]) -> dict:
    """Resolved config, members, dataset attributes and digest (``datasets``, a list, where the members train on
    several), git SHA and package versions."""
    versions = {}
    for package in ("omiga-study-suite", "torch", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    if isinstance(dataset, OfflineDataset) or len(dataset) == 1:
        data = {"dataset": _described(dataset if isinstance(dataset, OfflineDataset) else dataset[0])}
    else:
        data = {"datasets": [_described(d) for d in dataset]}
    return {"config": config.to_dict(), "members": [vars(m).copy() for m in members], **data,
            "git_sha": _git_sha(), "versions": versions}


RESUMABLE_CHANGES = ("steps", "cuda_graph", "compile")
"""TrainConfig fields a resumed run may change: more steps, CUDA-graph replay (equal to the eager step) and
compilation (equal to the eager step up to float rounding)."""


def _check_same_dataset(recorded: object, digest: str, path: Path) -> None:
    """A checkpoint or result belongs to the dataset it was trained on (files written before the digest was
    recorded pass)."""
    if recorded is not None and recorded != digest:
        raise ConfigError(f"{path} was written by a run on a different dataset (sha256 of its arrays "
                          f"{str(recorded)[:12]}..., this dataset's {digest[:12]}...): training here would mix two "
                          "datasets' runs in one directory; use a fresh --out directory, or pass the dataset it was "
                          "trained on")


def _check_resumable(state: dict, config: TrainConfig, members: Sequence[MemberConfig], path: Path,
                     digest: str) -> None:
    _check_same_dataset(state.get("dataset_sha256"), digest, path)

    def compared(values: dict) -> dict:
        return {key: value for key, value in values.items() if key not in RESUMABLE_CHANGES}

    try:  # through from_dict, so that fields added since the checkpoint was written take their defaults
        saved = TrainConfig.from_dict(dict(state.get("config", {}))).to_dict()
    except (ConfigError, TypeError):
        saved = dict(state.get("config", {}))
    try:  # through MemberConfig, so that a checkpoint written before MemberConfig.dataset existed resumes
        saved_members = [MemberConfig(**dict(m)) for m in state.get("members", [])]
    except (ConfigError, TypeError):
        saved_members = None
    same_members = saved_members == list(members)
    if compared(saved) != compared(config.to_dict()) or not same_members:
        raise ConfigError(f"checkpoint {path} was written by a different config or member list; "
                          "use a fresh --out directory or delete the checkpoint")


def _recorded_digest(path: Path) -> object:
    """The dataset digest a result.json records (None when unreadable or absent: the run is simply redone)."""
    try:
        recorded = json.loads(path.read_text())["provenance"]
        if "datasets" in recorded:
            return _joined([d["sha256_arrays"] for d in recorded["datasets"]])
        return recorded["dataset"]["sha256_arrays"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _evaluate(evaluate: EvaluateFn, trainer: PopulationTrainer, curves: list[list[EvalPoint]],
              scalars: list[list[dict[str, float]]]) -> None:
    action_rule = get_action_rule(trainer.config.method, config=trainer.config)
    results = evaluate(NetworkPolicy(trainer.nets, action_rule=action_rule), trainer.step)
    if len(results) != len(curves):
        raise ConfigError(f"the evaluate callback returned {len(results)} results for {len(curves)} members")
    for curve, result in zip(curves, results):
        curve.append(EvalPoint(step=trainer.step, mean_return=float(result.mean_return),
                               win_rate=None if result.win_rate is None else float(result.win_rate)))
    losses = trainer.last_losses.tolist() if trainer.loss_names else []
    rows = scalar_rows(step=trainer.step, loss_names=trainer.loss_names, losses=losses,
                       returns=[c[-1].mean_return for c in curves], win_rates=[c[-1].win_rate for c in curves])
    for history, row in zip(scalars, rows, strict=True):
        history.append(row)


def _write_scalars(out_dir: Path, trainer: PopulationTrainer, scalars: list[list[dict[str, float]]]) -> None:
    labels = [member_label(index, method=trainer.config.method, alpha=m.alpha, global_info=m.global_info,
                           seed=m.seed, dataset=m.dataset) for index, m in enumerate(trainer.members)]
    write_member_scalars(out_dir, labels=labels, history=scalars)


def _member_results(trainer: PopulationTrainer, curves: list[list[EvalPoint]]) -> list[MemberResult]:
    losses = trainer.last_losses.tolist()
    results = []
    for index, member in enumerate(trainer.members):
        diverged = trainer.divergences.get(index)
        curve = tuple(curves[index])
        results.append(MemberResult(
            alpha=member.alpha, mixer=trainer.config.mixer, global_info=member.global_info, seed=member.seed,
            steps=trainer.completed_steps(index), status="diverged" if diverged else "ok",
            diverged_step=diverged[0] if diverged else None, reason=diverged[1] if diverged else None,
            final_losses=dict(zip(trainer.loss_names, losses[index])) if losses else {},
            eval_curve=curve, final_return=curve[-1].mean_return if curve else None,
            final_win_rate=curve[-1].win_rate if curve else None, method=trainer.config.method,
        ))
    return results


def train_population(dataset: OfflineDataset | Sequence[OfflineDataset], *, config: TrainConfig,
                     members: Sequence[MemberConfig],
                     out_dir: Path | None = None, evaluate: EvaluateFn | None = None,
                     progress: bool = False, tensorboard: bool = False) -> list[MemberResult]:
    """Train every member for ``config.steps`` steps; one :class:`MemberResult` per member, in order.

    ``dataset`` is one dataset or several of the same shapes; member m trains on ``dataset[members[m].dataset]``
    (a merged population: e.g. the qualities of one task, trained together).
    ``evaluate(policy, step)`` (one result with ``mean_return`` and ``win_rate`` per member) is called every
    ``config.eval_every`` steps and at the end. ``result.json``'s ``timing`` gives this call's seconds of training
    (checkpoints included) and of evaluation, its steps and the population size. ``tensorboard`` (with an
    ``out_dir``) writes each member's eval and loss scalars at every evaluation step, ``progress`` shows a bar
    on a terminal, else a line every 30 s (both omiga.monitor).
    """
    if not members:
        raise ConfigError("train_population needs at least one MemberConfig")
    members = tuple(members)
    digest = population_data_digest(dataset)
    checkpoint_path = None if out_dir is None else Path(out_dir) / CHECKPOINT_NAME
    state = None
    if checkpoint_path is not None and checkpoint_path.exists():  # checked before any work
        state = load_checkpoint(checkpoint_path)
        _check_resumable(state, config, members, checkpoint_path, digest)
    elif out_dir is not None and (Path(out_dir) / RESULT_NAME).is_file():
        _check_same_dataset(_recorded_digest(Path(out_dir) / RESULT_NAME), digest, Path(out_dir) / RESULT_NAME)
    trainer = PopulationTrainer(dataset, config=config, members=members)
    curves: list[list[EvalPoint]] = [[] for _ in members]
    scalars: list[list[dict[str, float]]] = [[] for _ in members]
    if state is not None:
        trainer.load_state_dict(state["trainer"])
        curves = [[EvalPoint(**p) for p in curve] for curve in state["eval_curves"]]
        scalars = [list(rows) for rows in state.get("scalars", scalars)]  # absent in older checkpoints

    def save() -> None:
        save_checkpoint({"config": config.to_dict(), "members": [vars(m).copy() for m in members],
                         "dataset_sha256": digest,
                         "trainer": trainer.state_dict(),
                         "eval_curves": [[vars(p).copy() for p in c] for c in curves],
                         "scalars": scalars}, checkpoint_path)

    clock = {"train_s": 0.0, "eval_s": 0.0, "steps": 0, "members": len(members)}

    def timed_evaluate() -> None:
        started = time.perf_counter()
        _evaluate(evaluate, trainer, curves, scalars)
        clock["eval_s"] += time.perf_counter() - started

    bar = (StepProgress(total=config.steps, initial=trainer.step, desc=f"train M={len(members)}")
           if progress else None)
    started = time.perf_counter()
    first_step = trainer.step
    while trainer.step < config.steps:
        trainer.train_step()
        if bar is not None:
            bar.update(1)
        if evaluate is not None and config.eval_every and trainer.step % config.eval_every == 0 \
                and trainer.step < config.steps:
            timed_evaluate()
        if checkpoint_path is not None and config.checkpoint_every and trainer.step % config.checkpoint_every == 0:
            trainer.check_divergence()
            save()
    if bar is not None:
        bar.close()
    trainer.check_divergence()  # synchronises: the time of every step is in
    clock["train_s"] = time.perf_counter() - started - clock["eval_s"]
    clock["steps"] = trainer.step - first_step
    if evaluate is not None and (not curves[0] or curves[0][-1].step != trainer.step):
        timed_evaluate()
    if checkpoint_path is not None and config.checkpoint_every:
        save()
    results = _member_results(trainer, curves)
    if out_dir is not None and tensorboard:
        _write_scalars(Path(out_dir), trainer, scalars)
    if out_dir is not None:
        write_json_atomic({"provenance": provenance(config=config, members=members, dataset=dataset),
                           "members": [r.to_dict() for r in results], "timing": clock}, Path(out_dir) / RESULT_NAME)
    return results
