"""TensorBoard scalars per population member, written under the run directory when training ends.

``out_dir/tensorboard/<member label>/events.out.tfevents.*``: one directory per member (so TensorBoard overlays
the members as runs), holding at every evaluation step the member's ``eval/return`` and ``eval/win_rate``
(where the task has one) and its latest training losses under the trainer's own names (``loss/v``,
``loss/q``, ``loss/pi``, ...; the losses of the step just before the evaluation, not averages). Scalars are
collected in memory while training (and kept in the population checkpoint, so a resumed run writes the whole
history) and written in one pass at the end: no writer threads run during training, and a rewrite replaces
the member's previous event files instead of appending duplicate steps.

    tensorboard --logdir results/<study>/runs
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["TENSORBOARD_DIR", "member_label", "scalar_rows", "write_member_scalars"]

TENSORBOARD_DIR = "tensorboard"


def member_label(index: int, *, method: str, alpha: float, global_info: bool, seed: int, dataset: int) -> str:
    """A member's run name, e.g. ``m003-omiga-a0.3-global-s2-d1`` or ``m000-bc-s0-d0`` (index first, so names
    sort as members do; α and global information only for OMIGA, which alone reads them from MemberConfig)."""
    settings = f"-a{alpha:g}-{'global' if global_info else 'local'}" if method == "omiga" else ""
    return f"m{index:03d}-{method}{settings}-s{seed}-d{dataset}"


def scalar_rows(*, step: int, loss_names: Sequence[str], losses: Sequence[Sequence[float]],
                returns: Sequence[float], win_rates: Sequence[float | None]) -> list[dict[str, float]]:
    """One ``{tag: value}`` dict per member for one evaluation step (the ``step`` key holds the step)."""
    rows = []
    for index, mean_return in enumerate(returns):
        row: dict[str, float] = {"step": float(step), "eval/return": float(mean_return)}
        if win_rates[index] is not None:
            row["eval/win_rate"] = float(win_rates[index])  # type: ignore[arg-type]
        if losses:
            row.update({name: float(value) for name, value in zip(loss_names, losses[index], strict=True)})
        rows.append(row)
    return rows


def write_member_scalars(out_dir: Path, *, labels: Sequence[str],
                         history: Sequence[Sequence[Mapping[str, float]]]) -> list[Path]:
    """Write ``history[m]`` (a list of ``{tag: value, "step": s}``) of member m under ``labels[m]``.

    Returns the member directories (none when no member has a scalar: a run without evaluation writes nothing).
    Each directory's earlier event files are removed first.
    """
    if not any(history):
        return []
    from torch.utils.tensorboard import SummaryWriter

    written = []
    for label, rows in zip(labels, history, strict=True):
        directory = Path(out_dir) / TENSORBOARD_DIR / label
        if directory.is_dir():
            for old in directory.glob("events.out.tfevents.*"):
                old.unlink()
        writer = SummaryWriter(log_dir=str(directory))
        try:
            for row in rows:
                step = int(row["step"])
                for tag, value in row.items():
                    if tag != "step":
                        writer.add_scalar(tag, value, global_step=step)
        finally:
            writer.close()
        written.append(directory)
    return written
