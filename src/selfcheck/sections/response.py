"""Section 服务响应速度: online by window, phone, on-site arrival and appointment confirmation.

One function per report block; the notebook (``04_response.ipynb``) writes the headings
and calls them in report order after :func:`compute`. Narrative slots: ``overview``,
``online``, ``phone``, ``onsite``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Figure, Paragraph, Table
from selfcheck.metrics import online as online_metrics
from selfcheck.metrics import phone as phone_metrics
from selfcheck.metrics import visits as visit_metrics
from selfcheck.metrics.base import STATUS_MISSED, Measure
from selfcheck.period import Period
from selfcheck.schema import AREA_ZH, VISIT_KIND_ZH
from selfcheck.section import Section
from selfcheck.sections.common import (
    FIGURE_WIDTH_IN,
    METRIC_COLUMN_NAMES,
    cached,
    compute_with_history,
    figure,
    metric_frame,
    metric_table,
    reset_cache,
)
from selfcheck.sections.phrases import change_clause, pick, pick_by_id, status_clause, target_tally
from selfcheck.sections.phrases import metric as metric_of

SECTION_ID = "response"
CHART_SIZE = (FIGURE_WIDTH_IN, 2.8)  # inches

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


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


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
    reset_cache(sec)
    metrics = compute_with_history(sec, _measures)
    return metric_frame(metrics)


# -- overview -----------------------------------------------------------------------------


CHANNELS = (("在线咨询", "chats"), ("电话热线", "calls"), ("现场服务", "visits"))


def overview_text(sec: Section) -> Paragraph:
    """The section's opening paragraph: what was measured and what falls short."""
    tally = target_tally(sec.result.metrics)
    channels = [c for c, d in CHANNELS if sec.scope.includes(d)] or [c for c, _ in CHANNELS]
    count_zh = {1: "", 2: "两个", 3: "三个"}[len(channels)]
    text = (
        f"本季度（{sec.period.range_zh}）服务响应速度从{'、'.join(channels[:-1])}"
        f"{'和' if len(channels) > 1 else ''}{channels[-1]}{count_zh}渠道检查，"
        f"共计算{tally.counts()}。"
    )
    text += tally.shortfall_list() or "各项响应时效指标均达到目标。"
    return sec.narrative("overview", text)


def overview_note(sec: Section) -> Paragraph | None:
    """The note on the time limits of online and phone responses (of those in scope)."""
    th, cal = sec.config.thresholds, sec.config.params.calendar
    parts = []
    if sec.scope.includes("chats"):
        parts.append(
            f"在线咨询按会话发起时间划分工作时间（工作日{cal.work_start:%H:%M}"
            f"—{cal.work_end:%H:%M}，含调休上班日）与非工作时间，响应时限分别为"
            f"{fmt.number(th.online_workday_minutes, 0)}分钟和{fmt.number(th.online_offhours_minutes, 0)}分钟"
        )
    if sec.scope.includes("calls"):
        parts.append(
            f"电话振铃时限按{fmt.number(th.ring_limit_seconds, 0)}秒计，排队不足"
            f"{fmt.number(th.short_abandon_seconds, 0)}秒即挂断的短时放弃不计入接通率、放弃率和服务水平的分母"
        )
    if not parts:
        return None
    return sec.paragraph("注：" + "；".join(parts) + "。", style="note")


# -- online -----------------------------------------------------------------------------

WINDOWS = (("workday", "工作时间"), ("offhours", "非工作时间"))


def online_text(sec: Section) -> Paragraph:
    """Sessions, bot resolution, and per time window the requests, response time and
    timeout rate with status and change."""
    m = pick_by_id(sec, ONLINE_IDS)
    sessions = m["online.sessions"]
    if not sessions.has_value:
        return sec.paragraph(f"本季度无在线咨询数据（{sessions.reason}），在线响应指标无法计算。")
    parts = [f"本季度在线咨询会话{fmt.value(sessions.value, 'count')}次"]
    bot = m["online.bot_only_rate"]
    if bot.has_value:
        parts.append(f"机器人独立解决{fmt.value(bot.value, 'rate')}")
    text = "，".join(parts) + "。"
    for window, label in WINDOWS:
        rate, avg = m[f"online.{window}_timeout_rate"], m[f"online.{window}_avg_minutes"]
        if not rate.has_value:
            text += f"{label}无人工请求数据。"
            continue
        text += (
            f"{label}人工请求{fmt.value(rate.denominator, 'count')}次，"
            f"平均首次响应{fmt.value(avg.value, 'minutes')}，超时率{fmt.value(rate.value, 'rate')}"
            f"{status_clause(rate)}{change_clause(rate)}。"
        )
    notice = m["online.offhours_notice_rate"]
    if notice.has_value:
        text += f"非工作时间回复的标注率为{fmt.value(notice.value, 'rate')}。"
    text += "各项指标见[[表?:在线服务响应指标]]，各时段超时率见[[图?:online]]。"
    return sec.narrative("online", text)


def online_table(
    sec: Section,
    rows: Sequence[str] = ONLINE_IDS,
    columns: Sequence[str] = METRIC_COLUMN_NAMES,
) -> Table:
    """The online metrics (``rows``: metric ids), with the ``columns`` chosen."""
    return metric_table(sec, "在线服务响应指标", pick(sec, rows), columns)


def online_chart(sec: Section, size: tuple[float, float] = CHART_SIZE) -> Figure | None:
    """Timeout rate of the human requests per time window, against the target."""
    labels, values, short, targets = [], [], [], []
    for window, label in WINDOWS:
        rate = metric_of(sec, f"online.{window}_timeout_rate")
        if rate.has_value:
            labels.append(label)
            values.append(float(rate.value) * 100)  # type: ignore[arg-type]
            short.append(rate.status == STATUS_MISSED)
            targets.append(None if rate.target is None else rate.target.value * 100)
    if not labels:
        return None
    fig, ax = figure(sec, size)
    bars = ax.bar(labels, values, color=charts.bar_colors(short), width=0.5)
    for i, t in enumerate(targets):
        if t is not None:
            ax.hlines(t, i - 0.35, i + 0.35, colors=charts.NEUTRAL, linestyles="--", linewidth=1.2)
            ax.annotate(f"目标≤{t:.1f}%", (i + 0.36, t), fontsize=7, va="center", color="#595959")
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], fontsize=8, padding=2)
    ax.set_ylabel("超时率（%）")
    ax.set_ylim(0, max([*values, *[t for t in targets if t is not None]]) * 1.3)
    return sec.figure(
        fig,
        "在线人工请求超时率（按时段）",
        note="注：红色为未达到目标，虚线为目标值。",
        label="online",
    )


# -- phone ------------------------------------------------------------------------------


def phone_text(sec: Section) -> Paragraph:
    """Calls, offered calls, the main rates with their status, queue times and the change
    of the service level."""
    m = pick_by_id(sec, PHONE_IDS)
    calls = m["phone.calls"]
    if not calls.has_value:
        return sec.paragraph(f"本季度无电话数据（{calls.reason}），电话响应指标无法计算。")
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
    text += "各项指标见[[表?:电话服务响应指标]]。每日接通率走势如[[图?:phone_daily]]所示。"
    return sec.narrative("phone", text)


def phone_table(
    sec: Section,
    rows: Sequence[str] = PHONE_IDS,
    columns: Sequence[str] = METRIC_COLUMN_NAMES,
) -> Table:
    """The phone metrics (``rows``: metric ids), with the ``columns`` chosen."""
    return metric_table(sec, "电话服务响应指标", pick(sec, rows), columns)


def phone_daily_chart(sec: Section, size: tuple[float, float] = CHART_SIZE) -> Figure | None:
    """The service level of each day, the target and the days below it."""
    sl = metric_of(sec, "phone.service_level")
    th = sec.config.thresholds
    daily = cached(
        sec, "daily_service_level", lambda: phone_metrics.daily_service_level(sec.data("calls"), th)
    )
    if daily.empty or not sl.has_value:
        return None
    rate = daily["rate"] * 100
    fig, ax = figure(sec, size)
    ax.plot(rate.index, rate.to_numpy(), color=charts.PRIMARY, linewidth=1.2)
    if sl.target is not None:
        t = sl.target.value * 100
        ax.axhline(t, color=charts.NEUTRAL, linestyle="--", linewidth=1)
        below = rate < t
        ax.scatter(rate.index[below], rate[below], color=charts.SHORTFALL, s=8, zorder=3)
    ax.set_ylabel(f"{fmt.number(th.service_level_seconds, 0)}秒接通率（%）")
    ax.xaxis.set_major_formatter(_month_day_formatter())
    return sec.figure(
        fig,
        f"每日{fmt.number(th.service_level_seconds, 0)}秒接通率",
        note="注：虚线为目标值，红点为未达到目标的日期。",
        label="phone_daily",
    )


def queue_chart(
    sec: Section,
    bin_seconds: float = 10,
    cap_seconds: float = 180,
    size: tuple[float, float] = CHART_SIZE,
) -> Figure | None:
    """Distribution of the queue time of the answered calls, in bins of ``bin_seconds``;
    waits beyond ``cap_seconds`` go into the last bin."""
    th = sec.config.thresholds
    dist = phone_metrics.queue_distribution(
        sec.data("calls"), bin_seconds=bin_seconds, cap_seconds=cap_seconds
    )
    if dist.empty:
        return None
    starts = dist["start"].to_numpy()
    fig, ax = figure(sec, size)
    colors = [charts.PRIMARY if b < th.service_level_seconds else charts.SECONDARY for b in starts]
    ax.bar(
        starts + bin_seconds / 2,
        dist["share"].to_numpy() * 100,
        width=bin_seconds * 0.9,
        color=colors,
    )
    ax.axvline(th.service_level_seconds, color=charts.NEUTRAL, linestyle="--", linewidth=1)
    ticks = [*starts, cap_seconds][::2]
    ax.set_xticks(
        ticks, [f"{int(t)}" if t < cap_seconds else f"≥{int(cap_seconds)}" for t in ticks]
    )
    ax.set_xlabel("排队时长（秒）")
    ax.set_ylabel("占已接通来电（%）")
    return sec.figure(
        fig,
        "已接通来电排队时长分布",
        note=f"注：每格{fmt.number(bin_seconds, 0)}秒，虚线为{fmt.number(th.service_level_seconds, 0)}秒服务水平界限，"
        f"超过{int(cap_seconds)}秒的并入最后一格。",
    )


# -- on-site ----------------------------------------------------------------------------


def onsite_text(sec: Section) -> Paragraph:
    """Visits, confirmation and arrival timeout rates (by area), ETA notice and compensation."""
    m = pick_by_id(sec, VISIT_IDS)
    total = m["visits.total"]
    if not total.has_value:
        return sec.paragraph(f"本季度无现场服务数据（{total.reason}），现场响应指标无法计算。")
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
    text += "各项指标见[[表?:现场服务响应指标]]，按服务类型和区域的到场超时率见[[图?:onsite]]。"
    return sec.narrative("onsite", text)


def onsite_note(sec: Section) -> Paragraph | None:
    """The note on the arrival time limits (none without on-site data)."""
    if not metric_of(sec, "visits.total").has_value:
        return None
    th = sec.config.thresholds.arrival_minutes
    return sec.paragraph(
        f"到场时限：紧急服务城市核心区{fmt.number(th.emergency_core, 0)}分钟、郊区/偏远"
        f"{fmt.number(th.emergency_suburb, 0)}分钟；常规服务城市核心区{fmt.number(th.regular_core, 0)}分钟、"
        f"郊区/偏远{fmt.number(th.regular_suburb, 0)}分钟。未记录到场时间的服务单不计入到场指标。",
        style="note",
    )


def onsite_table(
    sec: Section,
    rows: Sequence[str] = VISIT_IDS,
    columns: Sequence[str] = METRIC_COLUMN_NAMES,
) -> Table:
    """The on-site metrics (``rows``: metric ids), with the ``columns`` chosen."""
    return metric_table(sec, "现场服务响应指标", pick(sec, rows), columns)


def onsite_chart(sec: Section, size: tuple[float, float] = CHART_SIZE) -> Figure | None:
    """Arrival timeout rate by service kind and area, against the kind's target."""
    m = pick_by_id(sec, VISIT_IDS)
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
        return None
    fig, ax = figure(sec, size)
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
    return sec.figure(
        fig,
        "现场服务到场超时率（按服务类型和区域）",
        note="注：虚线为该服务类型的目标值，红色为高于目标。",
        label="onsite",
    )


def _month_day_formatter():
    import matplotlib.dates as mdates

    return mdates.DateFormatter("%m-%d")
