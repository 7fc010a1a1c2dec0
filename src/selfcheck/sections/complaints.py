"""（二）投诉处理情况 of the section 客户满意度与投诉处理: one function per report block.

Volume, complaints per 10 000 tickets, types with their share and the change of share
on last quarter, resolution, handling time in working days, escalation, feedback,
repeat complaints and satisfaction with complaint handling. The metrics are computed by
:func:`selfcheck.sections.satisfaction.compute`; the notebook ``05_satisfaction.ipynb``
writes the headings. Narrative slots: ``complaints``, ``complaint_types``,
``complaint_handling``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column, Figure, Paragraph, Table
from selfcheck.charts import PRIMARY, SECONDARY
from selfcheck.metrics import complaints as complaint_metrics
from selfcheck.metrics.base import Measure, Metric
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections.common import (
    FIGURE_WIDTH_IN,
    METRIC_COLUMN_NAMES,
    cached,
    figure,
    measures_of,
    metric_table,
    select_columns,
)
from selfcheck.sections.phrases import (
    change_clause,
    count_change,
    metric,
    pick,
    pick_by_id,
    shortfalls,
    status_clause,
)

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
TYPE_COUNT = "complaints.total.type:"
TYPE_SHARE = "complaints.share.type:"
TYPE_COLUMNS = (
    Column("投诉类型", "text", width=0.18),
    Column("本季度件数", "int", width=0.15),
    Column("本季度占比", "rate", width=0.15),
    Column("上季度件数", "int", width=0.15),
    Column("上季度占比", "rate", width=0.15),
    Column("占比变化", "pp", width=0.22),
)
TYPE_COLUMN_NAMES = tuple(c.name for c in TYPE_COLUMNS)


def _tickets_total(sec: Section, period: Period) -> int | None:
    tickets = sec.data("tickets", period)
    return None if tickets is None else len(tickets)


def measures(sec: Section, period: Period) -> dict[str, Measure]:
    """The complaint metrics of a period (with their type breakdowns)."""
    th, cal = sec.config.thresholds, sec.config.calendar
    return complaint_metrics.complaints(
        sec.data("complaints", period), th, cal, period, tickets_total=_tickets_total(sec, period)
    )


def _type_frame(sec: Section) -> pd.DataFrame:
    """This quarter's types beside last quarter's (:func:`metrics.complaints.type_comparison`)."""

    def make() -> pd.DataFrame:
        m = {x.metric_id: x for x in sec.result.metrics}
        total = metric(sec, "complaints.total")
        previous = None
        if total.previous is not None:
            previous = measures_of(
                sec, sec.period.previous(), measures, {"complaints.total": total}
            )
        types = [k[len(TYPE_COUNT) :] for k in m if k.startswith(TYPE_COUNT)]
        counts = pd.Series([m[f"{TYPE_COUNT}{t}"].value for t in types], index=types, dtype=float)
        shares = pd.Series(
            [m[f"{TYPE_SHARE}{t}"].previous for t in types], index=types, dtype=float
        )
        earlier = None
        if previous is not None:
            keys = [k for k in previous if k.startswith(TYPE_COUNT)]
            earlier = pd.Series(
                [previous[k].value for k in keys],
                index=[k[len(TYPE_COUNT) :] for k in keys],
                dtype=float,
            )
        return complaint_metrics.type_comparison(
            counts, float(total.value or 0.0), earlier, total.previous, shares
        )

    return cached(sec, "complaint_types", make)


def _share(row: pd.Series) -> Metric:
    """A type's share as a metric (for the change phrase)."""
    previous = None if pd.isna(row["previous_share"]) else float(row["previous_share"])
    return Metric(
        f"{TYPE_SHARE}{row.name}", str(row.name), "rate", float(row["share"]), previous=previous
    )


def _change(d: float) -> str:
    return fmt.delta(d, "rate")


# -- volume --------------------------------------------------------------------------------


def complaints_text(sec: Section) -> Paragraph:
    """Complaints received, their change on last quarter and a year before, and the rate
    per 10 000 tickets."""
    total, rate = metric(sec, "complaints.total"), metric(sec, "complaints.per_10k_tickets")
    if not total.has_value:
        return sec.narrative(
            "complaints",
            f"本季度无投诉数据（{total.reason}），投诉量、投诉类型和投诉处理指标均无法计算。",
        )
    text = (
        f"本季度共受理客户投诉{fmt.value(total.value, 'count')}件"
        if total.value
        else "本季度未受理客户投诉"
    )
    for versus in ("上季度", "上年同期"):
        change = count_change(total, versus=versus)
        if change:
            text += f"，{change}"
    text += "。"
    if rate.has_value:
        text += (
            f"按同期工单{fmt.number(rate.denominator, 0)}张计，万单投诉率为"
            f"{fmt.value(rate.value, rate.unit)}"
        )
        change = fmt.change_phrase(rate)
        text += f"，{change}。" if change else "。"
    elif sec.scope.includes("tickets"):  # without tickets in scope the rate is not reported
        text += f"万单投诉率无法计算（{rate.reason}）。"
    return sec.narrative("complaints", text)


# -- types ---------------------------------------------------------------------------------


def _has_complaints(sec: Section) -> bool:
    total = metric(sec, "complaints.total")
    return total.has_value and bool(total.value)


def types_text(sec: Section) -> Paragraph | None:
    """The types by count with their share and change, the biggest rise and fall of share."""
    if not _has_complaints(sec):
        return None
    rows = _type_frame(sec)
    if rows.empty:
        data = sec.data("complaints")
        reason = (
            "投诉数据未包含投诉类型字段"
            if data is not None and "type" not in data.columns
            else "投诉均未填写投诉类型"
        )
        return sec.narrative("complaint_types", f"{reason}，无法按类型统计（无数据）。")
    present = sorted(rows.index[rows["count"] > 0], key=lambda t: -rows.at[t, "count"])  # stable
    parts = []
    for name, r in rows.loc[present].iterrows():  # one row per complaint type
        s = f"{name}{fmt.number(r['count'], 0)}件，占{fmt.value(r['share'], 'rate')}"
        change = fmt.change_phrase(_share(r))
        if change:
            s += f"，{change}"
        parts.append(s)
    text = "从投诉类型看，" + "；".join(parts) + "。"
    changes = rows["change"].dropna()
    if not changes.empty:
        up, down = changes.idxmax(), changes.idxmin()
        pieces = []
        if _change(changes[up]).startswith("+"):
            pieces.append(f"占比上升最多的是{up}（{_change(changes[up])}）")
        if _change(changes[down]).startswith("-"):
            pieces.append(f"下降最多的是{down}（{_change(changes[down])}）")
        if pieces:
            text += "与上季度相比，" + "，".join(pieces) + "。"
    gone = [str(t) for t in rows.index[rows["count"] == 0]]
    if gone:
        text += f"上季度出现的{'、'.join(gone)}投诉本季度未再发生。"
    unlabelled = _unlabelled(sec, rows)
    if unlabelled > 0:
        text += f"另有{fmt.number(unlabelled, 0)}件投诉未填写类型。"
    return sec.narrative("complaint_types", text)


def _unlabelled(sec: Section, rows: pd.DataFrame) -> float:
    return float(metric(sec, "complaints.total").value) - float(rows["count"].sum())  # type: ignore[arg-type]


def types_table(sec: Section, columns: Sequence[str] = TYPE_COLUMN_NAMES) -> Table | None:
    """Count and share of each type this quarter and last, with a total row."""
    if not _has_complaints(sec):
        return None
    rows = _type_frame(sec)
    if rows.empty:
        return None
    total = metric(sec, "complaints.total")
    unlabelled = _unlabelled(sec, rows)
    body = [
        (str(name), *r)
        for name, r in zip(
            rows.index,
            rows[["count", "share", "previous_count", "previous_share", "change"]].itertuples(
                index=False, name=None
            ),
            strict=True,
        )
    ]
    body.append(("合计", total.value, 1.0 if unlabelled == 0 else None, total.previous, None, None))
    notes = []
    if total.previous is None:
        notes.append("上季度无投诉数据，无法比较")
    if unlabelled > 0:
        notes.append("合计含未填写投诉类型的投诉")
    note = "注：" + "；".join(notes) + "。" if notes else None
    cols, body = select_columns(sec, "投诉类型分布", TYPE_COLUMNS, body, columns)
    return sec.table("投诉类型分布", cols, body, note=note)


def types_chart(
    sec: Section, previous: bool = True, size: tuple[float, float] | None = None
) -> Figure | None:
    """Share of each type this quarter (and last quarter's beside it with ``previous``);
    ``size`` None: the height grows with the number of types."""
    if not _has_complaints(sec):
        return None
    rows = _type_frame(sec)
    if rows.empty:
        return None
    has_previous = previous and metric(sec, "complaints.total").previous is not None
    if size is None:
        size = (FIGURE_WIDTH_IN, max(2.4, 0.45 * len(rows) + 1.0))
    labels = [str(t) for t in rows.index][::-1]  # top to bottom in table order
    current = rows["share"].to_numpy(dtype=float)[::-1] * 100
    before = rows["previous_share"].to_numpy(dtype=float)[::-1] * 100
    y = np.arange(len(rows))
    fig, ax = figure(sec, size)
    height = 0.38 if has_previous else 0.55
    shift = height / 2 if has_previous else 0.0
    ax.barh(y + shift, current, height, color=PRIMARY, label="本季度")
    if has_previous:
        ax.barh(y - shift, np.nan_to_num(before), height, color=SECONDARY, label="上季度")
    for (_, r), yi in zip(rows[::-1].iterrows(), y, strict=True):
        label = fmt.value(r["share"], "rate")
        if has_previous and not pd.isna(r["change"]):
            label += f"（{_change(r['change'])}）"
        ax.annotate(
            label, (float(r["share"]) * 100, yi + shift), xytext=(3, 0),
            textcoords="offset points", va="center", fontsize=7,
        )  # fmt: skip
    ax.set_yticks(y, labels)
    ax.set_xlabel("占投诉总量（%）")
    shown = np.concatenate([current, before]) if has_previous else current
    ax.set_xlim(0, np.nanmax(shown) * 1.5 + 1)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="lower right", fontsize=7, frameon=False)
    return sec.figure(
        fig,
        "投诉类型占比" + ("（本季度与上季度）" if has_previous else ""),
        note="注：数据标签为本季度占比，括号内为较上季度的变化。" if has_previous else None,
    )


# -- handling ------------------------------------------------------------------------------


def handling_text(sec: Section) -> Paragraph | None:
    """Resolution, handling time, escalation, feedback, repeats and satisfaction with
    handling, open complaints and the shortfalls (none without complaint data)."""
    m = pick_by_id(sec, COMPLAINT_IDS)
    if not m["complaints.total"].has_value:
        return None
    pieces = []
    for mid in HANDLING_IDS:
        x = m[mid]
        if not x.has_value:
            continue
        s = f"{HANDLING_LABELS.get(mid, x.name)}为{fmt.value(x.value, x.unit)}"
        s += status_clause(x) + change_clause(x)
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
    return sec.narrative("complaint_handling", text)


def handling_table(
    sec: Section,
    rows: Sequence[str] = COMPLAINT_IDS,
    columns: Sequence[str] = METRIC_COLUMN_NAMES,
) -> Table:
    """The complaint metrics (``rows``: metric ids), with the ``columns`` chosen."""
    return metric_table(sec, "投诉处理指标", pick(sec, rows), columns)
