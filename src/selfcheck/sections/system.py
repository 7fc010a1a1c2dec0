"""Section 服务体系建设现状: team, training, standards (analyst facts), systems, peak handling.

Figures come from the people, system and ticket metrics (with history); the tables of
training topics, incidents and peak days are computed here from the period's data with
the same conventions as those metrics (see the functions' docstrings).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck.analyst import Fact, FactsFile, analyst_file, load_facts
from selfcheck.blocks import Column
from selfcheck.metrics import people
from selfcheck.metrics import system as system_metrics
from selfcheck.metrics import tickets as ticket_metrics
from selfcheck.metrics.base import STATUS_MISSED, Measure, Metric
from selfcheck.metrics.catalogue import REASON_EMPTY, reason_no_column, reason_no_dataset
from selfcheck.period import Period
from selfcheck.schema import ROLE_ZH, ROLES
from selfcheck.section import Section
from selfcheck.sections.common import (
    compute_with_history,
    metric_frame,
    metric_table,
    shortfall_sentence,
    shortfalls,
)

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

PHONE_COLUMNS = ("arrived_at", "outcome", "queue_seconds")
PEAK_FACTOR = 1.5  # a peak day has at least this many times the quarter's daily average
TOP_INCIDENTS = 5  # longest interruptions listed besides every major incident
MAX_INCIDENT_ROWS = 12
CHART_INCIDENTS = 10
UNNAMED = "未注明"
WEEKDAYS = "一二三四五六日"

FACT_COLUMNS = (
    Column("事项", "text", width=0.34),
    Column("数值/情况", "text", width=0.26),
    Column("来源", "text", width=0.40),
)


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


# -- metrics ------------------------------------------------------------------------------


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
    """Compute every metric of the section (with QoQ, YoY and trend) and keep them in the result."""
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


def _pick(sec: Section, ids: Sequence[str]) -> dict[str, Metric]:
    return {i: sec.metric(i) for i in ids}


def _count(v: float | None) -> str:
    return fmt.value(v, "count")


def _status(m: Metric) -> str:
    """``，达到≥95.0%的目标`` or '' (no target / no value)."""
    s = fmt.status_phrase(m)
    return f"，{s}" if s else ""


def _change(m: Metric) -> str:
    s = fmt.change_phrase(m)
    return f"，{s}" if s else ""


def _count_change(m: Metric, unit: str) -> str:
    """``较上季度增加3人`` / ``与上季度持平`` / '' for a count."""
    if m.delta is None:
        return ""
    d = round(m.delta)
    if d == 0:
        return "与上季度持平"
    return f"较上季度{'增加' if d > 0 else '减少'}{fmt.number(abs(d), 0)}{unit}"


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


# -- overview -----------------------------------------------------------------------------


def overview(sec: Section) -> None:
    """The section's opening paragraph: what was examined and what falls short."""
    metrics = [m for m in sec.result.metrics if ":" not in m.metric_id]
    with_target = [m for m in metrics if m.target is not None and m.has_value]
    missed = shortfalls(metrics)
    text = (
        f"本季度（{sec.period.range_zh}）服务体系建设情况从服务团队、培训开展、服务标准、"
        "系统保障和业务高峰应对五个方面进行检查"
    )
    if with_target:
        text += (
            f"，涉及设有目标的指标{len(with_target)}项，"
            f"其中达标{len(with_target) - len(missed)}项、未达标{len(missed)}项。"
        )
    else:
        text += "。"
    if missed:
        text += "未达标的指标为：" + "；".join(_shortfall(m) for m in missed) + "。"
    elif with_target:
        text += "各项设有目标的指标均已达标。"
    no_data = [  # a sample of 0 (no incident recovered, no frontline staff) is not missing data
        m
        for m in metrics
        if m.target is not None
        and not m.has_value
        and not (m.reason or "").startswith(REASON_EMPTY)
    ]
    if no_data:
        lead = "另有" if with_target else "设有目标的指标中，"
        text += f"{lead}{'、'.join(m.name for m in no_data)}因缺少数据无法评价。"
    sec.narrative("overview", text)


# -- team ---------------------------------------------------------------------------------


def team(sec: Section) -> None:
    m = _pick(sec, TEAM_IDS)
    sec.heading("服务团队建设情况")
    hc = m["team.headcount"]
    if not hc.has_value:
        sec.narrative("team", _absent(hc.reason, "服务团队的规模和结构"))
        _facts_table(sec, "team", "队伍建设补充情况")
        return
    text = f"截至本季度末（{fmt.date_zh(sec.period.last_day)}），客户服务在岗人员共{_count(hc.value)}人"
    roles = [
        f"{ROLE_ZH[r]}人员{_count(x.value)}人"
        for r in ROLES
        if (x := m[f"team.headcount.role:{r}"]).has_value
    ]
    if roles:
        text += "，其中" + "、".join(roles)
    change = _count_change(hc, "人")
    if change:
        text += f"，人员总数{change}"
    text += "。"
    tenure = m["team.tenure_years_mean"]
    if tenure.has_value:
        text += f"在岗人员平均服务年限为{fmt.value(tenure.value, 'years')}。"
    cert = m["team.certified_rate"]
    if cert.has_value:
        text += (
            f"持证上岗率为{fmt.value(cert.value, 'rate')}（{_count(cert.numerator)}/"
            f"{_count(cert.denominator)}人）{_status(cert)}"
        )
        lacking = int(cert.denominator - cert.numerator)  # type: ignore[operator]
        if lacking:
            text += f"，尚有{_count(lacking)}名在岗人员未取得上岗资格"
        unknown = int(hc.value - cert.denominator)  # type: ignore[operator]
        if unknown > 0:
            text += f"，另有{_count(unknown)}人的持证情况未登记"
        text += "。"
    else:
        text += f"持证上岗情况无数据（{cert.reason}）。"
    multi = m["team.multilingual_rate"]
    if multi.has_value:
        base = "在岗人员" if multi.denominator == hc.value else "已登记语种情况的在岗人员"
        text += (
            f"具备两种及以上语种服务能力的人员{_count(multi.numerator)}人，"
            f"占{base}的{fmt.value(multi.value, 'rate')}{_change(multi)}。"
        )
    turnover = m["team.turnover_rate"]
    if turnover.has_value:
        text += (
            f"本季度离职{_count(turnover.numerator)}人，以期初在岗{_count(turnover.denominator)}人计，"
            f"人员流失率为{fmt.value(turnover.value, 'rate')}{_status(turnover)}{_change(turnover)}。"
        )
    else:
        text += f"人员流失率无数据（{turnover.reason}）。"
    sec.narrative("team", text)
    metric_table(sec, "服务团队指标", list(m.values()))
    _headcount_chart(sec, m)
    _facts_table(sec, "team", "队伍建设补充情况")


def _headcount_chart(sec: Section, m: dict[str, Metric]) -> None:
    labels, now, before = [], [], []
    for r in ROLES:
        x = m[f"team.headcount.role:{r}"]
        if x.has_value:
            labels.append(f"{ROLE_ZH[r]}人员")
            now.append(float(x.value))  # type: ignore[arg-type]
            before.append(x.previous)
    if not labels:
        return
    fig, ax = charts.figure(height_in=2.8)
    xs = np.arange(len(labels))
    with_previous = all(b is not None for b in before)
    width = 0.36 if with_previous else 0.5
    if with_previous:
        prev = ax.bar(xs - width / 2, before, width, color=charts.SECONDARY, label="上季度末")
        ax.bar_label(prev, labels=[fmt.number(v, 0) for v in before], fontsize=8, padding=2)
        cur = ax.bar(xs + width / 2, now, width, color=charts.PRIMARY, label="本季度末")
        ax.legend(loc="upper right", frameon=False)
    else:
        cur = ax.bar(xs, now, width, color=charts.PRIMARY)
    ax.bar_label(cur, labels=[fmt.number(v, 0) for v in now], fontsize=8, padding=2)
    ax.set_xticks(xs, labels)
    ax.set_ylabel("在岗人数（人）")
    ax.set_ylim(0, max([*now, *[b for b in before if b is not None]]) * 1.2 + 1)
    sec.figure(fig, "在岗人员岗位结构", note="注：按季度末在岗人员统计。")


# -- training -----------------------------------------------------------------------------


def training(sec: Section) -> None:
    m = _pick(sec, TRAINING_IDS)
    sec.heading("培训开展情况")
    sessions = m["training.sessions"]
    frame = sec.data("training")
    if not sessions.has_value or frame is None:
        reason = sessions.reason or reason_no_dataset("training")
        sec.narrative("training", _absent(reason, "培训开展情况"))
        return
    hours, person_hours = m["training.hours"], m["training.person_hours"]
    text = f"本季度共组织培训{_count(sessions.value)}场"
    if hours.has_value:
        text += f"，累计培训时长{fmt.value(hours.value, 'hours')}"
    text += f"，参训{_count(len(frame))}人次"
    if person_hours.has_value:
        text += f"，合计{fmt.number(person_hours.value, 1)}人时"
    text += "。"
    cover = m["training.coverage_rate"]
    if cover.has_value:
        text += (
            f"一线人员培训覆盖率为{fmt.value(cover.value, 'rate')}（{_count(cover.numerator)}/"
            f"{_count(cover.denominator)}人）{_status(cover)}{_change(cover)}"
        )
        missing = int(cover.denominator - cover.numerator)  # type: ignore[operator]
        if missing:
            text += f"，尚有{_count(missing)}名在岗一线人员本季度未参加任何培训"
        text += "。"
    else:
        text += f"一线人员培训覆盖率无数据（{cover.reason}）。"
    passed = m["training.pass_rate"]
    if passed.has_value:
        text += (
            f"培训考核{_count(passed.denominator)}人次，合格率为{fmt.value(passed.value, 'rate')}"
            f"{_status(passed)}{_change(passed)}。"
        )
    else:
        text += f"培训考核合格率无数据（{passed.reason}）。"
    sec.narrative("training", text)
    metric_table(sec, "培训开展指标", list(m.values()))
    _topics_table(sec, frame)


def topic_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per training topic: sessions, attendances, hours, passed and known (for the pass rate).

    A session belongs to the topic most of its rows give (ties: first in Unicode order);
    its length is the most frequent ``hours`` among its rows, ties to the smallest — as
    ``training.hours`` counts it, so the column sums to that metric. Rows count as
    attendances of their session's topic (rows without a session: their own topic).
    """
    n = len(frame)
    session = (
        frame["session_id"].astype("string")
        if "session_id" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    topic = frame["topic"].astype("string").str.strip()
    topic = topic.where(topic.ne("").fillna(False), UNNAMED).fillna(UNNAMED)
    hours = (
        pd.to_numeric(frame["hours"], errors="coerce")
        if "hours" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    rows = pd.DataFrame(
        {"session": session.to_numpy(dtype=object), "topic": topic.to_numpy(dtype=object)}
    )
    rows["hours"] = hours.to_numpy(dtype=float, na_value=np.nan)
    if "passed" in frame.columns:
        b = frame["passed"].astype("boolean")
        rows["passed"] = b.fillna(False).to_numpy(dtype=bool)
        rows["known"] = b.notna().to_numpy(dtype=bool)
    else:
        rows["passed"] = rows["known"] = np.zeros(n, dtype=bool)

    def mode(col: str, keep: list[str]) -> pd.DataFrame:
        valid = rows[rows["session"].notna() & rows[col].notna()]
        counts = valid.groupby(["session", col], sort=False).size().rename("rows").reset_index()
        counts = counts.sort_values(["session", "rows", col], ascending=[True, False, True])
        return counts.drop_duplicates("session", keep="first").set_index("session")[keep]

    session_topic = mode("topic", ["topic"])["topic"]
    session_hours = mode("hours", ["hours"])["hours"]
    per_session = pd.DataFrame({"topic": session_topic})
    per_session["hours"] = session_hours.reindex(per_session.index)
    by_session = rows["session"].map(session_topic)
    rows["group"] = by_session.where(by_session.notna(), rows["topic"])
    out = rows.groupby("group").agg(
        attendances=("group", "size"), passed=("passed", "sum"), known=("known", "sum")
    )
    grouped = per_session.groupby("topic").agg(sessions=("topic", "size"), hours=("hours", "sum"))
    out = out.join(grouped, how="left").fillna({"sessions": 0, "hours": 0.0})
    out.index.name = "topic"
    out = out.astype({"sessions": int, "attendances": int, "passed": int, "known": int})
    return out.sort_values(["hours", "attendances"], ascending=False, kind="stable")[
        ["sessions", "attendances", "hours", "passed", "known"]
    ]


def _topics_table(sec: Section, frame: pd.DataFrame) -> None:
    if "topic" not in frame.columns:
        sec.paragraph(
            f"培训数据未包含培训主题（{reason_no_column('training', 'topic')}），无法按主题统计。",
            style="note",
        )
        return
    summary = topic_summary(frame)
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
    columns = (
        Column("培训主题", "text", width=0.34),
        Column("场次", "int", width=0.14),
        Column("参训人次", "int", width=0.16),
        Column("培训时长（小时）", "number", decimals=1, width=0.18),
        Column("考核合格率", "rate", width=0.18),
    )
    note = "注：培训时长按场次计（同一场次只计一次）"
    if "passed" in frame.columns:
        note += "，考核合格率以填写了考核结果的参训记录为基数。"
    else:  # no pass column: a column of dashes says nothing
        columns = columns[:-1]
        rows = [r[:-1] for r in rows]
        note += "；培训数据未记录考核结果。"
    sec.table("本季度培训主题分布", columns, rows, note=note)


# -- standards ----------------------------------------------------------------------------


def _facts(sec: Section) -> FactsFile | None:
    return load_facts(sec.config.params_path, sec.period)


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


def _facts_table(sec: Section, area: str, caption: str) -> list[Fact]:
    """Facts of one area as a table with their source (nothing when there are none)."""
    facts = _facts(sec)
    chosen = [f for f in facts.facts if f.area == area] if facts is not None else []
    if chosen:
        sec.table(caption, FACT_COLUMNS, [(f.name, _fact_value(f), f.source) for f in chosen])
    return chosen


def standards(sec: Section) -> None:
    sec.heading("服务标准体系建设情况")
    facts = _facts(sec)
    path = analyst_file(sec.config.params_path, sec.period, "facts")
    if facts is None:
        sec.narrative(
            "standards",
            "本季度未提供服务标准体系方面的材料（如制度文件数量、标准覆盖的业务场景比例、"
            "标准条款修订情况等），本部分暂无法评述。此类情况无法从业务数据中统计，"
            f"需由分析人员在参数文件所在目录建立{path.name}逐项填写，并注明来源。",
        )
        sec.warn(f"未找到事实材料文件 {path}，“服务标准体系建设情况”一节没有内容，请分析人员补充。")
        return
    chosen = [f for f in facts.facts if f.area in ("standards", "other")]
    if not chosen:
        sec.narrative(
            "standards",
            f"分析人员提供的事实材料（{path.name}）中未列出服务标准体系方面的事项，本部分暂无法评述。",
        )
        sec.warn(f"{path} 中没有 area 为 standards 的事项，“服务标准体系建设情况”一节没有内容。")
        return
    text = (
        "根据分析人员提供并注明来源的材料，本季度服务标准体系建设情况如下："
        + "；".join(_fact_phrase(f) for f in chosen)
        + "。各项材料的来源见下表。"
    )
    sec.narrative("standards", text)
    sec.table(
        "服务标准体系建设情况", FACT_COLUMNS, [(f.name, _fact_value(f), f.source) for f in chosen]
    )


# -- systems ------------------------------------------------------------------------------


def incident_durations(incidents: pd.DataFrame, period: Period) -> pd.DataFrame:
    """One row per incident with start, recovery (NaT if not recovered by period end) and
    duration in minutes — to recovery, or to period end when not recovered (as the
    interruption metric counts it)."""
    end = pd.Timestamp(period.end)
    started = ticket_metrics.timestamps(incidents["started_at"])
    if "resolved_at" in incidents.columns:
        resolved = ticket_metrics.by_end(incidents["resolved_at"], end)
    else:
        resolved = pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns]")
    minutes = ticket_metrics.seconds_between(started, resolved.fillna(end)) / 60.0
    if "resolved_at" not in incidents.columns:
        minutes[:] = np.nan  # recovery unknown: no duration rather than one to period end
    system = (
        incidents["system"].astype("string").str.strip()
        if "system" in incidents.columns
        else pd.Series(pd.NA, index=incidents.index, dtype="string")
    )
    system = system.where(system.ne("").fillna(False), UNNAMED).fillna(UNNAMED)
    major = (
        incidents["severity"].eq("major").fillna(False)
        if "severity" in incidents.columns
        else pd.Series(False, index=incidents.index)
    )
    if "service_interrupted" in incidents.columns:
        interrupted = incidents["service_interrupted"].astype("boolean").fillna(False)
    else:
        interrupted = pd.Series(False, index=incidents.index)
    out = pd.DataFrame(
        {
            "started": started,
            "resolved": resolved,
            "minutes": minutes,
            "system": system.to_numpy(dtype=object),
            "major": major.to_numpy(dtype=bool),
            "interrupted": interrupted.to_numpy(dtype=bool),
        },
        index=incidents.index,
    )
    return out.sort_values("started", kind="stable")


def notable_incidents(durations: pd.DataFrame) -> pd.DataFrame:
    """Every major incident plus the ``TOP_INCIDENTS`` longest interruptions, by start time
    (at most ``MAX_INCIDENT_ROWS``: the longest ones are kept)."""
    longest = (
        durations[durations["interrupted"]]
        .sort_values("minutes", ascending=False, kind="stable")
        .head(TOP_INCIDENTS)
    )
    chosen = durations[durations["major"] | durations.index.isin(longest.index)]
    if len(chosen) > MAX_INCIDENT_ROWS:
        chosen = chosen.sort_values("minutes", ascending=False, kind="stable").head(
            MAX_INCIDENT_ROWS
        )
    return chosen.sort_values("started", kind="stable")


def systems(sec: Section) -> None:
    m = _pick(sec, SYSTEM_IDS)
    sec.heading("系统保障运行情况")
    count = m["system.incidents"]
    incidents = sec.data("incidents")
    if not count.has_value or incidents is None:
        reason = count.reason or reason_no_dataset("incidents")
        sec.narrative("systems", _absent(reason, "系统保障情况"))
        _facts_table(sec, "systems", "系统保障补充情况")
        return
    major, mttr, inter = (
        m["system.major_incidents"],
        m["system.mttr_minutes"],
        m["system.interruption_hours"],
    )
    if count.value == 0:
        text = "本季度客户服务相关系统未发生故障，服务未因系统原因中断。"
        sec.narrative("systems", text)
        metric_table(sec, "系统保障指标", list(m.values()))
        _facts_table(sec, "systems", "系统保障补充情况")
        return
    durations = incident_durations(incidents, sec.period)
    text = f"本季度客户服务相关系统共发生故障{_count(count.value)}次"
    change = _count_change(count, "次")
    if change:
        text += f"，{change}"
    if major.has_value:
        if major.value:
            text += f"，其中重大故障{_count(major.value)}次，未实现重大故障零发生的目标"
        else:
            text += "，未发生重大故障"
    text += "。"
    if mttr.has_value:
        text += f"已恢复故障的平均修复时长为{fmt.value(mttr.value, 'minutes')}{_status(mttr)}{_change(mttr)}"
        unresolved = int(count.value - (mttr.n or 0))  # type: ignore[operator]
        if unresolved > 0:
            text += f"；截至季度末仍有{_count(unresolved)}次故障未恢复"
        text += "。"
    else:
        text += f"平均修复时长无数据（{mttr.reason}）。"
    if inter.has_value:
        if not inter.n:
            text += "本季度未发生造成服务中断的故障。"
        else:
            text += (
                f"造成服务中断的故障{_count(inter.n)}次，累计中断{fmt.value(inter.value, 'hours')}"
            )
            if inter.target is not None:
                commitment = f"服务承诺（累计中断{fmt.target(inter.target, 'hours')}）"
                if inter.status == STATUS_MISSED:
                    over = float(inter.value) - inter.target.value  # type: ignore[arg-type]
                    text += f"，超出{commitment}{fmt.value(over, 'hours')}"
                else:
                    text += f"，在{commitment}范围之内"
            text += f"{_change(inter)}。"
            longest = durations[durations["interrupted"]].sort_values(
                "minutes", ascending=False, kind="stable"
            )
            if not longest.empty and not np.isnan(longest["minutes"].iloc[0]):
                top = longest.iloc[0]
                still = "（截至季度末尚未恢复）" if pd.isna(top["resolved"]) else ""
                text += (
                    f"持续时间最长的一次为{_day_zh(top['started'])}{top['system']}故障，"
                    f"中断{fmt.value(top['minutes'], 'minutes')}{still}。"
                )
    else:
        text += f"服务中断时长无数据（{inter.reason}）。"
    sec.narrative("systems", text)
    metric_table(sec, "系统保障指标", list(m.values()))
    _incident_table(sec, durations)
    _incident_chart(sec, durations, mttr)
    _facts_table(sec, "systems", "系统保障补充情况")


def _recovered(started: pd.Timestamp, resolved: pd.Timestamp, minutes: float) -> str:
    """Recovery time; only the clock time when recovered on the day it started."""
    if pd.isna(minutes):
        return "未记录"
    if pd.isna(resolved):
        return "期末未恢复"
    return (
        f"{resolved:%H:%M}" if resolved.normalize() == started.normalize() else _time_zh(resolved)
    )


def _incident_table(sec: Section, durations: pd.DataFrame) -> None:
    chosen = notable_incidents(durations)
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
    columns = (
        Column("发生时间", "text", width=0.23),
        Column("系统", "text", width=0.23),
        Column("级别", "text", width=0.09),
        Column("中断", "text", width=0.09),
        Column("恢复时间", "text", width=0.20),
        Column("持续时长", "figure", width=0.16),
    )
    sec.table(
        "重大故障及中断时间较长的故障",
        columns,
        rows,
        note=(
            f"注：列出全部重大故障和中断服务时间最长的{TOP_INCIDENTS}次故障；"
            "未恢复的故障持续时长计至季度末。"
        ),
    )


def _incident_chart(sec: Section, durations: pd.DataFrame, mttr: Metric) -> None:
    d = durations.dropna(subset=["minutes"])
    if d.empty:
        return
    top = d.sort_values("minutes", ascending=False, kind="stable").head(CHART_INCIDENTS)
    top = top.iloc[::-1]  # longest at the top of a horizontal chart
    labels = [f"{_day_zh(s)} {name}" for s, name in zip(top["started"], top["system"], strict=True)]
    limit = mttr.target.value if mttr.target is not None else None
    short = [limit is not None and v > limit for v in top["minutes"]]
    fig, ax = charts.figure(height_in=0.9 + 0.28 * len(top))
    bars = ax.barh(range(len(top)), top["minutes"].to_numpy(), color=charts.bar_colors(short))
    ax.bar_label(bars, labels=[fmt.number(v, 0) for v in top["minutes"]], fontsize=8, padding=2)
    ax.set_yticks(range(len(top)), labels)
    ax.set_xlabel("修复时长（分钟）")
    ax.set_xlim(0, float(top["minutes"].max()) * 1.15 + 1)
    note = "注：按修复时长从长到短排列，未恢复的故障计至季度末。"
    if limit is not None:
        ax.axvline(limit, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        note = (
            f"注：虚线为平均修复时长目标（{fmt.target(mttr.target, 'minutes')}），"
            "红色为单次修复时长超过该值的故障；未恢复的故障计至季度末。"
        )
    caption = (
        "各次故障修复时长"
        if len(d) <= CHART_INCIDENTS
        else f"修复时长最长的{CHART_INCIDENTS}次故障"
    )
    sec.figure(fig, caption, note=note)


# -- peak handling --------------------------------------------------------------------------


def daily_tickets(tickets: pd.DataFrame, period: Period) -> pd.Series:
    """Tickets per calendar day of the period (by ``created_at``), days without any as 0."""
    days = pd.to_datetime(tickets["created_at"]).dropna().dt.normalize()
    index = pd.date_range(pd.Timestamp(period.first_day), pd.Timestamp(period.last_day), freq="D")
    return days.value_counts().reindex(index, fill_value=0).astype(int)


def phone_by_day(calls: pd.DataFrame, sec: Section) -> pd.DataFrame | None:
    """Per day: offered, answered and answered within the service-level limit (phone metric
    conventions: a short abandon is in neither side). ``None`` without the columns needed."""
    if not set(PHONE_COLUMNS) <= set(calls.columns):
        return None
    th = sec.config.thresholds
    q = pd.to_numeric(calls["queue_seconds"], errors="coerce")
    answered = calls["outcome"].eq("answered").fillna(False)
    abandoned = calls["outcome"].eq("abandoned").fillna(False)
    short = abandoned & (q < th.short_abandon_seconds).fillna(False)
    offered = answered | (abandoned & ~short)
    within = answered & (q <= th.service_level_seconds).fillna(False)
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(calls["arrived_at"]).dt.normalize(),
            "offered": offered.astype(int),
            "answered": answered.astype(int),
            "within": within.astype(int),
        }
    )
    return frame.groupby("day")[["offered", "answered", "within"]].sum()


def peak_days(daily: pd.Series) -> pd.Series:
    """Days at or above ``PEAK_FACTOR`` × the daily average; if none, the busiest day."""
    average = daily.sum() / len(daily)
    peak = daily >= PEAK_FACTOR * average
    if not peak.any():
        peak = daily.index == daily.idxmax()
        peak = pd.Series(peak, index=daily.index)
    return peak


def peak(sec: Section) -> None:
    m = _pick(sec, PEAK_IDS)
    sec.heading("业务高峰应对情况")
    ratio = m["tickets.peak_ratio"]
    tickets = sec.data("tickets")
    if not ratio.has_value or tickets is None or "created_at" not in tickets.columns:
        reason = ratio.reason or reason_no_dataset("tickets")
        sec.narrative("peak", _absent(reason, "业务高峰情况"))
        return
    daily = daily_tickets(tickets, sec.period)
    busiest = daily.idxmax()  # the earliest of the busiest days
    ties = int((daily == daily.max()).sum())
    is_peak = peak_days(daily)
    n_peak = int(is_peak.sum())
    text = (
        f"本季度共受理工单{_count(daily.sum())}件，日均{fmt.number(ratio.denominator, 1)}件。"
        f"工单量最高的一天为{fmt.date_zh(busiest.date())}（星期{WEEKDAYS[busiest.weekday()]}），"
        f"当日受理{_count(ratio.numerator)}件，为日均水平的{fmt.value(ratio.value, 'ratio')}"
    )
    if ratio.previous is not None:
        text += f"（上季度为{fmt.value(ratio.previous, 'ratio')}）"
    text += "。"
    if ties > 1:
        text += f"另有{_count(ties - 1)}天的工单量与之相同。"
    factor = fmt.number(PEAK_FACTOR, 1)
    if daily.max() >= PEAK_FACTOR * daily.sum() / len(daily):
        dates = [_day_zh(d) for d in daily.index[is_peak.to_numpy()]]
        shown = "、".join(dates[:6]) + ("等" if len(dates) > 6 else "")
        text += f"工单量达到日均{factor}倍及以上的高峰日共{_count(n_peak)}天（{shown}）。"
    else:
        text += f"本季度没有工单量达到日均{factor}倍的日期，业务量分布较为平稳，以下以工单量最高的一天作为高峰日比较。"
    sec.narrative("peak", text)
    _daily_chart(sec, daily, is_peak, busiest)
    _peak_phone(sec, daily, is_peak)


def _daily_chart(sec: Section, daily: pd.Series, is_peak: pd.Series, busiest: pd.Timestamp) -> None:
    import matplotlib.dates as mdates

    average = daily.sum() / len(daily)
    fig, ax = charts.figure(height_in=2.9)
    colors = np.where(is_peak.to_numpy(), charts.PRIMARY, charts.SECONDARY)
    ax.bar(daily.index, daily.to_numpy(), width=0.8, color=list(colors))
    ax.axhline(average, color=charts.NEUTRAL, linestyle="--", linewidth=1)
    ax.axhline(PEAK_FACTOR * average, color=charts.NEUTRAL, linestyle=":", linewidth=1)
    top = int(daily.max())
    ax.annotate(
        f"{_day_zh(busiest)}：{fmt.number(top, 0)}件",
        (busiest, top),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=8,
        color=charts.PRIMARY,
    )
    ax.set_ylim(0, top * 1.18 + 1)
    ax.set_ylabel("工单量（件）")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    sec.figure(
        fig,
        "每日工单受理量",
        note=(
            f"注：深色柱为工单量达到日均{fmt.number(PEAK_FACTOR, 1)}倍及以上的高峰日，"
            f"虚线为日均工单量，点线为日均的{fmt.number(PEAK_FACTOR, 1)}倍。"
        ),
    )


def _peak_phone(sec: Section, daily: pd.Series, is_peak: pd.Series) -> None:
    calls = sec.data("calls")
    if calls is None:
        sec.narrative(
            "peak_phone",
            _absent(reason_no_dataset("calls"), "高峰日的电话接通情况"),
        )
        return
    per_day = phone_by_day(calls, sec)
    if per_day is None:
        lacking = next(c for c in PHONE_COLUMNS if c not in calls.columns)
        sec.narrative(
            "peak_phone",
            f"电话数据{reason_no_column('calls', lacking)}，无法评估高峰日的电话接通情况。",
        )
        return
    per_day = per_day.reindex(daily.index, fill_value=0)
    mask = is_peak.to_numpy()
    th = sec.config.thresholds
    sl_name = f"{fmt.number(th.service_level_seconds, 0)}秒接通率"

    def group(sel: np.ndarray) -> dict:
        p = per_day[sel].sum()
        days = int(sel.sum())
        offered = int(p["offered"])
        return {
            "days": days,
            "tickets": float(daily[sel].sum()) / days if days else None,
            "offered": offered / days if days else None,
            "answer": p["answered"] / offered if offered else None,
            "sl": p["within"] / offered if offered else None,
        }

    peak_g, other_g, all_g = group(mask), group(~mask), group(np.ones(len(mask), dtype=bool))
    if peak_g["answer"] is None:
        sec.narrative("peak_phone", "高峰日没有请求人工的来电记录，无法评估高峰日的电话接通情况。")
        return
    std = sec.config.standards
    text = (
        f"从电话服务看，高峰日日均请求人工来电{fmt.number(peak_g['offered'], 1)}次，"
        f"人工接通率{fmt.percent(peak_g['answer'])}、{sl_name}{fmt.percent(peak_g['sl'])}"
    )
    if other_g["answer"] is not None:
        text += (
            f"，分别较其他日期{_pp(peak_g['answer'] - other_g['answer'])}和"
            f"{_pp(peak_g['sl'] - other_g['sl'])}"
        )
    text += "。"
    verdicts = []
    for key, mid, name in (
        ("answer", "phone.answer_rate", "人工接通率"),
        ("sl", "phone.service_level", sl_name),
    ):
        t = std.target(mid)
        if t is None:
            continue
        verdict = "达到" if t.met(peak_g[key]) else "未达到"
        verdicts.append(f"{name}{verdict}{fmt.target(t, 'rate')}的目标")
    if verdicts:
        text += "高峰日" + "，".join(verdicts) + "。"
    sec.narrative("peak_phone", text)
    rows = [
        (label, g["days"], g["tickets"], g["offered"], g["answer"], g["sl"])
        for label, g in (("高峰日", peak_g), ("其他日期", other_g), ("全季度", all_g))
        if g["days"]
    ]
    columns = (
        Column("日期类别", "text", width=0.15),
        Column("天数", "int", width=0.09),
        Column("日均工单量", "number", decimals=1, width=0.17),
        Column("日均请求人工来电", "number", decimals=1, width=0.24),
        Column("人工接通率", "rate", width=0.17),
        Column(sl_name, "rate", width=0.18),
    )
    sec.table(
        "高峰日与其他日期电话接通情况对比",
        columns,
        rows,
        note=(
            f"注：请求人工来电不含排队不足{fmt.number(th.short_abandon_seconds, 0)}秒即挂断的短时放弃，"
            "接通率口径与“服务响应速度”一节相同。"
        ),
    )
