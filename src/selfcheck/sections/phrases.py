"""Phrases several sections write the same way, and picking a section's metrics by id.

Each helper has one meaning; its docstring shows what it writes. Figures are formatted by
:mod:`selfcheck.fmt`; this module puts them into the clauses the report repeats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selfcheck import fmt
from selfcheck.errors import SectionError
from selfcheck.metrics.base import STATUS_MISSED, Metric

if TYPE_CHECKING:
    from selfcheck.section import Section

# -- picking metrics ------------------------------------------------------------------------


def metric(sec: Section, metric_id: str) -> Metric:
    """One metric the section has computed; a clear error when ``compute`` has not run or
    the section has no metric of that id."""
    try:
        return sec.metric(metric_id)
    except KeyError:
        if not sec.result.metrics:
            message = (
                f"本节尚未计算指标 {metric_id}：请先运行 compute 单元（`{sec.definition.id}.compute(sec)`）"
                f"(metric {metric_id} not computed: run the compute cell first)"
            )
        else:
            message = (
                f"本节没有指标 {metric_id}；本节的指标见 compute 单元输出的 metric_id 列 "
                f"(no metric {metric_id} in this section)"
            )
        raise SectionError(message, section=sec.definition.id) from None


def pick(sec: Section, ids: Sequence[str]) -> list[Metric]:
    """The section's metrics of ``ids``, in that order."""
    return [metric(sec, i) for i in ids]


def pick_by_id(sec: Section, ids: Sequence[str]) -> dict[str, Metric]:
    """The section's metrics of ``ids`` keyed by id, in that order."""
    return {i: metric(sec, i) for i in ids}


# -- clauses of one metric --------------------------------------------------------------------


def status_clause(m: Metric) -> str:
    """``，达到≥95.0%的目标`` / ``，未达到…的目标``; '' without a target or a value."""
    s = fmt.status_phrase(m)
    return f"，{s}" if s else ""


def change_clause(m: Metric, *, significance: bool = False, versus: str = "上季度") -> str:
    """``，较上季度上升1.2分`` (with ``significance``: ``，变化在统计上不显著`` after it when
    the change was tested); '' without a comparison."""
    change = fmt.change_phrase(m, versus=versus)
    if not change:
        return ""
    tested = fmt.significance_phrase(m) if significance else ""
    return f"，{change}，{tested}" if tested else f"，{change}"


def with_interval(m: Metric) -> str:
    """``87.9分（95%置信区间86.5–89.4，n=400）``; the value alone for a metric without one."""
    text = fmt.value(m.value, m.unit)
    interval = fmt.interval(m)
    return f"{text}（{interval}）" if interval else text


def significant_changes(rows: Sequence[tuple[str, Metric, Metric | None]], what: str) -> str:
    """Which changes of score and top-box rate on last quarter are significant, in words:
    ``rows`` are (name, score, top-box rate); ``what`` names them (``分项``)."""
    significant, tested = [], 0
    for name, idx, top in rows:
        for label, m in (("得分", idx), ("满意率", top)):
            if m is None or m.significant is None:
                continue
            tested += 1
            if m.significant:
                significant.append(f"{name}{label}{fmt.change_phrase(m)}")
    if not tested:
        return ""
    if not significant:
        return f"与上季度相比，各{what}得分和满意率的变化在统计上均不显著。"
    rest = "；其余变化在统计上不显著。" if len(significant) < tested else "。"
    return "从变化看，" + "，".join(significant) + "，变化在统计上显著（p<0.05）" + rest


# -- counts ------------------------------------------------------------------------------------


def count(v: float | None) -> str:
    """A count as the report writes it: ``1,204``."""
    return fmt.value(v, "count")


# -- changes of counts --------------------------------------------------------------------------


def count_change(
    m: Metric, unit: str = "件", *, versus: str = "上季度", relative: bool = True
) -> str:
    """A count against the quarter before (``versus="上年同期"``: a year before):
    ``较上季度增加12件（上升8.7%）`` (``relative=False``: without the bracket),
    ``与上季度持平``; '' without a comparison."""
    previous = m.previous if versus == "上季度" else m.year_ago
    d = m.delta if versus == "上季度" else m.delta_year
    if d is None or previous is None:
        return ""
    if round(d) == 0:
        return f"与{versus}持平"
    text = f"较{versus}{'增加' if d > 0 else '减少'}{fmt.number(abs(d), 0)}{unit}"
    if relative and previous > 0:
        text += f"（{'上升' if d > 0 else '下降'}{fmt.percent(abs(d) / previous)}）"
    return text


def stock_change(now: float, before: float | None, unit: str = "件") -> str:
    """A stock (e.g. the open tickets) against the end of the quarter before:
    ``较上季度末（1,204件）增加36件`` / ``与上季度末持平``; '' without the earlier value."""
    if before is None or math.isnan(before):
        return ""
    d = now - before
    if d == 0:
        return "与上季度末持平"
    word = "增加" if d > 0 else "减少"
    return f"较上季度末（{count(before)}{unit}）{word}{count(abs(d))}{unit}"


# -- targets ------------------------------------------------------------------------------------


def shortfalls(metrics: Sequence[Metric]) -> list[Metric]:
    """The metrics that fall short of their target."""
    return [m for m in metrics if m.status == STATUS_MISSED]


def shortfall_sentence(m: Metric) -> str:
    """``45秒接通率为76.2%，未达到≥80.0%的目标，较上季度下降1.1个百分点``."""
    parts = [f"{m.name}为{fmt.value(m.value, m.unit)}"]
    if m.target is not None:
        parts.append(fmt.status_phrase(m))
    change = fmt.change_phrase(m)
    if change:
        parts.append(change)
    return "，".join(parts)


@dataclass(frozen=True)
class TargetTally:
    """The metrics with a target and a value, and those of them that fall short."""

    evaluated: tuple[Metric, ...]
    missed: tuple[Metric, ...]

    @property
    def met(self) -> int:
        return len(self.evaluated) - len(self.missed)

    def counts(self) -> str:
        """``设有目标的指标13项，其中达标11项、未达标2项``."""
        return (
            f"设有目标的指标{len(self.evaluated)}项，其中达标{self.met}项、"
            f"未达标{len(self.missed)}项"
        )

    def shortfall_list(self) -> str:
        """``未达标的指标为：…；…。`` ('' when nothing falls short)."""
        if not self.missed:
            return ""
        return "未达标的指标为：" + "；".join(shortfall_sentence(m) for m in self.missed) + "。"


def target_tally(metrics: Sequence[Metric]) -> TargetTally:
    """Count the metrics with a target and a value; a metric without a value is not counted."""
    evaluated = tuple(m for m in metrics if m.target is not None and m.has_value)
    return TargetTally(evaluated, tuple(shortfalls(metrics)))
