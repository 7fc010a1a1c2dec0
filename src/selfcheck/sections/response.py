"""Section 服务响应速度: online by window, phone, on-site arrival and appointment confirmation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck.metrics import online as online_metrics
from selfcheck.metrics import phone as phone_metrics
from selfcheck.metrics import visits as visit_metrics
from selfcheck.metrics.base import STATUS_MISSED, Measure, Metric
from selfcheck.period import Period
from selfcheck.schema import AREA_ZH, VISIT_KIND_ZH
from selfcheck.section import Section
from selfcheck.sections.common import (
    compute_with_history,
    metric_frame,
    metric_table,
    shortfall_sentence,
    shortfalls,
)

SECTION_ID = "response"

ONLINE_IDS = (
    "online.sessions",
    "online.bot_only_rate",
    "online.workday_timeout_rate",
    "online.workday_avg_minutes",
    "online.workday_p90_minutes",
    "online.offhours_timeout_rate",
    "online.offhours_avg_minutes",
    "online.offhours_p90_minutes",
    "online.offhours_notice_rate",
)
PHONE_IDS = (
    "phone.calls",
    "phone.offered",
    "phone.answer_rate",
    "phone.abandon_rate",
    "phone.service_level",
    "phone.asa_seconds",
    "phone.queue_p90_seconds",
    "phone.queue_max_seconds",
    "phone.ring_late_rate",
    "phone.busy_rate",
    "phone.aht_seconds",
)
VISIT_IDS = (
    "visits.total",
    "visits.confirm_late_rate",
    "visits.emergency_late_rate",
    "visits.emergency_late_rate.area:core",
    "visits.emergency_late_rate.area:suburb",
    "visits.regular_late_rate",
    "visits.regular_late_rate.area:core",
    "visits.regular_late_rate.area:suburb",
    "visits.eta_notice_rate",
    "visits.compensation_rate",
)


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    th, cal = sec.config.thresholds, sec.config.calendar
    on = online_metrics.online(sec.data("chats", period), th, cal)
    ph = phone_metrics.phone(sec.data("calls", period), th)
    vi = visit_metrics.visits(sec.data("visits", period), th)
    out: dict[str, Measure] = {}
    out.update({k: on[k] for k in ONLINE_IDS})
    out.update({k: ph[k] for k in PHONE_IDS})
    out.update({k: vi[k] for k in VISIT_IDS})
    return out


def compute(sec: Section) -> pd.DataFrame:
    """Compute every metric of the section (with QoQ and YoY) and keep them in the result."""
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


def _pick(sec: Section, ids: Sequence[str]) -> list[Metric]:
    return [sec.metric(i) for i in ids]


def overview(sec: Section) -> None:
    """The section's opening paragraph: what was measured and what falls short."""
    metrics = sec.result.metrics
    with_target = [m for m in metrics if m.target is not None and m.has_value]
    missed = shortfalls(metrics)
    th = sec.config.thresholds
    text = (
        f"本季度（{sec.period.range_zh}）服务响应速度从在线咨询、电话热线和现场服务三个渠道检查，"
        f"共计算设有目标的指标{len(with_target)}项，其中达标{len(with_target) - len(missed)}项、"
        f"未达标{len(missed)}项。"
    )
    if missed:
        text += "未达标的指标为：" + "；".join(shortfall_sentence(m) for m in missed) + "。"
    else:
        text += "各项响应时效指标均达到目标。"
    sec.narrative("overview", text)
    sec.paragraph(
        f"注：在线咨询按会话发起时间划分工作时间（工作日{sec.config.params.calendar.work_start:%H:%M}"
        f"—{sec.config.params.calendar.work_end:%H:%M}，含调休上班日）与非工作时间，响应时限分别为"
        f"{fmt.number(th.online_workday_minutes, 0)}分钟和{fmt.number(th.online_offhours_minutes, 0)}分钟；"
        f"电话振铃时限按{fmt.number(th.ring_limit_seconds, 0)}秒计，排队不足"
        f"{fmt.number(th.short_abandon_seconds, 0)}秒即挂断的短时放弃不计入接通率、放弃率和服务水平的分母。",
        style="note",
    )


# -- online -----------------------------------------------------------------------------


def online(sec: Section) -> None:
    metrics = _pick(sec, ONLINE_IDS)
    sec.heading("在线服务响应")
    m = {x.metric_id: x for x in metrics}
    sessions = m["online.sessions"]
    if not sessions.has_value:
        sec.paragraph(f"本季度无在线咨询数据（{sessions.reason}），在线响应指标无法计算。")
        metric_table(sec, "在线服务响应指标", metrics)
        return
    parts = [f"本季度在线咨询会话{fmt.value(sessions.value, 'count')}次"]
    bot = m["online.bot_only_rate"]
    if bot.has_value:
        parts.append(f"机器人独立解决{fmt.value(bot.value, 'rate')}")
    text = "，".join(parts) + "。"
    for window, label in (("workday", "工作时间"), ("offhours", "非工作时间")):
        rate, avg = m[f"online.{window}_timeout_rate"], m[f"online.{window}_avg_minutes"]
        if not rate.has_value:
            text += f"{label}无人工请求数据。"
            continue
        sentence = (
            f"{label}人工请求{fmt.value(rate.denominator, 'count')}次，"
            f"平均首次响应{fmt.value(avg.value, 'minutes')}，超时率{fmt.value(rate.value, 'rate')}"
        )
        status = fmt.status_phrase(rate)
        if status:
            sentence += f"，{status}"
        change = fmt.change_phrase(rate)
        if change:
            sentence += f"，{change}"
        text += sentence + "。"
    notice = m["online.offhours_notice_rate"]
    if notice.has_value:
        text += f"非工作时间回复的标注率为{fmt.value(notice.value, 'rate')}。"
    sec.narrative("online", text)
    metric_table(sec, "在线服务响应指标", metrics)
    _online_chart(sec, m)


def _online_chart(sec: Section, m: dict[str, Metric]) -> None:
    labels, values, short, targets = [], [], [], []
    for window, label in (("workday", "工作时间"), ("offhours", "非工作时间")):
        rate = m[f"online.{window}_timeout_rate"]
        if rate.has_value:
            labels.append(label)
            values.append(float(rate.value) * 100)  # type: ignore[arg-type]
            short.append(rate.status == STATUS_MISSED)
            targets.append(None if rate.target is None else rate.target.value * 100)
    if not labels:
        return
    fig, ax = charts.figure(height_in=2.8)
    bars = ax.bar(labels, values, color=charts.bar_colors(short), width=0.5)
    for i, t in enumerate(targets):
        if t is not None:
            ax.hlines(t, i - 0.35, i + 0.35, colors=charts.NEUTRAL, linestyles="--", linewidth=1.2)
            ax.annotate(f"目标≤{t:.1f}%", (i + 0.36, t), fontsize=7, va="center", color="#595959")
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    ax.set_ylabel("超时率（%）")
    ax.set_ylim(0, max([*values, *[t for t in targets if t is not None]]) * 1.3)
    sec.figure(fig, "在线人工请求超时率（按时段）", note="注：红色为未达到目标，虚线为目标值。")


# -- phone ------------------------------------------------------------------------------


def phone(sec: Section) -> None:
    metrics = _pick(sec, PHONE_IDS)
    sec.heading("电话服务响应")
    m = {x.metric_id: x for x in metrics}
    calls = m["phone.calls"]
    if not calls.has_value:
        sec.paragraph(f"本季度无电话数据（{calls.reason}），电话响应指标无法计算。")
        metric_table(sec, "电话服务响应指标", metrics)
        return
    text = (
        f"本季度热线来电{fmt.value(calls.value, 'count')}次，请求人工"
        f"{fmt.value(m['phone.offered'].value, 'count')}次。"
    )
    pieces = []
    for mid in (
        "phone.answer_rate",
        "phone.abandon_rate",
        "phone.service_level",
        "phone.asa_seconds",
    ):
        x = m[mid]
        if not x.has_value:
            continue
        s = f"{x.name}{fmt.value(x.value, x.unit)}"
        status = fmt.status_phrase(x)
        if status:
            s += f"（{status.replace('的目标', '')}）"
        pieces.append(s)
    if pieces:
        text += "，".join(pieces) + "。"
    p90, mx = m["phone.queue_p90_seconds"], m["phone.queue_max_seconds"]
    if p90.has_value:
        text += (
            f"九成已接通来电的排队时长不超过{fmt.value(p90.value, 'seconds')}，"
            f"最长排队{fmt.value(mx.value, 'seconds')}。"
        )
    sl = m["phone.service_level"]
    change = fmt.change_phrase(sl)
    if change:
        text += f"{sl.name}{change}。"
    sec.narrative("phone", text)
    metric_table(sec, "电话服务响应指标", metrics)
    _phone_daily_chart(sec, sl)
    _queue_chart(sec)


def _phone_daily_chart(sec: Section, sl: Metric) -> None:
    calls = sec.data("calls")
    if calls is None or "queue_seconds" not in calls.columns or not sl.has_value:
        return
    th = sec.config.thresholds
    q = calls["queue_seconds"]
    answered = calls["outcome"] == "answered"
    short = (calls["outcome"] == "abandoned") & (q < th.short_abandon_seconds).fillna(False)
    offered = answered | ((calls["outcome"] == "abandoned") & ~short)
    within = answered & (q <= th.service_level_seconds).fillna(False)
    day = calls["arrived_at"].dt.normalize()
    daily = (
        pd.DataFrame({"day": day, "offered": offered, "within": within})
        .groupby("day")[["offered", "within"]]
        .sum()
    )
    daily = daily[daily["offered"] > 0]
    if daily.empty:
        return
    rate = daily["within"] / daily["offered"] * 100
    fig, ax = charts.figure(height_in=2.8)
    ax.plot(rate.index, rate.to_numpy(), color=charts.PRIMARY, linewidth=1.2)
    if sl.target is not None:
        t = sl.target.value * 100
        ax.axhline(t, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        below = rate < t
        ax.scatter(rate.index[below], rate[below], color=charts.SHORTFALL, s=8, zorder=3)
    ax.set_ylabel(f"{fmt.number(th.service_level_seconds, 0)}秒接通率（%）")
    ax.xaxis.set_major_formatter(_month_day_formatter())
    sec.figure(
        fig,
        f"每日{fmt.number(th.service_level_seconds, 0)}秒接通率",
        note="注：虚线为目标值，红点为未达到目标的日期。",
    )


def _queue_chart(sec: Section) -> None:
    calls = sec.data("calls")
    if calls is None or "queue_seconds" not in calls.columns:
        return
    th = sec.config.thresholds
    q = calls.loc[calls["outcome"] == "answered", "queue_seconds"].dropna().to_numpy()
    if len(q) == 0:
        return
    cap = 180.0
    bins = np.arange(0, cap + 10, 10)
    counts, _ = np.histogram(np.minimum(q, cap + 1), bins=[*bins[:-1], np.inf])
    share = counts / len(q) * 100
    fig, ax = charts.figure(height_in=2.8)
    colors = [
        charts.PRIMARY if b < th.service_level_seconds else charts.SECONDARY for b in bins[:-1]
    ]
    ax.bar(bins[:-1] + 5, share, width=9, color=colors)
    ax.axvline(th.service_level_seconds, color=charts.NEUTRAL, linestyle="--", linewidth=1)
    ticks = bins[::2]
    ax.set_xticks(ticks, [f"{int(t)}" if t < cap else f"≥{int(cap)}" for t in ticks])
    ax.set_xlabel("排队时长（秒）")
    ax.set_ylabel("占已接通来电（%）")
    sec.figure(
        fig,
        "已接通来电排队时长分布",
        note=f"注：每格10秒，虚线为{fmt.number(th.service_level_seconds, 0)}秒服务水平界限，超过{int(cap)}秒的并入最后一格。",
    )


# -- on-site ----------------------------------------------------------------------------


def onsite(sec: Section) -> None:
    metrics = _pick(sec, VISIT_IDS)
    sec.heading("现场服务响应")
    m = {x.metric_id: x for x in metrics}
    total = m["visits.total"]
    if not total.has_value:
        sec.paragraph(f"本季度无现场服务数据（{total.reason}），现场响应指标无法计算。")
        metric_table(sec, "现场服务响应指标", metrics)
        return
    th = sec.config.thresholds.arrival_minutes
    text = f"本季度现场服务{fmt.value(total.value, 'count')}次。"
    confirm = m["visits.confirm_late_rate"]
    if confirm.has_value:
        text += (
            f"预约确认超时率{fmt.value(confirm.value, 'rate')}"
            + (f"，{fmt.status_phrase(confirm)}" if confirm.target else "")
            + "。"
        )
    for kind in ("emergency", "regular"):
        x = m[f"visits.{kind}_late_rate"]
        if not x.has_value:
            continue
        text += f"{VISIT_KIND_ZH[kind]}服务到场超时率{fmt.value(x.value, 'rate')}" + (
            f"，{fmt.status_phrase(x)}" if x.target else ""
        )
        areas = []
        for area in ("core", "suburb"):
            y = m[f"visits.{kind}_late_rate.area:{area}"]
            if y.has_value:
                areas.append(f"{AREA_ZH[area]}{fmt.value(y.value, 'rate')}")
        if areas:
            text += "（其中" + "、".join(areas) + "）"
        text += "。"
    eta, comp = m["visits.eta_notice_rate"], m["visits.compensation_rate"]
    if eta.has_value:
        text += f"郊区紧急服务的预计到达时间告知率为{fmt.value(eta.value, 'rate')}。"
    if comp.has_value:
        text += f"常规服务超时后的补偿执行率为{fmt.value(comp.value, 'rate')}。"
    sec.narrative("onsite", text)
    sec.paragraph(
        f"到场时限：紧急服务城市核心区{fmt.number(th.emergency_core, 0)}分钟、郊区/偏远"
        f"{fmt.number(th.emergency_suburb, 0)}分钟；常规服务城市核心区{fmt.number(th.regular_core, 0)}分钟、"
        f"郊区/偏远{fmt.number(th.regular_suburb, 0)}分钟。未记录到场时间的服务单不计入到场指标。",
        style="note",
    )
    metric_table(sec, "现场服务响应指标", metrics)
    _onsite_chart(sec, m)


def _onsite_chart(sec: Section, m: dict[str, Metric]) -> None:
    labels, values, short = [], [], []
    for kind in ("emergency", "regular"):
        parent = m[f"visits.{kind}_late_rate"]
        for area in ("core", "suburb"):
            y = m[f"visits.{kind}_late_rate.area:{area}"]
            if not y.has_value:
                continue
            labels.append(f"{VISIT_KIND_ZH[kind]}·{AREA_ZH[area]}")
            values.append(float(y.value) * 100)  # type: ignore[arg-type]
            short.append(parent.target is not None and not parent.target.met(float(y.value)))  # type: ignore[arg-type]
    if not labels:
        return
    fig, ax = charts.figure(height_in=2.8)
    bars = ax.bar(labels, values, color=charts.bar_colors(short), width=0.55)
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    for kind, xs in (("emergency", (0, 1)), ("regular", (2, 3))):
        t = m[f"visits.{kind}_late_rate"].target
        if t is not None and len(labels) == 4:
            ax.hlines(
                t.value * 100, xs[0] - 0.35, xs[1] + 0.35, colors=charts.NEUTRAL, linestyles="--"
            )
    ax.set_ylabel("到场超时率（%）")
    ax.set_ylim(0, max(values) * 1.3 + 1)
    sec.figure(
        fig,
        "现场服务到场超时率（按服务类型和区域）",
        note="注：虚线为该服务类型的目标值，红色为高于目标。",
    )


def _month_day_formatter():
    import matplotlib.dates as mdates

    return mdates.DateFormatter("%m-%d")
