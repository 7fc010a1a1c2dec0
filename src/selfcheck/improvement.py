"""The improvement summary of an annual report (年度整改措施及成效).

Every measure of the year, from the measures files of the year's periods
(``2026Q1_measures.yaml`` … ``2026Q4_measures.yaml``, the months' and the year's own
``2026_measures.yaml``): its problem, measure, owner, due date and status (as the latest
file has it), the value of its metric **when the measure was raised** (the period whose
shortfall it answers: the file it first appears in, or its ``carried_from`` period) and
**at the end of the year** (the year's last period of that kind with a value), the change
(``提升3.2个百分点``, ``缩短12.0秒``), and whether the target is now met. A measure whose
metric did not improve (the target says which way is better) or that is overdue (open
with its due date passed by the year's end, or 已延期) is flagged.

Pure: :func:`year_measures` reads the files, :func:`effects` takes the metric values
through a callable (the history store, or the data); the section
(``sections/improvement.py``) arranges them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from selfcheck import fmt
from selfcheck.analyst import OPEN_STATUSES, MeasureItem, analyst_file, load_measures
from selfcheck.config import Config, Standards
from selfcheck.errors import ParamsError
from selfcheck.metrics.base import Measure, Target
from selfcheck.metrics.catalogue import lookup
from selfcheck.period import Period

DURATIONS = ("seconds", "minutes", "hours", "days", "workdays")
FLAG_NOT_IMPROVED = "指标未改善"
FLAG_OVERDUE = "已逾期"


@dataclass(frozen=True)
class YearMeasure:
    """A measure of the year: as its latest file has it, and where it was raised."""

    item: MeasureItem
    raised: Period  # the period whose shortfall it answers
    files: tuple[Period, ...]  # the periods whose measures files hold it, in order


@dataclass(frozen=True)
class Effect:
    """One row of the improvement summary."""

    problem: str  # the metric id, or the analyst's problem title
    name: str  # the metric's Chinese name (or the problem title)
    measure: str
    owner: str
    due: str  # 2026年12月31日
    status: str
    raised: Period
    unit: str | None  # None: not a metric
    before: float | None
    after: float | None
    after_period: Period | None
    target: Target | None
    met: bool | None  # the end value meets its target (None: no value or no target)
    improved: bool | None  # the metric moved the way its target calls better (None: unknown)
    overdue: bool
    flags: tuple[str, ...] = field(default=())

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def change_text(self) -> str:
        """``提升14.0个百分点``, ``下降12.0个百分点``, ``缩短3.5秒``, ``持平``; ``—``.

        The change of the values as written (``从82.0%提升至96.0%``: 14.0), so the text never
        says ``从97.6%提升0.1个百分点至97.6%``."""
        if self.before is None or self.after is None or self.unit is None:
            return fmt.DASH
        d = _shown(self.after, self.unit) - _shown(self.before, self.unit)
        if fmt.delta(d, self.unit) == fmt.delta(0.0, self.unit):  # flat as written
            return "持平"
        if self.unit in DURATIONS:
            word = "延长" if d > 0 else "缩短"
        else:
            word = "提升" if d > 0 else "下降"
        amount = fmt.delta(abs(d), self.unit).lstrip("+")
        return f"{word}{amount}"

    @property
    def before_text(self) -> str:
        return fmt.value(self.before, self.unit) if self.unit else fmt.DASH

    @property
    def after_text(self) -> str:
        return fmt.value(self.after, self.unit) if self.unit else fmt.DASH

    @property
    def met_text(self) -> str:
        return {True: "达标", False: "未达标", None: fmt.DASH}[self.met]

    @property
    def sentence(self) -> str:
        """``人工接通率从提出时（2026Q1）的82.0%提升至年末（2026Q4）的96.0%，达到目标``;
        empty without both values."""
        if self.unit is None or self.before is None or self.after is None:
            return ""
        if self.after_period is None or self.after_period == self.raised:
            return ""
        change = self.change_text
        when = f"提出时（{self.raised.short_zh}）的{self.before_text}"
        end = f"年末（{self.after_period.short_zh}）的{self.after_text}"
        if change == "持平":
            move = f"与{when}持平"
        elif change.startswith(("下降", "缩短")):
            move = f"由{when}{change[:2]}至{end}"
        else:
            move = f"从{when}{change[:2]}至{end}"
        tail = {True: "，达到目标", False: "，仍未达到目标", None: ""}[self.met]
        return f"{self.name}{move}{tail}"


def measure_files(params_path: Config | Path, year: Period) -> list[Period]:
    """The periods of the year whose measures file exists, oldest first (a month's before
    its quarter's, the year's own last)."""
    if year.kind != "year":
        raise ParamsError(f"整改成效汇总只用于年度报告 (annual reports only), got {year}")
    candidates = [*year.months(), *year.quarters(), *year.parts("half"), year]
    found = [p for p in candidates if analyst_file(params_path, p, "measures").exists()]
    return sorted(found, key=lambda p: (p.end, -p.per_year))


def year_measures(params_path: Config | Path, year: Period) -> list[YearMeasure]:
    """Every measure of the year's measures files, once each (same problem and measure
    text): the latest file's status; raised where it first appears or in ``carried_from``."""
    seen: dict[tuple[str, str], YearMeasure] = {}
    for period in measure_files(params_path, year):
        measures = load_measures(params_path, period)
        for item in measures.measures if measures is not None else []:
            key = (item.problem, " ".join(item.measure.split()))
            earlier = seen.get(key)
            if earlier is None:
                raised = period
                if item.carried_from:
                    try:
                        raised = Period.parse(item.carried_from)
                    except ParamsError:
                        raised = period
                seen[key] = YearMeasure(item, raised, (period,))
            else:
                seen[key] = YearMeasure(item, earlier.raised, (*earlier.files, period))
    return list(seen.values())


def _is_metric(problem: str) -> bool:
    try:
        lookup(problem)
    except KeyError:
        return False
    return True


def _shown(v: float, unit: str) -> float:
    """The value as the report writes it (a rate's percentage to one decimal, as a fraction)."""
    scale, decimals = (100, 1) if unit == "rate" else (1, fmt.decimals(unit))
    return float(f"{v * scale:.{decimals}f}") / scale


def _better(target: Target | None, before: float, after: float) -> bool | None:
    """The metric moved the way its target calls better (``==``: closer to it)."""
    if target is None:
        return None
    if target.comparator == ">=":
        return after > before
    if target.comparator == "<=":
        return after < before
    return abs(after - target.value) < abs(before - target.value)


def effects(
    measures: list[YearMeasure],
    values: Callable[[Period], Mapping[str, Measure] | None],
    standards: Standards,
    year: Period,
) -> list[Effect]:
    """The improvement summary's rows, in the order of the measures files.

    ``values(period)``: the metric values of a period (None: none known). The end value
    is the year's last period of the raised period's kind that has one (a measure raised
    in 2026Q1 is measured in 2026Q4, or Q3 when Q4 has no value); its target is that
    kind's (``Standards.for_kind``).
    """
    cache: dict[Period, Mapping[str, Measure] | None] = {}

    def value_of(period: Period, metric: str) -> float | None:
        if period not in cache:
            cache[period] = values(period)
        got = cache[period]
        m = got.get(metric) if got is not None else None
        return None if m is None or m.value is None else float(m.value)

    rows = []
    for ym in measures:
        item = ym.item
        overdue = item.status == "已延期" or (
            item.status in OPEN_STATUSES and item.due <= year.last_day
        )
        unit = before = after = after_period = target = met = improved = None
        name = item.problem
        if _is_metric(item.problem):
            definition = lookup(item.problem)
            unit, name = definition.unit, definition.full_name
            before = value_of(ym.raised, item.problem)
            kind = ym.raised.kind if ym.raised.kind != "year" else "quarter"
            # raised in the year's own file (at its end): no later value
            for p in reversed(year.parts(kind) if ym.raised != year else ()):
                if p.start < ym.raised.start:
                    break
                after = value_of(p, item.problem)
                if after is not None:
                    after_period = p
                    break
            target = standards.for_kind(kind).target(item.problem)
            if after is not None and target is not None:
                met = target.met(after)
            if before is not None and after is not None and after_period != ym.raised:
                # judged on the values as written: 97.6% → 97.6% is no improvement
                improved = _better(target, _shown(before, unit), _shown(after, unit))
        flags = []
        if improved is False:
            flags.append(FLAG_NOT_IMPROVED)
        if overdue:
            flags.append(FLAG_OVERDUE)
        rows.append(
            Effect(
                item.problem,
                name,
                item.measure,
                item.owner,
                fmt.date_zh(item.due),
                item.status,
                ym.raised,
                unit,
                before,
                after,
                after_period,
                target,
                met,
                improved,
                overdue,
                tuple(flags),
            )
        )
    return rows
