"""Section 客户满意度与投诉处理: satisfaction survey, complaints and quoted customer comments.

Content (report.md, section 5):

- 满意度测评结果 — index and top-box rate overall, per dimension and per customer
  segment, each with its 95 % interval, n (样本量不足 below ``min_sample``), change on
  last quarter and whether that change is significant; NPS;
- 投诉处理情况 — volume, complaints per 10 000 tickets, types with their share and the
  change of share on last quarter, resolution, handling time in working days,
  escalation, feedback, repeat complaints, satisfaction with complaint handling;
- 客户意见与建议 — themes of the survey comments and representative comments, with
  personal data masked (:mod:`selfcheck.comments`, :mod:`selfcheck.privacy`).

Narrative slots: ``overview``, ``satisfaction``, ``dimensions``, ``segments``,
``complaints``, ``complaint_types``, ``complaint_handling``, ``comments``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck import comments as comment_tools
from selfcheck.blocks import Column
from selfcheck.metrics import complaints as complaint_metrics
from selfcheck.metrics import satisfaction as satisfaction_metrics
from selfcheck.metrics.base import STATUS_MISSED, Measure, Metric
from selfcheck.metrics.evaluate import display_name
from selfcheck.period import Period
from selfcheck.schema import DATASETS
from selfcheck.section import Section
from selfcheck.sections.common import (
    compute_with_history,
    measures_of,
    metric_frame,
    metric_table,
    shortfall_sentence,
    shortfalls,
)

SECTION_ID = "satisfaction"

DIMENSIONS = satisfaction_metrics.DIMENSIONS
DIMENSION_ZH = {d: DATASETS["surveys"].column(d).zh for d in DIMENSIONS}

COMPLAINT_IDS = (
    "complaints.total",
    "complaints.per_10k_tickets",
    "complaints.resolution_rate",
    "complaints.handling_workdays_mean",
    "complaints.escalation_rate",
    "complaints.feedback_rate",
    "complaints.repeat_rate",
    "complaints.satisfaction_rate",
)
HANDLING_IDS = COMPLAINT_IDS[2:]
HANDLING_LABELS = {"complaints.handling_workdays_mean": "已办结投诉平均办结时长"}
TREND_IDS = (
    "satisfaction.index",
    "satisfaction.top_box_rate",
    "complaints.per_10k_tickets",
    "complaints.resolution_rate",
)
TYPE_COUNT = "complaints.total.type:"
TYPE_SHARE = "complaints.share.type:"
SIGNIFICANT_MARK = "*"
MIN_MENTIONS = 3  # a theme's mean score is discussed from this many mentions

# score and top-box rate one under the other (long format: the table stays readable)
SCORE_COLUMNS = (
    Column("项目", "text", width=0.15),
    Column("指标", "text", width=0.10),
    Column("本季度", "figure", width=0.11),
    Column("95%置信区间", "text", width=0.21),
    Column("较上季度", "figure", width=0.19),
    Column("样本量", "figure", width=0.11),
    Column("状态", "status", width=0.13),
)
SEGMENT_COLUMNS = (
    Column("客户类型", "text", width=0.15),
    *SCORE_COLUMNS[1:5],
    Column("样本量", "figure", width=0.24),
)
TYPE_COLUMNS = (
    Column("投诉类型", "text", width=0.18),
    Column("本季度件数", "int", width=0.15),
    Column("本季度占比", "rate", width=0.15),
    Column("上季度件数", "int", width=0.15),
    Column("上季度占比", "rate", width=0.15),
    Column("占比变化", "pp", width=0.22),
)
THEME_COLUMNS = (
    Column("主题", "text", width=0.28),
    Column("提及次数", "int", width=0.18),
    Column("占留言比例", "rate", width=0.24),
    Column("平均总体评分", "number", decimals=2, width=0.30),
)


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


# -- metrics --------------------------------------------------------------------------


def _tickets_total(sec: Section, period: Period) -> int | None:
    tickets = sec.data("tickets", period)
    return None if tickets is None else len(tickets)


def _complaint_measures(sec: Section, period: Period) -> dict[str, Measure]:
    th, cal = sec.config.thresholds, sec.config.calendar
    return complaint_metrics.complaints(
        sec.data("complaints", period), th, cal, period, tickets_total=_tickets_total(sec, period)
    )


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    out = dict(
        satisfaction_metrics.satisfaction(sec.data("surveys", period), sec.config.thresholds)
    )
    out.update(_complaint_measures(sec, period))
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Compute every metric of the section (with QoQ and YoY) and keep them in the result."""
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


def _metrics(sec: Section) -> dict[str, Metric]:
    return {m.metric_id: m for m in sec.result.metrics}


# -- wording helpers ----------------------------------------------------------------------


def _top_box_floor(sec: Section) -> str:
    """The lowest score that counts as satisfied: ``4分`` on a 5-point scale."""
    floor = 0.8 * sec.config.thresholds.survey_scale
    return fmt.number(floor, 0 if float(floor).is_integer() else 1) + "分"


def _customer(segment: str) -> str:
    """``个人`` → ``个人客户``; ``大客户`` stays as it is."""
    return segment if segment.endswith("客户") else f"{segment}客户"


def _with_interval(m: Metric) -> str:
    """``87.9分（95%置信区间86.5–89.4，n=400）``."""
    text = fmt.value(m.value, m.unit)
    interval = fmt.interval(m)
    return f"{text}（{interval}）" if interval else text


def _change(m: Metric, *, with_significance: bool = True) -> str:
    """``，较上季度上升1.2分，变化在统计上不显著``; '' without a comparison."""
    change = fmt.change_phrase(m)
    if not change:
        return ""
    significance = fmt.significance_phrase(m) if with_significance else ""
    return f"，{change}，{significance}" if significance else f"，{change}"


def _status_clause(m: Metric) -> str:
    status = fmt.status_phrase(m)
    return f"，{status}" if status else ""


def _delta_cell(m: Metric | None) -> str | None:
    """A table cell: ``+1.2分`` / ``-0.8个百分点``, with ``*`` for a significant change."""
    if m is None or m.delta is None:
        return None
    mark = SIGNIFICANT_MARK if m.significant else ""
    return fmt.delta(m.delta, m.unit) + mark


def _interval_cell(m: Metric | None) -> str | None:
    if m is None or not m.has_value or m.ci_low is None or m.ci_high is None:
        return None
    with_unit = m.unit == "rate"
    return (
        f"{fmt.value(m.ci_low, m.unit, with_unit=with_unit)}–"
        f"{fmt.value(m.ci_high, m.unit, with_unit=with_unit)}"
    )


def _value_cell(m: Metric | None, *, with_unit: bool = False) -> str | None:
    if m is None or not m.has_value:
        return None
    return fmt.value(m.value, m.unit, with_unit=with_unit or m.unit == "rate")


def _n_cell(m: Metric | None) -> str | None:
    if m is None or m.n is None or not m.has_value:
        return None
    return fmt.number(m.n, 0) + ("（样本量不足）" if m.small_sample else "")


def _measure_cells(label: str, m: Metric) -> tuple[str | None, ...]:
    """指标, 本季度, 95%置信区间, 较上季度, 样本量 of one score or top-box rate."""
    return (label, _value_cell(m), _interval_cell(m), _delta_cell(m), _n_cell(m))


def _significant_changes(rows: Sequence[tuple[str, Metric, Metric | None]], what: str) -> str:
    """Which changes of score and top-box rate on last quarter are significant, in words."""
    significant, tested = [], 0
    for name, idx, top in rows:
        for label, m in (("得分", idx), ("满意率", top)):
            if m is None or m.significant is None:
                continue
            tested += 1
            if m.significant:
                significant.append(f"{name}{label}{fmt.change_phrase(m)}")
    if not tested:
        return ""
    if not significant:
        return f"与上季度相比，各{what}得分和满意率的变化在统计上均不显著。"
    rest = "；其余变化在统计上不显著。" if len(significant) < tested else "。"
    return "从变化看，" + "，".join(significant) + "，变化在统计上显著（p<0.05）" + rest


def _interval_note(sec: Section) -> str:
    th = sec.config.thresholds
    return (
        f"注：满意率为评分{_top_box_floor(sec)}及以上（满分{th.survey_scale}分）的问卷占比；"
        "得分的置信区间为t区间，满意率为Wilson区间；较上季度一栏标“*”的，变化在统计上显著"
        f"（p<0.05）；样本量低于{th.min_sample}份的标注“样本量不足”，结果仅供参考。"
    )


# -- overview -------------------------------------------------------------------------------


def overview(sec: Section) -> None:
    """The section's opening paragraph, and the five-quarter trend of its main figures."""
    m = _metrics(sec)
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
    else:
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
    else:
        parts.append("无投诉数据")
    text = f"本季度（{sec.period.range_zh}）" + "；".join(parts) + "。"
    metrics = sec.result.metrics
    with_target = [x for x in metrics if x.target is not None and x.has_value]
    missed = shortfalls(metrics)
    if with_target:
        text += (
            f"本节共计算设有目标的指标{len(with_target)}项，其中达标"
            f"{len(with_target) - len(missed)}项、未达标{len(missed)}项。"
        )
        if missed:
            text += "未达标的指标为：" + "；".join(shortfall_sentence(x) for x in missed) + "。"
        else:
            text += "满意度和投诉处理各项指标均达到目标。"
    sec.narrative("overview", text)
    fig = charts.trend_panels(
        [m[i] for i in TREND_IDS if sum(v is not None for _, v in m[i].trend) >= 2]
    )
    if fig is not None:
        sec.figure(
            fig,
            "近五个季度满意度与投诉主要指标",
            note="注：虚线为目标值，红点为未达到目标的季度；缺少数据的季度不画点。",
        )


# -- satisfaction -------------------------------------------------------------------------


def satisfaction(sec: Section) -> None:
    """（一）满意度测评结果: the overall index, top-box rate and NPS."""
    m = _metrics(sec)
    sec.heading("满意度测评结果")
    responses = m["satisfaction.responses"]
    if not responses.has_value:
        sec.narrative(
            "satisfaction",
            f"本季度无满意度调查数据（{responses.reason}），满意度得分、满意率和净推荐值均无法计算。",
        )
        return
    index, top, nps = m["satisfaction.index"], m["satisfaction.top_box_rate"], m["satisfaction.nps"]
    text = f"本季度共回收有效问卷{fmt.value(responses.value, 'count')}份。"
    if index.has_value:
        text += (
            f"客户满意度综合得分为{_with_interval(index)}{_status_clause(index)}{_change(index)}；"
            f"满意率（总体评价{_top_box_floor(sec)}及以上的问卷占比）为{_with_interval(top)}"
            f"{_status_clause(top)}{_change(top)}。"
        )
        if index.small_sample:
            text += (
                f"有效问卷不足{sec.config.thresholds.min_sample}份，样本量不足，上述结果仅供参考。"
            )
    else:
        text += f"总体满意度无有效评分（{index.reason}），综合得分和满意率无法计算。"
    if nps.has_value:
        text += (
            f"净推荐值（NPS）为{fmt.value(nps.value, nps.unit)}（推荐意愿有效问卷"
            f"{fmt.number(nps.n, 0)}份）{_change(nps, with_significance=False)}。"
        )
    else:
        text += f"净推荐值无数据（{nps.reason}）。"
    if all(x.delta is None for x in (index, top, nps)):
        text += "上季度无可比数据，本季度不作环比比较。"
    sec.narrative("satisfaction", text)


def dimensions(sec: Section) -> None:
    """Index and top-box rate per dimension: narrative, table and chart."""
    m = _metrics(sec)
    if not m["satisfaction.responses"].has_value:
        return
    sec.heading("分项满意度", level=2)
    rows = [("总体评价", m["satisfaction.index"], m["satisfaction.top_box_rate"])]
    rows += [
        (
            DIMENSION_ZH[d],
            m[f"satisfaction.index.{d}"],
            m[f"satisfaction.top_box_rate.dimension:{d}"],
        )
        for d in DIMENSIONS
    ]
    dims = [(name, idx, top) for name, idx, top in rows[1:] if idx.has_value]
    missing = [f"{name}（{idx.reason}）" for name, idx, _ in rows[1:] if not idx.has_value]
    if not dims:
        text = "问卷中无分项评分数据，分项满意度无法计算。"
    else:
        ordered = sorted(dims, key=lambda r: -float(r[1].value))  # type: ignore[arg-type]
        hi, lo = ordered[0], ordered[-1]
        text = (
            f"五个分项中，{hi[0]}得分最高，为{fmt.value(hi[1].value, 'score')}；"
            f"{lo[0]}得分最低，为{fmt.value(lo[1].value, 'score')}。"
            if len(dims) > 1
            else f"{hi[0]}得分为{fmt.value(hi[1].value, 'score')}。"
        )
        below = [(name, idx) for name, idx, _ in dims if idx.status == STATUS_MISSED]
        targets = {fmt.target(idx.target, idx.unit) for _, idx, _ in dims if idx.target}
        if below:
            text += (
                "未达到"
                + "、".join(sorted(targets))
                + "目标的分项有："
                + "、".join(f"{name}（{fmt.value(idx.value, 'score')}）" for name, idx in below)
                + ("；其余分项均达到目标。" if len(below) < len(dims) else "。")
            )
        elif targets:
            text += f"各分项得分均达到{'、'.join(sorted(targets))}的目标。"
        text += _significant_changes([(name, idx, top) for name, idx, top in dims], "分项")
        if missing:
            text += "无数据的分项：" + "；".join(missing) + "。"
    sec.narrative("dimensions", text)
    table_rows = [
        (name, *_measure_cells(label, x), x.status)
        for name, idx, top in rows
        for label, x in (("得分", idx), ("满意率", top))
    ]
    sec.table("客户满意度分项得分与满意率", SCORE_COLUMNS, table_rows, note=_interval_note(sec))
    _dimension_chart(sec, rows)


def _dimension_chart(sec: Section, rows: Sequence[tuple[str, Metric, Metric]]) -> None:
    rows = [r for r in rows if r[1].has_value]
    if not rows:
        return
    labels = [r[0] for r in rows]
    current = np.array([float(r[1].value) for r in rows])  # type: ignore[arg-type]
    previous = np.array([np.nan if r[1].previous is None else float(r[1].previous) for r in rows])
    low = np.array([np.nan if r[1].ci_low is None else float(r[1].ci_low) for r in rows])
    high = np.array([np.nan if r[1].ci_high is None else float(r[1].ci_high) for r in rows])
    short = [r[1].status == STATUS_MISSED for r in rows]
    x = np.arange(len(rows))
    fig, ax = charts.figure(height_in=3.0)
    has_prev = not np.isnan(previous).all()
    width = 0.38 if has_prev else 0.55
    shift = width / 2 if has_prev else 0.0
    if has_prev:
        ax.bar(x - shift, previous, width, color=charts.SECONDARY, label="上季度")
    ax.bar(x + shift, current, width, color=charts.bar_colors(short), label="本季度")
    known = ~np.isnan(low)
    ax.errorbar(
        (x + shift)[known],
        current[known],
        yerr=[current[known] - low[known], high[known] - current[known]],
        fmt="none",
        ecolor="#404040",
        elinewidth=0.8,
        capsize=2,
    )
    tops = np.where(np.isnan(high), current, high)
    for xi, top_, v in zip(x + shift, tops, current, strict=True):
        ax.annotate(
            f"{v:.1f}", (xi, top_), xytext=(0, 2), textcoords="offset points",
            ha="center", va="bottom", fontsize=7,
        )  # fmt: skip
    target = rows[0][1].target
    floor = np.nanmin(np.concatenate([current, previous, low]))
    if target is not None:
        ax.axhline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        floor = min(floor, target.value)
    ax.set_ylim(max(0.0, np.floor(floor / 5) * 5 - 10), 100)
    ax.set_xticks(x, labels)
    ax.set_ylabel("得分")
    if has_prev:
        ax.legend(loc="upper right", ncols=2, fontsize=7, frameon=False)
    note = "注：竖线为95%置信区间"
    if target is not None:
        note += f"，虚线为{fmt.target(target, 'score')}的目标，红色为未达到目标"
    caption = "客户满意度分项得分" + ("（本季度与上季度）" if has_prev else "")
    sec.figure(fig, caption, note=note + "。")


def segments(sec: Section) -> None:
    """Index and top-box rate per customer segment."""
    m = _metrics(sec)
    if not m["satisfaction.responses"].has_value:
        return
    sec.heading("分客户类型满意度", level=2)
    prefix = "satisfaction.index.segment:"
    keys = [i[len(prefix) :] for i in m if i.startswith(prefix)]
    surveys = sec.data("surveys")
    if not keys:
        if surveys is None or "segment" not in surveys.columns:
            reason = "问卷数据未包含客户类型字段"
        elif not m["satisfaction.index"].has_value:
            reason = "问卷均无有效的总体满意度评分"
        else:
            reason = "问卷均未填写客户类型"
        sec.narrative("segments", f"{reason}，无法分客户类型统计满意度（无数据）。")
        return
    th = sec.config.thresholds
    idx = {k: m[f"{prefix}{k}"] for k in keys}
    top = {k: m.get(f"satisfaction.top_box_rate.segment:{k}") for k in keys}
    enough = [k for k in keys if not idx[k].small_sample]
    small = [k for k in keys if idx[k].small_sample]
    text = f"按客户类型统计，本季度问卷涉及{len(keys)}类客户。"
    if len(enough) > 1:
        ranked = sorted(enough, key=lambda k: (-float(idx[k].value), k))  # type: ignore[arg-type]
        hi, lo = ranked[0], ranked[-1]
        text += (
            f"样本量充足的客户类型中，{_customer(hi)}得分最高，为{_with_interval(idx[hi])}；"
            f"{_customer(lo)}得分最低，为{_with_interval(idx[lo])}。"
        )
    elif enough:
        k = enough[0]
        text += f"{_customer(k)}得分为{_with_interval(idx[k])}。"
    text += _significant_changes([(_customer(k), idx[k], top[k]) for k in keys], "客户类型")
    if small:
        text += (
            "、".join(f"{_customer(k)}（{fmt.number(idx[k].n, 0)}份）" for k in small)
            + f"的有效问卷不足{th.min_sample}份，样本量不足，其结果仅供参考。"
        )
    if surveys is not None and "segment" in surveys.columns:
        blank = int(surveys["segment"].astype("string").str.strip().fillna("").eq("").sum())
        if blank:
            text += f"另有{fmt.number(blank, 0)}份问卷未填写客户类型，未计入分类统计。"
    sec.narrative("segments", text)
    rows = [
        (k, *_measure_cells(label, x))
        for k in keys
        for label, x in (("得分", idx[k]), ("满意率", top[k]))
        if x is not None
    ]
    sec.table("分客户类型满意度得分与满意率", SEGMENT_COLUMNS, rows, note=_interval_note(sec))


# -- complaints -----------------------------------------------------------------------------


def _count_change(m: Metric, versus: str = "上季度") -> str:
    """``较上季度增加12件（上升8.7%）`` for a count; '' without a comparison."""
    previous = m.previous if versus == "上季度" else m.year_ago
    d = m.delta if versus == "上季度" else m.delta_year
    if d is None or previous is None:
        return ""
    if round(d) == 0:
        return f"与{versus}持平"
    text = f"较{versus}{'增加' if d > 0 else '减少'}{fmt.number(abs(d), 0)}件"
    if previous > 0:
        text += f"（{'上升' if d > 0 else '下降'}{fmt.percent(abs(d) / previous)}）"
    return text


@dataclass(frozen=True)
class _TypeRow:
    name: str
    count: float  # this quarter
    share: Metric  # this quarter's share; ``previous`` = last quarter's share (0 if absent)
    previous_count: float | None


def _types(m: Mapping[str, Metric], previous: Mapping[str, Measure] | None) -> list[_TypeRow]:
    """The types of this quarter (in metric order), then those of last quarter that have no
    complaint this quarter. A type absent from a quarter that had complaints counts 0 there."""
    prev_total = m["complaints.total"].previous
    current = [k[len(TYPE_COUNT) :] for k in m if k.startswith(TYPE_COUNT)]
    earlier = [k[len(TYPE_COUNT) :] for k in previous or {} if k.startswith(TYPE_COUNT)]

    def prev_count(t: str) -> float | None:
        if not prev_total:
            return None
        if previous is not None and f"{TYPE_COUNT}{t}" in previous:
            return previous[f"{TYPE_COUNT}{t}"].value
        return 0.0

    rows = []
    for t in current:
        share = m[f"{TYPE_SHARE}{t}"]
        pc = prev_count(t)
        if share.previous is None and pc is not None:
            share = replace(share, previous=pc / prev_total)  # type: ignore[operator]
        rows.append(_TypeRow(t, float(m[f"{TYPE_COUNT}{t}"].value), share, pc))  # type: ignore[arg-type]
    for t in earlier:
        if t in current:
            continue
        pc = prev_count(t)
        share = Metric(
            f"{TYPE_SHARE}{t}",
            display_name(f"{TYPE_SHARE}{t}"),
            "rate",
            0.0,
            previous=None if pc is None else pc / prev_total,  # type: ignore[operator]
        )
        rows.append(_TypeRow(t, 0.0, share, pc))
    return rows


def complaints(sec: Section) -> None:
    """（二）投诉处理情况 — volume, rate per 10 000 tickets and the types with their change."""
    m = _metrics(sec)
    sec.heading("投诉处理情况")
    total = m["complaints.total"]
    if not total.has_value:
        sec.narrative(
            "complaints",
            f"本季度无投诉数据（{total.reason}），投诉量、投诉类型和投诉处理指标均无法计算。",
        )
        metric_table(sec, "投诉处理指标", [m[i] for i in COMPLAINT_IDS])
        return
    sec.heading("投诉量与投诉类型", level=2)
    text = (
        f"本季度共受理客户投诉{fmt.value(total.value, 'count')}件"
        if total.value
        else "本季度未受理客户投诉"
    )
    for versus in ("上季度", "上年同期"):
        change = _count_change(total, versus)
        if change:
            text += f"，{change}"
    text += "。"
    rate = m["complaints.per_10k_tickets"]
    if rate.has_value:
        text += (
            f"按同期工单{fmt.number(rate.denominator, 0)}张计，万单投诉率为"
            f"{fmt.value(rate.value, rate.unit)}"
        )
        change = fmt.change_phrase(rate)
        text += f"，{change}。" if change else "。"
    else:
        text += f"万单投诉率无法计算（{rate.reason}）。"
    sec.narrative("complaints", text)
    if total.value:
        _complaint_types(sec, m)


def _complaint_types(sec: Section, m: Mapping[str, Metric]) -> None:
    total = m["complaints.total"]
    previous = None
    if total.previous is not None:
        previous = measures_of(
            sec, sec.period.previous(), _complaint_measures, {"complaints.total": total}
        )
    rows = _types(m, previous)
    if not rows:
        data = sec.data("complaints")
        reason = (
            "投诉数据未包含投诉类型字段"
            if data is not None and "type" not in data.columns
            else "投诉均未填写投诉类型"
        )
        sec.narrative("complaint_types", f"{reason}，无法按类型统计（无数据）。")
        return
    present = sorted((r for r in rows if r.count > 0), key=lambda r: -r.count)  # stable
    parts = []
    for r in present:
        s = f"{r.name}{fmt.number(r.count, 0)}件，占{fmt.value(r.share.value, 'rate')}"
        change = fmt.change_phrase(r.share)
        if change:
            s += f"，{change}"
        parts.append(s)
    text = "从投诉类型看，" + "；".join(parts) + "。"
    changes = [r for r in rows if r.share.delta is not None]
    if changes:
        up = max(changes, key=lambda r: r.share.delta)  # type: ignore[arg-type,return-value]
        down = min(changes, key=lambda r: r.share.delta)  # type: ignore[arg-type,return-value]
        pieces = []
        if fmt.delta(up.share.delta, "rate").startswith("+"):
            pieces.append(f"占比上升最多的是{up.name}（{fmt.delta(up.share.delta, 'rate')}）")
        if fmt.delta(down.share.delta, "rate").startswith("-"):
            pieces.append(f"下降最多的是{down.name}（{fmt.delta(down.share.delta, 'rate')}）")
        if pieces:
            text += "与上季度相比，" + "，".join(pieces) + "。"
    gone = [r.name for r in rows if r.count == 0]
    if gone:
        text += f"上季度出现的{'、'.join(gone)}投诉本季度未再发生。"
    unlabelled = float(total.value) - sum(r.count for r in rows)  # type: ignore[arg-type]
    if unlabelled > 0:
        text += f"另有{fmt.number(unlabelled, 0)}件投诉未填写类型。"
    sec.narrative("complaint_types", text)
    prev_total = total.previous
    table_rows = [
        (r.name, r.count, r.share.value, r.previous_count, r.share.previous, r.share.delta)
        for r in rows
    ]
    table_rows.append(
        (
            "合计",
            total.value,
            1.0 if unlabelled == 0 else None,
            prev_total,
            None,
            None,
        )
    )
    notes = []
    if prev_total is None:
        notes.append("上季度无投诉数据，无法比较")
    if unlabelled > 0:
        notes.append("合计含未填写投诉类型的投诉")
    note = "注：" + "；".join(notes) + "。" if notes else None
    sec.table("投诉类型分布", TYPE_COLUMNS, table_rows, note=note)
    _type_chart(sec, rows, has_previous=prev_total is not None)


def _type_chart(sec: Section, rows: Sequence[_TypeRow], *, has_previous: bool) -> None:
    labels = [r.name for r in rows][::-1]  # top to bottom in table order
    current = np.array([float(r.share.value) * 100 for r in rows][::-1])  # type: ignore[arg-type]
    previous = np.array(
        [np.nan if r.share.previous is None else r.share.previous * 100 for r in rows][::-1]
    )
    y = np.arange(len(rows))
    fig, ax = charts.figure(height_in=max(2.4, 0.45 * len(rows) + 1.0))
    height = 0.38 if has_previous else 0.55
    shift = height / 2 if has_previous else 0.0
    ax.barh(y + shift, current, height, color=charts.PRIMARY, label="本季度")
    if has_previous:
        ax.barh(y - shift, np.nan_to_num(previous), height, color=charts.SECONDARY, label="上季度")
    for r, yi in zip(rows[::-1], y, strict=True):
        label = fmt.value(r.share.value, "rate")
        if r.share.delta is not None:
            label += f"（{fmt.delta(r.share.delta, 'rate')}）"
        ax.annotate(
            label, (float(r.share.value) * 100, yi + shift), xytext=(3, 0),  # type: ignore[arg-type]
            textcoords="offset points", va="center", fontsize=7,
        )  # fmt: skip
    ax.set_yticks(y, labels)
    ax.set_xlabel("占投诉总量（%）")
    ax.set_xlim(0, np.nanmax(np.concatenate([current, previous])) * 1.5 + 1)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="lower right", fontsize=7, frameon=False)
    sec.figure(
        fig,
        "投诉类型占比" + ("（本季度与上季度）" if has_previous else ""),
        note="注：数据标签为本季度占比，括号内为较上季度的变化。" if has_previous else None,
    )


def complaint_handling(sec: Section) -> None:
    """Resolution, handling time, escalation, feedback, repeats and satisfaction with handling."""
    m = _metrics(sec)
    if not m["complaints.total"].has_value:
        return
    sec.heading("投诉办结与处理质量", level=2)
    pieces = []
    for mid in HANDLING_IDS:
        x = m[mid]
        if not x.has_value:
            continue
        label = HANDLING_LABELS.get(mid, x.name)
        s = f"{label}为{fmt.value(x.value, x.unit)}"
        status = fmt.status_phrase(x)
        if status:
            s += f"，{status}"
        change = fmt.change_phrase(x)
        if change:
            s += f"，{change}"
        pieces.append(s)
    text = "；".join(pieces) + "。" if pieces else ""
    res = m["complaints.resolution_rate"]
    if res.has_value and res.denominator and res.numerator is not None:
        open_ = res.denominator - res.numerator
        if open_ > 0:
            text += f"截至季度末仍有{fmt.number(open_, 0)}件投诉未办结。"
    missing = [f"{m[i].name}（{m[i].reason}）" for i in HANDLING_IDS if not m[i].has_value]
    if missing:
        text += "无数据的指标：" + "；".join(missing) + "。"
    missed = shortfalls([m[i] for i in HANDLING_IDS])
    if missed:
        text += f"{'、'.join(x.name for x in missed)}未达到目标，需纳入整改措施跟进落实。"
    elif any(m[i].target is not None and m[i].has_value for i in HANDLING_IDS):
        text += "投诉处理各项指标均达到目标。"
    sec.narrative("complaint_handling", text)
    metric_table(sec, "投诉处理指标", [m[i] for i in COMPLAINT_IDS])


# -- comments -------------------------------------------------------------------------------


def _score_text(v: float) -> str:
    return fmt.number(v, 0 if float(v).is_integer() else 1) + "分"


def customer_comments(sec: Section) -> None:
    """（三）客户意见与建议 — themes of the comments and representative quotes, masked."""
    sec.heading("客户意见与建议")
    surveys = sec.data("surveys")
    if surveys is None:
        sec.narrative("comments", "本季度无满意度调查数据，无客户意见可供分析。")
        return
    if "comment" not in surveys.columns:
        sec.narrative(
            "comments", "问卷数据未包含意见建议字段，本季度无客户意见可供分析（无数据）。"
        )
        return
    text = comment_tools.clean(surveys["comment"])
    n_comments = int(text.notna().sum())
    if n_comments == 0:
        sec.narrative("comments", "本季度问卷均未填写意见建议，无客户意见可供分析。")
        return
    scale = sec.config.thresholds.survey_scale
    scores = pd.Series(np.nan, index=surveys.index)
    if "overall" in surveys.columns:  # only valid scores (1..scale) are shown or averaged
        overall = pd.to_numeric(surveys["overall"], errors="coerce")
        scores = overall.where(overall.between(1, scale))
    themes = comment_tools.theme_table(surveys["comment"], scores)
    quotes = comment_tools.representative(surveys.assign(overall=scores))
    out = (
        f"本季度共有{fmt.number(n_comments, 0)}份问卷填写了意见建议，占回收问卷的"
        f"{fmt.percent(n_comments / len(surveys))}。"
    )
    if not themes.empty:
        top = themes.head(4)
        out += (
            "按关键词归类，提及较多的主题依次为"
            + "、".join(
                f"{t}（{fmt.number(c, 0)}条，占{fmt.percent(s)}）"
                for t, c, s in zip(top["theme"], top["mentions"], top["share"], strict=True)
            )
            + "。"
        )
        mean_all = pd.to_numeric(scores, errors="coerce")[text.notna()].mean()
        scored = themes[themes["mean_score"].notna() & themes["mentions"].ge(MIN_MENTIONS)]
        low = scored[scored["mean_score"] < mean_all].nsmallest(2, "mean_score")
        if not low.empty:
            values = [fmt.number(v, 2) + "分" for v in low["mean_score"]]
            out += (
                f"提及{'、'.join(low['theme'])}的客户总体评分平均最低，"
                + ("分别为" + "和".join(values) if len(values) > 1 else f"为{values[0]}")
                + f"，低于全部留言客户的{fmt.number(mean_all, 2)}分（满分{scale}分），"
                "是不满意见相对集中的方面。"
            )
    else:
        out += "留言未涉及预设的主题关键词。"
    if not quotes.empty:
        out += "以下摘录评分最低的留言和高频主题的典型留言，其中的电话号码、证件号码、银行卡号和电子邮箱已作脱敏处理。"
    sec.narrative("comments", out)
    if not themes.empty:
        sec.table(
            "客户留言主题分布",
            THEME_COLUMNS,
            [
                (t, c, s, v)
                for t, c, s, v in zip(
                    themes["theme"],
                    themes["mentions"],
                    themes["share"],
                    themes["mean_score"],
                    strict=True,
                )
            ],
            note=(
                f"注：按关键词归类，一条留言可涉及多个主题，占比之和可超过100%；平均总体评分为提及该主题的"
                f"问卷的总体满意度平均分（满分{scale}分）。"
            ),
        )
    for text_, score, segment, reason in zip(
        quotes["text"], quotes["overall"], quotes["segment"], quotes["reason"], strict=True
    ):
        about = []
        if pd.notna(score):
            about.append(f"总体评分{_score_text(float(score))}")
        if isinstance(segment, str) and segment:
            about.append(_customer(segment))
        if reason != "评分最低":
            about.append(f"主题：{reason}")
        sec.paragraph(f"“{text_}”（{'，'.join(about)}）", style="quote")
