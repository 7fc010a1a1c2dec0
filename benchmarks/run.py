"""Speed and scale of a quarterly run, measured: ``.venv/bin/python benchmarks/run.py [--quick]``.

What it measures (medians of ``--runs`` runs, default 3; every figure is the wall
time of the command as an analyst types it, interpreter start included):

a. the full run on the default sample quarter (``selfcheck run``), against the same
   notebooks executed one after another with the plain ``papermill`` command plus
   the same validation and assembly (``selfcheck validate``, then one ``papermill``
   per notebook, then the runner's assembly) — as a ratio of the two medians of
   this one invocation. The baseline renders no HTML (the fast run does), so the
   ratio errs against the fast path;
b. re-running one edited section and re-assembling (``selfcheck run --only``), for
   every registered section;
c. the large quarter (``selfcheck sample --scale large``: ~10M calls) from CSV (the
   cache deleted before each run) and again from the cache;
d. peak memory of the whole process tree of each run, kernels included;
l. the layout pass and the PDF copy (LibreOffice): ``selfcheck assemble --no-layout``
   against ``selfcheck assemble`` when the report is unchanged (the previous layout and
   PDF stand: no conversion), when the headings kept their pages (the previous PDF
   deleted: one conversion) and when they moved (previous report and PDF deleted: two).
   Parts a–c run with ``layout: off``, as their baseline does no layout either.
g. a group company (``branches:``): 5 and 30 branches, each the default sample quarter
   generated with its own seed (``selfcheck.sample.generate``), run with
   ``selfcheck run PARAMS`` — serial (``--parallel 1``), parallel (the default: as many
   branch runs at once as cores and memory allow) and as tasks on a localhost Dask cluster
   (``dask scheduler`` and ``dask worker --nworkers <cores> --nthreads 1``; needs the
   ``cluster`` extra) — then the consolidated report. Wall time only (no memory run: a
   30-branch run takes minutes); per branch: the branches' own run times from their
   ``run_manifest.json``; ``layout: off``. Then the consolidated report alone (the branch
   runs stored), once timed and once with its memory sampled. ``--branches 5,30`` picks
   the sizes.

Memory is measured in one extra run per figure, not in the timed runs (sampling ``/proc``
every 50 ms costs ~15 % of a core: it would slow the runs it times). In that run a
thread samples every process of the tree (the command and all its
descendants, found through ``/proc/*/stat``) every 50 ms and sums ``Rss`` and ``Pss``
from ``/proc/<pid>/smaps_rollup``. The RSS sum counts the pages the forked kernels
share with the fork server once per process (an upper bound); the PSS sum divides
shared pages among the processes sharing them (the real footprint). The targets are
checked against the RSS sum. ``getrusage`` was not used: ``ru_maxrss`` is the largest
single process, not the sum, and misses kernels reaped by the fork server.

CPU: user + system seconds of the whole tree (``os.wait4``). ``other_cpu_s`` is the CPU
the rest of the machine used meanwhile (``/proc/stat``): on a shared machine a slow
figure with high ``other_cpu_s`` was measured under contention.

Data and outputs go under ``--data-root`` (default ``/tmp/selfcheck-bench``); the
samples are generated when missing (the large one takes ~25 s and ~1 GB). Results:
``benchmarks/results/<date>-<time>.json`` (or ``--results``) and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026Q3"
PY = sys.executable
PAPERMILL = str(Path(sys.executable).with_name("papermill"))
TARGETS = {  # seconds, or bytes for memory
    "a_ratio": 5.0,  # the full run at least 5× faster than serial papermill
    "y_ratio": 1.5,  # a year from its four quarters: at most 1.5× a quarter's full run
    "a_seconds": 8.0,
    "b_seconds": 3.0,
    "c_csv_seconds": 90.0,
    "c_cache_seconds": 30.0,
    "d_bytes": 6 * 1024**3,
}


# -- process tree: memory and CPU ---------------------------------------------------------
def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # after "pid (comm) "
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(*roots: int) -> list[int]:
    children = _children_map()
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def memory_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) of one process in kB; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = pss = int(line.split()[1])
        except OSError:
            pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Peak of the summed RSS and PSS of a process and its descendants."""

    def __init__(self, root: int, server: int | None = None, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.server, self.interval = root, server, interval
        self.peak_rss = self.peak_pss = 0  # bytes
        self.peak_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self) -> None:
        pids = tree(self.root, *([self.server] if self.server else []))
        rss = pss = 0
        for pid in pids:
            r, p = memory_kb(pid)
            rss, pss = rss + r, pss + p
        self.peak_rss = max(self.peak_rss, rss * 1024)
        self.peak_pss = max(self.peak_pss, pss * 1024)
        self.peak_processes = max(self.peak_processes, len(pids))

    def stop(self) -> None:
        self._done.set()
        self.join()


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class SharedServer:
    """The warm server the runs of one scenario share (a private runtime folder per scenario)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def hello(self) -> dict | None:
        """pid and CPU of the reaped children of the server, None when there is none."""
        code = (
            "import json, os; from selfcheck.execution import kernels as k; k.kernel_environment()\n"
            "p = k.runtime_dir() / f'pool-{k.server_key()}.sock'\n"
            "pool = k.KernelPool(shared=True); pool.socket_path = str(p)\n"
            "print(json.dumps(pool.ping() if p.exists() else None))"
        )
        out = subprocess.run(
            [PY, "-c", code], env=self.env, capture_output=True, text=True, cwd=ROOT
        )
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return None

    def stop(self) -> None:
        code = (
            "from selfcheck.execution import kernels as k; k.kernel_environment(); k.stop_shared()"
        )
        subprocess.run([PY, "-c", code], env=self.env, cwd=ROOT, capture_output=True)


def measure(
    commands: list[list[str]],
    env: dict[str, str],
    log: Path,
    server: SharedServer | None = None,
    *,
    memory: bool = False,
) -> dict:
    """Run commands one after another; wall and CPU of the whole thing and, with ``memory``,
    its peak memory.

    The memory sampler reads ``/proc`` every 50 ms — ``smaps_rollup`` walks the page tables
    of every process of the tree — and that costs ~1.2 s of CPU in an 8 s run: on two
    cores it slows the run it observes. So timed runs are not sampled; each figure gets one
    extra run with the sampler for its memory. With a shared server, its process tree (the
    forked run, kernels, renderers) is sampled too, and the CPU of the children it reaped
    meanwhile is added."""
    wall = cpu = 0.0
    peak_rss = peak_pss = processes = 0
    hello = server.hello() if server else None
    server_pid = hello["pid"] if hello else None
    busy0 = busy_cpu_seconds()
    with log.open("ab") as out:
        for cmd in commands:
            out.write(("$ " + " ".join(cmd) + "\n").encode())
            out.flush()
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
            sampler = TreeSampler(proc.pid, server_pid)
            if memory:
                sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall += time.perf_counter() - t
            if memory:
                sampler.stop()
            cpu += usage.ru_utime + usage.ru_stime
            peak_rss, peak_pss = max(peak_rss, sampler.peak_rss), max(peak_pss, sampler.peak_pss)
            processes = max(processes, sampler.peak_processes)
            if proc.returncode != 0:
                raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)} — see {log}")
    if hello is not None:
        time.sleep(0.5)  # the server reaps its children within 0.2 s
        after = server.hello() if server else None
        if after and after["pid"] == hello["pid"]:
            cpu += after["children_cpu"] - hello["children_cpu"]
    other = max(busy_cpu_seconds() - busy0 - cpu, 0.0)
    return {
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "other_cpu_s": round(other, 3),
        "peak_rss_bytes": peak_rss,
        "peak_pss_bytes": peak_pss,
        "peak_processes": processes,
        "loadavg": os.getloadavg()[0],
    }


def summary(samples: list[dict], memory: dict) -> dict:
    """Medians of the timed runs; the peak memory of the sampled run."""

    def med(key: str) -> float:
        return round(statistics.median(s[key] for s in samples), 3)

    return {
        "median_seconds": med("seconds"),
        "median_cpu_seconds": med("cpu_seconds"),
        "median_other_cpu_s": med("other_cpu_s"),
        "peak_rss_bytes": memory["peak_rss_bytes"],
        "peak_pss_bytes": memory["peak_pss_bytes"],
        "runs": samples,
        "memory_run": memory,
    }


# -- data, parameters, commands -----------------------------------------------------------
def ensure_sample(root: Path, scale: str) -> Path:
    folder = root / scale
    if not (folder / PERIOD / "calls.csv").exists():
        print(f"generating the {scale} sample in {folder} …", flush=True)
        subprocess.run(
            [
                PY,
                "-m",
                "selfcheck",
                "sample",
                "--period",
                PERIOD,
                "--scale",
                scale,
                "--out",
                folder,
            ],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    return folder


def write_params(work: Path, name: str, data: Path, layout: str = "off") -> Path:
    """The project's own parameters of the period, pointed at the sample and a work folder."""
    params = yaml.safe_load((ROOT / "params" / f"{PERIOD}.yaml").read_text(encoding="utf-8"))
    params.update(
        data_dir=f"{data.as_posix()}/{{period}}",
        standards=(ROOT / "params" / "standards.yaml").as_posix(),
        output_dir=f"{(work / name / 'outputs').as_posix()}/{{period}}",
        layout=layout,
    )
    params.pop("template", None)
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    for extra in (ROOT / "params").glob("*Q?_*.yaml"):  # analyst files (measures, texts, …)
        shutil.copy2(extra, folder / extra.name)
    path = folder / f"{PERIOD}.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def output_dir(params: Path) -> Path:
    return params.parent / "outputs" / params.stem  # the parameters file is named by period


def sections():
    from selfcheck.sections import SECTIONS

    return SECTIONS


def fast_command(params: Path, *extra: str) -> list[str]:
    return [PY, "-m", "selfcheck", "run", str(params), *extra]


def baseline_commands(params: Path) -> list[list[str]]:
    """The same work with stock tools: validate, one plain papermill per notebook, assemble."""
    notebooks = ROOT / "notebooks"
    out = output_dir(params) / "notebooks"
    ordered = [s for s in sections() if not s.after_all] + [s for s in sections() if s.after_all]
    cmds = [[PY, "-m", "selfcheck", "validate", str(params)]]
    for s in ordered:
        cmds.append(
            [
                *(PAPERMILL, str(notebooks / s.notebook), str(out / s.notebook)),
                *("-p", "period", PERIOD, "-p", "params_path", str(params)),
                *("-k", "python3", "--cwd", str(notebooks), "--no-progress-bar"),
            ]
        )
    cmds.append(
        [
            PY,
            "-c",
            "import sys; from selfcheck.config import load_config; "
            "from selfcheck.execution.runner import assemble; assemble(load_config(sys.argv[1]))",
            str(params),
        ]
    )
    return cmds


def environment() -> dict[str, str]:
    """What the runner gives its kernels, for the baseline's kernels too."""
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    for name in ("SELFCHECK_ENGINE", "SELFCHECK_POOL_IDLE", "XDG_RUNTIME_DIR"):
        env.pop(name, None)
    return env


def breakdown(params: Path) -> dict:
    """Where the last run's time went: the runner's phases and each notebook's cells."""
    out = output_dir(params)
    manifest = json.loads((out / "run_manifest.json").read_text(encoding="utf-8"))
    cells = {}
    for s in sections():
        path = out / "notebooks" / s.notebook
        if not path.exists():
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        durations = [
            c["metadata"].get("papermill", {}).get("duration") or 0.0
            for c in nb["cells"]
            if c["cell_type"] == "code"
        ]
        cells[s.id] = {
            "cells_seconds": round(sum(durations), 3),
            "first_call_seconds": round(durations[1], 3) if len(durations) > 1 else None,
        }
    return {
        "timings": manifest["timings_seconds"],
        "engine": manifest.get("engine"),
        "sections": {
            r["section_id"]: {"seconds": r["seconds"], **cells.get(r["section_id"], {})}
            for r in manifest["sections"]
        },
    }


# -- the parts ----------------------------------------------------------------------------
class Scenario:
    """How runs start: ``warm`` — the user's shared server is up (the second run of a session
    on); ``cold`` — every run starts its own server (``SELFCHECK_POOL_IDLE=0``)."""

    def __init__(self, base: dict[str, str]) -> None:
        import tempfile

        self.runtime = tempfile.mkdtemp(prefix="scb-")  # short: it holds a socket; 0700
        self.warm = dict(base, XDG_RUNTIME_DIR=self.runtime, SELFCHECK_POOL_IDLE="600")
        self.cold = dict(base, SELFCHECK_POOL_IDLE="0")
        # the baseline's plain papermill kernels are a batch run's, as the runner marks its own
        # (SELFCHECK_RUN=1: their results say origin papermill, not JupyterLab)
        self.baseline = dict(self.cold, SELFCHECK_RUN="1")
        self.server = SharedServer(self.warm)


def part_a(params: Path, runs: int, sc: Scenario, log: Path) -> dict:
    measure([fast_command(params)], sc.warm, log)  # warm-up: the cache, bytecode, the server
    warm, cold, base = [], [], []
    for _ in range(runs):  # interleaved, so that a noisy minute hits all three
        warm.append(measure([fast_command(params)], sc.warm, log, sc.server))
        warm_breakdown = breakdown(params)
        cold.append(measure([fast_command(params)], sc.cold, log))
        cold_breakdown = breakdown(params)
        base.append(measure(baseline_commands(params), sc.baseline, log))
    warm_s = summary(warm, measure([fast_command(params)], sc.warm, log, sc.server, memory=True))
    cold_s = summary(cold, measure([fast_command(params)], sc.cold, log, memory=True))
    base_s = summary(base, measure(baseline_commands(params), sc.baseline, log, memory=True))
    return {
        "fast": warm_s | {"breakdown": warm_breakdown},
        "fast_cold_pool": cold_s | {"breakdown": cold_breakdown},
        "baseline": base_s,
        "ratio": round(base_s["median_seconds"] / warm_s["median_seconds"], 2),
        "ratio_cold_pool": round(base_s["median_seconds"] / cold_s["median_seconds"], 2),
        "cpu_ratio": round(base_s["median_cpu_seconds"] / warm_s["median_cpu_seconds"], 2),
    }


def part_b(params: Path, runs: int, sc: Scenario, log: Path, only: list[str]) -> dict:
    if not (output_dir(params) / "run_manifest.json").exists():
        measure([fast_command(params)], sc.warm, log)  # --only needs the other results
    measure([fast_command(params, "--only", only[-1])], sc.warm, log)  # the server warms up
    out = {}
    for section_id in only:
        notebook = ROOT / "notebooks" / next(s.notebook for s in sections() if s.id == section_id)
        samples = []
        for _ in range(runs):
            notebook.touch()  # "edited"
            cmd = fast_command(params, "--only", section_id)
            samples.append(measure([cmd], sc.warm, log, sc.server))
        notebook.touch()
        peak = measure([cmd], sc.warm, log, sc.server, memory=True)
        out[section_id] = summary(samples, peak) | {"breakdown": breakdown(params)}
    first = "response" if "response" in only else only[0]  # the heaviest independent section
    cmd = fast_command(params, "--only", first)
    samples = [measure([cmd], sc.cold, log) for _ in range(runs)]
    peak = measure([cmd], sc.cold, log, memory=True)
    out[f"{first} (cold pool)"] = summary(samples, peak) | {"breakdown": breakdown(params)}
    return out


def part_c(params: Path, runs: int, sc: Scenario, log: Path) -> dict:
    cache = output_dir(params) / "cache"
    # the server up first, so that its tree (the forked run, kernels) is sampled from the start
    measure([[PY, "-m", "selfcheck", "pool", "--start"]], sc.warm, log)
    csv, cached = [], []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        csv.append(measure([fast_command(params)], sc.warm, log, sc.server))
        csv_breakdown = breakdown(params)
        cached.append(measure([fast_command(params)], sc.warm, log, sc.server))
    cache_breakdown = breakdown(params)
    shutil.rmtree(cache, ignore_errors=True)
    csv_peak = measure([fast_command(params)], sc.warm, log, sc.server, memory=True)
    cache_peak = measure([fast_command(params)], sc.warm, log, sc.server, memory=True)
    return {
        "csv": summary(csv, csv_peak) | {"breakdown": csv_breakdown},
        "cache": summary(cached, cache_peak) | {"breakdown": cache_breakdown},
    }


def part_l(params: Path, runs: int, sc: Scenario, log: Path) -> dict:
    """Assemble without and with the layout pass (LibreOffice); skipped without it."""
    from selfcheck.word.layout import find_soffice

    if find_soffice() is None:
        return {"skipped": "LibreOffice not installed"}
    measure([fast_command(params)], sc.warm, log)  # section results, a laid-out report
    assemble = [PY, "-m", "selfcheck", "assemble", str(params)]
    report = next(output_dir(params).glob("*.docx"))
    out: dict = {}
    cmd = [*assemble, "--no-layout"]
    samples = [measure([cmd], sc.warm, log, sc.server) for _ in range(runs)]
    out["no_layout"] = summary(samples, measure([cmd], sc.warm, log, sc.server, memory=True))
    measure([assemble], sc.warm, log, sc.server)  # laid out again after --no-layout
    # unchanged: the previous report and PDF stand (no conversion); kept: the PDF deleted,
    # the previous numbers right (one); moved: no previous report either (two)
    for key, drop in (("unchanged", ()), ("kept", (".pdf",)), ("moved", (".pdf", ".docx"))):
        samples = []
        for _ in range(runs + 1):
            for suffix in drop:
                report.with_suffix(suffix).unlink(missing_ok=True)
            samples.append(
                measure([assemble], sc.warm, log, sc.server, memory=len(samples) == runs)
            )
        out[key] = summary(samples[:runs], samples[runs])
    manifest = json.loads((output_dir(params) / "run_manifest.json").read_text(encoding="utf-8"))
    out["layout_seconds_last"] = manifest.get("timings_seconds", {}).get("layout")
    return out


def year_sample(root: Path) -> Path:
    """The default sample of 2026Q1–Q4 (and 2025's quarters, for the year before)."""
    folder = root / "year"
    if not (folder / "2026Q4" / "calls.csv").exists():
        print(f"generating the quarters of 2025 and 2026 in {folder} …", flush=True)
        subprocess.run(
            [PY, "-m", "selfcheck", "sample", "--period", "2026Q4", "--history", "7",
             "--out", folder],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return folder


def year_params(work: Path, data: Path) -> Path:
    """A year report of 2026 from its four quarter folders (``data_from: quarters``)."""
    quarter = write_params(work, "year", data)
    params = yaml.safe_load(quarter.read_text(encoding="utf-8"))
    params.update(period="2026", data_from="quarters",
                  output_dir=f"{(work / 'year' / 'outputs').as_posix()}/{{period}}")  # fmt: skip
    params.pop("report_date", None)
    path = quarter.with_name("2026.yaml")
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def part_y(params: Path, runs: int, sc: Scenario, log: Path) -> dict:
    """The year 2026 from its four quarters, warm server, after one warm-up run (the cache)."""
    measure([fast_command(params)], sc.warm, log)
    samples = [measure([fast_command(params)], sc.warm, log, sc.server) for _ in range(runs)]
    peak = measure([fast_command(params)], sc.warm, log, sc.server, memory=True)
    return {"year": summary(samples, peak) | {"breakdown": breakdown(params)}}


# -- g: a group company ------------------------------------------------------------------
def group_sample(root: Path, n: int) -> list[Path]:
    """``n`` branches' default sample quarters, seeds 1..n (the first ones shared by every size)."""
    from selfcheck.sample import generate

    folders = []
    for k in range(1, n + 1):
        folder = root / "group" / f"b{k:02d}"
        if not (folder / PERIOD / "calls.csv").exists():
            print(f"generating branch b{k:02d}'s sample in {folder} …", flush=True)
            generate(PERIOD, folder, scale="default", seed=k)
        folders.append(folder)
    return folders


def group_params(work: Path, name: str, folders: list[Path]) -> Path:
    """A group of the project's parameters with one branch per sample folder."""
    path = write_params(work, name, folders[0])
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["branches"] = [
        {"id": f"b{k:02d}", "name": f"第{k}分公司", "data_dir": f"{f.as_posix()}/{{period}}"}
        for k, f in enumerate(folders, 1)
    ]
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class LocalCluster:
    """``dask scheduler`` and ``dask worker`` on 127.0.0.1 (the commands beside this Python)."""

    def __init__(self, folder: Path, env: dict[str, str], nworkers: int) -> None:
        self.folder, self.env, self.nworkers = folder, env, nworkers
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> str:
        dask = str(Path(PY).with_name("dask"))
        if not Path(dask).exists():
            raise SystemExit("g: the dask command is missing: pip install -e '.[cluster]'")
        self.folder.mkdir(parents=True, exist_ok=True)
        file = self.folder / "scheduler.json"
        file.unlink(missing_ok=True)
        log = (self.folder / "cluster.log").open("ab")
        local = ("--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0")
        self.procs.append(subprocess.Popen(
            [dask, "scheduler", *local, "--port", "0", "--scheduler-file", str(file)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
        ))  # fmt: skip
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.procs.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(file), *local, "--nworkers",
             str(self.nworkers), "--nthreads", "1", "--local-directory", str(self.folder / "w")],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
        ))  # fmt: skip
        address = json.loads(file.read_text(encoding="utf-8"))["address"]
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(self.nworkers, timeout=120)
        return address

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):  # workers first, then the scheduler
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def branch_seconds(params: Path) -> dict:
    """The branch runs' own wall times (their manifests' phases) and the group report's."""
    out = output_dir(params)
    seconds = {}
    for manifest in sorted(out.glob("*/run_manifest.json")):
        timings = json.loads(manifest.read_text(encoding="utf-8"))["timings_seconds"]
        seconds[manifest.parent.name] = round(sum(timings.values()), 3)
    group = seconds.pop("group", None)
    values = list(seconds.values())
    return {
        "group_report_seconds": group,
        "branch_median_seconds": round(statistics.median(values), 3) if values else None,
        "branch_max_seconds": max(values, default=None),
    }


def part_g(root: Path, work: Path, runs: int, sc: Scenario, log: Path, sizes: list[int]) -> dict:
    cores = len(os.sched_getaffinity(0))
    folders = group_sample(root, max(sizes))
    out: dict = {}
    for n in sizes:
        params = group_params(work, f"group{n}", folders[:n])
        modes = {"serial": ["--parallel", "1"], "parallel": []}
        res: dict = {}
        measure([fast_command(params)], sc.warm, log)  # warm-up: caches, the server
        for mode, extra in modes.items():
            print(f"g: {n} branches, {mode} …", flush=True)
            cmd = fast_command(params, *extra)
            samples = [measure([cmd], sc.warm, log, sc.server) for _ in range(runs)]
            res[mode] = summary(samples, samples[-1]) | branch_seconds(params)
        with LocalCluster(work / "dask", sc.warm, cores) as address:
            print(f"g: {n} branches, Dask ({cores} workers at {address}) …", flush=True)
            cmd = fast_command(params, "--cluster", address)
            samples = [measure([cmd], sc.warm, log, sc.server) for _ in range(runs)]
            res["dask"] = summary(samples, samples[-1]) | branch_seconds(params)
        for s in res.values():
            s["seconds_per_branch"] = round(s["median_seconds"] / n, 3)
        res["group_report"] = group_report_only(params, sc, log)
        out[str(n)] = res
    return out


def group_report_only(params: Path, sc: Scenario, log: Path) -> dict:
    """The consolidated report alone (the branches' runs stored), memory sampled: what the
    machine that builds it needs for this many branches' pooled records."""
    code = (
        "import sys; from selfcheck.execution.runner import run; "
        "run(sys.argv[1], layout=False, echo=lambda s: None)"
    )
    cmd = [PY, "-c", code, str(params)]
    timed = measure([cmd], sc.warm, log, sc.server)
    return summary([timed], measure([cmd], sc.warm, log, sc.server, memory=True))


# -- report -------------------------------------------------------------------------------
def machine() -> dict:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": len(os.sched_getaffinity(0)),
        "memory_bytes": mem_kb * 1024,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": commit + ("+dirty" if dirty else ""),
        "sections": len(sections()),
        "loadavg_start": os.getloadavg()[0],
    }


def gib(n: float) -> str:
    return f"{n / 1024**3:.2f} GiB"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def table(res: dict) -> str:
    m = res["machine"]
    rows = [
        f"selfcheck benchmark · {m['date']} · {m['cpus']} CPU {m['cpu_model']} · "
        f"{gib(m['memory_bytes'])} · {m['sections']} sections · {m['commit']}",
        f"{'figure':<44} {'median s':>9} {'CPU s':>7} {'other CPU s':>11} "
        f"{'peak RSS':>10} {'peak PSS':>10}  target",
    ]

    def row(name: str, s: dict, target: str) -> None:
        rows.append(
            f"{name:<44} {s['median_seconds']:>9.2f} {s['median_cpu_seconds']:>7.1f} "
            f"{s['median_other_cpu_s']:>11.1f} {gib(s['peak_rss_bytes']):>10} "
            f"{gib(s['peak_pss_bytes']):>10}  {target}"
        )

    if "a" in res:
        a = res["a"]
        ok = a["fast"]["median_seconds"] < TARGETS["a_seconds"]
        row(f"a  full run, {res['scale']} sample (warm server)", a["fast"], f"< 8 s: {verdict(ok)}")
        ok = a["fast_cold_pool"]["median_seconds"] < TARGETS["a_seconds"]
        row("a  full run, own server (cold pool)", a["fast_cold_pool"], f"< 8 s: {verdict(ok)}")
        row("a  baseline: serial papermill + assembly", a["baseline"], "")
        for key, what in (("ratio", "warm"), ("ratio_cold_pool", "cold pool")):
            rows.append(
                f"{'a  ratio baseline / full run (' + what + ')':<44} {a[key]:>9.2f}"
                f"{'':>43}≥ 5×: {verdict(a[key] >= TARGETS['a_ratio'])}"
            )
    if "b" in res:
        for section_id, s in res["b"].items():
            ok = s["median_seconds"] < TARGETS["b_seconds"]
            row(f"b  --only {section_id}", s, f"< 3 s: {verdict(ok)}")
    if "c" in res:
        c = res["c"]
        ok = c["csv"]["median_seconds"] < TARGETS["c_csv_seconds"]
        row("c  large quarter, from CSV", c["csv"], f"< 90 s: {verdict(ok)}")
        ok = c["cache"]["median_seconds"] < TARGETS["c_cache_seconds"]
        row("c  large quarter, from the cache", c["cache"], f"< 30 s: {verdict(ok)}")
    if "y" in res:
        y = res["y"]["year"]
        quarter = res.get("a", {}).get("fast", {}).get("median_seconds")
        ratio = y["median_seconds"] / quarter if quarter else None
        shown = (
            f"≤ 1.5× the quarter: {ratio:.2f}× {verdict(ratio <= TARGETS['y_ratio'])}"
            if ratio
            else ""
        )
        row("y  year 2026 from its four quarters (warm)", y, shown)
    for n, g in res.get("g", {}).items():
        for mode, s in g.items():
            if mode == "group_report":
                row(f"g  {n} branches: the group report alone", s, "")
                continue
            rows.append(
                f"{f'g  group of {n} branches, {mode}':<44} {s['median_seconds']:>9.2f} "
                f"{s['median_cpu_seconds']:>7.1f} {s['median_other_cpu_s']:>11.1f}  "
                f"{s['seconds_per_branch']:.2f} s/branch; a branch's run "
                f"{s['branch_median_seconds']} s (max {s['branch_max_seconds']}), "
                f"group report {s['group_report_seconds']} s"
            )
    peak = res["d"]["peak_rss_bytes"]
    if peak:  # none measured when only g ran
        rows.append(
            f"{'d  peak memory of any run (RSS sum; PSS sum)':<44} {gib(peak):>9} "
            f"({gib(res['d']['peak_pss_bytes'])})  < 6 GiB: {verdict(peak < TARGETS['d_bytes'])}"
        )
    if "l" in res and "skipped" not in res["l"]:
        lay = res["l"]
        row("l  assemble --no-layout", lay["no_layout"], "< 2 s")
        row("l  assemble, layout: report unchanged", lay["unchanged"], "0 conversions")
        row("l  assemble, layout: headings kept, new PDF", lay["kept"], "1 conversion")
        row("l  assemble, layout: headings moved", lay["moved"], "2 conversions")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sample, one run, no large quarter")
    p.add_argument("--runs", type=int, default=None, help="runs per figure (default 3; quick 1)")
    p.add_argument(
        "--parts", default="a,b,c,l,y", help="which of a,b,c,l,y,g to run (d comes with them)"
    )
    p.add_argument("--branches", default="5,30", help="group sizes for g (default 5,30)")
    p.add_argument("--only", default=None, help="sections for b (default: all; quick: response)")
    p.add_argument("--data-root", type=Path, default=Path("/tmp/selfcheck-bench"))
    p.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = p.parse_args(argv)

    runs = args.runs or (1 if args.quick else 3)
    parts = set(args.parts.split(","))
    if args.quick:
        parts.discard("c")
    scale = "small" if args.quick else "default"
    only = (args.only or ("response" if args.quick else "all")).split(",")
    if only == ["all"]:
        only = [s.id for s in sections()]
    root = args.data_root.resolve()
    work = root / "work"
    work.mkdir(parents=True, exist_ok=True)
    log = work / "commands.log"
    sc = Scenario(environment())

    res: dict = {"machine": machine(), "scale": scale, "runs": runs, "targets": TARGETS}
    print(f"logs: {log}", flush=True)
    try:
        if parts & {"a", "b"}:
            params = write_params(work, scale, ensure_sample(root, scale))
            if "a" in parts:
                print("a: full run against serial papermill …", flush=True)
                res["a"] = part_a(params, runs, sc, log)
            if "b" in parts:
                print(f"b: --only {', '.join(only)} …", flush=True)
                res["b"] = part_b(params, runs, sc, log, only)
        if "l" in parts:
            params = write_params(work, "layout", ensure_sample(root, scale), "libreoffice")
            print("l: the layout pass and the PDF copy …", flush=True)
            res["l"] = part_l(params, runs, sc, log)
        if "y" in parts:
            params = year_params(work, year_sample(root))
            print("y: the year 2026 from its four quarters …", flush=True)
            res["y"] = part_y(params, runs, sc, log)
        if "g" in parts:
            sizes = [int(n) for n in args.branches.split(",")]
            res["g"] = part_g(root, work, runs, sc, log, sizes)
        if "c" in parts:
            params = write_params(work, "large", ensure_sample(root, "large"))
            print("c: large quarter from CSV and from the cache …", flush=True)
            res["c"] = part_c(params, runs, sc, log)
    finally:
        sc.server.stop()
        shutil.rmtree(sc.runtime, ignore_errors=True)
    measured = [
        s
        for k in ("a", "c", "y")
        if k in res
        for s in res[k].values()
        if isinstance(s, dict) and "runs" in s
    ]
    measured += list(res.get("b", {}).values())
    res["d"] = {
        "peak_rss_bytes": max((s["peak_rss_bytes"] for s in measured), default=0),
        "peak_pss_bytes": max((s["peak_pss_bytes"] for s in measured), default=0),
    }
    res["machine"]["loadavg_end"] = os.getloadavg()[0]

    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(res))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
