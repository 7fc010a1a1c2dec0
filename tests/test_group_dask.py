"""A group's branch runs as tasks on a real Dask cluster (``dask scheduler`` and ``dask
worker`` on 127.0.0.1, from this environment's bin): the same reports as a local run, a
broken branch fails alone, a worker lost mid-task fails only its branch.

The scheduler runs with ``allowed-failures: 0`` (a task whose worker dies is not run again,
so that a lost worker shows as a failed branch) and ``worker-saturation: 1.0`` (a worker is
given a task only when a thread is free: a killed worker takes down only the one it runs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from selfcheck.errors import SectionError
from selfcheck.execution.group import GroupResult, run_group

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026Q3"
DASK = Path(sys.executable).with_name("dask")
REPORT = f"{PERIOD}_客户服务自查报告.docx"
BRANCHES = (("b01", "华东分公司", 1), ("b02", "华南分公司", 2), ("b03", "华北分公司", 3))

pytestmark = pytest.mark.skipif(
    not DASK.exists(), reason="the dask command is not installed (pip install -e '.[cluster]')"
)


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def branch_data(tmp_path_factory) -> dict[str, Path]:
    """Each branch's small sample (its own seed), and b03's quarter with a broken calls.csv:
    nine rows in ten are garbage (too many bad rows: the run stops with a DataError)."""
    from selfcheck.sample import generate

    root = tmp_path_factory.mktemp("branches")
    data = {}
    for branch_id, _, seed in BRANCHES:
        generate(PERIOD, root / branch_id, scale="small", seed=seed)
        data[branch_id] = root / branch_id
    broken = root / "b03-broken"
    shutil.copytree(root / "b03", broken)
    calls = broken / PERIOD / "calls.csv"
    lines = calls.read_text(encoding="utf-8").splitlines()
    rows = [line if i % 10 == 0 else "garbage,###,not a call" for i, line in enumerate(lines[1:])]
    calls.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    data["b03-broken"] = broken
    return data


def group_params(folder: Path, data: dict[str, Path]) -> Path:
    """``folder/params/2026Q3.yaml``: outputs in ``folder/outputs`` through a relative path,
    so that two groups' parameters files are the same bytes (the appendix lists the file and
    its digest) and their reports can be compared byte for byte."""
    lines = [
        f"period: {PERIOD}",
        "organisation: 测试集团有限公司",
        "reporting_unit: 客户服务中心",
        "report_date: 2026-10-15",
        f"data_dir: {data['b01'].as_posix()}/{{period}}",
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
        "output_dir: ../outputs/{period}",
        "layout: 'off'",
        "branches:",
    ]
    for branch_id, name, _ in BRANCHES:
        lines += [
            f"  - id: {branch_id}",
            f"    name: {name}",
            f"    data_dir: {data[branch_id].as_posix()}/{{period}}",
        ]
    path = folder / "params" / f"{PERIOD}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outputs(params: Path) -> Path:
    return params.parent.parent / "outputs" / PERIOD


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler on a free port (read from its scheduler file) and two single-thread
    workers under one nanny process; shut down afterwards."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = dict(
        os.environ,
        DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0",
        DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0",
    )
    log = (folder / "cluster.log").open("ab")
    local = ("--host", "127.0.0.1", "--no-dashboard")
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> None:
        procs.append(
            subprocess.Popen(
                [str(DASK), *args],
                env=env,
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped whole below
            )
        )

    try:
        start("scheduler", *local, "--port", "0", "--scheduler-file", str(file))
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert file.exists(), (folder / "cluster.log").read_text(encoding="utf-8")
        start(
            "worker",
            *("--scheduler-file", str(file), *local),
            *("--nworkers", "2", "--nthreads", "1", "--local-directory", str(folder / "w")),
        )
        address = json.loads(file.read_text(encoding="utf-8"))["address"]
        assert address.startswith("tcp://127.0.0.1:")
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):  # the workers first, then the scheduler
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture(scope="module")
def local_run(branch_data, tmp_path_factory) -> tuple[Path, GroupResult]:
    params = group_params(tmp_path_factory.mktemp("local"), branch_data)
    return params, run_group(params, layout=False, echo=quiet)


def test_cluster_run_gives_the_local_reports(local_run, branch_data, cluster, tmp_path) -> None:
    local_params, local = local_run
    params = group_params(tmp_path, branch_data)
    assert params.read_bytes() == local_params.read_bytes()
    result = run_group(params, cluster=cluster, layout=False, echo=quiet)

    # the branch runs ran on the workers, not here
    from distributed import Client

    with Client(cluster, timeout="30s") as client:
        workers = set(client.scheduler_info()["workers"])
    assert [r.branch.id for r in result.branches] == ["b01", "b02", "b03"]
    assert all(r.ok for r in result.branches)
    assert {r.where for r in result.branches} <= workers
    assert all(r.ok for r in local.branches)

    here, there = outputs(local_params), outputs(params)
    for folder in ("b01", "b02", "b03", "group"):
        for name in (REPORT, "metrics.csv"):
            assert (here / folder / name).read_bytes() == (there / folder / name).read_bytes(), (
                folder,
                name,
            )
    # three seeds: three different branches, and the group pools them
    metrics = {b: (here / b / "metrics.csv").read_bytes() for b in ("b01", "b02", "b03", "group")}
    assert len(set(metrics.values())) == 4
    assert result.report == there / "group" / REPORT


def test_broken_branch_fails_alone_on_the_cluster(branch_data, cluster, tmp_path) -> None:
    data = dict(branch_data, b03=branch_data["b03-broken"])
    params = group_params(tmp_path, data)
    out = outputs(params)
    with pytest.raises(SectionError) as err:
        run_group(params, cluster=cluster, layout=False, echo=quiet)
    message = str(err.value)
    assert "1 个分支机构没有本期报告" in message
    assert "华北分公司（b03）" in message and "90.0% 的行有问题" in message
    assert "华东分公司" not in message and "华南分公司" not in message
    assert (out / "b01" / REPORT).is_file() and (out / "b02" / REPORT).is_file()
    assert not (out / "b03" / REPORT).exists()
    assert not (out / "group" / REPORT).exists()

    # b03 again (it fails again), the group report without it from the others' stored runs
    result = run_group(
        params, branch="b03", cluster=cluster, allow_partial=True, layout=False, echo=quiet
    )
    assert [(r.branch.id, r.status) for r in result.branches] == [("b03", "failed")]
    assert result.report == out / "group" / REPORT and result.report.is_file()
    members = json.loads((out / "group" / "members.json").read_text(encoding="utf-8"))
    assert members["included"] == ["b01", "b02"]
    assert list(members["excluded"]) == ["b03"]
    assert "90.0% 的行有问题" in members["excluded"]["b03"]


def _branch_processes(params: Path, branch_id: str) -> list[int]:
    """This machine's ``selfcheck run PARAMS --branch ID`` processes."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                argv = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        if str(params) in argv and "--branch" in argv and branch_id in argv and "-c" not in argv:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_lost_worker_fails_only_its_branch(branch_data, cluster, tmp_path) -> None:
    from distributed import Client
    from filelock import FileLock

    params = group_params(tmp_path, branch_data)
    out = outputs(params)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_group(params, cluster=cluster, layout=False, echo=quiet)
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    with Client(cluster, timeout="30s") as client:
        worker = None
        deadline = time.monotonic() + 120
        while worker is None and time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if any("-b01-" in str(k) for k in keys) and _branch_processes(params, "b01"):
                    worker = address
            time.sleep(0.2)
        assert worker is not None, "b01 never started on a worker"
        time.sleep(2)  # well into its run
        pid = client.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)  # the worker process (its nanny starts a new one)
    thread.join(300)
    assert not thread.is_alive()

    assert len(errors) == 1 and isinstance(errors[0], SectionError), errors
    message = str(errors[0])
    assert "1 个分支机构没有本期报告" in message
    assert "华东分公司（b01）" in message and "Dask worker 丢失" in message
    assert worker in message
    assert (out / "b02" / REPORT).is_file() and (out / "b03" / REPORT).is_file()
    # the branch run died with its worker: no process left, the output folder free, no report
    deadline = time.monotonic() + 20
    while _branch_processes(params, "b01") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _branch_processes(params, "b01") == []
    lock = FileLock(str(out / "b01" / ".selfcheck.lock"))
    lock.acquire(timeout=20)
    lock.release()
    assert not (out / "b01" / REPORT).exists()
