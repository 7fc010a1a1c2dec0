"""What the blocks of 服务质量检查 share: the figures computed once by ``quality.compute``,
the metrics they read and the phrases they write with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column
from selfcheck.errors import SectionError
from selfcheck.metrics import qa as qa_metrics
from selfcheck.metrics.base import (
    STATUS_MET,
    STATUS_MISSED,
    STATUS_NO_DATA,
    STATUS_NO_TARGET,
    Metric,
    Target,
)
from selfcheck.metrics.qa import SourceRow
from selfcheck.schema import DATASETS
from selfcheck.section import Section
from selfcheck.sections.common import computed, store

SECTION_ID = "quality"

MAIN_IDS = (
    "qa.reviews",
    "qa.sampling_rate",
    "qa.score_mean",
    "qa.pass_rate",
    "qa.critical_error_rate",
)
TREND_IDS = ("qa.sampling_rate", "qa.score_mean", "qa.pass_rate", "qa.critical_error_rate")
TEAM_PREFIX = qa_metrics.TEAM_PREFIX
AGENT_PREFIX = qa_metrics.AGENT_PREFIX
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

SAMPLED_COLUMNS = (  # the targets are named in the table's note
    Column("项目", "text", width=0.16),
    Column("本期", "figure", width=0.11),
    Column("95%置信区间", "text", width=0.19),
    Column("样本量", "int", width=0.10),
    Column("状态", "status", width=0.08),
    Column("较上季度", "figure", width=0.20),
    Column("说明", "text", width=0.16),
)


@dataclass(frozen=True)
class Figures:
    """The section's figures beyond its metrics, computed once by ``quality.compute``."""

    sources: list[SourceRow]  # reviews and sampling base per source
    reviews: pd.DataFrame | None  # one row per review (metrics.qa.review_frame)
    agents: pd.DataFrame  # one row per reviewed agent (metrics.qa.agent_frame)
    lowest: pd.DataFrame  # the agents listed by id (metrics.qa.lowest_agents)
    critical_teams: pd.DataFrame  # critical errors per team (metrics.qa.critical_by_team)


def keep(sec: Section, figures: Figures) -> None:
    store(sec, "figures", figures)


def figures(sec: Section) -> Figures:
    return computed(sec, "figures")


# -- metrics ------------------------------------------------------------------------------


def m(sec: Section, metric_id: str) -> Metric:
    figures(sec)  # a clear message when compute has not run
    return sec.metric(metric_id)


def named(sec: Section, ids: Sequence[str]) -> list[Metric]:
    """The metrics of these ids, in this order; an id the section lacks is an error."""
    figures(sec)
    if isinstance(ids, str):
        ids = (ids,)
    known = {x.metric_id: x for x in sec.result.metrics}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise SectionError(
            f"本节没有这些指标：{'、'.join(map(str, unknown))}。可选的指标：{'、'.join(MAIN_IDS)}"
            "，以及 qa.score_mean.dimension:/team:/agent: 开头的分项 (unknown metric ids)",
            section=SECTION_ID,
        )
    return [known[i] for i in ids]


def breakdown(sec: Section, prefix: str) -> list[Metric]:
    return [x for x in sec.result.metrics if x.metric_id.startswith(prefix) and x.has_value]


def key(metric: Metric) -> str:
    return metric.metric_id.split(":", 1)[1]


def score_target(sec: Section) -> Target | None:
    return m(sec, "qa.score_mean").target


def no_reviews(sec: Section) -> str | None:
    """Why there are no reviews to describe (None when there are)."""
    reviews = m(sec, "qa.reviews")
    if not reviews.has_value:
        return this_quarter(reviews.reason)
    if not reviews.value:
        return "本季度无质检记录"
    return None


def this_quarter(reason: str | None) -> str:
    """``本季度未提供质检数据 (qa_reviews)`` from a metric's reason."""
    if reason and reason.startswith("未提供"):
        return f"本季度{reason}"
    return f"本季度质检数据无法使用（{reason or '原因不明'}）"


# -- phrases ------------------------------------------------------------------------------


def score(v: float | None) -> str:
    return fmt.value(v, "score")


def pass_mark(sec: Section) -> str:
    return score(sec.config.thresholds.qa_pass_score)


def sampling_reason(rate: Metric, rows: list[SourceRow]) -> str:
    """Why the sampling rate has no value, naming the sources in Chinese."""
    gaps = [f"{r.reason}，无法统计{SOURCE_BASE_ZH[r.source]}数量" for r in rows if r.reason]
    return "；".join(gaps) or str(rate.reason)


def judged(what: str, metric: str, target: Target | None, unit: str) -> str:
    """``各维度得分对照质检平均分目标（≥90.0分）判断。`` / ``质检平均分未设目标。``"""
    if target is None:
        return f"{metric}未设目标，{what}不判断达标状态。"
    return f"{what}对照{metric}目标（{fmt.target(target, unit)}）判断。"


def status_against(value: float | None, target: Target | None) -> str:
    if value is None:
        return STATUS_NO_DATA
    if target is None:
        return STATUS_NO_TARGET
    return STATUS_MET if target.met(value) else STATUS_MISSED


def ci_text(metric: Metric) -> str | None:
    """``90.8–91.5`` / ``98.0%–99.6%``; with two decimals when one decimal would show the
    same figure twice (very large samples)."""
    if not metric.has_value or metric.ci_low is None or metric.ci_high is None:
        return None
    lo, hi = _bound(metric.ci_low, metric.unit, 1), _bound(metric.ci_high, metric.unit, 1)
    if lo == hi:
        lo, hi = _bound(metric.ci_low, metric.unit, 2), _bound(metric.ci_high, metric.unit, 2)
    return f"{lo}–{hi}"


def _bound(v: float, unit: str, decimals: int) -> str:
    return fmt.percent(v, decimals) if unit == "rate" else fmt.number(v, decimals)


def interval(metric: Metric) -> str:
    """``fmt.interval``, with the bounds of :func:`ci_text` (never ``91.2–91.2``)."""
    text = fmt.interval(metric)
    ci = ci_text(metric)
    if text and ci and text.startswith("95%置信区间"):
        rest = text.split("，", 1)[1] if "，" in text else ""
        text = f"95%置信区间{ci}" + (f"，{rest}" if rest else "")
    return text


def _remark(metric: Metric) -> str | None:
    parts = []
    if metric.small_sample:
        parts.append("样本量不足")
    if metric.significant is not None:
        parts.append("变化显著" if metric.significant else "变化不显著")
    return "；".join(parts) or None


def sampled_row(label: str, metric: Metric, target: Target | None) -> tuple:
    value = float(metric.value) if metric.has_value else None  # type: ignore[arg-type]
    return (
        label,
        fmt.value(metric.value, metric.unit),
        ci_text(metric),
        metric.n if metric.has_value else None,
        status_against(value, target),
        fmt.delta(metric.delta, metric.unit),
        _remark(metric),
    )


def sampled_note(sec: Section, extra: str = "") -> str:
    return (
        "注：95%置信区间——平均分按t分布、比率按Wilson方法计算；样本量少于"
        f"{fmt.value(sec.config.thresholds.min_sample, 'count')}条的标注“样本量不足”；"
        "“变化显著”指与上季度相比的差异在5%水平上统计显著。" + extra
    )


def with_phrases(metric: Metric, *, with_interval: bool = True) -> str:
    """``91.2分（95%置信区间…，n=570），达到≥90.0分的目标，较上季度上升0.3分，变化在统计上不显著``."""
    text = fmt.value(metric.value, metric.unit)
    ci = interval(metric) if with_interval else ""
    if ci:
        text += f"（{ci}）"
    for phrase in (
        fmt.status_phrase(metric),
        fmt.change_phrase(metric),
        fmt.significance_phrase(metric),
    ):
        if phrase:
            text += f"，{phrase}"
    return text


def visible_change(metric: Metric) -> bool:
    """A change that shows at the report's precision (not ``与上季度持平``)."""
    phrase = fmt.change_phrase(metric)
    return bool(phrase) and not phrase.startswith("与")


def dimension_label(metric_id: str) -> str:
    return DATASETS["qa_reviews"].column(metric_id.rsplit(":", 1)[1]).zh
