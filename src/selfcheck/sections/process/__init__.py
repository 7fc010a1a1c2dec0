"""Section 服务流程运行效能: intake, handling, delivery and archiving.

Intake: channel mix (share of each channel and its change on last quarter), bot
resolution, transfer to a human, repeat contacts across channels, top problem
categories. Handling: SLA attainment per level (met / breached, targets, the clock
used), first-response and resolution medians, handoffs, reopen, escalation, backlog at
period end with its ageing. Delivery: on-site key nodes, acceptance, dissatisfaction,
extra-fee complaints. Archiving: tickets and on-site service records.

The notebook ``03_process.ipynb`` calls one function per report block: ``compute`` once,
then the paragraphs (named after their slot in ``<period>_texts.yaml``), tables
(``*_table``) and charts (``*_chart``) in report order; the headings are the notebook's.
The wording is in :mod:`.text`, the charts in :mod:`.charts`, the figures in
:mod:`selfcheck.metrics`.

The response-speed metrics of visits (confirmation, arrival, ETA notice, compensation)
belong to the section 服务响应速度, ``tickets.peak_ratio`` to 服务体系建设现状.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column
from selfcheck.metrics import tickets as ticket_metrics
from selfcheck.metrics import visits as visit_metrics
from selfcheck.metrics.base import Measure, Metric
from selfcheck.period import Period
from selfcheck.schema import LEVEL_ZH, LEVELS
from selfcheck.section import Section
from selfcheck.sections import phrases
from selfcheck.sections.common import compute_with_history, metric_frame, say
from selfcheck.sections.common import metric_table as common_metric_table
from selfcheck.sections.options import keep_columns
from selfcheck.sections.process import charts as process_charts
from selfcheck.sections.process import text
from selfcheck.sections.process.terms import (
    AGE_BUCKETS,
    AGE_IDS,
    ARCHIVE_IDS,
    CATEGORY_PREFIX,
    DELIVERY_IDS,
    HANDLING_IDS,
    INTAKE_IDS,
    SECTION_ID,
    SLA_IDS,
    TICKET_IDS,
    VISIT_IDS,
    _category_rows,
    _channel_rows,
    _clock_phrase,
    _duration,
    _no_tickets,
    _pending,
    _pick,
)

TOP_CATEGORIES = 10
INTAKE_TABLE = ("tickets.total", *INTAKE_IDS)

# The columns of common.METRIC_COLUMNS with more room for figures and status, so that
# 100.0%, ≤10.0%, 无标准 and 首次响应时长中位数 do not wrap at the report's width.
METRIC_WIDTHS = (0.25, 0.13, 0.14, 0.10, 0.19, 0.19)


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


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


# -- block helpers ------------------------------------------------------------------------


def metric_table(sec: Section, caption: str, metrics: Sequence[Metric]) -> None:
    """A metric table (as common.metric_table, wider figure columns) whose note gives each
    reason for missing figures once."""
    common_metric_table(sec, caption, metrics, widths=METRIC_WIDTHS, group_reasons=True)


# -- overview and intake --------------------------------------------------------------------


def overview(sec: Section) -> None:
    """The section's opening paragraph: what was measured and what falls short."""
    say(sec, "overview", text.overview(sec))


def intake(sec: Section) -> None:
    """Tickets received, the channels they came by, bot resolution, transfer, repeats."""
    say(sec, "intake", text.intake(sec, _channel_rows(sec)))


def channel_table(
    sec: Section, *, caption: str = "工单受理渠道构成", columns: Sequence[str] | None = None
) -> None:
    """Per channel: tickets, share, last quarter's share and the change (when the
    channels are known)."""
    rows = _channel_rows(sec)
    if _no_tickets(sec) is not None or not rows:
        return
    total = phrases.metric(sec, "tickets.total")
    table_rows = [(r["label"], r["count"], r["share"], r["previous"], r["delta"]) for r in rows]
    table_rows.append(
        ("合计", total.value, 1.0 if total.value else None, 1.0 if total.previous else None, None)
    )
    note = "注：占比为该渠道工单占本季度工单总量的比例；占比变化以百分点计。"
    if all(r["previous"] is None for r in rows):
        note += "上季度无工单数据，不作比较。"
    spec = (
        Column("受理渠道", width=0.24),
        Column("工单量（件）", "int", width=0.17),
        Column("占比", "rate", width=0.17),
        Column("上季度占比", "rate", width=0.19),
        Column("占比变化", "pp", width=0.23),
    )
    keep_columns(sec, caption, spec, table_rows, columns, note)


def channel_chart(
    sec: Section,
    *,
    caption: str = "各受理渠道工单占比及较上季度变化",
    height_in: float | None = None,
) -> None:
    """Share of each channel against last quarter's (``height_in`` None: by channels)."""
    rows = _channel_rows(sec)
    if _no_tickets(sec) is not None or not rows:
        return
    process_charts.channel_chart(sec, rows, caption=caption, height_in=height_in)


def intake_table(
    sec: Section, *, caption: str = "受理环节主要指标", ids: Sequence[str] = INTAKE_TABLE
) -> None:
    """The intake metrics (without tickets, the total is left out: it has no figure)."""
    if _no_tickets(sec) is not None:
        ids = [i for i in ids if i != "tickets.total"]
    metric_table(sec, caption, _pick(sec, ids))


def categories(sec: Section, *, top: int = TOP_CATEGORIES) -> None:
    """The leading problem categories (and their rise on last quarter)."""
    say(sec, "categories", text.categories(sec, _category_rows(sec), top))


def category_table(
    sec: Section, *, top: int = TOP_CATEGORIES, columns: Sequence[str] | None = None
) -> None:
    """The ``top`` problem categories by tickets, with share and change; the rest summed
    in the note."""
    rows = _category_rows(sec)
    if _no_tickets(sec) is not None or not rows:
        return
    caption = "工单问题类别分布" + (f"（前{top}位）" if len(rows) > top else "")
    note = "注：占比为该类别工单占本季度工单总量的比例；占比变化以百分点计。"
    if len(rows) > top:
        rest = sum(r["count"] for r in rows[top:])
        note += f"其余{len(rows) - top}个类别合计{phrases.count(rest)}件，未列出。"
    spec = (
        Column("序号", "int", width=0.1),
        Column("问题类别", width=0.34),
        Column("工单量（件）", "int", width=0.18),
        Column("占比", "rate", width=0.16),
        Column("占比较上季度", "pp", width=0.22),
    )
    body = [
        (i, r["label"], r["count"], r["share"], r["delta"]) for i, r in enumerate(rows[:top], 1)
    ]
    keep_columns(sec, caption, spec, body, columns, note)


# -- handling -----------------------------------------------------------------------------


def sla(sec: Section) -> None:
    """The SLA levels, the clock, attainment per level (without tickets: why not)."""
    say(sec, "sla", text.sla(sec, _pending(sec)))


def _sla_metrics(sec: Section) -> list[Metric] | None:
    metrics = [phrases.metric(sec, i) for i in SLA_IDS]
    if _no_tickets(sec) is not None or not any(m.has_value for m in metrics):
        return None
    return metrics


def sla_table(sec: Section, *, caption: str = "工单分级处理时效达标情况", columns=None) -> None:
    """Per level: limit, met, breached, rate, target, status and change."""
    metrics = _sla_metrics(sec)
    if metrics is None:
        return
    h = sec.config.thresholds.sla_hours
    rows = []
    for lv, m in zip(LEVELS, metrics, strict=True):
        met = m.numerator if m.denominator else None
        breached = (m.denominator - m.numerator) if m.denominator else None  # type: ignore[operator]
        rows.append(
            (
                f"{lv} {LEVEL_ZH[lv]}",
                _duration(getattr(h, lv)),
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
    spec = (
        Column("级别", width=0.13),
        Column("时限", width=0.12),
        Column("按时", "int", width=0.09),
        Column("超时", "int", width=0.09),
        Column("达标率", "rate", width=0.12),
        Column("目标", width=0.13),
        Column("状态", "status", width=0.1),
        Column("较上季度", "pp", width=0.22),
    )
    keep_columns(sec, caption, spec, rows, columns, note)


def sla_chart(
    sec: Section, *, caption: str = "工单分级处理时效达标率与目标", height_in: float = 2.9
) -> None:
    """SLA attainment per level against its target."""
    metrics = _sla_metrics(sec)
    if metrics is not None:
        process_charts.sla_chart(sec, metrics, caption=caption, height_in=height_in)


def handling(sec: Section) -> None:
    """Handling speed and flow: medians, handoffs, reopen, escalation."""
    say(sec, "handling", text.handling(sec))


def handling_table(
    sec: Section, *, caption: str = "处理环节主要指标", ids: Sequence[str] = HANDLING_IDS
) -> None:
    """The handling metrics; without tickets the SLA rates lead (their table is left out)."""
    if _no_tickets(sec) is not None:
        ids = [*SLA_IDS, *ids]
    metric_table(sec, caption, _pick(sec, ids))


def backlog(sec: Section) -> None:
    """Tickets still open at period end, with their ageing."""
    say(sec, "backlog", text.backlog(sec))


def backlog_table(
    sec: Section, *, caption: str = "期末未结工单账龄分布", columns: Sequence[str] | None = None
) -> None:
    """Open tickets at period end by age, with last quarter's (when there are any)."""
    b = phrases.metric(sec, "tickets.backlog")
    ages = [phrases.metric(sec, i) for i in AGE_IDS]
    if _no_tickets(sec) is not None or not b.has_value or not b.value:
        return
    if not all(a.has_value for a in ages):
        return
    n = float(b.value)  # type: ignore[arg-type]
    rows = [
        (bucket, a.value, float(a.value) / n, a.previous)  # type: ignore[arg-type]
        for bucket, a in zip(AGE_BUCKETS, ages, strict=True)
    ]
    rows.append(("合计", n, 1.0, b.previous))
    spec = (
        Column("账龄", width=0.25),
        Column("未结工单（件）", "int", width=0.25),
        Column("占未结工单", "rate", width=0.25),
        Column("上季度末（件）", "int", width=0.25),
    )
    note = "注：账龄为季度末与受理时间之差；“1-3天”含3天，“3-7天”含7天。"
    keep_columns(sec, caption, spec, rows, columns, note)


# -- delivery and archiving -----------------------------------------------------------------


def delivery(sec: Section) -> None:
    """On-site delivery: key nodes, acceptance, dissatisfaction, extra-fee complaints."""
    say(sec, "delivery", text.delivery(sec))


def delivery_table(
    sec: Section, *, caption: str = "交付环节主要指标", ids: Sequence[str] = DELIVERY_IDS
) -> None:
    metric_table(sec, caption, _pick(sec, ids))


def archive(sec: Section) -> None:
    """Archiving of tickets and on-site service records within the limit."""
    say(sec, "archive", text.archive(sec))


def archive_table(
    sec: Section, *, caption: str = "归档管理指标", ids: Sequence[str] = ARCHIVE_IDS
) -> None:
    metric_table(sec, caption, _pick(sec, ids))
