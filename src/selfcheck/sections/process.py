"""Section 服务流程运行效能: intake, handling, delivery and archiving.

Intake: channel mix (share of each channel and its change on last quarter), bot
resolution, transfer to a human, repeat contacts across channels, top problem
categories. Handling: SLA attainment per level (met / breached, targets, the clock
used), first-response and resolution medians, handoffs, reopen, escalation, backlog at
period end with its ageing. Delivery: on-site key nodes, acceptance, dissatisfaction,
extra-fee complaints. Archiving: tickets and on-site service records.

The response-speed metrics of visits (confirmation, arrival, ETA notice, compensation)
belong to the section 服务响应速度, ``tickets.peak_ratio`` to 服务体系建设现状.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Column
from selfcheck.metrics import tickets as ticket_metrics
from selfcheck.metrics import visits as visit_metrics
from selfcheck.metrics.base import STATUS_MISSED, Measure, Metric
from selfcheck.metrics.catalogue import SLA_CLOCK_ZH
from selfcheck.period import Period
from selfcheck.schema import CHANNEL_ZH, CHANNELS, LEVEL_ZH, LEVELS
from selfcheck.section import Section
from selfcheck.sections.common import METRIC_COLUMNS as COMMON_METRIC_COLUMNS
from selfcheck.sections.common import (
    compute_with_history,
    metric_frame,
    metric_rows,
)

SECTION_ID = "process"

CHANNEL_IDS = ticket_metrics.CHANNEL_IDS
LEVEL_IDS = ticket_metrics.LEVEL_IDS
AGE_IDS = ticket_metrics.AGE_IDS
AGE_BUCKETS = ticket_metrics.AGE_BUCKETS
SLA_IDS = tuple(f"tickets.sla_rate.{lv}" for lv in LEVELS)
CATEGORY_PREFIX = "tickets.total.category:"
TOP_CATEGORIES = 10
NO_TICKETS = "本期无工单"

INTAKE_IDS = (
    "tickets.bot_resolution_rate",
    "tickets.transfer_rate",
    "tickets.repeat_contact_rate",
)
HANDLING_IDS = (
    "tickets.first_response_median_minutes",
    "tickets.resolution_median_hours",
    "tickets.handoffs_mean",
    "tickets.reopen_rate",
    "tickets.escalation_rate",
)
DELIVERY_IDS = (
    "visits.node_completion_rate",
    "visits.acceptance_rate",
    "visits.dissatisfied_rate",
    "visits.extra_fee_complaint_rate",
)
ARCHIVE_IDS = ("tickets.archive_late_rate", "visits.archive_late_rate")

# Every id of the section except the categories (which vary from quarter to quarter).
TICKET_IDS = (
    "tickets.total",
    *CHANNEL_IDS,
    *LEVEL_IDS,
    *INTAKE_IDS,
    *SLA_IDS,
    *HANDLING_IDS,
    "tickets.backlog",
    *AGE_IDS,
    "tickets.archive_late_rate",
)
VISIT_IDS = (*DELIVERY_IDS, "visits.archive_late_rate")

# Labels where the catalogue's name alone would be ambiguous inside this section.
LABELS = {
    "tickets.sla_rate.L1": "L1工单时效达标率",
    "tickets.sla_rate.L2": "L2工单时效达标率",
    "tickets.sla_rate.L3": "L3工单时效达标率",
    "tickets.repeat_contact_rate": "跨渠道重复来访率",
    "tickets.archive_late_rate": "工单归档超时率",
    "visits.archive_late_rate": "现场服务归档超时率",
    "visits.dissatisfied_rate": "服务效果不满意率",
}


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


# -- computation --------------------------------------------------------------------------


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    th, cal = sec.config.thresholds, sec.config.calendar
    ti = ticket_metrics.tickets(sec.data("tickets", period), th, cal, period)
    vi = visit_metrics.visits(sec.data("visits", period), th)
    out: dict[str, Measure] = {k: ti[k] for k in TICKET_IDS}
    out.update({k: v for k, v in ti.items() if k.startswith(CATEGORY_PREFIX)})
    out.update({k: vi[k] for k in VISIT_IDS})
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Compute every metric of the section (with QoQ and YoY) and keep them in the result."""
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


# -- helpers --------------------------------------------------------------------------------


def _m(sec: Section, metric_id: str) -> Metric:
    return sec.metric(metric_id)


def _labelled(m: Metric) -> Metric:
    """The metric with the label this section shows (for tables and sentences only)."""
    label = LABELS.get(m.metric_id)
    return m if label is None else replace(m, name=label)


def _pick(sec: Section, ids: Sequence[str]) -> list[Metric]:
    return [_labelled(_m(sec, i)) for i in ids]


def _changes(m: Metric) -> str:
    """``较上季度上升1.2个百分点，较上年同期下降0.3个百分点`` ('' without history)."""
    parts = [fmt.change_phrase(m), fmt.change_phrase(m, versus="上年同期")]
    if parts == ["与上季度持平", "与上年同期持平"]:
        return "与上季度和上年同期均持平"
    return "，".join(p for p in parts if p)


def _clause(m: Metric, *, label: str | None = None, changes: bool = True, detail: str = "") -> str:
    """``重开率为2.6%，达到≤5.0%的目标，较上季度下降0.4个百分点``; 无数据 with its reason.

    ``detail`` goes in brackets right after the value (``（197单中已签署197单）``).
    """
    name = label or m.name
    if not m.has_value:
        return f"{name}无数据（{m.reason or '无可计算的记录'}）"
    parts = [f"{name}为{fmt.value(m.value, m.unit)}" + (f"（{detail}）" if detail else "")]
    status = fmt.status_phrase(m)
    if status:
        parts.append(status)
    if changes:
        change = _changes(m)
        if change:
            parts.append(change)
    return "，".join(parts)


def _count(v: float | None) -> str:
    return fmt.value(v, "count")


def _duration(hours: float) -> str:
    """A limit in hours as written in a standard: ``2小时``, ``1.5小时``, ``30分钟``."""
    h = float(hours)
    if h < 1 and (h * 60).is_integer():
        return f"{fmt.number(h * 60, 0)}分钟"
    return f"{fmt.number(h, 2).rstrip('0').rstrip('.')}小时"


_ZH_DIGITS = "零一二三四五六七八九十"


def _zh(n: int) -> str:
    """Small counts in Chinese numerals (``前三位``); 11 and above in digits."""
    return _ZH_DIGITS[n] if 0 <= n <= 10 else fmt.number(n, 0)


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole == 0 or math.isnan(part) or math.isnan(whole):
        return None
    return float(part) / float(whole)


def _pp_change(now: float | None, before: float | None) -> str:
    """``上升1.2个百分点`` / ``下降0.4个百分点`` / ``持平`` of two shares."""
    if now is None or before is None:
        return ""
    d = now - before
    if round(abs(d) * 100, 1) == 0:
        return "持平"
    return f"{'上升' if d > 0 else '下降'}{fmt.delta(abs(d), 'rate').lstrip('+')}"


def _count_change(now: float, before: float | None, unit: str = "件") -> str:
    if before is None or math.isnan(before):
        return ""
    d = now - before
    if d == 0:
        return "与上季度末持平"
    word = "增加" if d > 0 else "减少"
    return f"较上季度末（{_count(before)}{unit}）{word}{_count(abs(d))}{unit}"


# The columns of common.METRIC_COLUMNS with more room for figures and status, so that
# 100.0%, ≤10.0%, 无标准 and 首次响应时长中位数 do not wrap at the report's width.
METRIC_COLUMNS = tuple(
    replace(c, width=w)
    for c, w in zip(COMMON_METRIC_COLUMNS, (0.25, 0.13, 0.14, 0.10, 0.19, 0.19), strict=True)
)


def metric_table(sec: Section, caption: str, metrics: Sequence[Metric]) -> None:
    """A metric table (as common.metric_table) whose note gives each reason for missing
    figures once."""
    reasons: dict[str, list[str]] = {}
    for m in metrics:
        if not m.has_value and m.reason:
            reasons.setdefault(m.reason, []).append(m.name)
    note = None
    if reasons:
        missing = sum(len(v) for v in reasons.values())
        if len(reasons) == 1 and missing == len(metrics):
            note = f"注：以上指标均无数据（{next(iter(reasons))}）。"
        else:
            note = (
                "注："
                + "；".join(f"{'、'.join(names)}无数据（{r}）" for r, names in reasons.items())
                + "。"
            )
    sec.table(caption, METRIC_COLUMNS, metric_rows(metrics), note=note)


def _no_data_sentence(reason: str, what: str) -> str:
    """``本季度未提供工单数据 (tickets)，……无法计算。`` / ``本季度无工单数据（样本为0），……``."""
    if reason.startswith("未提供"):
        return f"本季度{reason}，{what}无法计算。"
    if reason == NO_TICKETS:
        return f"本季度未受理工单，{what}无法计算。"
    return f"本季度无工单数据（{reason}），{what}无法计算。"


def _no_tickets(sec: Section) -> str | None:
    """The reason there are no tickets to describe, or None when there are."""
    total = _m(sec, "tickets.total")
    if not total.has_value:
        return total.reason or "未提供工单数据"
    if total.value == 0:
        return NO_TICKETS
    return None


# -- overview -----------------------------------------------------------------------------


def overview(sec: Section) -> None:
    """The section's opening paragraph: what was measured and what falls short."""
    metrics = [_labelled(m) for m in sec.result.metrics]
    with_target = [m for m in metrics if m.target is not None and m.has_value]
    no_data = [m for m in metrics if m.target is not None and not m.has_value]
    missed = [m for m in with_target if m.status == STATUS_MISSED]
    total = _m(sec, "tickets.total")
    intro = (
        f"本季度（{sec.period.range_zh}）服务流程运行效能按受理、处理、交付、归档四个环节开展自查"
    )
    covered = []
    if total.has_value and total.value:
        covered.append(f"工单{_count(total.value)}件")
    completed = _m(sec, "visits.archive_late_rate").denominator
    if completed:
        covered.append(f"已完成的现场服务单{_count(completed)}单")
    if covered:
        intro += "，覆盖" + "、".join(covered)
    text = intro + "。"
    if not with_target:
        reasons = []
        no_tickets = _no_tickets(sec)
        if no_tickets is not None:
            reasons.append("本季度未受理工单" if no_tickets == NO_TICKETS else no_tickets)
        visit_reason = _m(sec, VISIT_IDS[0]).reason or ""
        if visit_reason.startswith("未提供"):
            reasons.append(visit_reason)
        if reasons:
            text += f"因{'、'.join(reasons)}，设有目标的流程指标均无法计算，详见各环节说明。"
        else:
            text += "设有目标的流程指标均无法计算，原因见各环节说明。"
        sec.narrative("overview", text)
        return
    counted = len(with_target) + len(no_data)
    if not missed and not no_data:
        text += f"设有目标的流程指标共{counted}项，均达到目标。"
    else:
        text += (
            f"设有目标的流程指标共{counted}项，其中达标{len(with_target) - len(missed)}项、"
            f"未达标{len(missed)}项"
        )
        if no_data:
            text += f"、因数据缺失无法评价{len(no_data)}项"
        text += "。"
    if missed:
        text += "未达标的指标为：" + "；".join(_clause(m) for m in missed) + "。"
    elif no_data:
        text += "有数据的流程指标均达到目标。"
    sec.narrative("overview", text)


# -- intake ---------------------------------------------------------------------------------


def _channel_rows(sec: Section) -> list[dict]:
    """Per channel: count, share, last quarter's share, change (None where unknown)."""
    total = _m(sec, "tickets.total")
    rows = []
    for c, metric_id in zip(CHANNELS, CHANNEL_IDS, strict=True):
        m = _m(sec, metric_id)
        share = _share(m.value, total.value)
        prev = _share(m.previous, total.previous)
        rows.append(
            {
                "key": c,
                "label": CHANNEL_ZH[c],
                "count": m.value,
                "share": share,
                "previous": prev,
                "delta": None if share is None or prev is None else share - prev,
            }
        )
    return rows


def intake(sec: Section) -> None:
    sec.heading("服务受理环节")
    reason = _no_tickets(sec)
    if reason is not None:
        sec.narrative("intake", _no_data_sentence(reason, "受理渠道构成及受理环节指标"))
        metric_table(sec, "受理环节主要指标", _pick(sec, INTAKE_IDS))
        return
    total = _m(sec, "tickets.total")
    text = f"本季度共受理工单{_count(total.value)}件"
    change = _count_change_total(total)
    if change:
        text += f"，{change}"
    text += "。"
    channels_known = all(_m(sec, i).has_value for i in CHANNEL_IDS)
    rows = _channel_rows(sec) if channels_known else []
    if channels_known:
        used = [r for r in rows if r["count"]]
        ranked = sorted(used, key=lambda r: -r["count"])
        top = ranked[:3]
        text += f"工单来自{_zh(len(used))}个受理渠道，"
        text += (
            "、".join(
                f"{r['label']}渠道{_count(r['count'])}件（占{fmt.percent(r['share'])}）"
                for r in top
            )
            + f"居前{_zh(len(top))}位"
        )
        if len(top) > 1:
            text += f"，合计占{fmt.percent(sum(r['share'] for r in top))}"
        text += "。"
        moved = [r for r in rows if r["delta"] is not None and round(abs(r["delta"]) * 100, 1) > 0]
        if moved:
            up = max(moved, key=lambda r: r["delta"])
            down = min(moved, key=lambda r: r["delta"])
            bits = []
            if up["delta"] > 0:
                bits.append(
                    f"{up['label']}渠道占比上升最多（{_pp_change(up['share'], up['previous'])}）"
                )
            if down["delta"] < 0:
                bits.append(
                    f"{down['label']}渠道占比下降最多"
                    f"（{_pp_change(down['share'], down['previous'])}）"
                )
            if bits:
                text += "与上季度相比，" + "，".join(bits) + "。"
        elif any(r["delta"] is not None for r in rows):
            text += "各渠道占比与上季度基本持平。"
    else:
        reason = next(_m(sec, i).reason for i in CHANNEL_IDS if not _m(sec, i).has_value)
        text += f"工单数据无法区分受理渠道（{reason}），渠道构成无法分析。"
    bot, transfer, repeat = (_labelled(_m(sec, i)) for i in INTAKE_IDS)
    flow = []
    flow.append(_clause(bot, label="智能客服解决率"))
    flow.append(_clause(transfer, label="转人工率"))
    text += "；".join(flow) + "。"
    window = fmt.number(sec.config.thresholds.repeat_window_days, 0)
    if repeat.has_value:
        text += (
            f"同一客户{window}天内经任一渠道再次来访的工单{_count(repeat.numerator)}件，"
            f"{_clause(repeat)}。"
        )
    else:
        text += _clause(repeat) + "。"
    sec.narrative("intake", text)
    if rows:
        _channel_table(sec, rows, total)
        _channel_chart(sec, rows)
    metric_table(sec, "受理环节主要指标", _pick(sec, ("tickets.total", *INTAKE_IDS)))
    categories(sec)


def _count_change_total(total: Metric) -> str:
    if total.previous is None or not total.has_value:
        return ""
    prev = float(total.previous)
    if prev == 0:
        return ""
    d = float(total.value) - prev  # type: ignore[arg-type]
    if d == 0:
        return "与上季度持平"
    word = "增加" if d > 0 else "减少"
    return f"较上季度{word}{_count(abs(d))}件（{'增长' if d > 0 else '下降'}{fmt.percent(abs(d) / prev)}）"


def _channel_table(sec: Section, rows: list[dict], total: Metric) -> None:
    table_rows = [(r["label"], r["count"], r["share"], r["previous"], r["delta"]) for r in rows]
    table_rows.append(
        (
            "合计",
            total.value,
            1.0 if total.value else None,
            1.0 if total.previous else None,
            None,
        )
    )
    note = "注：占比为该渠道工单占本季度工单总量的比例；占比变化以百分点计。"
    if all(r["previous"] is None for r in rows):
        note += "上季度无工单数据，不作比较。"
    sec.table(
        "工单受理渠道构成",
        (
            Column("受理渠道", width=0.24),
            Column("工单量（件）", "int", width=0.17),
            Column("占比", "rate", width=0.17),
            Column("上季度占比", "rate", width=0.19),
            Column("占比变化", "pp", width=0.23),
        ),
        table_rows,
        note=note,
    )


def _channel_chart(sec: Section, rows: list[dict]) -> None:
    shown = [r for r in rows if r["count"] or r["previous"]]
    shown.sort(key=lambda r: -(r["share"] or 0.0))
    if not shown:
        return
    has_prev = any(r["previous"] is not None for r in shown)
    height = max(2.4, 0.38 * len(shown) + 0.9)
    fig, ax = charts.figure(height_in=height)
    ys = list(range(len(shown)))
    now = [(r["share"] or 0.0) * 100 for r in shown]
    bar_h = 0.38 if has_prev else 0.6
    offset = bar_h / 2 if has_prev else 0.0
    bars = ax.barh(
        [y - offset for y in ys], now, height=bar_h, color=charts.PRIMARY, label="本季度"
    )
    if has_prev:
        before = [(r["previous"] or 0.0) * 100 for r in shown]
        ax.barh(
            [y + offset for y in ys], before, height=bar_h, color=charts.SECONDARY, label="上季度"
        )
    labels = []
    for r, v in zip(shown, now, strict=True):
        text = f"{v:.1f}%"
        if r["delta"] is not None:
            d = r["delta"] * 100
            text += "（持平）" if round(d, 1) == 0 else f"（{d:+.1f}）"
        labels.append(text)
    ax.bar_label(bars, labels=labels, fontsize=7.5, padding=3)
    ax.set_yticks(ys, [r["label"] for r in shown])
    ax.invert_yaxis()
    top = max([*now, *[(r["previous"] or 0.0) * 100 for r in shown]])
    ax.set_xlim(0, top * 1.32 + 1)
    ax.set_xlabel("占工单总量（%）")
    ax.grid(axis="y", visible=False)
    if has_prev:
        ax.legend(loc="lower right", frameon=False)
    note = "注：数值为本季度占比"
    if has_prev:
        note += "，括号内为较上季度的变化（百分点）；浅色条为上季度占比"
    sec.figure(fig, "各受理渠道工单占比及较上季度变化", note=note + "。")


def _category_rows(sec: Section) -> list[dict]:
    total = _m(sec, "tickets.total")
    cats = [m for m in sec.result.metrics if m.metric_id.startswith(CATEGORY_PREFIX)]
    cats.sort(key=lambda m: (-(m.value or 0.0), m.metric_id))
    known_before = total.previous is not None and any(m.previous is not None for m in cats)
    rows = []
    for m in cats:
        share = _share(m.value, total.value)
        before = None
        if known_before:
            before = _share(0.0 if m.previous is None else m.previous, total.previous)
        rows.append(
            {
                "label": m.metric_id[len(CATEGORY_PREFIX) :],
                "count": m.value,
                "share": share,
                "delta": None if share is None or before is None else share - before,
            }
        )
    return rows


def categories(sec: Section) -> None:
    """The top problem categories (part of the intake subsection)."""
    if _no_tickets(sec) is not None:
        return
    rows = _category_rows(sec)
    if not rows:
        frame = sec.data("tickets")
        if frame is not None and "category" not in frame.columns:
            text = "工单数据缺少“问题类别”列（category），无法按问题类别分析受理需求。"
        else:
            text = "本季度工单均未填写问题类别，无法按问题类别分析受理需求。"
        sec.narrative("categories", text)
        return
    top = rows[:TOP_CATEGORIES]
    total = _m(sec, "tickets.total")
    lead = top[:3]
    text = "从问题类别看，" + "、".join(
        f"{r['label']}（{_count(r['count'])}件，占{fmt.percent(r['share'])}）" for r in lead
    )
    text += f"居前{_zh(len(lead))}位"
    if len(lead) > 1:
        text += f"，合计占工单总量的{fmt.percent(sum(r['share'] for r in lead))}"
    text += "。"
    moved = [r for r in top if r["delta"] is not None and round(abs(r["delta"]) * 100, 1) > 0]
    if moved:
        up = max(moved, key=lambda r: r["delta"])
        if up["delta"] > 0:
            text += (
                f"与上季度相比，{up['label']}类工单占比上升最多"
                f"（上升{fmt.delta(up['delta'], 'rate').lstrip('+')}）。"
            )
    unlabelled = total.value - sum(r["count"] for r in rows) if total.has_value else 0
    if unlabelled and unlabelled > 0:
        text += f"另有{_count(unlabelled)}件工单未填写问题类别。"
    sec.narrative("categories", text)
    caption = "工单问题类别分布" + (
        f"（前{TOP_CATEGORIES}位）" if len(rows) > TOP_CATEGORIES else ""
    )
    note = "注：占比为该类别工单占本季度工单总量的比例；占比变化以百分点计。"
    if len(rows) > TOP_CATEGORIES:
        rest = sum(r["count"] for r in rows[TOP_CATEGORIES:])
        note += f"其余{len(rows) - TOP_CATEGORIES}个类别合计{_count(rest)}件，未列出。"
    sec.table(
        caption,
        (
            Column("序号", "int", width=0.1),
            Column("问题类别", width=0.34),
            Column("工单量（件）", "int", width=0.18),
            Column("占比", "rate", width=0.16),
            Column("占比较上季度", "pp", width=0.22),
        ),
        [(i, r["label"], r["count"], r["share"], r["delta"]) for i, r in enumerate(top, 1)],
        note=note,
    )


# -- handling -------------------------------------------------------------------------------


def _sla_limits(sec: Section) -> dict[str, str]:
    h = sec.config.thresholds.sla_hours
    return {
        "L1": f"{_duration(h.L1)}内解决",
        "L2": f"{_duration(h.L2)}内解决",
        "L3": f"{_duration(h.L3)}内给出方案",
    }


def _clock_phrase(sec: Section) -> str:
    th = sec.config.thresholds
    if th.sla_clock == "business":
        cal = sec.config.params.calendar
        return (
            f"时效计时方式为“{SLA_CLOCK_ZH['business']}”（工作日"
            f"{cal.work_start:%H:%M}—{cal.work_end:%H:%M}，含调休上班日，节假日和非工作时段不计）"
        )
    return f"时效计时方式为“{SLA_CLOCK_ZH['calendar']}”（夜间、周末和节假日均计入）"


def handling(sec: Section) -> None:
    sec.heading("服务处理环节")
    reason = _no_tickets(sec)
    if reason is not None:
        sec.narrative("sla", _no_data_sentence(reason, "分级处理时效及处理环节指标"))
        metric_table(sec, "处理环节主要指标", _pick(sec, (*SLA_IDS, *HANDLING_IDS)))
        return
    sla(sec)
    efficiency(sec)
    backlog(sec)


def sla(sec: Section) -> None:
    limits = _sla_limits(sec)
    text = (
        "工单实行分级处理："
        + "，".join(f"{lv}（{LEVEL_ZH[lv]}问题）{limits[lv]}" for lv in LEVELS)
        + f"；{_clock_phrase(sec)}。"
    )
    metrics = [_m(sec, i) for i in SLA_IDS]
    if not any(m.has_value for m in metrics):
        reason = metrics[0].reason or "无可判定的工单"
        text += f"本季度分级时效达标率无法计算（{reason}）。"
        sec.narrative("sla", text)
        return
    parts = []
    for lv, m in zip(LEVELS, metrics, strict=True):
        if not m.has_value:
            parts.append(f"{lv}工单无已判定达标或超时的记录")
            continue
        met = m.numerator or 0.0
        breached = (m.denominator or 0.0) - met
        s = (
            f"{lv}工单时效达标率{fmt.value(m.value, 'rate')}"
            f"（按时办结{_count(met)}件、超时{_count(breached)}件）"
        )
        status = fmt.status_phrase(m)
        if status:
            s += f"，{status}"
        change = _changes(m)
        if change:
            s += f"，{change}"
        parts.append(s)
    text += "本季度" + "；".join(parts) + "。"
    missed = [lv for lv, m in zip(LEVELS, metrics, strict=True) if m.status == STATUS_MISSED]
    if missed:
        text += f"{'、'.join(missed)}工单时效未达到目标，需重点关注。"
    elif all(m.has_value and m.target is not None for m in metrics):
        text += "三个级别的时效达标率均达到目标。"
    pending = _pending(sec)
    if pending:
        text += f"另有{_count(pending)}件工单至期末尚未办结且未超过时限，不计入达标率。"
    sec.narrative("sla", text)
    _sla_table(sec, metrics)
    _sla_chart(sec, metrics)


def _pending(sec: Section) -> float:
    """Tickets at a level neither met nor breached (open with the limit not yet passed)."""
    out = 0.0
    for lv in LEVELS:
        level, rate = _m(sec, f"tickets.total.level:{lv}"), _m(sec, f"tickets.sla_rate.{lv}")
        if level.has_value and rate.denominator is not None:
            out += max(float(level.value) - float(rate.denominator), 0.0)  # type: ignore[arg-type]
    return out


def _sla_table(sec: Section, metrics: list[Metric]) -> None:
    h = sec.config.thresholds.sla_hours
    limits = {lv: _duration(getattr(h, lv)) for lv in LEVELS}
    rows = []
    for lv, m in zip(LEVELS, metrics, strict=True):
        met = m.numerator if m.denominator else None
        breached = (m.denominator - m.numerator) if m.denominator else None  # type: ignore[operator]
        rows.append(
            (
                f"{lv} {LEVEL_ZH[lv]}",
                limits[lv],
                met,
                breached,
                m.value,
                fmt.target(m.target, m.unit),
                m.status,
                m.delta,
            )
        )
    missing = [m for m in metrics if not m.has_value and m.reason]
    note = (
        "注：时限L1、L2为解决时限，L3为给出方案时限；按时、超时单位为件；"
        + _clock_phrase(sec)
        + "；至期末未办结且未超过时限的工单不计入达标率。"
    )
    if missing:
        note += "；".join(f"{m.metric_id.rsplit('.', 1)[1]}无数据（{m.reason}）" for m in missing)
        note += "。"
    sec.table(
        "工单分级处理时效达标情况",
        (
            Column("级别", width=0.13),
            Column("时限", width=0.12),
            Column("按时", "int", width=0.09),
            Column("超时", "int", width=0.09),
            Column("达标率", "rate", width=0.12),
            Column("目标", width=0.13),
            Column("状态", "status", width=0.1),
            Column("较上季度", "pp", width=0.22),
        ),
        rows,
        note=note,
    )


def _sla_chart(sec: Section, metrics: list[Metric]) -> None:
    shown = [(lv, m) for lv, m in zip(LEVELS, metrics, strict=True) if m.has_value]
    if not shown:
        return
    labels = [f"{lv}（{LEVEL_ZH[lv]}）" for lv, _ in shown]
    values = [float(m.value) * 100 for _, m in shown]  # type: ignore[arg-type]
    targets = [None if m.target is None else m.target.value * 100 for _, m in shown]
    short = [m.status == STATUS_MISSED for _, m in shown]
    fig, ax = charts.figure(height_in=2.9)
    bars = ax.bar(labels, values, color=charts.bar_colors(short), width=0.42)
    for i, t in enumerate(targets):
        if t is not None:
            ax.hlines(
                t,
                i - 0.28,
                i + 0.28,
                colors=charts.NEUTRAL,
                linestyles="--",
                linewidth=1.2,
                zorder=3,
            )
            symbol = shown[i][1].target.symbol()  # type: ignore[union-attr]
            ax.annotate(
                f"目标{symbol}{t:.1f}%", (i + 0.3, t), fontsize=7, va="center", color="#595959"
            )
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    low = min([*values, *[t for t in targets if t is not None]])
    bottom = max(0.0, math.floor((low - 10) / 10) * 10)
    ax.set_ylim(bottom, 106)
    ax.set_yticks([y for y in range(int(bottom), 101, 10 if 100 - bottom > 30 else 5)])
    ax.set_ylabel("时效达标率（%）")
    ax.set_xlim(-0.5, len(labels) - 0.5 + 0.25)
    note = "注：虚线为目标值，红色为未达到目标的级别。"
    if bottom > 0:
        note = f"注：纵轴自{bottom:.0f}%起；虚线为目标值，红色为未达到目标的级别。"
    sec.figure(fig, "工单分级处理时效达标率与目标", note=note)


def efficiency(sec: Section) -> None:
    """Handling speed and flow: medians, handoffs, reopen, escalation."""
    first, resolution, handoffs, reopen, escalation = (_labelled(_m(sec, i)) for i in HANDLING_IDS)
    parts = []
    if first.has_value or resolution.has_value:
        speed = []
        if first.has_value:
            speed.append(f"首次响应时长中位数为{fmt.value(first.value, first.unit)}")
        if resolution.has_value:
            speed.append(f"解决时长中位数为{fmt.value(resolution.value, resolution.unit)}")
        s = "，".join(speed)
        change = fmt.change_phrase(resolution) if resolution.has_value else ""
        if change:
            s += f"，解决时长{change}"
        parts.append(s)
    else:
        parts.append(f"首次响应和解决时长无法计算（{first.reason or resolution.reason}）")
    if handoffs.has_value:
        s = f"工单平均流转{fmt.value(handoffs.value, handoffs.unit)}个环节"
        status = fmt.status_phrase(handoffs)
        if status:
            s += f"，{status.replace('的目标', '个的目标')}"
        change = _changes(handoffs).replace("上升", "增加").replace("下降", "减少")
        change = re.sub(r"(\d)(，|$)", r"\1个\2", change)
        if change:
            s += f"，{change}"
        parts.append(s)
    else:
        parts.append(_clause(handoffs))
    parts.append(_clause(reopen, label="重开率"))
    parts.append(_clause(escalation, label="升级率"))
    text = "本季度" + "；".join(parts) + "。"
    sec.narrative("handling", text)
    metric_table(sec, "处理环节主要指标", _pick(sec, HANDLING_IDS))


def backlog(sec: Section) -> None:
    """Tickets still open at period end, with their ageing."""
    b = _m(sec, "tickets.backlog")
    end = f"截至{fmt.date_zh(sec.period.last_day)}24时"
    if not b.has_value:
        sec.narrative("backlog", f"期末未结工单无法统计（{b.reason}）。")
        return
    total = _m(sec, "tickets.total")
    n = float(b.value)  # type: ignore[arg-type]
    if n == 0:
        text = f"{end}，本季度受理的工单均已办结（L3工单已给出方案），无积压工单"
        if b.previous:
            text += f"（上季度末为{_count(b.previous)}件）"
        sec.narrative("backlog", text + "。")
        return
    text = (
        f"{end}，本季度受理的工单中尚有{_count(n)}件未办结（L3工单以给出方案为办结），"
        f"占工单总量的{fmt.percent(_share(n, total.value))}"
    )
    change = _count_change(n, b.previous)
    if change:
        text += f"，{change}"
    text += "。"
    ages = [_m(sec, i) for i in AGE_IDS]
    if all(a.has_value for a in ages):
        over3 = sum(float(a.value) for a in ages[2:])  # type: ignore[arg-type]
        over7 = float(ages[3].value)  # type: ignore[arg-type]
        text += "按账龄分，" + "、".join(
            f"{bucket}{_count(a.value)}件"
            for bucket, a in zip(AGE_BUCKETS, ages, strict=True)
            if a.value
        )
        text += "。"
        if over7:
            text += f"超过7天的积压工单{_count(over7)}件，应逐件督办销号。"
        elif over3:
            text += f"账龄超过3天的工单{_count(over3)}件，需跟踪办结。"
        else:
            text += "积压工单账龄均在3天以内。"
    else:
        reason = next(a.reason for a in ages if not a.has_value)
        text += f"账龄无法划分（{reason}）。"
    sec.narrative("backlog", text)
    if all(a.has_value for a in ages):
        rows = [
            (bucket, a.value, _share(a.value, n), a.previous)
            for bucket, a in zip(AGE_BUCKETS, ages, strict=True)
        ]
        rows.append(("合计", n, 1.0, b.previous))
        sec.table(
            "期末未结工单账龄分布",
            (
                Column("账龄", width=0.25),
                Column("未结工单（件）", "int", width=0.25),
                Column("占未结工单", "rate", width=0.25),
                Column("上季度末（件）", "int", width=0.25),
            ),
            rows,
            note="注：账龄为季度末与受理时间之差；“1-3天”含3天，“3-7天”含7天。",
        )


# -- delivery -------------------------------------------------------------------------------


def delivery(sec: Section) -> None:
    sec.heading("服务交付环节")
    metrics = _pick(sec, DELIVERY_IDS)
    node, accept, dissatisfied, extra = metrics
    if not any(m.has_value for m in metrics):
        reason = next((m.reason for m in metrics if m.reason), "无可计算的记录")
        if reason.startswith("未提供"):
            text = f"本季度{reason}，现场服务交付指标无法计算。"
        else:
            text = f"本季度现场服务交付指标无法计算（{reason}）。"
        sec.narrative("delivery", text)
        metric_table(sec, "交付环节主要指标", metrics)
        return
    completed = _m(sec, "visits.archive_late_rate").denominator
    text = "本季度"
    if completed:
        text += f"已完成现场服务{_count(completed)}单。"
    else:
        text = ""
    pieces = []
    if node.has_value:
        s = (
            f"服务过程关键节点完成率为{fmt.value(node.value, 'rate')}"
            f"（应完成节点{_count(node.denominator)}个，已完成{_count(node.numerator)}个）"
        )
        status = fmt.status_phrase(node)
        if status:
            s += f"，{status}"
        change = _changes(node)
        if change:
            s += f"，{change}"
        pieces.append(s)
    else:
        pieces.append(_clause(node))
    for m, label, what, none, every in (
        (accept, "验收单签署率", "已签署", "均未签署", "均已签署"),
        (dissatisfied, "客户对服务效果不满意率", "不满意", "均无不满意反馈", "均不满意"),
        (extra, "额外收费投诉率", "有额外收费投诉", "均无额外收费投诉", "均有额外收费投诉"),
    ):
        detail = ""
        if m.has_value:
            detail = f"{_count(m.denominator)}单中{what}{_count(m.numerator)}单"
            if m.numerator == 0:
                detail = f"{_count(m.denominator)}单{none}"
            elif m.numerator == m.denominator:
                detail = f"{_count(m.denominator)}单{every}"
        pieces.append(_clause(m, label=label, detail=detail))
    text += "；".join(pieces) + "。"
    missed = [m for m in metrics if m.status == STATUS_MISSED]
    if not missed and all(m.has_value for m in metrics):
        text += "交付环节各项指标均达到考核标准。"
    sec.narrative("delivery", text)
    metric_table(sec, "交付环节主要指标", metrics)


# -- archiving ------------------------------------------------------------------------------


def archiving(sec: Section) -> None:
    sec.heading("服务归档环节")
    metrics = _pick(sec, ARCHIVE_IDS)
    tick, visit = metrics
    limit = _duration(sec.config.thresholds.archive_limit_hours)
    text = (
        f"按规定，工单应在关闭（未关闭的以解决时间为准）后{limit}内归档，"
        f"现场服务单应在服务完成后{limit}内归档。"
    )
    pieces = []
    if tick.has_value:
        pieces.append(
            f"本季度已关闭（或已解决）且可判定的工单{_count(tick.denominator)}件中，"
            f"归档超时或逾期未归档{_count(tick.numerator)}件，" + _clause(tick)
        )
    else:
        pieces.append(_clause(tick))
    if visit.has_value:
        pieces.append(
            f"已完成的现场服务单{_count(visit.denominator)}单中，"
            f"归档超时或未归档{_count(visit.numerator)}单，" + _clause(visit)
        )
    else:
        pieces.append(_clause(visit))
    text += "；".join(pieces) + "。"
    sec.narrative("archive", text)
    metric_table(sec, "归档管理指标", metrics)
