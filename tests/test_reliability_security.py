"""Security: nothing is unpickled unless the user says the file is trusted, and a database password never reaches
the screen, the logs, the results, the Optuna attributes or the report.

The loaders are checked in the source (every ``torch.load`` passes ``weights_only=True``; the one pickle reader
is the MADT importer, behind ``trust_pickle``); tests/test_reliability_inputs.py shows both refusals end to end
with a pickle that would run planted code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("omiga", "studies", "analysis", "reports")


def _calls(pattern: str) -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text()
            for match in re.finditer(pattern, text):
                end = text.find("\n", text.find(")", match.end()))
                found.append((str(path.relative_to(ROOT)), text[match.start():end]))
    return found


def test_every_torch_load_is_weights_only_except_the_trusted_madt_reader():
    loads = _calls(r"torch\.load\(")
    assert loads, "the scan found no torch.load at all: is the pattern stale?"
    unsafe = [(path, call) for path, call in loads if "weights_only=True" not in call]
    assert unsafe == [("omiga/data/importers/madt.py",
                       'torch.load(path, map_location="cpu", weights_only=False)')]
    pickles = [(path, call) for path, call in _calls(r"pickle\.loads?\(|np\.load\(|allow_pickle=True")
               if "allow_pickle=False" not in call]
    assert [path for path, _ in pickles] == ["omiga/data/importers/madt.py"]
    numpy_loads = _calls(r"np\.load\(")  # behaviour checkpoints, SAC replay buffers and shipped actions
    assert sorted({path for path, _ in numpy_loads}) == ["omiga/behaviour/checkpoint.py", "omiga/behaviour/sac/shipped.py",
                                                         "omiga/behaviour/sac/train.py", "omiga/commands/behaviour.py"]
    assert all("allow_pickle=False" in call for _, call in numpy_loads), numpy_loads
    source = (ROOT / "omiga/data/importers/madt.py").read_text()
    refusal, reader = source.index("if not trust_pickle:"), source.index("_unpickle(path))")
    assert refusal < reader  # the refusal comes before any file is opened


FAKE_TRAINER = textwrap.dedent('''
    from studies.runner import RunOutcome

    def train(plan, points, *, study_dir, execution=None):
        return [RunOutcome(status="ok", score=1.0 + p.seed, win_rate=None, normalized_score=0.1 * p.seed,
                           steps=plan.steps, run_dir=str(study_dir), curve_path="", member_index=i,
                           config={"seed": p.seed}) for i, p in enumerate(points)]
''')


@pytest.mark.postgres
def test_a_database_password_is_never_printed_or_written(tmp_path: Path):
    url = os.environ.get("OMIGA_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set OMIGA_TEST_POSTGRES_URL=postgresql://USER:PASSWORD@127.0.0.1:5432/DB to run this test")
    password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
    if not password:
        pytest.skip("OMIGA_TEST_POSTGRES_URL has no password to look for")
    from studies.storage import open_storage

    try:
        storage = open_storage(url=url, study_dir=tmp_path)
    except Exception as error:  # noqa: BLE001 - any failure means no usable server
        pytest.skip(f"PostgreSQL is not reachable: {type(error).__name__}")
    (tmp_path / "fake_trainer.py").write_text(FAKE_TRAINER)
    spec = tmp_path / f"sec_{uuid.uuid4().hex[:10]}.toml"
    spec.write_text('[factors]\nmethod = ["omiga", "bc"]\nalpha = [1.0]\nmixer = ["linear"]\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "OMIGA_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "studies", "all", "--task", "toy_coop", "--preset", "smoke",
                           "--study", str(spec), "--workers", "2", "--storage", url, "--results-dir",
                           str(tmp_path / "results"), "--reports-dir", str(tmp_path / "reports"), "--trainer",
                           "fake_trainer:train"], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert ":***@" in done.stdout  # the storage was named, masked
    name = f"{spec.stem}-toy_coop-smoke"
    study = optuna.load_study(study_name=name, storage=storage)
    system_attrs = study._storage.get_study_system_attrs(study._study_id)
    stored = json.dumps([study.user_attrs, system_attrs,
                         [(t.user_attrs, t.system_attrs, t.params) for t in study.get_trials()]], default=str)
    written = sorted(p for d in ("results", "reports") for p in (tmp_path / d).rglob("*") if p.is_file())
    assert any(p.name == "scores.csv" for p in written) and any(p.name == "index.html" for p in written)
    assert "command" in study.user_attrs and len(study.get_trials()) == 4
    leaks = [str(p) for p in written if password.encode() in p.read_bytes()]
    leaks += [stream for stream, text in (("stdout", done.stdout), ("stderr", done.stderr), ("optuna attrs", stored))
              if password in text]
    assert leaks == []
    optuna.delete_study(study_name=name, storage=storage)
