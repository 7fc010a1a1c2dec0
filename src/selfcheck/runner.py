"""Runner: validate the data, execute the section notebooks with Papermill, assemble the report.

Independent sections run in parallel (one kernel each); sections marked
``after_all`` (the appendix) run after them. Every executed notebook is kept and
rendered to HTML. A failing section keeps its traceback in its executed
notebook, is named with its cell and error, and makes the run fail unless
``allow_partial`` is set, in which case the report marks that section as failed.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from selfcheck import __version__
from selfcheck.blocks import SECTION_FILE, SectionResult
from selfcheck.config import Config, load_config
from selfcheck.docx_writer import write_docx
from selfcheck.errors import SectionError, SelfcheckError
from selfcheck.metrics.history import HISTORY_FILE, HistoryStore
from selfcheck.quality import record_quality
from selfcheck.report import Report, ReportMeta, SectionEntry
from selfcheck.sections import SECTIONS, SectionDef, get_section

KERNEL_NAME = "python3"
METRICS_FILE = "metrics.csv"
MANIFEST_FILE = "run_manifest.json"
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


def kernel_environment() -> None:
    """Make notebook kernels resolve inside this environment, with no manual registration.

    The ``python3`` kernelspec that ipykernel installs into this environment
    (``sys.prefix/share/jupyter``) is put first on ``JUPYTER_PATH``, so a user-level
    kernel of the same name elsewhere cannot take over; jupyter_client starts it
    with this interpreter (``sys.executable``).
    """
    env_share = str(Path(sys.prefix) / "share" / "jupyter")
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if env_share not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([env_share, *paths])
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


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
    echo: Callable[[str], None] = print,
) -> RunResult:
    started = time.perf_counter()
    started_at = datetime.now().isoformat(timespec="seconds")
    kernel_environment()
    config = load_config(params_path)
    out = config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    echo(f"selfcheck {__version__} · {config.period.title_zh} · 输出目录 {out}")

    t = time.perf_counter()
    quality = record_quality(config)
    timings = {"validate": round(time.perf_counter() - t, 3)}
    echo(
        f"数据校验完成：{len(quality)} 个数据集，"
        f"{sum(q.rows_kept for q in quality.values()):,} 行纳入本期（{timings['validate']:.1f} 秒）"
    )

    selected = [get_section(only)] if only is not None else list(SECTIONS)
    first = [s for s in selected if not s.after_all]
    last = [s for s in selected if s.after_all]
    runs: list[SectionRun] = []
    t = time.perf_counter()
    for phase in (first, last):
        runs.extend(_run_phase(phase, config, workers, echo))
    timings["sections"] = round(time.perf_counter() - t, 3)
    failed = [r for r in runs if r.status == "failed"]

    report_path = metrics_path = None
    if failed and not allow_partial:
        _write_manifest(config, runs, timings, started_at, quality, report=None)
        lines = "\n".join(f"  · {r.title}（{r.section_id}）：{r.error}" for r in failed)
        raise SectionError(
            f"{len(failed)} 个章节运行失败，未生成报告：\n{lines}\n"
            f"完整的出错信息见执行后的笔记本：{out / 'notebooks'}。"
            "修正后可用 --only 重新运行该章节；如需先出带失败标记的报告，加 --allow-partial。",
            section=failed[0].section_id,
        )

    t = time.perf_counter()
    results = collect_results(config)
    metrics_path = write_metrics_csv(results, out / METRICS_FILE)
    HistoryStore(config.output_root / HISTORY_FILE).write(
        config.period, [m for r in results for m in r.metrics]
    )
    meta = ReportMeta(
        organisation=config.params.organisation,
        reporting_unit=config.params.reporting_unit,
        period=config.period,
        report_date=config.report_date,
        confidentiality=config.params.confidentiality,
    )
    report = Report(meta, tuple(SectionEntry(r, out / "sections" / r.section_id) for r in results))
    report_path = out / report_filename(config)
    stats = write_docx(report, report_path, template=config.template)
    timings["assemble"] = round(time.perf_counter() - t, 3)
    if stats.illegal_chars_removed:
        echo(f"提示：文本中有 {stats.illegal_chars_removed} 个 Word 不支持的控制字符，已删除。")
    _write_manifest(config, runs, timings, started_at, quality, report=report_path)
    total = time.perf_counter() - started
    echo(f"报告已生成：{report_path}（共 {total:.1f} 秒）")
    return RunResult(str(config.period), out, report_path, metrics_path, runs, round(total, 3))


def report_filename(config: Config) -> str:
    return f"{config.period}_客户服务自查报告.docx"


def _run_phase(
    phase: Sequence[SectionDef], config: Config, workers: int | None, echo: Callable[[str], None]
) -> list[SectionRun]:
    if not phase:
        return []
    n = workers or min(len(phase), max(os.cpu_count() or 1, 1))
    if n <= 1 or len(phase) == 1:
        return [_run_section(s, config, echo) for s in phase]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="section") as pool:
        return list(pool.map(lambda s: _run_section(s, config, echo), phase))


def _run_section(section: SectionDef, config: Config, echo: Callable[[str], None]) -> SectionRun:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = notebooks_dir() / section.notebook
    target_dir = config.output_dir / "notebooks"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / section.notebook
    echo(f"  ▶ {section.title} 开始")
    t = time.perf_counter()
    error = None
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters={"period": str(config.period), "params_path": str(config.params_path)},
            kernel_name=KERNEL_NAME,
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            # the kernel listens on loopback only; its transport warning is noise for analysts
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as e:
        error = f"第 {e.exec_count} 个代码单元出错 — {e.ename}: {_first_line(e.evalue)}"
    except FileNotFoundError as e:
        error = f"找不到笔记本：{e}"
    except Exception as e:  # a dead kernel or a broken notebook must still be reported
        error = f"{type(e).__name__}: {_first_line(str(e))}"
    seconds = round(time.perf_counter() - t, 3)
    html = _render_html(target) if target.exists() else None
    if error is None and not (config.output_dir / "sections" / section.id / SECTION_FILE).exists():
        error = "笔记本执行完毕但没有保存本节结果（缺少 sec.save() 单元）"
    if error is not None:
        _store_failure(config, section, error)
        echo(f"  ✗ {section.title} 失败（{seconds:.1f} 秒）：{error}")
        return SectionRun(section.id, section.title, "failed", seconds, str(target), html, error)
    echo(f"  ✓ {section.title} 完成（{seconds:.1f} 秒）")
    stored = SectionResult.load(config.output_dir / "sections" / section.id)
    for warning in stored.warnings:
        echo(f"    ⚠ {warning}")
    return SectionRun(section.id, section.title, "ok", seconds, str(target), html)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _render_html(notebook: Path) -> str | None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(notebook))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return str(html)


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
    """``metrics.csv``: one row per metric (and breakdown key), UTF-8 with BOM for Excel."""
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(METRICS_COLUMNS)
        for r in results:
            for m in r.metrics:
                w.writerow(
                    [
                        m.metric_id,
                        m.name,
                        _num(m.value),
                        m.unit,
                        _num(m.numerator),
                        _num(m.denominator),
                        "" if m.n is None else m.n,
                        "" if m.target is None else _num(m.target.value),
                        "" if m.target is None else m.target.comparator,
                        m.status,
                        _num(m.previous),
                        _num(m.delta),
                        _num(m.year_ago),
                        _num(m.delta_year),
                        m.section or r.section_id,
                        m.reason or "",
                        _num(m.ci_low),
                        _num(m.ci_high),
                        "true" if m.small_sample else ("false" if m.sampled else ""),
                        _num(m.p_value),
                    ]
                )
    tmp.replace(path)
    return path


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


def _write_manifest(config, runs, timings, started_at, quality, *, report) -> Path:
    from importlib import metadata

    def version(p: str) -> str:
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            return ""

    manifest = {
        "selfcheck": __version__,
        "python": sys.version.split()[0],
        "packages": {
            p: version(p)
            for p in (
                "pandas",
                "numpy",
                "pyarrow",
                "papermill",
                "python-docx",
                "chinesecalendar",
                "matplotlib",
                "seaborn",
                "nbconvert",
            )
        },
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
        "sections": [asdict(r) for r in runs],
        "report": None if report is None else str(report),
    }
    path = config.output_dir / MANIFEST_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
