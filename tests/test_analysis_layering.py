"""analysis/ reads a tidy table only: it must not import omiga or studies (DESIGN.md layering)."""

from __future__ import annotations

import ast
from pathlib import Path

import analysis


def test_analysis_imports_neither_omiga_nor_studies() -> None:
    offenders = []
    for path in Path(analysis.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"omiga", "studies"}]
    assert offenders == []
