"""Runner: validate the data, execute the section notebooks with Papermill, assemble the report.

Independent sections run in parallel (one kernel each); sections marked
``after_all`` (the appendix) run after them. Every executed notebook is kept and
rendered to HTML. A failing section keeps its traceback in its executed
notebook, is named with its cell and error, and makes the run fail unless
``allow_partial`` is set, in which case the report marks that section as failed.

Kernels come from a warm pool (:mod:`selfcheck.engine`): a fork server, started
first so that its imports overlap the data validation, forks a new kernel process
for every section. ``engine="papermill"`` (or ``SELFCHECK_ENGINE=papermill``) starts
every kernel cold with Papermill's own engine instead; both give the same report.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from selfcheck import __version__
from selfcheck.blocks import SECTION_FILE, SectionResult
from selfcheck.config import Config, load_config
from selfcheck.docx_writer import write_docx
from selfcheck.errors import OutputError, SectionError, SelfcheckError
from selfcheck.forkserver import block_slow_imports
from selfcheck.ingest import memory
from selfcheck.kernels import KernelPool, kernel_environment, resolve_engine, warm_pool
from selfcheck.metrics.history import HISTORY_FILE, HistoryStore
from selfcheck.quality import load_unused_files, record_quality, unused_lines
from selfcheck.report import Report, ReportMeta, SectionEntry
from selfcheck.results import batch_environment
from selfcheck.runlock import (
    MARKER_FILE,
    leftover_marker,
    marker_summary,
    output_lock,
    remove_marker,
    write_marker,
)
from selfcheck.sections import SECTIONS, SectionDef, get_section
from selfcheck.versions import package_versions

KERNEL_NAME = "python3"
METRICS_FILE = "metrics.csv"
MANIFEST_FILE = "run_manifest.json"
UNFINISHED_MANIFEST_FILE = "run_manifest.unfinished.json"  # the manifest of a failed run
STAGING_DIR = ".staging"  # the report, metrics.csv and manifest are built here, then swapped in
METRICS_COLUMNS = (
    "metric_id",
    "name",
    "value",
    "unit",
    "numerator",
    "denominator",
    "n",
    "target",
    "comparator",
    "status",
    "previous",
    "delta",
    "year_ago",
    "delta_year",
    "section",
    "reason",
    "ci_low",
    "ci_high",
    "small_sample",
    "p_value",
)


def notebooks_dir() -> Path:
    """The project's notebooks folder (``SELFCHECK_NOTEBOOKS`` overrides it)."""
    env = os.environ.get("SELFCHECK_NOTEBOOKS")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2] / "notebooks"


@dataclass
class SectionRun:
    section_id: str
    title: str
    status: str  # ok | failed | reused
    seconds: float
    notebook: str | None = None
    html: str | None = None
    error: str | None = None


@dataclass
class RunResult:
    period: str
    output_dir: Path
    report: Path | None
    metrics_csv: Path | None
    sections: list[SectionRun]
    seconds: float

    @property
    def failed(self) -> list[SectionRun]:
        return [s for s in self.sections if s.status == "failed"]


def run(
    params_path: str | Path,
    *,
    only: str | None = None,
    allow_partial: bool = False,
    workers: int | None = None,
    engine: str | None = None,
    pool: KernelPool | None = None,
    echo: Callable[[str], None] = print,
    wait: bool = False,
) -> RunResult:
    """Validate, execute the sections, assemble.

    ``engine``: ``selfcheck`` (default; warm forked kernels) or ``papermill`` (cold
    kernels, Papermill's own engine). ``pool``: a running :class:`KernelPool` to take
    the kernels from (the caller keeps it); by default the run starts its own.

    The run holds the output folder's lock (:mod:`selfcheck.runlock`) throughout: a second
    run of the same folder raises :class:`~selfcheck.errors.RunLockedError` at once, or
    with ``wait`` waits for the first to end. What the user reads — the report,
    ``metrics.csv``, the manifest — is built aside and swapped in at the end, the history
    store written only once the report is built; until then ``运行未完成.txt`` says that
    the section results beside the report are from an unfinished run.
    """
    started = time.perf_counter()
    started_at = datetime.now().isoformat(timespec="seconds")
    kernel_environment()
    block_slow_imports()
    engine = resolve_engine(engine)
    if engine != "selfcheck":
        pool = None
    context = nullcontext(pool) if pool is not None else warm_pool(engine, cwd=notebooks_dir())
    with context as pool:  # the pool warms up while the parameters and data are checked
        config = load_config(params_path)
        with output_lock(config.output_dir, what="run", wait=wait, echo=echo) as owner:
            return _run(
                config, only, allow_partial, workers, pool, echo, started, started_at, owner
            )


def _run(
    config: Config,
    only: str | None,
    allow_partial: bool,
    workers: int | None,
    pool,
    echo: Callable[[str], None],
    started: float,
    started_at: str,
    owner: dict,
) -> RunResult:
    out = config.output_dir
    echo(f"selfcheck {__version__} · {config.period.title_zh} · 输出目录 {out}")
    left = leftover_marker(out)
    if left is not None:
        echo(
            f"注意：上次运行没有完成（{marker_summary(left)}），见 {out / MARKER_FILE}；"
            "本次运行成功后该提示文件会被删除。"
            "(a previous run did not finish; this run replaces its results)"
        )
    report_from = _report_time(config)
    write_marker(out, owner, report=out / report_filename(config), report_from=report_from)
    try:
        return _run_marked(config, only, allow_partial, workers, pool, echo, started, started_at)
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            status = "已中断（Ctrl-C，或发起运行的命令被终止）"
        elif isinstance(e, SelfcheckError):
            status = f"失败：{_first_line(str(e))}"
        else:
            status = f"失败：{type(e).__name__}: {_first_line(str(e))}"
        with suppress(OSError):
            write_marker(
                out,
                owner,
                report=out / report_filename(config),
                report_from=report_from,
                status=status,
            )
        raise


def _report_time(config: Config) -> str | None:
    """When the report now in the output folder was made (its manifest's end time)."""
    try:
        manifest = json.loads((config.output_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("finished_at") if manifest.get("report") else None


def _run_marked(
    config: Config,
    only: str | None,
    allow_partial: bool,
    workers: int | None,
    pool,
    echo: Callable[[str], None],
    started: float,
    started_at: str,
) -> RunResult:
    out = config.output_dir

    t = time.perf_counter()
    quality = record_quality(config)
    memory.release()
    timings = {"validate": round(time.perf_counter() - t, 3)}
    echo(
        f"数据校验完成：{len(quality)} 个数据集，"
        f"{sum(q.rows_kept for q in quality.values()):,} 行纳入本期（{timings['validate']:.1f} 秒）"
    )
    for line in unused_lines(load_unused_files(config)):
        echo(line)

    selected = [get_section(only)] if only is not None else list(SECTIONS)
    first = [s for s in selected if not s.after_all]
    last = [s for s in selected if s.after_all]
    runs: list[SectionRun] = []
    t = time.perf_counter()
    if workers is None:
        workers = default_workers(pool is not None, _input_bytes(config, quality))
    _compile_notebook_schema(selected)
    with _HtmlRenderer(pool) as html:
        with batch_environment():  # kernels see SELFCHECK_RUN=1: results marked papermill
            for phase in (first, last):
                runs.extend(_run_phase(phase, config, workers, pool, html, echo))
        timings["sections"] = round(time.perf_counter() - t, 3)
        failed = [r for r in runs if r.status == "failed"]

        if failed and not allow_partial:
            html.wait()
            _write_manifest(
                config,
                runs,
                timings,
                started_at,
                quality,
                report=None,
                pool=pool,
                workers=workers,
                path=out / UNFINISHED_MANIFEST_FILE,
            )
            lines = "\n".join(f"  · {r.title}（{r.section_id}）：{r.error}" for r in failed)
            raise SectionError(
                f"{len(failed)} 个章节运行失败，未生成报告：\n{lines}\n"
                f"完整的出错信息见执行后的笔记本：{out / 'notebooks'}。"
                "修正后可用 --only 重新运行该章节；如需先出带失败标记的报告，加 --allow-partial。",
                section=failed[0].section_id,
            )

        t = time.perf_counter()  # the last notebooks are rendered to HTML meanwhile
        built = build(config)
        timings["assemble"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
    timings["html_wait"] = round(time.perf_counter() - t, 3)
    stats = built.stats
    if stats.illegal_chars_removed:
        echo(f"提示：文本中有 {stats.illegal_chars_removed} 个 Word 不支持的控制字符，已删除。")
    report_path = out / report_filename(config)
    _write_manifest(
        config,
        runs,
        timings,
        started_at,
        quality,
        report=report_path,
        pool=pool,
        workers=workers,
        path=built.staging / MANIFEST_FILE,
    )
    report_path, metrics_path = commit(config, built)
    total = time.perf_counter() - started
    echo(f"报告已生成：{report_path}（共 {total:.1f} 秒）")
    return RunResult(str(config.period), out, report_path, metrics_path, runs, round(total, 3))


@dataclass
class Built:
    """A report, its ``metrics.csv`` (and manifest) built in the staging folder, not yet
    in place."""

    staging: Path
    report: Path
    metrics_csv: Path
    results: list[SectionResult]
    stats: object


def assemble(config: Config):
    """The saved section results → ``metrics.csv``, the history store and the Word report."""
    built = build(config)
    report_path, metrics_path = commit(config, built)
    return report_path, metrics_path, built.stats


def build(config: Config) -> Built:
    """The report and ``metrics.csv`` from the saved section results, built in the staging
    folder: a failure here leaves what the output folder held untouched."""
    out = config.output_dir
    results = collect_results(config)
    staging = out / STAGING_DIR
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
    except OSError as e:
        raise OutputError(
            f"无法创建临时目录：{staging}（{e.strerror or e}）。请确认输出目录可写。"
            "(cannot create the staging folder)"
        ) from None
    metrics_path = write_metrics_csv(results, staging / METRICS_FILE)
    meta = ReportMeta(
        organisation=config.params.organisation,
        reporting_unit=config.params.reporting_unit,
        period=config.period,
        report_date=config.report_date,
        confidentiality=config.params.confidentiality,
    )
    report = Report(meta, tuple(SectionEntry(r, out / "sections" / r.section_id) for r in results))
    report_path = staging / report_filename(config)
    stats = write_docx(report, report_path, template=config.template)
    return Built(staging, report_path, metrics_path, results, stats)


def commit(config: Config, built: Built) -> tuple[Path, Path]:
    """The built report's metrics into the history store (one transaction), then the
    staged files into the output folder; the unfinished-run marker goes last."""
    out = config.output_dir
    report_path = out / built.report.name
    metrics_path = out / METRICS_FILE
    moves = [(built.report, report_path), (built.metrics_csv, metrics_path)]
    manifest = built.staging / MANIFEST_FILE
    if manifest.exists():
        moves.append((manifest, out / MANIFEST_FILE))
    for _, target in moves:  # a file open in Word or Excel (Windows): stop before any change
        try:
            if os.name == "nt" and target.exists():  # Windows refuses to replace an open file
                with target.open("r+b"):
                    pass
        except PermissionError as e:
            raise _open_elsewhere(target, e) from None
    HistoryStore(config.output_root / HISTORY_FILE).write(
        config.period, [m for r in built.results for m in r.metrics]
    )
    for source, target in moves:
        try:
            os.replace(source, target)
        except PermissionError as e:
            raise _open_elsewhere(target, e) from None
    with suppress(OSError):
        (out / UNFINISHED_MANIFEST_FILE).unlink(missing_ok=True)
    with suppress(OSError):
        built.staging.rmdir()
    remove_marker(out)
    return report_path, metrics_path


def _open_elsewhere(target: Path, e: OSError) -> OutputError:
    return OutputError(
        f"无法替换 {target}（{e.strerror or e}）：该文件可能正在 Word 或 Excel 中打开，"
        "请关闭后重新运行。(the file is open in another program)"
    )


def report_filename(config: Config) -> str:
    return f"{config.period}_客户服务自查报告.docx"


def _run_phase(
    phase: Sequence[SectionDef],
    config: Config,
    workers: int | None,
    pool,
    html: _HtmlRenderer,
    echo: Callable[[str], None],
) -> list[SectionRun]:
    if not phase:
        return []
    n = min(len(phase), workers or default_workers(pool is not None, 0))
    if n <= 1 or len(phase) == 1:
        return [_run_section(s, config, pool, html, echo) for s in phase]
    order = _longest_first(phase, config)
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="section") as executor:
        done = dict(
            zip(
                order,
                executor.map(lambda s: _run_section(s, config, pool, html, echo), order),
                strict=True,
            )
        )
    return [done[s] for s in phase]


EXTRA_WORKER_MAX_BYTES = 256 << 20


def default_workers(warm: bool, input_bytes: int) -> int:
    """Sections run at once: one per core; with warm kernels and a small quarter, one more.

    A forked kernel of a small quarter spends a good part of its second or two waiting
    (start, messages), which one extra section fills; with a large quarter the sections
    are long and busy, and an extra one only adds its memory (a kernel holding ten
    million calls takes ~1.5 GB).
    """
    cpus = max(os.cpu_count() or 1, 1)
    return cpus + 1 if warm and input_bytes < EXTRA_WORKER_MAX_BYTES else cpus


def _input_bytes(config: Config, quality) -> int:
    total = 0
    for q in quality.values():
        with suppress(OSError):
            total += (config.data_dir() / q.file).stat().st_size
    return total


def _longest_first(phase: Sequence[SectionDef], config: Config) -> list[SectionDef]:
    """The phase's sections, the slowest of the last run first (so that none starts last and
    runs alone); registry order when there is no earlier run."""
    try:
        manifest = json.loads((config.output_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        seconds = {r["section_id"]: float(r["seconds"]) for r in manifest["sections"]}
    except (OSError, ValueError, KeyError, TypeError):
        return list(phase)
    return sorted(phase, key=lambda s: -seconds.get(s.id, float("inf")))


def _run_section(
    section: SectionDef,
    config: Config,
    pool,
    html: _HtmlRenderer,
    echo: Callable[[str], None],
) -> SectionRun:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = notebooks_dir() / section.notebook
    target_dir = config.output_dir / "notebooks"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / section.notebook
    from selfcheck.engine import IpcKernelManager, register

    # kernel channels over UNIX sockets where there are: no TCP port to clash over
    engine_args: dict = {"kernel_manager_class": IpcKernelManager}
    if pool is not None:
        engine_args.update(engine_name=register(), kernel_pool=pool)
    echo(f"  ▶ {section.title} 开始")
    t = time.perf_counter()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        error = None
        try:
            pm.execute_notebook(
                str(source),
                str(target),
                parameters={"period": str(config.period), "params_path": str(config.params_path)},
                kernel_name=KERNEL_NAME,
                # the kernel's working directory; papermill's cwd= would chdir this whole
                # process, which parallel sections would race on
                resources={"metadata": {"path": str(source.parent)}},
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                # the kernel listens on loopback only; its transport warning is noise
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                **engine_args,
            )
        except PapermillExecutionError as e:
            error = f"第 {e.exec_count} 个代码单元出错 — {e.ename}: {_first_line(e.evalue)}"
        except FileNotFoundError as e:
            error = f"找不到笔记本：{e}"
        except Exception as e:  # a dead kernel or a broken notebook must still be reported
            error = f"{type(e).__name__}: {_first_line(str(e))}"
            if attempt < KERNEL_START_ATTEMPTS and _kernel_did_not_start(e):
                echo(f"  ↻ {section.title}：内核未能启动（{error}），重试第 {attempt} 次")
                continue
        break
    seconds = round(time.perf_counter() - t, 3)
    html_path = html.submit(target) if target.exists() else None
    if error is None and not (config.output_dir / "sections" / section.id / SECTION_FILE).exists():
        error = "笔记本执行完毕但没有保存本节结果（缺少 sec.save() 单元）"
    if error is not None:
        _store_failure(config, section, error)
        echo(f"  ✗ {section.title} 失败（{seconds:.1f} 秒）：{error}")
        return SectionRun(
            section.id, section.title, "failed", seconds, str(target), html_path, error
        )
    echo(f"  ✓ {section.title} 完成（{seconds:.1f} 秒）")
    stored = SectionResult.load(config.output_dir / "sections" / section.id)
    for warning in stored.warnings:
        echo(f"    ⚠ {warning}")
    return SectionRun(section.id, section.title, "ok", seconds, str(target), html_path)


KERNEL_START_ATTEMPTS = 3
_KERNEL_START_FAILURES = (
    "address already in use",  # a TCP port taken between its choice and the kernel's bind
    "kernel died before replying",
    "kernel didn't respond",
)


def _kernel_did_not_start(e: BaseException) -> bool:
    """A kernel that never came up (nothing of the notebook ran): worth starting again."""
    text = str(e).lower()
    return any(s in text for s in _KERNEL_START_FAILURES)


def _compile_notebook_schema(sections: list[SectionDef]) -> None:
    """Have nbformat compile its notebook schema (fastjsonschema: ~0.45 s of CPU) once, here,
    before the section threads start: each would otherwise compile it at its first read,
    several at once. A run forked from the warm server finds it compiled already."""
    import nbformat

    if sections:
        with contextlib.suppress(Exception):  # a broken notebook is reported by its section
            nbformat.read(str(notebooks_dir() / sections[0].notebook), as_version=4)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _render_html(notebook: Path) -> str | None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return str(html)


class _HtmlRenderer:
    """Executed notebooks to HTML: in forked children of the pool, in parallel with the next
    sections and the assembly, or (no pool) here, right away, as before."""

    def __init__(self, pool) -> None:
        self._pool = pool
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future] = []

    def submit(self, notebook: Path) -> str | None:
        if self._pool is None:
            return _render_html(notebook)
        if self._executor is None:
            n = max(os.cpu_count() or 1, 1)
            self._executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="html")
        self._futures.append(self._executor.submit(self._render, notebook))
        return str(notebook.with_suffix(".html"))

    def _render(self, notebook: Path) -> None:
        from selfcheck.engine import PoolError

        try:
            self._pool.render_html(notebook, notebook.with_suffix(".html"))
        except PoolError:  # the pool is gone: render here instead
            _render_html(notebook)

    def wait(self) -> None:
        futures, self._futures = self._futures, []
        for f in futures:
            f.result()

    def __enter__(self) -> _HtmlRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)


def _store_failure(config: Config, section: SectionDef, error: str) -> None:
    """A failed section leaves a failed result, so the report (partial) marks it."""
    folder = config.output_dir / "sections" / section.id
    SectionResult(
        section_id=section.id,
        title=section.title,
        order=section.order,
        period=str(config.period),
        status="failed",
        error=error,
    ).save(folder)


def collect_results(config: Config) -> list[SectionResult]:
    """Every registered section's stored result for the period, in report order."""
    results = []
    for s in SECTIONS:
        folder = config.output_dir / "sections" / s.id
        if not (folder / SECTION_FILE).exists():
            raise SelfcheckError(
                f"章节“{s.title}”（{s.id}）还没有本期结果：{folder}。"
                f"请先完整运行一次：selfcheck run {config.params_path}"
            )
        result = SectionResult.load(folder)
        if result.period != str(config.period):
            raise SelfcheckError(f"{folder}: 该结果属于 {result.period}，不是 {config.period}")
        results.append(result)
    return results


def write_metrics_csv(results: Sequence[SectionResult], path: Path) -> Path:
    """``metrics.csv``: one row per metric (and breakdown key), UTF-8 with BOM for Excel.

    Excel reads a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return as a formula: every text cell that does gets a leading ``'`` (OWASP's advice
    against CSV injection; the target comparator ``==`` is written ``'==``). Numbers are
    written as numbers, a negative delta ``-0.5`` included.
    """
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(METRICS_COLUMNS)
        for r in results:
            for m in r.metrics:
                w.writerow(
                    [
                        _text(m.metric_id),
                        _text(m.name),
                        _num(m.value),
                        _text(m.unit),
                        _num(m.numerator),
                        _num(m.denominator),
                        "" if m.n is None else m.n,
                        "" if m.target is None else _num(m.target.value),
                        "" if m.target is None else _text(m.target.comparator),
                        _text(m.status),
                        _num(m.previous),
                        _num(m.delta),
                        _num(m.year_ago),
                        _num(m.delta_year),
                        _text(m.section or r.section_id),
                        _text(m.reason or ""),
                        _num(m.ci_low),
                        _num(m.ci_high),
                        "true" if m.small_sample else ("false" if m.sampled else ""),
                        _num(m.p_value),
                    ]
                )
    tmp.replace(path)
    return path


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(v: object) -> str:
    """A text cell Excel shows as text: a formula-like start is neutralised with ``'``."""
    text = "" if v is None else str(v)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


def _write_manifest(
    config, runs, timings, started_at, quality, *, report, pool=None, workers=None, path=None
) -> Path:
    manifest = {
        "selfcheck": __version__,
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "period": str(config.period),
        "params_file": str(config.params_path),
        "standards_file": str(config.standards.path),
        "parameters": config.params.model_dump(mode="json"),
        "inputs": [
            {
                "dataset": q.name,
                "file": q.file,
                "sha256": q.sha256,
                "rows_read": q.rows_read,
                "rows_kept": q.rows_kept,
            }
            for q in quality.values()
        ],
        "started_at": started_at,
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "timings_seconds": timings,
        "engine": "papermill" if pool is None else "selfcheck",
        "workers": workers,
        "sections": [asdict(r) for r in runs],
        "report": None if report is None else str(report),
    }
    path = path or config.output_dir / MANIFEST_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
