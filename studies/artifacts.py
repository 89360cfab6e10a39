"""Each finished trial's result as an Optuna artifact, so optuna-dashboard shows it beside the trial.

``<study_dir>/trials/trial-<number>.json`` holds the run's outcome (status, score, normalised score, win rate,
steps, run directory, resolved config, timing) and its evaluation curve (read from the population's
result.json); it is uploaded into the file-system artifact store ``<study_dir>/artifacts`` and linked to the
trial. ``optuna-dashboard <journal> --artifact-dir <study_dir>/artifacts`` (the command the study prints) lists
it under the trial. Attaching is best effort: a failure to write or upload it is logged and never loses the
trial's result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, upload_artifact

from omiga.checkpoint import write_json_atomic

__all__ = ["ARTIFACT_DIR", "attach_trial_result", "trial_result"]

ARTIFACT_DIR = "artifacts"


def _member_curve(curve_path: str | None, member_index: int | None) -> list[dict[str, Any]]:
    if not curve_path or member_index is None:
        return []
    try:
        members = json.loads(Path(curve_path).read_text())["members"]
        return list(members[member_index]["eval_curve"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return []


def trial_result(number: int, attrs: dict[str, Any]) -> dict[str, Any]:
    """The artifact's content: the trial number, its user attributes and the member's evaluation curve."""
    return {"trial": number, **attrs,
            "eval_curve": _member_curve(attrs.get("curve_path"), attrs.get("member_index"))}


def attach_trial_result(study_dir: Path, trial: optuna.trial.FrozenTrial | optuna.Trial, attrs: dict[str, Any],
                        *, storage: optuna.storages.BaseStorage, log: Callable[[str], None] = print) -> Path | None:
    """Write and upload the trial's result file (call while the trial is still running); its path or None."""
    path = Path(study_dir) / "trials" / f"trial-{trial.number:05d}.json"
    try:
        write_json_atomic(trial_result(trial.number, attrs), path)
        store = FileSystemArtifactStore(str(Path(study_dir) / ARTIFACT_DIR))
        (Path(study_dir) / ARTIFACT_DIR).mkdir(parents=True, exist_ok=True)
        upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=trial, storage=storage,
                        mimetype="application/json")
    except Exception as error:  # noqa: BLE001 - best effort: the trial's result is told to the study anyway
        log(f"trial {trial.number}: its result file was not attached for optuna-dashboard ({error}); the "
            "result itself is stored")
        return None
    return path
