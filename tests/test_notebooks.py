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
    assert set(names) == {"period", "params_path", "branch"}
    assert names["branch"] == ""  # a group's branch, set by the run (empty: the one report)
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


# -- one report block per cell ------------------------------------------------------------------

# Notebooks written one cell per report block (the others join as they are rewritten).
SEC_BLOCKS = {"heading", "paragraph", "narrative", "table", "figure", "add_metrics"}


def _call(cell) -> ast.Call:
    tree = ast.parse(cell.source)
    assert len(tree.body) == 1, f"one block per cell: {cell.source!r}"
    stmt = tree.body[0]
    assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call), cell.source
    return stmt.value


def _literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:  # a named constant of the module, e.g. response.ONLINE_IDS
        return isinstance(node, ast.Attribute)
    return True


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_cell_per_report_block(path):
    """After the open cell and ``compute``, every code cell emits one block: a heading
    written in the notebook, or one call of a block function of the package with ``sec``
    first and its options as visible keyword arguments that the function accepts."""
    import importlib
    import inspect

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells[1:]:
        if cell.cell_type == "markdown":  # short guidance only, never a heading
            assert not any(line.startswith("#") for line in cell.source.splitlines())
    code = [c for c in nb.cells if c.cell_type == "code"][1:]  # after the parameters
    open_cell = ast.parse(code[0].source)
    imported = {
        a.asname or a.name
        for n in open_cell.body
        if isinstance(n, ast.ImportFrom) and n.module == "selfcheck.sections"
        for a in n.names
    }
    assert imported, "the open cell imports the section's modules"
    modules = {name: importlib.import_module(f"selfcheck.sections.{name}") for name in imported}
    assigned = [n for n in open_cell.body if isinstance(n, ast.Assign)]
    assert [ast.unparse(n) for n in assigned] == [
        f"sec = {n.value.func.value.id}.open_section(period, params_path, branch)" for n in assigned
    ] and len(assigned) == 1
    calls = [_call(c) for c in code[1:-1]]
    assert ast.unparse(calls[0]).endswith(".compute(sec)"), "the metrics cell comes first"
    for call in calls:
        owner = call.func.value.id  # type: ignore[attr-defined]
        name = call.func.attr  # type: ignore[attr-defined]
        if owner == "sec":
            assert name in SEC_BLOCKS
            assert all(_literal(a) for a in [*call.args, *(k.value for k in call.keywords)])
            continue
        assert owner in modules, ast.unparse(call)
        assert call.args and ast.unparse(call.args[0]) == "sec", ast.unparse(call)
        shown = [*call.args[1:], *(k.value for k in call.keywords)]  # visible literals only
        assert all(_literal(v) for v in shown), ast.unparse(call)
        function = getattr(modules[owner], name)
        args = [None] * len(call.args)
        inspect.signature(function).bind(*args, **{k.arg: None for k in call.keywords})
    for module in modules.values():  # headings are written in the notebook only
        if module.__name__ in HEADING_ARGUMENT:
            continue
        assert ".heading(" not in inspect.getsource(module), module.__name__


# modules whose heading text is an argument written in the cell (a level with no problem
# gets no heading): findings.level_heading(sec, "严重问题", level="严重")
HEADING_ARGUMENT = {"selfcheck.sections.findings", "selfcheck.sections.improvement"}
