"""Section 报告摘要: the headline table of every metric with a target, and the worst shortfalls.

Written last, from the other sections' stored results (read once by :func:`compute`).
One function per report block; the notebook ``01_summary.ipynb`` calls them in report
order. Narrative slots: ``scope``, ``overview``, ``shortfalls``, ``shortfall_1`` …
``shortfall_5``. Only what is in the report's scope (:mod:`selfcheck.scope`) is counted:
the other sections saved only their metrics in scope, and a section with nothing in
scope is neither named nor counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column, Figure, Paragraph, SectionResult, Table
from selfcheck.metrics.base import STATUS_MET, STATUS_MISSED, STATUS_NO_DATA, Metric
from selfcheck.problems import Problem, find_problems
from selfcheck.section import Section
from selfcheck.sections.common import (
    cached,
    earlier_results,
    metric_frame,
    reset_cache,
    select_columns,
    trend_figure,
)

SECTION_ID = "summary"
TOP_SHORTFALLS = 5
TREND_PANELS = 4
HEADLINE_COLUMNS = (
    Column("指标", width=0.36),
    Column("本期", "figure", width=0.16),
    Column("目标", width=0.16),
    Column("状态", "status", width=0.12),
    Column("较上季度", "figure", width=0.20),
)
HEADLINE_COLUMN_NAMES = tuple(c.name for c in HEADLINE_COLUMNS)


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def _results(sec: Section) -> list[SectionResult]:
    return cached(sec, "results", lambda: earlier_results(sec))


def _targeted(sec: Section) -> list[Metric]:
    """The metrics with a target of the other sections (breakdown rows excluded)."""
    return [
        m
        for r in _results(sec)
        for m in r.metrics
        if m.target is not None and ":" not in m.metric_id
    ]


def _problems(sec: Section) -> list[Problem]:
    return cached(
        sec,
        "problems",
        lambda: [p for p in find_problems(_targeted(sec)) if p.metric is not None],
    )


def compute(sec: Section) -> pd.DataFrame:
    """Read the other sections' saved results (again) and show the metrics with a target."""
    reset_cache(sec)
    return metric_frame(_targeted(sec))


def scope_text(sec: Section) -> Paragraph:
    """Paragraph ``summary.scope`` (本次自查范围): which datasets the report covers, which it
    does not and why, and (stated here once) the expected datasets that are missing."""
    return sec.narrative("scope", sec.scope.paragraph())


def overview_text(sec: Section) -> Paragraph:
    """What the report covers, and how many metrics with a target are met."""
    metrics = _targeted(sec)
    if not metrics and any(r.metrics for r in _results(sec)):
        return sec.narrative("overview", "本期自查范围内没有设有目标的指标，未作达标评价。")
    if not metrics:
        return sec.narrative(
            "overview", "其他章节尚未生成结果，摘要无法编写。请先完整运行全部章节。"
        )
    count = Counter(m.status for m in metrics)
    sections = [r.title for r in _results(sec) if r.status == "ok" and r.blocks]
    failed = [r.title for r in _results(sec) if r.status == "failed"]
    text = (
        f"本报告依据{sec.period.title_zh}（{sec.period.range_zh}）客户服务数据，"
        f"从{'、'.join(sections)}等方面开展自查。设有目标的指标共{len(metrics)}项，"
        f"其中达标{count[STATUS_MET]}项、未达标{count[STATUS_MISSED]}项"
    )
    if count[STATUS_NO_DATA]:
        text += f"、无数据{count[STATUS_NO_DATA]}项"
    met_share = count[STATUS_MET] / max(count[STATUS_MET] + count[STATUS_MISSED], 1)
    text += f"，达标率{fmt.percent(met_share)}。"
    if failed:
        text += f"注意：{'、'.join(failed)}章节本次生成失败，相关指标未纳入统计。"
    return sec.narrative("overview", text)


def headline_table(sec: Section, columns: Sequence[str] = HEADLINE_COLUMN_NAMES) -> Table | None:
    """Every metric with a target: value, target, status and change on last quarter."""
    metrics = _targeted(sec)
    if not metrics:
        return None
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
    cols, rows = select_columns(sec, "主要指标达标情况", HEADLINE_COLUMNS, rows, columns)
    if sec.scope.complete:
        note = "注：仅列设有目标的指标；无数据的原因见各章节。比率的变化以百分点计。"
    else:  # no row of what the report does not cover
        no_data = "无数据的原因见各章节。" if any(not m.has_value for m in metrics) else ""
        note = f"注：仅列本次自查范围内设有目标的指标；{no_data}比率的变化以百分点计。"
    return sec.table("主要指标达标情况", cols, rows, note=note)


def shortfalls_text(sec: Section, top: int = TOP_SHORTFALLS) -> list[Paragraph]:
    """How many metrics fall short, then the ``top`` worst, one numbered paragraph each."""
    if not _targeted(sec):
        return []  # the overview says the other sections have no results yet
    problems = _problems(sec)
    if not problems:
        return [sec.narrative("shortfalls", "本期设有目标的指标均已达标。")]
    chosen = problems[:top]
    out = [
        sec.narrative(
            "shortfalls",
            f"本期未达标指标共{len(problems)}项，按差距大小和变化趋势排序，最突出的{len(chosen)}项如下：",
        )
    ]
    for i, p in enumerate(chosen, start=1):
        out.append(
            sec.narrative(f"shortfall_{i}", f"{i}. {p.title}（{p.level}）。{p.description}。")
        )
    return out


def shortfalls_chart(
    sec: Section, panels: int = TREND_PANELS, size: tuple[float, float] | None = None
) -> Figure | None:
    """The last five quarters of the ``panels`` worst shortfalls, one panel each;
    ``size`` None: 2.1 inches of height per row of two panels."""
    return trend_figure(
        sec,
        "主要未达标指标近五个季度走势",
        lambda: [p.metric for p in _problems(sec)[:panels]],
        size,
    )
