"""Section 服务体系建设现状: team, training, standards (analyst facts), systems, peak handling.

The notebook ``02_system.ipynb`` calls one function per report block: ``compute`` once
(the metrics with history, and the frames behind the tables and charts: training topics,
incidents, tickets per day, peak days, phone service on peak days — all from
:mod:`selfcheck.metrics`), then the paragraphs (named after their slot in
``<period>_texts.yaml``), tables (``*_table``, ``*_facts``) and charts (``*_chart``) in
report order; the headings are the notebook's. The wording is in :mod:`.text`, the
charts in :mod:`.charts`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import load_facts
from selfcheck.blocks import Column
from selfcheck.metrics import people
from selfcheck.metrics import system as system_metrics
from selfcheck.metrics import tickets as ticket_metrics
from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import reason_no_column
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections import phrases
from selfcheck.sections.common import (
    compute_with_history,
    computed,
    metric_frame,
    metric_table,
    say,
    store,
)
from selfcheck.sections.options import keep_columns
from selfcheck.sections.system import charts as system_charts
from selfcheck.sections.system import text
from selfcheck.sections.system.terms import (
    FACT_COLUMNS,
    PEAK_IDS,
    SECTION_ID,
    SYSTEM_IDS,
    TEAM_IDS,
    TRAINING_IDS,
    Frames,
    _frames,
    _recovered,
    _time_zh,
    area_facts,
    fact_rows,
    standard_facts,
)

CHART_INCIDENTS = 10


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


# -- computation --------------------------------------------------------------------------


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    staff = sec.data("staff", period)
    tm = people.team(staff, period)
    tr = people.training(sec.data("training", period), staff, period)
    sy = system_metrics.system(sec.data("incidents", period), period)
    tk = ticket_metrics.tickets(
        sec.data("tickets", period), sec.config.thresholds, sec.config.calendar, period
    )
    out: dict[str, Measure] = {}
    out.update({k: tm[k] for k in TEAM_IDS})
    out.update({k: tr[k] for k in TRAINING_IDS})
    out.update({k: sy[k] for k in SYSTEM_IDS})
    out.update({k: tk[k] for k in PEAK_IDS})
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Compute every metric of the section (with QoQ, YoY and trend) and keep them in the
    result, with the frames the blocks describe."""
    metrics = compute_with_history(sec, _measures)
    store(sec, "frames", _frames(sec))
    return metric_frame(metrics)


def _f(sec: Section) -> Frames:
    return computed(sec, "frames")


# -- block helpers ------------------------------------------------------------------------


def _facts(sec: Section, area: str, caption: str) -> None:
    chosen = area_facts(sec, area)
    if chosen:
        sec.table(caption, FACT_COLUMNS, fact_rows(chosen))


# -- overview, team, training ---------------------------------------------------------------


def overview(sec: Section) -> None:
    """The section's opening paragraph: what was examined and what falls short."""
    say(sec, "overview", text.overview(sec))


def team(sec: Section) -> None:
    """Headcount and roles, tenure, certification, languages, turnover."""
    say(sec, "team", text.team(sec))


def team_table(
    sec: Section, *, caption: str = "服务团队指标", ids: Sequence[str] = TEAM_IDS
) -> None:
    if phrases.pick_by_id(sec, ["team.headcount"])["team.headcount"].has_value:
        metric_table(sec, caption, list(phrases.pick_by_id(sec, ids).values()))


def headcount_chart(
    sec: Section, *, caption: str = "在岗人员岗位结构", height_in: float = 2.8
) -> None:
    m = phrases.pick_by_id(sec, TEAM_IDS)
    if m["team.headcount"].has_value:
        system_charts.headcount_chart(sec, m, caption=caption, height_in=height_in)


def team_facts(sec: Section, *, caption: str = "队伍建设补充情况") -> None:
    """The analyst's facts of area ``team`` with their source (nothing without any)."""
    _facts(sec, "team", caption)


def training(sec: Section) -> None:
    """Sessions, hours, coverage of frontline staff, pass rate."""
    say(sec, "training", text.training(sec, _f(sec).attendances))


def _trained(sec: Section) -> bool:
    return (
        _f(sec).attendances is not None
        and phrases.pick_by_id(sec, TRAINING_IDS)["training.sessions"].has_value
    )


def training_table(
    sec: Section, *, caption: str = "培训开展指标", ids: Sequence[str] = TRAINING_IDS
) -> None:
    if _trained(sec):
        metric_table(sec, caption, list(phrases.pick_by_id(sec, ids).values()))


def topics_table(
    sec: Section, *, caption: str = "本季度培训主题分布", columns: Sequence[str] | None = None
) -> None:
    """Per training topic: sessions, attendances, hours and pass rate, with a total."""
    if not _trained(sec):
        return
    f = _f(sec)
    if f.topics is None:
        sec.paragraph(
            f"培训数据未包含培训主题（{reason_no_column('training', 'topic')}），无法按主题统计。",
            style="note",
        )
        return
    summary = f.topics
    if summary.empty:
        return

    def rate(passed: int, known: int) -> float | None:
        return passed / known if known else None

    rows = [
        (str(r.Index), int(r.sessions), int(r.attendances), float(r.hours), rate(r.passed, r.known))
        for r in summary.itertuples()
    ]
    total = summary.sum()
    rows.append(
        (
            "合计",
            int(total["sessions"]),
            int(total["attendances"]),
            float(total["hours"]),
            rate(int(total["passed"]), int(total["known"])),
        )
    )
    spec = (
        Column("培训主题", "text", width=0.34),
        Column("场次", "int", width=0.14),
        Column("参训人次", "int", width=0.16),
        Column("培训时长（小时）", "number", decimals=1, width=0.18),
        Column("考核合格率", "rate", width=0.18),
    )
    note = "注：培训时长按场次计（同一场次只计一次）"
    if "passed" in f.training_columns:
        note += "，考核合格率以填写了考核结果的参训记录为基数。"
    else:  # no pass column: a column of dashes says nothing
        spec = spec[:-1]
        rows = [r[:-1] for r in rows]
        note += "；培训数据未记录考核结果。"
        columns = None if columns is None else [c for c in columns if c != "考核合格率"]
    keep_columns(sec, caption, spec, rows, columns, note)


# -- standards and systems ------------------------------------------------------------------


def standards(sec: Section) -> None:
    """The analyst's material on service standards (a warning when there is none)."""
    paragraph, warning = text.standards(sec)
    say(sec, "standards", paragraph)
    if warning is not None:
        sec.warn(warning)


def standards_table(sec: Section, *, caption: str = "服务标准体系建设情况") -> None:
    """The analyst's facts on standards with their source (nothing without any)."""
    chosen = standard_facts(load_facts(sec.config, sec.period))
    if chosen:
        sec.table(caption, FACT_COLUMNS, fact_rows(chosen), label="standards")


def systems(sec: Section) -> None:
    """Incidents, major ones, repair time, interruptions and the longest one."""
    say(sec, "systems", text.systems(sec, _f(sec).durations))


def systems_table(
    sec: Section, *, caption: str = "系统保障指标", ids: Sequence[str] = SYSTEM_IDS
) -> None:
    if _f(sec).durations is not None:
        metric_table(sec, caption, list(phrases.pick_by_id(sec, ids).values()))


def incident_table(
    sec: Section,
    *,
    caption: str = "重大故障及中断时间较长的故障",
    top: int = system_metrics.TOP_INCIDENTS,
    max_rows: int = system_metrics.MAX_INCIDENT_ROWS,
    columns: Sequence[str] | None = None,
) -> None:
    """Every major incident and the ``top`` longest interruptions (at most ``max_rows``)."""
    durations = _f(sec).durations
    if durations is None or durations.empty:
        return
    chosen = system_metrics.notable_incidents(durations, top, max_rows)
    if chosen.empty:
        return
    rows = [
        (
            _time_zh(r.started),
            r.system,
            "重大" if r.major else "一般",
            "是" if r.interrupted else "否",
            _recovered(r.started, r.resolved, r.minutes),
            fmt.value(r.minutes, "minutes"),
        )
        for r in chosen.itertuples()
    ]
    spec = (
        Column("发生时间", "text", width=0.23),
        Column("系统", "text", width=0.23),
        Column("级别", "text", width=0.09),
        Column("中断", "text", width=0.09),
        Column("恢复时间", "text", width=0.20),
        Column("持续时长", "figure", width=0.16),
    )
    note = f"注：列出全部重大故障和中断服务时间最长的{top}次故障；未恢复的故障持续时长计至季度末。"
    keep_columns(sec, caption, spec, rows, columns, note)


def incident_chart(
    sec: Section,
    *,
    top: int = CHART_INCIDENTS,
    caption: str | None = None,
    height_in: float | None = None,
) -> None:
    """The ``top`` longest repairs against the MTTR target (``caption`` None: 各次故障修复时长
    or 修复时长最长的N次故障; ``height_in`` None: by the number of bars)."""
    durations = _f(sec).durations
    if durations is None or durations.empty:
        return
    mttr = phrases.pick_by_id(sec, ["system.mttr_minutes"])["system.mttr_minutes"]
    system_charts.incident_chart(
        sec, durations, mttr, top_n=top, caption=caption, height_in=height_in
    )


def systems_facts(sec: Section, *, caption: str = "系统保障补充情况") -> None:
    """The analyst's facts of area ``systems`` with their source (nothing without any)."""
    _facts(sec, "systems", caption)


# -- peak handling --------------------------------------------------------------------------


def peak(sec: Section) -> None:
    """The busiest day against the daily average, and the peak days."""
    f = _f(sec)
    say(sec, "peak", text.peak(sec, f.daily, f.is_peak))


def daily_chart(sec: Section, *, caption: str = "每日工单受理量", height_in: float = 2.9) -> None:
    """Tickets per day of the quarter, peak days dark."""
    f = _f(sec)
    if f.daily is not None and f.is_peak is not None:
        system_charts.daily_chart(sec, f.daily, f.is_peak, caption=caption, height_in=height_in)


def peak_phone(sec: Section) -> None:
    """Phone service on peak days against the other days."""
    f = _f(sec)
    if f.daily is not None and sec.scope.includes("calls"):
        say(sec, "peak_phone", text.peak_phone(sec, f.phone, f.phone_missing))


def peak_phone_table(
    sec: Section,
    *,
    caption: str = "高峰日与其他日期电话接通情况对比",
    columns: Sequence[str] | None = None,
) -> None:
    """Peak days, other days and the whole quarter: tickets and calls per day, answer rate
    and service level (when peak days had calls)."""
    groups = _f(sec).phone
    if groups is None or pd.isna(groups.loc["peak", "answer_rate"]):
        return
    th = sec.config.thresholds
    labels = {"peak": "高峰日", "other": "其他日期", "all": "全季度"}
    rows = [
        (
            labels[k],
            int(g["days"]),
            g["tickets"],
            g["offered"],
            g["answer_rate"],
            g["service_level"],
        )
        for k, g in groups.iterrows()
        if g["days"]
    ]
    spec = (
        Column("日期类别", "text", width=0.15),
        Column("天数", "int", width=0.09),
        Column("日均工单量", "number", decimals=1, width=0.17),
        Column("日均请求人工来电", "number", decimals=1, width=0.24),
        Column("人工接通率", "rate", width=0.17),
        Column(text.service_level_name(sec), "rate", width=0.18),
    )
    note = (
        f"注：请求人工来电不含排队不足{fmt.number(th.short_abandon_seconds, 0)}秒即挂断的短时放弃，"
        "接通率口径与“服务响应速度”一节相同。"
    )
    keep_columns(sec, caption, spec, rows, columns, note)
