"""Parameter groups held as views of one member-major ``[M, P]`` buffer each (:class:`FlatGroups`).

Besides its losses, a training step has chores done per parameter: zeroing the gradients, the per-member
gradient norm of each clipping group, Adam, the soft target update and the finiteness check. Done tensor by
tensor they cost one small op (and its Python and dispatch overhead) per parameter, dozens per step, which at
one member is a good part of a step. On one buffer per group they cost one op per group.

Each stacked parameter ``[M, ...]`` of a group becomes a view of its group's buffer
(``param.data = buffer[:, offset:offset + size].view(param.shape)``) and, with ``grads=True``, its ``.grad`` a
view of the buffer's gradient, so autograd accumulates into the buffer in place (a compiled step,
:mod:`omiga.compiled`, overwrites the whole gradient buffer instead, through the same :func:`flat_views`). The
modules, their ``state_dict`` and every other user of the parameters see the same tensors and numbers as before.
The views are not contiguous across members when M > 1 (member m's parameters are contiguous instead); the
layers' batched products take such strides as they are.

The optimiser works on the buffers. :func:`per_parameter_adam_state` and :func:`flat_adam_state` convert its
state to and from the form a per-parameter ``torch.optim.Adam`` saves, so checkpoints keep that form: one written
before the buffers existed resumes, and the exponential averages are the same numbers element by element.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import torch
from torch import nn

__all__ = ["FlatGroups", "flat_adam_state", "flat_views", "per_parameter_adam_state"]

CLIP_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_

# A gradient view has its parameter's strides; autograd's layout contract would want a contiguous gradient for
# a parameter with gaps between members, warns once, and still accumulates in place, which is what is wanted.
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")


def flat_views(flat: torch.Tensor, shapes: Sequence[tuple[int, ...]]) -> list[torch.Tensor]:
    """``flat [M, P]`` as consecutive views shaped ``[M, *shape]``, one per entry of ``shapes``."""
    views, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        views.append(flat[:, offset:offset + size].view(flat.shape[0], *shape))
        offset += size
    return views


class FlatGroups:
    """Named groups of stacked parameters ``[M, ...]``, each group re-homed into one ``[M, P]`` buffer.

    ``buffers[name]`` is a leaf tensor (the optimiser's parameter); with ``grads=True`` its ``.grad`` is the
    group's gradient buffer, whose views are the parameters' ``.grad``. A parameter must not appear in two groups.
    """

    def __init__(self, groups: Mapping[str, Sequence[nn.Parameter]], *, grads: bool):
        self.params = {name: tuple(params) for name, params in groups.items()}
        self.buffers: dict[str, torch.Tensor] = {}
        self.shapes: dict[str, tuple[tuple[int, ...], ...]] = {}
        """Per group, each parameter's shape without the member dimension, in order (:func:`flat_views`)."""
        for name, params in self.params.items():
            if not params:
                raise ValueError(f"parameter group {name!r} is empty")
            shapes = tuple(tuple(p.shape[1:]) for p in params)
            first = params[0]
            buffer = torch.empty(first.shape[0], sum(map(math.prod, shapes)), dtype=first.dtype, device=first.device)
            grad = torch.zeros_like(buffer) if grads else None
            for param, view in zip(params, flat_views(buffer, shapes)):
                view.copy_(param.detach())
                param.data = view
            if grad is not None:
                for param, view in zip(params, flat_views(grad, shapes)):
                    param.grad = view
                buffer.grad = grad
            self.buffers[name], self.shapes[name] = buffer, shapes

    def split(self, name: str, flat: torch.Tensor) -> list[torch.Tensor]:
        """``flat [M, P]`` of group ``name`` as one view per parameter, shaped like it."""
        return flat_views(flat, self.shapes[name])

    def join(self, name: str, tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        """Inverse of :meth:`split`: one ``[M, P]`` tensor from per-parameter tensors of group ``name``."""
        n_members = self.buffers[name].shape[0]
        return torch.cat([t.reshape(n_members, -1) for t in tensors], dim=1)

    @property
    def grads(self) -> list[torch.Tensor]:
        return [buffer.grad for buffer in self.buffers.values()]

    def zero_grad(self) -> None:
        torch._foreach_zero_(self.grads)

    def clip_grad_norm_per_member(self, max_norm: float) -> None:
        """Scale each member's gradient of each group to a norm of at most ``max_norm`` (as clip_grad_norm_)."""
        for grad in self.grads:
            norm = torch.linalg.vector_norm(grad, dim=1, keepdim=True)  # [M, 1]
            grad.mul_((max_norm / (norm + CLIP_EPS)).clamp_(max=1.0))

    @torch.no_grad()
    def lerp_towards(self, online: FlatGroups, weight: float) -> None:
        """Soft update: every buffer ← (1 − weight) buffer + weight · ``online``'s buffer of the same name."""
        names = list(self.buffers)
        torch._foreach_lerp_([self.buffers[n] for n in names], [online.buffers[n] for n in names], weight)

    @torch.no_grad()
    def finite_members(self) -> torch.Tensor:
        """``[M]`` bool: members whose parameters in every group are all finite."""
        return torch.stack([torch.isfinite(b).all(1) for b in self.buffers.values()]).all(0)


def per_parameter_adam_state(state: dict, flat: FlatGroups) -> dict:
    """The state dict of Adam over ``flat``'s buffers, as Adam over its parameters (in group order) saves it."""
    entries, index = {}, 0
    for position, name in enumerate(flat.buffers):
        saved = state["state"].get(position)
        if saved is not None:
            averages = zip(flat.split(name, saved["exp_avg"]), flat.split(name, saved["exp_avg_sq"]))
            for k, (exp_avg, exp_avg_sq) in enumerate(averages):
                entries[index + k] = {"step": saved["step"].clone(), "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}
        index += len(flat.params[name])
    (group,) = state["param_groups"]
    return {"state": entries, "param_groups": [{**group, "params": list(range(index))}]}


def flat_adam_state(state: dict, flat: FlatGroups, current: dict) -> dict:
    """Inverse of :func:`per_parameter_adam_state`, with the hyperparameters of ``current`` (the live optimiser's
    state dict). A parameter without saved state (one that never had a gradient) starts from zeros."""
    entries, index = {}, 0
    for position, name in enumerate(flat.buffers):
        params = flat.params[name]
        saved = [state["state"].get(index + k) for k in range(len(params))]
        index += len(params)
        present = [s for s in saved if s is not None]
        if not present:
            continue
        entries[position] = {"step": present[0]["step"].clone()}
        for key in ("exp_avg", "exp_avg_sq"):
            tensors = [torch.zeros_like(p, device="cpu") if s is None else s[key] for p, s in zip(params, saved)]
            entries[position][key] = flat.join(name, tensors)
    (group,) = current["param_groups"]
    return {"state": entries, "param_groups": [group]}
