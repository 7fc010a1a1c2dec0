"""The paragraphs of the section 服务体系建设现状, one function per narrative slot.

Each takes the section (its metrics computed) and the figures it describes, and returns
the slot's text; :mod:`selfcheck.sections.system` emits them.
"""

from __future__ import annotations

import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import analyst_file, load_facts
from selfcheck.metrics import peaks
from selfcheck.metrics import system as system_metrics
from selfcheck.metrics.base import STATUS_MISSED
from selfcheck.metrics.catalogue import REASON_EMPTY, reason_no_dataset
from selfcheck.schema import ROLE_ZH, ROLES
from selfcheck.section import Section
from selfcheck.sections import phrases
from selfcheck.sections.system.terms import (
    PEAK_FACTOR,
    PEAK_IDS,
    SYSTEM_IDS,
    TEAM_IDS,
    TRAINING_IDS,
    WEEKDAYS,
    _absent,
    _day_zh,
    _fact_phrase,
    _pp,
    _shortfall,
    standard_facts,
)


def service_level_name(sec: Section) -> str:
    """``45秒接通率``."""
    return f"{fmt.number(sec.config.thresholds.service_level_seconds, 0)}秒接通率"


def _group(groups: pd.DataFrame, name: str) -> dict:
    """One group of the peak-day phone figures with the names the sentences use (None: NaN)."""
    g = groups.loc[name]
    keys = {"days": "days", "tickets": "tickets", "offered": "offered"}
    keys |= {"answer": "answer_rate", "sl": "service_level"}
    return {k: None if pd.isna(g[c]) else g[c] for k, c in keys.items()}


_ASPECTS = (  # the aspects of the section and the dataset each needs (None: the analyst's)
    ("服务团队", "staff"),
    ("培训开展", "training"),
    ("服务标准", None),
    ("系统保障", "incidents"),
    ("业务高峰应对", "tickets"),
)
_COUNT_ZH = {1: "", 2: "两个", 3: "三个", 4: "四个", 5: "五个"}


def overview(sec: Section) -> str:
    """The section's opening paragraph: what was examined and what falls short."""
    scope = sec.scope
    metrics = [
        m
        for m in sec.result.metrics
        if ":" not in m.metric_id and scope.includes_metric(m.metric_id)
    ]
    tally = phrases.target_tally(metrics)
    with_target, missed = tally.evaluated, tally.missed
    aspects = [a for a, d in _ASPECTS if d is None or scope.includes(d)]  # those in scope
    text = (
        f"本季度（{sec.period.range_zh}）服务体系建设情况从{'、'.join(aspects[:-1])}"
        f"{'和' if len(aspects) > 1 else ''}{aspects[-1]}{_COUNT_ZH[len(aspects)]}方面进行检查"
    )
    if with_target:
        text += f"，涉及{tally.counts()}。"
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
    return text


def team(sec: Section) -> str:
    """Headcount and roles, tenure, certification, languages, turnover."""
    m = phrases.pick_by_id(sec, TEAM_IDS)
    hc = m["team.headcount"]
    if not hc.has_value:
        return _absent(hc.reason, "服务团队的规模和结构")
    text = f"截至本季度末（{fmt.date_zh(sec.period.last_day)}），客户服务在岗人员共{phrases.count(hc.value)}人"
    roles = [
        f"{ROLE_ZH[r]}人员{phrases.count(x.value)}人"
        for r in ROLES
        if (x := m[f"team.headcount.role:{r}"]).has_value
    ]
    if roles:
        text += "，其中" + "、".join(roles)
    change = phrases.count_change(hc, "人", relative=False)
    if change:
        text += f"，人员总数{change}"
    text += "。"
    tenure = m["team.tenure_years_mean"]
    if tenure.has_value:
        text += f"在岗人员平均服务年限为{fmt.value(tenure.value, 'years')}。"
    cert = m["team.certified_rate"]
    if cert.has_value:
        text += (
            f"持证上岗率为{fmt.value(cert.value, 'rate')}（{phrases.count(cert.numerator)}/"
            f"{phrases.count(cert.denominator)}人）{phrases.status_clause(cert)}"
        )
        lacking = int(cert.denominator - cert.numerator)  # type: ignore[operator]
        if lacking:
            text += f"，尚有{phrases.count(lacking)}名在岗人员未取得上岗资格"
        unknown = int(hc.value - cert.denominator)  # type: ignore[operator]
        if unknown > 0:
            text += f"，另有{phrases.count(unknown)}人的持证情况未登记"
        text += "。"
    else:
        text += f"持证上岗情况无数据（{cert.reason}）。"
    multi = m["team.multilingual_rate"]
    if multi.has_value:
        base = "在岗人员" if multi.denominator == hc.value else "已登记语种情况的在岗人员"
        text += (
            f"具备两种及以上语种服务能力的人员{phrases.count(multi.numerator)}人，"
            f"占{base}的{fmt.value(multi.value, 'rate')}{phrases.change_clause(multi)}。"
        )
    turnover = m["team.turnover_rate"]
    if turnover.has_value:
        text += (
            f"本季度离职{phrases.count(turnover.numerator)}人，以期初在岗{phrases.count(turnover.denominator)}人计，"
            f"人员流失率为{fmt.value(turnover.value, 'rate')}{phrases.status_clause(turnover)}{phrases.change_clause(turnover)}。"
        )
    else:
        text += f"人员流失率无数据（{turnover.reason}）。"
    return text


def training(sec: Section, attendances: int | None) -> str:
    """Sessions, hours, coverage of frontline staff, pass rate (``attendances``: rows of
    the training data, None without it)."""
    m = phrases.pick_by_id(sec, TRAINING_IDS)
    sessions = m["training.sessions"]
    if not sessions.has_value or attendances is None:
        reason = sessions.reason or reason_no_dataset("training")
        return _absent(reason, "培训开展情况")
    hours, person_hours = m["training.hours"], m["training.person_hours"]
    text = f"本季度共组织培训{phrases.count(sessions.value)}场"
    if hours.has_value:
        text += f"，累计培训时长{fmt.value(hours.value, 'hours')}"
    text += f"，参训{phrases.count(attendances)}人次"
    if person_hours.has_value:
        text += f"，合计{fmt.number(person_hours.value, 1)}人时"
    text += "。"
    cover = m["training.coverage_rate"]
    if cover.has_value:
        text += (
            f"一线人员培训覆盖率为{fmt.value(cover.value, 'rate')}（{phrases.count(cover.numerator)}/"
            f"{phrases.count(cover.denominator)}人）{phrases.status_clause(cover)}{phrases.change_clause(cover)}"
        )
        missing = int(cover.denominator - cover.numerator)  # type: ignore[operator]
        if missing:
            text += f"，尚有{phrases.count(missing)}名在岗一线人员本季度未参加任何培训"
        text += "。"
    elif sec.scope.includes_metric(cover.metric_id):  # without staff: not reported
        text += f"一线人员培训覆盖率无数据（{cover.reason}）。"
    passed = m["training.pass_rate"]
    if passed.has_value:
        text += (
            f"培训考核{phrases.count(passed.denominator)}人次，合格率为{fmt.value(passed.value, 'rate')}"
            f"{phrases.status_clause(passed)}{phrases.change_clause(passed)}。"
        )
    else:
        text += f"培训考核合格率无数据（{passed.reason}）。"
    return text


def standards(sec: Section) -> tuple[str, str | None]:
    """The analyst's facts on standards, with a warning for the run log when there are none."""
    facts = load_facts(sec.config, sec.period)
    path = analyst_file(sec.config, sec.period, "facts")
    if facts is None:
        return (
            "本季度未提供服务标准体系方面的材料（如制度文件数量、标准覆盖的业务场景比例、"
            "标准条款修订情况等），本部分暂无法评述。此类情况无法从业务数据中统计，"
            f"需由分析人员在参数文件所在目录建立{path.name}逐项填写，并注明来源。",
            f"未找到事实材料文件 {path}，“服务标准体系建设情况”一节没有内容，请分析人员补充。",
        )
    chosen = standard_facts(facts)
    if not chosen:
        return (
            f"分析人员提供的事实材料（{path.name}）中未列出服务标准体系方面的事项，本部分暂无法评述。",
            f"{path} 中没有 area 为 standards 的事项，“服务标准体系建设情况”一节没有内容。",
        )
    text = (
        "根据分析人员提供并注明来源的材料，本季度服务标准体系建设情况如下："
        + "；".join(_fact_phrase(f) for f in chosen)
        + "。各项材料的来源见[[表?:standards]]。"
    )
    return text, None


def systems(sec: Section, durations: pd.DataFrame | None) -> str:
    """Incidents, major ones, repair time, interruptions (``durations``: one row per
    incident, None without incident data)."""
    m = phrases.pick_by_id(sec, SYSTEM_IDS)
    count = m["system.incidents"]
    if not count.has_value or durations is None:
        reason = count.reason or reason_no_dataset("incidents")
        return _absent(reason, "系统保障情况")
    major, mttr, inter = (
        m["system.major_incidents"],
        m["system.mttr_minutes"],
        m["system.interruption_hours"],
    )
    if count.value == 0:
        return "本季度客户服务相关系统未发生故障，服务未因系统原因中断。"
    text = f"本季度客户服务相关系统共发生故障{phrases.count(count.value)}次"
    change = phrases.count_change(count, "次", relative=False)
    if change:
        text += f"，{change}"
    if major.has_value:
        if major.value:
            text += f"，其中重大故障{phrases.count(major.value)}次，未实现重大故障零发生的目标"
        else:
            text += "，未发生重大故障"
    text += "。"
    if mttr.has_value:
        text += f"已恢复故障的平均修复时长为{fmt.value(mttr.value, 'minutes')}{phrases.status_clause(mttr)}{phrases.change_clause(mttr)}"
        unresolved = int(count.value - (mttr.n or 0))  # type: ignore[operator]
        if unresolved > 0:
            text += f"；截至季度末仍有{phrases.count(unresolved)}次故障未恢复"
        text += "。"
    else:
        text += f"平均修复时长无数据（{mttr.reason}）。"
    if inter.has_value:
        if not inter.n:
            text += "本季度未发生造成服务中断的故障。"
        else:
            text += f"造成服务中断的故障{phrases.count(inter.n)}次，累计中断{fmt.value(inter.value, 'hours')}"
            if inter.target is not None:
                commitment = f"服务承诺（累计中断{fmt.target(inter.target, 'hours')}）"
                if inter.status == STATUS_MISSED:
                    over = float(inter.value) - inter.target.value  # type: ignore[arg-type]
                    text += f"，超出{commitment}{fmt.value(over, 'hours')}"
                else:
                    text += f"，在{commitment}范围之内"
            text += f"{phrases.change_clause(inter)}。"
            longest = system_metrics.longest(durations, 1, interrupted=True)
            if not longest.empty:
                top = longest.iloc[0]
                still = "（截至季度末尚未恢复）" if pd.isna(top["resolved"]) else ""
                text += (
                    f"持续时间最长的一次为{_day_zh(top['started'])}{top['system']}故障，"
                    f"中断{fmt.value(top['minutes'], 'minutes')}{still}。"
                )
    else:
        text += f"服务中断时长无数据（{inter.reason}）。"
    return text


def peak(sec: Section, daily: pd.Series | None, is_peak: pd.Series | None) -> str:
    """The busiest day against the daily average, and the peak days (``daily``: tickets
    per day, None without them)."""
    ratio = phrases.pick_by_id(sec, PEAK_IDS)["tickets.peak_ratio"]
    if not ratio.has_value or daily is None or is_peak is None:
        reason = ratio.reason or reason_no_dataset("tickets")
        return _absent(reason, "业务高峰情况")
    busiest = daily.idxmax()  # the earliest of the busiest days
    ties = int((daily == daily.max()).sum())
    n_peak = int(is_peak.sum())
    text = (
        f"本季度共受理工单{phrases.count(daily.sum())}件，日均{fmt.number(ratio.denominator, 1)}件。"
        f"工单量最高的一天为{fmt.date_zh(busiest.date())}（星期{WEEKDAYS[busiest.weekday()]}），"
        f"当日受理{phrases.count(ratio.numerator)}件，为日均水平的{fmt.value(ratio.value, 'ratio')}"
    )
    if ratio.previous is not None:
        text += f"（上季度为{fmt.value(ratio.previous, 'ratio')}）"
    text += "。"
    if ties > 1:
        text += f"另有{phrases.count(ties - 1)}天的工单量与之相同。"
    factor = fmt.number(PEAK_FACTOR, 1)
    if peaks.reaches_peak(daily, PEAK_FACTOR):
        dates = [_day_zh(d) for d in daily.index[is_peak.to_numpy()]]
        shown = "、".join(dates[:6]) + ("等" if len(dates) > 6 else "")
        text += f"工单量达到日均{factor}倍及以上的高峰日共{phrases.count(n_peak)}天（{shown}）。"
    else:
        text += f"本季度没有工单量达到日均{factor}倍的日期，业务量分布较为平稳，以下以工单量最高的一天作为高峰日比较。"
    return text


def peak_phone(sec: Section, groups: pd.DataFrame | None, missing: str | None) -> str:
    """Phone service on peak days against the other days (``groups``: the peak-day phone
    figures; ``missing``: the sentence's reason when they cannot be had)."""
    if missing is not None:
        return missing
    assert groups is not None
    peak_g, other_g = _group(groups, "peak"), _group(groups, "other")
    if peak_g["answer"] is None:
        return "高峰日没有请求人工的来电记录，无法评估高峰日的电话接通情况。"
    sl_name = service_level_name(sec)
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
    return text
