"""Re-runs are safe: in a real kernel, cells executed any number of times, then
``sec.save()``, give exactly the result of one clean Run All (section.json content and
PNG bytes).

The kernel is sent what JupyterLab sends: each execute request carries the cell's id
(``metadata.cellId``, and ``deletedCells``); nbclient by itself sends neither.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from conftest import PERIOD, ROOT, write_params
from nbclient import NotebookClient

from selfcheck.blocks import SECTION_FILE, SectionResult

pytestmark = pytest.mark.integration

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


class LabClient(NotebookClient):
    """nbclient, with the cell id (and deleted cells) in each execute request's metadata."""

    cell_id: str | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deleted: list[str] = []

    def run(self, cell, index: int, cell_id: str | None = None) -> None:
        self.cell_id = cell.get("id") if cell_id is None else cell_id
        self.execute_cell(cell, index)

    def start(self, **kernel_args):
        context = self.setup_kernel(**kernel_args)
        context.__enter__()
        kc = self.kc

        def execute(code, silent=False, store_history=True, user_expressions=None,
                    allow_stdin=None, stop_on_error=True):  # fmt: skip
            content = {
                "code": code,
                "silent": silent,
                "store_history": store_history,
                "user_expressions": user_expressions or {},
                "allow_stdin": False,
                "stop_on_error": stop_on_error,
            }
            metadata = {"cellId": self.cell_id, "deletedCells": list(self.deleted)}
            msg = kc.session.msg("execute_request", content, metadata=metadata)
            kc.shell_channel.send(msg)
            self.deleted.clear()
            return msg["header"]["msg_id"]

        kc.execute = execute
        return context


def _client(nb, cwd: Path) -> LabClient:
    return LabClient(
        nbformat.from_dict(json.loads(json.dumps(nb))),  # a copy: the client writes outputs
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )


def _with_params(nb, params: Path):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            cell.source = f"period = {PERIOD!r}\nparams_path = {str(params)!r}\nbranch = ''"
    return nb


def _snapshot(folder: Path) -> dict[str, bytes]:
    """The saved result, byte for byte, but for when and how it was made."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    files[SECTION_FILE] = SectionResult.load(folder).content_json().encode("utf-8")
    return files


def _code_cells(nb) -> list[tuple[int, object]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _content_cells(nb) -> list[tuple[int, object]]:
    """The cells that emit blocks: after the open cell, before ``sec.save()``."""
    code = _code_cells(nb)
    opened = next(n for n, (_, c) in enumerate(code) if "open_section" in c.source)
    return [(i, c) for i, c in code[opened + 1 :] if c.source.strip() != "sec.save()"]


def _run_all(nb, cwd: Path) -> None:
    client = _client(nb, cwd)
    context = client.start()
    try:
        for i, cell in _code_cells(nb):
            client.run(cell, i)
    finally:
        context.__exit__(None, None, None)


def _result_folder(params: Path, section_id: str) -> Path:
    return params.parent / "outputs" / PERIOD / "sections" / section_id


# -- a small notebook of the analyst's own ---------------------------------------------------
OWN_CELLS = [
    "from selfcheck.section import Section\nsec = Section('response', period, params_path)",
    "sec.heading('自行分析')",
    "import pandas as pd\n"
    "df = pd.DataFrame({'渠道': ['电话', '在线'], '单量': [120, 35], '均值': [1.25, 2.5]})\n"
    "sec.table('按渠道统计', df, decimals={'均值': 2})",
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots()\n"
    "ax.bar(['电话', '在线'], [120, 35])\n"
    "ax.set_xlabel('受理渠道（本季度全部工单，含转派与重复来电）')\n"
    "sec.figure(fig, '按渠道单量')",
    "sec.paragraph('分析人员的说明。')",
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nsec.figure(fig, '第二张图')",
    "sec.save()",
]


def _own_notebook(params: Path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_markdown_cell("# 自行分析")]
    nb.cells.append(
        nbformat.v4.new_code_cell(
            f"period = {PERIOD!r}\nparams_path = {str(params)!r}\nbranch = ''"
        )
    )
    nb.cells += [nbformat.v4.new_code_cell(src) for src in OWN_CELLS]
    return nb


@pytest.fixture(scope="module")
def own(sample_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    params = write_params(folder, sample_root)
    nb = _own_notebook(params)
    _run_all(nb, folder)
    return nb, folder, params, _snapshot(_result_folder(params, "response"))


def test_own_notebook_clean_run(own):
    _, _, params, clean = own
    saved = SectionResult.load(_result_folder(params, "response"))
    assert [b.type for b in saved.blocks] == ["heading", "table", "figure", "paragraph", "figure"]
    assert [getattr(b, "path", None) for b in saved.blocks if b.type == "figure"] == [
        "figure-01.png",
        "figure-02.png",
    ]
    assert sorted(clean) == ["figure-01.png", "figure-02.png", SECTION_FILE]
    assert saved.origin == "interactive"


def test_own_notebook_each_cell_twice_and_out_of_order(own):
    nb, folder, params, clean = own
    client = _client(nb, folder)
    context = client.start()
    try:
        code = _code_cells(nb)
        for i, cell in code[:2]:  # parameters, open
            client.run(cell, i)
        content = code[2:-1]
        for i, cell in content:
            client.run(cell, i)
            client.run(cell, i)
        for i, cell in reversed(content):  # and once more, backwards
            client.run(cell, i)
        client.run(*code[-1][::-1])
    finally:
        context.__exit__(None, None, None)
    assert _snapshot(_result_folder(params, "response")) == clean


def test_lab_order_deleted_and_unsaved_cells(own):
    """With the notebook file known (JupyterLab's ``__session__``), the saved file decides:
    order by its cells, blocks of a deleted cell dropped, a cell not in it refused."""
    nb, folder, params, clean = own
    path = folder / "own.ipynb"
    nbformat.write(nb, path)
    client = _client(nb, folder)
    context = client.start()
    try:
        code = _code_cells(nb)
        session = nbformat.v4.new_code_cell(f"__session__ = {str(path)!r}")
        client.run(session, 0, cell_id="session-cell")
        for i, cell in code[:2]:
            client.run(cell, i)
        for i, cell in reversed(code[2:-1]):  # content cells in reverse order
            client.run(cell, i)
        extra = nbformat.v4.new_code_cell("sec.paragraph('尚未保存的单元')")
        client.run(extra, 0, cell_id="not-saved-yet")
        save = nbformat.v4.new_code_cell("sec.save()", metadata={"tags": ["raises-exception"]})
        client.run(save, 0, cell_id="save-cell")
        errors = [o for o in save.outputs if o.output_type == "error"]
        assert errors and "请先保存笔记本（Ctrl+S）" in errors[0]["evalue"]
        assert "尚未保存的单元" in errors[0]["evalue"]
        assert _snapshot(_result_folder(params, "response")) == clean  # untouched
        client.deleted.append("not-saved-yet")  # the analyst deletes that cell
        client.run(*code[-1][::-1])
    finally:
        context.__exit__(None, None, None)
    assert _snapshot(_result_folder(params, "response")) == clean


@pytest.mark.parametrize(("run_env", "shown"), [(None, True), ("1", False)])
def test_plt_show_displays_inline_for_the_analyst_and_not_in_batch(own, run_env, shown):
    """``plt.show()`` shows the plot in an analyst's kernel, even one started with the batch
    kernels' ``MPLBACKEND=Agg``; a batch run (``SELFCHECK_RUN=1``) stays headless."""
    import os

    nb, folder, _, _ = own
    env = {k: v for k, v in os.environ.items() if k != "SELFCHECK_RUN"}
    env["MPLBACKEND"] = "Agg"
    if run_env is not None:
        env["SELFCHECK_RUN"] = run_env
    client = _client(nb, folder)
    context = client.start(env=env)
    try:
        code = _code_cells(nb)
        for i, cell in code[:2]:  # parameters, open
            client.run(cell, i)
        show = nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
        )
        client.run(show, 0, cell_id="show-cell")
    finally:
        context.__exit__(None, None, None)
    images = [o for o in show.outputs if "image/png" in o.get("data", {})]
    assert bool(images) is shown


# -- the real notebooks ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report_params(sample_root, tmp_path_factory) -> Path:
    """A full run first, so that the sections reading others find their results."""
    from selfcheck.execution.runner import run

    params = write_params(tmp_path_factory.mktemp("rerun"), sample_root)
    run(params, echo=lambda _: None)
    return params


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_content_cell_twice_gives_the_clean_run_result(path, report_params):
    source = nbformat.read(path, as_version=4)
    nb = _with_params(source, report_params)
    code = _code_cells(nb)
    opened = next(c.source for _, c in code if "open_section" in c.source)
    section_id = next(
        s.id for s in __import__("selfcheck.sections", fromlist=["SECTIONS"]).SECTIONS
        if s.notebook == path.name
    )  # fmt: skip
    folder = _result_folder(report_params, section_id)
    assert opened
    assert SectionResult.load(folder).origin == "papermill"  # as the runner left it

    _run_all(nb, path.parent)  # a clean Run All
    clean = _snapshot(folder)

    client = _client(nb, path.parent)
    context = client.start()
    try:
        content = {i for i, _ in _content_cells(nb)}
        for i, cell in code:
            client.run(cell, i)
            if i in content:
                client.run(cell, i)
    finally:
        context.__exit__(None, None, None)
    again = _snapshot(folder)
    assert sorted(again) == sorted(clean)
    for name in clean:
        assert again[name] == clean[name], name
