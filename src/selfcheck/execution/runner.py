"""Runner: validate the data, execute the section notebooks with Papermill, assemble the report.

Independent sections run in parallel (one kernel each); sections marked
``after_all`` (the appendix) run after them. Every executed notebook is kept and
rendered to HTML. A failing section keeps its traceback in its executed
notebook, is named with its cell and error, and makes the run fail unless
``allow_partial`` is set, in which case the report marks that section as failed.

Kernels come from a warm pool (:mod:`selfcheck.execution.engine`): a fork server, started
first so that its imports overlap the data validation, forks a new kernel process
for every section. ``engine="papermill"`` (or ``SELFCHECK_ENGINE=papermill``) starts
every kernel cold with Papermill's own engine instead; both give the same report.

The kernels of a run have ``SELFCHECK_RUN=1`` in their environment, so the results they
save say ``origin: papermill``; a result saved from JupyterLab says ``interactive``.
Before a section runs, a result saved from JupyterLab or a notebook saved after the
result is named in the run log; ``--only`` stops rather than overwrite JupyterLab work
whose notebook was not saved (:func:`check_saved_work`). ``--only X`` re-runs X and the
sections that read it (:func:`sections_to_run`), and no report is assembled over
section results that do not match each other (:func:`check_consistency`).
:func:`assemble_report` (``selfcheck assemble``) builds the report from the saved
results alone, without kernels.
"""

from __future__ import annotations

import contextlib
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
from typing import TypeVar

from selfcheck import __version__
from selfcheck.blocks import SECTION_FILE, SectionResult
from selfcheck.config import Config, load_config
from selfcheck.errors import OutputError, ReportError, SectionError, SelfcheckError
from selfcheck.execution.kernels import KernelPool, kernel_environment, resolve_engine, warm_pool
from selfcheck.execution.runlock import (
    MARKER_FILE,
    leftover_marker,
    marker_summary,
    output_lock,
    remove_marker,
    write_marker,
)
from selfcheck.execution.slowimports import block_slow_imports
from selfcheck.exports import METRICS_FILE, METRICS_XLSX, write_metrics_csv, write_metrics_xlsx
from selfcheck.ingest import memory
from selfcheck.ingest.source import sha256_of
from selfcheck.metrics.history import HistoryStore
from selfcheck.quality import load_quality, load_unused_files, record_quality, unused_lines
from selfcheck.report import Report, ReportMeta, SectionEntry
from selfcheck.results import RUN_ENV, batch_environment
from selfcheck.results import check_consistency as results_check
from selfcheck.scope import resolve_scope
from selfcheck.sections import SECTIONS, SectionDef, get_section
from selfcheck.versions import package_versions
from selfcheck.word.layout import LayoutResult, layout_report
from selfcheck.word.writer import write_docx

T = TypeVar("T")
KERNEL_NAME = "python3"
MANIFEST_FILE = "run_manifest.json"
UNFINISHED_MANIFEST_FILE = "run_manifest.unfinished.json"  # the manifest of a failed run
STAGING_DIR = ".staging"  # the report, metrics.csv and manifest are built here, then swapped in
# the executed notebook is written at most once a second while it runs (and whole at its end):
# papermill writes it at the start and end of every cell (engine._saves_at_most_every)
SAVE_EVERY = 1.0


def notebooks_dir() -> Path:
    """The project's notebooks folder (``SELFCHECK_NOTEBOOKS`` overrides it)."""
    env = os.environ.get("SELFCHECK_NOTEBOOKS")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[3] / "notebooks"


@dataclass
class SectionRun:
    section_id: str
    title: str
    status: str  # ok | failed | reused
    seconds: float
    notebook: str | None = None
    html: str | None = None
    error: str | None = None
    origin: str | None = None  # papermill | interactive (None: a result saved before origins)
    saved_at: str | None = None  # when the section result was saved (ISO, local time)


@dataclass
class RunResult:
    period: str
    output_dir: Path
    report: Path | None
    metrics_csv: Path | None
    sections: list[SectionRun]
    seconds: float
    pdf: Path | None = None  # the PDF copy (None: LibreOffice missing or the copy turned off)

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
    force: bool = False,
    layout: bool = True,
    branch: str | None = None,
) -> RunResult:
    """Validate, execute the sections, assemble.

    ``branch``: of a group's parameters file, run that branch's report alone (None: the
    group's consolidated report; :mod:`selfcheck.execution.group` runs them all).

    ``engine``: ``selfcheck`` (default; warm forked kernels) or ``papermill`` (cold
    kernels, Papermill's own engine). ``pool``: a running :class:`KernelPool` to take
    the kernels from (the caller keeps it); by default the run starts its own.

    The run holds the output folder's lock (:mod:`selfcheck.execution.runlock`) throughout: a second
    run of the same folder raises :class:`~selfcheck.errors.RunLockedError` at once, or
    with ``wait`` waits for the first to end. What the user reads — the report,
    ``metrics.csv``, the manifest — is built aside and swapped in at the end, the history
    store written only once the report is built; until then ``运行未完成.txt`` says that
    the section results beside the report are from an unfinished run.

    ``only``: that section, then the sections that read it (:func:`sections_to_run`);
    ``force``: run it even over a result saved from JupyterLab after its notebook was
    last saved (:func:`check_saved_work`).
    """
    started = time.perf_counter()
    started_at = datetime.now().isoformat(timespec="seconds")
    kernel_environment()
    block_slow_imports()
    engine = resolve_engine(engine)
    if engine != "selfcheck":
        pool = None
    context = nullcontext(pool) if pool is not None else warm_pool(engine, cwd=notebooks_dir())
    with context as pool, batch_environment():  # the pool warms up while the data are checked
        config = load_config(params_path, branch)
        with output_lock(config.output_dir, what="run", wait=wait, echo=echo) as owner:
            echo(
                f"selfcheck {__version__} · {config.period.title_zh} · 输出目录 {config.output_dir}"
            )
            selected = sections_to_run(config, only)
            if only is not None and len(selected) > 1:
                echo(
                    f"只重新运行{selected[0].title}（{only}），以及读取其结果的章节："
                    + "、".join(s.title for s in selected[1:])
                )
            # before anything changes: a stop here leaves the folder as it was
            check_saved_work(config, selected, echo, stop=only is not None and not force)
            return _marked(
                config,
                owner,
                echo,
                lambda: _run_marked(
                    config,
                    selected,
                    allow_partial,
                    workers,
                    pool,
                    echo,
                    started,
                    started_at,
                    layout,
                ),
            )


def _marked(config: Config, owner: dict, echo: Callable[[str], None], body: Callable[[], T]) -> T:
    """``body()`` with the unfinished-run marker in the output folder until it succeeds (its
    commit removes the marker); a failure leaves the marker with its reason."""
    out = config.output_dir
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
        return body()
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


def _written_by_last_run(config: Config, name: str) -> Path | None:
    """The output folder's ``name`` as the last run's manifest recorded it (same SHA-256),
    or None: a file someone has since opened and saved, or that another command wrote, is
    not the run's."""
    path = config.output_dir / name
    outputs = _last_manifest(config).get("outputs")
    recorded = outputs.get(name) if isinstance(outputs, dict) else None
    try:
        return path if recorded and recorded == sha256_of(path) else None
    except OSError:
        return None


def _last_manifest(config: Config) -> dict:
    """The output folder's manifest, or {} when there is none (or it is unreadable)."""
    try:
        manifest = json.loads((config.output_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _report_time(config: Config) -> str | None:
    """When the report now in the output folder was made (its manifest's end time)."""
    manifest = _last_manifest(config)
    return manifest.get("finished_at") if manifest.get("report") else None


def _run_marked(
    config: Config,
    selected: list[SectionDef],
    allow_partial: bool,
    workers: int | None,
    pool,
    echo: Callable[[str], None],
    started: float,
    started_at: str,
    layout: bool = True,
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
    if (scope_line := resolve_scope(config).log_line()) is not None:
        echo(scope_line)

    first = [s for s in selected if not s.after_all]
    last = [s for s in selected if s.after_all]
    runs: list[SectionRun] = []
    t = time.perf_counter()
    if workers is None:
        workers, last_workers = phase_workers(pool is not None, _input_bytes(config, quality))
    else:
        last_workers = workers
    _compile_notebook_schema(selected)
    with _HtmlRenderer(pool) as html:
        for phase, n in ((first, workers), (last, last_workers)):  # results marked papermill
            runs.extend(_run_phase(phase, config, n, pool, html, echo))
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
                workers=(workers, last_workers),
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
        built = build(config, layout=layout)
        timings["assemble"] = round(time.perf_counter() - t, 3)
        timings["layout"] = round(built.layout.seconds, 3) if built.layout else 0.0
        t = time.perf_counter()
    timings["html_wait"] = round(time.perf_counter() - t, 3)
    stats = built.stats
    if stats.illegal_chars_removed:
        echo(f"提示：文本中有 {stats.illegal_chars_removed} 个 Word 不支持的控制字符，已删除。")
    if built.layout and built.layout.message:
        echo(f"提示：{built.layout.message}")
    report_path = out / report_filename(config)
    _write_manifest(
        config,
        runs,
        timings,
        started_at,
        quality,
        report=report_path,
        pool=pool,
        workers=(workers, last_workers),
        path=built.staging / MANIFEST_FILE,
        results=built.results,
    )
    report_path, metrics_path = commit(config, built)
    total = time.perf_counter() - started
    echo(f"报告已生成：{report_path}（共 {total:.1f} 秒）")
    pdf = out / built.pdf.name if built.pdf else None
    return RunResult(str(config.period), out, report_path, metrics_path, runs, round(total, 3), pdf)


@dataclass
class Built:
    """A report, its ``metrics.csv`` (and manifest) built in the staging folder, not yet
    in place."""

    staging: Path
    report: Path
    metrics_csv: Path
    results: list[SectionResult]
    stats: object
    layout: LayoutResult | None = None  # the contents' page numbers and the PDF copy

    @property
    def pdf(self) -> Path | None:
        return self.layout.pdf if self.layout else None


def assemble(config: Config):
    """The saved section results → ``metrics.csv``, the history store and the Word report."""
    built = build(config)
    report_path, metrics_path = commit(config, built)
    return report_path, metrics_path, built.stats


def build(config: Config, *, layout: bool = True) -> Built:
    """The report and ``metrics.csv`` from the saved section results, built in the staging
    folder: a failure here leaves what the output folder held untouched."""
    out = config.output_dir
    results = collect_results(config)
    problems = check_consistency(results)
    if problems:
        lines = "\n".join(f"  · {p}" for p in problems)
        raise ReportError(
            f"各章节的结果互不一致，未生成报告：\n{lines}\n"
            f"请重新运行相应章节后再生成报告，例如：selfcheck run {config.params_path} "
            "--only <已改动的章节>（读取它的摘要、问题、措施与附录会随之重新运行）。"
            "(section results do not match each other; re-run the stale sections)"
        )
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
    write_metrics_xlsx(
        results,
        staging / METRICS_XLSX,
        quality=load_quality(config),
        unused=load_unused_files(config),
        created=config.report_date,
        title=f"{config.period} 客户服务自查报告 指标",
        previous=_written_by_last_run(config, METRICS_XLSX),
    )
    meta = ReportMeta(
        organisation=config.params.organisation,
        reporting_unit=config.params.reporting_unit,
        period=config.period,
        report_date=config.report_date,
        confidentiality=config.params.confidentiality,
    )
    # a section with nothing in scope saved no blocks: it is left out, the numbers close up
    shown = [r for r in results if r.blocks or r.status == "failed"]
    report = Report(meta, tuple(SectionEntry(r, out / "sections" / r.section_id) for r in shown))
    report_path = staging / report_filename(config)
    stats = write_docx(report, report_path, template=config.template)
    mode = config.params.layout if layout else "off"
    laid = layout_report(
        report_path, mode=mode, pdf=config.params.pdf, previous=out / report_path.name
    )
    return Built(staging, report_path, metrics_path, results, stats, laid)


def commit(config: Config, built: Built) -> tuple[Path, Path]:
    """The built report's metrics into the history store (one transaction), then the
    staged files into the output folder; the unfinished-run marker goes last."""
    out = config.output_dir
    report_path = out / built.report.name
    metrics_path = out / METRICS_FILE
    moves = [(built.report, report_path), (built.metrics_csv, metrics_path)]
    moves.append((built.staging / METRICS_XLSX, out / METRICS_XLSX))
    stale_pdf = report_path.with_suffix(".pdf")  # without a new copy the old one goes
    if built.pdf:
        moves.append((built.pdf, stale_pdf))
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
    HistoryStore(config.history_path).write(
        config.period, [m for r in built.results for m in r.metrics]
    )
    for source, target in moves:
        try:
            os.replace(source, target)
        except PermissionError as e:
            raise _open_elsewhere(target, e) from None
    with suppress(OSError):
        (out / UNFINISHED_MANIFEST_FILE).unlink(missing_ok=True)
    if not built.pdf:
        with suppress(OSError):
            stale_pdf.unlink(missing_ok=True)
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


def phase_workers(warm: bool, input_bytes: int) -> tuple[int, int]:
    """Sections at once in the first phase and in the second (the ``after_all`` sections).

    The second phase reads the first's saved results, not the period's records: the memory
    that holds a large quarter's first phase to one section per core does not bind it.
    """
    return default_workers(warm, input_bytes), default_workers(warm, 0)


def _input_bytes(config: Config, quality) -> int:
    """The size of the period's input files (of a group or a pooled period, every part's)."""
    total = 0
    for q in quality.values():
        for part in q.parts or [q]:
            folder = Path(part.folder) if part.folder else config.data_dir()
            with suppress(OSError):
                total += (folder / part.file).stat().st_size
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
    if _left_out(section, config):
        return _left_out_here(section, config)
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = notebooks_dir() / section.notebook
    target_dir = config.output_dir / "notebooks"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / section.notebook
    from selfcheck.execution.engine import IpcKernelManager, register

    # kernel channels over UNIX sockets where there are: no TCP port to clash over
    engine_args: dict = {"kernel_manager_class": IpcKernelManager}
    if pool is not None:
        engine_args.update(engine_name=register(), kernel_pool=pool, save_every=SAVE_EVERY)
    echo(f"  ▶ {section.title} 开始")
    t = time.perf_counter()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        error = None
        try:
            pm.execute_notebook(
                str(source),
                str(target),
                parameters={
                    "period": str(config.period),
                    "params_path": str(config.params_path),
                    "branch": config.branch.id if config.branch is not None else "",
                },
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
    folder = config.output_dir / "sections" / section.id
    stored = SectionResult.load(folder)
    for warning in stored.warnings:
        echo(f"    ⚠ {warning}")
    saved = saved_state(folder)
    return SectionRun(
        section.id,
        section.title,
        "ok",
        seconds,
        str(target),
        html_path,
        origin=(saved.origin if saved is not None else None) or "papermill",
        saved_at=saved.saved_at if saved is not None else None,
    )


KERNEL_START_ATTEMPTS = 3
_KERNEL_START_FAILURES = (
    "address already in use",  # a TCP port taken between its choice and the kernel's bind
    "kernel died before replying",
    "kernel didn't respond",
)


def _left_out(section: SectionDef, config: Config) -> bool:
    """The section leaves itself out of this report whatever the data say: a group's
    section in another report, a section made from an analyst's file that is not there
    (自查工作开展情况 without the period's checklist workbook)."""
    if section.group_only and not config.is_group:
        return True
    if section.requires_file is not None:
        name = section.requires_file.replace("{period}", str(config.period))
        return not (config.analyst_dir / name).exists()
    return False


def _left_out_here(section: SectionDef, config: Config) -> SectionRun:
    """A section that leaves itself out (:func:`_left_out`): its result saved empty (the
    report leaves it out, as the notebook's ``leave_out`` would), no kernel started."""
    from selfcheck.section import write_result

    t = time.perf_counter()
    result = SectionResult(
        section_id=section.id,
        title=section.title,
        order=section.order,
        period=str(config.period),
        origin="papermill",
        saved_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        seconds=0.0,
    )
    write_result(result, {}, config.output_dir / "sections" / section.id)
    return SectionRun(
        section.id,
        section.title,
        "ok",
        round(time.perf_counter() - t, 3),
        origin="papermill",
        saved_at=result.saved_at,
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
        from selfcheck.execution.engine import PoolError

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


def _write_manifest(
    config,
    runs,
    timings,
    started_at,
    quality,
    *,
    report,
    pool=None,
    workers: tuple[int, int] | None = None,
    path=None,
    results: Sequence[SectionResult] | None = None,
    command: str = "run",
) -> Path:
    """``run_manifest.json``. With the report's ``results``, one entry per section of the
    report: those this run executed as they ran, the others ``reused`` — each with the
    ``origin`` (papermill | interactive) and ``saved_at`` of its saved result."""
    entries = [asdict(r) for r in runs]
    if results is not None:
        ran = {r.section_id: asdict(r) for r in runs}
        entries = [ran.get(r.section_id) or asdict(_reused(config, r)) for r in results]
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
        "command": command,
        "engine": None if command != "run" else "papermill" if pool is None else "selfcheck",
        # sections at once: the first phase, then the sections that read the others' results
        "workers": workers[0] if workers else None,
        "workers_after_all": workers[1] if workers else None,
        "sections": entries,
        "report": None if report is None else str(report),
    }
    path = path or config.output_dir / MANIFEST_FILE
    if report is not None and (path.parent / METRICS_XLSX).is_file():  # beside it, staged
        manifest["outputs"] = {METRICS_XLSX: sha256_of(path.parent / METRICS_XLSX)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def _reused(config: Config, result: SectionResult) -> SectionRun:
    """The manifest's entry of a section the run did not execute: its saved result's."""
    saved = saved_state(config.output_dir / "sections" / result.section_id)
    return SectionRun(
        result.section_id,
        result.title,
        "failed" if result.status == "failed" else "reused",
        result.seconds or 0.0,
        error=result.error,
        origin=saved.origin if saved is not None else None,
        saved_at=saved.saved_at if saved is not None else None,
    )


# -- sections a run executes, and what it must not overwrite silently ---------------------


def sections_to_run(config: Config, only: str | None) -> list[SectionDef]:
    """Every section; with ``only``, that section and the sections that read it, in report
    order of their phases (``only`` first).

    Every ``after_all`` section (summary, findings, measures, appendix) reads the results of
    the sections before it, so ``--only response`` re-runs them all after response (they
    take a second or two). An ``after_all`` section itself is read by no other section,
    unless a saved result records it among its ``inputs``.
    """
    if only is None:
        return list(SECTIONS)
    target = get_section(only)
    readers = [
        s
        for s in SECTIONS
        if s.after_all
        and s.id != target.id
        and (not target.after_all or target.id in _saved_inputs(config, s))
    ]
    return [target, *readers]


def _saved_inputs(config: Config, section: SectionDef) -> set[str]:
    """The sections a saved result says it was built from (its ``inputs``)."""
    path = config.output_dir / "sections" / section.id / SECTION_FILE
    try:
        inputs = json.loads(path.read_text(encoding="utf-8")).get("inputs") or {}
    except (OSError, ValueError, AttributeError):
        return set()
    return set(inputs) if isinstance(inputs, dict) else set()


@dataclass(frozen=True)
class SavedState:
    """Where a saved section result came from and when it was saved."""

    origin: str | None  # papermill | interactive | None (saved before results told)
    saved_at: str  # ISO text (the file's time when the result does not say)
    timestamp: float  # the same, in seconds since the epoch


def saved_state(folder: Path) -> SavedState | None:
    """The origin and save time of the result in ``folder`` (None when there is none).

    Read from ``section.json`` itself (its ``origin`` and ``saved_at``), so this works with
    results saved before they had these fields (then: no origin, the file's time).
    """
    path = folder / SECTION_FILE
    try:
        mtime = path.stat().st_mtime
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    origin = payload.get("origin")
    text = payload.get("saved_at")
    stamp = _timestamp(text) if isinstance(text, str) else None
    if stamp is None:
        stamp, text = mtime, _local_time(mtime)
    return SavedState(origin if isinstance(origin, str) else None, str(text), stamp)


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()  # naive: local time, as written
    except ValueError:
        return None


def _local_time(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).isoformat(timespec="seconds")


def _shown(text: str) -> str:
    """An ISO time as the run log shows it: ``2026-12-01 20:31:05``."""
    stamp = _timestamp(text)
    return text if stamp is None else datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def check_saved_work(
    config: Config,
    sections: Sequence[SectionDef],
    echo: Callable[[str], None],
    *,
    stop: bool,
) -> None:
    """Before ``sections`` run: say what their run replaces that is not a batch result.

    For each section, in the run log:

    * its saved result came from JupyterLab (``origin: interactive``; a batch run would have
      replaced it, so it is newer than the section's last batch run): it is replaced by
      this run's execution of the notebook file;
    * its notebook file was saved after its result: this run executes the saved notebook.

    With ``stop`` (``--only`` without ``--force``) a result from JupyterLab saved *after* its
    notebook file — cells run, the notebook not saved, so the file lacks what produced the
    result — raises :class:`SectionError` before anything runs.
    """
    blocked = []
    for s in sections:
        saved = saved_state(config.output_dir / "sections" / s.id)
        if saved is None:
            continue
        notebook = notebooks_dir() / s.notebook
        try:
            notebook_time = notebook.stat().st_mtime
        except OSError:
            continue  # the run reports a missing notebook itself
        when = _shown(saved.saved_at)
        nb_when = _shown(_local_time(notebook_time))
        if saved.origin == "interactive":
            if saved.timestamp > notebook_time:
                if stop:
                    blocked.append((s, notebook, when, nb_when))
                    continue
                echo(
                    f"注意：{s.title}（{s.id}）的结果是 {when} 在 JupyterLab 中保存的，"
                    f"晚于笔记本 {notebook} 最后保存的时间（{nb_when}）：未保存到笔记本的修改"
                    "不会进入本次运行，该结果将被本次运行按笔记本文件重新生成的结果替换。"
                    f"(the {s.id} result saved in JupyterLab at {when} is newer than its"
                    " notebook file; this run replaces it from the notebook file)"
                )
            else:
                echo(
                    f"注意：{s.title}（{s.id}）的结果是 {when} 在 JupyterLab 中保存的；"
                    f"本次运行按笔记本 {notebook}（保存于 {nb_when}）重新执行并替换它。"
                    f"(the {s.id} result saved in JupyterLab at {when} is replaced by this"
                    " run of its notebook)"
                )
        elif notebook_time > saved.timestamp:
            echo(
                f"注意：笔记本 {notebook} 保存于 {nb_when}，晚于{s.title}（{s.id}）"
                f"已保存的结果（{when}）：本次运行执行修改后的笔记本。"
                f"(notebook {notebook.name} saved after the {s.id} result; running the saved"
                " notebook)"
            )
    if blocked:
        lines = "\n".join(
            f"  · {s.title}（{s.id}）：结果保存于 {when}，笔记本 {notebook} 保存于 {nb_when}"
            for s, notebook, when, nb_when in blocked
        )
        raise SectionError(
            "以下章节在 JupyterLab 中保存的结果晚于其笔记本文件：笔记本中有尚未保存的修改，"
            f"重新运行会用旧的笔记本覆盖这些结果。\n{lines}\n"
            "请先在 JupyterLab 中保存笔记本（Ctrl+S），再重新运行；"
            "如确实要按笔记本文件重新生成并覆盖，加 --force。"
            "(results saved in JupyterLab are newer than their notebook files: save the"
            " notebooks in JupyterLab, Ctrl+S, or pass --force)",
            section=blocked[0][0].id,
        )


# -- consistency, and the report from the saved results alone ------------------------------


def check_consistency(results: Sequence[SectionResult]) -> list[str]:
    """What does not match among the results (a summary built over other results than those
    in the report …): one message naming the stale section per problem; empty when all is
    well (:func:`selfcheck.results.check_consistency`)."""
    return results_check(list(results))


def assemble_report(
    params_path: str | Path,
    *,
    allow_partial: bool = False,
    wait: bool = False,
    echo: Callable[[str], None] = print,
    layout: bool = True,
) -> Path | None:
    """The Word report, ``metrics.csv``, the history store and the manifest from the saved
    section results alone: no kernel, no notebook (``selfcheck assemble``; from a notebook's
    last cell: ``from selfcheck.execution.runner import assemble_report; assemble_report(params_path)``).

    As a run: the output folder's lock, the unfinished marker, all-or-nothing replacement.
    A section whose saved result failed stops it unless ``allow_partial``; results that do
    not match each other stop it (:func:`check_consistency`). Under a run
    (``SELFCHECK_RUN=1``: the notebook is executed by ``selfcheck run``) it does nothing,
    the run assembles at its end. Returns the report's path (None when it did nothing).
    """
    if os.environ.get(RUN_ENV) == "1":
        echo(
            "（批量运行中：报告在运行结束时统一生成。）(inside selfcheck run: assembled at its end)"
        )
        return None
    started = time.perf_counter()
    started_at = datetime.now().isoformat(timespec="seconds")
    config = load_config(params_path)
    with output_lock(config.output_dir, what="assemble", wait=wait, echo=echo) as owner:
        report = _marked(
            config, owner, echo, lambda: _assemble(config, allow_partial, echo, started_at, layout)
        )
    echo(f"报告已生成：{report}（共 {time.perf_counter() - started:.1f} 秒，未运行任何笔记本）")
    return report


def _assemble(
    config: Config,
    allow_partial: bool,
    echo: Callable[[str], None],
    started_at: str,
    layout: bool = True,
) -> Path:
    from selfcheck.quality import load_quality

    t = time.perf_counter()
    built = build(config, layout=layout)
    failed = [r for r in built.results if r.status == "failed"]
    if failed and not allow_partial:
        shutil.rmtree(built.staging, ignore_errors=True)
        lines = "\n".join(f"  · {r.title}（{r.section_id}）：{r.error}" for r in failed)
        raise SectionError(
            f"{len(failed)} 个章节的已保存结果是失败的，未生成报告：\n{lines}\n"
            f"请修正后重新运行该章节：selfcheck run {config.params_path} --only <章节>；"
            "如需先出带失败标记的报告，加 --allow-partial。(failed section results)",
            section=failed[0].section_id,
        )
    runs = [_reused(config, r) for r in built.results]
    for r in runs:
        origin = {"interactive": "JupyterLab", "papermill": "批量运行"}.get(
            r.origin or "", "未注明"
        )
        echo(f"  · {r.title}（{r.section_id}）：{origin}，保存于 {_shown(r.saved_at or '')}")
    interactive = [r for r in runs if r.origin == "interactive"]
    if interactive:
        echo(
            f"其中 {len(interactive)} 个章节来自 JupyterLab 会话："
            + "、".join(r.title for r in interactive)
            + "（run_manifest.json 中 origin 为 interactive）"
        )
    timings = {"assemble": round(time.perf_counter() - t, 3)}
    timings["layout"] = round(built.layout.seconds, 3) if built.layout else 0.0
    _write_manifest(
        config,
        [],
        timings,
        started_at,
        load_quality(config),
        report=config.output_dir / report_filename(config),
        path=built.staging / MANIFEST_FILE,
        results=built.results,
        command="assemble",
    )
    report_path, _ = commit(config, built)
    stats = built.stats
    if getattr(stats, "illegal_chars_removed", 0):
        echo(f"提示：文本中有 {stats.illegal_chars_removed} 个 Word 不支持的控制字符，已删除。")
    if built.layout and built.layout.message:
        echo(f"提示：{built.layout.message}")
    return report_path
