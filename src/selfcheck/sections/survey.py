"""（一）满意度测评结果 of the section 客户满意度与投诉处理: one function per report block.

Index and top-box rate overall, per dimension and per customer segment, each with its
95 % interval, n (样本量不足 below ``min_sample``), change on last quarter and whether
that change is significant; NPS. The metrics are computed by
:func:`selfcheck.sections.satisfaction.compute`; the notebook ``05_satisfaction.ipynb``
writes the headings. Narrative slots: ``satisfaction``, ``dimensions``, ``segments``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfcheck import charts, fmt
from selfcheck.blocks import Column, Figure, Paragraph, Table
from selfcheck.errors import SectionError
from selfcheck.metrics import satisfaction as satisfaction_metrics
from selfcheck.metrics.base import STATUS_MISSED, Metric
from selfcheck.schema import DATASETS
from selfcheck.section import Section
from selfcheck.sections.comments import customer
from selfcheck.sections.common import FIGURE_WIDTH_IN, figure, sampled_cells, select_columns
from selfcheck.sections.phrases import (
    change_clause,
    metric,
    significant_changes,
    status_clause,
    with_interval,
)

DIMENSIONS = satisfaction_metrics.DIMENSIONS
DIMENSION_ZH = {d: DATASETS["surveys"].column(d).zh for d in DIMENSIONS}
MEASURES = ("得分", "满意率")  # the rows of a score table: index and top-box rate

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
SCORE_COLUMN_NAMES = tuple(c.name for c in SCORE_COLUMNS)
SEGMENT_COLUMN_NAMES = tuple(c.name for c in SEGMENT_COLUMNS)


def metrics_by_id(sec: Section) -> dict[str, Metric]:
    """The section's metrics by id (a clear error when ``compute`` has not run)."""
    metric(sec, "satisfaction.responses")  # a clear error when compute has not run
    return {m.metric_id: m for m in sec.result.metrics}


# -- wording and table cells ----------------------------------------------------------------


def _top_box_floor(sec: Section) -> str:
    """The lowest score that counts as satisfied: ``4分`` on a 5-point scale."""
    floor = 0.8 * sec.config.thresholds.survey_scale
    return fmt.number(floor, 0 if float(floor).is_integer() else 1) + "分"


def _interval_note(sec: Section) -> str:
    th = sec.config.thresholds
    return (
        f"注：满意率为评分{_top_box_floor(sec)}及以上（满分{th.survey_scale}分）的问卷占比；"
        "得分的置信区间为t区间，满意率为Wilson区间；较上季度一栏标“*”的，变化在统计上显著"
        f"（p<0.05）；样本量低于{th.min_sample}份的标注“样本量不足”，结果仅供参考。"
    )


def _check_measures(sec: Section, measures: Sequence[str]) -> tuple[str, ...]:
    chosen = (measures,) if isinstance(measures, str) else tuple(measures)
    if not chosen or any(x not in MEASURES for x in chosen):
        raise SectionError(
            f"measures 只能取 {'、'.join(MEASURES)}，而不是 {measures!r} "
            f"(measures: a selection of {MEASURES})",
            section=sec.definition.id,
        )
    return chosen


# -- satisfaction -------------------------------------------------------------------------


def satisfaction_text(sec: Section) -> Paragraph:
    """Responses, the overall index and top-box rate with interval, status and change; NPS."""
    m = metrics_by_id(sec)
    responses = m["satisfaction.responses"]
    if not responses.has_value:
        return sec.narrative(
            "satisfaction",
            f"本季度无满意度调查数据（{responses.reason}），满意度得分、满意率和净推荐值均无法计算。",
        )
    index, top, nps = m["satisfaction.index"], m["satisfaction.top_box_rate"], m["satisfaction.nps"]
    text = f"本季度共回收有效问卷{fmt.value(responses.value, 'count')}份。"
    if index.has_value:
        text += (
            f"客户满意度综合得分为{with_interval(index)}{status_clause(index)}"
            f"{change_clause(index, significance=True)}；"
            f"满意率（总体评价{_top_box_floor(sec)}及以上的问卷占比）为{with_interval(top)}"
            f"{status_clause(top)}{change_clause(top, significance=True)}。"
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
            f"{fmt.number(nps.n, 0)}份）{change_clause(nps)}。"
        )
    else:
        text += f"净推荐值无数据（{nps.reason}）。"
    if all(x.delta is None for x in (index, top, nps)):
        text += "上季度无可比数据，本季度不作环比比较。"
    return sec.narrative("satisfaction", text)


def _dimension_rows(m: dict[str, Metric]) -> list[tuple[str, Metric, Metric]]:
    """(name, index, top-box rate): overall first, then the five dimensions."""
    rows = [("总体评价", m["satisfaction.index"], m["satisfaction.top_box_rate"])]
    rows += [
        (
            DIMENSION_ZH[d],
            m[f"satisfaction.index.{d}"],
            m[f"satisfaction.top_box_rate.dimension:{d}"],
        )
        for d in DIMENSIONS
    ]
    return rows


def dimensions_text(sec: Section) -> Paragraph:
    """The best and worst dimension, those below target and the significant changes."""
    m = metrics_by_id(sec)
    if not m["satisfaction.responses"].has_value:
        return sec.narrative("dimensions", "本季度无满意度调查数据，分项满意度无法计算。")
    rows = _dimension_rows(m)
    dims = [(name, idx, top) for name, idx, top in rows[1:] if idx.has_value]
    missing = [f"{name}（{idx.reason}）" for name, idx, _ in rows[1:] if not idx.has_value]
    if not dims:
        return sec.narrative("dimensions", "问卷中无分项评分数据，分项满意度无法计算。")
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
    text += significant_changes(dims, "分项")
    if missing:
        text += "无数据的分项：" + "；".join(missing) + "。"
    return sec.narrative("dimensions", text)


def dimensions_table(
    sec: Section,
    measures: Sequence[str] = MEASURES,
    columns: Sequence[str] = SCORE_COLUMN_NAMES,
) -> Table | None:
    """Score and top-box rate (``measures``) of the overall rating and each dimension."""
    m = metrics_by_id(sec)
    if not m["satisfaction.responses"].has_value:
        return None
    chosen = _check_measures(sec, measures)
    rows = [
        (name, *sampled_cells(label, x), x.status)
        for name, idx, top in _dimension_rows(m)
        for label, x in (("得分", idx), ("满意率", top))
        if label in chosen
    ]
    cols, rows = select_columns(sec, "客户满意度分项得分与满意率", SCORE_COLUMNS, rows, columns)
    return sec.table("客户满意度分项得分与满意率", cols, rows, note=_interval_note(sec))


def dimensions_chart(
    sec: Section,
    previous: bool = True,
    intervals: bool = True,
    size: tuple[float, float] = (FIGURE_WIDTH_IN, 3.0),
) -> Figure | None:
    """Score of the overall rating and each dimension, last quarter's beside it
    (``previous``), with the 95 % intervals (``intervals``) and the target."""
    m = metrics_by_id(sec)
    if not m["satisfaction.responses"].has_value:
        return None
    rows = [r for r in _dimension_rows(m) if r[1].has_value]
    if not rows:
        return None
    labels = [r[0] for r in rows]
    current = np.array([float(r[1].value) for r in rows])  # type: ignore[arg-type]
    before = np.array([np.nan if r[1].previous is None else float(r[1].previous) for r in rows])
    low = np.array([np.nan if r[1].ci_low is None else float(r[1].ci_low) for r in rows])
    high = np.array([np.nan if r[1].ci_high is None else float(r[1].ci_high) for r in rows])
    if not intervals:
        low, high = np.full_like(low, np.nan), np.full_like(high, np.nan)
    short = [r[1].status == STATUS_MISSED for r in rows]
    x = np.arange(len(rows))
    fig, ax = figure(sec, size)
    has_prev = previous and not np.isnan(before).all()
    width = 0.38 if has_prev else 0.55
    shift = width / 2 if has_prev else 0.0
    if has_prev:
        ax.bar(x - shift, before, width, color=charts.SECONDARY, label="上季度")
    ax.bar(x + shift, current, width, color=charts.bar_colors(short), label="本季度")
    known = ~np.isnan(low)
    if intervals:
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
    floor = np.nanmin(np.concatenate([current, before if has_prev else current, low]))
    if target is not None:
        ax.axhline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        floor = min(floor, target.value)
    ax.set_ylim(max(0.0, np.floor(floor / 5) * 5 - 10), 100)
    ax.set_xticks(x, labels)
    ax.set_ylabel("得分")
    if has_prev:
        ax.legend(loc="upper right", ncols=2, fontsize=7, frameon=False)
    notes = ["竖线为95%置信区间"] if intervals else []
    if target is not None:
        notes.append(f"虚线为{fmt.target(target, 'score')}的目标，红色为未达到目标")
    caption = "客户满意度分项得分" + ("（本季度与上季度）" if has_prev else "")
    return sec.figure(fig, caption, note="注：" + "，".join(notes) + "。" if notes else None)


def segments_text(sec: Section) -> Paragraph:
    """The best and worst segment with enough responses, significant changes, small samples."""
    m = metrics_by_id(sec)
    if not m["satisfaction.responses"].has_value:
        return sec.narrative("segments", "本季度无满意度调查数据，无法分客户类型统计满意度。")
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
        return sec.narrative("segments", f"{reason}，无法分客户类型统计满意度（无数据）。")
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
            f"样本量充足的客户类型中，{customer(hi)}得分最高，为{with_interval(idx[hi])}；"
            f"{customer(lo)}得分最低，为{with_interval(idx[lo])}。"
        )
    elif enough:
        k = enough[0]
        text += f"{customer(k)}得分为{with_interval(idx[k])}。"
    text += significant_changes([(customer(k), idx[k], top[k]) for k in keys], "客户类型")
    if small:
        text += (
            "、".join(f"{customer(k)}（{fmt.number(idx[k].n, 0)}份）" for k in small)
            + f"的有效问卷不足{th.min_sample}份，样本量不足，其结果仅供参考。"
        )
    blank = satisfaction_metrics.blank_segments(surveys)
    if blank:
        text += f"另有{fmt.number(blank, 0)}份问卷未填写客户类型，未计入分类统计。"
    return sec.narrative("segments", text)


def segments_table(
    sec: Section,
    measures: Sequence[str] = MEASURES,
    columns: Sequence[str] = SEGMENT_COLUMN_NAMES,
) -> Table | None:
    """Score and top-box rate (``measures``) of each customer segment."""
    m = metrics_by_id(sec)
    prefix = "satisfaction.index.segment:"
    keys = [i[len(prefix) :] for i in m if i.startswith(prefix)]
    if not m["satisfaction.responses"].has_value or not keys:
        return None
    chosen = _check_measures(sec, measures)
    rows = [
        (k, *sampled_cells(label, x))
        for k in keys
        for label, x in (
            ("得分", m[f"{prefix}{k}"]),
            ("满意率", m.get(f"satisfaction.top_box_rate.segment:{k}")),
        )
        if x is not None and label in chosen
    ]
    cols, rows = select_columns(sec, "分客户类型满意度得分与满意率", SEGMENT_COLUMNS, rows, columns)
    return sec.table("分客户类型满意度得分与满意率", cols, rows, note=_interval_note(sec))
