"""JupyterLab in a real browser, as the analyst uses it.

A copy of the project (notebooks, parameters, the small sample quarter) gets a full report;
then ``selfcheck lab`` serves its notebooks, Chromium opens ``04_response.ipynb``, runs all
cells from the Run menu, types a new paragraph cell before ``sec.save()``, runs it twice,
re-runs two content cells, saves the notebook with Ctrl+S, runs the save cell and saves again. The
updated report must hold the new paragraph exactly once, and the saved section result must
be the one a clean Run All of the same cells gives.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright through
``executable_path`` (Playwright cannot download its own browsers here). Skipped where
Chromium or Playwright is missing, except with ``SELFCHECK_REQUIRE_BROWSER=1`` (set by
``.ci/run``), where that fails. Screenshots and the Lab's log are kept in the test's tmp
folder (``lab-browser*/``); the paths are printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import PERIOD, ROOT
from docx import Document

pytestmark = pytest.mark.browser

WAIT_S = 120  # every wait on the Lab, the kernel or a command is bounded by this
NOTEBOOK = "04_response.ipynb"
SECTION = "response"
ADDED = "浏览器测试补充段落"
ADDED_CELL = f'sec.paragraph("{ADDED}")'
PLOT_CELL = "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()"
SAVED_MESSAGE = "已保存本节结果"
TIMES: dict[str, float] = {}  # seconds of each step, printed at the end of the session


@contextlib.contextmanager
def timed(step: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        TIMES[step] = round(time.monotonic() - started, 1)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """``SELFCHECK_CHROMIUM`` if set, else Debian's ``/usr/bin/chromium`` or one on PATH."""
    override = os.environ.get("SELFCHECK_CHROMIUM")
    candidates = [override] if override else ["/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, with Playwright to drive it (or a skip / a failure saying which)."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        where = os.environ.get("SELFCHECK_CHROMIUM") or "/usr/bin/chromium"
        missing.append(f"Chromium at {where} (apt-get install chromium)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("SELFCHECK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message}; SELFCHECK_REQUIRE_BROWSER=1 requires it here")
        pytest.skip(f"{message}: JupyterLab browser test skipped")
    assert path is not None
    return path


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment of an analyst's shell in the copied project."""
    env = dict(os.environ)
    # set in this process by earlier in-process runs; an analyst's shell has neither
    for name in ("MPLBACKEND", "JUPYTER_PATH"):
        env.pop(name, None)
    env.update(
        SELFCHECK_NOTEBOOKS=str(project / "notebooks"),
        SELFCHECK_POOL_IDLE="0",  # nothing left running after the test
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def selfcheck(project: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "selfcheck", *args],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert done.returncode == 0, (
        f"selfcheck {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done


def commands(project: Path) -> set[str]:
    """The subcommands ``selfcheck --help`` lists."""
    usage = selfcheck(project, "--help").stdout
    found = re.search(r"\{([^}]*)\}", usage)
    return set(found.group(1).split(",")) if found else set()


def section_json(project: Path) -> dict:
    path = project / "outputs" / PERIOD / "sections" / SECTION / "section.json"
    return json.loads(path.read_text(encoding="utf-8"))


def report_path(project: Path) -> Path:
    reports = sorted((project / "outputs" / PERIOD).glob("*.docx"))
    assert len(reports) == 1, reports
    return reports[0]


def docx_paragraphs(path: Path) -> list[tuple[str, str]]:
    """(style, text) of every paragraph of the body and of its tables."""
    doc = Document(str(path))
    out = [(p.style.name, p.text) for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                out += [(p.style.name, p.text) for p in cell.paragraphs]
    return out


def block_signature(block: dict) -> tuple[str, str]:
    """What a block says, without the names of its files (figure numbers shift)."""
    return block.get("type", "?"), str(block.get("text") or block.get("caption") or "")


@dataclass
class Project:
    root: Path
    blocks: list[tuple[str, str]] = field(repr=False)  # the section result of the batch run
    metric_ids: list[str] = field(repr=False)
    headings: list[str] = field(repr=False)  # the report's headings after the batch run


@pytest.fixture(scope="module")
def project(chromium, sample_root, tmp_path_factory) -> Project:
    """The repository's notebooks and parameters with the sample quarter, and a full report."""
    root = tmp_path_factory.mktemp("lab-project")
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=skip)
    shutil.copytree(ROOT / "params", root / "params", ignore=skip)
    shutil.copytree(sample_root, root / "data")
    with timed("full report (selfcheck run)"):
        selfcheck(root, "run", f"params/{PERIOD}.yaml")
    batch = section_json(root)
    return Project(
        root,
        [block_signature(b) for b in batch["blocks"]],
        [m["metric_id"] for m in batch["metrics"]],
        [t for s, t in docx_paragraphs(report_path(root)) if s.startswith("Heading")],
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    log: Path

    def api(self, path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def kernel_ready(self, notebook: str) -> bool:
        """The notebook's kernel is started, connected to the page and idle."""
        sessions = json.loads(self.api("/api/sessions"))
        return any(
            s["path"].endswith(notebook)
            and s["kernel"]["execution_state"] == "idle"
            and s["kernel"]["connections"] > 0
            for s in sessions
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def lab(project, tmp_path_factory) -> Iterator[Lab]:
    """``selfcheck lab`` on the copied notebooks, as the analyst starts it, with Jupyter's
    own folders (settings, workspaces, runtime) in the test's tmp folder."""
    home = tmp_path_factory.mktemp("lab-browser-jupyter")
    port, token = free_port(), secrets.token_hex(16)
    env = project_env(
        project.root,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    # no news or update checks (they would pop up over the notebook and reach out)
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
    )
    log = home / "lab.log"
    cmd = [sys.executable, "-m", "selfcheck", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = Lab(f"http://127.0.0.1:{port}", token, log)
    print(f"\nJupyterLab log: {log}")
    try:
        deadline, started = time.monotonic() + WAIT_S, time.monotonic()
        while True:
            if proc.poll() is not None:
                pytest.fail(f"selfcheck lab exited {proc.returncode}:\n{server.log_tail()}")
            try:
                json.loads(server.api("/api/status"))
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {WAIT_S} s:\n{server.log_tail()}")
                time.sleep(0.5)
        TIMES["JupyterLab answers"] = round(time.monotonic() - started, 1)
        yield server
    finally:
        stop(proc, server)


def stop(proc: subprocess.Popen, server: Lab) -> None:
    """Shut the server down through its API (it stops its kernels); end the process group
    started above if it does not exit."""
    with contextlib.suppress(OSError):
        server.api("/api/shutdown", method="POST")
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def page(chromium, lab, tmp_path_factory):
    """A Chromium page (fresh profile) on the Lab."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("lab-browser-profile")
    with sync_playwright() as pw:
        with timed("Chromium starts"):
            context = pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=chromium,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
                timeout=WAIT_S * 1000,
            )
        context.set_default_timeout(WAIT_S * 1000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


# -- the notebook in the page --------------------------------------------------------------

CELL_SOURCES = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(
    c => Array.from(c.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n'))"""
BUSY = """() => {
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt'));
    return indicator !== null && indicator.getAttribute('data-status') === 'idle'
        && !prompts.some(p => p.textContent.includes('*'));
}"""
RAN = """([prompt, before]) => {
    const t = prompt.textContent.trim();
    return t !== before && /^\\[\\d+\\]:$/.test(t);
}"""


def code_cell(page, source: str):
    """The first code cell whose source is ``source`` (whitespace at the ends aside)."""
    sources = [s.strip() for s in page.evaluate(CELL_SOURCES)]
    assert source.strip() in sources, f"no cell {source!r} in {sources}"
    return page.locator(".jp-Notebook .jp-CodeCell").nth(sources.index(source.strip()))


def save_cell(page):
    """The last code cell calling ``sec.save()`` (it may do more)."""
    return (
        page.locator(".jp-Notebook .jp-CodeCell")
        .filter(has=page.locator(".jp-InputArea-editor", has_text="sec.save()"))
        .last
    )


def wait_idle(page) -> None:
    page.wait_for_function(BUSY, timeout=WAIT_S * 1000, polling=200)


def run_cell(page, cell) -> None:
    """Click into the cell, Ctrl+Enter, wait for its new execution count and an idle kernel."""
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.text_content().strip()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(RAN, arg=[prompt.element_handle(), before], timeout=WAIT_S * 1000)
    wait_idle(page)


def run_all(page, save) -> None:
    """Run → Run All Cells; wait until the kernel is done and the save cell has run."""
    prompt = save.locator(".jp-InputPrompt")
    before = prompt.text_content().strip()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    started = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt'))
        .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    page.wait_for_function(started, timeout=WAIT_S * 1000, polling=100)
    wait_idle(page)  # done, or stopped at an error
    after = prompt.text_content().strip()
    errors = page.locator(".jp-OutputArea-output", has_text="Traceback").all_text_contents()
    assert after != before and not errors, (
        f"Run All did not reach sec.save() (its prompt {after!r}):\n" + "\n".join(errors)[:3000]
    )


def type_cell_above(page, cell, text: str) -> None:
    """Select ``cell``, insert a cell above it (command mode ``A``) and type ``text``."""
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def content_cells(page) -> list[str]:
    """Sources of the cells that emit report blocks: after the metrics (or the open) cell,
    before ``sec.save()``, none of the cells this test adds."""
    sources = page.evaluate(CELL_SOURCES)
    start = max(
        (i for i, s in enumerate(sources) if "compute(" in s or "open_section(" in s), default=0
    )
    return [
        s.strip()
        for s in sources[start + 1 :]
        if s.strip() and "sec.save()" not in s and s not in (ADDED_CELL, PLOT_CELL)
    ]


@dataclass
class Session:
    project: Project
    notebook: dict = field(repr=False)  # the notebook as JupyterLab saved it
    section: dict = field(repr=False)  # the section result saved from the Lab kernel
    report: list[tuple[str, str]] = field(repr=False)  # the updated report's paragraphs
    rerun: list[str] = field(default_factory=list)  # the content cells run a second time
    seconds: float = 0.0


@pytest.fixture(scope="module")
def session(project, lab, page, tmp_path_factory) -> Session:
    shots = tmp_path_factory.mktemp("lab-browser-screenshots")
    started = time.monotonic()
    notebook_file = project.root / "notebooks" / NOTEBOOK
    try:
        with timed("open the notebook, kernel idle"):
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}")
            page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for()
            # the page shows "idle" before there is a kernel: ask the server, then the page
            deadline = time.monotonic() + WAIT_S
            while not lab.kernel_ready(NOTEBOOK):
                assert time.monotonic() < deadline, f"no idle kernel for {NOTEBOOK} in {WAIT_S} s"
                time.sleep(0.2)
            page.locator("#jp-main-statusbar", has_text="Idle").wait_for()
            wait_idle(page)

        with timed("Run → Run All Cells"):
            save = save_cell(page)
            run_all(page, save)
        page.screenshot(path=str(shots / "1-run-all.png"), full_page=True)

        with timed("type two cells, re-run, save cell, Ctrl+S"):
            existing = content_cells(page)
            assert existing, page.evaluate(CELL_SOURCES)
            type_cell_above(page, save, ADDED_CELL)
            added = code_cell(page, ADDED_CELL)
            run_cell(page, added)
            run_cell(page, added)  # twice: the paragraph must still be there once
            type_cell_above(page, save, PLOT_CELL)
            run_cell(page, code_cell(page, PLOT_CELL))
            rerun = list(dict.fromkeys([existing[0], existing[-1]]))
            for source in rerun:
                run_cell(page, code_cell(page, source))

            def save_notebook() -> None:
                page.keyboard.press("Control+s")
                deadline = time.monotonic() + WAIT_S
                while ADDED not in notebook_file.read_text(encoding="utf-8"):
                    assert time.monotonic() < deadline, f"Ctrl+S did not save {notebook_file}"
                    time.sleep(0.2)
                page.locator(".jp-mod-dirty").first.wait_for(state="detached")

            # the report follows the saved notebook: save it, then save the section
            save_notebook()
            run_cell(page, save)
            save_notebook()  # with the save cell's output
        page.screenshot(path=str(shots / "2-edited-and-saved.png"), full_page=True)
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shots / "failed.png"), full_page=True)
        print(f"\nscreenshots: {shots}\nJupyterLab log (end):\n{lab.log_tail()}")
        raise
    print(f"\nscreenshots: {shots}")
    notebook = json.loads(notebook_file.read_text(encoding="utf-8"))
    section = section_json(project.root)

    # the updated report, without running every section again
    if "assemble" in commands(project.root):
        step = ("assemble", f"params/{PERIOD}.yaml")
    else:
        step = ("run", f"params/{PERIOD}.yaml", "--only", SECTION)
    with timed(f"selfcheck {' '.join(step)}"):
        selfcheck(project.root, *step)
    report = docx_paragraphs(report_path(project.root))
    seconds = round(time.monotonic() - started, 1)
    print("seconds: " + "; ".join(f"{k} {v}" for k, v in TIMES.items()))
    return Session(project, notebook, section, report, rerun, seconds)


def code_sources(notebook: dict) -> list[str]:
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in notebook["cells"]
        if c["cell_type"] == "code"
    ]


def test_every_cell_ran_and_the_edit_was_saved(session):
    """Run All executed every code cell without an error, and Ctrl+S saved the typed cells
    where they were typed: just before ``sec.save()``."""
    cells = [c for c in session.notebook["cells"] if c["cell_type"] == "code"]
    sources = code_sources(session.notebook)
    for cell, source in zip(cells, sources, strict=True):
        assert cell.get("execution_count"), f"not executed: {source!r}"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{source!r}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert sources.count(ADDED_CELL) == 1
    assert sources.index(ADDED_CELL) < sources.index(PLOT_CELL) < len(sources) - 1
    assert "sec.save()" in sources[-1]
    saved = json.dumps(cells[-1]["outputs"], ensure_ascii=False)
    assert SAVED_MESSAGE in saved


def test_added_paragraph_reaches_the_report_once(session):
    found = [i for i, (_, text) in enumerate(session.report) if ADDED in text]
    assert len(found) == 1, [session.report[i] for i in found]
    assert session.report[found[0]][1] == ADDED
    # where its cell is: at the end of the section's last subsection
    last_heading = [t for kind, t in session.project.blocks if kind == "heading"][-1]
    above = [t for s, t in session.report[: found[0]] if s.startswith("Heading")][-1]
    assert last_heading in above, (above, last_heading)
    # the report keeps its headings: none lost, none doubled by the re-runs
    headings = [t for s, t in session.report if s.startswith("Heading")]
    assert headings == session.project.headings


def test_reruns_give_the_result_of_a_clean_run(session):
    """Cells run twice, then saved: the section result is the batch run's with the added
    paragraph at its place (the cell before ``sec.save()``), nothing doubled."""
    blocks = [block_signature(b) for b in session.section["blocks"]]
    added = [b for b in blocks if ADDED in b[1]]
    assert len(added) == 1, (
        f"the added paragraph is {len(added)} times in the saved section result "
        f"(cells run twice: {ADDED_CELL!r}, {', '.join(session.rerun)})"
    )
    expected = [*session.project.blocks, ("paragraph", ADDED)]
    assert blocks == expected, (
        f"{len(blocks)} blocks saved, a clean run gives {len(expected)} "
        f"(cells run twice: {ADDED_CELL!r}, {', '.join(session.rerun)})"
    )
    assert [m["metric_id"] for m in session.section["metrics"]] == session.project.metric_ids


def test_plt_show_displays_inline(session):
    """``plt.show()`` in a section notebook shows the chart under the cell."""
    (cell,) = [
        c for c in session.notebook["cells"] if c["cell_type"] == "code"
        and "".join(c["source"]) == PLOT_CELL
    ]  # fmt: skip
    kinds = [k for o in cell.get("outputs", []) for k in o.get("data", {})]
    assert any(k.startswith("image/") for k in kinds), (
        f"no image under the plt.show() cell; its outputs: {json.dumps(cell['outputs'])[:500]}"
    )
