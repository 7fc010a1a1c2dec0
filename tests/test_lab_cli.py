"""``selfcheck lab`` / ``make lab`` in a container (as root, options passed through), and
notebooks that reach git without the outputs JupyterLab saved in them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from selfcheck import cli


def test_lab_as_root_adds_allow_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0, raising=False)
    cmd = cli.lab_command(Path("/nb"), ["--no-browser", "--port", "8899"])
    assert cmd[1:4] == ["-m", "jupyterlab", "--notebook-dir=/nb"]
    assert "--allow-root" in cmd and cmd[-3:] == ["--no-browser", "--port", "8899"]
    assert cli.lab_command(Path("/nb"), ["--allow-root"]).count("--allow-root") == 1


def test_lab_as_another_user_adds_nothing(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000, raising=False)
    assert "--allow-root" not in cli.lab_command(Path("/nb"), [])


def test_lab_kernels_are_not_told_to_draw_headless(monkeypatch):
    """Batch kernels draw with Agg; JupyterLab's kernels show plots inline."""
    from selfcheck.execution import kernels

    seen = {}
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setattr(kernels, "start_shared", lambda: None)
    monkeypatch.setattr(subprocess, "call", lambda cmd, env=None: seen.update(env=env) or 0)
    assert cli.main(["lab", "--no-browser"]) == 0
    assert "MPLBACKEND" not in seen["env"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_selfcheck_lab_starts_a_server_that_answers_and_stops(tmp_path):
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed in this environment")
    port, token = _free_port(), "selfcheck-test"
    env = dict(
        os.environ,
        SELFCHECK_POOL_IDLE="0",  # no warm server left behind
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        HOME=str(tmp_path),
    )
    log = (tmp_path / "lab.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selfcheck",
            "lab",
            "--no-browser",
            "--port",
            str(port),
            f"--IdentityProvider.token={token}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own group: JupyterLab is stopped with it
    )
    status = None
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/status?token={token}"
                with urllib.request.urlopen(url, timeout=2) as r:
                    status = json.loads(r.read().decode("utf-8"))
                break
            except OSError:
                time.sleep(0.5)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        log.close()
    output = (tmp_path / "lab.log").read_text(encoding="utf-8", errors="replace")
    assert status is not None, f"JupyterLab did not answer on port {port}:\n{output[-3000:]}"
    assert "started" in status
    assert "--allow-root" not in output  # Jupyter's "Running as root is not recommended"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, encoding="utf-8", check=True
    )


def test_a_notebook_saved_with_outputs_is_staged_without_them(tmp_path):
    """``make``'s filter set-up in a fresh repository, then ``git add`` of a notebook as
    JupyterLab saves it: the staged version is the notebook as committed."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("git or make is not installed")
    pytest.importorskip("nbstripout", reason="nbstripout is not installed (pip install -e .[test])")
    repo = tmp_path / "clone"
    (repo / "notebooks").mkdir(parents=True)
    _git(repo, "init", "-q")
    shutil.copy(ROOT / ".gitattributes", repo / ".gitattributes")
    (repo / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)  # this venv
    source = ROOT / "notebooks" / "04_response.ipynb"
    target = repo / "notebooks" / source.name
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "notebook-filter"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    committed = nbformat.read(source, as_version=4)

    nb = nbformat.read(source, as_version=4)  # as JupyterLab saves it after Run All
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", text="已保存本节结果\n")]
    nb.metadata["language_info"] = {
        "name": "python",
        "version": "3.11.7",
        "pygments_lexer": "ipython3",
        "mimetype": "text/x-python",
    }
    nbformat.write(nb, target)
    _git(repo / "notebooks", "add", source.name)  # from a subfolder: the filter still runs

    staged = _git(repo, "show", f":notebooks/{source.name}").stdout
    clean = nbformat.reads(staged, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in clean.cells if "outputs" in c)
    assert staged == source.read_text(encoding="utf-8")  # exactly the notebook as committed
    assert clean.cells == committed.cells
    # what tests/test_notebooks.py checks: the version git commits, not the working tree's
    assert as_committed(target, nbformat.read(target, as_version=4)).cells == committed.cells
    _git(repo, "config", "--unset", "filter.nbstripout.clean")
    with pytest.raises(pytest.fail.Exception, match="make notebook-filter"):
        as_committed(target, nbformat.read(target, as_version=4))


def as_committed(path: Path, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as ``git add`` stages it: outputs that JupyterLab saved in the working
    tree are stripped by the nbstripout filter (.gitattributes) — when git has the filter
    set up (``make notebook-filter``); outside a git checkout nothing is committed."""
    if not any(c.get("outputs") or c.get("execution_count") for c in nb.cells):
        return nb

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=path.parent, capture_output=True, text=True, encoding="utf-8"
            )
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    if git("rev-parse", "--is-inside-work-tree") == "true" and not (
        git("check-attr", "filter", "--", path.name).endswith(": nbstripout")
        and git("config", "--get", "filter.nbstripout.clean")
    ):
        pytest.fail(
            f"{path.name} has outputs and git would commit them: run `make notebook-filter`"
        )
    from nbstripout import strip_output

    return strip_output(nb, keep_output=False, keep_count=False, keep_id=True)
