"""Bad input, end to end through the command lines a user types: one clear message, exit 2, no traceback.

Each row is (id, CLI, argv, exit code, message fragment). The CLIs run in-process through their ``main(argv)``
(``python -m omiga``, ``python -m studies``, ``python -m reports build``); the malformed files are written once
into a shared directory by :func:`make_inputs`, and every argv runs with that directory as the working directory.
Every row checks: the exit code, exactly one ``error:`` line carrying the fragment (which names the problem and,
where the code offers one, the fix), and no ``Traceback``. ``--debug`` rows check that the traceback comes back.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from omiga.cli import main as omiga_main
from omiga.data import make_synthetic_dataset, save_dataset
from reports.cli import main as reports_main
from studies.cli import main as studies_main

CLIS = {"omiga": omiga_main, "studies": studies_main, "reports": reports_main}
PASSWORD = "hunter2-secret"
SCORE_HEADER = "task,backend,quality,method,alpha,mixer,global_info,seed,steps,score,win_rate,normalized_score,status"


class _Payload:
    """Unpickling this object runs ``Path.touch(marker)``: the stand-in for code an attacker plants in a pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _write_raw(path: Path, arrays: dict, attrs: dict) -> None:
    """An HDF5 file in the canonical layout, written without validation (so it can be wrong on purpose)."""
    with h5py.File(path, "w") as file:
        for name, array in arrays.items():
            if array is not None:
                file.create_dataset(name, data=array)
        for key, value in attrs.items():
            if value is not None:
                file.attrs[key] = value


def _mutated(root: Path, name: str, mutate, *, discrete: bool = True) -> None:
    data = make_synthetic_dataset(n_episodes=3, episode_length=4, n_agents=2, obs_dim=3, state_dim=2, seed=5,
                                  truncated_fraction=0.0, **({"n_actions": 4} if discrete else {"act_dim": 2}))
    arrays = {key: None if value is None else value.copy() for key, value in data.arrays().items()}
    attrs = data.attrs.to_dict()
    mutate(arrays, attrs)
    _write_raw(root / name, arrays, attrs)


def _spec(root: Path, name: str, text: str) -> None:
    (root / f"{name}.toml").write_text(text)


def make_inputs(root: Path) -> None:
    """Every malformed file the table refers to, plus a valid dataset ``good.h5``."""
    good = make_synthetic_dataset(n_episodes=6, episode_length=8, min_episode_length=3, n_agents=3, obs_dim=4,
                                  state_dim=6, n_actions=5, seed=0)
    save_dataset(good, root / "good.h5")
    data = (root / "good.h5").read_bytes()
    (root / "truncated.h5").write_bytes(data[: len(data) // 2])
    corrupted = bytearray(data)
    for i in range(len(corrupted) // 2, len(corrupted) - 64, 7):
        corrupted[i] ^= 0xFF
    (root / "corrupted.h5").write_bytes(bytes(corrupted))
    (root / "text.h5").write_text("obs,state\n1,2\n")

    def pop(field):
        return lambda a, t: a.pop(field)

    def put(field, index, value):
        return lambda a, t: a[field].__setitem__(index, value)

    def retype(field, dtype):
        return lambda a, t: a.__setitem__(field, a[field].astype(dtype))

    def trailing(a, t):
        for key in a:
            a[key] = np.concatenate([a[key], a[key][:2]])
        a["terminals"][-2:] = False

    def empty(a, t):
        for key in a:
            a[key] = a[key][:0]

    _mutated(root, "obs_rank.h5", lambda a, t: a.__setitem__("obs", a["obs"][:, 0]))
    _mutated(root, "rewards_float64.h5", retype("rewards", np.float64))
    _mutated(root, "actions_float.h5", retype("actions", np.float32))
    _mutated(root, "short_state.h5", lambda a, t: a.__setitem__("state", a["state"][:-1]))
    _mutated(root, "agents_mismatch.h5", lambda a, t: a.__setitem__("actions", a["actions"][:, :1]))
    _mutated(root, "nan_rewards.h5", put("rewards", 2, np.nan))
    _mutated(root, "inf_obs.h5", put("obs", (1, 0, 2), np.inf))
    _mutated(root, "never_ends.h5", lambda a, t: (a["terminals"].fill(False), a["truncations"].fill(False)))
    _mutated(root, "trailing.h5", trailing)
    _mutated(root, "masked_action.h5", lambda a, t: a["avail_actions"].__setitem__(
        (5, 1, a["actions"][5, 1]), False))
    _mutated(root, "action_range.h5", put("actions", (0, 0), 9))
    _mutated(root, "no_terminals.h5", pop("terminals"))
    _mutated(root, "schema_v7.h5", lambda a, t: t.update(schema_version=7))
    _mutated(root, "empty.h5", empty)
    _mutated(root, "stale_attrs.h5", lambda a, t: a["rewards"].__setitem__(0, a["rewards"][0] + 5.0))
    _mutated(root, "both_flags.h5", lambda a, t: a["truncations"].__setitem__(3, True))
    _mutated(root, "continuous_range.h5", put("actions", (0, 0, 1), 3.0), discrete=False)

    (root / "ck_garbage").mkdir()
    (root / "ck_garbage" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (root / "ck_pickle").mkdir()
    torch.save({"trainer": _Payload(root / "PWNED-checkpoint")}, root / "ck_pickle" / "checkpoint.pt")
    (root / "madt").mkdir()
    with open(root / "madt" / "episode_0.pkl", "wb") as handle:
        pickle.dump(_Payload(root / "PWNED-madt"), handle)
    with h5py.File(root / "not_omiga.h5", "w") as file:
        file.create_dataset("o", data=np.zeros((4, 2, 3), np.float32))

    _spec(root, "bad_toml", "description = 'x'\n[factors\nalpha = [1.0]\n")
    _spec(root, "bad_mixer", "[factors]\nmixer = ['attention']\n")
    _spec(root, "empty_grid", "[factors]\nalpha = []\n")
    _spec(root, "alpha_zero", "[factors]\nalpha = [0.0, 1.0]\n")
    _spec(root, "alpha_negative", "[factors]\nalpha = [-3.0]\n")
    _spec(root, "bad_key", "[factors]\nalpha = [1.0]\nlearning_rate = [0.1]\n")
    _spec(root, "bad_global_info", "[factors]\nglobal_info = ['yes']\n")
    _spec(root, "seeds_zero", "seeds = 0\n")
    _spec(root, "bad_task", "tasks = ['smac_nope']\n")
    _spec(root, "claim_no_kind", "[[claims]]\nfactor = 'alpha'\n")
    _spec(root, "renamed", "name = 'other'\n")
    _spec(root, "bad_method", "[factors]\nmethod = ['ppo']\n")

    ok_row = "toy_coop,toy,medium,omiga,1,linear,true,{seed},40,{score},,0.5,ok"
    rows = [ok_row.format(seed=s, score=1.0 + s) for s in range(3)]
    (root / "no_status.csv").write_text(SCORE_HEADER.rsplit(",", 1)[0] + "\n" + "\n".join(
        r.rsplit(",", 1)[0] for r in rows) + "\n")
    (root / "garbage.csv").write_bytes(b"\x00\xff\xfe\x89PNG garbage")
    (root / "zero_bytes.csv").write_bytes(b"")
    (root / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    (root / "scores.txt").write_text(SCORE_HEADER + "\n" + rows[0] + "\n")
    (root / "header_only.csv").write_text(SCORE_HEADER + "\n")
    (root / "bad_status.csv").write_text(SCORE_HEADER + "\n" + rows[0].replace(",ok", ",crashed") + "\n")
    (root / "ok_no_score.csv").write_text(SCORE_HEADER + "\n" + rows[0].replace(",1.0,", ",,") + "\n")
    (root / "text_score.csv").write_text(SCORE_HEADER + "\n" + rows[0].replace(",1.0,", ",high,") + "\n")
    (root / "two_backends.csv").write_text(SCORE_HEADER + "\n" + rows[0] + "\n" + rows[1].replace(",toy,", ",smax,")
                                           + "\n")
    (root / "duplicate.csv").write_text(SCORE_HEADER + "\n" + rows[0] + "\n" + rows[0] + "\n")
    (root / "bad_bool.csv").write_text(SCORE_HEADER + "\n" + rows[0].replace(",true,", ",maybe,") + "\n")
    (root / "all_diverged.csv").write_text(SCORE_HEADER + "\n" + rows[0].replace(",1.0,", ",,").replace(
        ",0.5,ok", ",,diverged") + "\n")
    (root / "good_scores.csv").write_text(SCORE_HEADER + "\n" + "\n".join(rows) + "\n")
    (root / "claims_bad_kind.toml").write_text("[[claims]]\nkind = 'outperforms'\n")
    (root / "claims_bad_toml.toml").write_text("[[claims]\nkind = 'ranks'\n")
    (root / "claims_none.toml").write_text("title = 'no claims here'\n")
    (root / "claims_bad_field.toml").write_text("[[claims]]\nkind = 'robust'\nfactor = 'temperature'\nwithin = 0.1\n")


TRAIN = ["train", "--steps", "2", "--out", "out", "--no-eval", "--no-progress"]


def _train(dataset: str, *extra: str) -> list[str]:
    return [*TRAIN, "--dataset", dataset, *(extra or ("--alpha", "1"))]


_RUN = ["run", "--task", "toy_coop", "--preset", "smoke"]
_REPORT = ["build", "--out", "report"]

# (id, cli, argv, exit code, message fragment)
CASES: list[tuple[str, str, list[str], int, str]] = [
    # datasets: unreadable files
    ("missing dataset file", "omiga", _train("nowhere.h5"), 2, "no dataset file at nowhere.h5: check the path, or build"),
    ("truncated HDF5", "omiga", _train("truncated.h5"), 2,
     "truncated.h5 is not a readable HDF5 dataset (truncated, corrupted"),
    ("corrupted HDF5", "omiga", _train("corrupted.h5"), 2,
     "corrupted.h5 is not a readable HDF5 dataset (truncated, corrupted"),
    ("text file named .h5", "omiga", _train("text.h5"), 2, "text.h5 is not a readable HDF5 dataset"),
    ("info of a truncated file", "omiga", ["datasets", "info", "truncated.h5"], 2,
     "truncated.h5 is not a readable HDF5 dataset"),
    # datasets: schema violations
    ("wrong rank", "omiga", _train("obs_rank.h5"), 2, "field 'obs' has rank 2 (shape (12, 3)), expected rank 3"),
    ("wrong reward dtype", "omiga", _train("rewards_float64.h5"), 2,
     "field 'rewards' has dtype float64, expected float32: convert it with .astype(np.float32)"),
    ("float discrete actions", "omiga", _train("actions_float.h5"), 2,
     "field 'actions' has dtype float32, expected int64: convert it with .astype(np.int64)"),
    ("fields of unequal length", "omiga", _train("short_state.h5"), 2,
     "field 'state' has 11 steps but 'rewards' has 12: every field needs the same T"),
    ("agent count mismatch", "omiga", _train("agents_mismatch.h5"), 2,
     "field 'actions' has 1 agents (shape (12, 1)) but 'obs' has 2"),
    ("NaN reward", "omiga", _train("nan_rewards.h5"), 2,
     "field 'rewards' has 1 NaN/inf values, the first at index [2] (value nan): drop or repair those steps"),
    ("inf observation", "omiga", _train("inf_obs.h5"), 2, "field 'obs' has 1 NaN/inf values, the first at index [1, 0, 2]"),
    ("episodes never end", "omiga", _train("never_ends.h5"), 2,
     "episodes never end: no step of 12 has terminals or truncations set; mark the last step"),
    ("steps after the last end", "omiga", _train("trailing.h5"), 2,
     "steps 12..13 come after the last episode end (step 11)"),
    ("action outside the available mask", "omiga", _train("masked_action.h5"), 2,
     "actions are unavailable under avail_actions, the first at step 5, agent 1"),
    ("action id out of range", "omiga", _train("action_range.h5"), 2,
     "discrete action ids must lie in 0..3: 1 out of range, the first actions[0, 0] = 9"),
    ("missing field", "omiga", _train("no_terminals.h5"), 2, "missing dataset 'terminals': every dataset needs"),
    ("unknown schema version", "omiga", _train("schema_v7.h5"), 2,
     "unknown schema_version 7: this omiga reads schema_version 1"),
    ("empty dataset", "omiga", _train("empty.h5"), 2, "the dataset has no steps (T = 0)"),
    ("stale return statistics", "omiga", _train("stale_attrs.h5"), 2, "the attributes are stale; rebuild or re-import"),
    ("terminal and truncated at once", "omiga", _train("both_flags.h5"), 2,
     "step 3 has both terminals and truncations set (1 such steps)"),
    ("continuous action outside [-1, 1]", "omiga", _train("continuous_range.h5"), 2,
     "continuous actions must lie in [-1, 1]: 1 values outside, the first actions[0, 0, 1] = 3"),
    # training options
    ("unknown mixer", "omiga", _train("good.h5", "--alpha", "1", "--mixer", "attention"), 2,
     "unknown mixer 'attention'; known mixers: linear, qmix, vdn"),
    ("alpha zero", "omiga", _train("good.h5", "--alpha", "0"), 2, "MemberConfig.alpha must be a finite number > 0, got 0.0"),
    ("alpha negative", "omiga", _train("good.h5", "--alpha", "1", "-2"), 2,
     "MemberConfig.alpha must be a finite number > 0, got -2.0"),
    ("alpha NaN", "omiga", _train("good.h5", "--alpha", "nan"), 2, "MemberConfig.alpha must be a finite number > 0, got nan"),
    ("unknown method", "omiga", _train("good.h5", "--alpha", "1", "--method", "ppo"), 2,
     "unknown method 'ppo'; known methods: bc, bcq, cql, icq, omar, omiga"),
    ("method option for the other action kind", "omiga",
     _train("good.h5", "--alpha", "1", "--method", "bcq", "--method-option", "phi=0.1"), 2,
     ("method 'bcq' option 'phi' acts on continuous actions only, but the dataset's actions are discrete: drop it "
      "(its discrete-only options: threshold)")),
    ("zero steps", "omiga", [*_train("good.h5"), "--steps", "0"], 2, "TrainConfig.steps must be an integer >= 1, got 0"),
    ("gamma above 1", "omiga", _train("good.h5", "--alpha", "1", "--gamma", "1.5"), 2,
     "TrainConfig.gamma must lie in [0, 1], got 1.5"),
    ("malformed seeds", "omiga", _train("good.h5", "--alpha", "1", "--seeds", "0,x"), 2,
     "--seeds must be distinct integers like 0,1,2 or a range 0-4, got '0,x'"),
    ("malformed method option", "omiga", _train("good.h5", "--alpha", "1", "--method-option", "cql_alpha"), 2,
     "--method-option must look like NAME=NUMBER"),
    ("zero threads", "omiga", _train("good.h5", "--alpha", "1", "--threads", "0"), 2, "--threads must be >= 1, got 0"),
    ("garbage checkpoint", "omiga", [*_train("good.h5"), "--out", "ck_garbage"], 2,
     "cannot read checkpoint ck_garbage/checkpoint.pt (UnpicklingError"),
    ("checkpoint holding pickled code", "omiga", [*_train("good.h5"), "--out", "ck_pickle"], 2,
     "refused: checkpoints load with weights_only=True); delete it to start the run afresh"),
    # datasets import / build / tasks
    ("pickled dataset without --trust-pickle", "omiga",
     ["datasets", "import", "madt", "--format", "madt", "--task", "smac_corridor", "--out", "m.h5"], 2,
     "refusing to read MADT episode files from madt: they are Python pickles"),
    ("import into an unknown task", "omiga",
     ["datasets", "import", "not_omiga.h5", "--format", "omiga-hdf5", "--task", "halfcheetah", "--out", "x.h5"], 2,
     "unknown task 'halfcheetah'; known tasks: "),
    ("foreign file without its keys", "omiga",
     ["datasets", "import", "not_omiga.h5", "--format", "omiga-hdf5", "--task", "mamujoco_hopper_3x1", "--out",
      "x.h5"], 2, "not_omiga.h5 lacks the OMIGA keys s, a, r, d (expected s, o, a, r, d)"),
    ("unknown dataset quality", "omiga",
     ["datasets", "build", "--task", "toy_coop", "--quality", "awful", "--out", "x.h5"], 2,
     "unknown quality 'awful'; known qualities of task toy_coop: good, medium, poor"),
    ("zero episodes", "omiga",
     ["datasets", "build", "--task", "toy_coop", "--quality", "medium", "--episodes", "0", "--out", "x.h5"], 2,
     "episodes must be >= 1, got 0"),
    ("describe an unknown task", "omiga", ["tasks", "--describe", "smac_3m"], 2, "unknown task 'smac_3m'; known tasks: "),
    # studies: specs, presets, options
    ("unknown task", "studies", ["run", "--task", "smac_3m"], 2, "unknown task 'smac_3m'; known tasks: "),
    ("unknown study", "studies", [*_RUN, "--study", "abalation"], 2,
     "unknown study 'abalation'; built-in studies: ablation, alpha, baselines, coverage, factorisation, global_info, headline, mixer, scaling"),
    ("missing spec file", "studies", [*_RUN, "--study", "mine.toml"], 2,
     "study spec file mine.toml does not exist; give an existing .toml file"),
    ("malformed TOML spec", "studies", [*_RUN, "--study", "bad_toml.toml"], 2,
     "study spec bad_toml.toml: invalid TOML (Expected ']' at the end of a table declaration"),
    ("unknown mixer in a spec", "studies", [*_RUN, "--study", "bad_mixer.toml"], 2,
     "unknown mixer 'attention'; known mixers: linear, qmix, vdn"),
    ("unknown method in a spec", "studies", [*_RUN, "--study", "bad_method.toml"], 2,
     "unknown method 'ppo'; known methods: "),
    ("empty grid", "studies", [*_RUN, "--study", "empty_grid.toml"], 2,
     "factors.alpha is empty, so the grid is empty; give at least one level"),
    ("alpha zero in a spec", "studies", [*_RUN, "--study", "alpha_zero.toml"], 2,
     "factors.alpha levels must be finite numbers > 0, got 0.0"),
    ("alpha negative in a spec", "studies", [*_RUN, "--study", "alpha_negative.toml"], 2,
     "factors.alpha levels must be finite numbers > 0, got -3.0"),
    ("unknown factor", "studies", [*_RUN, "--study", "bad_key.toml"], 2,
     "[factors]: unknown key learning_rate; valid keys: method, alpha, mixer, global_info"),
    ("non-boolean global_info", "studies", [*_RUN, "--study", "bad_global_info.toml"], 2,
     "factors.global_info levels must be true or false, got 'yes'"),
    ("zero seeds in a spec", "studies", [*_RUN, "--study", "seeds_zero.toml"], 2, "seeds must be an integer >= 1, got 0"),
    ("unknown task in a spec", "studies", ["run", "--preset", "smoke", "--study", "bad_task.toml"], 2,
     "unknown task 'smac_nope'; known tasks: "),
    ("claim without kind", "studies", [*_RUN, "--study", "claim_no_kind.toml"], 2,
     "each [[claims]] entry needs a string 'kind'"),
    ("spec name differs from its file", "studies", [*_RUN, "--study", "renamed.toml"], 2,
     "name = 'other' differs from the file name; make them equal"),
    ("conflicting preset and seeds", "studies", ["run", "--task", "toy_coop", "--preset", "paper", "--seeds", "2"], 2,
     "--seeds 2 conflicts with preset 'paper', which needs at least 5 seeds; raise --seeds or choose another --preset"),
    ("unknown preset", "studies", ["run", "--task", "toy_coop", "--preset", "tiny"], 2,
     "unknown preset 'tiny'; known presets: paper, quick, smoke"),
    ("quality the task lacks", "studies", [*_RUN, "--qualities", "expert"], 2,
     "task toy_coop has no dataset quality 'expert'; its qualities: good, medium, poor"),
    ("empty qualities", "studies", [*_RUN, "--qualities", ","], 2, "--qualities is empty; give a comma-separated list"),
    ("zero steps override", "studies", [*_RUN, "--steps", "0"], 2, "--steps must be an integer >= 1, got 0"),
    ("zero workers", "studies", [*_RUN, "--workers", "0"], 2, "--workers must be >= 1, got 0"),
    ("lease shorter than heartbeats", "studies", [*_RUN, "--lease", "5"], 2,
     "--lease 5 must be at least 3 x --heartbeat 10"),
    ("negative storage patience", "studies", [*_RUN, "--storage-patience", "-1",
                                               "--storage", "postgresql://u:p@127.0.0.1:1/db"], 2,
     "--storage-patience must be >= 0 seconds, got -1"),
    ("trainer that cannot be imported", "studies", [*_RUN, "--trainer", "no_such_module:train"], 2,
     "--trainer 'no_such_module:train' cannot be imported"),
    ("CUDA graph on the CPU", "studies", [*_RUN, "--cuda-graph"], 2,
     "worker options: TrainConfig.cuda_graph needs a CUDA device, got device 'cpu'"),
    ("compile and CUDA graph together", "studies", [*_RUN, "--device", "cuda", "--cuda-graph", "--compile"], 2,
     "worker options: TrainConfig.compile and cuda_graph are alternatives"),
    ("a device torch does not know", "studies", [*_RUN, "--device", "tpu"], 2,
     "worker options: TrainConfig.device must be 'cpu' or 'cuda[:k]', got 'tpu'"),
    # studies: storage
    ("storage URL pointing nowhere", "studies", [*_RUN, "--storage", f"postgresql://omiga:{PASSWORD}@127.0.0.1:1/db"],
     2, "cannot connect to storage postgresql"),
    ("storage that is not a URL", "studies", [*_RUN, "--storage", "results/optuna.db"], 2,
     "--storage results/optuna.db is not a URL; use postgresql://USER:PASSWORD@HOST/DB"),
    ("storage dialect SQLAlchemy lacks", "studies", [*_RUN, "--storage", f"postgres2://u:{PASSWORD}@h/db"], 2,
     "--storage postgres2://u:***@h/db is not a database URL SQLAlchemy knows"),
    ("SQLite shared by workers", "studies", [*_RUN, "--workers", "2", "--storage", "sqlite:///s.db"], 2,
     "SQLite cannot be shared by several workers"),
    ("export of a study never run", "studies", ["export", "--name", "ablation-toy_coop-huge"], 2,
     "no study 'ablation-toy_coop-huge' under results/ (known: none); run `python -m studies run ...` first"),
    # reports: scores tables and claims
    ("scores table without a column", "reports", [*_REPORT, "--scores", "no_status.csv"], 2,
     "scores table lacks column(s) status: it needs task, backend"),
    ("binary garbage as scores.csv", "reports", [*_REPORT, "--scores", "garbage.csv"], 2,
     "scores table garbage.csv cannot be read as csv (UnicodeDecodeError"),
    ("empty scores file", "reports", [*_REPORT, "--scores", "zero_bytes.csv"], 2,
     "scores table zero_bytes.csv cannot be read as csv (EmptyDataError"),
    ("corrupted parquet", "reports", [*_REPORT, "--scores", "broken.parquet"], 2,
     "scores table broken.parquet cannot be read as parquet"),
    ("scores with an unknown suffix", "reports", [*_REPORT, "--scores", "scores.txt"], 2,
     "scores table scores.txt has suffix '.txt': write it as .csv or .parquet"),
    ("missing scores file", "reports", [*_REPORT, "--scores", "nowhere.csv"], 2,
     "scores table nowhere.csv does not exist: pass the path of a scores.csv or .parquet"),
    ("scores table without rows", "reports", [*_REPORT, "--scores", "header_only.csv"], 2,
     "scores table has no rows: run the study first"),
    ("unknown status", "reports", [*_REPORT, "--scores", "bad_status.csv"], 2,
     "scores table has status ['crashed']: status must be one of ok, diverged, failed"),
    ("ok run without a score", "reports", [*_REPORT, "--scores", "ok_no_score.csv"], 2,
     "status is ok but score is empty or not finite: give ok runs a finite score, or mark the run diverged/failed"),
    ("score that is not a number", "reports", [*_REPORT, "--scores", "text_score.csv"], 2,
     "score='high' is not a number: write a number or leave it empty"),
    ("one task from two backends", "reports", [*_REPORT, "--scores", "two_backends.csv"], 2,
     "scores table task toy_coop mixes backends smax, toy"),
    ("a run listed twice", "reports", [*_REPORT, "--scores", "duplicate.csv"], 2, "appears twice: keep one row per run"),
    ("non-boolean global_info in scores", "reports", [*_REPORT, "--scores", "bad_bool.csv"], 2,
     "global_info='maybe' is not a boolean: write true or false"),
    ("every run diverged", "reports", [*_REPORT, "--scores", "all_diverged.csv"], 2,
     "scores table has no run with status ok: nothing can be scored"),
    ("unknown claim kind", "reports", [*_REPORT, "--scores", "good_scores.csv", "--claims", "claims_bad_kind.toml"],
     2, "claim kind 'outperforms' is unknown"),
    ("claim on an unknown factor", "reports",
     [*_REPORT, "--scores", "good_scores.csv", "--claims", "claims_bad_field.toml"], 2, "temperature"),
    ("malformed claims TOML", "reports",
     [*_REPORT, "--scores", "good_scores.csv", "--claims", "claims_bad_toml.toml"], 2,
     "claims file claims_bad_toml.toml is not valid TOML"),
    ("claims file without claims", "reports", [*_REPORT, "--scores", "good_scores.csv", "--claims", "claims_none.toml"],
     2, "claims file claims_none.toml has no [[claims]] tables"),
    ("too few bootstrap replicates", "reports", [*_REPORT, "--scores", "good_scores.csv", "--reps", "3"], 2,
     "--reps 3 is too small: use at least 10"),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("malformed")
    make_inputs(root)
    return root


def _invoke(cli: str, argv: list[str]) -> int:
    try:
        return CLIS[cli](argv)
    except SystemExit as done:  # argparse's parser.exit (reports)
        return int(done.code)


@pytest.mark.parametrize(("cli", "argv", "code", "fragment"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_malformed_input_gets_one_clear_error(cli, argv, code, fragment, inputs, monkeypatch, capsys):
    monkeypatch.chdir(inputs)
    monkeypatch.setenv("OMIGA_DATA_DIR", str(inputs / "data"))
    monkeypatch.delenv("OMIGA_STUDY_STORAGE", raising=False)
    assert _invoke(cli, argv) == code
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    errors = [line for line in captured.err.splitlines() if re.match(r"(python -m reports: )?error: ", line)]
    assert len(errors) == 1, captured.err
    assert fragment in captured.err, captured.err
    assert PASSWORD not in output
    assert not list(inputs.glob("PWNED*")), "a pickle was unpickled"


def test_the_table_is_wide_enough():
    """The campaign asks for at least 30 distinct malformed inputs, each on its own row."""
    assert len({case[0] for case in CASES}) == len(CASES) >= 30
    assert {case[1] for case in CASES} == set(CLIS)


def test_a_password_in_an_unreachable_url_is_masked(inputs, monkeypatch, capsys):
    monkeypatch.chdir(inputs)
    assert studies_main([*_RUN, "--storage", f"postgresql://omiga:{PASSWORD}@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"cannot connect to storage postgresql(\+psycopg2?)?://omiga:\*\*\*@127\.0\.0\.1:1/db \(", err)
    assert PASSWORD not in err


@pytest.mark.parametrize(("cli", "argv"), [
    ("omiga", _train("nan_rewards.h5")),
    ("studies", [*_RUN, "--study", "empty_grid.toml"]),
    ("reports", [*_REPORT, "--scores", "garbage.csv"]),
], ids=["omiga", "studies", "reports"])
def test_debug_shows_the_traceback(cli, argv, inputs, monkeypatch):
    monkeypatch.chdir(inputs)
    debug = ["--debug", *argv] if cli != "reports" else [*argv, "--debug"]
    with pytest.raises(Exception) as raised:
        CLIS[cli](debug)
    assert not isinstance(raised.value, SystemExit)


def test_pickled_inputs_are_never_unpickled_by_default(inputs, monkeypatch, capsys):
    """A MADT pickle and a checkpoint carrying code: both refused, the planted code never runs."""
    monkeypatch.chdir(inputs)
    assert omiga_main(["datasets", "import", "madt", "--format", "madt", "--task", "smac_corridor", "--out",
                       "m.h5"]) == 2
    assert omiga_main([*_train("good.h5"), "--out", "ck_pickle"]) == 2
    assert not (inputs / "PWNED-madt").exists() and not (inputs / "PWNED-checkpoint").exists()
    assert not (inputs / "m.h5").exists()
