"""服务质量检查, opening blocks: the overview paragraph, the table of the main metrics and
their five-quarter trend."""

from __future__ import annotations

from collections.abc import Sequence

from selfcheck import charts, fmt
from selfcheck.errors import SectionError
from selfcheck.section import Section
from selfcheck.sections.common import metric_table, shortfall_sentence
from selfcheck.sections.options import check_size
from selfcheck.sections.phrases import target_tally
from selfcheck.sections.quality.shared import (
    AGENT_PREFIX,
    MAIN_IDS,
    TREND_IDS,
    breakdown,
    figures,
    m,
    named,
    no_reviews,
    sampling_reason,
)


def overview(sec: Section) -> None:
    """Paragraph ``quality.overview``: reviews, agents, and the targets met or missed."""
    main = [m(sec, i) for i in MAIN_IDS]
    missing = no_reviews(sec)
    if missing:
        sec.narrative("overview", f"{missing}，服务质量检查各项指标无法计算。")
        return
    reviews = m(sec, "qa.reviews")
    agents = breakdown(sec, AGENT_PREFIX)
    tally = target_tally(main)
    with_target, missed = tally.evaluated, tally.missed
    text = f"本季度（{sec.period.range_zh}）共完成服务质检{fmt.value(reviews.value, 'count')}条"
    if agents:
        text += f"，涉及坐席{fmt.value(len(agents), 'count')}人"
    text += "，从专业性、规范性、客户体验三个维度评分。"
    if missed:
        text += (
            f"设有目标的质检指标{len(with_target)}项，其中达标{tally.met}项、"
            f"未达标{len(missed)}项：" + "；".join(shortfall_sentence(x) for x in missed) + "。"
        )
    elif with_target:
        text += f"设有目标的质检指标{len(with_target)}项，均达到目标。"
    no_data = [x for x in main if x.target is not None and not x.has_value]
    if no_data:
        sources = figures(sec).sources
        text += (
            "；".join(
                f"{x.name}无法计算（"
                + (
                    sampling_reason(x, sources)
                    if x.metric_id == "qa.sampling_rate"
                    else str(x.reason)
                )
                + "）"
                for x in no_data
            )
            + "。"
        )
    sec.narrative("overview", text)


def main_table(sec: Section, metrics: Sequence[str] = MAIN_IDS) -> None:
    """Table of the main metrics (ids of ``qa.*``, in the order given); none without reviews."""
    chosen = named(sec, metrics)
    if no_reviews(sec):
        return
    metric_table(sec, "服务质量检查主要指标", chosen)


def trend_chart(
    sec: Section,
    metrics: Sequence[str] = TREND_IDS,
    per_row: int = 2,
    size: tuple[float, float] | None = None,
) -> None:
    """Five-quarter trend, one panel per metric (``per_row`` panels a row); ``size`` None:
    6.3 inches wide, 2.1 inches per row of panels. None without reviews or history."""
    shape = check_size(sec, size)
    chosen = named(sec, metrics)
    if not isinstance(per_row, int) or not 1 <= per_row <= 4:
        raise SectionError(
            f"per_row={per_row!r} 不可用：每行面板数应为1至4的整数 (per_row is 1 to 4)",
            section=sec.definition.id,
        )
    if no_reviews(sec):
        return
    trend = [x for x in chosen if x.has_value]
    fig = charts.trend_panels(trend, columns=per_row)
    if fig is None:
        return
    if shape is not None:
        fig.set_size_inches(shape)
    targets = "虚线为目标值，红点为未达到目标的季度；" if any(x.target for x in trend) else ""
    sec.figure(fig, "质检主要指标近五个季度走势", note=f"注：{targets}缺少数据的季度不绘制。")
