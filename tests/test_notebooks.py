"""Notebooks stay thin: a title, one parameters cell of literals, calls into the package."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from test_lab_cli import as_committed

from selfcheck.sections import SECTIONS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_registered_section_has_its_notebook_and_no_other():
    assert sorted(s.notebook for s in SECTIONS) == [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0] is code[0]
    tree = ast.parse(params[0].source)
    names = {}
    for stmt in tree.body:  # only `name = literal`
        assert isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant)
        names[stmt.targets[0].id] = stmt.value.value
    assert set(names) == {"period", "params_path"}
    assert (
        path.parent / names["params_path"]
    ).resolve() == ROOT / "params" / f"{names['period']}.yaml"
    for cell in as_committed(path, nb).cells:  # outputs saved from JupyterLab never reach git
        assert not cell.get("outputs") and cell.get("execution_count") is None
    for cell in code:
        assert not any(
            isinstance(n, ast.FunctionDef | ast.ClassDef) for n in ast.walk(ast.parse(cell.source))
        )
    assert code[-1].source.strip() == "sec.save()"
