"""How a run is watched while and after it trains: progress lines or bars, and TensorBoard scalars per member."""

from omiga.monitor.progress import StepProgress, format_duration
from omiga.monitor.scalars import TENSORBOARD_DIR, member_label, scalar_rows, write_member_scalars

__all__ = ["TENSORBOARD_DIR", "StepProgress", "format_duration", "member_label", "scalar_rows",
           "write_member_scalars"]
