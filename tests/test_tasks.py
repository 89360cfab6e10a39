"""The task registry: entries, errors, normalisation, lazy backends and the ``tasks`` command."""

from __future__ import annotations

import dataclasses

import pytest

from omiga import tasks
from omiga.cli import main
from omiga.errors import BackendUnavailableError, ConfigError, UnknownNameError

EXPECTED = {"smac_corridor", "smac_5m_vs_6m", "smac_6h_vs_8z", "smac_2c_vs_64zg", "mamujoco_halfcheetah_6x1",
            "mamujoco_hopper_3x1", "mamujoco_ant_2x4", "toy_coop", "smac_protoss_5_vs_5", "smac_protoss_10_vs_10",
            "smac_protoss_20_vs_20"}


def test_registry_holds_the_paper_tasks_and_toy():
    assert set(tasks.task_names()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_entry_is_well_formed(name):
    spec = tasks.get_task(name)
    assert spec.name == name and tasks.get_task(spec) is spec
    assert all(b in tasks.BACKENDS for b in spec.backends)
    assert set(spec.backend_kwargs) <= set(spec.backends)
    assert spec.best_score > spec.random_score and spec.description
    if spec.family == "smac":
        assert spec.backends == ("smax", "sc2") and spec.qualities == ("good", "medium", "poor")
        assert spec.discrete and spec.has_win_rate and spec.default_episodes == 1000
        assert "SMAX" in spec.description
    if spec.family == "mamujoco":
        assert spec.backends == ("mamujoco",) and not spec.discrete and not spec.has_win_rate
        assert spec.qualities == ("expert", "medium", "medium-replay", "medium-expert")


def test_unknown_task_lists_the_known_names():
    with pytest.raises(UnknownNameError) as info:
        tasks.get_task("smac_3m")
    assert str(info.value) == "unknown task 'smac_3m'; known tasks: " + ", ".join(sorted(EXPECTED))


def test_unknown_backend_and_quality_are_named():
    with pytest.raises(UnknownNameError, match="unknown backend 'mamujoco'; known backends of task smac_corridor: sc2, smax"):
        tasks.resolve_backend("smac_corridor", "mamujoco")
    with pytest.raises(UnknownNameError, match="known qualities of task smac_corridor: good, medium, poor"):
        tasks.dataset_path("smac_corridor", quality="expert")


def test_normalized_score_closed_form():
    spec = tasks.get_task("mamujoco_hopper_3x1")
    assert tasks.normalized_score(spec, spec.random_score) == 0.0
    assert tasks.normalized_score(spec, spec.best_score) == pytest.approx(1.0)
    assert tasks.normalized_score("toy_coop", 0.34 + 0.25 * (8.0 - 0.34)) == pytest.approx(0.25)


def test_dataset_path_uses_env_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path))
    assert tasks.dataset_path("smac_corridor", quality="good") == tmp_path / "smac_corridor" / "smax-v3-good.h5"
    assert tasks.dataset_path("smac_corridor", quality="poor", cache_dir=tmp_path / "x") == (
        tmp_path / "x" / "smac_corridor" / "smax-v3-poor.h5")
    assert tasks.dataset_path("smac_6h_vs_8z", quality="poor").name == "smax-v3-poor.h5"  # learned levels shipped
    assert tasks.dataset_path("smac_6h_vs_8z", quality="poor", behavior="scripted-v2").name == "smax-v2-poor.h5"
    assert tasks.dataset_path("smac_corridor", quality="good+poor").name == "smax-v3-good+poor.h5"


def test_missing_backend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(tasks.BACKENDS, "sc2", dataclasses.replace(tasks.BACKENDS["sc2"],
                                                                   requires=("no_such_module_xyz",)))
    with pytest.raises(BackendUnavailableError, match="backend 'sc2' is not installed .*install it with: pip"):
        tasks.make_vector_env("smac_corridor", n_envs=1, seed=0, backend="sc2")


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="n_envs must be >= 1, got 0"):
        tasks.make_vector_env("smac_corridor", n_envs=0, seed=0)
    with pytest.raises(ConfigError, match="backend 'smax' offers obs_mode local, not 'global'"):
        tasks.make_vector_env("smac_corridor", n_envs=1, seed=0, obs_mode="global")
    with pytest.raises(ConfigError, match="family 'atari' must be smac, mamujoco or toy"):
        dataclasses.replace(tasks.get_task("toy_coop"), family="atari")


def test_tasks_command_lists_tasks_and_backends(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["task", "family", "qualities"]
    corridor = next(line for line in lines if line.startswith("smac_corridor "))
    assert "good/medium/poor" in corridor and "smax (available)" in corridor
    assert "sc2 (" in corridor and len(lines) == 1 + len(EXPECTED)


def test_tasks_command_describes_a_task(capsys):
    assert main(["tasks", "--describe", "smac_corridor"]) == 0
    assert capsys.readouterr().out.startswith("smac_corridor: 6 zealots vs 24 zerglings")
    assert main(["tasks", "--describe", "nope"]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_build_dataset_refuses_options_its_builder_does_not_take(tmp_path):
    with pytest.raises(ConfigError) as info:
        tasks.build_dataset("toy_coop", quality="good", episodes=2, seed=0, path=tmp_path / "t.h5",
                            max_episode_steps=10)
    assert str(info.value) == ("option --max-episode-steps (max_episode_steps) does not apply to task 'toy_coop': "
                               "its toy dataset builder takes no options")
    assert not (tmp_path / "t.h5").exists()
    with pytest.raises(ConfigError, match=r"option --bogus \(bogus\) does not apply "
                                          r"to task 'mamujoco_hopper_3x1': its mamujoco dataset builder takes only "
                                          r"behavior_checkpoint, cache_dir, max_episode_steps, n_envs, sac, sac_steps"):
        tasks.build_dataset("mamujoco_hopper_3x1", quality="medium", episodes=1, seed=0, path=tmp_path / "m.h5",
                            bogus=1)


def test_build_dataset_treats_none_options_as_not_given(tmp_path):
    path = tasks.build_dataset("toy_coop", quality="good", episodes=2, seed=0, path=tmp_path / "t.h5",
                               sac_steps=None, behavior_checkpoint=None)
    assert path == tmp_path / "t.h5" and path.is_file()
