"""Run a section notebook's code cells in this process, as Run All would in JupyterLab.

The ``parameters`` cell is replaced by the period and parameters file of the test, so a
test exercises exactly the cells (and their arguments) the analyst sees.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def code_cells(notebook: str) -> list[str]:
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    return [
        c.source
        for c in nb.cells
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])
    ]


def run_cells(notebook: str, period: str, params: Path):
    """Execute the notebook's code cells in order and return its ``sec``."""
    namespace: dict = {"period": period, "params_path": str(params)}
    for source in code_cells(notebook):
        exec(compile(source, notebook, "exec"), namespace)
    return namespace["sec"]
