"""Section 服务质量检查: sampling, scores per dimension and team, pass rate, critical errors,
and the spread of mean scores across agents.

Every figure comes from the ``qa.*`` metrics (``selfcheck.metrics.qa``) of the period, with
their history; the few figures the catalogue does not hold (reviews and sampling base per
source, failed reviews and critical errors per agent, quartiles of agent means) are
computed here, vectorised, with the same conventions as the metric module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Column
from selfcheck.metrics import qa as qa_metrics
from selfcheck.metrics.base import (
    STATUS_MET,
    STATUS_MISSED,
    STATUS_NO_DATA,
    STATUS_NO_TARGET,
    Measure,
    Metric,
    Target,
)
from selfcheck.metrics.catalogue import reason_no_column, reason_no_dataset
from selfcheck.period import Period
from selfcheck.schema import DATASETS, QA_SOURCES
from selfcheck.section import Section
from selfcheck.sections.common import (
    compute_with_history,
    metric_frame,
    metric_table,
    shortfall_sentence,
    shortfalls,
)

SECTION_ID = "quality"

MAIN_IDS = (
    "qa.reviews",
    "qa.sampling_rate",
    "qa.score_mean",
    "qa.pass_rate",
    "qa.critical_error_rate",
)
TREND_IDS = ("qa.sampling_rate", "qa.score_mean", "qa.pass_rate", "qa.critical_error_rate")
TEAM_PREFIX = "qa.score_mean.team:"
AGENT_PREFIX = "qa.score_mean.agent:"
UNKNOWN_TEAM = qa_metrics.UNKNOWN_TEAM

SOURCE_ZH = {"call": "电话", "chat": "在线会话", "ticket": "工单", "visit": "现场服务单"}
SOURCE_BASE_ZH = {
    "call": "人工接听来电",
    "chat": "获人工回复的在线会话",
    "ticket": "工单",
    "visit": "现场服务单",
}
SOURCE_UNIT = {"call": "次", "chat": "次", "ticket": "件", "visit": "件"}
SOURCE_LABEL = {
    "call": "电话（人工接听来电）",
    "chat": "在线（获人工回复的会话）",
    "ticket": "工单",
    "visit": "现场服务单",
}
LOWEST_AGENTS = 5  # agents listed at least (the lowest means) …
MAX_LISTED_AGENTS = 10  # … and at most, even when more fall below the pass mark
_PASS_TOLERANCE = qa_metrics.PASS_TOLERANCE  # a mean of exactly the pass mark is not below it

SAMPLED_COLUMNS = (  # the targets are named in the table's note
    Column("项目", "text", width=0.16),
    Column("本期", "figure", width=0.11),
    Column("95%置信区间", "text", width=0.19),
    Column("样本量", "int", width=0.10),
    Column("状态", "status", width=0.08),
    Column("较上季度", "figure", width=0.20),
    Column("说明", "text", width=0.16),
)


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


# -- metrics ----------------------------------------------------------------------------


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    return qa_metrics.qa(
        sec.data("qa_reviews", period),
        sec.config.thresholds,
        staff=sec.data("staff", period),
        calls=sec.data("calls", period),
        chats=sec.data("chats", period),
        tickets=sec.data("tickets", period),
        visits=sec.data("visits", period),
    )


def compute(sec: Section) -> pd.DataFrame:
    """Compute every ``qa`` metric (breakdowns included) with QoQ, YoY, trend and intervals.

    The frame shown in the notebook leaves out the per-agent rows (they are summarised in
    the report, not listed one per row).
    """
    metrics = compute_with_history(sec, _measures)
    return metric_frame([m for m in metrics if not m.metric_id.startswith(AGENT_PREFIX)])


def _m(sec: Section, metric_id: str) -> Metric:
    return sec.metric(metric_id)


def _breakdown(sec: Section, prefix: str) -> list[Metric]:
    return [m for m in sec.result.metrics if m.metric_id.startswith(prefix) and m.has_value]


def _key(m: Metric) -> str:
    return m.metric_id.split(":", 1)[1]


def _score_target(sec: Section) -> Target | None:
    return _m(sec, "qa.score_mean").target


def _no_reviews(sec: Section) -> str | None:
    """Why there are no reviews to describe (None when there are)."""
    reviews = _m(sec, "qa.reviews")
    if not reviews.has_value:
        return _this_quarter(reviews.reason)
    if not reviews.value:
        return "本季度无质检记录"
    return None


def _this_quarter(reason: str | None) -> str:
    """``本季度未提供质检数据 (qa_reviews)`` from a metric's reason."""
    if reason and reason.startswith("未提供"):
        return f"本季度{reason}"
    return f"本季度质检数据无法使用（{reason or '原因不明'}）"


def _score(v: float | None) -> str:
    return fmt.value(v, "score")


def _pass_mark(sec: Section) -> str:
    return _score(sec.config.thresholds.qa_pass_score)


# -- overview ---------------------------------------------------------------------------


def overview(sec: Section) -> None:
    """The opening paragraph, the table of the main metrics and their five-quarter trend."""
    main = [_m(sec, i) for i in MAIN_IDS]
    missing = _no_reviews(sec)
    if missing:
        sec.narrative("overview", f"{missing}，服务质量检查各项指标无法计算。")
        return
    reviews = _m(sec, "qa.reviews")
    agents = _breakdown(sec, AGENT_PREFIX)
    with_target = [m for m in main if m.target is not None and m.has_value]
    missed = shortfalls(with_target)
    text = f"本季度（{sec.period.range_zh}）共完成服务质检{fmt.value(reviews.value, 'count')}条"
    if agents:
        text += f"，涉及坐席{fmt.value(len(agents), 'count')}人"
    text += "，从专业性、规范性、客户体验三个维度评分。"
    if missed:
        text += (
            f"设有目标的质检指标{len(with_target)}项，其中达标{len(with_target) - len(missed)}项、"
            f"未达标{len(missed)}项：" + "；".join(shortfall_sentence(m) for m in missed) + "。"
        )
    elif with_target:
        text += f"设有目标的质检指标{len(with_target)}项，均达到目标。"
    no_data = [m for m in main if m.target is not None and not m.has_value]
    if no_data:
        text += (
            "；".join(
                f"{m.name}无法计算（"
                + (
                    _sampling_reason(m, source_rows(sec))
                    if m.metric_id == "qa.sampling_rate"
                    else str(m.reason)
                )
                + "）"
                for m in no_data
            )
            + "。"
        )
    sec.narrative("overview", text)
    metric_table(sec, "服务质量检查主要指标", main)
    trend = [_m(sec, i) for i in TREND_IDS if _m(sec, i).has_value]
    fig = charts.trend_panels(trend)
    if fig is not None:
        targets = "虚线为目标值，红点为未达到目标的季度；" if any(m.target for m in trend) else ""
        sec.figure(
            fig,
            "质检主要指标近五个季度走势",
            note=f"注：{targets}缺少数据的季度不绘制。",
        )


# -- (一) coverage --------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    source: str  # a QA source, or "" for reviews without one
    reviews: int | None  # None: the reviews do not say their source
    base: int | None  # None: not counted (no data, or not a source of the base)
    reason: str | None = None

    @property
    def rate(self) -> float | None:
        if self.reviews is None or not self.base:
            return None
        return self.reviews / self.base


def source_rows(sec: Section) -> list[SourceRow]:
    """Reviews and sampling base per source, as ``qa.sampling_rate`` counts them.

    The sources are those occurring in the reviews (all four when none says its source);
    a last row with ``source == ""`` counts reviews without a source, when there are any.
    """
    reviews = sec.data("qa_reviews")
    if reviews is None:
        return []
    by_source: dict[str, int] = {}
    unknown = 0
    if "source" in reviews.columns:
        src = reviews["source"].astype("string").str.strip()
        counts = src.value_counts()
        by_source = {s: int(counts.get(s, 0)) for s in QA_SOURCES if counts.get(s, 0)}
        unknown = len(reviews) - sum(by_source.values())
    sources = tuple(by_source) or QA_SOURCES
    rows = []
    for source in sources:
        base, reason = _source_base(sec, source)
        rows.append(SourceRow(source, by_source.get(source) if by_source else None, base, reason))
    if by_source and unknown:
        rows.append(SourceRow("", unknown, None))
    return rows


def _sampling_reason(rate: Metric, rows: Sequence[SourceRow]) -> str:
    """Why the sampling rate has no value, naming the sources in Chinese."""
    gaps = [f"{r.reason}，无法统计{SOURCE_BASE_ZH[r.source]}数量" for r in rows if r.reason]
    return "；".join(gaps) or str(rate.reason)


def _source_base(sec: Section, source: str) -> tuple[int | None, str | None]:
    dataset = {"call": "calls", "chat": "chats", "ticket": "tickets", "visit": "visits"}[source]
    frame = sec.data(dataset)
    if frame is None:
        return None, reason_no_dataset(dataset)
    if source == "call":
        if "outcome" not in frame.columns:
            return None, reason_no_column(dataset, "outcome")
        return int(frame["outcome"].eq("answered").fillna(False).to_numpy(dtype=bool).sum()), None
    if source == "chat":
        if "first_reply_at" not in frame.columns:
            return None, reason_no_column(dataset, "first_reply_at")
        return int(frame["first_reply_at"].notna().sum()), None
    return len(frame), None


def _judged(what: str, metric: str, target: Target | None, unit: str) -> str:
    """``各维度得分对照质检平均分目标（≥90.0分）判断。`` / ``质检平均分未设目标。``"""
    if target is None:
        return f"{metric}未设目标，{what}不判断达标状态。"
    return f"{what}对照{metric}目标（{fmt.target(target, unit)}）判断。"


def _status_against(value: float | None, target: Target | None) -> str:
    if value is None:
        return STATUS_NO_DATA
    if target is None:
        return STATUS_NO_TARGET
    return STATUS_MET if target.met(value) else STATUS_MISSED


def coverage(sec: Section) -> None:
    """（一）质检覆盖情况: sampling rate and the sampling base per source."""
    sec.heading("质检覆盖情况")
    missing = _no_reviews(sec)
    if missing:
        sec.narrative("coverage", f"{missing}，无法统计质检覆盖情况。")
        return
    reviews, rate = _m(sec, "qa.reviews"), _m(sec, "qa.sampling_rate")
    rows = source_rows(sec)
    counted = [r for r in rows if r.source]
    text = f"本季度完成服务质检{fmt.value(reviews.value, 'count')}条"
    if rate.has_value:
        parts = [
            f"{SOURCE_BASE_ZH[r.source]}{fmt.value(r.base, 'count')}{SOURCE_UNIT[r.source]}"
            for r in counted
            if r.base is not None
        ]
        text += f"，抽样基数为服务记录{fmt.value(rate.denominator, 'count')}条"
        if len(parts) > 1:
            text += "（" + "、".join(parts) + "）"
        text += f"，质检抽样率{fmt.value(rate.value, 'rate')}"
        for phrase in (fmt.status_phrase(rate), fmt.change_phrase(rate)):
            if phrase:
                text += f"，{phrase}"
        year = fmt.change_phrase(rate, versus="上年同期")
        if year:
            text += f"，{year}"
        text += "。"
    else:
        text += f"；质检抽样率无法计算（{_sampling_reason(rate, rows)}）。"
    by_source = [r for r in counted if r.rate is not None]
    if by_source and len(counted) > 1:
        text += (
            "分来源看，"
            + "、".join(
                f"{SOURCE_ZH[r.source]}抽样率{fmt.value(r.rate, 'rate')}" for r in by_source
            )
            + "。"
        )
        low = [r for r in by_source if rate.target is not None and not rate.target.met(r.rate)]  # type: ignore[arg-type]
        if low:
            text += (
                f"其中{'、'.join(SOURCE_ZH[r.source] for r in low)}的抽样率未达到"
                f"{fmt.target(rate.target, 'rate')}的抽样要求，抽检力度有待加强。"
            )
    if counted and counted[0].reviews is not None:
        absent = [s for s in QA_SOURCES if s not in {r.source for r in counted}]
        if absent:
            text += (
                f"本季度质检未抽检{'、'.join(SOURCE_ZH[s] for s in absent)}，"
                "相应服务记录未计入抽样基数。"
            )
    else:
        text += "质检记录未填写来源，无法按来源统计抽样率，抽样基数按电话、在线会话、工单和现场服务单四类合计。"
    unknown = [r for r in rows if not r.source]
    if unknown:
        text += (
            f"另有{fmt.value(unknown[0].reviews, 'count')}条质检记录未填写来源，"
            "计入质检量，未计入分来源统计。"
        )
    sec.narrative("coverage", text)
    _coverage_table(sec, rows, rate, reviews)


def _coverage_table(sec: Section, rows: Sequence[SourceRow], rate: Metric, reviews: Metric) -> None:
    if not rows:
        return
    table_rows = []
    for r in rows:
        label = SOURCE_LABEL[r.source] if r.source else "来源未填写"
        status = _status_against(r.rate, rate.target) if r.source else None
        table_rows.append((label, r.reviews, r.base, r.rate, status))
    table_rows.append(("合计", reviews.value, rate.denominator, rate.value, rate.status))
    reasons = sorted({r.reason for r in rows if r.reason})
    if rows[0].reviews is None:
        note = "注：质检记录未填写来源，抽样基数为四类服务记录数之和，不分来源计算抽样率。"
    else:
        note = "注：抽样基数为本季度质检记录中出现的各来源服务记录数之和；" + _judged(
            "各来源抽样率", "质检抽样率", rate.target, "rate"
        )
    if reasons:
        note += "无数据：" + "；".join(reasons) + "。"
    sec.table(
        "质检抽样情况（按来源）",
        (
            Column("来源", "text", width=0.34),
            Column("质检量", "int", width=0.15),
            Column("抽样基数", "int", width=0.17),
            Column("抽样率", "rate", width=0.17),
            Column("状态", "status", width=0.17),
        ),
        table_rows,
        note=note,
    )


# -- (二) scores ------------------------------------------------------------------------


def _ci_text(m: Metric) -> str | None:
    """``90.8–91.5`` / ``98.0%–99.6%``; with two decimals when one decimal would show the
    same figure twice (very large samples)."""
    if not m.has_value or m.ci_low is None or m.ci_high is None:
        return None
    lo, hi = _bound(m.ci_low, m.unit, 1), _bound(m.ci_high, m.unit, 1)
    if lo == hi:
        lo, hi = _bound(m.ci_low, m.unit, 2), _bound(m.ci_high, m.unit, 2)
    return f"{lo}–{hi}"


def _bound(v: float, unit: str, decimals: int) -> str:
    return fmt.percent(v, decimals) if unit == "rate" else fmt.number(v, decimals)


def _interval(m: Metric) -> str:
    """``fmt.interval``, with the bounds of :func:`_ci_text` (never ``91.2–91.2``)."""
    text = fmt.interval(m)
    ci = _ci_text(m)
    if text and ci and text.startswith("95%置信区间"):
        rest = text.split("，", 1)[1] if "，" in text else ""
        text = f"95%置信区间{ci}" + (f"，{rest}" if rest else "")
    return text


def _remark(m: Metric) -> str | None:
    parts = []
    if m.small_sample:
        parts.append("样本量不足")
    if m.significant is not None:
        parts.append("变化显著" if m.significant else "变化不显著")
    return "；".join(parts) or None


def _sampled_row(label: str, m: Metric, target: Target | None) -> tuple:
    value = float(m.value) if m.has_value else None  # type: ignore[arg-type]
    return (
        label,
        fmt.value(m.value, m.unit),
        _ci_text(m),
        m.n if m.has_value else None,
        _status_against(value, target),
        fmt.delta(m.delta, m.unit),
        _remark(m),
    )


def _sampled_note(sec: Section, extra: str = "") -> str:
    return (
        "注：95%置信区间——平均分按t分布、比率按Wilson方法计算；样本量少于"
        f"{fmt.value(sec.config.thresholds.min_sample, 'count')}条的标注“样本量不足”；"
        "“变化显著”指与上季度相比的差异在5%水平上统计显著。" + extra
    )


def _with_phrases(m: Metric, *, interval: bool = True) -> str:
    """``91.2分（95%置信区间…，n=570），达到≥90.0分的目标，较上季度上升0.3分，变化在统计上不显著``."""
    text = fmt.value(m.value, m.unit)
    ci = _interval(m) if interval else ""
    if ci:
        text += f"（{ci}）"
    for phrase in (fmt.status_phrase(m), fmt.change_phrase(m), fmt.significance_phrase(m)):
        if phrase:
            text += f"，{phrase}"
    return text


def _visible_change(m: Metric) -> bool:
    """A change that shows at the report's precision (not ``与上季度持平``)."""
    phrase = fmt.change_phrase(m)
    return bool(phrase) and not phrase.startswith("与")


def _dimension_label(metric_id: str) -> str:
    return DATASETS["qa_reviews"].column(metric_id.rsplit(":", 1)[1]).zh


def scores(sec: Section) -> None:
    """（二）质检得分情况: overall and per dimension, then per team with a chart."""
    sec.heading("质检得分情况")
    missing = _no_reviews(sec)
    if missing:
        sec.narrative("scores", f"{missing}，无法统计质检得分。")
        return
    overall = _m(sec, "qa.score_mean")
    target = _score_target(sec)
    dims = [_m(sec, i) for i in qa_metrics.DIMENSION_IDS]
    if overall.has_value:
        text = f"本季度质检平均分{_with_phrases(overall)}。"
    else:
        text = f"本季度质检平均分无法计算（{overall.reason}）。"
    known = [d for d in dims if d.has_value]
    if known:
        text += "分维度看，" + "、".join(
            f"{_dimension_label(d.metric_id)}{fmt.value(d.value, d.unit)}" for d in known
        )
        shown = {fmt.value(d.value, d.unit) for d in known}
        if len(known) > 1 and len(shown) > 1:
            low = min(known, key=lambda d: float(d.value))  # type: ignore[arg-type]
            text += f"，{_dimension_label(low.metric_id)}得分相对较低"
        text += "。"
        below = [d for d in known if target is not None and not target.met(float(d.value))]  # type: ignore[arg-type]
        if below:
            text += (
                f"{'、'.join(_dimension_label(d.metric_id) for d in below)}未达到"
                f"{fmt.target(target, 'score')}的目标。"
            )
        moved = [d for d in known if d.significant and _visible_change(d)]
        if moved:
            text += (
                "与上季度相比，"
                + "、".join(
                    f"{_dimension_label(d.metric_id)}{fmt.change_phrase(d).removeprefix('较上季度')}"
                    for d in moved
                )
                + "，变化在统计上显著。"
            )
    for d in dims:
        if not d.has_value:
            text += f"{_dimension_label(d.metric_id)}得分无法计算（{d.reason}）。"
    sec.narrative("scores", text)
    rows = [_sampled_row("综合得分", overall, target)]
    rows += [_sampled_row(_dimension_label(d.metric_id), d, target) for d in dims]
    sec.table(
        "质检得分（按维度）",
        SAMPLED_COLUMNS,
        rows,
        note=_sampled_note(
            sec,
            "综合得分为每条质检记录专业性、规范性、客户体验三项得分的平均；"
            + _judged("各维度得分", "质检平均分", target, "score"),
        ),
    )
    _teams(sec, overall, target)


def _teams(sec: Section, overall: Metric, target: Target | None) -> None:
    teams = _breakdown(sec, TEAM_PREFIX)
    if not teams:
        staff = sec.data("staff")
        if staff is None:
            why = reason_no_dataset("staff")
        elif "team" not in staff.columns:
            why = f"人员数据{reason_no_column('staff', 'team')}"
        else:
            why = "无可归属班组的质检记录"
        sec.narrative("teams", f"{why}，无法按班组统计质检得分。")
        return
    known = [t for t in teams if _key(t) != UNKNOWN_TEAM]
    unknown = [t for t in teams if _key(t) == UNKNOWN_TEAM]
    text = ""
    if known:
        hi = max(known, key=lambda t: float(t.value))  # type: ignore[arg-type]
        lo = min(known, key=lambda t: float(t.value))  # type: ignore[arg-type]
        if len(known) == 1:
            text = f"分班组看，{_key(hi)}质检平均分{_score(hi.value)}。"
        else:
            text = (
                f"分班组看，{len(known)}个班组的质检平均分在{_score(lo.value)}至"
                f"{_score(hi.value)}之间，{_key(hi)}最高、{_key(lo)}最低。"
            )
        if target is not None:
            below = [t for t in known if not target.met(float(t.value))]  # type: ignore[arg-type]
            if below:
                text += (
                    f"未达到{fmt.target(target, 'score')}目标的班组为"
                    + "、".join(f"{_key(t)}（{_score(t.value)}）" for t in below)
                    + "。"
                )
            else:
                text += f"各班组平均分均达到{fmt.target(target, 'score')}的目标。"
        small = [t for t in known if t.small_sample]
        if small:
            text += (
                f"{'、'.join(_key(t) for t in small)}的质检记录不足"
                f"{fmt.value(sec.config.thresholds.min_sample, 'count')}条，样本量不足，结果仅供参考。"
            )
        tested = [t for t in known if t.significant is not None]
        significant = [t for t in tested if t.significant]
        moved = [t for t in significant if _visible_change(t)]
        if moved:
            text += (
                "与上季度相比，"
                + "、".join(
                    f"{_key(t)}{fmt.change_phrase(t).removeprefix('较上季度')}" for t in moved
                )
                + "，变化在统计上显著"
            )
            rest = len(moved) == len(significant) and len(moved) < len(tested)
            text += "；其余班组的变化在统计上不显著。" if rest else "。"
        elif tested and not significant:
            text += "与上季度相比，各班组平均分的变化在统计上均不显著。"
    if unknown:
        text += (
            f"另有{fmt.value(unknown[0].n, 'count')}条质检记录的坐席未在人员数据中登记班组，"
            f"归入“{UNKNOWN_TEAM}”。"
        )
    sec.narrative("teams", text)
    sec.table(
        "质检得分（按班组）",
        SAMPLED_COLUMNS,
        [_sampled_row(_key(t), t, target) for t in teams],
        note=_sampled_note(
            sec,
            "班组按被质检坐席在人员数据中的班组归属；"
            + _judged("班组得分", "质检平均分", target, "score"),
        ),
    )
    _team_chart(sec, teams, overall, target)


def _team_chart(
    sec: Section, teams: Sequence[Metric], overall: Metric, target: Target | None
) -> None:
    setup_ticks = [f"{_key(t)}\nn={t.n:,}" for t in teams]
    means = np.array([float(t.value) for t in teams])  # type: ignore[arg-type]
    low = np.array([t.ci_low if t.ci_low is not None else float(t.value) for t in teams])  # type: ignore[arg-type]
    high = np.array([t.ci_high if t.ci_high is not None else float(t.value) for t in teams])  # type: ignore[arg-type]
    colors = [
        charts.NEUTRAL
        if _key(t) == UNKNOWN_TEAM
        else (
            charts.SHORTFALL
            if target is not None and not target.met(float(t.value))  # type: ignore[arg-type]
            else charts.PRIMARY
        )
        for t in teams
    ]
    fig, ax = charts.figure(height_in=3.0)
    x = np.arange(len(teams))
    for i in range(len(teams)):
        ax.errorbar(
            x[i],
            means[i],
            yerr=[[means[i] - low[i]], [high[i] - means[i]]],
            fmt="o",
            color=colors[i],
            ecolor=colors[i],
            elinewidth=1.4,
            capsize=4,
            markersize=6,
        )
        ax.annotate(
            f"{means[i]:.1f}",
            (x[i], high[i]),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=8,
        )
    lines = [low.min(), high.max()]
    handles = []
    if target is not None:
        handles.append(
            ax.axhline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1.1,
                       label=f"目标{fmt.target(target, 'score')}")
        )  # fmt: skip
        lines.append(target.value)
    if overall.has_value:
        handles.append(
            ax.axhline(float(overall.value), color=charts.SECONDARY, linestyle=":",  # type: ignore[arg-type]
                       linewidth=1.3, label=f"全部质检平均分{_score(overall.value)}")
        )  # fmt: skip
        lines.append(float(overall.value))  # type: ignore[arg-type]
    if handles:
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                  frameon=False)  # fmt: skip
    span = max(lines) - min(lines)
    pad = max(span * 0.15, 0.8)
    ax.set_ylim(min(lines) - pad, max(lines) + pad * 1.6)
    ax.set_xticks(x, setup_ticks)
    ax.set_xlim(-0.6, len(teams) - 0.4)
    ax.set_ylabel("质检平均分（分）")
    sec.figure(
        fig,
        "各班组质检平均分及95%置信区间",
        note=(
            "注：圆点为班组平均分，竖线为95%置信区间，n为质检条数；点线为全部质检平均分"
            + ("，虚线为目标值，红色为低于目标的班组" if target is not None else "")
            + (f"，灰色为{UNKNOWN_TEAM}" if any(_key(t) == UNKNOWN_TEAM for t in teams) else "")
            + "。"
        ),
    )


# -- (三) pass rate and critical errors ----------------------------------------------------


def errors(sec: Section) -> None:
    """（三）质检合格与差错情况: pass rate and critical errors, with intervals."""
    sec.heading("质检合格与差错情况")
    missing = _no_reviews(sec)
    if missing:
        sec.narrative("errors", f"{missing}，无法统计质检合格率和致命差错。")
        return
    passed, critical = _m(sec, "qa.pass_rate"), _m(sec, "qa.critical_error_rate")
    mark = _pass_mark(sec)
    if passed.has_value:
        text = (
            f"本季度得分不低于{mark}的合格质检记录{fmt.value(passed.numerator, 'count')}条，"
            f"质检合格率{_with_phrases(passed)}。"
        )
        failed = (passed.denominator or 0) - (passed.numerator or 0)
        if failed:
            text += f"不合格质检记录{fmt.value(failed, 'count')}条。"
    else:
        text = f"本季度质检合格率无法计算（{passed.reason}）。"
    if critical.has_value:
        if critical.numerator:
            text += (
                f"质检发现致命差错{fmt.value(critical.numerator, 'count')}条，"
                f"致命差错率{_with_phrases(critical)}。"
            )
            where = _critical_by_team(sec)
            if where:
                text += f"致命差错分布在{where}。"
        else:
            text += (
                f"本季度质检未发现致命差错，致命差错率{_with_phrases(critical, interval=False)}。"
            )
    else:
        text += f"致命差错率无法计算（{critical.reason}）。"
    sec.narrative("errors", text)
    sec.table(
        "质检合格率与致命差错率",
        SAMPLED_COLUMNS,
        [_sampled_row(m.name, m, m.target) for m in (passed, critical)],
        note=_sampled_note(
            sec,
            f"质检得分（三项平均）不低于{mark}为合格；"
            + "；".join(
                f"{m.name}目标{fmt.target(m.target, 'rate')}" if m.target else f"{m.name}未设目标"
                for m in (passed, critical)
            )
            + "。",
        ),
    )


def _critical_by_team(sec: Section) -> str:
    """``三组2条、一组1条`` (teams by descending count); '' without teams or errors."""
    frame = review_frame(sec)
    if frame is None or "team" not in frame.columns:
        return ""
    counts = frame.loc[frame["critical"], "team"].value_counts()
    if counts.empty:
        return ""
    counts = counts.rename_axis("team").reset_index(name="n")
    counts = counts.sort_values(["n", "team"], ascending=[False, True], kind="stable")
    return "、".join(f"{t}{fmt.value(n, 'count')}条" for t, n in counts.itertuples(index=False))


# -- (四) agents ------------------------------------------------------------------------


def review_frame(sec: Section) -> pd.DataFrame | None:
    """One row per review: agent, team (when staff has teams), score known, passed, critical.

    Same conventions as ``metrics.qa``: a dimension outside 0–100 is empty, a score is
    known when all three dimensions are, a review passes at score ≥ the pass mark.
    """
    reviews = sec.data("qa_reviews")
    if reviews is None or "agent_id" not in reviews.columns:
        return None
    if any(d not in reviews.columns for d in qa_metrics.DIMENSIONS):
        return None
    total = qa_metrics.dimension_total(reviews)
    scored = ~np.isnan(total)
    passed = qa_metrics.passes(total, sec.config.thresholds.qa_pass_score)
    if "critical_error" in reviews.columns:
        critical = reviews["critical_error"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    else:
        critical = np.zeros(len(reviews), dtype=bool)
    out = pd.DataFrame(
        {
            "agent_id": reviews["agent_id"].astype("string").to_numpy(dtype=object),
            "scored": scored,
            "failed": scored & ~passed,
            "critical": critical,
        }
    )
    team = agent_teams(sec, out["agent_id"])
    if team is not None:
        out["team"] = team
    return out


def agent_teams(sec: Section, agent_ids: pd.Series) -> np.ndarray | None:
    """The team of each agent id (``未知班组`` when unknown); None without staff teams."""
    return qa_metrics.agent_teams(agent_ids.to_numpy(dtype=object), sec.data("staff"))


def agent_frame(sec: Section) -> pd.DataFrame:
    """One row per agent with a scored review: mean, n, interval and small-sample mark from
    the ``qa.score_mean.agent:*`` metrics, plus team, failed reviews and critical errors."""
    agents = _breakdown(sec, AGENT_PREFIX)
    frame = pd.DataFrame(
        {
            "agent_id": [_key(m) for m in agents],
            "mean": [float(m.value) for m in agents],  # type: ignore[arg-type]
            "n": [int(m.n or 0) for m in agents],
            "ci_low": [m.ci_low for m in agents],
            "ci_high": [m.ci_high for m in agents],
            "small": [bool(m.small_sample) for m in agents],
        },
    )
    reviews = review_frame(sec)
    if reviews is not None and not frame.empty:
        per = reviews.groupby("agent_id", sort=False)[["failed", "critical"]].sum()
        frame = frame.join(per, on="agent_id")
        frame[["failed", "critical"]] = frame[["failed", "critical"]].fillna(0).astype(int)
        team = agent_teams(sec, frame["agent_id"])
        if team is not None:
            frame["team"] = team
    return frame


def _quartiles(values: pd.Series) -> tuple[float, float, float, float, float]:
    q = np.percentile(values.to_numpy(dtype=float), [0, 25, 50, 75, 100])
    return tuple(float(v) for v in q)  # type: ignore[return-value]


def lowest_agents(sec: Section, frame: pd.DataFrame) -> pd.DataFrame:
    """The agents listed by name of id: at least the lowest ``LOWEST_AGENTS`` means, all
    below the pass mark up to ``MAX_LISTED_AGENTS``; ascending mean, ties by agent id."""
    mark = sec.config.thresholds.qa_pass_score
    ordered = frame.sort_values(["mean", "agent_id"], kind="stable")
    below = int((ordered["mean"] < mark - _PASS_TOLERANCE).sum())
    k = min(max(LOWEST_AGENTS, below), MAX_LISTED_AGENTS)
    return ordered.head(k)


def agents(sec: Section) -> None:
    """（四）坐席质检差异: distribution of agent mean scores and the lowest-scoring agents."""
    sec.heading("坐席质检差异")
    missing = _no_reviews(sec)
    if missing:
        sec.narrative("agents", f"{missing}，无法分析坐席之间的质检差异。")
        return
    frame = agent_frame(sec)
    if frame.empty:
        reason = _m(sec, "qa.score_mean").reason or "质检记录未填写工号"
        sec.narrative("agents", f"本季度无可按坐席统计的质检得分（{reason}），无法分析坐席差异。")
        return
    th = sec.config.thresholds
    target = _score_target(sec)
    mark = th.qa_pass_score
    k = len(frame)
    lo, q1, med, q3, hi = _quartiles(frame["mean"])
    n_reviews = int(frame["n"].sum())
    text = (
        f"本季度被抽检坐席{fmt.value(k, 'count')}人，人均质检{fmt.number(n_reviews / k, 1)}条"
        f"（最少{fmt.value(frame['n'].min(), 'count')}条、最多{fmt.value(frame['n'].max(), 'count')}条）。"
    )
    if k > 1:
        text += (
            f"坐席平均分的中位数为{_score(med)}，下四分位数{_score(q1)}、上四分位数{_score(q3)}，"
            f"最高{_score(hi)}、最低{_score(lo)}，相差{_score(hi - lo)}。"
        )
    else:
        text += f"该坐席平均分为{_score(med)}。"
    below = int((frame["mean"] < mark - _PASS_TOLERANCE).sum())
    if below:
        text += (
            f"平均分低于合格线（{_pass_mark(sec)}）的坐席{fmt.value(below, 'count')}人，"
            f"占被抽检坐席的{fmt.percent(below / k)}"
        )
    else:
        text += f"全部坐席平均分均不低于合格线（{_pass_mark(sec)}）"
    if target is not None:
        short = int(sum(not target.met(v) for v in frame["mean"].to_numpy(dtype=float)))
        if short:
            text += (
                f"；未达到{fmt.target(target, 'score')}目标的坐席{fmt.value(short, 'count')}人，"
                f"占{fmt.percent(short / k)}"
            )
        else:
            text += f"，且均达到{fmt.target(target, 'score')}的目标"
    text += "。"
    if "critical" in frame.columns:
        with_critical = int((frame["critical"] > 0).sum())
        if with_critical:
            text += f"出现致命差错的坐席{fmt.value(with_critical, 'count')}人。"
    listed = lowest_agents(sec, frame)
    if k > 1:
        text += (
            f"平均分最低的{fmt.value(len(listed), 'count')}名坐席为："
            + "、".join(
                f"{r.agent_id}（{_score(r.mean)}，{fmt.value(r.n, 'count')}条）"
                for r in listed.itertuples(index=False)
            )
            + "，建议安排针对性辅导和复检。"
        )
    small = int(frame["small"].sum())
    if small:
        text += (
            f"被抽检坐席中有{fmt.value(small, 'count')}人的质检记录不足"
            f"{fmt.value(th.min_sample, 'count')}条，个人平均分受个别记录影响较大，"
            "宜结合连续多个季度的结果评价。"
        )
    sec.narrative("agents", text)
    _spread_table(sec, frame)
    if k > 1:
        _lowest_table(sec, listed, below)
    _spread_chart(sec, frame, target)


def _spread_row(label: str, part: pd.DataFrame, mark: float) -> tuple:
    lo, q1, med, q3, hi = _quartiles(part["mean"])
    below = int((part["mean"] < mark - _PASS_TOLERANCE).sum())
    return (label, len(part), lo, q1, med, q3, hi, below)


def _spread_table(sec: Section, frame: pd.DataFrame) -> None:
    mark = sec.config.thresholds.qa_pass_score
    rows = []
    if "team" in frame.columns:
        order = [_key(t) for t in _breakdown(sec, TEAM_PREFIX)]
        groups = dict(tuple(frame.groupby("team", sort=False)))
        rows += [_spread_row(t, groups[t], mark) for t in order if t in groups]
    rows.append(_spread_row("全部坐席", frame, mark))
    sec.table(
        "坐席质检平均分分布（按班组）",
        (
            Column("班组", "text", width=0.16),
            Column("坐席数", "int", width=0.10),
            Column("最低分", "number", width=0.11),
            Column("下四分位数", "number", width=0.13),
            Column("中位数", "number", width=0.11),
            Column("上四分位数", "number", width=0.13),
            Column("最高分", "number", width=0.11),
            Column("低于合格线人数", "int", width=0.15),
        ),
        rows,
        note=(
            f"注：坐席平均分为该坐席本季度全部质检得分的算术平均；合格线为{_pass_mark(sec)}；"
            "四分位数按线性插值计算。"
        ),
    )


def _lowest_table(sec: Section, listed: pd.DataFrame, below: int) -> None:
    mark = sec.config.thresholds.qa_pass_score
    has_team = "team" in listed.columns
    has_counts = "failed" in listed.columns
    columns = [Column("工号", "text", width=0.16)]
    if has_team:
        columns.append(Column("班组", "text", width=0.10))
    columns += [
        Column("质检条数", "int", width=0.10),
        Column("平均分", "number", width=0.10),
        Column("95%置信区间", "text", width=0.17),
    ]
    if has_counts:
        columns += [
            Column("不合格条数", "int", width=0.11),
            Column("致命差错", "int", width=0.10),
        ]
    columns.append(Column("说明", "text", width=0.16))
    rows = []
    for r in listed.itertuples(index=False):
        ci = None
        if r.ci_low is not None and r.ci_high is not None and not pd.isna(r.ci_low):
            ci = f"{fmt.number(r.ci_low, 1)}–{fmt.number(r.ci_high, 1)}"
        remark = [x for x in ("低于合格线" if r.mean < mark - _PASS_TOLERANCE else "",
                              "样本量不足" if r.small else "") if x]  # fmt: skip
        row = [r.agent_id]
        if has_team:
            row.append(r.team)
        row += [r.n, r.mean, ci]
        if has_counts:
            row += [r.failed, r.critical]
        row.append("；".join(remark) or None)
        rows.append(tuple(row))
    note = "注：按坐席平均分从低到高排列，仅列工号。"
    if below > len(listed):
        note += f"平均分低于合格线的坐席共{fmt.value(below, 'count')}人，表中列出最低的{len(listed)}人。"
    sec.table("质检平均分最低的坐席", columns, rows, note=note)


def _spread_chart(sec: Section, frame: pd.DataFrame, target: Target | None) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    mark = sec.config.thresholds.qa_pass_score
    means = frame["mean"].to_numpy(dtype=float)
    lo, hi = float(means.min()), float(means.max())
    refs = [mark] + ([target.value] if target is not None else [])
    left, right = min(lo, *refs), max(hi, *refs)
    span = right - left
    width = 1.0 if span <= 30 else 2.0 if span <= 60 else 5.0
    start = np.floor(left / width) * width
    stop = np.floor(right / width) * width + width
    edges = np.arange(start, stop + width / 2, width)
    fails = means < mark - _PASS_TOLERANCE
    meets = np.array([target.met(v) for v in means]) if target is not None else ~fails
    groups = [
        (fails, charts.SHORTFALL, f"低于合格线（{_pass_mark(sec)}）"),
        (~fails & ~meets, charts.SECONDARY, "合格但低于目标"),
        (~fails & meets, charts.PRIMARY, "达到目标" if target is not None else "不低于合格线"),
    ]
    fig, ax = charts.figure(height_in=2.9)
    bottom = np.zeros(len(edges) - 1)
    handles = []
    for mask, color, label in groups:
        counts, _ = np.histogram(means[mask], bins=edges)
        if counts.sum() == 0:
            continue
        ax.bar(edges[:-1], counts, width=width * 0.92, align="edge", bottom=bottom, color=color)
        bottom = bottom + counts
        handles.append(Patch(color=color, label=f"{label}：{int(counts.sum()):,}人"))
    handles.append(
        ax.axvline(mark, color=charts.NEUTRAL, linestyle="-.", linewidth=1,
                   label=f"合格线{_pass_mark(sec)}")
    )  # fmt: skip
    if target is not None:
        handles.append(
            ax.axvline(target.value, color=charts.NEUTRAL, linestyle="--", linewidth=1,
                       label=f"目标{fmt.target(target, 'score')}")
        )  # fmt: skip
    ax.set_xlim(edges[0] - width * 0.5, edges[-1] + width * 0.5)
    ax.set_ylim(0, max(bottom.max(), 1) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("坐席质检平均分（分）")
    ax.set_ylabel("坐席人数")
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
              frameon=False)  # fmt: skip
    sec.figure(
        fig,
        "坐席质检平均分分布",
        note=(
            f"注：每格{fmt.number(width, 0)}分，各格含下限、不含上限；红色为平均分低于合格线的坐席，"
            "点划线为合格线" + ("，虚线为目标值。" if target is not None else "。")
        ),
    )
