"""Section 存在的问题: every shortfall found by the figures and the analyst's own, ranked.

``compute(sec)`` finds the problems once (from the results the other sections saved and
``<period>_measures.yaml``); the block functions emit the overview paragraph, the list of
problems, and per level (严重, 较重, 一般) its heading and one paragraph per problem. The
headings are written in the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import load_measures
from selfcheck.blocks import Column
from selfcheck.errors import SectionError
from selfcheck.problems import (
    SOURCE_GAP,
    SOURCE_INSPECTION,
    SOURCE_METRIC,
    InspectionFinding,
    Problem,
    find_problems,
)
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics, computed, store
from selfcheck.sections.inspection import Figures as Inspection
from selfcheck.sections.inspection import inspection_of, severity
from selfcheck.sections.options import pick_columns

SECTION_ID = "findings"
LEVELS = ("严重", "较重", "一般")

PROBLEM_COLUMNS = (
    Column("序号", "int", width=0.07),
    Column("问题", width=0.27),
    Column("本期", "figure", width=0.12),
    Column("目标", width=0.12),
    Column("差距", "figure", width=0.15),
    Column("趋势", width=0.12),
    Column("程度", width=0.15),
)


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def problems_of(sec: Section, inspection: Inspection | None = None) -> list[Problem]:
    """The period's problems, ranked (shared with the measures section, which hands over the
    checklist it has read: ``inspection``, read here when None)."""
    measures = load_measures(sec.config, sec.period)
    analyst = measures.problems if measures is not None else []
    found = inspection_findings(inspection if inspection is not None else inspection_of(sec))
    return find_problems(all_metrics(sec), analyst, sec.scope.gaps, inspection=found)


def inspection_findings(inspection: Inspection) -> list[InspectionFinding]:
    """The checklist items an inspector found 不符合 or 基本符合 (metric-decided items are
    their metrics' shortfalls already)."""
    return [
        InspectionFinding(e.item.id, e.item.topic, e.item.check, e.conclusion or "",
                          e.description or "", severity(e))
        for e in inspection.findings()
        if not e.decided_by_metrics
    ]  # fmt: skip


def compute(sec: Section) -> pd.DataFrame:
    """Find the problems once; the frame shows them in the notebook."""
    problems = problems_of(sec)
    store(sec, "problems", problems)
    return pd.DataFrame(
        {
            "问题": [p.title for p in problems],
            "来源": [p.source for p in problems],
            "程度": [p.level for p in problems],
            "严重度": [round(p.severity, 3) for p in problems],
            "趋势": [p.trend for p in problems],
            "编号": [p.key for p in problems],
        }
    )


def _problems(sec: Section) -> list[Problem]:
    return computed(sec, "problems")


def overview(sec: Section) -> None:
    """Paragraph ``findings.overview``: how many problems, from where, at which level."""
    problems = _problems(sec)
    if not problems:
        sec.narrative("overview", "本期自查未发现未达标指标，分析人员亦未补充问题。")
        return
    by_level = {lvl: sum(p.level == lvl for p in problems) for lvl in LEVELS}
    n_metric = sum(p.source == SOURCE_METRIC for p in problems)
    n_gap = sum(p.source == SOURCE_GAP for p in problems)
    n_checked = sum(p.source == SOURCE_INSPECTION for p in problems)
    gaps = f"、应提供而未提供的数据{n_gap}个" if n_gap else ""
    checked = f"对照自查清单检查发现{n_checked}个、" if n_checked else ""
    text = (
        f"对照服务标准，本期自查发现问题{len(problems)}个，其中由指标数据发现{n_metric}个、"
        f"{checked}分析人员补充{len(problems) - n_metric - n_gap - n_checked}个{gaps}；按严重程度分，严重{by_level['严重']}个、"
        f"较重{by_level['较重']}个、一般{by_level['一般']}个。严重程度按未达标差距相对于目标允许范围的比例评定，"
        "并考虑较上季度的变化趋势"
        + ("；自查检查发现的问题按检查项规定的程度评定（基本符合降一级）。" if n_checked else "。")
    )
    sec.narrative("overview", text)


def problem_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 问题清单（按严重程度排序）; ``columns`` names the columns shown (None: all).
    None without problems."""
    caption = "问题清单（按严重程度排序）"
    problems = _problems(sec)
    rows = [
        (
            i,
            p.title,
            fmt.value(p.metric.value, p.metric.unit) if p.metric else "—",
            fmt.target(p.metric.target, p.metric.unit) if p.metric else "—",
            fmt.delta(p.gap, p.metric.unit).lstrip("+") if p.metric else "—",
            p.trend,
            p.level,
        )
        for i, p in enumerate(problems, start=1)
    ]
    shown, cells = pick_columns(sec, caption, PROBLEM_COLUMNS, rows, columns)
    if not problems:
        return
    note = "注：趋势指与上季度相比，“恶化”为差距扩大，“改善”为差距缩小，“新出现”为上季度达标。"
    sec.table(caption, shown, cells, note=note)


def _level(sec: Section, level: str) -> list[Problem]:
    if level not in LEVELS:
        raise SectionError(
            f"level={level!r} 不可用：应为{'、'.join(LEVELS)}之一 (level is one of {LEVELS})",
            section=SECTION_ID,
        )
    return [p for p in _problems(sec) if p.level == level]


def level_heading(sec: Section, text: str, level: str) -> None:
    """The heading ``text`` over the problems of ``level``; none when that level has none."""
    if _level(sec, level):
        sec.heading(text)


def problems(sec: Section, level: str) -> None:
    """One paragraph per problem of ``level`` (slot ``findings.problem.<key>``)."""
    for p in _level(sec, level):
        sec.narrative(f"problem.{p.key}", f"{p.title}：{p.description.rstrip('。')}。")
