"""CUDA-graph replay of a population's training update (``TrainConfig.cuda_graph``).

A training step of a small network launches a few hundred short kernels; on a GPU their launch overhead, not
their arithmetic, sets the pace. :class:`GraphedUpdate` records one update (gathering the batch from the
dataset tensors already on the device, the losses, the backward pass, per-member clipping, the fused Adam step,
the soft target update and the divergence flags) as a CUDA graph over a static buffer of dataset step indices,
and each later step only copies that step's indices into the buffer and replays the graph.

As PyTorch's whole-network capture requires, :class:`GraphedUpdate` first runs ``GRAPH_WARMUP_STEPS`` real steps
eagerly on a side stream (:func:`run_on_side_stream`); the trainer builds its optimiser with ``capturable=True``
and runs autocast without its weight cache. Capturing records the update without running it, so the graph is
replayed at once for the step that captured it: every step is a real step, counted once. The host-side parts of a step stay
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
    """``update(steps)`` run eagerly for the warm-up steps, then captured once and replayed.

    ``steps`` is the ``[M, B]`` batch of dataset step indices of one training step; :meth:`reset` (after the
    optimiser's state was replaced, e.g. by loading a checkpoint) warms up and captures again.
    """

    def __init__(self, update: Callable[[torch.Tensor], None], *, warmup: int = GRAPH_WARMUP_STEPS):
        self._update, self._warmup = update, warmup
        self.reset()

    def reset(self) -> None:
        self._graph: torch.cuda.CUDAGraph | None = None
        self._steps: torch.Tensor | None = None
        self._warmup_left = self._warmup

    @property
    def captured(self) -> bool:
        return self._graph is not None

    def __call__(self, steps: torch.Tensor) -> None:
        """One update on the batch of dataset steps ``steps [M, B]``."""
        if self._graph is None and self._warmup_left > 0:
            run_on_side_stream(lambda: self._update(steps))
            self._warmup_left -= 1
            return
        if self._graph is None:
            self._steps = steps.clone()
            self._graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self._graph):
                self._update(self._steps)
        self._steps.copy_(steps)
        self._graph.replay()
