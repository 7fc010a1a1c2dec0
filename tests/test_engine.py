"""The warm kernel pool: a fresh forked kernel per notebook, and the same report as cold kernels."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import nbformat
import papermill as pm
import pytest
from conftest import write_params

from selfcheck.execution.engine import ENGINE_NAME, register
from selfcheck.execution.kernels import KernelPool, fork_available
from selfcheck.execution.runner import kernel_environment

pytestmark = pytest.mark.skipif(not fork_available(), reason="the warm pool needs os.fork")


def notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def through_pool(pool: KernelPool, nb: nbformat.NotebookNode, folder, name: str, **extra):
    """Run ``nb`` through Papermill with the pool (``extra``: the engine's own options);
    the executed notebook's path."""
    source, target = folder / f"{name}.ipynb", folder / f"{name}.out.ipynb"
    nbformat.write(nb, source)
    pm.execute_notebook(
        str(source),
        str(target),
        kernel_name="python3",
        engine_name=register(),
        kernel_pool=pool,
        resources={"metadata": {"path": str(folder)}},
        progress_bar=False,
        **extra,
    )
    return target


def execute(pool: KernelPool, nb: nbformat.NotebookNode, folder, name: str) -> dict:
    """Run ``nb`` through Papermill with the pool; the last cell prints a JSON line."""
    out = nbformat.read(through_pool(pool, nb, folder, name), as_version=4)
    return json.loads(out.cells[-1].outputs[0]["text"].strip().splitlines()[-1])


def gone(pid: int, timeout: float = 5) -> bool:
    """The process has exited and been reaped (by the fork server, its parent)."""
    from selfcheck.execution.kernels import wait_exited

    return wait_exited(pid, timeout)


@pytest.fixture(scope="module")
def pool():
    kernel_environment()
    with KernelPool() as p:
        p.ping()
        yield p


PROBE = """
import json, os, sys
import numpy as np
import selfcheck
print(json.dumps({
    "pid": os.getpid(),
    "leak": getattr(selfcheck, "_leak", None),
    "draw": float(np.random.random()),
    "cwd": os.getcwd(),
    "path": sys.path,
    "env": os.environ.get("SELFCHECK_PROBE"),
    "preloaded": "seaborn" in sys.modules and "selfcheck.sections.response" in sys.modules,
    "name": __name__,
}))
"""


def test_every_notebook_gets_a_new_process_and_no_state_from_the_last(pool, tmp_path):
    os.environ["SELFCHECK_PROBE"] = "first"
    first = execute(pool, notebook("import selfcheck\nselfcheck._leak = 1", PROBE), tmp_path, "a")
    os.environ["SELFCHECK_PROBE"] = "second"
    try:
        second = execute(pool, notebook(PROBE), tmp_path, "b")
    finally:
        del os.environ["SELFCHECK_PROBE"]
    assert first["leak"] == 1 and second["leak"] is None  # module state died with the kernel
    assert first["pid"] != second["pid"] != pool._proc.pid
    assert first["draw"] != second["draw"]  # numpy reseeded in every fork
    assert first["env"] == "first" and second["env"] == "second"  # the runner's env at launch
    assert second["cwd"] == str(tmp_path) and "" in second["path"]
    assert second["preloaded"] and second["name"] == "__main__"
    assert gone(first["pid"]) and gone(second["pid"])  # shut down after its notebook
    assert pool.kernels_started >= 2


def test_an_error_keeps_its_traceback(pool, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as e:
        execute(pool, notebook("x = 1", "1 / 0", PROBE), tmp_path, "err")
    assert e.value.ename == "ZeroDivisionError"
    out = nbformat.read(tmp_path / "err.out.ipynb", as_version=4)
    errors = [o for c in out.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ZeroDivisionError" and errors[0]["traceback"]


def test_saves_while_running_are_throttled_never_late_and_the_end_is_whole(
    pool, tmp_path, monkeypatch
):
    import papermill.engines

    writes: list[int] = []
    running: list[int | None] = []  # the cell papermill marks as running at each write
    write = papermill.engines.write_ipynb

    def counting(nb, path):
        writes.append(sum(1 for c in nb.cells if c.get("outputs")))
        status = [c.metadata.get("papermill", {}).get("status") for c in nb.cells]
        running.append(status.index("running") if "running" in status else None)
        write(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counting)
    cells = [f"print({i})" for i in range(6)]

    def run(name: str, **extra) -> nbformat.NotebookNode:
        writes.clear()
        running.clear()
        with contextlib.suppress(pm.PapermillExecutionError):
            through_pool(pool, notebook(*cells), tmp_path, name, **extra)
        return nbformat.read(tmp_path / f"{name}.out.ipynb", as_version=4)

    run("every")
    assert len(writes) >= 2 * len(cells)  # papermill: at the start and end of every cell
    out = run("throttled", save_every=3600)
    # the start (before any cell) and the end, whole: every cell's output is in the file
    assert writes == [0, len(cells)]
    assert [c.outputs[0]["text"] for c in out.cells] == [f"{i}\n" for i in range(6)]

    # a cell that runs for long, silently, after quick ones: shown running while it runs
    cells[:] = [*(f"print({i})" for i in range(6)), "import time\ntime.sleep(1.5)", "print(7)"]
    run("long", save_every=0.5)
    assert (6, 6) in zip(writes, running, strict=True)  # mid-sleep: six outputs, 7th running
    assert len(writes) <= 6  # of papermill's 2 per cell: the start, that one, after it, the end
    assert writes[-1] == 7 and running[-1] is None

    cells[:] = [f"print({i})" for i in range(6)]
    cells[3] = "1 / 0"
    out = run("failed", save_every=3600)
    assert len(writes) == 2  # a failure is written whole too, traceback included
    errors = [o for c in out.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ZeroDivisionError"] and errors[0]["traceback"]


def test_html_is_rendered_by_the_pool(pool, tmp_path):
    execute(pool, notebook(PROBE), tmp_path, "h")
    html = pool.render_html(tmp_path / "h.out.ipynb", tmp_path / "h.html")
    assert "<html" in html.read_text(encoding="utf-8")[:2000]


def test_without_the_server_kernels_start_cold(tmp_path):
    kernel_environment()
    p = KernelPool().start()
    p.ping()
    os.kill(p._proc.pid, signal.SIGKILL)
    p._proc.wait()
    got = execute(p, notebook(PROBE), tmp_path, "cold")  # still runs: a spawned kernel
    assert got["leak"] is None and got["preloaded"] is False
    p.close()


def test_closing_the_pool_kills_a_kernel_left_running(tmp_path):
    kernel_environment()
    with KernelPool() as p:
        p.ping()
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
        argv = [a.replace("{connection_file}", str(tmp_path / "k.json")) for a in spec.argv]
        pid = p.fork_kernel(argv, str(tmp_path), dict(os.environ))
        os.kill(pid, 0)
    assert gone(pid), "kernel survived its pool"


def test_engine_is_registered_with_papermill():
    from papermill.engines import papermill_engines

    assert papermill_engines.get_engine(register()).__name__ == "SelfcheckEngine"
    assert ENGINE_NAME == "selfcheck"


@pytest.mark.integration
def test_fast_path_document_is_byte_identical_to_a_cold_serial_run(sample_root, tmp_path):
    """Cold reference first (Papermill's engine, one kernel at a time, data read from CSV),
    then the fast path (warm forked kernels, parallel, the cache): the same bytes."""
    from selfcheck.execution.runner import run

    params = write_params(tmp_path / "identity", sample_root)
    cold = run(params, engine="papermill", workers=1, echo=lambda _: None)
    reference = cold.report.read_bytes()
    metrics = cold.metrics_csv.read_bytes()
    fast = run(params, engine="selfcheck", echo=lambda _: None)
    manifest = json.loads((fast.output_dir / "run_manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "selfcheck"
    assert fast.report.read_bytes() == reference
    assert fast.metrics_csv.read_bytes() == metrics
    for s in fast.sections:
        if s.notebook is None:  # left out without a kernel (各分支机构对比 outside a group)
            assert s.status == "ok" and s.html is None
            continue
        assert s.status == "ok" and os.path.getsize(s.html) > 10_000


def test_a_changed_module_makes_the_shared_server_stale(tmp_path):
    from selfcheck.execution.forkserver import Server, _file_stamp

    module = tmp_path / "m.py"
    module.write_text("x = 1\n")
    server = Server.__new__(Server)
    server._sources = [(str(module), _file_stamp(str(module)))]
    assert not server.stale()
    module.write_text("x = 22\n")
    assert server.stale()


def test_the_shared_server_outlives_a_run_and_forks_the_next(tmp_path, monkeypatch):
    """`selfcheck run` leaves a warm server behind; the next `selfcheck run` is forked from it
    (same output, same exit code); stopping it works."""
    import subprocess
    import sys

    from selfcheck.execution.kernels import KernelPool, runtime_dir, server_key, stop_shared

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("SELFCHECK_POOL_IDLE", "120")
    kernel_environment()  # the environment the command line computes its server key with
    params = tmp_path / "missing.yaml"
    cmd = [sys.executable, "-m", "selfcheck", "run", str(params)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    try:
        second = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        assert first.returncode == second.returncode != 0
        assert "missing.yaml" in second.stderr and second.stderr == first.stderr
        pool = KernelPool(shared=True)
        pool.socket_path = str(runtime_dir() / f"pool-{server_key()}.sock")
        hello = pool.ping()
        assert hello["runs"] == 1 and not hello["stale"]
    finally:
        assert stop_shared()


def test_the_server_key_ignores_shell_noise_but_not_what_shapes_imports(monkeypatch):
    """`make report` (MAKEFLAGS, MAKELEVEL) and a plain terminal share one warm server;
    a different matplotlib backend or PYTHONPATH does not."""
    from selfcheck.execution.kernels import server_key

    base = server_key()
    for name, value in (("MAKEFLAGS", "w"), ("MAKELEVEL", "1"), ("TERM", "dumb"), ("PATH", "/x")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SELFCHECK_POOL_IDLE", "5")
    assert server_key() == base
    monkeypatch.setenv("MPLBACKEND", "svg")
    assert server_key() != base
    monkeypatch.undo()
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    assert server_key() != base
    monkeypatch.undo()
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/elsewhere")  # its socket may fall back to /tmp
    assert server_key() != base


def test_pool_start_warms_the_server_and_keep_warm_holds_it(tmp_path, monkeypatch):
    """`selfcheck pool --start` leaves a warm shared server; `keep_warm` (what `selfcheck lab`
    runs) keeps it from idling out, and starts a new one once it is gone."""
    import subprocess
    import sys
    import threading

    from selfcheck.execution.kernels import keep_warm, shared_status, stop_shared

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("SELFCHECK_POOL_IDLE", "5")  # long beside the pings, even on a busy machine
    kernel_environment()
    started = subprocess.run(
        [sys.executable, "-m", "selfcheck", "pool", "--start"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    stop = threading.Event()
    try:
        assert started.returncode == 0 and "预热内核池运行中" in started.stdout, started.stderr
        pid = shared_status()["pid"]
        threading.Thread(target=keep_warm, args=(stop, 0.5), daemon=True).start()
        time.sleep(10)  # twice the idle time: only the pings keep it
        assert shared_status()["pid"] == pid
        assert stop_shared()
        deadline = time.monotonic() + 60  # gone: the next ping starts (and warms) another
        while (status := shared_status()) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status is not None and status["pid"] != pid
    finally:
        stop.set()
        time.sleep(0.6)
        stop_shared()


def test_a_kernel_ends_with_the_process_that_asked_for_it(pool, tmp_path):
    """As a spawned kernel ends with the runner that started it: a run killed mid-section
    leaves no kernel behind (nor a shared server kept busy by it)."""
    import subprocess
    import sys

    script = f"""
import os
from jupyter_client.kernelspec import KernelSpecManager
from selfcheck.execution.kernels import KernelPool
p = KernelPool(shared=True)
p.socket_path = {pool.socket_path!r}
spec = KernelSpecManager().get_kernel_spec("python3")
argv = [a.replace("{{connection_file}}", {str(tmp_path / "k.json")!r}) for a in spec.argv]
print(p.fork_kernel(argv, {str(tmp_path)!r}, dict(os.environ)), flush=True)
os._exit(0)  # no shutdown: the run "dies"
"""
    out = tmp_path / "pid.txt"
    with out.open("w") as f:  # a file, not a pipe: the kernel holds our stdout while it lives
        subprocess.run([sys.executable, "-c", script], stdout=f, check=True, timeout=120)
    pid = int(out.read_text().strip())
    try:
        assert gone(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
