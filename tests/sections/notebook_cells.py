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
    namespace: dict = {"period": period, "params_path": str(params), "branch": ""}
    for source in code_cells(notebook):
        exec(compile(source, notebook, "exec"), namespace)
    return namespace["sec"]


def fill_missing_results(params: Path) -> list[str]:
    """Save an empty result for every first-phase section that has none yet.

    The sections that read others (summary, findings, measures, appendix) refuse to build
    over a missing result; tests that hand-make one or two earlier results give the
    others as empty (no blocks, no metrics). Returns the ids filled in."""
    from selfcheck.blocks import SECTION_FILE, SectionResult
    from selfcheck.config import load_config
    from selfcheck.sections import SECTIONS

    config = load_config(params)
    root = config.output_dir / "sections"
    filled = []
    for s in SECTIONS:
        folder = root / s.id
        if s.after_all or (folder / SECTION_FILE).exists():
            continue
        SectionResult(s.id, s.title, s.order, str(config.period)).save(folder)
        filled.append(s.id)
    return filled
