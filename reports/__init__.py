"""Render a study's analysis: Markdown, LaTeX (booktabs) and HTML tables, claims, plots and index.html."""

from reports.build import ReportFiles, build_report, default_backend_note
from reports.files import write_atomic, write_text_atomic

__all__ = ["ReportFiles", "build_report", "default_backend_note", "write_atomic", "write_text_atomic"]
