"""How one worker runs its trials on its own machine: device, CUDA graph, compilation.

These are not part of the study plan: workers of one study may differ (a GPU node beside CPU laptops), and a
trial's result does not depend on them beyond float rounding. They reach the trainer's `TrainConfig`, and a
retried trial resumes its checkpoint whatever the new worker's settings (the run directory is named without
them).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from omiga.commands.train import add_execution_options
from omiga.config import GRAPHABLE_METHODS, TrainConfig
from omiga.errors import ConfigError
from studies.errors import StudyError
from studies.plan import StudyPlan

__all__ = ["CPU_EAGER", "Execution", "add_execution_options", "execution_from_args"]


@dataclass(frozen=True)
class Execution:
    """A worker's device and speed options (``TrainConfig`` fields of the same names)."""

    device: str = "cpu"
    """Torch device of training: cpu, cuda or cuda:K."""
    cuda_graph: bool = False
    """Replay each training step from a CUDA graph (cuda only; methods omiga and bc)."""
    compile: bool = False
    """torch.compile the losses and their gradient: worth it for long runs (compiling costs 10-90 s per population)."""

    def train_options(self) -> dict[str, object]:
        """The `TrainConfig` keyword arguments."""
        return {"device": self.device, "cuda_graph": self.cuda_graph, "compile": self.compile}

    def to_argv(self) -> list[str]:
        """The command-line options that give this execution (for spawned worker processes)."""
        return (["--device", self.device] + (["--cuda-graph"] if self.cuda_graph else [])
                + (["--compile"] if self.compile else []))

    def check(self, plan: StudyPlan) -> None:
        """Raise a `StudyError` now, before any trial runs, if the trainer would refuse these options."""
        try:
            TrainConfig(steps=1, **self.train_options())
        except ConfigError as error:
            raise StudyError(f"worker options: {error}") from None
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise StudyError(f"--device {self.device}: this torch build sees no CUDA GPU; use --device cpu")
        if self.cuda_graph:
            other = sorted(set(plan.spec.factors.method) - set(GRAPHABLE_METHODS))
            if other:
                raise StudyError(f"--cuda-graph supports the methods {', '.join(GRAPHABLE_METHODS)}, but study "
                                 f"{plan.study_name} also has {', '.join(other)}; drop --cuda-graph")


CPU_EAGER = Execution()
"""The default: eager training on the CPU."""


def execution_from_args(args: argparse.Namespace) -> Execution:
    return Execution(device=args.device, cuda_graph=args.cuda_graph, compile=args.compile)
