"""The Chinese working calendar and working-hours arithmetic.

Workdays come from the maintained ``chinesecalendar`` package (statutory
holidays off, make-up working days 调休 on). A year the package does not know
is an error unless the parameters list that year's holidays and make-up days.
Everything here is vectorised over whole columns: the calendar is evaluated
once per distinct day, never per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import chinese_calendar
import numpy as np
import pandas as pd

from selfcheck.errors import ParamsError


@dataclass(frozen=True)
class YearOverride:
    """Holidays and make-up workdays of one year, supplied by the analyst."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkCalendar:
    """Workdays plus the daily working hours (default 09:00–18:00)."""

    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    overrides: Mapping[int, YearOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.work_end <= self.work_start:
            raise ParamsError(
                f"工作时间结束 ({self.work_end:%H:%M}) 必须晚于开始 ({self.work_start:%H:%M})"
            )

    # -- days -------------------------------------------------------------
    @property
    def seconds_per_day(self) -> int:
        s, e = self.work_start, self.work_end
        return (e.hour * 3600 + e.minute * 60 + e.second) - (
            s.hour * 3600 + s.minute * 60 + s.second
        )

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day.year)
        if override is not None:
            if day in override.holidays:
                return False
            if day in override.workdays:
                return True
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise _unknown_year(day.year) from None

    def knows_year(self, year: int) -> bool:
        """The year's holidays and make-up days are known (the package's or listed)."""
        if year in self.overrides:
            return True
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
            chinese_calendar.is_workday(date(year, 12, 31))
        except NotImplementedError:
            return False
        return True

    def check_year(self, year: int, *, where: str = "") -> None:
        """ParamsError naming the year when the calendar does not know it."""
        if not self.knows_year(year):
            raise _unknown_year(year, where)

    def holidays(self, first: date, last: date) -> list[date]:
        """Weekdays off (statutory holidays) from ``first`` to ``last`` inclusive."""
        return [d for d in _days(first, last) if d.weekday() < 5 and not self.is_workday(d)]

    def makeup_workdays(self, first: date, last: date) -> list[date]:
        """Weekend days worked (调休上班日) from ``first`` to ``last`` inclusive."""
        return [d for d in _days(first, last) if d.weekday() >= 5 and self.is_workday(d)]

    def workdays_between(self, first: date, last: date) -> list[date]:
        """Workdays from ``first`` to ``last`` inclusive."""
        out, d = [], first
        while d <= last:
            if self.is_workday(d):
                out.append(d)
            d += timedelta(days=1)
        return out

    def _day_table(self, first: date, last: date) -> np.ndarray:
        n = (last - first).days + 1
        return np.fromiter(
            (self.is_workday(first + timedelta(days=i)) for i in range(n)), dtype=bool, count=n
        )

    # -- vectorised -------------------------------------------------------
    def workday_mask(self, values: Iterable) -> np.ndarray:
        """True where the timestamp's (or date's) day is a workday; False for NaT."""
        ts = pd.to_datetime(pd.Series(values), errors="raise")
        days = ts.dt.normalize()
        valid = days.notna().to_numpy()
        out = np.zeros(len(ts), dtype=bool)
        if not valid.any():
            return out
        lo, hi = days[valid].min().date(), days[valid].max().date()
        table = self._day_table(lo, hi)
        idx = (days[valid] - pd.Timestamp(lo)).dt.days.to_numpy()
        out[valid] = table[idx]
        return out

    def in_working_hours(self, values: Iterable) -> np.ndarray:
        """True where a timestamp falls on a workday with start ≤ time < end."""
        ts = pd.to_datetime(pd.Series(values), errors="raise")
        secs = _seconds_of_day(ts)
        start, end = _secs(self.work_start), _secs(self.work_end)
        with np.errstate(invalid="ignore"):
            in_hours = (secs >= start) & (secs < end)
        return self.workday_mask(ts) & np.nan_to_num(in_hours, nan=0).astype(bool)

    def working_seconds_between(self, start: Iterable, end: Iterable) -> np.ndarray:
        """Working-hours time between two timestamp columns, in seconds (NaN where either is NaT).

        Negative when ``end`` is before ``start``.
        """
        a = pd.to_datetime(pd.Series(start), errors="raise").reset_index(drop=True)
        b = pd.to_datetime(pd.Series(end), errors="raise").reset_index(drop=True)
        both = pd.concat([a, b])
        if both.notna().sum() == 0:
            return np.full(len(a), np.nan)
        lo = both.min().normalize().date()
        hi = both.max().normalize().date()
        table = self._day_table(lo, hi)
        per_day = np.where(table, self.seconds_per_day, 0).astype(np.int64)
        before = np.concatenate([[0], np.cumsum(per_day)[:-1]])
        return self._cumulative(b, lo, table, before) - self._cumulative(a, lo, table, before)

    def working_days_between(self, start: Iterable, end: Iterable) -> np.ndarray:
        """Working-hours time ÷ working hours per day (fractional working days)."""
        return self.working_seconds_between(start, end) / self.seconds_per_day

    def _cumulative(
        self, ts: pd.Series, lo: date, table: np.ndarray, before: np.ndarray
    ) -> np.ndarray:
        out = np.full(len(ts), np.nan)
        valid = ts.notna().to_numpy()
        if not valid.any():
            return out
        t = ts[valid]
        idx = (t.dt.normalize() - pd.Timestamp(lo)).dt.days.to_numpy()
        secs = _seconds_of_day(t)
        start, end = _secs(self.work_start), _secs(self.work_end)
        within = np.clip(secs, start, end) - start
        out[valid] = before[idx] + np.where(table[idx], within, 0)
        return out


def _unknown_year(year: int, where: str = "") -> ParamsError:
    return ParamsError(
        f"{where + '：' if where else ''}工作日历不含 {year} 年的节假日安排（chinesecalendar "
        f"{getattr(chinese_calendar, '__version__', '')}）。请在参数文件的 "
        f"calendar.years 中列出 {year} 年的法定节假日 (holidays) 和调休上班日 "
        f"(workdays)，或升级 chinesecalendar。"
        f" (the working calendar does not know {year}: list it under calendar.years)"
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _seconds_of_day(ts: pd.Series) -> np.ndarray:
    delta = ts - ts.dt.normalize()
    return delta.dt.total_seconds().to_numpy(dtype=float)
