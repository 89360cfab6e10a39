"""The study layer: specs, presets, the grid of trials on Optuna, workers, and the tidy scores table."""

from studies.errors import StudyError
from studies.export import SCORE_COLUMNS, scores_frame, write_scores
from studies.grid import GridPoint, enumerate_grid
from studies.plan import Overrides, StudyPlan, resolve_plan
from studies.presets import Preset, load_preset, preset_names
from studies.session import export_study, load_named_study, open_plan_study, run_study, trial_counts
from studies.spec import Factors, StudySpec, load_spec, spec_names

__all__ = [
    "SCORE_COLUMNS", "Factors", "GridPoint", "Overrides", "Preset", "StudyError", "StudyPlan", "StudySpec",
    "enumerate_grid", "export_study", "load_named_study", "load_preset", "load_spec", "open_plan_study",
    "preset_names", "resolve_plan", "run_study", "scores_frame", "spec_names", "trial_counts", "write_scores",
]
