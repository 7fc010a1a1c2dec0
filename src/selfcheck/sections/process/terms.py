"""The terms of the section 服务流程运行效能: the metrics it speaks of (ids, labels) and the
phrases its paragraphs and tables are made of."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from selfcheck import fmt
from selfcheck.metrics import tickets as ticket_metrics
from selfcheck.metrics.base import Metric
from selfcheck.metrics.catalogue import SLA_CLOCK_ZH
from selfcheck.schema import CHANNEL_ZH, CHANNELS, LEVELS
from selfcheck.section import Section
from selfcheck.sections import phrases

SECTION_ID = "process"

CHANNEL_IDS = ticket_metrics.CHANNEL_IDS
LEVEL_IDS = ticket_metrics.LEVEL_IDS
AGE_IDS = ticket_metrics.AGE_IDS
AGE_BUCKETS = ticket_metrics.AGE_BUCKETS
SLA_IDS = tuple(f"tickets.sla_rate.{lv}" for lv in LEVELS)
CATEGORY_PREFIX = "tickets.total.category:"
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


# -- helpers --------------------------------------------------------------------------------


def _labelled(m: Metric) -> Metric:
    """The metric with the label this section shows (for tables and sentences only)."""
    label = LABELS.get(m.metric_id)
    return m if label is None else replace(m, name=label)


def _pick(sec: Section, ids: Sequence[str]) -> list[Metric]:
    return [_labelled(phrases.metric(sec, i)) for i in ids]


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


def _no_data_sentence(reason: str, what: str) -> str:
    """``本季度未提供工单数据 (tickets)，……无法计算。`` / ``本季度无工单数据（样本为0），……``."""
    if reason.startswith("未提供"):
        return f"本季度{reason}，{what}无法计算。"
    if reason == NO_TICKETS:
        return f"本季度未受理工单，{what}无法计算。"
    return f"本季度无工单数据（{reason}），{what}无法计算。"


def _no_tickets(sec: Section) -> str | None:
    """The reason there are no tickets to describe, or None when there are."""
    total = phrases.metric(sec, "tickets.total")
    if not total.has_value:
        return total.reason or "未提供工单数据"
    if total.value == 0:
        return NO_TICKETS
    return None


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
    return f"较上季度{word}{phrases.count(abs(d))}件（{'增长' if d > 0 else '下降'}{fmt.percent(abs(d) / prev)}）"


# -- the figures of the tables and sentences, from the metrics ---------------------------


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a frame as dicts, NaN as None (for the sentences and tables)."""
    return [
        {k: (None if pd.isna(v) else v) for k, v in r.items()}
        for r in frame.reset_index(names="key").to_dict("records")
    ]


def _channel_rows(sec: Section) -> list[dict] | None:
    """Per channel: count, share, last quarter's share, change; None when unknown."""
    metrics = [phrases.metric(sec, i) for i in CHANNEL_IDS]
    if not all(m.has_value for m in metrics):
        return None
    total = phrases.metric(sec, "tickets.total")
    mix = ticket_metrics.mix(
        pd.Series([m.value for m in metrics], index=list(CHANNELS), dtype=float),
        total.value,
        pd.Series([m.previous for m in metrics], index=list(CHANNELS), dtype=float),
        total.previous,
    )
    mix.insert(0, "label", [CHANNEL_ZH[c] for c in CHANNELS])
    return _records(mix)


def _category_rows(sec: Section) -> list[dict]:
    """Every problem category, largest first (ties by name), with share and change."""
    cats = [m for m in sec.result.metrics if m.metric_id.startswith(CATEGORY_PREFIX)]
    cats.sort(key=lambda m: (-(m.value or 0.0), m.metric_id))
    labels = [m.metric_id[len(CATEGORY_PREFIX) :] for m in cats]
    total = phrases.metric(sec, "tickets.total")
    mix = ticket_metrics.mix(
        pd.Series([m.value for m in cats], index=labels, dtype=float),
        total.value,
        pd.Series([m.previous for m in cats], index=labels, dtype=float),
        total.previous,
        absent_as_zero=True,
    )
    mix.insert(0, "label", labels)
    return _records(mix)


def _pending(sec: Section) -> float:
    """Tickets at a level neither met nor breached (open with the limit not yet passed)."""
    levels = [phrases.metric(sec, i) for i in LEVEL_IDS]
    rates = [phrases.metric(sec, i) for i in SLA_IDS]
    return ticket_metrics.sla_pending(
        pd.Series([m.value if m.has_value else None for m in levels], index=LEVELS, dtype=float),
        pd.Series([m.denominator for m in rates], index=LEVELS, dtype=float),
    )
