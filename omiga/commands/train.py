"""``python -m omiga train``: train a population (α values × seeds) on one dataset and write result.json.

    python -m omiga train --dataset data.h5 --alpha 1 10 --mixer linear --seeds 0,1,2 --steps 100000 --out runs/x

Several α values train as one population of len(alpha) × len(seeds) members (α-major order). When the
dataset's ``task`` attribute names a registered task, the members are evaluated with
``omiga.evaluate.evaluate_population`` every ``--eval-every`` steps and at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from omiga.config import MIXER_NAMES, MemberConfig, NetworkConfig, TrainConfig
from omiga.errors import ConfigError
from omiga.methods import method_names

__all__ = ["add_execution_options", "parse_method_options", "parse_seeds", "register", "run"]


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` or ``"0-4"`` (inclusive) -> seeds; ConfigError on anything else."""
    try:
        if "-" in text and "," not in text:
            low, high = (int(part) for part in text.split("-"))
            seeds = tuple(range(low, high + 1))
        else:
            seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        seeds = ()
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds must be distinct integers like 0,1,2 or a range 0-4, got {text!r}")
    return seeds


def parse_method_options(texts: list[str]) -> tuple[tuple[str, float], ...]:
    """``["alpha=2", "samples=20"]`` -> ``(("alpha", 2.0), ("samples", 20.0))``; ConfigError on anything else.

    The method's own options dataclass (omiga/methods/options.py) checks the names and values.
    """
    options = []
    for text in texts:
        name, sep, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not name.strip() or number is None:
            raise ConfigError(f"--method-option must look like NAME=NUMBER (e.g. alpha=2 for cql), got {text!r}")
        options.append((name.strip(), number))
    return tuple(options)


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--cuda-graph`` and ``--compile``: how this machine trains (``TrainConfig`` fields of the same
    names); also the worker options of ``python -m studies``."""
    parser.add_argument("--device", default="cpu", help="torch device of training: cpu (default), cuda or cuda:K")
    parser.add_argument("--cuda-graph", action="store_true",
                        help="replay each training step from a CUDA graph (with --device cuda; omiga and bc only)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the losses and their gradient as one graph: 10-45%% more steps/s on CPU "
                             "at HalfCheetah-like shapes, after 10-90 s of compilation per population; worth it for "
                             "long runs (needs a C++ compiler)")


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = TrainConfig(steps=1)
    parser = subparsers.add_parser("train", help="train a population of OMIGA runs on a dataset",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True, help="dataset file (canonical HDF5 schema)")
    parser.add_argument("--alpha", type=float, nargs="+", required=True, help="one or more α values")
    parser.add_argument("--mixer", default=defaults.mixer, help=f"mixer: {', '.join(MIXER_NAMES)}")
    parser.add_argument("--no-global-info", action="store_true", help="w_i ≡ 1 in the V and π steps")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds or a range, e.g. 0,1,2 or 0-4")
    parser.add_argument("--steps", type=int, required=True, help="gradient steps per member")
    parser.add_argument("--out", type=Path, required=True, help="output directory (result.json, checkpoint.pt)")
    parser.add_argument("--method", default=defaults.method, help=f"update rule: {', '.join(method_names())}")
    parser.add_argument("--method-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a hyperparameter of the method (repeatable), e.g. --method cql --method-option alpha=2")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--gamma", type=float, default=defaults.gamma)
    parser.add_argument("--tau", type=float, default=defaults.tau)
    parser.add_argument("--hidden", type=int, default=defaults.network.hidden)
    parser.add_argument("--reward-to-go", action="store_true", help="train on reward-to-go (official SMAC quirk)")
    parser.add_argument("--checkpoint-every", type=int, default=0, help="steps between checkpoints (0 = never)")
    parser.add_argument("--eval-every", type=int, default=0, help="steps between evaluations (0 = only at the end)")
    parser.add_argument("--eval-episodes", type=int, default=defaults.eval_episodes)
    parser.add_argument("--no-eval", action="store_true", help="skip evaluation even when the task has an env")
    add_execution_options(parser)
    parser.add_argument("--matmul-precision", default=defaults.matmul_precision, choices=("float32", "bfloat16"),
                        help="bfloat16 autocast of the networks' matrix products (about 2x faster on CPU)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 is faster on a busy machine)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-tensorboard", action="store_true",
                        help="no TensorBoard scalars under OUT/tensorboard/ (eval/* and loss/* per member)")
    parser.add_argument("--allow-large", action="store_true",
                        help="allow sizes past the sane limits of omiga.limits (hidden, batch size, members, episodes)")
    parser.set_defaults(func=run)


def _evaluator(task_name: str, episodes: int, obs_mode: str = "local"):
    """evaluate(policy, step) for a registered task in ``obs_mode``, or None (with a printed note) when unavailable.

    A registered task whose backend is not installed is refused now (BackendUnavailableError with the install
    hint), not after training; ``--no-eval`` trains without it.
    """
    from omiga.errors import BackendUnavailableError, UnknownNameError
    from omiga.tasks import backend_available, get_task

    try:
        task = get_task(task_name)
    except UnknownNameError:  # not a registered task: synthetic or foreign data
        print(f"note: dataset task {task_name!r} is not a registered task; skipping evaluation")
        return None
    if not backend_available(task.default_backend):
        raise BackendUnavailableError(f"evaluating task {task.name} needs backend {task.default_backend!r}, which is "
                                      "not installed (`python -m omiga tasks` says what to install); install it, or "
                                      "pass --no-eval to train without evaluation")
    from omiga.evaluate import evaluate_population

    return lambda policy, step: evaluate_population(policy, task=task, episodes=episodes, seed=10_000 + step,
                                                    obs_mode=obs_mode)


def _check_sizes(args: argparse.Namespace, n_members: int) -> None:
    from omiga.limits import check_size

    for option, value, kind in (("--hidden", args.hidden, "hidden"), ("--batch-size", args.batch_size, "batch_size"),
                                ("--steps", args.steps, "steps"),
                                ("--eval-episodes", args.eval_episodes, "eval_episodes"),
                                ("members (len(--alpha) x len(--seeds))", n_members, "members")):
        check_size(option, value, kind=kind, allow_large=args.allow_large)


def run(args: argparse.Namespace) -> int:
    import torch

    from omiga.data.importers import observation_mode
    from omiga.data.io import load_dataset
    from omiga.data.task_fit import check_dataset_fits_task
    from omiga.paths import check_output_dir
    from omiga.tasks import get_task
    from omiga.train import train_population

    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    config = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, gamma=args.gamma, tau=args.tau,
        mixer=args.mixer, method=args.method, reward_to_go=args.reward_to_go,
        network=NetworkConfig(hidden=args.hidden), checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every, eval_episodes=args.eval_episodes, device=args.device,
        matmul_precision=args.matmul_precision, cuda_graph=args.cuda_graph,
        compile=args.compile, method_options=parse_method_options(args.method_option),
    )
    members = [MemberConfig(seed=seed, alpha=alpha, global_info=not args.no_global_info)
               for alpha in args.alpha for seed in parse_seeds(args.seeds)]
    _check_sizes(args, len(members))
    check_output_dir(args.out, inputs=[args.dataset])
    dataset = load_dataset(args.dataset)
    obs_mode = observation_mode(dataset.attrs)
    evaluate = None if args.no_eval else _evaluator(dataset.attrs.task, args.eval_episodes, obs_mode)
    if obs_mode == "local":  # global-mode imports were checked against the global layout when imported
        # evaluation runs on the task's default backend; without it, the dataset's own backend is the reference
        check_dataset_fits_task(dataset, where=args.dataset,
                                backend=None if evaluate is None else get_task(dataset.attrs.task).default_backend)
    if config.compile:  # otherwise the progress bar sits at step 0 for that long, as if hung
        print(f"note: --compile: the first step compiles the {config.method} update "
              "(10-90 s on a 2-core CPU)")
    results = train_population(dataset, config=config, members=members, out_dir=args.out, evaluate=evaluate,
                               progress=not args.no_progress, tensorboard=not args.no_tensorboard)
    for result in results:
        score = "" if result.final_return is None else f" return={result.final_return:.4g}"
        print(f"alpha={result.alpha:g} seed={result.seed} status={result.status} steps={result.steps}{score}")
    print(f"wrote {Path(args.out) / 'result.json'}")
    return 0
