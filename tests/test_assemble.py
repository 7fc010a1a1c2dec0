"""From JupyterLab to Word: ``selfcheck assemble`` from the saved results, what a run says
about (and refuses to overwrite of) work saved in JupyterLab, and ``--only`` keeping the
sections that read the re-run one consistent with it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from conftest import PERIOD, ROOT, write_params

from selfcheck.errors import ReportError, SectionError
from selfcheck.execution.kernels import fork_available
from selfcheck.execution.runlock import MARKER_FILE
from selfcheck.execution.runner import MANIFEST_FILE, RUN_ENV, run, sections_to_run
from selfcheck.sections import SECTIONS

pytestmark = pytest.mark.integration

REPORT = f"{PERIOD}_客户服务自查报告.docx"
HEAVY = ("papermill", "nbconvert", "nbclient", "nbformat", "jupyter_client", "ipykernel")


class Workspace:
    """A run of the sample quarter with its own notebooks folder and standards file."""

    def __init__(self, root: Path, sample_root: Path) -> None:
        self.notebooks = root / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.notebooks)
        old = time.time() - 3600  # notebooks saved an hour ago, before any result
        for nb in self.notebooks.glob("*.ipynb"):
            os.utime(nb, (old, old))
        self.standards = root / "standards.yaml"
        shutil.copy(ROOT / "params" / "standards.yaml", self.standards)
        self.params = write_params(root / "run", sample_root, standards=self.standards.as_posix())
        self.out = root / "run" / "outputs" / PERIOD

    def section_json(self, section_id: str) -> Path:
        return self.out / "sections" / section_id / "section.json"

    def load(self, section_id: str) -> dict:
        return json.loads(self.section_json(section_id).read_text(encoding="utf-8"))

    def dump(self, section_id: str, payload: dict) -> None:
        self.section_json(section_id).write_text(
            json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
        )


@pytest.fixture(scope="module")
def ws(sample_root, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("assemble")
        workspace = Workspace(root, sample_root)
        mp.setenv("SELFCHECK_NOTEBOOKS", str(workspace.notebooks))
        run(workspace.params, echo=lambda _: None)
        yield workspace


def assemble_cli(ws: Workspace) -> subprocess.CompletedProcess:
    """``selfcheck assemble`` in a new process (no warm server), listing what it imported."""
    code = (
        "import sys\nfrom selfcheck.cli import main\n"
        f"code = main(['assemble', {str(ws.params)!r}])\n"
        f"print('IMPORTED', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
        "raise SystemExit(code)\n"
    )
    env = dict(os.environ, SELFCHECK_POOL_IDLE="0", SELFCHECK_NOTEBOOKS=str(ws.notebooks))
    env.pop(RUN_ENV, None)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_assemble_rebuilds_the_same_report_without_kernels_or_notebook_machinery(ws):
    report = ws.out / REPORT
    before = report.read_bytes()
    report.unlink()
    (ws.out / "metrics.csv").unlink()

    t = time.perf_counter()
    done = assemble_cli(ws)
    seconds = time.perf_counter() - t
    assert done.returncode == 0, done.stderr
    assert "IMPORTED []" in done.stdout  # no papermill, nbconvert, jupyter, kernel
    assert "未运行任何笔记本" in done.stdout, done.stdout
    assert report.read_bytes() == before  # the same report as the run's
    assert (ws.out / "metrics.csv").exists() and not (ws.out / MARKER_FILE).exists()
    manifest = json.loads((ws.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["command"] == "assemble"
    assert [s["section_id"] for s in manifest["sections"]][:3] == ["summary", "branches", "system"]
    assert all(s["status"] == "reused" and s["saved_at"] for s in manifest["sections"])
    print(f"selfcheck assemble, new process: {seconds:.2f} s")


@pytest.mark.parametrize("engine", ["selfcheck", "papermill"])
def test_the_kernels_of_a_run_are_marked_as_a_batch_run(ws, engine):
    path = ws.notebooks / "10_appendix.ipynb"
    original = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    check = f"import os\nassert os.environ.get({RUN_ENV!r}) == '1', dict(os.environ)"
    nb.cells.insert(3, nbformat.v4.new_code_cell(check))
    nbformat.write(nb, path)
    try:
        done = run(ws.params, only="appendix", engine=engine, echo=lambda _: None)
    finally:
        path.write_bytes(original)
        old = time.time() - 3600
        os.utime(path, (old, old))
    assert [s.status for s in done.sections] == ["ok"]
    assert RUN_ENV not in os.environ  # only for the run's kernels


def test_the_manifest_of_a_run_records_origin_and_save_time(ws):
    run(ws.params, only="process", echo=lambda _: None)
    manifest = json.loads((ws.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    entries = {s["section_id"]: s for s in manifest["sections"]}
    assert len(entries) == len(SECTIONS)  # every section of the report, run or reused
    assert entries["process"]["status"] == "ok" and entries["process"]["origin"] == "papermill"
    assert entries["summary"]["status"] == "ok"  # re-run after process: it reads it
    assert entries["response"]["status"] == "reused" and entries["response"]["saved_at"]
    if fork_available():  # warm kernels, a small quarter: one more than cores in each phase
        cores = os.cpu_count() or 1
        assert (manifest["workers"], manifest["workers_after_all"]) == (cores + 1, cores + 1)
    saved = ws.load("process")
    if "origin" in saved:  # results that say where they came from
        assert saved["origin"] == "papermill"


def run_cells_like_jupyterlab(ws: Workspace, notebook: str, monkeypatch) -> None:
    """Every code cell of a notebook run in this process, as a Lab kernel runs them (no
    ``SELFCHECK_RUN``): the section result is saved from an interactive session."""
    monkeypatch.delenv(RUN_ENV, raising=False)
    monkeypatch.chdir(ws.notebooks)
    nb = nbformat.read(ws.notebooks / notebook, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in cell.metadata.get("tags", []):
            source = f"period = {PERIOD!r}\nparams_path = {str(ws.params)!r}\nbranch = ''"
        exec(compile(source, notebook, "exec"), namespace)


def test_assemble_names_the_sections_saved_in_jupyterlab(ws, monkeypatch):
    run_cells_like_jupyterlab(ws, "10_appendix.ipynb", monkeypatch)
    saved = ws.load("appendix")
    if "origin" not in saved:  # results saved before they told their origin
        saved |= {"origin": "interactive", "saved_at": datetime.now().isoformat()}
        ws.dump("appendix", saved)
    assert saved["origin"] == "interactive"

    done = assemble_cli(ws)
    assert done.returncode == 0, done.stderr
    assert "来自 JupyterLab 会话：附录" in done.stdout, done.stdout
    manifest = json.loads((ws.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    appendix = next(s for s in manifest["sections"] if s["section_id"] == "appendix")
    assert appendix["origin"] == "interactive"
    assert appendix["saved_at"][:16] == saved["saved_at"][:16]


def test_only_stops_over_jupyterlab_work_not_saved_in_its_notebook(ws):
    saved = ws.load("response")
    notebook = ws.notebooks / "04_response.ipynb"
    ws.dump("response", saved | {"origin": "interactive", "saved_at": datetime.now().isoformat()})
    report = (ws.out / REPORT).read_bytes()
    said: list[str] = []
    with pytest.raises(SectionError) as e:
        run(ws.params, only="response", echo=said.append)
    message = str(e.value)
    assert "04_response.ipynb" in message and "Ctrl+S" in message and "--force" in message
    # the appendix (saved from JupyterLab above) is re-run after response: named too
    assert "10_appendix.ipynb" in message
    assert ws.load("response")["origin"] == "interactive"  # nothing ran, nothing replaced
    assert (ws.out / REPORT).read_bytes() == report and not (ws.out / MARKER_FILE).exists()

    # saved in JupyterLab afterwards: the run goes ahead and says what it replaces
    os.utime(notebook, None)
    os.utime(ws.notebooks / "10_appendix.ipynb", None)
    said.clear()
    run(ws.params, only="response", echo=said.append)
    assert any("JupyterLab" in line and "04_response.ipynb" in line for line in said), said
    assert ws.load("response").get("origin", "papermill") == "papermill"


def test_a_run_names_notebooks_saved_after_their_results(ws):
    from selfcheck.config import load_config
    from selfcheck.execution.runner import check_saved_work
    from selfcheck.sections import SECTIONS

    notebook = ws.notebooks / "06_quality.ipynb"
    later = time.time() + 5
    os.utime(notebook, (later, later))
    said: list[str] = []
    check_saved_work(load_config(ws.params), SECTIONS, said.append, stop=True)
    old = time.time() - 3600
    os.utime(notebook, (old, old))
    assert len(said) == 1 and "06_quality.ipynb" in said[0] and "晚于" in said[0], said


def test_sections_to_run_with_only():
    class Config:
        output_dir = Path("/nonexistent")

    assert [s.id for s in sections_to_run(Config(), "response")] == [
        "response",
        "summary",
        "branches",  # a group's; elsewhere saved empty without a kernel
        "inspection",
        "findings",
        "measures",
        "appendix",
    ]
    assert [s.id for s in sections_to_run(Config(), "summary")] == ["summary"]
    assert len(sections_to_run(Config(), None)) == len(SECTIONS)


def test_assemble_refuses_a_summary_built_over_other_results(ws):
    from selfcheck.blocks import SectionResult

    if not callable(getattr(SectionResult, "digest", None)):
        pytest.skip("section results do not record the digests of their inputs yet")
    saved = ws.load("response")
    ws.dump("response", saved | {"metrics": saved["metrics"][1:]})
    with pytest.raises(ReportError) as e:
        from selfcheck.execution.runner import assemble_report

        assemble_report(ws.params, echo=lambda _: None)
    assert "summary" in str(e.value)


def test_only_response_after_it_changed_rebuilds_a_matching_summary(ws):
    """The response result changes (a target is dropped from the standards): ``--only
    response`` re-runs the summary too, so the report's summary counts what is in it."""

    def targeted() -> int:
        return sum(
            1
            for s in ("system", "process", "response", "satisfaction", "quality")
            for m in ws.load(s)["metrics"]
            if m.get("target") is not None and ":" not in m["metric_id"]
        )

    def overview() -> str:
        return next(
            b["text"]
            for b in ws.load("summary")["blocks"]
            if b["type"] == "paragraph" and "设有目标的指标共" in b["text"]
        )

    before = targeted()
    assert f"设有目标的指标共{before}项" in overview()
    text = ws.standards.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.strip().startswith("online.workday_avg_minutes"))
    ws.standards.write_text(text.replace(line + "\n", ""), encoding="utf-8")

    again = run(ws.params, only="response", echo=lambda _: None)
    ran = [s.section_id for s in again.sections]
    assert ran[0] == "response" and set(ran[1:]) == {
        "summary", "branches", "inspection", "findings", "measures", "appendix"}  # fmt: skip
    assert targeted() == before - 1
    assert f"设有目标的指标共{before - 1}项" in overview()
    from docx import Document

    paragraphs = "\n".join(p.text for p in Document(str(again.report)).paragraphs)
    assert f"设有目标的指标共{before - 1}项" in paragraphs


def test_metrics_workbook_is_copied_only_when_it_is_the_last_runs(ws, monkeypatch):
    import openpyxl
    import xlsxwriter

    from selfcheck.execution.runner import assemble_report
    from selfcheck.exports import workbook_key

    xlsx = ws.out / "metrics.xlsx"
    opened: list[str] = []
    workbook = xlsxwriter.Workbook

    def counting(path, *args, **kwargs):
        opened.append(path)
        return workbook(path, *args, **kwargs)

    monkeypatch.setattr(xlsxwriter, "Workbook", counting)
    assemble_report(ws.params, echo=lambda _: None, layout=False)  # the manifest records it
    written = xlsx.read_bytes()
    manifest = json.loads((ws.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert len(manifest["outputs"]["metrics.xlsx"]) == 64

    opened.clear()
    assemble_report(ws.params, echo=lambda _: None, layout=False)
    assert opened == [] and xlsx.read_bytes() == written  # same rows: the same file, copied

    key = workbook_key(xlsx)
    book = openpyxl.load_workbook(xlsx)  # opened and saved elsewhere, a figure changed
    book["指标"].cell(2, 5).value = 0.5
    book.save(xlsx)
    assert key is not None and workbook_key(xlsx) == key  # the key alone would let it stand
    assemble_report(ws.params, echo=lambda _: None, layout=False)
    assert len(opened) == 1 and xlsx.read_bytes() == written  # not the edited file: anew
