"""The paragraphs of the section 服务流程运行效能, one function per narrative slot.

Each takes the section (its metrics computed) and returns the slot's text (``None`` where
the paragraph is left out); :mod:`selfcheck.sections.process` emits them.
"""

from __future__ import annotations

import re

from selfcheck import fmt
from selfcheck.metrics.base import STATUS_MISSED
from selfcheck.schema import LEVEL_ZH, LEVELS
from selfcheck.section import Section
from selfcheck.sections import phrases
from selfcheck.sections.process.terms import (
    AGE_BUCKETS,
    AGE_IDS,
    ARCHIVE_IDS,
    CHANNEL_IDS,
    DELIVERY_IDS,
    HANDLING_IDS,
    INTAKE_IDS,
    NO_TICKETS,
    SLA_IDS,
    VISIT_IDS,
    _changes,
    _clause,
    _clock_phrase,
    _count_change_total,
    _duration,
    _labelled,
    _no_data_sentence,
    _no_tickets,
    _pick,
    _pp_change,
    _share,
    _sla_limits,
    _zh,
)

# -- paragraphs (one per narrative slot) ---------------------------------------------------


_STAGES = (  # the stages of the section and the datasets they report on
    ("受理", ("tickets",)),
    ("处理", ("tickets",)),
    ("交付", ("visits",)),
    ("归档", ("tickets", "visits")),
)


def overview(sec: Section) -> str:
    """The section's opening paragraph: what was measured and what falls short."""
    scope = sec.scope
    metrics = [_labelled(m) for m in sec.result.metrics if scope.includes_metric(m.metric_id)]
    tally = phrases.target_tally(metrics)
    with_target, missed = tally.evaluated, tally.missed
    no_data = [m for m in metrics if m.target is not None and not m.has_value]
    total = phrases.metric(sec, "tickets.total")
    stages = [s for s, d in _STAGES if scope.includes_any(d)] or [s for s, _ in _STAGES]
    count_zh = {1: "一个", 2: "两个", 3: "三个", 4: "四个"}[len(stages)]
    intro = f"本季度（{sec.period.range_zh}）服务流程运行效能按{'、'.join(stages)}{count_zh}环节开展自查"
    covered = []
    if total.has_value and total.value:
        covered.append(f"工单{phrases.count(total.value)}件")
    completed = phrases.metric(sec, "visits.archive_late_rate").denominator
    if completed:
        covered.append(f"已完成的现场服务单{phrases.count(completed)}单")
    if covered:
        intro += "，覆盖" + "、".join(covered)
    text = intro + "。"
    if not with_target:
        reasons = []
        no_tickets = _no_tickets(sec)
        if no_tickets is not None and scope.includes("tickets"):
            reasons.append("本季度未受理工单" if no_tickets == NO_TICKETS else no_tickets)
        visit_reason = phrases.metric(sec, VISIT_IDS[0]).reason or ""
        if visit_reason.startswith("未提供") and scope.includes("visits"):
            reasons.append(visit_reason)
        if reasons:
            text += f"因{'、'.join(reasons)}，设有目标的流程指标均无法计算，详见各环节说明。"
        else:
            text += "设有目标的流程指标均无法计算，原因见各环节说明。"
        return text
    counted = len(with_target) + len(no_data)
    if not missed and not no_data:
        text += f"设有目标的流程指标共{counted}项，均达到目标。"
    else:
        text += f"设有目标的流程指标共{counted}项，其中达标{tally.met}项、未达标{len(missed)}项"
        if no_data:
            text += f"、因数据缺失无法评价{len(no_data)}项"
        text += "。"
    if missed:
        text += "未达标的指标为：" + "；".join(_clause(m) for m in missed) + "。"
    elif no_data:
        text += "有数据的流程指标均达到目标。"
    return text


def intake(sec: Section, rows: list[dict] | None) -> str:
    """The intake paragraph; ``rows``: the channel mix (None when channels are unknown)."""
    reason = _no_tickets(sec)
    if reason is not None:
        return _no_data_sentence(reason, "受理渠道构成及受理环节指标")
    total = phrases.metric(sec, "tickets.total")
    text = f"本季度共受理工单{phrases.count(total.value)}件"
    change = _count_change_total(total)
    if change:
        text += f"，{change}"
    text += "。"
    if rows is not None:
        used = [r for r in rows if r["count"]]
        ranked = sorted(used, key=lambda r: -r["count"])
        top = ranked[:3]
        text += f"工单来自{_zh(len(used))}个受理渠道，"
        text += (
            "、".join(
                f"{r['label']}渠道{phrases.count(r['count'])}件（占{fmt.percent(r['share'])}）"
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
        reason = next(
            phrases.metric(sec, i).reason
            for i in CHANNEL_IDS
            if not phrases.metric(sec, i).has_value
        )
        text += f"工单数据无法区分受理渠道（{reason}），渠道构成无法分析。"
    bot, transfer, repeat = (_labelled(phrases.metric(sec, i)) for i in INTAKE_IDS)
    flow = []
    flow.append(_clause(bot, label="智能客服解决率"))
    flow.append(_clause(transfer, label="转人工率"))
    text += "；".join(flow) + "。"
    window = fmt.number(sec.config.thresholds.repeat_window_days, 0)
    if repeat.has_value:
        text += (
            f"同一客户{window}天内经任一渠道再次来访的工单{phrases.count(repeat.numerator)}件，"
            f"{_clause(repeat)}。"
        )
    else:
        text += _clause(repeat) + "。"
    return text


def categories(sec: Section, rows: list[dict], top_n: int) -> str | None:
    """The top problem categories; ``rows``: every category, largest first."""
    if _no_tickets(sec) is not None:
        return None
    if not rows:
        frame = sec.data("tickets")
        if frame is not None and "category" not in frame.columns:
            text = "工单数据缺少“问题类别”列（category），无法按问题类别分析受理需求。"
        else:
            text = "本季度工单均未填写问题类别，无法按问题类别分析受理需求。"
        return text
    top = rows[:top_n]
    total = phrases.metric(sec, "tickets.total")
    lead = top[:3]
    text = "从问题类别看，" + "、".join(
        f"{r['label']}（{phrases.count(r['count'])}件，占{fmt.percent(r['share'])}）" for r in lead
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
        text += f"另有{phrases.count(unlabelled)}件工单未填写问题类别。"
    return text


def sla(sec: Section, pending: float) -> str:
    """The SLA paragraph; ``pending``: tickets neither met nor breached at period end."""
    reason = _no_tickets(sec)
    if reason is not None:
        return _no_data_sentence(reason, "分级处理时效及处理环节指标")
    limits = _sla_limits(sec)
    text = (
        "工单实行分级处理："
        + "，".join(f"{lv}（{LEVEL_ZH[lv]}问题）{limits[lv]}" for lv in LEVELS)
        + f"；{_clock_phrase(sec)}。"
    )
    metrics = [phrases.metric(sec, i) for i in SLA_IDS]
    if not any(m.has_value for m in metrics):
        reason = metrics[0].reason or "无可判定的工单"
        text += f"本季度分级时效达标率无法计算（{reason}）。"
        return text
    parts = []
    for lv, m in zip(LEVELS, metrics, strict=True):
        if not m.has_value:
            parts.append(f"{lv}工单无已判定达标或超时的记录")
            continue
        met = m.numerator or 0.0
        breached = (m.denominator or 0.0) - met
        s = (
            f"{lv}工单时效达标率{fmt.value(m.value, 'rate')}"
            f"（按时办结{phrases.count(met)}件、超时{phrases.count(breached)}件）"
        )
        s += phrases.status_clause(m)
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
    if pending:
        text += f"另有{phrases.count(pending)}件工单至期末尚未办结且未超过时限，不计入达标率。"
    return text


def handling(sec: Section) -> str | None:
    """Handling speed and flow: medians, handoffs, reopen, escalation."""
    if _no_tickets(sec) is not None:
        return None
    first, resolution, handoffs, reopen, escalation = (
        _labelled(phrases.metric(sec, i)) for i in HANDLING_IDS
    )
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
    return text


def backlog(sec: Section) -> str | None:
    """Tickets still open at period end, with their ageing."""
    if _no_tickets(sec) is not None:
        return None
    b = phrases.metric(sec, "tickets.backlog")
    end = f"截至{fmt.date_zh(sec.period.last_day)}24时"
    if not b.has_value:
        return f"期末未结工单无法统计（{b.reason}）。"
    total = phrases.metric(sec, "tickets.total")
    n = float(b.value)  # type: ignore[arg-type]
    if n == 0:
        text = f"{end}，本季度受理的工单均已办结（L3工单已给出方案），无积压工单"
        if b.previous:
            text += f"（上季度末为{phrases.count(b.previous)}件）"
        return text + "。"
    text = (
        f"{end}，本季度受理的工单中尚有{phrases.count(n)}件未办结（L3工单以给出方案为办结），"
        f"占工单总量的{fmt.percent(_share(n, total.value))}"
    )
    change = phrases.stock_change(n, b.previous)
    if change:
        text += f"，{change}"
    text += "。"
    ages = [phrases.metric(sec, i) for i in AGE_IDS]
    if all(a.has_value for a in ages):
        over3 = sum(float(a.value) for a in ages[2:])  # type: ignore[arg-type]
        over7 = float(ages[3].value)  # type: ignore[arg-type]
        text += "按账龄分，" + "、".join(
            f"{bucket}{phrases.count(a.value)}件"
            for bucket, a in zip(AGE_BUCKETS, ages, strict=True)
            if a.value
        )
        text += "。"
        if over7:
            text += f"超过7天的积压工单{phrases.count(over7)}件，应逐件督办销号。"
        elif over3:
            text += f"账龄超过3天的工单{phrases.count(over3)}件，需跟踪办结。"
        else:
            text += "积压工单账龄均在3天以内。"
    else:
        reason = next(a.reason for a in ages if not a.has_value)
        text += f"账龄无法划分（{reason}）。"
    return text


def delivery(sec: Section) -> str:
    metrics = _pick(sec, DELIVERY_IDS)
    node, accept, dissatisfied, extra = metrics
    if not any(m.has_value for m in metrics):
        reason = next((m.reason for m in metrics if m.reason), "无可计算的记录")
        if reason.startswith("未提供"):
            text = f"本季度{reason}，现场服务交付指标无法计算。"
        else:
            text = f"本季度现场服务交付指标无法计算（{reason}）。"
        return text
    completed = phrases.metric(sec, "visits.archive_late_rate").denominator
    text = "本季度"
    if completed:
        text += f"已完成现场服务{phrases.count(completed)}单。"
    else:
        text = ""
    pieces = []
    if node.has_value:
        s = (
            f"服务过程关键节点完成率为{fmt.value(node.value, 'rate')}"
            f"（应完成节点{phrases.count(node.denominator)}个，已完成{phrases.count(node.numerator)}个）"
        )
        s += phrases.status_clause(node)
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
            detail = f"{phrases.count(m.denominator)}单中{what}{phrases.count(m.numerator)}单"
            if m.numerator == 0:
                detail = f"{phrases.count(m.denominator)}单{none}"
            elif m.numerator == m.denominator:
                detail = f"{phrases.count(m.denominator)}单{every}"
        pieces.append(_clause(m, label=label, detail=detail))
    text += "；".join(pieces) + "。"
    missed = [m for m in metrics if m.status == STATUS_MISSED]
    if not missed and all(m.has_value for m in metrics):
        text += "交付环节各项指标均达到考核标准。"
    return text


def archive(sec: Section) -> str:
    metrics = _pick(sec, ARCHIVE_IDS)
    tick, visit = metrics
    limit = _duration(sec.config.thresholds.archive_limit_hours)
    scope = sec.scope  # only the records in scope: tickets, visits or both
    has_tickets = scope.includes("tickets") or not scope.includes("visits")
    has_visits = scope.includes("visits") or not scope.includes("tickets")
    rules = [
        *([f"工单应在关闭（未关闭的以解决时间为准）后{limit}内归档"] if has_tickets else []),
        *([f"现场服务单应在服务完成后{limit}内归档"] if has_visits else []),
    ]
    text = "按规定，" + "，".join(rules) + "。"
    pieces = []
    if tick.has_value:
        pieces.append(
            f"本季度已关闭（或已解决）且可判定的工单{phrases.count(tick.denominator)}件中，"
            f"归档超时或逾期未归档{phrases.count(tick.numerator)}件，" + _clause(tick)
        )
    elif has_tickets:
        pieces.append(_clause(tick))
    if visit.has_value:
        pieces.append(
            f"已完成的现场服务单{phrases.count(visit.denominator)}单中，"
            f"归档超时或未归档{phrases.count(visit.numerator)}单，" + _clause(visit)
        )
    elif has_visits:
        pieces.append(_clause(visit))
    text += "；".join(pieces) + "。"
    return text
