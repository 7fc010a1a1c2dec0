"""The terms of the section 服务体系建设现状: the metrics it speaks of and its phrases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import Fact, FactsFile, load_facts
from selfcheck.blocks import Column
from selfcheck.metrics import peaks, people
from selfcheck.metrics import system as system_metrics
from selfcheck.metrics.base import Metric
from selfcheck.metrics.catalogue import reason_no_column, reason_no_dataset
from selfcheck.section import Section
from selfcheck.sections import phrases
from selfcheck.sections.common import shortfall_sentence

SECTION_ID = "system"

TEAM_IDS = (
    "team.headcount",
    *people.ROLE_IDS,
    "team.tenure_years_mean",
    "team.certified_rate",
    "team.multilingual_rate",
    "team.turnover_rate",
)
TRAINING_IDS = (
    "training.sessions",
    "training.hours",
    "training.person_hours",
    "training.coverage_rate",
    "training.pass_rate",
)
SYSTEM_IDS = (
    "system.incidents",
    "system.major_incidents",
    "system.mttr_minutes",
    "system.interruption_hours",
)
PEAK_IDS = ("tickets.peak_ratio",)

PEAK_FACTOR = peaks.PEAK_FACTOR  # a peak day has at least this many times the daily average
WEEKDAYS = "一二三四五六日"

FACT_COLUMNS = (
    Column("事项", "text", width=0.34),
    Column("数值/情况", "text", width=0.26),
    Column("来源", "text", width=0.40),
)


def _pp(d: float) -> str:
    """A difference of two rates in words: ``高1.2个百分点`` / ``低0.4个百分点`` / ``持平``."""
    shown = abs(d) * 100
    if round(shown, 1) == 0:
        return "持平"
    return f"{'高' if d > 0 else '低'}{fmt.number(shown, 1)}个百分点"


def _absent(reason: str | None, what: str) -> str:
    """``本季度未提供人员数据 (staff)，服务团队的规模和结构无法统计。`` (the table of
    metrics is left out: every row would be 无数据 for the same reason)."""
    if reason and reason.startswith("未提供"):
        return f"本季度{reason}，{what}无法统计。"
    return f"本季度{what}无法统计（{reason or '无数据'}）。"


def _day_zh(day: pd.Timestamp) -> str:
    return f"{day.month}月{day.day}日"


def _time_zh(ts: pd.Timestamp) -> str:
    return f"{ts.month}月{ts.day}日 {ts:%H:%M}"


def _shortfall(m: Metric) -> str:
    """A shortfall in words; an exact target (``== 0``) reads 未实现零发生的目标, not ``=0``."""
    if m.target is None or m.target.comparator != "==":
        return shortfall_sentence(m)
    if m.target.value == 0:
        goal = "未实现零发生的目标"
    else:
        goal = f"未达到目标值{fmt.value(m.target.value, m.unit)}"
    change = fmt.change_phrase(m)
    return f"{m.name}为{fmt.value(m.value, m.unit)}，{goal}" + (f"，{change}" if change else "")


def _recovered(started: pd.Timestamp, resolved: pd.Timestamp, minutes: float) -> str:
    """Recovery time; only the clock time when recovered on the day it started."""
    if pd.isna(minutes):
        return "未记录"
    if pd.isna(resolved):
        return "期末未恢复"
    return (
        f"{resolved:%H:%M}" if resolved.normalize() == started.normalize() else _time_zh(resolved)
    )


# -- the analyst's facts ------------------------------------------------------------------


def _fact_value(f: Fact) -> str:
    v = f.value
    if isinstance(v, bool):
        shown = "是" if v else "否"
    elif isinstance(v, int):
        shown = fmt.number(v, 0)
    elif isinstance(v, float):
        shown = fmt.number(v, 0) if v.is_integer() else fmt.number(v, 2).rstrip("0").rstrip(".")
    else:
        shown = str(v).strip()
    return f"{shown}{f.unit}"


def _fact_phrase(f: Fact) -> str:
    if isinstance(f.value, str):
        return f"{f.name}：{_fact_value(f)}"
    return f"{f.name}{_fact_value(f)}"


def area_facts(sec: Section, area: str) -> list[Fact]:
    """The analyst's facts of one area (none without a facts file)."""
    facts = load_facts(sec.config, sec.period)
    return [f for f in facts.facts if f.area == area] if facts is not None else []


def standard_facts(facts: FactsFile | None) -> list[Fact]:
    """The facts described under 服务标准体系建设情况 (areas standards and other)."""
    return [f for f in facts.facts if f.area in ("standards", "other")] if facts else []


def fact_rows(facts: Sequence[Fact]) -> list[tuple[str, str, str]]:
    return [(f.name, _fact_value(f), f.source) for f in facts]


# -- the frames the blocks describe, from the metrics -------------------------------------


@dataclass(frozen=True)
class Frames:
    """What the tables, charts and sentences describe besides the metrics (None: no data)."""

    attendances: int | None  # rows of the training data
    training_columns: tuple[str, ...]
    topics: pd.DataFrame | None  # metrics.people.topic_summary
    durations: pd.DataFrame | None  # metrics.system.incident_durations
    daily: pd.Series | None  # metrics.peaks.daily_tickets
    is_peak: pd.Series | None
    phone: pd.DataFrame | None  # metrics.peaks.phone_on_peak_days
    phone_missing: str | None  # why there are no peak-day phone figures (a sentence)


def _frames(sec: Section) -> Frames:
    m = phrases.pick_by_id(sec, ("training.sessions", "system.incidents", "tickets.peak_ratio"))
    training = sec.data("training")
    columns = tuple(training.columns) if training is not None else ()
    topics = None
    if training is not None and m["training.sessions"].has_value and "topic" in columns:
        topics = people.topic_summary(training)
    incidents = sec.data("incidents")
    count = m["system.incidents"]
    durations = None
    if incidents is not None and count.has_value:
        durations = system_metrics.incident_durations(incidents, sec.period)
    tickets = sec.data("tickets")
    daily = is_peak = phone = missing = None
    if m["tickets.peak_ratio"].has_value and tickets is not None and "created_at" in tickets:
        daily = peaks.daily_tickets(tickets, sec.period)
        is_peak = peaks.peak_days(daily)
        calls = sec.data("calls")
        if calls is None:
            missing = _absent(reason_no_dataset("calls"), "高峰日的电话接通情况")
        elif (lacking := peaks.missing_phone_column(calls)) is not None:
            missing = (
                f"电话数据{reason_no_column('calls', lacking)}，无法评估高峰日的电话接通情况。"
            )
        else:
            phone = peaks.phone_on_peak_days(calls, daily, is_peak, sec.config.thresholds)
    return Frames(
        None if training is None else len(training),
        columns,
        topics,
        durations,
        daily,
        is_peak,
        phone,
        missing,
    )
