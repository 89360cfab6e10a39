"""Bad input refused up front (issue 19's examples): before any work, with the right cause, nothing stored changed.

Each case names its example: a dataset that does not fit its task (refused by ``omiga train`` before training and
by ``datasets import``), claims validated before ``studies all`` trains, passwords masked in every form, strict
booleans in claims, a damaged journal line, ``--out`` checked before training, resume from another dataset's
checkpoint, ``--out`` equal to the import source, a report write failing half-way, and messages that name the
real cause. Training is detected by replacing ``omiga.train.train_population`` with a recorder.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omiga.cli import main as omiga_main
from omiga.data import OfflineDataset, load_dataset, save_dataset
from omiga.errors import output_error
from omiga.masking import mask_secrets
from omiga.tasks import build_dataset
from reports.cli import main as reports_main
from studies.cli import main as studies_main

SECRET = "Sup3rSecretPW"


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if re.match(r"(python -m reports: )?error: ", line)]


def _one_error(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert len(_errors(captured.err)) == 1, captured.err
    return captured.err


@pytest.fixture
def trained(monkeypatch) -> list[int]:
    """Calls of the trainer (it then trains for real)."""
    import omiga.train

    calls, real = [], omiga.train.train_population
    monkeypatch.setattr(omiga.train, "train_population", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return build_dataset("toy_coop", quality="medium", episodes=4, seed=0, path=tmp_path / "toy.h5")


def _variant(source: Path, path: Path, **changes) -> Path:
    data = load_dataset(source)
    arrays = {**data.arrays(), **changes}
    attrs = data.attrs
    return save_dataset(OfflineDataset.from_arrays(**arrays, task=attrs.task, quality=attrs.quality,
                                                   source=attrs.source, behavior=attrs.behavior, seed=attrs.seed,
                                                   backend=attrs.backend), path)


def _scores_csv(path: Path, *, bonus: float) -> Path:
    """Six toy_coop runs, global_info on and off; global_info scores ``bonus`` more."""
    path.write_text("task,backend,quality,method,alpha,mixer,global_info,seed,steps,score,win_rate,"
                    "normalized_score,status\n" + "".join(
                        f"toy_coop,toy,medium,omiga,1,linear,{g},{s},40,{s + 1 + bonus * (g == 'true'):g},,0.5,ok\n"
                        for g in ("true", "false") for s in range(3)))
    return path


def _train(dataset: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--dataset", str(dataset), "--alpha", "1", "--steps", "2", "--out", str(out), "--no-progress",
            *extra]


# -- a dataset that does not fit its task ------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ("obs", "obs_dim is 9, the environment's is 7"),
    ("avail_actions", "n_actions (avail_actions' width) is 6, the environment's is 5"),
    ("agents", "n_agents is 3, the environment's is 2"),
    ("permuted", "obs columns 5..6 must hold the one-hot agent id"),
])
def test_a_dataset_that_does_not_fit_its_task_is_refused_before_training(change, message, toy, tmp_path, trained,
                                                                        capsys):
    data = load_dataset(toy)
    if change == "obs":
        changes = {"obs": np.concatenate([data.obs, np.zeros((*data.obs.shape[:2], 2), np.float32)], 2)}
    elif change == "avail_actions":
        changes = {"avail_actions": np.concatenate([data.avail_actions, np.ones((*data.obs.shape[:2], 1), bool)], 2)}
    elif change == "agents":
        changes = {name: np.concatenate([value, value[:, :1]], 1)
                   for name, value in (("obs", data.obs), ("actions", data.actions),
                                       ("avail_actions", data.avail_actions))}
    else:
        changes = {"obs": np.ascontiguousarray(data.obs[:, ::-1])}
    bad = _variant(toy, tmp_path / "bad.h5", **changes)
    for extra in ((), ("--no-eval",)):
        assert omiga_main(_train(bad, tmp_path / "out", *extra)) == 2
        err = _one_error(capsys)
        assert f"error: {bad} does not fit task toy_coop (backend toy): {message}" in err
    assert trained == [] and not (tmp_path / "out").exists()
    assert omiga_main(["datasets", "info", str(bad)]) == 1
    assert "validation: INVALID" in capsys.readouterr().out


# -- studies all validates claims before training ----------------------------------------------------------------

@pytest.mark.parametrize(("claim", "message"), [
    ('kind = "robust"\nfactor = "temperature"\nwithin = 0.1', "robust claim factor 'temperature': use one of"),
    ('kind = "improves"\na = { global_info = "false" }\nb = { global_info = true }',
     "claim a.global_info must be true or false, got 'false'"),
    ('kind = "ranks"\norder = [["omiga"], ["bc"]]', "ranks claim order item must be"),
    ('kind = "improves"\na = { alpha = "1" }\nb = { alpha = 3.0 }', "claim a.alpha must be a number, got '1'"),
])
def test_studies_all_refuses_a_bad_claim_before_training(claim, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    spec = tmp_path / "claimed.toml"
    spec.write_text(f'[factors]\nalpha = [1.0, 3.0]\nglobal_info = [true, false]\n[[claims]]\n{claim}\n')
    assert studies_main(["all", "--task", "toy_coop", "--preset", "smoke", "--study", str(spec)]) == 2
    assert f"error: study spec 'claimed': claim 1: {message}" in _one_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claimed.toml"]  # no dataset, no results, no report


def test_a_truthy_string_in_a_reports_claim_is_refused(tmp_path, capsys):
    scores = _scores_csv(tmp_path / "scores.csv", bonus=0)
    claims = tmp_path / "claims.toml"
    claims.write_text('[[claims]]\nkind = "improves"\na = { global_info = "false" }\nb = { global_info = true }\n')
    with pytest.raises(SystemExit) as exited:
        reports_main(["build", "--scores", str(scores), "--claims", str(claims), "--out", str(tmp_path / "r")])
    assert exited.value.code == 2
    assert "claim 1: claim a.global_info must be true or false, got 'false'" in _one_error(capsys)
    assert not (tmp_path / "r").exists()


def test_an_analysis_error_inside_studies_all_is_one_error_and_keeps_the_scores(closed_form_study, capsys):
    argv, study_dir = closed_form_study
    spec = Path("unmatched.toml")
    spec.write_text('[factors]\nglobal_info = [true, false]\n[[claims]]\nkind = "improves"\na = { mixer = "qmix" }\n'
                    'b = { global_info = true }\n')
    assert studies_main(["all", "--task", "toy_coop", "--preset", "smoke", "--study", str(spec), "--trainer",
                         "closed_form_trainer:train"]) == 2
    err = _one_error(capsys)
    assert "error: report of study unmatched-toy_coop-smoke from " in err and "the trained runs and scores are kept" in err
    assert Path("results/unmatched-toy_coop-smoke/scores.csv").is_file()


# -- passwords ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"postgresql://:{SECRET}@127.0.0.1:1/omiga",
    f"postgresql://omiga@127.0.0.1:1/omiga?password={SECRET}",
    f"postgresql://omiga@127.0.0.1:1/omiga?sslmode=disable&password={SECRET}",
    f"postgresql://omiga:{SECRET}@127.0.0.1:notaport/omiga",
], ids=["empty user", "query parameter", "second query parameter", "bad port"])
def test_a_password_is_masked_in_every_form(url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert studies_main(["run", "--task", "toy_coop", "--preset", "smoke", "--storage", url]) == 2
    err = _one_error(capsys)
    assert SECRET not in err and "***" in err


def test_the_masking_function_covers_dsns_dicts_and_environment_variables():
    assert mask_secrets(f"host=db password='{SECRET}' dbname=x") == "host=db password=*** dbname=x"
    assert mask_secrets(f"{{'user': 'u', 'password': '{SECRET}'}}") == "{'user': 'u', 'password': '***'}"
    assert mask_secrets(f"auth failed for {SECRET}", environ={"PGPASSWORD": SECRET}) == "auth failed for ***"
    assert mask_secrets("use postgresql://USER:PASSWORD@HOST/DB") == "use postgresql://USER:PASSWORD@HOST/DB"
    assert mask_secrets("false and 1", environ={"TOKENIZERS_PARALLELISM": "false", "GH_TOKEN": "1"}) == "false and 1"


# -- a damaged journal line --------------------------------------------------------------------------------------

def test_a_damaged_journal_line_names_the_file_and_the_way_out(closed_form_study, capsys):
    argv, study_dir = closed_form_study
    journal = study_dir / "optuna-journal.log"
    assert (study_dir / "optuna-journal.log.bak").read_bytes() == journal.read_bytes()  # the backup kept
    lines = journal.read_bytes().splitlines(keepends=True)
    damaged = b"".join([*lines[:3], b"{garbage\n", *lines[4:]])
    journal.write_bytes(damaged)
    for command in (["export", *argv], ["run", *argv, "--trainer", "closed_form_trainer:train"]):
        assert studies_main(command) == 2
        err = _one_error(capsys)
        assert f"error: study journal {journal.relative_to(Path.cwd())} is damaged at line 4 (not JSON" in err
        assert journal.read_bytes() == damaged  # nothing stored changed
    truncate = re.search(r"`(truncate -s \d+ \S+)`", err)[1]
    restore = re.search(r"`(cp \S+ \S+)`", err)[1]
    subprocess.run(truncate.split(), check=True)
    assert journal.read_bytes() == b"".join(lines[:3])
    subprocess.run(restore.split(), check=True)
    assert studies_main(["export", *argv]) == 0
    assert len(pd.read_csv(study_dir / "scores.csv")) == 4


@pytest.mark.parametrize("fault", ["directory", "record"])
def test_a_misplaced_or_foreign_journal_is_one_error(fault, closed_form_study, capsys):
    argv, study_dir = closed_form_study
    journal = study_dir / "optuna-journal.log"
    if fault == "directory":
        journal.unlink()
        journal.mkdir()
        expected = f"error: {journal.relative_to(Path.cwd())} is a directory, where the study's journal file belongs"
    else:
        journal.write_bytes(journal.read_bytes() + b'{"op_code": 99}\n')
        expected = "is damaged at line"
    assert studies_main(["export", *argv]) == 2
    assert expected in _one_error(capsys)


def test_a_results_dir_that_is_a_file_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    Path("results").write_text("not a directory")
    assert studies_main(["run", "--task", "toy_coop", "--preset", "smoke"]) == 2
    assert "error: --results-dir results is a file, not a directory" in _one_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


# -- omiga train: --out and resume checked before training -------------------------------------------------------

def test_train_refuses_an_out_that_is_a_file_before_training(toy, tmp_path, trained, capsys):
    (tmp_path / "taken").write_text("mine")
    assert omiga_main(_train(toy, tmp_path / "taken")) == 2
    assert "error: --out" in _one_error(capsys) and trained == []
    assert omiga_main(_train(toy, toy)) == 2
    assert "is the input" in _one_error(capsys) and trained == [] and (tmp_path / "taken").read_text() == "mine"


def test_resuming_into_an_out_made_from_another_dataset_is_refused(toy, tmp_path, capsys):
    other = build_dataset("toy_coop", quality="medium", episodes=4, seed=1, path=tmp_path / "other.h5")
    out = tmp_path / "out"
    assert omiga_main(_train(toy, out, "--checkpoint-every", "1", "--no-eval")) == 0
    capsys.readouterr()
    stored = {p.name: p.read_bytes() for p in out.iterdir()}
    assert omiga_main(_train(other, out, "--steps", "4", "--no-eval")) == 2
    err = _one_error(capsys)
    assert f"error: {out / 'checkpoint.pt'} was written by a run on a different dataset" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == stored
    (out / "checkpoint.pt").unlink()  # the result alone also names its dataset
    assert omiga_main(_train(other, out, "--no-eval")) == 2
    assert f"{out / 'result.json'} was written by a run on a different dataset" in _one_error(capsys)
    assert omiga_main(_train(toy, out, "--steps", "3", "--no-eval")) == 0  # its own dataset resumes


def test_import_never_writes_over_its_source(tmp_path, capsys):
    source = tmp_path / "episodes.pkl"
    source.write_bytes(b"pickled episodes")
    for out in (source, tmp_path / "." / "episodes.pkl"):
        assert omiga_main(["datasets", "import", str(source), "--format", "madt", "--task", "toy_coop", "--out",
                           str(out), "--trust-pickle"]) == 2
        assert "is the input" in _one_error(capsys)
    (tmp_path / "link.pkl").symlink_to(source)
    assert omiga_main(["datasets", "import", str(source), "--format", "madt", "--task", "toy_coop", "--out",
                       str(tmp_path / "link.pkl"), "--trust-pickle"]) == 2
    assert "is the input" in _one_error(capsys) and source.read_bytes() == b"pickled episodes"


# -- reports: swapped in whole -----------------------------------------------------------------------------------

def test_a_write_failure_mid_report_leaves_the_old_report_whole(tmp_path, monkeypatch, capsys):
    import reports.build

    scores = _scores_csv(tmp_path / "scores.csv", bonus=1)
    out = tmp_path / "report"
    assert reports_main(["build", "--scores", str(scores), "--out", str(out), "--reps", "10"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    scores.write_text(scores.read_text().replace(",1,linear,true,0,40,2,", ",1,linear,true,0,40,9,"))
    # every table, the claims and the figures are written by the time index.html is, last
    monkeypatch.setattr(reports.build, "write_text_atomic", _failing_on("index.html", reports.build.write_text_atomic))
    with pytest.raises(SystemExit):
        reports_main(["build", "--scores", str(scores), "--out", str(out), "--reps", "10"])
    err = _one_error(capsys)
    assert f"cannot write {out / 'index.html'}: No space left on device; free disk space" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging directory left


def _failing_on(name: str, write):
    from reports.files import ReportWriteError

    def failing(path, text):
        if Path(path).name == name:
            raise ReportWriteError(Path(path), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        return write(path, text)
    return failing


@pytest.mark.parametrize("where", ["scores dir", "home-like dir", "scores file"])
def test_a_report_never_replaces_a_directory_that_is_not_a_report(where, tmp_path, capsys):
    scores = tmp_path / "results" / "scores.csv"
    scores.parent.mkdir()
    scores.write_text("task\n")
    (tmp_path / "home" / "documents").mkdir(parents=True)
    out = {"scores dir": scores.parent, "home-like dir": tmp_path / "home", "scores file": scores}[where]
    with pytest.raises(SystemExit):
        reports_main(["build", "--scores", str(scores), "--out", str(out)])
    assert "--out" in _one_error(capsys)
    assert scores.read_text() == "task\n" and (tmp_path / "home" / "documents").is_dir()


# -- the right cause in every message ----------------------------------------------------------------------------

def test_permission_denied_is_not_called_corrupted(toy, tmp_path, monkeypatch, capsys):
    import omiga.paths

    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    monkeypatch.setattr(omiga.paths, "open", denied, raising=False)
    assert omiga_main(_train(toy, tmp_path / "out")) == 2
    err = _one_error(capsys)
    assert f"error: cannot open dataset file {toy}: Permission denied; give yourself access" in err
    assert "corrupted" not in err


def test_a_directory_is_not_called_missing(tmp_path, capsys):
    assert omiga_main(_train(tmp_path, tmp_path / "out")) == 2
    assert f"error: dataset file {tmp_path} is a directory, not a file: pass the .h5 file" in _one_error(capsys)
    with pytest.raises(SystemExit):
        reports_main(["build", "--scores", str(tmp_path), "--out", str(tmp_path / "r")])
    assert f"scores table {tmp_path} is a directory" in _one_error(capsys)


def test_sqlite_errors_do_not_say_start_postgresql(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("garbage.db").write_bytes(b"not sqlite at all")
    for url, message in (("sqlite:///nodir/x.db", "the directory nodir of the SQLite file does not exist"),
                         ("sqlite:///garbage.db", "garbage.db is not an SQLite database file"),
                         ("sqlite:///results", "results is a directory")):
        Path("results").mkdir(exist_ok=True)
        assert studies_main(["run", "--task", "toy_coop", "--preset", "smoke", "--storage", url]) == 2
        err = _one_error(capsys)
        assert message in err and "postgresql" not in err.lower()


def test_file_exists_is_not_answered_with_free_disk_space():
    message = str(output_error("x.h5", FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST))))
    assert "File exists; something already exists at that path" in message and "disk space" not in message
    message = str(output_error("x.h5", PermissionError(errno.EACCES, os.strerror(errno.EACCES))))
    assert "Permission denied; give yourself access" in message and "disk space" not in message


def test_an_unforeseen_error_is_one_line_naming_the_stage_and_input(toy, tmp_path, monkeypatch, capsys):
    import omiga.train

    def broken(*args, **kwargs):
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor\nmore detail")
    monkeypatch.setattr(omiga.train, "train_population", broken)
    assert omiga_main(_train(toy, tmp_path / "out")) == 1
    err = _one_error(capsys)
    assert err.startswith(f"error: python -m omiga train of {toy} failed with an unexpected RuntimeError: Expected "
                          "size for first two dimensions of batch2 tensor; check that input, and rerun with --debug")
    with pytest.raises(RuntimeError):
        omiga_main(["--debug", *_train(toy, tmp_path / "out")])


@pytest.mark.parametrize("cli", ["omiga", "studies", "reports"])
def test_debug_is_accepted_before_and_after_the_command(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main, argv = {"omiga": (omiga_main, ["train", "--dataset", "none.h5", "--alpha", "1", "--steps", "1", "--out",
                                         "o"]),
                  "studies": (studies_main, ["run", "--task", "nope"]),
                  "reports": (reports_main, ["build", "--scores", "none.csv", "--out", "r"])}[cli]
    for debug in (["--debug", *argv], [argv[0], "--debug", *argv[1:]]):
        with pytest.raises(Exception) as raised:
            main(debug)
        assert not isinstance(raised.value, SystemExit)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_an_unreadable_scores_table_is_not_called_truncated(tmp_path, monkeypatch, capsys):
    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    monkeypatch.setattr(pd, "read_csv", denied)
    scores = _scores_csv(tmp_path / "scores.csv", bonus=0)
    with pytest.raises(SystemExit):
        reports_main(["build", "--scores", str(scores), "--out", str(tmp_path / "r")])
    err = _one_error(capsys)
    assert f"scores table {scores} cannot be opened: Permission denied; make it readable" in err
    assert "truncated" not in err


def test_the_nox_study_session_passes_the_storage_url_by_environment_not_argv():
    """nox logs every command it runs: a --storage URL with a password must not be part of it."""
    from noxfile import _storage_to_env

    url = f"postgresql://omiga:{SECRET}@db/omiga"
    for args in (["--task", "toy_coop", "--storage", url], ["--task", "toy_coop", f"--storage={url}"]):
        kept, env = _storage_to_env(args)
        assert kept == ["--task", "toy_coop"] and env == {"OMIGA_STUDY_STORAGE": url}


def test_a_cached_dataset_that_does_not_fit_is_refused_before_the_study_is_stored(tmp_path, monkeypatch, capsys):
    from studies.plan import resolve_plan
    from studies.presets import load_preset
    from studies.runner import dataset_file
    from studies.spec import load_spec

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    plan = resolve_plan(spec=load_spec("global_info"), preset=load_preset("smoke"), task="toy_coop")
    path = dataset_file(plan, "medium")
    path.parent.mkdir(parents=True)
    toy = build_dataset("toy_coop", quality="medium", episodes=4, seed=0, path=tmp_path / "toy.h5")
    data = load_dataset(toy)
    _variant(toy, path, obs=np.concatenate([data.obs, np.zeros((*data.obs.shape[:2], 2), np.float32)], 2))
    assert studies_main(["run", "--task", "toy_coop", "--preset", "smoke", "--study", "global_info"]) == 2
    assert f"error: {path} does not fit task toy_coop (backend toy): obs_dim is 9" in _one_error(capsys)
    assert not Path("results").exists()
