"""The annual report's improvement summary (年度整改措施及成效), in 原因分析与整改措施.

Every measure of the year from the measures files of its quarters, months and the year
itself, with its metric's value when it was raised and at the end of the year, the change
and whether the target is now met; measures whose metric did not improve, or that are
overdue, are flagged (``selfcheck.improvement``). The analyst's texts file adds the
qualitative effects after the paragraph (slot ``measures.improvement``).

A block of an annual report only: in a report of any other kind every block function
emits nothing, so the quarter's notebook and report are as they were.

Values come from the history store (the quarters' own runs), or, for a period it does not
hold, from that period's data through the sections that compute them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from selfcheck import fmt
from selfcheck.blocks import Column, Figure, Table
from selfcheck.errors import SectionError
from selfcheck.improvement import FLAG_NOT_IMPROVED, FLAG_OVERDUE, Effect, effects, year_measures
from selfcheck.metrics.base import Measure, Metric
from selfcheck.metrics.catalogue import lookup
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics, computed, store, trend_figure
from selfcheck.sections.options import pick_columns

SLOT = "improvement"
CAPTION = "本年度整改措施及成效"
COLUMNS = (
    Column("问题", width=0.12),
    Column("整改措施", width=0.20),
    Column("责任部门", width=0.09),
    Column("完成时限", width=0.09),
    Column("状态", width=0.06),
    Column("提出时", width=0.09),
    Column("年末", width=0.09),
    Column("变化", width=0.10),
    Column("是否达标", width=0.07),
    Column("需关注", width=0.09),
)
_KEY = "improvement"


def _annual(sec: Section) -> bool:
    return sec.period.kind == "year"


def values_of(sec: Section) -> Callable[[Period], Mapping[str, Measure] | None]:
    """A period's metric values: the history store's, else computed from its data (each
    period once per section: the blocks below share them)."""
    from selfcheck.sections import process, quality, response, satisfaction, system

    computers = (system, process, response, satisfaction, quality)
    cache: dict[Period, Mapping[str, Measure] | None] = getattr(sec, "_period_values", {})
    sec._period_values = cache  # type: ignore[attr-defined]

    def of(period: Period) -> Mapping[str, Measure] | None:
        if period not in cache:
            cache[period] = _values(period)
        return cache[period]

    def _values(period: Period) -> Mapping[str, Measure] | None:
        stored = sec.history.read(period)
        if stored is not None:
            return stored
        if not sec.has_period(period):
            return None
        out: dict[str, Measure] = {}
        for module in computers:
            out.update(module._measures(sec, period))
        return out

    return of


# -- the key metrics quarter by quarter -------------------------------------------------------

KEY_METRICS = (
    "phone.answer_rate",
    "phone.service_level",
    "online.workday_timeout_rate",
    "tickets.sla_rate.L1",
    "complaints.resolution_rate",
    "satisfaction.index",
    "qa.score_mean",
)
PART_KINDS = {"quarter": "季度", "month": "月"}


def _by_part(sec: Section, metrics: Sequence[str], parts: str) -> list[Metric]:
    """The year's value of each metric with its values per quarter (or month) as its trend,
    the target of that kind; an unknown metric or kind is a SectionError naming it."""
    if parts not in PART_KINDS:
        raise SectionError(
            f"parts={parts!r} 不可用：应为 quarter 或 month (parts is quarter or month)",
            section=sec.definition.id,
        )
    for metric_id in metrics:
        try:
            lookup(metric_id)
        except KeyError:
            raise SectionError(
                f"metrics= 中 {metric_id} 不是已知的指标编号 (unknown metric id)",
                section=sec.definition.id,
            ) from None
    year = {m.metric_id: m for m in all_metrics(sec)}
    values = values_of(sec)
    standards = sec.config.standards.for_kind(parts)  # type: ignore[arg-type]
    out = []
    for metric_id in metrics:
        d = lookup(metric_id)
        trend = []
        for p in sec.period.parts(parts):  # type: ignore[arg-type]
            got = values(p)
            m = got.get(metric_id) if got is not None else None
            trend.append((p.name_zh, None if m is None or m.value is None else float(m.value)))
        mine = year.get(metric_id)
        value = mine.value if mine is not None else None
        out.append(Metric(metric_id, d.full_name, d.unit, value,
                          target=standards.target(metric_id), trend=tuple(trend)))  # fmt: skip
    return out


def by_part_table(
    sec: Section, metrics: Sequence[str] = KEY_METRICS, parts: str = "quarter"
) -> Table | None:
    """Table 本年度主要指标分季度（分月）情况: each metric per quarter (or month), the year's
    value and the target; annual reports only."""
    if not _annual(sec):
        return None
    rows = _by_part(sec, metrics, parts)
    if not rows:
        return None
    labels = [label for label, _ in rows[0].trend]
    columns = (
        Column("指标", width=0.22),
        *(Column(label, "figure") for label in labels),
        Column("全年", "figure"),
        Column("目标", "figure"),
    )
    cells = [
        (m.name, *(fmt.value(v, m.unit) for _, v in m.trend), fmt.value(m.value, m.unit),
         fmt.target(m.target, m.unit))
        for m in rows
    ]  # fmt: skip
    caption = f"本年度主要指标分{PART_KINDS[parts]}情况"
    note = f"注：全年为全年合并记录计算的值（不是各{PART_KINDS[parts]}的平均）；目标为{PART_KINDS[parts]}度目标。"
    return sec.table(caption, columns, cells, note=note)


def by_part_chart(
    sec: Section,
    metrics: Sequence[str] = KEY_METRICS,
    parts: str = "quarter",
    size: tuple[float, float] | None = None,
) -> Figure | None:
    """Chart of each metric per quarter (or month) of the year, the target dashed; annual
    reports only."""
    if not _annual(sec):
        return None
    caption = f"本年度主要指标分{PART_KINDS.get(parts, parts)}走势"
    return trend_figure(sec, caption, lambda: _by_part(sec, metrics, parts), size=size)


def compute(sec: Section) -> pd.DataFrame:
    """The year's measures and their effects (an empty frame outside an annual report)."""
    rows: list[Effect] = []
    if _annual(sec):
        measures = year_measures(sec.config, sec.period)
        rows = effects(measures, values_of(sec), sec.config.standards, sec.period)
        for e in rows:
            if e.flags:
                sec.warn(f"整改措施需关注（{'、'.join(e.flags)}）：{e.name} — {e.measure}")
    store(sec, _KEY, rows)
    return pd.DataFrame([_row(e) for e in rows], columns=[c.name for c in COLUMNS])


def _effects(sec: Section) -> list[Effect]:
    return computed(sec, _KEY)


def _row(e: Effect) -> tuple:
    return (
        e.name,
        e.measure,
        e.owner,
        e.due,
        e.status,
        e.before_text if e.before is not None else "—",
        e.after_text if e.after is not None else "—",
        e.change_text,
        e.met_text,
        "、".join(e.flags) or "—",
    )


def heading(sec: Section, text: str) -> None:
    """The summary's heading, written in the cell (annual reports only: a quarter's report
    has no such heading)."""
    if _annual(sec):
        sec.heading(text)


def overview(sec: Section) -> None:
    """Paragraph ``measures.improvement``: how many measures, done, improved, met, flagged,
    and each measured effect (``人工接通率从提出时（2026Q1）的82.0%提升至年末……``)."""
    if not _annual(sec):
        return
    rows = _effects(sec)
    if not rows:
        sec.narrative(SLOT, "本年度各期未登记整改措施。")
        return
    done = sum(e.status == "已完成" for e in rows)
    measured = [e for e in rows if e.improved is not None]
    improved = sum(bool(e.improved) for e in measured)
    met = sum(e.met is True for e in rows)
    text = (
        f"本年度共登记整改措施{len(rows)}项，已完成{done}项；其中{len(measured)}项可用指标对比成效，"
        f"{improved}项指标较措施提出时改善，{met}项指标年末达到目标。"
    )
    effects_text = "；".join(s for e in rows if (s := e.sentence))
    if effects_text:
        text += effects_text + "。"
    not_improved = [e.name for e in rows if FLAG_NOT_IMPROVED in e.flags]
    overdue = [e.name for e in rows if FLAG_OVERDUE in e.flags]
    if not_improved:
        text += (
            f"{'、'.join(dict.fromkeys(not_improved))}在措施提出后未见改善，需复核措施的有效性。"
        )
    if overdue:
        text += f"{len(overdue)}项措施已过完成时限仍未完成（{'、'.join(dict.fromkeys(overdue))}），需督办。"
    sec.narrative(SLOT, text)


def table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 本年度整改措施及成效; ``columns`` names the columns shown (None: all)."""
    if not _annual(sec):
        return
    rows = [_row(e) for e in _effects(sec)]
    shown, cells = pick_columns(sec, CAPTION, COLUMNS, rows, columns)
    if rows:
        sec.table(
            CAPTION,
            shown,
            cells,
            note="注：提出时为措施登记当期的指标值，年末为本年度最后一期的指标值；"
            "“需关注”标出指标未改善或已过完成时限仍未完成的措施。",
        )
