"""Section 附录: metric definitions as used, data sources and quality, run record."""

from __future__ import annotations

import hashlib

from selfcheck import fmt
from selfcheck.blocks import Column
from selfcheck.ingest.read import MIN_BAD_ROWS
from selfcheck.metrics.catalogue import definition_text, lookup
from selfcheck.quality import load_quality, load_unused_files
from selfcheck.schema import DATASETS
from selfcheck.section import Section
from selfcheck.sections.common import earlier_results
from selfcheck.versions import package_versions

SECTION_ID = "appendix"


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


def definitions(sec: Section) -> None:
    """Every metric the report shows, with its definition as computed and its target."""
    sec.heading("指标口径")
    th = sec.config.thresholds
    seen: dict[str, tuple] = {}
    for result in earlier_results(sec):
        for m in result.metrics:
            d = lookup(m.metric_id)  # a breakdown is defined once, by its parent
            base = d.id
            if base in seen:
                continue
            seen[base] = (
                base,
                d.full_name,
                definition_text(base, th, sec.config.calendar),
                fmt.target(sec.config.standards.target(base), d.unit),
            )
    if not seen:
        sec.paragraph("本期报告其他章节尚未生成，暂无指标口径可列。请先运行全部章节。")
        return
    sec.paragraph(
        "下表列出本报告所用指标的编号、名称、计算口径和目标值。比率以百分数列示；"
        "“以内”指不超过时限，“超时”指超过时限；百分位数采用线性插值。",
    )
    sec.table(
        "指标口径与目标",
        (
            Column("编号", width=0.25),
            Column("指标", width=0.17),
            Column("口径", width=0.46),
            Column("目标", width=0.12),
        ),
        list(seen.values()),
        note=f"目标值取自服务标准文件 {sec.config.standards.path.name}。",
    )


def parameters(sec: Section) -> None:
    sec.heading("参数取值")
    th = sec.config.thresholds
    rows = []
    for name, field in type(th).model_fields.items():
        value = getattr(th, name)
        if hasattr(value, "model_fields"):
            for sub, subfield in type(value).model_fields.items():
                rows.append(
                    (f"{name}.{sub}", subfield.description or "", _plain(getattr(value, sub)))
                )
        else:
            rows.append((name, field.description or "", _plain(value)))
    cal = sec.config.params.calendar
    rows.append(("calendar.work_start", "工作时间开始", f"{cal.work_start:%H:%M}"))
    rows.append(("calendar.work_end", "工作时间结束", f"{cal.work_end:%H:%M}"))
    sec.table("本期计算参数", (Column("参数"), Column("含义"), Column("取值", "figure")), rows)
    sec.paragraph(
        "工作日依据国家法定节假日及调休安排（chinesecalendar "
        f"{package_versions()['chinesecalendar'] or '—'}）确定，调休上班日按工作日计。",
        style="note",
    )


def data_sources(sec: Section) -> None:
    sec.heading("数据来源与质量")
    quality = load_quality(sec.config)
    rows = []
    for name, spec in DATASETS.items():
        q = quality.get(name)
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
    share = sec.config.params.max_bad_share
    sec.paragraph(
        f"数据目录：{sec.config.data_dir()}。各数据集按锚定时间归入本期，期间外记录剔除并计数；"
        "重复编号、时间无法识别、负时长、枚举值不合规、必填项为空、数字列含文字、数值超出合同范围"
        "或合理上限、结束时间早于开始时间等问题行剔除并计数"
        f"（问题行超过{share:.0%}且不少于{MIN_BAD_ROWS}行即停止运行），合计行不作为记录。"
        "CSV 文件的编码、分隔符和表头行自动识别，空行不计为记录；"
        "Excel 文件读取所有含表头的可见工作表，并自动查找表头行（跳过上方的标题行）。"
    )
    sec.table(
        "数据来源与处理情况",
        (
            Column("数据集", width=0.12),
            Column("文件（编码、表头）", width=0.22),
            Column("读入行数", "int", width=0.16),
            Column("保留行数", "int", width=0.16),
            Column("期间外", "int", width=0.1),
            Column("问题行", "int", width=0.1),
            Column("缺少的可选列", width=0.14),
        ),
        rows,
        note="注：CSV 文件的编码、分隔符和表头行为自动识别的结果；未注明分隔符的为逗号。",
    )
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
    unused = load_unused_files(sec.config)
    if unused:
        sec.paragraph(
            f"数据目录中另有 {len(unused)} 个文件未读取："
            + "；".join(f"{u.name}（{u.reason.split(' (')[0].rstrip('。')}）" for u in unused)
            + "。",
            style="note",
        )
    examples = [(q.name, e) for q in quality.values() for e in q.examples]
    if examples:
        sheets = any(e.sheet for _, e in examples)
        where = Column("位置") if sheets else Column("行号", "int")
        sec.table(
            "剔除记录示例",
            (Column("数据集"), where, Column("列"), Column("值"), Column("原因")),
            [
                (n, e.where if sheets else e.line, e.column, e.value, e.reason)
                for n, e in examples[:30]
            ],
            note="注：每类原因最多列示5条；行号为文件中的物理行（表头及其上方的标题行计入），"
            "Excel 文件为工作表中的行号。",
        )
    gaps = [
        (q.name, q.empty_days)
        for q in quality.values()
        if q.empty_days and not DATASETS[q.name].snapshot
    ]
    if gaps:
        sec.paragraph(
            "本期无记录的天数："
            + "；".join(f"{DATASETS[n].zh}{d}天" for n, d in gaps)
            + "（节假日无记录属正常，工作日无记录应核实数据是否完整）。",
            style="note",
        )


def run_record(sec: Section) -> None:
    sec.heading("运行记录")
    quality = load_quality(sec.config)
    rows = [(q.file, q.sha256[:16], q.rows_read) for q in quality.values()]
    for path in (sec.config.params_path, sec.config.standards.path):
        rows.append((path.name, _sha256(path)[:16], None))
    sec.table(
        "输入文件校验值（SHA-256 前16位）",
        (Column("文件"), Column("校验值"), Column("行数", "int")),
        rows,
    )
    versions = [(name, v or "—") for name, v in package_versions().items()]
    sec.table("软件版本", (Column("组件"), Column("版本")), versions)
    sec.paragraph(
        f"报告期间：{sec.period.title_zh}（{sec.period.range_zh}）；报告日期："
        f"{fmt.date_zh(sec.config.report_date)}。各章节执行耗时、开始与结束时间记录在输出目录的"
        " run_manifest.json 中，执行后的笔记本及其 HTML 版本保存在 notebooks 子目录。",
        style="note",
    )


def _plain(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
