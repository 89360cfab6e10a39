"""Statistics of a study: rliable interval estimates, probability of improvement, profiles, claim verdicts,
learning-curve bands and checks.

Reads only the tidy scores and curves tables (docs/interfaces.md); imports neither omiga nor studies.
"""

from analysis.bootstrap import (
                                DEFAULT_BOOTSTRAP_REPS,
                                IntervalEstimate,
                                seeded_global_rng,
                                stratified_bootstrap_ci,
)
from analysis.claims import (
                                ClaimVerdict,
                                evaluate_claim,
                                evaluate_claim_rows,
                                evaluate_claims,
                                sensitivity_table,
                                validate_claim,
                                verdicts_table,
)
from analysis.curves import (
    best_versus_last,
    convergence_summary,
    last_fraction_flatness,
    learning_curve_bands,
    load_curves,
)
from analysis.engine import DEFAULT_ENGINE, ENGINES
from analysis.errors import AnalysisError, ClaimError, ScoresTableError
from analysis.estimates import ALL_TASKS, ESTIMATE_COLUMNS, EstimateConfig, interval_estimates
from analysis.improvement import (
                                pairwise_probability_of_improvement,
                                probability_of_improvement,
                                probability_of_improvement_ci,
)
from analysis.metrics import METRICS
from analysis.power import PowerConfig, seeds_for_decision
from analysis.profiles import performance_profiles
from analysis.scaling import POWER_LAW_COLUMNS, power_law_fit
from analysis.scores import configuration_label, load_scores, ok_runs
from analysis.selection import SeedSplit, split_seeds, tuned_runs
from analysis.summary import load_dataset_returns, load_dataset_summary, run_status_counts, seed_summary

__all__ = [
    "ALL_TASKS", "DEFAULT_BOOTSTRAP_REPS", "DEFAULT_ENGINE", "ENGINES", "ESTIMATE_COLUMNS", "METRICS",
    "POWER_LAW_COLUMNS",
    "AnalysisError", "ClaimError", "ClaimVerdict", "EstimateConfig", "IntervalEstimate", "PowerConfig",
    "ScoresTableError", "SeedSplit", "best_versus_last", "configuration_label", "convergence_summary",
    "evaluate_claim", "evaluate_claim_rows", "evaluate_claims", "interval_estimates", "last_fraction_flatness",
    "learning_curve_bands", "load_curves", "load_dataset_returns", "load_dataset_summary", "load_scores",
    "ok_runs", "pairwise_probability_of_improvement", "performance_profiles", "power_law_fit",
    "probability_of_improvement",
    "probability_of_improvement_ci", "run_status_counts", "seed_summary", "seeded_global_rng",
    "seeds_for_decision", "sensitivity_table", "split_seeds", "stratified_bootstrap_ci", "tuned_runs",
    "validate_claim", "verdicts_table",
]
