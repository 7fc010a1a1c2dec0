"""The benchmark script runs with the project's own tools and reports what it measured."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_baseline_is_plain_papermill_once_per_notebook_then_the_assembly(bench, tmp_path):
    from selfcheck.sections import SECTIONS

    cmds = bench.baseline_commands(tmp_path / "2026Q3.yaml")
    assert cmds[0][-3:] == ["selfcheck", "validate", str(tmp_path / "2026Q3.yaml")]
    papermill = cmds[1:-1]
    assert [c[0] for c in papermill] == [bench.PAPERMILL] * len(SECTIONS)
    assert sorted(c[1].rsplit("/", 1)[1] for c in papermill) == sorted(s.notebook for s in SECTIONS)
    after = [s.notebook for s in SECTIONS if s.after_all]
    assert [c[1].rsplit("/", 1)[1] for c in papermill[-len(after) :]] == after
    assert "assemble" in cmds[-1][2]


def test_measure_sums_the_tree(bench, tmp_path):
    grandchild = "import time; x = b'x' * (200 << 20); time.sleep(0.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    env = dict(bench.environment())
    got = bench.measure([[sys.executable, "-c", child]], env, tmp_path / "l", memory=True)
    assert got["seconds"] > 0 and got["cpu_seconds"] > 0
    assert got["peak_rss_bytes"] > 200 << 20  # the grandchild's buffer is counted
    assert got["peak_processes"] >= 2
    timed = bench.measure([[sys.executable, "-c", child]], env, tmp_path / "l")
    assert timed["cpu_seconds"] > 0 and timed["peak_rss_bytes"] == 0  # not observed


@pytest.mark.integration
def test_quick_run_writes_results_and_a_table(tmp_path):
    results = tmp_path / "results"
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--quick", "--parts", "b", "--only", "findings"),
            *("--data-root", str(tmp_path / "data"), "--results", str(results)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = tmp_path / "data" / "work" / "commands.log"
    assert done.returncode == 0, (
        done.stdout + done.stderr + (log.read_text() if log.exists() else "")
    )
    (path,) = results.glob("*.json")
    res = json.loads(path.read_text(encoding="utf-8"))
    assert res["machine"]["cpus"] >= 1 and res["machine"]["cpu_model"] is not None
    assert res["runs"] == 1 and res["scale"] == "small"
    for key in ("findings", "findings (cold pool)"):
        assert res["b"][key]["median_seconds"] > 0
        assert res["b"][key]["breakdown"]["engine"] == "selfcheck"
    assert res["d"]["peak_rss_bytes"] > 0
    assert "b  --only findings" in done.stdout and "target" in done.stdout
