"""Study specs, presets, plans and the grid: validation errors matched exactly, every point once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from omiga.config import METHOD_NAMES
from omiga.errors import UnknownNameError
from omiga.methods import METHOD_ACTION_KINDS
from omiga.tasks import get_task
from studies.errors import StudyError
from studies.grid import enumerate_grid, population_chunks
from studies.plan import Overrides, StudyPlan, resolve_plan
from studies.presets import PRESET_DIR, FamilyBudget, Preset, load_preset, preset_names
from studies.spec import SPEC_DIR, StudySpec, load_spec, parse_spec, spec_names


def test_every_builtin_spec_and_preset_loads_and_matches_its_file():
    assert set(spec_names()) >= {"alpha", "mixer", "global_info", "ablation", "baselines", "headline"}
    assert set(preset_names()) == {"smoke", "quick", "paper"}
    for name in spec_names():
        spec = load_spec(name)
        raw = tomllib.loads((SPEC_DIR / f"{name}.toml").read_text())
        assert isinstance(spec, StudySpec) and spec.name == name
        assert spec.seeds == raw["seeds"] and spec.steps == raw["steps"]
        assert len(spec.claims) == len(raw.get("claims", []))
        for task in ("toy_coop", "smac_corridor", "mamujoco_hopper_3x1"):
            for preset in preset_names():
                plan = resolve_plan(spec=spec, preset=load_preset(preset), task=task)
                assert enumerate_grid(plan)
                assert StudyPlan.from_dict(plan.to_dict()) == plan
    for name in preset_names():
        raw = tomllib.loads((PRESET_DIR / f"{name}.toml").read_text())
        preset = load_preset(name)
        assert all(getattr(preset, key) == (tuple(value) if isinstance(value, list) else value)
                   for key, value in raw.items() if key != "family")
        for family, budget in raw.get("family", {}).items():
            assert {key: getattr(preset.budget(family), key) for key in ("steps", "epochs", "eval_episodes")} == {
                "steps": None, "epochs": None, "eval_episodes": None, **budget}
        assert preset.eval_points >= 5
    assert load_preset("quick").min_seeds >= 3 and load_preset("paper").min_seeds >= 5


def test_baselines_covers_every_registered_method_that_fits_the_task():
    assert set(load_spec("baselines").factors.method) == set(METHOD_NAMES) >= {"omiga", "bc"}
    for task in ("smac_corridor", "mamujoco_hopper_3x1"):
        plan = resolve_plan(spec=load_spec("baselines"), preset=load_preset("smoke"), task=task)
        kind = get_task(task).action_kind
        expected = {m for m in METHOD_NAMES if kind in METHOD_ACTION_KINDS[m]}
        assert {p.method for p in enumerate_grid(plan)} == expected
        assert all(p.alpha is None and p.mixer is None for p in enumerate_grid(plan) if p.method != "omiga")


def _spec(**changes):
    values = {"seeds": 2, "steps": 10, "factors": {"method": ["omiga"], "alpha": [1.0]}}
    values.update(changes)
    return parse_spec(values, name="custom")


@pytest.mark.parametrize(("changes", "message"), [
    ({"sedes": 3}, ("study spec 'custom': unknown key sedes; valid keys: name, description, tasks, qualities, "
                    "correlations, temperatures, factors, methods, seeds, steps, eval_episodes, batch_size, select_seeds, claims")),
    ({"correlations": ["shared", "team"]},
     "study spec 'custom': correlations must be among independent, shared, got 'team'"),
    ({"correlations": ["shared", "shared"]}, "study spec 'custom': correlations repeats a level: ['shared', 'shared']"),
    ({"factors": {"alpha": [], "method": ["omiga"]}},
     "study spec 'custom': factors.alpha is empty, so the grid is empty; give at least one level"),
    ({"factors": {"alpha": [0.0]}}, "study spec 'custom': factors.alpha levels must be finite numbers > 0, got 0.0"),
    ({"factors": {"alpha": [-1]}}, "study spec 'custom': factors.alpha levels must be finite numbers > 0, got -1.0"),
    ({"factors": {"global_info": ["yes"]}},
     "study spec 'custom': factors.global_info levels must be true or false, got 'yes'"),
    ({"factors": {"mixers": ["vdn"]}},
     "study spec 'custom' [factors]: unknown key mixers; valid keys: method, alpha, mixer, global_info"),
    ({"factors": {"mixer": "vdn"}}, "study spec 'custom': factors.mixer must be a list of levels, got 'vdn'"),
    ({"factors": {"mixer": ["vdn", "vdn"]}}, "study spec 'custom': factors.mixer repeats a level: ['vdn', 'vdn']"),
    ({"seeds": 0}, "study spec 'custom': seeds must be an integer >= 1, got 0"),
    ({"claims": [{"a": 1}]}, "study spec 'custom': each [[claims]] entry needs a string 'kind', got {'a': 1}"),
    ({"name": "other"}, "study spec 'custom': name = 'other' differs from the file name; make them equal"),
])
def test_spec_validation_errors(changes, message):
    with pytest.raises(StudyError, match=f"^{re.escape(message)}$"):
        _spec(**changes)


@pytest.mark.parametrize(("factors", "message"), [
    ({"mixer": ["qmax"]}, "unknown mixer 'qmax'; known mixers: linear, qmix, vdn"),
    ({"method": ["nomethod"]}, f"unknown method 'nomethod'; known methods: {', '.join(sorted(METHOD_NAMES))}"),
])
def test_unknown_mixer_or_method_lists_the_known_names(factors, message):
    with pytest.raises(UnknownNameError, match=f"^{re.escape(message)}$"):
        _spec(factors=factors)


def test_unknown_task_in_a_spec_lists_the_known_tasks():
    with pytest.raises(UnknownNameError, match=r"^unknown task 'smac_corridoor'; known tasks: .*smac_corridor"):
        _spec(tasks=["smac_corridoor"])


def test_unknown_study_preset_task_and_quality():
    with pytest.raises(StudyError, match=r"^unknown study 'nope'; built-in studies: ablation, alpha, baselines, "
                                         r"coverage, factorisation, global_info, headline, mixer, scaling \(or give the path of a .toml spec\)$"):
        load_spec("nope")
    with pytest.raises(UnknownNameError, match=r"^unknown preset 'fast'; known presets: paper, quick, smoke$"):
        load_preset("fast")
    spec, smoke = load_spec("alpha"), load_preset("smoke")
    with pytest.raises(UnknownNameError, match=r"^unknown task 'smac_nope'; known tasks: "):
        resolve_plan(spec=spec, preset=smoke, task="smac_nope")
    with pytest.raises(StudyError, match=r"^task toy_coop has no dataset quality 'expert'; its qualities: good, "
                                         r"medium, poor \(fix --qualities or the spec's qualities\)$"):
        resolve_plan(spec=spec, preset=smoke, task="toy_coop", overrides=Overrides(qualities=("expert",)))


def test_spec_file_errors(tmp_path: Path):
    bad = tmp_path / "broken.toml"
    bad.write_text("seeds = [")
    with pytest.raises(StudyError, match=r"^study spec .*broken.toml: invalid TOML \(.*\); fix the syntax$"):
        load_spec(bad)
    with pytest.raises(StudyError, match=r"^study spec file .*missing.toml does not exist; give an existing"):
        load_spec(tmp_path / "missing.toml")


def test_preset_conflicts_and_bad_values():
    spec = load_spec("ablation")
    with pytest.raises(StudyError, match=re.escape(
            "--seeds 2 conflicts with preset 'paper', which needs at least 5 seeds; raise --seeds or choose "
            "another --preset (e.g. smoke)")):
        resolve_plan(spec=spec, preset=load_preset("paper"), task="toy_coop", overrides=Overrides(seeds=2))
    with pytest.raises(StudyError, match=re.escape("preset 'x': seeds = 1 is below its min_seeds = 3")):
        Preset(name="x", seeds=1, min_seeds=3)
    with pytest.raises(StudyError, match=re.escape("--steps must be an integer >= 1, got 0")):
        Overrides(steps=0)
    with pytest.raises(StudyError, match=re.escape("--qualities is empty; give a comma-separated list")):
        Overrides(qualities=())


def test_plan_resolution_preset_then_overrides_and_study_name():
    spec, quick = load_spec("ablation"), load_preset("quick")
    plan = resolve_plan(spec=spec, preset=quick, task="smac_corridor")
    assert (plan.study_name, plan.backend, plan.seeds, plan.steps) == ("ablation-smac_corridor-quick", "smax", 5,
                                                                       quick.steps)
    assert plan.qualities == ("medium", "poor")  # quick prefers the medium and poor datasets
    paper = resolve_plan(spec=spec, preset=load_preset("paper"), task="smac_corridor")
    assert (paper.epochs, paper.seeds, paper.qualities) == (55, 5, ("good", "medium", "poor"))
    custom = resolve_plan(spec=spec, preset=quick, task="smac_corridor",
                          overrides=Overrides(steps=7, qualities=("medium", "poor")))
    assert custom.steps == 7 and custom.qualities == ("medium", "poor")
    assert re.fullmatch(r"ablation-smac_corridor-quick-[0-9a-f]{8}", custom.study_name)


def test_grid_every_point_once_and_bc_not_crossed():
    plan = resolve_plan(spec=load_spec("ablation"), preset=load_preset("smoke"), task="toy_coop",
                        overrides=Overrides(qualities=("good", "poor"), seeds=3))
    points = enumerate_grid(plan)
    factors = plan.spec.factors
    omiga = [p for p in points if p.method == "omiga"]
    bc = [p for p in points if p.method == "bc"]
    n_levels = len(factors.alpha) * len(factors.mixer) * len(factors.global_info)
    assert len(omiga) == 2 * 3 * n_levels and len(bc) == 2 * 3
    assert len({p.key for p in points}) == len(points) == len(set(points))
    assert all(p.alpha is None and p.mixer is None and p.global_info is None for p in bc)
    assert set(bc[0].params()) == {"task", "quality", "method", "seed"}
    assert {(p.quality, p.seed) for p in bc} == {(q, s) for q in ("good", "poor") for s in range(3)}
    labels = population_chunks(points, size=5)
    for label in set(labels.values()):
        members = [p for p in points if labels[p] == label]
        assert len(members) <= 5 and len({p.population for p in members}) == 1


def test_populations_merge_the_qualities_of_one_task_in_near_equal_chunks():
    plan = resolve_plan(spec=load_spec("ablation"), preset=load_preset("smoke"), task="toy_coop",
                        overrides=Overrides(qualities=("good", "poor"), seeds=3))
    points = [p for p in enumerate_grid(plan) if p.method == "bc"]  # 2 qualities x 3 seeds, one shape
    labels = population_chunks(points, size=64)
    assert len(set(labels.values())) == 1  # both qualities train in one population
    small = list(population_chunks(points, size=4).values())
    sizes = sorted(small.count(label) for label in set(small))
    assert sizes == [3, 3]  # 6 points, at most 4 each: two chunks of 3, not 4 + 2


def test_a_study_whose_methods_cannot_act_on_the_task_is_refused(monkeypatch):
    monkeypatch.setitem(METHOD_ACTION_KINDS, "omar", ("continuous",))  # every registered method now does both
    spec = _spec(factors={"method": ["omar"]})
    with pytest.raises(StudyError, match=re.escape(
            "study 'custom': none of its methods (omar) supports the discrete actions of task "
            "toy_coop; choose another task or study")):
        resolve_plan(spec=spec, preset=load_preset("smoke"), task="toy_coop")


def test_an_outdated_claim_fails_when_the_spec_loads_with_the_migration_message(tmp_path: Path):
    old = tmp_path / "old.toml"
    old.write_text('seeds = 2\n[[claims]]\nkind = "robust"\nfactor = "quality"\nwithin = 0.1\n')
    with pytest.raises(StudyError, match=re.escape(
            "study spec 'old': claim 1: robust claim factor 'quality' tests invariance to the data's quality, "
            "which nobody claims (poorer data must score lower); to claim that a method stays ahead of the "
            'baselines on every quality write kind = "beats", a = {method = "omiga"}, aggregate = "every_quality"')):
        load_spec(old)


def test_the_specs_select_seeds_reach_every_claim_that_lacks_its_own():
    spec = _spec(select_seeds=[0], claims=[{"kind": "beats", "a": {"method": "omiga"}},
                                           {"kind": "beats", "a": {"method": "omiga"}, "select_seeds": 0.5}])
    assert spec.select_seeds == (0,)
    assert [c["select_seeds"] for c in spec.claims] == [[0], 0.5]
    assert parse_spec(spec.to_dict(), name="custom") == spec
    with pytest.raises(StudyError, match=re.escape("study spec 'custom': select_seeds: select_seeds=2.0: a "
                                                   "fraction must lie in (0, 1)")):
        _spec(select_seeds=2.0)


def test_the_headline_study_asks_the_papers_questions():
    spec = load_spec("headline")
    assert spec.factors.method == ("omiga", "bc") and spec.factors.mixer == ("linear",)
    assert spec.factors.alpha == (0.1, 0.3, 1.0, 3.0) and spec.factors.global_info == (True, False)
    assert [c["kind"] for c in spec.claims] == ["beats", "improves", "sensitivity"]
    assert spec.claims[1]["tune"] == ["alpha"] and all(c["select_seeds"] == 0.4 for c in spec.claims)
    assert spec.claims[0]["min_effect"] == 0.1 and spec.claims[0]["aggregate"] == "every_quality"


def test_the_factorisation_study_crosses_each_quality_with_its_correlated_twin():
    spec = load_spec("factorisation")
    assert spec.correlations == ("independent", "shared") and spec.factors.global_info == (True,)
    assert [c["kind"] for c in spec.claims] == ["interaction", "beats"]
    for preset in ("smoke", "quick", "paper"):
        plan = resolve_plan(spec=spec, preset=load_preset(preset), task="smac_corridor")
        assert plan.qualities == ("medium", "medium@shared"), preset
    plan = resolve_plan(spec=spec, preset=load_preset("quick"), task="smac_corridor",
                        overrides=Overrides(qualities=("poor", "good@shared")))
    assert plan.qualities == ("poor", "poor@shared", "good@shared")  # a named correlation is kept as it is
    assert StudyPlan.from_dict(plan.to_dict()) == plan
    with pytest.raises(StudyError, match="has no dataset quality 'poor@team'"):
        resolve_plan(spec=spec, preset=load_preset("quick"), task="smac_corridor",
                     overrides=Overrides(qualities=("poor@team",)))


def test_the_scaling_study_runs_on_5_10_and_20_units_a_side():
    from omiga.envs.smax_scenarios import get_scenario

    spec = load_spec("scaling")
    assert spec.tasks == ("smac_protoss_5_vs_5", "smac_protoss_10_vs_10", "smac_protoss_20_vs_20")
    for task, n in zip(spec.tasks, (5, 10, 20), strict=True):
        scenario = get_scenario(get_task(task).backend_kwargs["smax"]["scenario"])
        assert len(scenario.ally_types) == len(scenario.enemy_types) == n
        assert scenario.ally_types.count(2) == (n + 1) // 2 and scenario.ally_types.count(3) == n // 2
        assert resolve_plan(spec=spec, preset=load_preset("quick"), task=task).qualities == ("medium", "poor")


# Transitions of the paper's SMAC datasets (OG-MARL's cards of the OMIGA data; /work/shared/PAPER_NUMBERS.md).
CORRIDOR_TRANSITIONS = {"poor": 51_268, "medium": 126_012, "good": 100_170}


def test_the_paper_preset_trains_55_epochs_on_smac_and_a_million_steps_on_mamujoco():
    paper = load_preset("paper")
    smac = resolve_plan(spec=load_spec("headline"), preset=paper, task="smac_corridor")
    assert (smac.epochs, smac.batch_size, smac.seeds, smac.eval_episodes) == (55, 128, 5, 32)
    steps = {q: smac.run_steps(n) for q, n in CORRIDOR_TRANSITIONS.items()}
    assert steps == {q: -(-55 * n // 128) for q, n in CORRIDOR_TRANSITIONS.items()}
    assert steps == {"poor": 22_030, "medium": 54_146, "good": 43_042}  # the "about 20k-55k steps"
    total, checkpoint, eval_every = smac.schedule(CORRIDOR_TRANSITIONS["medium"])
    assert (total, checkpoint) == (54_146, 5_414) and total // eval_every == paper.eval_points
    mujoco = resolve_plan(spec=load_spec("headline"), preset=paper, task="mamujoco_hopper_3x1")
    assert (mujoco.epochs, mujoco.steps, mujoco.batch_size, mujoco.seeds, mujoco.eval_episodes) == (
        None, 1_000_000, 128, 5, 10)
    assert mujoco.run_steps(919_000) == 1_000_000
    fixed = resolve_plan(spec=load_spec("headline"), preset=paper, task="smac_corridor", overrides=Overrides(steps=9))
    assert (fixed.epochs, fixed.run_steps(CORRIDOR_TRANSITIONS["poor"])) == (None, 9)
    with pytest.raises(StudyError, match="counts training in epochs: its steps depend on the dataset's transitions"):
        smac.run_steps()


def test_quick_keeps_a_fixed_step_count_and_five_evaluation_points():
    quick = resolve_plan(spec=load_spec("headline"), preset=load_preset("quick"), task="smac_corridor")
    assert quick.epochs is None and quick.run_steps(10) == quick.run_steps(10_000) == load_preset("quick").steps
    steps, _, eval_every = quick.schedule()
    assert eval_every > 0 and len(range(eval_every, steps + 1, eval_every)) >= 5


def test_the_epochs_budget_follows_the_built_dataset(tmp_path: Path, monkeypatch):
    """A plan in epochs trains ⌈epochs × transitions / batch⌉ steps of the dataset it loads."""
    from omiga.data import load_dataset
    from studies.runner import _train_config, build_missing_datasets, dataset_file

    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path))
    preset = Preset(name="epochs", seeds=1, batch_size=16, dataset_episodes=3, eval_points=5,
                    family={"toy": FamilyBudget(epochs=12.5)})
    plan = resolve_plan(spec=load_spec("headline"), preset=preset, task="toy_coop",
                        overrides=Overrides(qualities=("medium",)))
    build_missing_datasets(plan, log=lambda _: None)
    transitions = len(load_dataset(dataset_file(plan, "medium")).rewards)
    config = _train_config(plan, enumerate_grid(plan)[0], transitions=transitions)
    assert config.steps == -(-25 * transitions // 32) and config.eval_every == config.steps // 5 > 0


@pytest.mark.parametrize(("family", "message"), [
    ({"smac": {"steps": 5, "epochs": 1}}, "preset 'x' [family.smac]: give steps or epochs, not both"),
    ({"smac": {"epochs": 0}}, "preset 'x' [family.smac]: epochs must be a number > 0, got 0"),
    ({"smac": {"epoch": 1}}, "preset 'x' [family.smac]: unknown key epoch; valid keys: steps, epochs, eval_episodes"),
    ({"chess": {"steps": 1}}, "preset 'x': unknown task family chess; families: smac, mamujoco, toy"),
])
def test_family_budget_errors(tmp_path: Path, monkeypatch, family, message):
    import studies.presets as presets

    (tmp_path / "x.toml").write_text("".join(
        f"[family.{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) for name, values in family.items()))
    monkeypatch.setattr(presets, "PRESET_DIR", tmp_path)
    with pytest.raises(StudyError, match=f"^{re.escape(message)}$"):
        load_preset("x")
