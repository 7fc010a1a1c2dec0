"""Pieces several sections share: computing metrics with their history, the metric table,
choosing a table's columns, the cells of sampled metrics, what a section keeps between its
notebook cells, and a chart of a given size. Phrases are in :mod:`.phrases`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Column, Figure, SectionResult, Table
from selfcheck.errors import SectionError
from selfcheck.metrics.base import Measure, Metric
from selfcheck.metrics.evaluate import evaluate
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections.phrases import shortfall_sentence, shortfalls

__all__ = [  # shortfall_sentence and shortfalls live in phrases; kept here for their callers
    "METRIC_COLUMNS",
    "METRIC_COLUMN_NAMES",
    "all_metrics",
    "cached",
    "compute_with_history",
    "computed",
    "earlier_results",
    "figure",
    "figure_size",
    "in_scope",
    "measures_of",
    "metric_frame",
    "metric_rows",
    "metric_table",
    "reset_cache",
    "sampled_cells",
    "say",
    "select_columns",
    "shortfall_sentence",
    "shortfalls",
    "store",
    "trend_figure",
]

T = TypeVar("T")

TREND_QUARTERS = (
    5  # this period and the four of its kind before it (a quarter: the first is last year's)
)

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
        (p, measures_of(sec, p, compute, current)) for p in sec.period.trend(TREND_QUARTERS)[:-1]
    ]  # oldest first, periods of the same kind; the last is the previous one (环比)
    window = dict(earlier)
    ago = sec.period.year_ago()  # 同比: a quarter's is the trend's first, a month's is older
    year_ago = window[ago] if ago in window else measures_of(sec, ago, compute, current)
    metrics = evaluate(
        current,
        sec.config.standards,
        section=sec.definition.id,
        previous=window[sec.period.previous()],
        year_ago=year_ago,
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
        try:
            return compute(sec, period)
        finally:  # its records are not needed again (a chart reading them reads them anew)
            if period != sec.period:
                sec.store.release(period)
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


METRIC_COLUMN_NAMES = tuple(c.name for c in METRIC_COLUMNS)


def metric_table(
    sec: Section,
    caption: str,
    metrics: Sequence[Metric],
    columns: Sequence[str] = METRIC_COLUMN_NAMES,
    *,
    widths: Sequence[float] | None = None,
    group_reasons: bool = False,
) -> Table | None:
    """The table of metrics: one row per metric; ``columns`` (names of
    :data:`METRIC_COLUMNS`, in any order) chooses and orders the columns.

    ``widths`` replaces the widths of :data:`METRIC_COLUMNS` (one per column, before
    ``columns`` chooses). The note names each metric without data and its reason; with
    ``group_reasons`` it gives each reason once (``注：A、B无数据（r）。``, or
    ``注：以上指标均无数据（r）。`` when no metric has data for one reason). Metrics out of
    the report's scope (:mod:`selfcheck.scope`) are left out; nothing when none is left."""
    table_columns = METRIC_COLUMNS
    if widths is not None:
        table_columns = tuple(
            replace(c, width=w) for c, w in zip(METRIC_COLUMNS, widths, strict=True)
        )
    metrics = in_scope(sec, metrics)
    note = _missing_note(metrics, group_reasons)
    if sec.period.previous_is_year_ago:  # a year's 环比 is its 同比: one column, 较上年
        columns = [c for c in columns if c != "较上年同期"]
    cols, rows = select_columns(sec, caption, table_columns, metric_rows(metrics), columns)
    if not metrics:
        return None
    return sec.table(caption, cols, rows, note=note)


def in_scope(sec: Section, metrics: Sequence[Metric]) -> list[Metric]:
    """The ``metrics`` the report covers (``sec.scope``): those of datasets that do not
    apply or were not supplied are left out."""
    scope = sec.scope
    return [m for m in metrics if scope.includes_metric(m.metric_id)]


def _missing_note(metrics: Sequence[Metric], group_reasons: bool) -> str | None:
    reasons: dict[str, list[str]] = {}
    for m in metrics:
        if not m.has_value and m.reason:
            reasons.setdefault(m.reason, []).append(m.name)
    if not reasons:
        return None
    if not group_reasons:
        missing = [(m.name, m.reason) for m in metrics if not m.has_value and m.reason]
        return "注：" + "；".join(f"{name}无数据（{r}）" for name, r in missing) + "。"
    if len(reasons) == 1 and sum(len(v) for v in reasons.values()) == len(metrics):
        return f"注：以上指标均无数据（{next(iter(reasons))}）。"
    return "注：" + "；".join(f"{'、'.join(n)}无数据（{r}）" for r, n in reasons.items()) + "。"


def say(sec: Section, slot: str, paragraph: str | None) -> None:
    """The paragraph of ``slot``; nothing when the section leaves it out (``None``)."""
    if paragraph is not None:
        sec.narrative(slot, paragraph)


def select_columns(
    sec: Section,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    names: Sequence[str],
) -> tuple[tuple[Column, ...], list[tuple]]:
    """The columns called ``names`` (in that order) of a table and of its rows.

    An unknown name is a :class:`SectionError` naming the table and the columns it has;
    nothing is added to the section."""
    known = [c.name for c in columns]
    if isinstance(names, str):
        names = (names,)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SectionError(
            f"表格“{caption}”没有列 {'、'.join(unknown) or '（未选择任何列）'}；"
            f"可选的列：{'、'.join(known)} (unknown column; columns of this table: {known})",
            section=sec.definition.id,
        )
    if list(names) == known:
        return tuple(columns), [tuple(r) for r in rows]
    index = [known.index(n) for n in names]
    return tuple(columns[i] for i in index), [tuple(r[i] for i in index) for r in rows]


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


# -- cells of sampled metrics ------------------------------------------------------------------

SIGNIFICANT_MARK = "*"  # a change on last quarter significant at 5 %


def _delta_cell(m: Metric | None) -> str | None:
    """A table cell: ``+1.2分`` / ``-0.8个百分点``, with ``*`` for a significant change."""
    if m is None or m.delta is None:
        return None
    mark = SIGNIFICANT_MARK if m.significant else ""
    return fmt.delta(m.delta, m.unit) + mark


def _interval_cell(m: Metric | None) -> str | None:
    if m is None or not m.has_value or m.ci_low is None or m.ci_high is None:
        return None
    with_unit = m.unit == "rate"
    return (
        f"{fmt.value(m.ci_low, m.unit, with_unit=with_unit)}–"
        f"{fmt.value(m.ci_high, m.unit, with_unit=with_unit)}"
    )


def _value_cell(m: Metric | None) -> str | None:
    if m is None or not m.has_value:
        return None
    return fmt.value(m.value, m.unit, with_unit=m.unit == "rate")


def _n_cell(m: Metric | None) -> str | None:
    if m is None or m.n is None or not m.has_value:
        return None
    return fmt.number(m.n, 0) + ("（样本量不足）" if m.small_sample else "")


def sampled_cells(label: str, m: Metric) -> tuple[str | None, ...]:
    """指标, 本季度, 95%置信区间, 较上季度, 样本量 of a sampled metric (a survey score or
    rate, a quality-inspection rate): the cells of the score tables."""
    return (label, _value_cell(m), _interval_cell(m), _delta_cell(m), _n_cell(m))


# -- what a section keeps between its cells ---------------------------------------------------

_CACHE_ATTRIBUTE = "_sections_cache"


def cached(sec: Section, key: str, make: Callable[[], T]) -> T:
    """``make()`` computed once per section (until :func:`reset_cache`), so that running a
    table or chart cell again does not compute its frame again."""
    store: dict[str, Any] | None = getattr(sec, _CACHE_ATTRIBUTE, None)
    if store is None:
        store = {}
        setattr(sec, _CACHE_ATTRIBUTE, store)
    if key not in store:
        store[key] = make()
    return store[key]


def reset_cache(sec: Section) -> None:
    """Forget what :func:`cached` kept (``compute`` does it: the figures are computed anew)."""
    setattr(sec, _CACHE_ATTRIBUTE, {})


_COMPUTED_ATTRIBUTE = "_sections_computed"


def store(sec: Section, key: str, value: T) -> T:
    """Keep what ``compute`` worked out beyond the metrics (read back by :func:`computed`)."""
    kept: dict[str, Any] | None = getattr(sec, _COMPUTED_ATTRIBUTE, None)
    if kept is None:
        kept = {}
        setattr(sec, _COMPUTED_ATTRIBUTE, kept)
    kept[key] = value
    return value


def computed(sec: Section, key: str) -> Any:
    """What ``compute`` kept under ``key``; a :class:`SectionError` asking to run the
    section's compute cell first when it has not run."""
    kept: dict[str, Any] = getattr(sec, _COMPUTED_ATTRIBUTE, None) or {}
    if key not in kept:
        section = sec.definition.id
        raise SectionError(
            f"请先运行本节的计算单元 {section}.compute(sec)，再运行各内容单元"
            f" (run {section}.compute(sec) first)",
            section=section,
        )
    return kept[key]


def earlier_results(sec: Section) -> list[SectionResult]:
    """Stored results of the sections that run before this one (those not ``after_all``);
    refuses to go on over a missing, failed or stale one (``Section.read_results``)."""
    return sec.read_results()


def all_metrics(sec: Section) -> list[Metric]:
    """Every metric of the sections that ran before this one, in report order."""
    return [m for r in earlier_results(sec) for m in r.metrics]


# -- charts -----------------------------------------------------------------------------------

FIGURE_WIDTH_IN = charts.WIDTH_IN  # the report's text width: a chart is placed at this width


def figure_size(sec: Section, size: tuple[float, float]) -> tuple[float, float]:
    """``size`` as (width, height) in inches; anything but two positive numbers is a
    :class:`SectionError` (raised before anything is drawn or added)."""
    try:
        width, height = (float(v) for v in size)
        ok = width > 0 and height > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SectionError(
            f"图表尺寸应为两个正数（宽, 高，英寸），例如 size=({FIGURE_WIDTH_IN}, 3.0)，"
            f"而不是 {size!r} (size must be (width, height) in inches)",
            section=sec.definition.id,
        )
    return width, height


TREND_NOTE = "注：虚线为目标值，红点为未达到目标的季度；缺少数据的季度不画点。"


def trend_figure(
    sec: Section,
    caption: str,
    metrics: Callable[[], Sequence[Metric]],
    size: tuple[float, float] | None = None,
) -> Figure | None:
    """The last five quarters of ``metrics()``, one panel each (nothing when none has a
    trend); ``size`` None: 2.1 inches of height per row of two panels. A wrong ``size``
    fails before the metrics are looked up."""
    if size is not None:
        figure_size(sec, size)  # a wrong size fails before anything is drawn
    fig = charts.trend_panels(in_scope(sec, list(metrics())))
    if fig is None:
        return None
    if size is not None:
        fig.set_size_inches(*size)
    return sec.figure(fig, caption, note=TREND_NOTE)


def figure(sec: Section, size: tuple[float, float], ncols: int = 1, nrows: int = 1):
    """A new chart of ``size`` (width, height in inches, as matplotlib's ``figsize``) in the
    report's theme."""
    import matplotlib.pyplot as plt

    figsize = figure_size(sec, size)
    charts.setup()
    return plt.subplots(nrows, ncols, figsize=figsize, layout="constrained")
