"""A group's run: each branch's report, then the group's consolidated report.

Each branch is run as its own ``selfcheck run PARAMS --branch ID`` — exactly the run of
that branch alone, in its own process (forked from the warm server when there is one) —
so that branches run side by side and a failing branch fails alone. Where they run:

* **here** (default): at most :func:`default_parallel` at once — no more than the cores,
  and no more than fit in the memory available, at the peak a branch of this size needs
  (``docs/benchmarks.md``); the cores are shared out among them (``--workers``);
* **on a Dask cluster** (``--cluster ADDRESS`` or ``cluster:``): each branch run is a task
  on the user's ``dask.distributed`` scheduler (:func:`cluster_task`), its subprocess runs
  on the worker; the scheduler and the workers need selfcheck installed (the scheduler
  unpickles the tasks), and the workers must see the same files (the parameters, data and
  output folders) at the same paths. A worker runs ``--nthreads`` branches at once and
  shares its cores among them; a lost worker's task is run again elsewhere by the
  scheduler, and fails (that branch only) when it has lost too many.

Then the consolidated report is built here from the pooled records of the branches
(``ingest/group.py``), with the branch comparison. A failed branch is named; without
``--allow-partial`` there is no group report, with it the group report leaves the branch
out of the pooled figures and says so (``members.json``, :mod:`selfcheck.group`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from selfcheck.config import BranchModel, Config, load_config
from selfcheck.errors import ParamsError, ReportError, SectionError
from selfcheck.group import branch_state, write_members
from selfcheck.period import PER_YEAR

# a branch run's peak memory per byte of its input files: the large quarter (1.1 GB of
# CSV) peaks at 4.83 GiB over the whole run tree (docs/benchmarks.md), ~4.4 bytes per byte
PEAK_PER_INPUT_BYTE = 4.4
MIN_PEAK_BYTES = 1_500_000_000  # a default-sample branch: ~1.3 GiB with its kernels
TAIL_LINES = 12


@dataclass(frozen=True)
class BranchRun:
    """One branch's run: ``ok`` or ``failed`` (its exit code and last lines of output)."""

    branch: BranchModel
    status: str
    seconds: float
    exit_code: int = 0
    message: str = ""
    where: str = "local"  # local, or the Dask worker's address

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class GroupResult:
    branches: list[BranchRun]
    report: Path | None  # the group report (None: not built)
    seconds: float


def branch_command(
    params: Path, branch_id: str, *, workers: int | None, layout: bool, wait: bool = False
) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "selfcheck",
        "run",
        str(params),
        "--branch",
        branch_id,
        "--no-group",
    ]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if not layout:
        cmd.append("--no-layout")
    if wait:
        cmd.append("--wait")
    return cmd


# Linux: the branch run is killed with the process that started it (PR_SET_PDEATHSIG, kept
# across exec) — a Dask worker that dies mid-task leaves no orphan run writing into the
# branch's output folder while the scheduler runs the task again elsewhere. The thread that
# starts it waits for it, so only the worker's own death can end that thread first.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))\n"  # 1: PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]): sys.exit(137)\n"  # the parent died meanwhile
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def run_branch(
    params: str,
    branch_id: str,
    workers: int | None = None,
    layout: bool = True,
    *,
    die_with_parent: bool = False,
) -> dict:
    """One branch run, as a subprocess of this process: a plain dictionary, so that it
    travels back from a Dask worker (:func:`cluster_task`)."""
    t = time.perf_counter()
    # the environment as it is: a variable more (SELFCHECK_*) would key another warm server
    # than the one run_group warmed (execution/kernels.server_key)
    env = dict(os.environ)
    cmd = branch_command(Path(params), branch_id, workers=workers, layout=layout)
    if die_with_parent and sys.platform.startswith("linux"):
        cmd = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        check=False,
    )
    tail = [line for line in (proc.stderr or "").splitlines() if line.strip()][-TAIL_LINES:]
    if proc.returncode < 0 and not any(line.startswith("错误") for line in tail):
        tail.append(
            f"错误：分支机构的运行被信号 {-proc.returncode} 终止（内存不足时系统会终止最大的进程）"
            f" (the branch run was killed by signal {-proc.returncode})"
        )
    return {
        "branch": branch_id,
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - t, 3),
        "message": "\n".join(tail),
        "where": os.uname().nodename if hasattr(os, "uname") else "local",
    }


def data_folders(config: Config) -> list[Path]:
    """A branch's data folders of the period: of a period pooled from part folders
    (``data_from``), each part's; else the one folder."""
    kind = config.params.data_from.kind
    if kind is not None and config.period.per_year < PER_YEAR[kind]:
        return [config.data_dir(p) for p in config.period.parts(kind)]
    return [config.data_dir()]


def cluster_task(params: str, branch_id: str, layout: bool = True) -> dict:
    """One branch run as a Dask task, on a worker: the branch subprocess runs there, with
    the worker's cores shared among the tasks it runs at once (its threads), and dies with
    the worker. The worker must see the parameters, data and output folders at the paths
    given here."""
    where = "dask"
    per_run = None
    try:
        from distributed import get_worker

        worker = get_worker()
        where = worker.address
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        cores = cores or os.cpu_count() or 1
        per_run = max(1, cores // max(worker.state.nthreads, 1))
    except (ImportError, ValueError):  # not on a worker (get_worker: ValueError)
        pass
    if not Path(params).is_file():
        return {
            "branch": branch_id,
            "exit_code": 2,
            "seconds": 0.0,
            "message": f"错误：Dask worker {where} 上找不到参数文件 {params}；集群的各 worker"
            "须能以相同路径访问参数文件、数据目录和输出目录"
            " (the parameters file is not visible on the worker)",
            "where": where,
        }
    d = run_branch(params, branch_id, per_run, layout, die_with_parent=True)
    d["where"] = where
    return d


def input_bytes(config: Config) -> int:
    """The size of a branch's data files of the period (what its peak memory follows)."""
    return sum(
        p.stat().st_size
        for folder in data_folders(config)
        if folder.is_dir()
        for p in folder.iterdir()
        if p.is_file()
    )


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``; None where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def default_parallel(configs: Sequence[Config]) -> int:
    """Branch runs at once on this machine: at most one per core, and never more than fit
    in the memory available at the largest branch's expected peak."""
    cores = max(os.cpu_count() or 1, 1)
    n = min(len(configs), cores) or 1
    memory = available_memory()
    if memory is not None and configs:
        peak = max(max(PEAK_PER_INPUT_BYTE * input_bytes(c), MIN_PEAK_BYTES) for c in configs)
        n = max(1, min(n, int(0.8 * memory // peak)))
    return n


def run_group(
    params_path: str | Path,
    *,
    branch: str | None = None,
    cluster: str | None = None,
    allow_partial: bool = False,
    parallel: int | None = None,
    workers: int | None = None,
    layout: bool = True,
    wait: bool = False,
    echo: Callable[[str], None] = print,
) -> GroupResult:
    """Every branch's report (``branch``: that one only; the others' stored reports are
    used), then the group's consolidated report."""
    started = time.perf_counter()
    group = load_config(params_path)
    if not group.branches:
        raise ParamsError(
            f"{group.params_path}: 参数文件没有 branches（分支机构），--branch / --cluster 无从使用"
            " (no branches in this parameters file)"
        )
    chosen = [b for b in group.branches if branch is None or b.id == branch]
    if not chosen:
        group.for_branch(branch or "")  # the error naming the id and the branches
    configs = [group.for_branch(b.id) for b in chosen]
    missing = [c for c in configs if not any(f.is_dir() for f in data_folders(c))]
    if missing:
        raise ParamsError(
            "以下分支机构的数据目录不存在："
            + "；".join(
                f"{c.branch.name}（{c.branch.id}）：{'、'.join(str(f) for f in data_folders(c))}"
                for c in missing
                if c.branch
            )
            + "。请检查参数文件 branches 中各机构的 data_dir。 (branch data folder not found)"
        )
    # the branches not run now: their stored reports stand in (--branch); one without a
    # finished report of the period stops the group run here, before anything runs
    others = [branch_state(group, b) for b in group.branches if b.id not in {c.id for c in chosen}]
    stale = {s.branch.id: s.reason for s in others if not s.complete}
    if stale and not allow_partial:
        raise ReportError(
            f"{len(stale)} 个分支机构没有本期报告，只运行 {chosen[0].name}（{chosen[0].id}）"
            "无法生成集团报告：\n"
            + "\n".join(
                f"  · {s.branch.name}（{s.branch.id}）：{s.reason}"
                for s in others
                if not s.complete
            )
            + "\n请先运行这些机构（--branch 编号），或不带 --branch 运行整个集团；如需先出集团报告"
            "（不含这些机构），加 --allow-partial。"
            " (branches without a report of the period: no group report)"
        )
    address = cluster or group.params.cluster
    echo(
        f"集团 {group.params.organisation} · {group.period.title_zh} · {len(group.branches)} 个分支机构"
        + (f"，本次运行 {chosen[0].name}（{chosen[0].id}）" if branch else "")
    )
    if address:
        runs = _on_cluster(group, chosen, address, layout, echo)
    else:
        runs = _here(group, configs, parallel, workers, layout, echo)
    failed = {r.branch.id: r for r in runs if not r.ok}
    excluded = {i: f"运行失败：{_first(r.message)}" for i, r in failed.items()}
    excluded.update({i: why for i, why in stale.items()})
    if len(excluded) == len(group.branches):  # nothing to pool, even with --allow-partial
        raise SectionError(
            "所有分支机构都没有本期报告，无法生成集团报告：\n"
            + "\n".join(f"  · {b.name}（{b.id}）：{excluded[b.id]}" for b in group.branches)
            + "\n修正后重新运行。 (no branch has a report of the period: no group report)",
            section="group",
        )
    if (failed or stale) and not allow_partial:
        lines = [
            f"  · {r.branch.name}（{r.branch.id}）：{_first(r.message)}" for r in failed.values()
        ]
        names = {b.id: b.name for b in group.branches}
        lines += [f"  · {names[i]}（{i}）：{why}" for i, why in stale.items()]
        raise SectionError(
            f"{len(failed) + len(stale)} 个分支机构没有本期报告，未生成集团报告：\n"
            + "\n".join(lines)
            + "\n其余机构的报告已生成。修正后可用 --branch 重新运行该机构；如需先出集团报告"
            "（不含这些机构），加 --allow-partial。(branch runs failed: no group report)",
            section="group",
        )
    write_members(group, excluded)
    from selfcheck.execution.kernels import warm_pool
    from selfcheck.execution.runner import run

    echo("集团汇总报告：")
    with warm_pool(shared=True) as pool:  # the branches' warm server, when there is one
        result = run(
            group.params_path,
            allow_partial=allow_partial,
            workers=workers,
            pool=pool,
            echo=echo,
            wait=wait,
            layout=layout,
        )
    total = round(time.perf_counter() - started, 3)
    echo(f"集团报告已生成：{result.report}（共 {total:.1f} 秒）")
    return GroupResult(runs, result.report, total)


def _first(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    picked = next((line for line in lines if line.startswith("错误")), lines[-1] if lines else "")
    return picked.removeprefix("错误：").strip() or "原因未记录"


def _record(b: BranchModel, d: dict, echo: Callable[[str], None]) -> BranchRun:
    ok = d["exit_code"] == 0
    run = BranchRun(
        b, "ok" if ok else "failed", d["seconds"], d["exit_code"], d["message"], d["where"]
    )
    mark = "✓" if ok else "✗"
    detail = f"（{run.seconds:.1f} 秒）" if ok else f"：{_first(run.message)}"
    echo(f"  {mark} {b.name}（{b.id}）{detail}")
    return run


def _here(
    group: Config,
    configs: list[Config],
    parallel: int | None,
    workers: int | None,
    layout: bool,
    echo: Callable[[str], None],
) -> list[BranchRun]:
    n = parallel or default_parallel(configs)
    n = max(1, min(n, len(configs)))
    cores = max(os.cpu_count() or 1, 1)
    per_run = workers or max(1, cores // n)
    echo(f"分支机构报告：{len(configs)} 个，同时运行 {n} 个，每个 {per_run} 个章节进程")
    _warm_server()
    with ThreadPoolExecutor(max_workers=n) as ex:
        futures = [
            (c.branch, ex.submit(run_branch, str(group.params_path), c.branch.id, per_run, layout))
            for c in configs
            if c.branch is not None
        ]
        return [_record(b, f.result(), echo) for b, f in futures]


def _warm_server() -> None:
    """The shared warm server up before the branch runs ask it for their runs."""
    from selfcheck.execution.kernels import IN_SERVER, fork_available, idle_seconds, start_shared

    if not IN_SERVER and idle_seconds() > 0 and fork_available():
        with suppress(Exception):  # without it each run starts its own kernels
            start_shared()


def _on_cluster(
    group: Config,
    branches: list[BranchModel],
    address: str,
    layout: bool,
    echo: Callable[[str], None],
) -> list[BranchRun]:
    """Each branch run a task on the Dask scheduler at ``address``; their results back here.

    What ``distributed`` does with them: a task whose worker dies (killed, out of memory,
    machine lost) is run again on another worker, up to the scheduler's
    ``distributed.scheduler.allowed-failures`` (3 by default), and then fails with
    ``KilledWorker`` — that branch fails, named, and the other tasks go on. A branch run that
    fails (its exit code) fails alone. Tasks are not interrupted once they run: a branch
    started on a worker runs to its end even if this command is stopped."""
    try:
        from distributed import Client, as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise ParamsError(
            "在 Dask 集群上运行需要 dask.distributed：pip install 'selfcheck[cluster]'"
            "（或 conda install -c conda-forge dask distributed） (dask.distributed not installed)"
        ) from None
    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise ParamsError(
            f"无法连接 Dask 调度器 {address}（{e}）。请确认地址（如 tcp://主机:8786）和端口，"
            "以及调度器正在运行 (cannot reach the Dask scheduler)"
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=60)
        except (OSError, TimeoutError) as e:
            raise ParamsError(
                f"Dask 调度器 {address} 在 60 秒内没有可用的 worker，请先启动 dask worker"
                f"（{type(e).__name__}） (the Dask cluster has no worker)"
            ) from None
        workers = client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
        echo(
            f"分支机构报告：{len(branches)} 个，交给 Dask 集群 {address}"
            f"（{len(workers)} 个 worker，同时运行至多 {threads} 个）"
        )
        stamp = time.time_ns()
        futures = {
            client.submit(
                cluster_task,
                str(group.params_path),
                b.id,
                layout,
                key=f"selfcheck-{group.period}-{b.id}-{stamp}",
                pure=False,
            ): b
            for b in branches
        }
        done: dict[str, BranchRun] = {}
        try:
            for future in as_completed(futures, loop=client.loop):
                b = futures[future]
                try:
                    d = future.result()
                except KilledWorker as e:
                    d = _task_failed(
                        b,
                        f"错误：运行该机构的 Dask worker 丢失（{e.last_worker.address}），"
                        f"已在 {e.allowed_failures + 1} 个 worker 上尝试 (the Dask worker"
                        " running this branch was lost)",
                        address,
                    )
                except FutureCancelledError as e:
                    d = _task_failed(
                        b,
                        f"错误：Dask 任务被取消（{e.reason}），可能与调度器的连接已断开"
                        " (the Dask task was cancelled)",
                        address,
                    )
                except Exception as e:  # the task's own error, or it could not run there
                    d = _task_failed(
                        b,
                        f"错误：Dask 任务失败：{_one_line(e)}（调度器和各 worker 的 Python 环境"
                        "须装有与本机同一版本的 selfcheck） (the Dask task failed)",
                        address,
                    )
                done[b.id] = _record(b, d, echo)
        finally:
            client.cancel(list(futures))  # none left on the cluster after an interruption
        return [done[b.id] for b in branches]


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}：{text[:200]}"


def _task_failed(b: BranchModel, message: str, address: str) -> dict:
    return {"branch": b.id, "exit_code": 1, "seconds": 0.0, "message": message, "where": address}
