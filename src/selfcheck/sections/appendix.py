"""Section 附录: metric definitions as used, parameters, data sources and quality, run record.

``compute(sec)`` reads once what the appendix describes (the results the other sections
saved, the data-quality record of the run, the files of the data folder that were not
read); the block functions emit one paragraph or table each. The headings are written in
the notebook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column, SectionResult
from selfcheck.errors import SectionError
from selfcheck.ingest import DatasetQuality
from selfcheck.ingest.read import MIN_BAD_ROWS
from selfcheck.ingest.records import UnusedFile
from selfcheck.metrics.catalogue import definition_text, lookup
from selfcheck.quality import load_quality, load_unused_files, source_text
from selfcheck.schema import DATASETS
from selfcheck.section import Section
from selfcheck.sections.common import computed, earlier_results, store
from selfcheck.sections.options import pick_columns
from selfcheck.versions import package_versions

SECTION_ID = "appendix"

DEFINITION_COLUMNS = (
    Column("编号", width=0.25),
    Column("指标", width=0.17),
    Column("口径", width=0.46),
    Column("目标", width=0.12),
)
PARAMETER_COLUMNS = (Column("参数"), Column("含义"), Column("取值", "figure"))
SOURCE_COLUMNS = (
    Column("数据集", width=0.12),
    Column("文件（编码、表头）", width=0.22),
    Column("读入行数", "int", width=0.16),
    Column("保留行数", "int", width=0.16),
    Column("期间外", "int", width=0.1),
    Column("问题行", "int", width=0.1),
    Column("缺少的可选列", width=0.14),
)
CHECKSUM_COLUMNS = (Column("文件"), Column("校验值"), Column("行数", "int"))
VERSION_COLUMNS = (Column("组件"), Column("版本"))
SCOPE_COLUMNS = (
    Column("数据/领域", width=0.3),
    Column("是否纳入", width=0.2),
    Column("说明", width=0.5),
)


@dataclass(frozen=True)
class Inputs:
    results: list[SectionResult]  # the other sections' saved results (not after_all ones)
    quality: dict[str, DatasetQuality]  # the data-quality record of the run
    unused: list[UnusedFile]  # files of the data folder that were not read


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def compute(sec: Section) -> pd.DataFrame:
    """Read the other sections' results and the data-quality record once; the frame lists
    the results read (section, saved by, time)."""
    inputs = Inputs(earlier_results(sec), load_quality(sec.config), load_unused_files(sec.config))
    store(sec, "inputs", inputs)
    return pd.DataFrame(
        {
            "章节": [r.title for r in inputs.results],
            "状态": [r.status for r in inputs.results],
            "来源": [getattr(r, "origin", "papermill") for r in inputs.results],
            "保存时间": [getattr(r, "saved_at", None) for r in inputs.results],
            "指标数": [len(r.metrics) for r in inputs.results],
        }
    )


def _inputs(sec: Section) -> Inputs:
    return computed(sec, "inputs")


def _table(
    sec: Section,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    wanted: Sequence[str] | None,
    note: str | None = None,
) -> None:
    shown, cells = pick_columns(sec, caption, columns, rows, wanted)
    sec.table(caption, shown, cells, note=note)


# -- 自查范围 ----------------------------------------------------------------------------


def scope_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 自查范围: per dataset (and the area it stands for) whether the report covers it,
    and why not (``scope:`` of the parameters, the files of the data folder)."""
    note = (
        "注：数据目录中没有的数据集视为不适用、不纳入自查；参数 scope.expected 列出的数据集缺少时"
        "为数据缺口，列入“存在的问题”；scope.not_applicable 声明不适用的数据集即使有文件也不使用。"
    )
    _table(sec, "自查范围", SCOPE_COLUMNS, sec.scope.rows(), columns, note=note)


# -- 指标口径 ----------------------------------------------------------------------------


def _definitions(sec: Section) -> list[tuple]:
    """Every metric the report shows, defined once (a breakdown by its parent)."""
    th = sec.config.thresholds
    seen: dict[str, tuple] = {}
    for result in _inputs(sec).results:
        for m in result.metrics:
            d = lookup(m.metric_id)
            if d.id in seen:
                continue
            seen[d.id] = (
                d.id,
                d.full_name,
                definition_text(d.id, th, sec.config.calendar),
                fmt.target(sec.config.standards.target(d.id), d.unit),
            )
    return list(seen.values())


def definitions(sec: Section) -> None:
    """The paragraph before the definitions (or why there are none yet)."""
    if not _definitions(sec):
        sec.paragraph("本期报告其他章节尚未生成，暂无指标口径可列。请先运行全部章节。")
        return
    sec.paragraph(
        "下表列出本报告所用指标的编号、名称、计算口径和目标值。比率以百分数列示；"
        "“以内”指不超过时限，“超时”指超过时限；百分位数采用线性插值。",
    )


def definitions_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 指标口径与目标; ``columns`` names the columns shown (None: all)."""
    rows = _definitions(sec)
    shown, cells = pick_columns(sec, "指标口径与目标", DEFINITION_COLUMNS, rows, columns)
    if rows:
        note = f"目标值取自服务标准文件 {sec.config.standards.path.name}。"
        sec.table("指标口径与目标", shown, cells, note=note)


# -- 参数取值 ----------------------------------------------------------------------------


# the datasets a threshold is used on: one none of whose datasets is in scope is not listed
PARAMETER_DATASETS: dict[str, tuple[str, ...]] = {
    "short_abandon_seconds": ("calls",),
    "service_level_seconds": ("calls",),
    "ring_limit_seconds": ("calls",),
    "online_workday_minutes": ("chats",),
    "online_offhours_minutes": ("chats",),
    "sla_hours": ("tickets",),
    "sla_clock": ("tickets",),
    "repeat_window_days": ("tickets",),
    "archive_limit_hours": ("tickets", "visits"),
    "arrival_minutes": ("visits",),
    "confirm_limit_minutes": ("visits",),
    "repeat_complaint_days": ("complaints",),
    "survey_scale": ("surveys",),
    "qa_pass_score": ("qa_reviews",),
}


def parameters_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 本期计算参数: every threshold with its meaning (those of datasets in scope),
    and the working hours."""
    th = sec.config.thresholds
    rows = []
    for name, field in type(th).model_fields.items():
        datasets = PARAMETER_DATASETS.get(name, ())
        if datasets and not sec.scope.includes_any(datasets):
            continue
        value = getattr(th, name)
        if hasattr(type(value), "model_fields"):
            for sub, subfield in type(value).model_fields.items():
                rows.append(
                    (f"{name}.{sub}", subfield.description or "", _plain(getattr(value, sub)))
                )
        else:
            rows.append((name, field.description or "", _plain(value)))
    cal = sec.config.params.calendar
    rows.append(("calendar.work_start", "工作时间开始", f"{cal.work_start:%H:%M}"))
    rows.append(("calendar.work_end", "工作时间结束", f"{cal.work_end:%H:%M}"))
    _table(sec, "本期计算参数", PARAMETER_COLUMNS, rows, columns)


def calendar_note(sec: Section) -> None:
    """Note: where the working days come from."""
    sec.paragraph(
        "工作日依据国家法定节假日及调休安排（chinesecalendar "
        f"{package_versions()['chinesecalendar'] or '—'}）确定，调休上班日按工作日计。",
        style="note",
    )


# -- 数据来源与质量 ----------------------------------------------------------------------


def data_sources(sec: Section) -> None:
    """The paragraph on the data folder and the checks every dataset went through."""
    share = sec.config.params.max_bad_share
    sec.paragraph(
        f"{source_text(sec.config)}各数据集按锚定时间归入本期，期间外记录剔除并计数；"
        "重复编号、时间无法识别、负时长、枚举值不合规、必填项为空、数字列含文字、数值超出合同范围"
        "或合理上限、结束时间早于开始时间等问题行剔除并计数"
        f"（问题行超过{share:.0%}且不少于{MIN_BAD_ROWS}行即停止运行），合计行不作为记录。"
        "CSV 文件的编码、分隔符和表头行自动识别，空行不计为记录；"
        "Excel 文件读取所有含表头的可见工作表，并自动查找表头行（跳过上方的标题行）。"
    )


def sources_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 数据来源与处理情况: per dataset its file, rows read, kept, outside, bad (a
    dataset out of scope without a file is in the table 自查范围 only)."""
    quality = _inputs(sec).quality
    rows = []
    for name, spec in DATASETS.items():
        q = quality.get(name)
        if q is None and not sec.scope.includes(name):
            continue
        if q is None:
            rows.append((spec.zh, f"未提供（{name}）", None, None, None, None, "—"))
            continue
        rows.append(
            (
                spec.zh,
                q.file_text,
                q.rows_read,
                q.rows_kept,
                q.rows_outside,
                q.rows_bad,
                "、".join(q.optional_columns_missing) or "无",
            )
        )
    note = "注：CSV 文件的编码、分隔符和表头行为自动识别的结果；未注明分隔符的为逗号。"
    _table(sec, "数据来源与处理情况", SOURCE_COLUMNS, rows, columns, note=note)


def mapping_note(sec: Section) -> None:
    """Note on the columns renamed and values recoded by the ``columns`` mapping (if any)."""
    quality = _inputs(sec).quality
    mapped = [
        (q.name, "、".join(f"{src}→{dst}" for src, dst in q.columns_mapped.items()))
        for q in quality.values()
        if any(src != DATASETS[q.name].column(dst).zh for src, dst in q.columns_mapped.items())
    ]
    recoded = [
        (q.name, "、".join(f"{c} {n:,} 个" for c, n in q.values_mapped.items()))
        for q in quality.values()
        if q.values_mapped
    ]
    if mapped or recoded:
        sec.paragraph(
            "按参数文件的 columns 映射处理："
            + "；".join(f"{DATASETS[n].zh}列名 {t}" for n, t in mapped)
            + ("；" if mapped and recoded else "")
            + "；".join(f"{DATASETS[n].zh}取值转换 {t}" for n, t in recoded)
            + "。",
            style="note",
        )


def unused_files(sec: Section) -> None:
    """Note naming the files of the data folder that were not read (if any)."""
    unused = _inputs(sec).unused
    if unused:
        sec.paragraph(
            f"数据目录中另有 {len(unused)} 个文件未读取："
            + "；".join(f"{u.name}（{u.reason.split(' (')[0].rstrip('。')}）" for u in unused)
            + "。",
            style="note",
        )


def examples_table(sec: Section, limit: int = 30) -> None:
    """Table 剔除记录示例: at most ``limit`` excluded rows, with sheet and row for
    workbooks (none when nothing was excluded)."""
    if not isinstance(limit, int) or limit < 1:
        raise SectionError(
            f"limit={limit!r} 不可用：应为正整数 (limit is a positive integer)",
            section=SECTION_ID,
        )
    examples = [(q.name, e) for q in _inputs(sec).quality.values() for e in q.examples]
    if not examples:
        return
    sheets = any(e.sheet or e.file for _, e in examples)  # several sheets or pooled files
    where = Column("位置") if sheets else Column("行号", "int")
    sec.table(
        "剔除记录示例",
        (Column("数据集"), where, Column("列"), Column("值"), Column("原因")),
        [
            (n, e.where if sheets else e.line, e.column, e.value, e.reason)
            for n, e in examples[:limit]
        ],
        note="注：每类原因最多列示5条；行号为文件中的物理行（表头及其上方的标题行计入），"
        "Excel 文件为工作表中的行号。",
    )


def empty_days(sec: Section) -> None:
    """Note on the days without records per dataset (snapshots left out; if any)."""
    gaps = [
        (q.name, q.empty_days)
        for q in _inputs(sec).quality.values()
        if q.empty_days and not DATASETS[q.name].snapshot
    ]
    if gaps:
        sec.paragraph(
            "本期无记录的天数："
            + "；".join(f"{DATASETS[n].zh}{d}天" for n, d in gaps)
            + "（节假日无记录属正常，工作日无记录应核实数据是否完整）。",
            style="note",
        )


# -- 运行记录 ----------------------------------------------------------------------------


def checksums_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table of the input files' SHA-256 (first 16 digits), the parameters files last."""
    rows = [(q.file, q.sha256[:16], q.rows_read) for q in _inputs(sec).quality.values()]
    for path in (sec.config.params_path, sec.config.standards.path):
        rows.append((path.name, _sha256(path)[:16], None))
    _table(sec, "输入文件校验值（SHA-256 前16位）", CHECKSUM_COLUMNS, rows, columns)


def versions_table(sec: Section) -> None:
    """Table 软件版本: the versions of the packages the figures depend on."""
    versions = [(name, v or "—") for name, v in package_versions().items()]
    sec.table("软件版本", VERSION_COLUMNS, versions)


def run_note(sec: Section) -> None:
    """Note: the period, the report date and where the run's record is kept."""
    sec.paragraph(
        f"报告期间：{sec.period.title_zh}（{sec.period.range_zh}）；报告日期："
        f"{fmt.date_zh(sec.config.report_date)}。各章节执行耗时、开始与结束时间记录在输出目录的"
        " run_manifest.json 中，执行后的笔记本及其 HTML 版本保存在 notebooks 子目录。",
        style="note",
    )


def origins(sec: Section) -> None:
    """Note naming the sections whose result was saved from an interactive (JupyterLab)
    session rather than a Papermill run; nothing when every result came from a run."""
    text = origins_text(_inputs(sec).results)
    if text:
        sec.paragraph(text, style="note")


def origins_text(results: Sequence[SectionResult]) -> str:
    """``以下章节的结果保存自 JupyterLab 交互式会话……：服务质量检查（2026年10月12日 14:03保存）。``;
    '' when none was."""
    interactive = [r for r in results if getattr(r, "origin", "papermill") == "interactive"]
    if not interactive:
        return ""
    parts = []
    for r in interactive:
        when = _when(getattr(r, "saved_at", None))
        parts.append(f"{r.title}（{when}保存）" if when else r.title)
    return (
        "以下章节的结果保存自 JupyterLab 交互式会话，而非 Papermill 批量运行："
        + "、".join(parts)
        + "。"
    )


def _when(saved_at: object) -> str:
    """A save time as ``2026年10月12日 14:03`` ('' when unknown)."""
    if saved_at is None or saved_at == "":
        return ""
    moment = saved_at
    if isinstance(saved_at, str):
        try:
            moment = datetime.fromisoformat(saved_at)
        except ValueError:
            return saved_at
    if isinstance(moment, datetime):
        return f"{fmt.date_zh(moment.date())} {moment:%H:%M}"
    return str(saved_at)


def _plain(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
