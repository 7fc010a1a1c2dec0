from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from selfcheck.calendar import WorkCalendar, YearOverride
from selfcheck.errors import ParamsError

CAL = WorkCalendar()


@pytest.mark.parametrize(
    "day", ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
)
def test_2026_make_up_workdays(day):
    d = date.fromisoformat(day)
    assert d.weekday() >= 5  # a weekend day...
    assert CAL.is_workday(d)  # ...worked as a make-up day (调休)


@pytest.mark.parametrize(
    "day", ["2026-01-01", "2026-02-17", "2026-05-01", "2026-05-05", "2026-10-01", "2026-10-07"]
)
def test_2026_holidays_are_off(day):
    assert not CAL.is_workday(date.fromisoformat(day))


def test_plain_weekend_and_weekday():
    assert not CAL.is_workday(date(2026, 9, 19))  # Saturday
    assert CAL.is_workday(date(2026, 9, 18))  # Friday


def test_uncovered_year_is_an_error_unless_overridden():
    with pytest.raises(ParamsError, match=r"calendar\.years"):
        CAL.is_workday(date(2099, 1, 5))
    cal = WorkCalendar(
        overrides={2099: YearOverride(frozenset({date(2099, 1, 1)}), frozenset({date(2099, 1, 3)}))}
    )
    assert not cal.is_workday(date(2099, 1, 1))  # Thursday, holiday
    assert cal.is_workday(date(2099, 1, 3))  # Saturday, make-up day
    assert cal.is_workday(date(2099, 1, 2))  # Friday


def test_in_working_hours_vectorised():
    ts = pd.Series(
        pd.to_datetime(
            [
                "2026-09-18 08:59:59",  # Friday, before hours
                "2026-09-18 09:00:00",  # start is inside
                "2026-09-18 17:58:00",
                "2026-09-18 18:00:00",  # end is outside
                "2026-09-20 17:58:00",  # make-up Sunday
                "2026-09-19 10:00:00",  # Saturday
                "2026-10-01 10:00:00",  # National Day
                None,
            ]
        )
    )
    assert CAL.in_working_hours(ts).tolist() == [
        False,
        True,
        True,
        False,
        True,
        False,
        False,
        False,
    ]


def test_working_seconds_between():
    a = pd.Series(
        pd.to_datetime(
            [
                "2026-09-18 17:00:00",  # Fri 17:00 → Sun(make-up) 10:00: 1 h + 1 h
                "2026-09-30 17:00:00",  # Wed 17:00 → Fri 10-09 09:30: 1 h + 10-08 (9 h) + 0.5 h
                "2026-09-18 20:00:00",  # after hours → next morning Sat (off) → 0
                "2026-09-18 10:00:00",
                None,
            ]
        )
    )
    b = pd.Series(
        pd.to_datetime(
            [
                "2026-09-20 10:00:00",
                "2026-10-09 09:30:00",
                "2026-09-19 11:00:00",
                "2026-09-18 09:00:00",  # end before start: negative
                "2026-09-18 10:00:00",
            ]
        )
    )
    secs = CAL.working_seconds_between(a, b)
    assert secs[:4].tolist() == [7200.0, 37800.0, 0.0, -3600.0]
    assert np.isnan(secs[4])
    days = CAL.working_days_between(a, b)
    assert days[0] == pytest.approx(7200 / (9 * 3600))


def test_custom_hours():
    cal = WorkCalendar(work_start=time(8, 30), work_end=time(17, 30))
    assert cal.seconds_per_day == 9 * 3600
    with pytest.raises(ParamsError):
        WorkCalendar(work_start=time(18), work_end=time(9))


def test_which_years_the_calendar_knows():
    assert CAL.knows_year(2026) and CAL.knows_year(2024)
    assert not CAL.knows_year(2099)
    with pytest.raises(ParamsError, match=r"p\.yaml: calendar\.years：工作日历不含 2099 年"):
        CAL.check_year(2099, where="p.yaml: calendar.years")
    listed = WorkCalendar(overrides={2099: YearOverride()})
    listed.check_year(2099)  # listed (even with no holidays): known
    assert listed.holidays(date(2099, 1, 1), date(2099, 1, 31)) == []


def test_holidays_and_make_up_days_of_a_span():
    # 2026's Spring Festival: 15–23 Feb off (weekdays 16–20 and 23), 14 and 28 Feb worked
    assert CAL.holidays(date(2026, 2, 1), date(2026, 2, 28)) == [
        date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)
    ]
    assert CAL.makeup_workdays(date(2026, 2, 1), date(2026, 2, 28)) == [
        date(2026, 2, 14),
        date(2026, 2, 28),
    ]
    assert CAL.makeup_workdays(date(2026, 7, 1), date(2026, 8, 31)) == []
