"""The bad-input contract as properties: valid datasets, specs, claims and scores tables are mutated at random
(hypothesis) into inputs that are malformed by construction, and every one must give exit status != 0, exactly
one ``error:`` line that is a foreseen, typed error (not the boundary's "unexpected" fallback), no traceback,
and nothing stored changed (every file under the working directory byte-identical, no file or directory added).

The command lines run in-process through their ``main(argv)``; a few subprocess cases check the same through
``python -m``. Examples are derandomised (the same cases on every run) and few per property, to stay fast;
``OMIGA_PROPERTY_EXAMPLES=500`` hunts with that many random ones per property.
"""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import uuid
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_reliability_inputs import _write_raw

from omiga.cli import main as omiga_main
from omiga.data import load_dataset, make_synthetic_dataset, save_dataset
from omiga.tasks import build_dataset
from reports.cli import main as reports_main
from studies.cli import main as studies_main

CLIS = {"omiga": omiga_main, "studies": studies_main, "reports": reports_main}
EXAMPLES = int(os.environ.get("OMIGA_PROPERTY_EXAMPLES", "0"))
"""Set it (e.g. 500) to hunt with that many random examples per property; by default 40, derandomised."""
PROPERTY = settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=not EXAMPLES, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ERROR_LINE = re.compile(r"(python -m reports: )?error: ")


def invoke(cli: str, argv: list[str]) -> tuple[int, str, str]:
    """Run a command line in-process; its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = CLIS[cli](argv)
        except SystemExit as done:  # reports (and argparse) exit
            code = done.code if isinstance(done.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and directory (None) under ``root``."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def assert_refused(cli: str, argv: list[str], root: Path) -> str:
    """The contract; returns the error line."""
    before = snapshot(root)
    code, out, err = invoke(cli, argv)
    assert code != 0, (argv, out, err)
    assert "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if ERROR_LINE.match(line)]
    assert len(errors) == 1, err
    assert "failed with an unexpected" not in err, err  # a foreseen error, with its own message and fix
    assert snapshot(root) == before, f"something stored changed: {err}"
    return errors[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The working directory of every case, with the valid inputs the mutations start from."""
    path = tmp_path_factory.mktemp("properties")
    saved = {key: os.environ.get(key) for key in ("OMIGA_DATA_DIR", "OMIGA_STUDY_STORAGE")}
    os.environ["OMIGA_DATA_DIR"] = str(path / "data")
    os.environ.pop("OMIGA_STUDY_STORAGE", None)
    cwd = Path.cwd()
    os.chdir(path)
    save_dataset(make_synthetic_dataset(n_episodes=3, episode_length=4, n_agents=2, obs_dim=3, state_dim=2,
                                        n_actions=4, seed=5, truncated_fraction=0.0), path / "synthetic.h5")
    build_dataset("toy_coop", quality="medium", episodes=4, seed=0, path=path / "toy.h5")
    yield path
    os.chdir(cwd)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _scratch(root: Path, name: str) -> Path:
    """A fresh input directory under ``root`` (outside the snapshot's scope: it is written before the snapshot)."""
    directory = root / "inputs" / uuid.uuid4().hex[:10]
    directory.mkdir(parents=True)
    return directory / name


# -- datasets --------------------------------------------------------------------------------------------------

def _index(draw, array: np.ndarray) -> tuple[int, ...]:
    return tuple(draw(st.integers(0, n - 1)) for n in array.shape)


def _mutate_schema(draw, arrays: dict, attrs: dict) -> str:
    """One mutation the schema validator must refuse (any dataset)."""
    kind = draw(st.sampled_from(["dtype", "rank", "length", "nonfinite", "action_range", "drop", "schema_version",
                                 "return_stat", "n_episodes", "both_flags", "no_end", "text_attr"]))
    field = draw(st.sampled_from(["obs", "state", "rewards", "terminals", "truncations", "actions", "avail_actions"]))
    if kind == "dtype":
        wrong = {"obs": np.float64, "state": np.float16, "rewards": np.float64, "terminals": np.int8,
                 "truncations": np.float32, "actions": np.float32, "avail_actions": np.int64}[field]
        arrays[field] = arrays[field].astype(wrong)
    elif kind == "rank":
        arrays[field] = arrays[field][..., None] if draw(st.booleans()) or arrays[field].ndim == 1 \
            else arrays[field][..., 0]
    elif kind == "length":
        arrays[field] = arrays[field][: -draw(st.integers(1, 3))]
    elif kind == "nonfinite":
        field = draw(st.sampled_from(["obs", "state", "rewards"]))
        arrays[field][_index(draw, arrays[field])] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif kind == "action_range":
        arrays["actions"][_index(draw, arrays["actions"])] = draw(st.sampled_from([-1, 5, 99, 2**40]))
    elif kind == "drop":
        arrays.pop(draw(st.sampled_from(["obs", "state", "actions", "rewards", "terminals", "truncations"])))
    elif kind == "schema_version":
        attrs["schema_version"] = draw(st.sampled_from([0, 2, 7, -1, 10**6]))
    elif kind == "return_stat":
        key = draw(st.sampled_from(["return_mean", "return_min", "return_max"]))
        attrs[key] = float(attrs[key]) + draw(st.sampled_from([1.0, -3.5, 1e6]))
    elif kind == "n_episodes":
        attrs["n_episodes"] = int(attrs["n_episodes"]) + draw(st.sampled_from([1, 5, -1]))
    elif kind == "both_flags":
        step = draw(st.integers(0, len(arrays["terminals"]) - 1))
        arrays["terminals"][step] = arrays["truncations"][step] = True
    elif kind == "no_end":
        arrays["terminals"][:] = False
        arrays["truncations"][:] = False
    else:
        attrs[draw(st.sampled_from(["task", "quality", "source"]))] = ""
    return f"{kind} {field}"


def _mutate_fit(draw, arrays: dict, attrs: dict) -> str:
    """One mutation that keeps the schema but no longer fits toy_coop's environment."""
    kind = draw(st.sampled_from(["obs_cols", "state_cols", "n_actions", "agents", "permute"]))
    if kind == "obs_cols":
        extra = draw(st.integers(1, 3))
        if draw(st.booleans()):
            arrays["obs"] = np.concatenate([arrays["obs"], np.zeros((*arrays["obs"].shape[:2], extra), np.float32)], 2)
        else:
            arrays["obs"] = np.ascontiguousarray(arrays["obs"][:, :, extra:])
    elif kind == "state_cols":
        arrays["state"] = np.concatenate([arrays["state"], np.ones((len(arrays["state"]), 1), np.float32)], 1)
    elif kind == "n_actions":
        avail = arrays["avail_actions"]
        arrays["avail_actions"] = np.concatenate([avail, np.ones((*avail.shape[:2], 1), bool)], 2)
    elif kind == "agents":
        for name in ("obs", "actions", "avail_actions"):
            arrays[name] = np.concatenate([arrays[name], arrays[name][:, :1]], 1)
    else:
        arrays["obs"] = np.ascontiguousarray(arrays["obs"][:, ::-1])
    return kind


@st.composite
def malformed_datasets(draw) -> tuple[str, dict, dict]:
    base = draw(st.sampled_from(["synthetic", "toy"]))
    data = load_dataset(Path.cwd() / f"{base}.h5")
    arrays = {key: None if value is None else value.copy() for key, value in data.arrays().items()}
    attrs = {key: value for key, value in data.attrs.to_dict().items() if value is not None}
    if base == "toy" and draw(st.booleans()):
        label = _mutate_fit(draw, arrays, attrs)
    else:
        label = _mutate_schema(draw, arrays, attrs)
    return f"{base}: {label}", arrays, attrs


@PROPERTY
@given(case=malformed_datasets())
def test_a_malformed_dataset_is_refused_before_training(root, case):
    _, arrays, attrs = case
    path = _scratch(root, "data.h5")
    _write_raw(path, arrays, attrs)
    assert_refused("omiga", ["train", "--dataset", str(path), "--alpha", "1", "--steps", "2", "--out",
                             str(root / "out"), "--no-eval", "--no-progress"], root)


@settings(PROPERTY, max_examples=EXAMPLES or 15)
@given(case=malformed_datasets())
def test_a_malformed_dataset_is_refused_by_info_and_by_training_with_evaluation(root, case):
    _, arrays, attrs = case
    path = _scratch(root, "data.h5")
    _write_raw(path, arrays, attrs)
    code, _, err = invoke("omiga", ["datasets", "info", str(path)])
    assert code != 0 and "Traceback" not in err
    assert_refused("omiga", ["train", "--dataset", str(path), "--alpha", "1", "--steps", "2", "--out",
                             str(root / "out"), "--no-progress"], root)


# -- specs and claims ------------------------------------------------------------------------------------------

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value == math.inf else "-inf" if value == -math.inf
                                                else repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(document: dict) -> str:
    """A TOML document of scalars, arrays, one [factors] table and [[claims]] tables (enough for specs)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in document.items()
             if not isinstance(value, dict) and key != "claims"]
    for key, value in document.items():
        if isinstance(value, dict):
            lines += [f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in value.items())]
    claims = document.get("claims", [])
    if isinstance(claims, list) and all(isinstance(c, dict) for c in claims):
        for claim in claims:
            lines += ["[[claims]]", *(f"{k} = {_toml_value(v)}" for k, v in claim.items())]
    elif "claims" in document:
        lines.insert(0, f"claims = {_toml_value(claims)}")
    return "\n".join(lines) + "\n"


VALID_CLAIMS = [
    {"kind": "improves", "a": {"global_info": True}, "b": {"global_info": False}, "name": "global info helps"},
    {"kind": "robust", "factor": "alpha", "within": 0.2, "where": {"method": "omiga"}, "metric": "mean"},
    {"kind": "ranks", "order": [True, False], "by": "global_info"},
]
# a value of the wrong type for each claim key: truthy strings, nested lists, tables, numbers for names
WRONG_CLAIM_VALUES: dict[str, list] = {
    "kind": [["improves"], 1, "beats", "", {"k": 1}, True],
    "a": ["global_info", {"global_info": "false"}, {"global_info": 1}, {"alpha": "1"}, {"alpha": [1.0]},
          {"temperature": 1.0}, {"method": ["omiga"]}, {"alpha": True}, [{"global_info": True}]],
    "factor": ["temperature", ["alpha"], 1, True, ""],
    "within": [0, 1.5, "0.1", True, -0.1, [0.1]],
    "where": [{"global_info": "true"}, "omiga", {"mixer": ["linear"]}, {"seed": 1}],
    "order": ["omiga", ["omiga"], [["omiga"], ["bc"]], [{"m": 1}, "bc"], []],
    "by": ["seed", ["method"], 1],
    "metric": ["iqm2", ["iqm"], 1, True],
    "name": [1, ["x"], {"a": 1}, True],
    "task": [1, ["toy_coop"], False],
}


CLAIM_KEYS = {"improves": ["kind", "a", "b", "metric", "name", "task"],
              "robust": ["kind", "factor", "within", "where", "metric", "name", "task"],
              "ranks": ["kind", "order", "by", "where", "metric", "name", "task"]}


@st.composite
def malformed_claims(draw) -> list[dict]:
    claim = dict(draw(st.sampled_from(VALID_CLAIMS)))
    kind = draw(st.sampled_from(["wrong_value", "unknown_key", "missing_key"]))
    if kind == "wrong_value":
        key = draw(st.sampled_from(CLAIM_KEYS[claim["kind"]]))
        claim[key] = draw(st.sampled_from(WRONG_CLAIM_VALUES["a" if key == "b" else key]))
    elif kind == "unknown_key":
        claim[draw(st.sampled_from(["temperature", "seeds", "alpha", "Kind", "within_"]))] = 1
    else:
        required = {"improves": ["kind", "a", "b"], "robust": ["kind", "factor", "within"],
                    "ranks": ["kind", "order"]}[claim["kind"]]
        claim.pop(draw(st.sampled_from(required)))
    others = draw(st.lists(st.sampled_from(VALID_CLAIMS), max_size=2))
    position = draw(st.integers(0, len(others)))
    return [*others[:position], claim, *others[position:]]


VALID_SPEC = {"description": "a valid spec", "tasks": ["toy_coop"],
              "factors": {"method": ["omiga"], "alpha": [1.0, 3.0], "mixer": ["linear"], "global_info": [True, False]},
              "seeds": 2, "steps": 40, "eval_episodes": 2, "batch_size": 16}
WRONG_SPEC_VALUES: dict[str, list] = {
    "description": [1, ["x"], {"a": 1}, False],
    "tasks": ["toy_coop", [1], [["toy_coop"]], ["smac_nope"], [{"t": 1}]],
    "qualities": ["medium", [1], [["medium"]], [True]],
    "seeds": [0, -1, "2", 2.5, True, [2], {"n": 2}],
    "steps": [0, -5, "40", 1.5, False, [40]],
    "eval_episodes": [0, "2", 2.0, True],
    "batch_size": [0, -16, "16", 16.0, [16]],
    "name": ["other", 1, ["x"]],
    "factors.method": ["omiga", [], ["omiga", "omiga"], [1], ["ppo"], [["omiga"]], [True], "bc"],
    "factors.alpha": [[0.0], [-1.0], ["1"], [True], [[1.0]], [math.nan], [math.inf], 1.0, [], [1.0, 1.0],
                      [{"a": 1}]],
    "factors.mixer": [["attention"], [1], [["linear"]], "linear", [False]],
    "factors.global_info": [["false"], [1], [0], [[True]], "true", ["yes"], [1.0], [True, True]],
    "factors.temperature": [[1.0]],
    "factors": [[1], "alpha", 3],
    "unknown": [1, "x"],
}


@st.composite
def malformed_specs(draw) -> dict:
    spec = {key: (dict(value) if isinstance(value, dict) else value) for key, value in VALID_SPEC.items()}
    if draw(st.booleans()):
        spec["claims"] = draw(malformed_claims())
        return spec
    key = draw(st.sampled_from(sorted(WRONG_SPEC_VALUES)))
    value = draw(st.sampled_from(WRONG_SPEC_VALUES[key]))
    if key.startswith("factors."):
        spec["factors"][key.split(".", 1)[1]] = value
    else:
        spec[key] = value
    spec["claims"] = draw(st.lists(st.sampled_from(VALID_CLAIMS), max_size=2))
    return spec


@PROPERTY
@given(spec=malformed_specs(), command=st.sampled_from(["run", "all"]))
def test_a_malformed_spec_is_refused_before_any_work(root, spec, command):
    path = _scratch(root, "spec.toml")
    path.write_text(to_toml(spec))
    assert_refused("studies", [command, "--task", "toy_coop", "--preset", "smoke", "--study", str(path),
                               "--results-dir", str(root / "results")], root)


# -- scores tables -----------------------------------------------------------------------------------------------

def valid_scores() -> pd.DataFrame:
    rows = []
    for method, alpha, mixer, global_info in (("omiga", "1", "linear", "true"), ("omiga", "1", "linear", "false"),
                                              ("omiga", "3", "linear", "true"), ("bc", "", "", "")):
        for seed in range(3):
            score = 1.0 + seed + (method == "omiga") + (global_info == "true")
            rows.append({"task": "toy_coop", "backend": "toy", "quality": "medium", "method": method,
                         "alpha": alpha, "mixer": mixer, "global_info": global_info, "seed": str(seed),
                         "steps": "40", "score": f"{score:g}", "win_rate": "", "normalized_score": f"{score / 8:g}",
                         "status": "ok"})
    return pd.DataFrame(rows, dtype="string")


NOT_A_NUMBER = ["high", "abc", "1.2.3", "--", "true", "one", "1 2", "0x"]


@st.composite
def malformed_scores(draw) -> pd.DataFrame:
    table = valid_scores()
    row = draw(st.integers(0, len(table) - 1))
    kind = draw(st.sampled_from(["drop_column", "not_a_number", "status", "ok_without_score", "bool", "duplicate",
                                 "two_backends", "blank_text", "blank_seed", "no_ok", "no_rows"]))
    if kind == "drop_column":
        table = table.drop(columns=draw(st.sampled_from(list(table.columns))))
    elif kind == "not_a_number":
        column = draw(st.sampled_from(["alpha", "seed", "steps", "score", "win_rate", "normalized_score"]))
        table.loc[row, column] = draw(st.sampled_from(NOT_A_NUMBER))
    elif kind == "status":
        table.loc[row, "status"] = draw(st.sampled_from(["crashed", "OK?", "running", "done", "1"]))
    elif kind == "ok_without_score":
        table.loc[row, draw(st.sampled_from(["score", "normalized_score"]))] = draw(st.sampled_from(["", "inf",
                                                                                                     "-inf", "nan"]))
    elif kind == "bool":
        table.loc[row, "global_info"] = draw(st.sampled_from(["maybe", "2", "truthy", "-1", "on?"]))
    elif kind == "duplicate":
        table = pd.concat([table, table.iloc[[row]]], ignore_index=True)
    elif kind == "two_backends":
        table.loc[row, "backend"] = "smax"
    elif kind == "blank_text":
        table.loc[row, draw(st.sampled_from(["task", "backend", "quality", "method", "status"]))] = ""
    elif kind == "blank_seed":
        table.loc[row, draw(st.sampled_from(["seed", "steps"]))] = ""
    elif kind == "no_ok":
        table["status"] = draw(st.sampled_from(["diverged", "failed"]))
        table["score"] = ""
    else:
        table = table.iloc[:0]
    return table


@PROPERTY
@given(table=malformed_scores(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_a_malformed_scores_table_is_refused_before_any_report_is_written(root, table, suffix):
    path = _scratch(root, f"scores{suffix}")
    if suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
    assert_refused("reports", ["build", "--scores", str(path), "--out", str(root / "report"), "--reps", "10"],
                   root)


@PROPERTY
@given(claims=malformed_claims())
def test_a_malformed_claims_file_is_refused_before_any_report_is_written(root, claims):
    scores = _scratch(root, "scores.csv")
    valid_scores().to_csv(scores, index=False)
    path = scores.with_name("claims.toml")
    path.write_text(to_toml({"claims": claims}))
    line = assert_refused("reports", ["build", "--scores", str(scores), "--claims", str(path), "--out",
                                      str(root / "report"), "--reps", "10"], root)
    assert "claim" in line


def test_the_valid_inputs_the_mutations_start_from_are_accepted(root, tmp_path):
    """Without this, every property above could pass on inputs that are refused for a reason of their own."""
    spec = tmp_path / "spec.toml"
    spec.write_text(to_toml({**VALID_SPEC, "claims": VALID_CLAIMS}))
    from studies.spec import load_spec

    assert len(load_spec(spec).claims) == 3
    scores = tmp_path / "scores.csv"
    valid_scores().to_csv(scores, index=False)
    claims = tmp_path / "claims.toml"
    claims.write_text(to_toml({"claims": VALID_CLAIMS}))
    code, out, err = invoke("reports", ["build", "--scores", str(scores), "--claims", str(claims), "--out",
                                        str(tmp_path / "report"), "--reps", "10"])
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "report" / "claims.csv")) == 3
    for name in ("synthetic.h5", "toy.h5"):
        code, out, err = invoke("omiga", ["train", "--dataset", str(root / name), "--alpha", "1", "--steps", "1",
                                          "--out", str(tmp_path / name), "--no-eval", "--no-progress"])
        assert code == 0, err


# -- command-line options -----------------------------------------------------------------------------------------

INVALID_OPTIONS: dict[str, dict[str, list[str]]] = {
    "omiga": {
        "--steps": ["0", "-1", "x", "1e3", "200000000"], "--batch-size": ["0", "-3", "1000000"],
        "--lr": ["0", "-1", "nan", "x"], "--gamma": ["1.5", "-0.1", "nan"], "--tau": ["0", "2", "nan"],
        "--hidden": ["0", "-1", "100000"], "--eval-episodes": ["0", "20000"], "--checkpoint-every": ["-1"],
        "--eval-every": ["-1"], "--threads": ["0", "-2"], "--alpha": ["0", "-1", "nan", "inf", "x"],
        "--seeds": ["", "x", "1,1", "5-1", "0-100000", "a-b"], "--mixer": ["attention", ""], "--method": ["ppo", ""],
        "--method-option": ["x", "alpha", "alpha=x", "=1", "temperature=1"], "--device": ["tpu", "cuda:x"],
        "--matmul-precision": ["float16"], "--dataset": ["nowhere.h5", ".", "inputs"], "--out": ["toy.h5"],
    },
    "studies": {
        "--steps": ["0", "-1", "x", "1000000000"], "--seeds": ["0", "-2", "x", "10000000"],
        "--workers": ["0", "x", "100000"], "--batch-size": ["0", "10000000"], "--eval-episodes": ["0", "100000"],
        "--lease": ["-1", "nan", "1"], "--heartbeat": ["0", "-1", "nan"], "--storage-patience": ["-1", "nan"],
        "--qualities": [",", "expert"], "--task": [",", "nope", ""], "--preset": ["tiny", ""],
        "--study": ["nope", "x.toml", "inputs"], "--backend": ["nope", "sc2"],
        "--storage": ["x", "postgres2://h/db", "sqlite://", "sqlite:///nodir/x.db", "postgresql://u:p@h:port/d"],
        "--trainer": ["nope:x", "os:path", "x"], "--device": ["tpu"], "--results-dir": ["toy.h5"],
    },
    "reports": {
        "--reps": ["0", "9", "x", "1000000000"], "--seed": ["-1", "x", str(2**40)],
        "--claims": ["nowhere.toml", "inputs", "toy.h5"], "--out": ["toy.h5", "."], "--scores": ["toy.h5", "."],
    },
}


@PROPERTY
@given(cli=st.sampled_from(sorted(INVALID_OPTIONS)), data=st.data())
def test_an_invalid_option_value_is_refused_before_any_work(root, cli, data):
    option = data.draw(st.sampled_from(sorted(INVALID_OPTIONS[cli])))
    value = data.draw(st.sampled_from(INVALID_OPTIONS[cli][option]))
    (root / "inputs").mkdir(exist_ok=True)
    scores = root / "inputs" / "valid_scores.csv"
    if not scores.exists():
        valid_scores().to_csv(scores, index=False)
    base = {"omiga": ["train", "--dataset", "toy.h5", "--alpha", "1", "--steps", "1", "--out", "out", "--no-progress",
                      "--no-eval"],
            "studies": ["run", "--task", "toy_coop", "--preset", "smoke", "--results-dir", "results"],
            "reports": ["build", "--scores", str(scores), "--out", "report", "--reps", "10"]}[cli]
    assert_refused(cli, [*base, f"{option}={value}" if value.startswith("-") else option, *([] if value.startswith(
        "-") else [value])], root)


# -- through python -m ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("module", "argv"), [
    ("omiga", ["train", "--dataset", "{root}/bad.h5", "--alpha", "1", "--steps", "2", "--out", "{root}/o"]),
    ("studies", ["run", "--task", "toy_coop", "--preset", "smoke", "--study", "{root}/bad.toml"]),
    ("reports", ["build", "--scores", "{root}/bad.csv", "--out", "{root}/r"]),
], ids=["omiga", "studies", "reports"])
def test_the_contract_holds_through_python_m(module, argv, tmp_path):
    data = load_dataset(_toy_file(tmp_path))
    arrays = {k: v for k, v in data.arrays().items() if v is not None}
    arrays["obs"] = np.concatenate([arrays["obs"], np.zeros((*arrays["obs"].shape[:2], 2), np.float32)], 2)
    _write_raw(tmp_path / "bad.h5", arrays, {k: v for k, v in data.attrs.to_dict().items() if v is not None})
    (tmp_path / "bad.toml").write_text('[factors]\nglobal_info = ["false"]\n')
    table = valid_scores()
    table.loc[0, "global_info"] = "maybe"
    table.to_csv(tmp_path / "bad.csv", index=False)
    before = snapshot(tmp_path)
    done = subprocess.run([sys.executable, "-m", module, *[a.format(root=tmp_path) for a in argv]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "OMIGA_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert len([line for line in done.stderr.splitlines() if ERROR_LINE.match(line)]) == 1, done.stderr
    assert snapshot(tmp_path) == before


def _toy_file(directory: Path) -> Path:
    return build_dataset("toy_coop", quality="medium", episodes=3, seed=0, path=directory / "toy.h5")

