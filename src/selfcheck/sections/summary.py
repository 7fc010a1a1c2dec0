"""Section 报告摘要: the headline table of every metric with a target, and the worst shortfalls.

Written last, from the other sections' stored results.
"""

from __future__ import annotations

from collections import Counter

from selfcheck import charts, fmt
from selfcheck.blocks import Column
from selfcheck.metrics.base import STATUS_MET, STATUS_MISSED, STATUS_NO_DATA
from selfcheck.problems import find_problems
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics, earlier_results

SECTION_ID = "summary"
TOP_SHORTFALLS = 5


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


def _targeted(sec: Section):
    return [m for m in all_metrics(sec) if m.target is not None and ":" not in m.metric_id]


def overview(sec: Section) -> None:
    metrics = _targeted(sec)
    if not metrics:
        sec.narrative("overview", "其他章节尚未生成结果，摘要无法编写。请先完整运行全部章节。")
        return
    count = Counter(m.status for m in metrics)
    sections = [r.title for r in earlier_results(sec) if r.status == "ok"]
    failed = [r.title for r in earlier_results(sec) if r.status == "failed"]
    text = (
        f"本报告依据{sec.period.title_zh}（{sec.period.range_zh}）客户服务数据，"
        f"从{'、'.join(sections)}等方面开展自查。设有目标的指标共{len(metrics)}项，"
        f"其中达标{count[STATUS_MET]}项、未达标{count[STATUS_MISSED]}项"
    )
    if count[STATUS_NO_DATA]:
        text += f"、无数据{count[STATUS_NO_DATA]}项"
    text += f"，达标率{fmt.percent(count[STATUS_MET] / max(count[STATUS_MET] + count[STATUS_MISSED], 1))}。"
    if failed:
        text += f"注意：{'、'.join(failed)}章节本次生成失败，相关指标未纳入统计。"
    sec.narrative("overview", text)


def headline_table(sec: Section) -> None:
    metrics = _targeted(sec)
    if not metrics:
        return
    rows = [
        (
            m.name,
            fmt.value(m.value, m.unit),
            fmt.target(m.target, m.unit),
            m.status,
            fmt.delta(m.delta, m.unit),
        )
        for m in metrics
    ]
    sec.table(
        "主要指标达标情况",
        (
            Column("指标", width=0.36),
            Column("本期", "figure", width=0.16),
            Column("目标", width=0.16),
            Column("状态", "status", width=0.12),
            Column("较上季度", "figure", width=0.20),
        ),
        rows,
        note="注：仅列设有目标的指标；无数据的原因见各章节。比率的变化以百分点计。",
    )


def shortfalls(sec: Section) -> None:
    problems = [p for p in find_problems(_targeted(sec)) if p.metric is not None]
    if not problems:
        sec.narrative("shortfalls", "本期设有目标的指标均已达标。")
        return
    top = problems[:TOP_SHORTFALLS]
    sec.narrative(
        "shortfalls",
        f"本期未达标指标共{len(problems)}项，按差距大小和变化趋势排序，最突出的{len(top)}项如下：",
    )
    for i, p in enumerate(top, start=1):
        sec.narrative(f"shortfall_{i}", f"{i}. {p.title}（{p.level}）。{p.description}。")
    fig = charts.trend_panels([p.metric for p in top[:4] if p.metric is not None])
    if fig is not None:
        sec.figure(
            fig,
            "主要未达标指标近五个季度走势",
            note="注：虚线为目标值，红点为未达到目标的季度；缺少数据的季度不画点。",
        )
