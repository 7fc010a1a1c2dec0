"""Section 客户满意度与投诉处理: opening the section, computing its metrics, its overview
and trend chart. The blocks of its three parts are in :mod:`selfcheck.sections.survey`
(满意度测评结果), :mod:`selfcheck.sections.complaints` (投诉处理情况) and
:mod:`selfcheck.sections.comments` (客户意见与建议), one function per report block.

The notebook ``05_satisfaction.ipynb`` writes the headings and calls the blocks in report
order after :func:`compute`. Narrative slot here: ``overview``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Figure, Paragraph
from selfcheck.metrics import satisfaction as satisfaction_metrics
from selfcheck.metrics.base import Measure
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections import complaints
from selfcheck.sections.common import compute_with_history, metric_frame, reset_cache, trend_figure
from selfcheck.sections.phrases import metric, target_tally
from selfcheck.sections.survey import metrics_by_id

SECTION_ID = "satisfaction"

TREND_IDS = (
    "satisfaction.index",
    "satisfaction.top_box_rate",
    "complaints.per_10k_tickets",
    "complaints.resolution_rate",
)


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


# -- metrics --------------------------------------------------------------------------


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    out = dict(
        satisfaction_metrics.satisfaction(sec.data("surveys", period), sec.config.thresholds)
    )
    out.update(complaints.measures(sec, period))
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Compute every metric of the section (with QoQ and YoY) and keep them in the result."""
    reset_cache(sec)
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


# -- overview -------------------------------------------------------------------------------


def overview_text(sec: Section) -> Paragraph:
    """The section's opening paragraph: the main figures and what falls short."""
    m = metrics_by_id(sec)
    parts = []
    index, top, nps = m["satisfaction.index"], m["satisfaction.top_box_rate"], m["satisfaction.nps"]
    if index.has_value:
        s = f"客户满意度综合得分{fmt.value(index.value, index.unit)}"
        if top.has_value:
            s += f"，满意率{fmt.value(top.value, top.unit)}"
        if nps.has_value:
            s += f"，净推荐值{fmt.value(nps.value, nps.unit)}"
        parts.append(s)
    elif m["satisfaction.responses"].has_value:
        parts.append("满意度调查无有效的总体满意度评分")
    elif sec.scope.includes("surveys"):
        parts.append("无满意度调查数据")
    total = m["complaints.total"]
    if total.has_value and not total.value:
        parts.append("未受理客户投诉")
    elif total.has_value:
        s = f"受理客户投诉{fmt.value(total.value, 'count')}件"
        res = m["complaints.resolution_rate"]
        if res.has_value:
            s += f"，投诉办结率{fmt.value(res.value, res.unit)}"
        parts.append(s)
    elif sec.scope.includes("complaints"):
        parts.append("无投诉数据")
    text = f"本季度（{sec.period.range_zh}）" + "；".join(parts) + "。"
    tally = target_tally(sec.result.metrics)
    if tally.evaluated:
        text += f"本节共计算{tally.counts()}。"
        text += tally.shortfall_list() or "满意度和投诉处理各项指标均达到目标。"
    text += "近五个季度的主要指标走势见[[图?:近五个季度满意度与投诉主要指标]]。"
    return sec.narrative("overview", text)


def trend_chart(
    sec: Section, ids: Sequence[str] = TREND_IDS, size: tuple[float, float] | None = None
) -> Figure | None:
    """The last five quarters of the metrics ``ids`` (those with two quarters or more), one
    panel each; ``size`` None: 2.1 inches of height per row of two panels."""
    chosen = [metric(sec, i) for i in ids]
    return trend_figure(
        sec,
        "近五个季度满意度与投诉主要指标",
        lambda: [x for x in chosen if sum(v is not None for _, v in x.trend) >= 2],
        size,
    )
