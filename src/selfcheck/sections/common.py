"""Pieces several sections share: metric tables and shortfall sentences."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column, SectionResult, Table
from selfcheck.metrics.base import STATUS_MISSED, Measure, Metric
from selfcheck.metrics.evaluate import evaluate
from selfcheck.period import Period
from selfcheck.section import Section

TREND_QUARTERS = 5  # this quarter and the four before it (so the first is last year's)

METRIC_COLUMNS = (
    Column("指标", "text", width=0.22),
    Column("本期", "figure", width=0.12),
    Column("目标", "text", width=0.15),
    Column("状态", "status", width=0.11),
    Column("较上季度", "figure", width=0.20),
    Column("较上年同期", "figure", width=0.20),
)


def compute_with_history(
    sec: Section, compute: Callable[[Section, Period], Mapping[str, Measure]]
) -> list[Metric]:
    """Compute a section's measures for the period, the quarter before and a year before.

    A comparison period whose data folder is absent simply has no previous value.
    """
    current = compute(sec, sec.period)
    earlier = [
        (sec.period.shift(-k), measures_of(sec, sec.period.shift(-k), compute, current))
        for k in range(TREND_QUARTERS - 1, 0, -1)
    ]  # oldest first; the last is the previous quarter, the first the same quarter last year
    metrics = evaluate(
        current,
        sec.config.standards,
        section=sec.definition.id,
        previous=earlier[-1][1],
        year_ago=earlier[0][1],
        min_sample=sec.config.thresholds.min_sample,
        earlier=[(str(p), m) for p, m in earlier],
        period=str(sec.period),
    )
    sec.add_metrics(metrics)
    return metrics


def measures_of(
    sec: Section,
    period: Period,
    compute: Callable[[Section, Period], Mapping[str, Measure]],
    wanted: Mapping[str, Measure],
) -> Mapping[str, Measure] | None:
    """An earlier period's measures: from the history store, else computed from its data.

    The store answers when it holds every metric wanted; a period it lacks (or only
    partly holds) is computed on demand when its data folder exists.
    """
    stored = sec.history.read(period)
    if stored is not None and all(k in stored for k in wanted):
        return stored
    if sec.has_period(period):
        return compute(sec, period)
    return stored


def metric_rows(metrics: Sequence[Metric]) -> list[tuple]:
    return [
        (
            m.name,
            fmt.value(m.value, m.unit),
            fmt.target(m.target, m.unit),
            m.status,
            fmt.delta(m.delta, m.unit),
            fmt.delta(m.delta_year, m.unit),
        )
        for m in metrics
    ]


def metric_table(sec: Section, caption: str, metrics: Sequence[Metric]) -> Table:
    missing = [m for m in metrics if not m.has_value and m.reason]
    note = None
    if missing:
        note = "注：" + "；".join(f"{m.name}无数据（{m.reason}）" for m in missing) + "。"
    return sec.table(caption, METRIC_COLUMNS, metric_rows(metrics), note=note)


def metric_frame(metrics: Sequence[Metric]) -> pd.DataFrame:
    """A quick look at metrics in the notebook."""
    return pd.DataFrame(
        [
            {
                "metric_id": m.metric_id,
                "指标": m.name,
                "本期": fmt.value(m.value, m.unit),
                "目标": fmt.target(m.target, m.unit),
                "状态": m.status,
                "环比": fmt.delta(m.delta, m.unit),
                "n": m.n,
            }
            for m in metrics
        ]
    )


def shortfall_sentence(m: Metric) -> str:
    """``45秒接通率为76.2%，未达到≥80.0%的目标，较上季度下降1.1个百分点``."""
    parts = [f"{m.name}为{fmt.value(m.value, m.unit)}"]
    if m.target is not None:
        parts.append(fmt.status_phrase(m))
    change = fmt.change_phrase(m)
    if change:
        parts.append(change)
    return "，".join(parts)


def shortfalls(metrics: Sequence[Metric]) -> list[Metric]:
    return [m for m in metrics if m.status == STATUS_MISSED]


def earlier_results(sec: Section) -> list[SectionResult]:
    """Stored results of the sections that run before this one (those not ``after_all``);
    refuses to go on over a missing, failed or stale one (``Section.read_results``)."""
    return sec.read_results()


def all_metrics(sec: Section) -> list[Metric]:
    """Every metric of the sections that ran before this one, in report order."""
    return [m for r in earlier_results(sec) for m in r.metrics]
