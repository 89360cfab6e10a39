"""CUDA-graph replay of a population's training update (``TrainConfig.cuda_graph``).

A training step of a small network launches a few hundred short kernels; on a GPU their launch overhead, not
their arithmetic, sets the pace. :class:`GraphedUpdate` records one update (gathering the batch from the
dataset tensors already on the device, the losses, the backward pass, per-member clipping, the fused Adam step,
the soft target update and the divergence flags) as a CUDA graph over a static buffer of dataset step indices,
and each later step only copies that step's indices into the buffer and replays the graph.

As PyTorch's whole-network capture requires, the trainer first runs ``GRAPH_WARMUP_STEPS`` real steps eagerly on
a side stream (:func:`run_on_side_stream`), the optimiser is built with ``capturable=True``, and autocast runs
without its weight cache. Capturing records the update without running it, so the trainer replays the graph once
for the step that captured it: every step is a real step, counted once. The host-side parts of a step stay
outside the graph: drawing indices, freezing diverged members and the periodic divergence check.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["GRAPH_WARMUP_STEPS", "GraphedUpdate", "run_on_side_stream"]

GRAPH_WARMUP_STEPS = 3
"""Eager steps before the capture (lazy initialisation of cuBLAS, autograd and the optimiser state)."""


def run_on_side_stream(work: Callable[[], None]) -> None:
    """Run ``work`` on a fresh CUDA stream ordered after (and before) the current one."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        work()
    torch.cuda.current_stream().wait_stream(stream)


class GraphedUpdate:
    """``update(steps)`` captured once as a CUDA graph over a static ``steps`` buffer."""

    def __init__(self, update: Callable[[torch.Tensor], None], steps: torch.Tensor):
        self._steps = steps.clone()
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            update(self._steps)

    def replay(self, steps: torch.Tensor) -> None:
        """One update on the batch of dataset steps ``steps [M, B]``."""
        self._steps.copy_(steps)
        self._graph.replay()
