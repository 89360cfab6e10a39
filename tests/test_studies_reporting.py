"""The terminal's verdict lines: estimate and CI, and for an inconclusive claim the seeds that would decide it."""

from __future__ import annotations

from pathlib import Path

from analysis import ClaimVerdict, verdicts_table
from studies.reporting import verdict_lines


def test_an_inconclusive_claim_says_how_many_seeds_would_decide_it(tmp_path: Path) -> None:
    common = {"kind": "beats", "statistic": "iqm difference", "estimate": 0.1, "ci_low": -0.05, "ci_high": 0.2,
              "n_seeds": 3}
    verdicts = [ClaimVerdict(name="omiga beats bc [medium]", verdict="inconclusive", seeds_needed="12", **common),
                ClaimVerdict(name="omiga beats bc [poor]", verdict="inconclusive", seeds_needed="> 64", **common),
                ClaimVerdict(name="omiga beats bc", verdict="supported", seeds_needed="-", **{**common, "ci_low": 0.01})]
    verdicts_table(verdicts).to_csv(tmp_path / "claims.csv", index=False)
    assert verdict_lines(tmp_path) == [
        "inconclusive  omiga beats bc [medium]: iqm difference 0.1 [-0.05, 0.2], n=3; about 12 seeds per "
        "configuration would decide it",
        "inconclusive  omiga beats bc [poor]: iqm difference 0.1 [-0.05, 0.2], n=3; more than 64 seeds per "
        "configuration would decide it",
        "   supported  omiga beats bc: iqm difference 0.1 [0.01, 0.2], n=3"]


def test_the_papers_scores_are_printed_only_on_imported_data(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    import h5py

    from studies.plan import Overrides, resolve_plan
    from studies.presets import load_preset
    from studies.reporting import on_papers_data
    from studies.runner import build_missing_datasets, dataset_file
    from studies.spec import load_spec

    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path))
    plan = resolve_plan(spec=load_spec("headline"), preset=load_preset("smoke"), task="toy_coop",
                        overrides=Overrides(qualities=("medium",)))
    assert not on_papers_data(plan)  # no dataset on disk yet
    build_missing_datasets(plan, log=lambda _: None)
    assert not on_papers_data(plan)  # built by the suite
    with h5py.File(dataset_file(plan, "medium"), "a") as file:
        file.attrs["behavior"] = "imported from corridor_medium.h5 (OMIGA ...)"
    assert on_papers_data(plan)
    assert not on_papers_data(dataclasses.replace(plan, backend="smax"))  # SMAX is never the paper's data


def test_dataset_tables_carry_the_coverage_diagnostics_and_every_episode_return(tmp_path: Path, monkeypatch) -> None:
    import h5py
    import numpy as np
    import pandas as pd

    from omiga.tasks import build_dataset
    from studies.plan import resolve_plan
    from studies.presets import load_preset
    from studies.reporting import write_dataset_tables
    from studies.runner import dataset_file
    from studies.spec import load_spec

    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    plan = resolve_plan(spec=load_spec("headline"), preset=load_preset("smoke"), task="toy_coop")
    assert write_dataset_tables(plan, out_dir=tmp_path) == (None, None)  # no dataset on disk yet
    path = dataset_file(plan, "medium")
    path.parent.mkdir(parents=True)
    build_dataset("toy_coop", quality="medium", episodes=20, seed=0, path=path)
    summary_csv, returns_csv = write_dataset_tables(plan, out_dir=tmp_path)
    summary, returns = pd.read_csv(summary_csv), pd.read_csv(returns_csv)
    with h5py.File(path, "r") as file:
        mean, episodes = float(file.attrs["return_mean"]), int(file.attrs["n_episodes"])
    row = summary.iloc[0]
    assert (row["task"], row["quality"], row["episodes"]) == ("toy_coop", "medium", episodes)
    assert row["behaviour_return_mean"] == np.float64(mean) and 0 < row["action_coverage"] <= 1
    assert row["return_min"] <= row["return_median"] <= row["return_max"] and row["episodes_per_start"] >= 1
    assert len(returns) == episodes and np.isclose(returns["return"].mean(), mean)
