"""Each baseline's own hyperparameter grid ([methods.<name>] in a spec): validation, grid points and populations,
the hp_<method>_<option> columns of the scores table, and the report's tuned table of the paper's rows."""

from __future__ import annotations

import re

import optuna
import pytest

from analysis import EstimateConfig, interval_estimates, load_scores, seed_summary, tuned_runs
from reports.results_table import results_table
from studies.export import scores_frame
from studies.grid import GridPoint, enumerate_grid, population_chunks
from studies.plan import Overrides, StudyPlan, resolve_plan
from studies.presets import load_preset
from studies.spec import load_spec, parse_spec


def _spec(methods, method=("omiga", "cql", "bcq", "icq")):
    return parse_spec({"seeds": 2, "steps": 10, "factors": {"method": list(method), "alpha": [1.0]},
                       "methods": methods}, name="custom")


@pytest.mark.parametrize(("methods", "message"), [
    ({"cql": {"alpah": [1.0]}}, "[methods.cql]: unknown method_options ['alpah'] for method 'cql'; known: alpha,"),
    ({"cql": {"alpha": []}}, "[methods.cql]: alpha must be a non-empty list of levels, got []"),
    ({"cql": {"alpha": 1.0}}, "[methods.cql]: alpha must be a non-empty list of levels, got 1.0"),
    ({"cql": {"alpha": ["1"]}}, "[methods.cql]: alpha levels must be numbers, got '1'"),
    ({"cql": {"alpha": [True]}}, "[methods.cql]: alpha levels must be numbers, got True"),
    ({"cql": {"n_samples": [2.5]}}, "[methods.cql]: n_samples levels must be integers, got 2.5"),
    ({"cql": {"alpha": [-1.0]}}, "[methods.cql]: alpha = -1.0: CqlOptions.alpha must be a number >= 0.0"),
    ({"cql": {"alpha": [1.0, 1.0]}}, "[methods.cql]: alpha repeats a level: [1.0, 1.0]"),
    ({"cql": {"penalty": ["agent"]}}, "[methods.cql]: penalty is a named choice, not a number"),
    ({"qcl": {"alpha": [1.0]}}, "[methods.qcl]: unknown method 'qcl'; methods: bc, bcq, cql, icq, omar, omiga"),
    ({"omar": {"coefficient": [0.5]}}, "[methods.omar]: method 'omar' is not in factors.method"),
    ({"omiga": {"alpha": [1.0]}}, "[methods.omiga]: OMIGA's α is the factor factors.alpha"),
    ({"bcq": {"discrete": {"phi": [0.1]}}}, "[methods.bcq].discrete: phi has no effect on discrete tasks"),
    ({"cql": {}}, "[methods.cql] must be a table of option = [levels]"),
])
def test_bad_method_grids_get_one_clear_error(methods, message):
    from studies.errors import StudyError

    with pytest.raises(StudyError, match=f"^study spec 'custom' {re.escape(message)}"):
        _spec(methods)


def test_grids_cross_options_per_action_kind_and_train_each_setting_in_its_own_population():
    spec = _spec({"cql": {"alpha": [0.3, 3.0]},
                  "bcq": {"threshold": [0.1, 0.3], "phi": [0.05, 0.15]},
                  "icq": {"discrete": {"policy_temperature": [0.1, 1.0]}}})
    plan = resolve_plan(spec=spec, preset=load_preset("smoke"), task="toy_coop")
    assert StudyPlan.from_dict(plan.to_dict()) == plan
    points = enumerate_grid(plan)
    per_quality_seed = {m: sum(p.method == m for p in points) // (len(plan.qualities) * plan.seeds)
                        for m in ("omiga", "cql", "bcq", "icq")}
    assert per_quality_seed == {"omiga": 1, "cql": 2, "bcq": 2, "icq": 2}  # phi is continuous-only: not swept
    cql = [p for p in points if p.method == "cql"]
    assert {p.options for p in cql} == {(("alpha", 0.3),), (("alpha", 3.0),)}
    assert cql[0].params()["hp_cql_alpha"] in (0.3, 3.0) and GridPoint.from_params(cql[0].params()) == cql[0]
    labels = population_chunks(points, size=64)
    assert len({labels[p] for p in cql}) == 2  # one population per setting
    continuous = resolve_plan(spec=spec, preset=load_preset("smoke"), task="mamujoco_hopper_3x1")
    assert {p.options for p in enumerate_grid(continuous) if p.method == "bcq"} == {(("phi", 0.05),),
                                                                                     (("phi", 0.15),)}
    assert {p.options for p in enumerate_grid(continuous) if p.method == "icq"} == {()}  # defaults


def _finished_study(plan: StudyPlan, score) -> optuna.Study:
    """An in-memory study with one complete trial per grid point, valued ``score(point)``."""
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    for point in enumerate_grid(plan):
        params = point.params()
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: optuna.distributions.CategoricalDistribution([v])
                                          for k, v in params.items()},
            value=score(point), user_attrs={"point": point.key, "score": score(point), "normalized_score": score(point),
                                            "steps": plan.steps}))
    return study


def test_the_baselines_study_writes_hp_columns_and_tunes_every_method_into_the_papers_rows():
    """Runs scored by CQL's α (others by seed): the scores table carries hp_* columns, and each method at its
    setting chosen on the selection seeds makes one row of the paper's table, judged on the other seeds."""
    spec = load_spec("baselines")
    plan = resolve_plan(spec=spec, preset=load_preset("smoke"), task="toy_coop", overrides=Overrides(seeds=3))
    scores = scores_frame(_finished_study(plan, lambda p: 0.1 * dict(p.options).get("alpha", 0.0) + 0.01 * p.seed),
                          plan)
    assert [c for c in scores.columns if c.startswith("hp_")] == [
        "hp_bcq_threshold", "hp_cql_alpha", "hp_icq_policy_temperature", "hp_omar_coefficient"]
    assert sorted(scores.loc[scores["method"] == "cql", "hp_cql_alpha"].unique()) == [0.3, 1.0, 3.0]
    assert scores.loc[scores["method"] != "cql", "hp_cql_alpha"].isna().all()
    runs, choices = tuned_runs(load_scores(scores), select_seeds=spec.select_seeds)
    assert set(runs["seed"]) == {1, 2} and (runs.groupby("method")["hp_cql_alpha"].nunique() <= 1).all()
    assert set(runs.loc[runs["method"] == "cql", "hp_cql_alpha"]) == {3.0}
    assert choices.set_index("method")["n_settings"].to_dict() == {"bc": 1, "bcq": 3, "cql": 3, "icq": 3, "omar": 3,
                                                                   "omiga": 3}
    table = results_table(summary=seed_summary(runs),
                          estimates=interval_estimates(runs, config=EstimateConfig(reps=100, seed=0)))
    assert [table.title(group) for group in table.groups] == ["BC", "BCQ-MA", "CQL-MA", "ICQ", "OMAR", "OMIGA"]
