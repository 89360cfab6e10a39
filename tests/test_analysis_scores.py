"""Loading and validating the scores table (analysis.scores) and the paper-style summary."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from analysis import ScoresTableError, configuration_label, load_scores, run_status_counts, seed_summary


def synthetic_scores(means: Mapping[tuple[str, float, bool], float], *, seeds: int = 5, sd: float = 1.0,
                     tasks: Sequence[str] = ("smac_corridor",), quality: str = "good", rng_seed: int = 0,
                     scale: float = 20.0) -> pd.DataFrame:
    """One ok run per seed for each (method, alpha, global_info) → mean; normal noise; score = 20 × normalised."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for task in tasks:
        for (method, alpha, global_info), mean in means.items():
            for seed in range(seeds):
                normalized = rng.normal(mean, sd)
                rows.append({"task": task, "backend": "smax", "quality": quality, "method": method,
                             "alpha": alpha, "mixer": "linear", "global_info": global_info, "seed": seed,
                             "steps": 1000, "score": normalized * scale, "win_rate": 0.5,
                             "normalized_score": normalized, "status": "ok"})
    return pd.DataFrame(rows)


def test_load_scores_types_columns_and_labels_groups_without_commas() -> None:
    table = load_scores(synthetic_scores({("omiga", 1.0, True): 0.8, ("omiga", 0.1, False): 0.5}))
    assert table["global_info"].dtype == "boolean"
    assert table["task"].dtype == "string"
    assert table["seed"].dtype == "Int64"
    assert set(table["group"]) == {"omiga α=1 linear global", "omiga α=0.1 linear local"}
    assert configuration_label(method="bc", alpha=None, mixer=None, global_info=None) == "bc"
    assert "," not in configuration_label(method="a,b", alpha=0.5, mixer="x", global_info=True)


def test_load_scores_reads_csv_with_text_booleans_and_empty_scores(tmp_path) -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2)
    frame.loc[1, ["score", "normalized_score"]] = np.nan
    frame.loc[1, "status"] = "diverged"
    frame["global_info"] = ["true", "true"]
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    table = load_scores(path)
    assert list(table["status"]) == ["ok", "diverged"]
    assert bool(table["global_info"].iloc[0]) is True


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f.drop(columns=["status", "seed"]), "scores table lacks column(s) seed, status: it needs"),
    (lambda f: f.assign(status="crashed"),
     "scores table has status ['crashed']: status must be one of ok, diverged, failed"),
    (lambda f: f.assign(score=np.nan), "scores table row 0: status is ok but score is empty or not finite"),
    (lambda f: f.assign(global_info="maybe"), "scores table row 0: global_info='maybe' is not a boolean"),
    (lambda f: f.assign(alpha="high"), "scores table row 0: alpha='high' is not a number"),
    (lambda f: f.assign(seed=0), "appears twice: keep one row per run"),
    (lambda f: f.iloc[:0], "scores table has no rows"),
])
def test_load_scores_rejects_bad_tables_with_a_clear_message(mutate, message) -> None:
    frame = mutate(synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2))
    with pytest.raises(ScoresTableError, match=re.escape(message)):
        load_scores(frame)


def test_load_scores_rejects_a_task_mixing_backends() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=2)
    frame.loc[1, "backend"] = "sc2"
    with pytest.raises(ScoresTableError, match="task smac_corridor mixes backends sc2, smax"):
        load_scores(frame)


def test_load_scores_rejects_missing_file(tmp_path) -> None:
    with pytest.raises(ScoresTableError, match="does not exist: pass the path of a scores.csv"):
        load_scores(tmp_path / "nope.csv")


def test_seed_summary_is_mean_and_sample_std_and_counts_missing_runs() -> None:
    frame = synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=4)
    frame.loc[3, ["score", "normalized_score"]] = np.nan
    frame.loc[3, "status"] = "failed"
    table = load_scores(frame)
    summary = seed_summary(table)
    ok_scores = frame.loc[:2, "score"].to_numpy()
    assert summary["mean"].iloc[0] == pytest.approx(ok_scores.mean())
    assert summary["std"].iloc[0] == pytest.approx(ok_scores.std(ddof=1))
    assert (summary["n_ok"].iloc[0], summary["n_diverged"].iloc[0], summary["n_failed"].iloc[0]) == (3, 0, 1)
    counts = run_status_counts(table)
    assert counts[["n_ok", "n_diverged", "n_failed"]].to_numpy().tolist() == [[3, 0, 1]]


def test_seed_summary_leaves_std_of_a_single_run_undefined() -> None:
    summary = seed_summary(load_scores(synthetic_scores({("omiga", 1.0, True): 0.8}, seeds=1)))
    assert summary["n_ok"].iloc[0] == 1
    assert np.isnan(summary["std"].iloc[0])


def test_hp_columns_are_configuration_columns_kept_as_numbers_and_labelled() -> None:
    frame = synthetic_scores({("cql", np.nan, None): 0.5}, seeds=2).assign(mixer="linear")
    frame = pd.concat([frame.assign(hp_cql_alpha=5.0), frame.assign(hp_cql_alpha=0.5),
                       synthetic_scores({("bc", np.nan, None): 0.3}, seeds=2).assign(mixer=None)], ignore_index=True)
    table = load_scores(frame)
    assert table["hp_cql_alpha"].dtype == "float64"
    assert set(table["group"]) == {"cql linear cql_alpha=5", "cql linear cql_alpha=0.5", "bc"}
    with pytest.raises(ScoresTableError, match="hp_cql_alpha='x' is not a number"):
        load_scores(frame.assign(hp_cql_alpha="x"))
