"""Nothing half-done, no traceback: output folders that cannot be made, a failed or killed
run, two runs at once, and a metrics.csv that Excel opens without formulas."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PERIOD, ROOT, write_params

from selfcheck import cli
from selfcheck.blocks import SectionResult
from selfcheck.execution.runlock import LOCK_FILE, MARKER_FILE, OWNER_FILE, output_lock
from selfcheck.exports import METRICS_COLUMNS, write_metrics_csv
from selfcheck.metrics.base import Metric, Target

REPORT = f"{PERIOD}_客户服务自查报告.docx"


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["SELFCHECK_POOL_IDLE"] = "0"  # each run its own pool: nothing left running afterwards
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def selfcheck(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "selfcheck", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(),
        timeout=300,
        cwd=ROOT,
        **kw,
    )


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "selfcheck", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=cli_env(),
        cwd=ROOT,
    )


def params_with_output(folder: Path, data_root: Path, output: str) -> Path:
    path = write_params(folder, data_root)
    text = path.read_text(encoding="utf-8").splitlines()
    text = [f"output_dir: {output}" if line.startswith("output_dir:") else line for line in text]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


# -- 1. no traceback ----------------------------------------------------------------------
def test_output_folder_behind_a_file_is_a_message(sample_root, tmp_path):
    blocker = tmp_path / "outputs"
    blocker.write_text("not a folder", encoding="utf-8")
    params = params_with_output(tmp_path, sample_root, f"{blocker.as_posix()}/{{period}}")
    for command in ("validate", "run"):
        done = selfcheck(command, str(params))
        assert done.returncode == 7, done.stderr
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
        assert done.stderr.startswith("错误：无法创建输出目录")
        assert str(blocker / PERIOD) in done.stderr and "同名文件" in done.stderr


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs the read-only /sys of Linux")
def test_read_only_output_folder_is_a_message(sample_root, tmp_path):
    # sysfs refuses new folders even to root (chmod would not stop root)
    params = params_with_output(tmp_path, sample_root, "/sys/selfcheck-test/outputs/{period}")
    for command in ("validate", "run"):
        done = selfcheck(command, str(params))
        assert done.returncode == 7, done.stderr
        assert "Traceback" not in done.stderr
        assert "无法创建输出目录：/sys/selfcheck-test/outputs/2026Q3" in done.stderr


def test_unforeseen_error_is_short_and_logged(monkeypatch, capsys, tmp_path):
    def broken(args):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(cli, "_dispatch", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["sections"]) == cli.INTERNAL_ERROR_EXIT
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("错误：程序内部出错")
    assert "RuntimeError: something nobody foresaw" in err
    (log,) = tmp_path.glob("selfcheck-error-*.log")
    assert str(log) in err
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "something nobody foresaw" in text and "sections" in text


def test_unforeseen_os_error_names_the_path(monkeypatch, capsys):
    def broken(args):
        raise PermissionError(13, "Permission denied", "/srv/x/metrics.csv")

    monkeypatch.setattr(cli, "_dispatch", broken)
    assert cli.main(["sections"]) == 7
    err = capsys.readouterr().err
    assert "Traceback" not in err and "/srv/x/metrics.csv" in err and "权限" in err


# -- 2. all or nothing ----------------------------------------------------------------------
@pytest.mark.integration
def test_failed_assembly_leaves_the_previous_outputs_and_a_marker(sample_root, tmp_path):
    from selfcheck.errors import ReportError
    from selfcheck.execution.runner import run

    params = write_params(tmp_path, sample_root)
    first = run(params, echo=lambda _: None)
    out = first.output_dir
    history = out.parent / "history.duckdb"
    before = {p: p.read_bytes() for p in (first.report, first.metrics_csv, history)}
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    assert not (out / MARKER_FILE).exists()

    write_params(tmp_path, sample_root, template=(tmp_path / "缺少的模板.docx").as_posix())
    with pytest.raises(ReportError):
        run(params, echo=lambda _: None)
    for path, data in before.items():
        assert path.read_bytes() == data, path  # report, metrics.csv and history untouched
    assert json.loads((out / "run_manifest.json").read_text(encoding="utf-8")) == manifest
    marker = (out / MARKER_FILE).read_text(encoding="utf-8")
    assert f"来自 {manifest['finished_at']} 的运行" in marker and "状态：失败" in marker
    assert "模板" in marker

    write_params(tmp_path, sample_root)
    said: list[str] = []
    run(params, echo=said.append)
    assert any(line.startswith("注意：上次运行没有完成") for line in said)
    assert not (out / MARKER_FILE).exists() and not (out / ".staging").exists()
    assert first.report.read_bytes() == before[first.report]


@pytest.mark.integration
def test_killed_runs_then_a_normal_run_give_the_same_report(sample_root, tmp_path):
    params = write_params(tmp_path, sample_root)
    out = tmp_path / "outputs" / PERIOD
    started = time.monotonic()
    clean = selfcheck("run", str(params))
    wall = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr
    expected = (out / REPORT).read_bytes()
    shutil.rmtree(tmp_path / "outputs")  # the same paths again, from nothing
    rng = random.Random(20261201)
    killed_with_marker = False
    for _ in range(4):  # SIGKILL at a random moment of a run, again and again
        proc = start("run", str(params))
        time.sleep(rng.uniform(0.2, wall))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        killed_with_marker |= (out / MARKER_FILE).exists()
    assert killed_with_marker  # at least one kill hit a run in progress
    final = selfcheck("run", str(params))
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    assert (out / REPORT).read_bytes() == expected
    assert not (out / MARKER_FILE).exists()
    check_cells(out / "metrics.csv")


# -- 3. one run per folder; the shared history store ----------------------------------------
def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.integration
def test_second_run_of_the_same_folder_stops_and_names_the_first(sample_root, tmp_path):
    params = write_params(tmp_path, sample_root)
    out = tmp_path / "outputs" / PERIOD
    first = start("run", str(params))
    try:
        wait_for(out / OWNER_FILE)
        owner = json.loads((out / OWNER_FILE).read_text(encoding="utf-8"))
        assert owner["pid"] == first.pid
        for command in ("run", "validate"):
            second = selfcheck(command, str(params))
            assert second.returncode == 6, second.stderr
            assert "Traceback" not in second.stderr
            assert f"进程 {first.pid}" in second.stderr and "--wait" in second.stderr
            assert owner["started_at"] in second.stderr and "selfcheck run" in second.stderr
        stdout, stderr = first.communicate(timeout=300)
        assert first.returncode == 0, stderr
    finally:
        if first.poll() is None:
            first.kill()
    assert (out / REPORT).is_file() and not (out / MARKER_FILE).exists()

    # --wait: the second run waits for the holder, then runs
    holder = hold_lock(out)
    try:
        waiting = start("run", str(params), "--wait")
        line = waiting.stdout.readline()
        while "正被另一个运行占用" not in line:
            assert line, waiting.communicate()[1]
            line = waiting.stdout.readline()
        assert f"进程 {holder.pid}" in line and "等待" in line
        holder.stdin.close()  # the holder ends: the waiting run takes the folder
        stdout, stderr = waiting.communicate(timeout=300)
        assert waiting.returncode == 0, stderr
        assert "报告已生成" in stdout
    finally:
        holder.kill()
        holder.wait()
    assert (out / REPORT).is_file() and not (out / MARKER_FILE).exists()


def hold_lock(folder: Path) -> subprocess.Popen:
    """A process holding ``folder``'s lock until its stdin is closed (or it is killed)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from pathlib import Path\n"
            "from selfcheck.execution.runlock import output_lock\n"
            "with output_lock(Path(sys.argv[1]), what='run'):\n"
            "    print('held', flush=True); sys.stdin.read()\n",
            str(folder),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    holder = hold_lock(tmp_path)
    from selfcheck.errors import RunLockedError

    with pytest.raises(RunLockedError, match=f"进程 {holder.pid}"), output_lock(tmp_path):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / OWNER_FILE).exists()  # what the dead run left
    with output_lock(tmp_path) as owner:
        assert owner["pid"] == os.getpid()
        assert json.loads((tmp_path / OWNER_FILE).read_text("utf-8"))["pid"] == os.getpid()
    assert (tmp_path / LOCK_FILE).exists() and not (tmp_path / OWNER_FILE).exists()


@pytest.mark.integration
def test_runs_of_two_periods_at_once_both_write_the_history(sample_root, tmp_path):
    q3 = write_params(tmp_path / "q3", sample_root)
    q2 = tmp_path / "q2" / "2026Q2.yaml"
    q2.parent.mkdir()
    q2.write_text(
        q3.read_text(encoding="utf-8")
        .replace("period: 2026Q3", "period: 2026Q2")
        .replace("report_date: 2026-10-15", "report_date: 2026-07-15"),
        encoding="utf-8",
    )
    runs = [start("run", str(p)) for p in (q3, q2)]
    for p in runs:
        _, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert "Traceback" not in stderr
    from selfcheck.metrics.history import HistoryStore

    store = HistoryStore(tmp_path / "q3" / "outputs" / "history.duckdb")
    assert store.periods() == ["2026Q2", "2026Q3"]
    assert (tmp_path / "q3" / "outputs" / "2026Q2" / "2026Q2_客户服务自查报告.docx").is_file()


def test_history_write_waits_for_another_process(tmp_path):
    import duckdb

    from selfcheck.metrics.history import HistoryStore
    from selfcheck.period import Period

    path = tmp_path / "history.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "print('open', flush=True); time.sleep(1.5); con.close()\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    t = time.monotonic()
    store = HistoryStore(path)
    assert store.write(Period.parse("2026Q3"), [Metric("a.b", "甲", "rate", 0.25)]) == 1
    assert time.monotonic() - t > 0.5  # it waited for the other process's connection
    holder.wait(timeout=30)
    assert store.read(Period.parse("2026Q3"))["a.b"].value == 0.25


# -- 4. metrics.csv is safe to open in Excel ------------------------------------------------
NUMERIC = {
    "value", "numerator", "denominator", "n", "target", "previous", "delta", "year_ago",
    "delta_year", "ci_low", "ci_high", "p_value",
}  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def check_cells(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for col, cell in row.items():
            if col in NUMERIC and cell != "":
                float(cell)  # a number stays a number
            else:
                assert not cell.startswith(FORMULA), (col, cell)
    return rows


def test_metrics_csv_text_cells_are_not_formulas(tmp_path):
    metrics = [
        Metric("system.major_incidents", "重大故障次数", "count", 1.0, n=1,
               target=Target("==", 0.0), previous=1.5),
        Metric("x.formula", "=HYPERLINK(\"http://x\")", "rate", 0.25, 1, 4, 4,
               reason="-2+3", previous=0.75, section="+sec"),
        Metric("@x.at", "\t制表符", "rate", None, reason="\r回车"),
    ]  # fmt: skip
    result = SectionResult(section_id="system", title="t", order=1, period=PERIOD)
    result.metrics.extend(metrics)
    rows = check_cells(write_metrics_csv([result], tmp_path / "metrics.csv"))
    assert list(rows[0]) == list(METRICS_COLUMNS)
    first, second, third = rows
    assert (first["comparator"], first["target"], first["delta"]) == ("'==", "0", "-0.5")
    assert float(first["delta"]) == -0.5
    assert second["name"] == '\'=HYPERLINK("http://x")' and second["reason"] == "'-2+3"
    assert second["section"] == "'+sec" and float(second["delta"]) == -0.5
    assert (third["metric_id"], third["name"], third["reason"]) == (
        "'@x.at",
        "'\t制表符",
        "'\r回车",
    )
    assert third["value"] == ""


def test_a_kernel_that_did_not_start_is_started_again(sample_root, tmp_path, monkeypatch):
    import papermill

    from selfcheck.config import load_config
    from selfcheck.execution import runner
    from selfcheck.sections import get_section

    config = load_config(write_params(tmp_path, sample_root))
    section = get_section("system")
    calls = []

    def execute(source, target, **kw):
        calls.append(kw.get("kernel_manager_class"))
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        folder = config.output_dir / "sections" / section.id
        SectionResult(section.id, section.title, section.order, PERIOD).save(folder)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    said: list[str] = []
    done = runner._run_section(section, config, None, runner._HtmlRenderer(None), said.append)
    assert done.status == "ok" and len(calls) == 2
    assert any("内核未能启动" in line and "重试" in line for line in said)
    from selfcheck.execution.engine import IpcKernelManager

    assert calls[0] is IpcKernelManager  # cold kernels talk over UNIX sockets too
