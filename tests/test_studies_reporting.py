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
