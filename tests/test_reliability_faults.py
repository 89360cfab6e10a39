"""Faults survived: the database goes away (retry with backoff, said with the password masked, nothing lost), the
disk fills up (a clear error, the previous file intact, no temp files left), and a diverging member is recorded
as diverged with its reason and shown as such in the report.

The outage is injected two ways: into the storage calls (always runs), and as a real PostgreSQL server behind a
TCP proxy on 127.0.0.1, written here with the socket module, that is closed and reopened mid-study (runs where
``OMIGA_TEST_POSTGRES_URL`` points at a server). A full disk is simulated by making the writer raise
``OSError(ENOSPC)`` half-way through (tests run as root, where a read-only chmod does not stop writes).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import sqlalchemy.exc
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState

from omiga.checkpoint import save_checkpoint
from omiga.data import OfflineDataset, load_dataset, make_synthetic_dataset, save_dataset
from omiga.errors import OutputError
from studies.errors import StudyError
from studies.retry import RetryingStorage

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in Path(directory).rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


# -- (c) the database goes away ----------------------------------------------------------------------------------

class _FlakyStorage:
    """Forwards to an in-memory storage, but the next ``failures`` calls raise a lost-connection error."""

    def __init__(self, failures: int) -> None:
        self.inner, self.failures = InMemoryStorage(), failures

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            if self.failures > 0:
                self.failures -= 1
                raise optuna.exceptions.StorageInternalError("commit failed") from sqlalchemy.exc.OperationalError(
                    "SELECT 1", {}, Exception("server closed the connection unexpectedly"))
            return method(*args, **kwargs)
        return call


def test_an_unreachable_database_is_retried_with_backoff_and_said_so():
    flaky, lines, sleeps = _FlakyStorage(failures=0), [], []
    storage = RetryingStorage(flaky, name="postgresql://omiga:***@db:5432/omiga", log=lines.append,
                              sleep=sleeps.append, max_delay_s=4)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"x": 1.0})
    trial = study.ask()
    flaky.failures = 5  # the server goes away for five calls
    study.tell(trial, 3.0)
    assert sleeps == [1, 2, 4, 4, 4]  # exponential backoff, capped
    assert lines[0] == ("storage postgresql://omiga:***@db:5432/omiga unreachable (OperationalError: server closed "
                        "the connection unexpectedly); retry 1 in 1 s (giving up after 600 s)")
    assert lines[-1].startswith("storage postgresql://omiga:***@db:5432/omiga reachable again after ")
    (done,) = study.get_trials(states=(TrialState.COMPLETE,))  # nothing finished is lost
    assert done.value == 3.0


def test_a_database_gone_for_longer_than_the_patience_stops_the_worker_with_the_fix():
    storage = RetryingStorage(_FlakyStorage(failures=10**6), name="postgresql://u:***@h/db", patience_s=0,
                              log=lambda line: None, sleep=lambda s: None)
    with pytest.raises(StudyError, match=r"storage postgresql://u:\*\*\*@h/db has been unreachable for 0 s "
                                         r"\(OperationalError: .*rerun the same command once the database is back"):
        storage.get_all_studies()


def test_other_storage_errors_are_not_retried():
    storage = RetryingStorage(InMemoryStorage(), name="x", sleep=lambda s: pytest.fail("retried"))
    with pytest.raises(KeyError):
        storage.get_study_id_from_name("no such study")


class _TcpProxy:
    """127.0.0.1:port -> target: a proxy that can be closed (every connection cut) and reopened on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.port, self._sockets, self._listener = target_port, 0, [], None
        self._lock = threading.Lock()
        self.start()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port, self._listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        try:  # close() alone leaves a socket that another thread blocks in accept() on still listening
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


SLOW_TRAINER = textwrap.dedent('''
    import os, time
    from pathlib import Path
    from studies.runner import RunOutcome

    def train(plan, points, *, study_dir, execution=None):
        Path(os.environ["RELIABILITY_MARKER"]).touch()  # the test cuts the database while this sleeps
        time.sleep(float(os.environ.get("RELIABILITY_SLEEP", "1")))
        return [RunOutcome(status="ok", score=10.0 * p.seed + (p.alpha or 0.0), win_rate=None,
                           normalized_score=0.0, steps=plan.steps, run_dir=str(study_dir), curve_path="",
                           member_index=i) for i, p in enumerate(points)]
''')


def _unique_spec(tmp_path: Path, base: str = "ablation") -> Path:
    """A copy of a built-in spec under a unique name, so runs sharing the database never meet."""
    from studies.spec import SPEC_DIR

    path = tmp_path / f"rel_{uuid.uuid4().hex[:10]}.toml"
    path.write_text((SPEC_DIR / f"{base}.toml").read_text())
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "slow_trainer.py").write_text(SLOW_TRAINER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "OMIGA_DATA_DIR": str(tmp_path / "data"), "RELIABILITY_MARKER": str(tmp_path / "training"),
            "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
@pytest.mark.postgres
def test_a_postgres_outage_mid_study_is_retried_and_nothing_is_lost(tmp_path: Path, postgres_url: str):
    url = postgres_url
    prefix, rest = url.split("@", 1)
    host_port, database = rest.split("/", 1)
    proxy = _TcpProxy(int(host_port.rsplit(":", 1)[1]) if ":" in host_port else 5432)
    proxied = f"{prefix}@127.0.0.1:{proxy.port}/{database}"
    spec = _unique_spec(tmp_path, "global_info")
    env = {**_env(tmp_path), "RELIABILITY_SLEEP": "2"}
    command = [sys.executable, "-m", "studies", "run", "--task", "toy_coop", "--preset", "smoke", "--study",
               str(spec), "--results-dir", str(tmp_path / "results"), "--trainer", "slow_trainer:train",
               "--storage", proxied, "--heartbeat", "0.5", "--lease", "60"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "training").exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        proxy.stop()  # the database goes away while the population trains ...
        time.sleep(3.5)
        proxy.start()  # ... and comes back on the same address
        out, err = process.communicate(timeout=180)
    finally:
        process.kill()
        proxy.stop()
    assert process.returncode == 0, err
    password = prefix.split("://", 1)[1].partition(":")[2]
    masked = f"{prefix.split('://')[0]}://{prefix.split('://', 1)[1].partition(':')[0]}:***@127.0.0.1:{proxy.port}"
    assert f"storage {masked}" in err and " unreachable (" in err and "; retry 1 in 1 s" in err, err
    assert "reachable again after" in err
    if password:
        assert password not in out + err
    from studies.storage import open_storage

    study = optuna.load_study(study_name=f"{spec.stem}-toy_coop-smoke", storage=open_storage(url=url, study_dir=tmp_path))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == len(study.get_trials()) == 4  # every point finished once, none lost or repeated
    assert len({t.user_attrs["point"] for t in complete}) == 4
    scores = pd.read_csv(tmp_path / "results" / study.study_name / "scores.csv")
    assert len(scores) == 4 and set(scores["status"]) == {"ok"} and scores["score"].notna().all()
    optuna.delete_study(study_name=study.study_name, storage=open_storage(url=url, study_dir=tmp_path))


# -- (b) three workers on one PostgreSQL study -------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.postgres
def test_three_workers_on_one_postgres_study_run_every_point_once(tmp_path: Path, postgres_url: str):
    url = postgres_url
    from studies.grid import enumerate_grid
    from studies.plan import resolve_plan
    from studies.presets import load_preset
    from studies.spec import load_spec
    from studies.storage import open_storage

    spec = _unique_spec(tmp_path)
    env = {**_env(tmp_path), "RELIABILITY_SLEEP": "2"}
    done = subprocess.run([sys.executable, "-m", "studies", "run", "--task", "toy_coop", "--preset", "smoke",
                           "--study", str(spec), "--workers", "3", "--results-dir", str(tmp_path / "results"),
                           "--trainer", "slow_trainer:train", "--storage", url], env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    plan = resolve_plan(spec=load_spec(spec), preset=load_preset("smoke"), task="toy_coop")
    points = enumerate_grid(plan)
    storage = open_storage(url=url, study_dir=tmp_path)
    study = optuna.load_study(study_name=plan.study_name, storage=storage)
    trials = study.get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(trials) == len(complete) == len(points)  # nothing lost, nothing ran twice
    assert sorted(t.user_attrs["point"] for t in complete) == sorted(p.key for p in points)
    assert len({t.user_attrs["worker"] for t in complete}) == 3  # all three workers took part
    assert len(pd.read_csv(tmp_path / "results" / plan.study_name / "scores.csv")) == len(points)
    optuna.delete_study(study_name=plan.study_name, storage=storage)


# -- (d) disk full -------------------------------------------------------------------------------------------------

def _half_then_enospc(self, path, *args, **kwargs):  # stands in for DataFrame.to_parquet / Figure.savefig
    Path(path).write_bytes(b"half a file")
    raise ENOSPC


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    import torch

    path = tmp_path / "run" / "checkpoint.pt"
    save_checkpoint({"step": torch.tensor(1)}, path)
    before = path.read_bytes()

    def full(payload, stream):
        stream.write(b"partial")
        raise ENOSPC
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OutputError, match=r"cannot write .*checkpoint\.pt: No space left on device; free disk space "
                                          r"or choose a writable directory"):
        save_checkpoint({"step": torch.tensor(2)}, path)
    assert path.read_bytes() == before and _no_temp_files(tmp_path)


def test_a_full_disk_while_training_is_one_clear_error(tmp_path: Path, monkeypatch, capsys):
    import torch

    from omiga.cli import main

    data = make_synthetic_dataset(n_episodes=4, episode_length=5, n_agents=2, obs_dim=3, state_dim=4, n_actions=3,
                                  seed=0)
    save_dataset(data, tmp_path / "d.h5")
    monkeypatch.setattr(torch, "save", lambda payload, stream: (stream.write(b"partial"), (_ for _ in ()).throw(ENOSPC)))
    code = main(["train", "--dataset", str(tmp_path / "d.h5"), "--alpha", "1", "--steps", "4", "--checkpoint-every",
                 "2", "--out", str(tmp_path / "out"), "--no-eval", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: cannot write {tmp_path / 'out' / 'checkpoint.pt'}: No space left")
    assert "Traceback" not in err and _no_temp_files(tmp_path) and not (tmp_path / "out" / "checkpoint.pt").exists()


def test_a_full_disk_while_saving_a_dataset_keeps_the_previous_file(tmp_path: Path, monkeypatch):
    old = make_synthetic_dataset(n_episodes=2, episode_length=3, n_agents=2, obs_dim=2, state_dim=2, n_actions=2,
                                 seed=0)
    path = save_dataset(old, tmp_path / "d.h5")
    before = path.read_bytes()
    new = make_synthetic_dataset(n_episodes=3, episode_length=3, n_agents=2, obs_dim=2, state_dim=2, n_actions=2,
                                 seed=1)
    from omiga.data import io

    def fsync(fd):
        raise ENOSPC  # the data reached the temp file; the disk filled before it was safely stored
    monkeypatch.setattr(io.os, "fsync", fsync)
    with pytest.raises(OutputError, match="d.h5: No space left on device"):
        save_dataset(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and _no_temp_files(tmp_path)
    assert len(load_dataset(path)) == len(old)


def test_a_full_disk_while_exporting_scores_is_one_clear_error(closed_form_study: tuple[list[str], Path],
                                                                monkeypatch, capsys):
    from studies.cli import main

    argv, study_dir = closed_form_study
    before = {name: (study_dir / name).read_bytes() for name in ("scores.csv", "scores.parquet")}
    capsys.readouterr()
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _half_then_enospc)
    assert main(["export", *argv]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: cannot write {Path('results/global_info-toy_coop-smoke/scores.parquet')}: No space left "
                   "on device; free disk space or choose a writable directory, then rerun the same command (files "
                   "written before are intact)\n")
    assert {name: (study_dir / name).read_bytes() for name in before} == before and _no_temp_files(study_dir)


def test_a_full_disk_while_writing_a_report_is_one_clear_error(tmp_path: Path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    from reports.cli import main

    rows = [f"toy_coop,toy,medium,{m},{a},{x},{g},{s},40,{1.0 + s + (m == 'bc')},,{0.1 * s},ok"
            for m, a, x, g in (("omiga", 1, "linear", "true"), ("bc", "", "", "")) for s in range(3)]
    scores = tmp_path / "scores.csv"
    scores.write_text("task,backend,quality,method,alpha,mixer,global_info,seed,steps,score,win_rate,"
                      "normalized_score,status\n" + "\n".join(rows) + "\n")
    out = tmp_path / "report"
    assert main(["build", "--scores", str(scores), "--out", str(out), "--reps", "200"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(Figure, "savefig", _half_then_enospc)
    with pytest.raises(SystemExit) as exited:
        main(["build", "--scores", str(scores), "--out", str(out), "--reps", "200"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    assert err.startswith(f"python -m reports: error: cannot write {out / 'interval_estimates.png'}: No space left "
                          "on device; free disk space or pass a writable --out directory")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and _no_temp_files(out)


# -- (e) a member that diverges ------------------------------------------------------------------------------------

def test_a_diverging_member_is_recorded_and_reported_as_diverged(tmp_path: Path, monkeypatch, capsys):
    """Rewards of 1e30 are finite (the validator accepts them) but overflow OMIGA's Q loss; BC ignores rewards."""
    from omiga.tasks import build_dataset
    from studies.cli import main
    from studies.plan import resolve_plan
    from studies.presets import load_preset
    from studies.runner import dataset_file
    from studies.spec import load_spec

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(tmp_path / "data"))
    spec = tmp_path / "diverge.toml"
    spec.write_text('[factors]\nmethod = ["omiga", "bc"]\nalpha = [1.0]\nmixer = ["linear"]\nglobal_info = [true]\n')
    plan = resolve_plan(spec=load_spec(spec), preset=load_preset("smoke"), task="toy_coop")
    path = dataset_file(plan, "medium")
    path.parent.mkdir(parents=True)
    build_dataset("toy_coop", quality="medium", episodes=plan.dataset_episodes, seed=0, path=path)
    data = load_dataset(path)
    arrays = {**data.arrays(), "rewards": np.full_like(data.rewards, 1e30)}
    attrs = data.attrs
    save_dataset(OfflineDataset.from_arrays(**arrays, task=attrs.task, quality=attrs.quality, source=attrs.source,
                                            behavior="rewards of 1e30", seed=attrs.seed, backend=attrs.backend), path)

    assert main(["all", "--task", "toy_coop", "--preset", "smoke", "--study", str(spec), "--reports-dir",
                 "reports"]) == 0
    scores = pd.read_csv(tmp_path / "results" / plan.study_name / "scores.csv")
    omiga_rows, bc_rows = scores[scores["method"] == "omiga"], scores[scores["method"] == "bc"]
    assert list(omiga_rows["status"]) == ["diverged", "diverged"] and omiga_rows["score"].isna().all()
    assert omiga_rows["normalized_score"].isna().all()  # never a silent score
    assert list(bc_rows["status"]) == ["ok", "ok"] and bc_rows["score"].notna().all()
    from studies.session import load_named_study

    study, _ = load_named_study(name=plan.study_name, storage_url=None, results_dir=Path("results"))
    diverged = [t for t in study.get_trials() if t.user_attrs.get("status") == "diverged"]
    assert len(diverged) == 2 and all(t.state == TrialState.FAIL for t in diverged)
    assert all(t.user_attrs["reason"].startswith("non-finite loss at step 1: loss/") for t in diverged)
    result = json.loads(Path(diverged[0].user_attrs["curve_path"]).read_text())
    assert {m["status"] for m in result["members"]} == {"diverged"}
    table = (tmp_path / "reports" / plan.study_name / "table.md").read_text()
    means, iqms = table.split("**Table 2.**")  # mean ± std, then IQM [95% CI] with n in every cell
    (row,) = [line for line in means.splitlines() if line.startswith("| OMIGA")]  # one row per method
    assert [cell.strip() for cell in row.strip("|").split("|")][1:] == ["– (n=0; 2 diverged)"]
    (row,) = [line for line in iqms.splitlines() if line.startswith("| OMIGA")]
    assert [cell.strip() for cell in row.strip("|").split("|")][1:] == ["– n=0; 2 diverged"]
    assert "n=2" in next(line for line in iqms.splitlines() if line.startswith("| BC"))
