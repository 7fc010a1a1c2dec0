"""服务质量检查（一）质检覆盖情况: the sampling rate and the sampling base per source."""

from __future__ import annotations

from collections.abc import Sequence

from selfcheck import fmt
from selfcheck.blocks import Column
from selfcheck.schema import QA_SOURCES
from selfcheck.section import Section
from selfcheck.sections.options import pick_columns
from selfcheck.sections.quality.shared import (
    SOURCE_BASE_ZH,
    SOURCE_LABEL,
    SOURCE_UNIT,
    SOURCE_ZH,
    figures,
    judged,
    m,
    no_reviews,
    sampling_reason,
    status_against,
)

COVERAGE_COLUMNS = (
    Column("来源", "text", width=0.34),
    Column("质检量", "int", width=0.15),
    Column("抽样基数", "int", width=0.17),
    Column("抽样率", "rate", width=0.17),
    Column("状态", "status", width=0.17),
)


def coverage(sec: Section) -> None:
    """Paragraph ``quality.coverage``: reviews, sampling base and rate, by source."""
    missing = no_reviews(sec)
    if missing:
        sec.narrative("coverage", f"{missing}，无法统计质检覆盖情况。")
        return
    reviews, rate = m(sec, "qa.reviews"), m(sec, "qa.sampling_rate")
    rows = figures(sec).sources
    counted = [r for r in rows if r.source]
    text = f"本季度完成服务质检{fmt.value(reviews.value, 'count')}条"
    if rate.has_value:
        parts = [
            f"{SOURCE_BASE_ZH[r.source]}{fmt.value(r.base, 'count')}{SOURCE_UNIT[r.source]}"
            for r in counted
            if r.base is not None
        ]
        text += f"，抽样基数为服务记录{fmt.value(rate.denominator, 'count')}条"
        if len(parts) > 1:
            text += "（" + "、".join(parts) + "）"
        text += f"，质检抽样率{fmt.value(rate.value, 'rate')}"
        for phrase in (fmt.status_phrase(rate), fmt.change_phrase(rate)):
            if phrase:
                text += f"，{phrase}"
        year = fmt.change_phrase(rate, versus="上年同期")
        if year:
            text += f"，{year}"
        text += "。"
    else:
        text += f"；质检抽样率无法计算（{sampling_reason(rate, rows)}）。"
    by_source = [r for r in counted if r.rate is not None]
    if by_source and len(counted) > 1:
        text += (
            "分来源看，"
            + "、".join(
                f"{SOURCE_ZH[r.source]}抽样率{fmt.value(r.rate, 'rate')}" for r in by_source
            )
            + "。"
        )
        low = [r for r in by_source if rate.target is not None and not rate.target.met(r.rate)]  # type: ignore[arg-type]
        if low:
            text += (
                f"其中{'、'.join(SOURCE_ZH[r.source] for r in low)}的抽样率未达到"
                f"{fmt.target(rate.target, 'rate')}的抽样要求，抽检力度有待加强。"
            )
    if counted and counted[0].reviews is not None:
        absent = [s for s in QA_SOURCES if s not in {r.source for r in counted}]
        if absent:
            text += (
                f"本季度质检未抽检{'、'.join(SOURCE_ZH[s] for s in absent)}，"
                "相应服务记录未计入抽样基数。"
            )
    else:
        text += "质检记录未填写来源，无法按来源统计抽样率，抽样基数按电话、在线会话、工单和现场服务单四类合计。"
    unknown = [r for r in rows if not r.source]
    if unknown:
        text += (
            f"另有{fmt.value(unknown[0].reviews, 'count')}条质检记录未填写来源，"
            "计入质检量，未计入分来源统计。"
        )
    sec.narrative("coverage", text)


def coverage_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 质检抽样情况（按来源）: one row per source and the total; ``columns`` names the
    columns shown (None: all). None without reviews."""
    rows = figures(sec).sources
    if no_reviews(sec) or not rows:
        pick_columns(sec, "质检抽样情况（按来源）", COVERAGE_COLUMNS, [], columns)
        return
    reviews, rate = m(sec, "qa.reviews"), m(sec, "qa.sampling_rate")
    table_rows = []
    for r in rows:
        label = SOURCE_LABEL[r.source] if r.source else "来源未填写"
        status = status_against(r.rate, rate.target) if r.source else None
        table_rows.append((label, r.reviews, r.base, r.rate, status))
    table_rows.append(("合计", reviews.value, rate.denominator, rate.value, rate.status))
    reasons = sorted({r.reason for r in rows if r.reason})
    if rows[0].reviews is None:
        note = "注：质检记录未填写来源，抽样基数为四类服务记录数之和，不分来源计算抽样率。"
    else:
        note = "注：抽样基数为本季度质检记录中出现的各来源服务记录数之和；" + judged(
            "各来源抽样率", "质检抽样率", rate.target, "rate"
        )
    if reasons:
        note += "无数据：" + "；".join(reasons) + "。"
    shown, cells = pick_columns(
        sec, "质检抽样情况（按来源）", COVERAGE_COLUMNS, table_rows, columns
    )
    sec.table("质检抽样情况（按来源）", shown, cells, note=note)
