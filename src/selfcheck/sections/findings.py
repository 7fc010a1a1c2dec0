"""Section 存在的问题: every shortfall found by the figures and the analyst's own, ranked."""

from __future__ import annotations

from selfcheck import fmt
from selfcheck.analyst import load_measures
from selfcheck.blocks import Column
from selfcheck.problems import Problem, find_problems
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics

SECTION_ID = "findings"


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


def problems_of(sec: Section) -> list[Problem]:
    """The period's problems, ranked (shared with the measures section)."""
    measures = load_measures(sec.config.params_path, sec.period)
    analyst = measures.problems if measures is not None else []
    return find_problems(all_metrics(sec), analyst)


def overview(sec: Section) -> None:
    problems = problems_of(sec)
    if not problems:
        sec.narrative("overview", "本期自查未发现未达标指标，分析人员亦未补充问题。")
        return
    by_level = {lvl: sum(p.level == lvl for p in problems) for lvl in ("严重", "较重", "一般")}
    n_metric = sum(p.source == "指标" for p in problems)
    text = (
        f"对照服务标准，本期自查发现问题{len(problems)}个，其中由指标数据发现{n_metric}个、"
        f"分析人员补充{len(problems) - n_metric}个；按严重程度分，严重{by_level['严重']}个、"
        f"较重{by_level['较重']}个、一般{by_level['一般']}个。严重程度按未达标差距相对于目标允许范围的比例评定，"
        "并考虑较上季度的变化趋势。"
    )
    sec.narrative("overview", text)
    sec.table(
        "问题清单（按严重程度排序）",
        (
            Column("序号", "int", width=0.07),
            Column("问题", width=0.27),
            Column("本期", "figure", width=0.12),
            Column("目标", width=0.12),
            Column("差距", "figure", width=0.15),
            Column("趋势", width=0.12),
            Column("程度", width=0.15),
        ),
        [
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
        ],
        note="注：趋势指与上季度相比，“恶化”为差距扩大，“改善”为差距缩小，“新出现”为上季度达标。",
    )


def details(sec: Section) -> None:
    problems = problems_of(sec)
    for level in ("严重", "较重", "一般"):
        group = [p for p in problems if p.level == level]
        if not group:
            continue
        sec.heading(f"{level}问题")
        for p in group:
            sec.narrative(f"problem.{p.key}", f"{p.title}：{p.description}。")
