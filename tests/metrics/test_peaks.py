"""Peak days and the phone service on them, against hand-computed figures.

Period 2026Q3: 92 days, 2026-07-01 … 2026-09-30. Thresholds: service level 45 s, short
abandon < 5 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selfcheck.metrics.peaks import (
    daily_tickets,
    missing_phone_column,
    peak_days,
    phone_on_peak_days,
    reaches_peak,
)
from selfcheck.metrics.phone import phone
from selfcheck.period import Period
from selfcheck.thresholds import Thresholds

Q3 = Period(2026, 3)
TH = Thresholds()


def tickets_on(days: dict[str, int]) -> pd.DataFrame:
    created = [pd.Timestamp(f"{d} 10:30") for d, n in days.items() for _ in range(n)]
    return pd.DataFrame({"created_at": pd.Series([*created, pd.NaT], dtype="datetime64[ns]")})


def test_daily_tickets_every_day_of_the_quarter():
    daily = daily_tickets(tickets_on({"2026-07-01": 2, "2026-09-30": 1}), Q3)
    assert len(daily) == 92 and daily.sum() == 3  # the ticket without a time is on no day
    assert daily["2026-07-01"] == 2 and daily["2026-09-30"] == 1 and daily["2026-08-01"] == 0


def test_peak_days_by_hand():
    # 92 tickets + 46 on 08-10 and 10 on 08-11: 148 over 92 days, average 1.6087;
    # 1.5 × average = 2.413: days with 1 ticket are not peaks, 08-10 (47) and 08-11 (11) are
    days = {str(d.date()): 1 for d in pd.date_range("2026-07-01", "2026-09-30")}
    days["2026-08-10"] += 46
    days["2026-08-11"] += 10
    daily = daily_tickets(tickets_on(days), Q3)
    peak = peak_days(daily)
    assert list(daily.index[peak]) == [pd.Timestamp("2026-08-10"), pd.Timestamp("2026-08-11")]
    assert reaches_peak(daily)


def test_no_day_reaches_the_factor_then_the_busiest_is_the_peak():
    days = {str(d.date()): 2 for d in pd.date_range("2026-07-01", "2026-09-30")}
    days["2026-07-03"] = 3  # 3 < 1.5 × (185 / 92): below the factor
    days["2026-09-03"] = 3  # ties: the earliest is the busiest
    daily = daily_tickets(tickets_on(days), Q3)
    assert not reaches_peak(daily)
    assert list(daily.index[peak_days(daily)]) == [pd.Timestamp("2026-07-03")]


def calls(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arrived_at": pd.Series(pd.to_datetime([r[0] for r in rows]), dtype="datetime64[ns]"),
            "outcome": pd.array([r[1] for r in rows], dtype="string"),
            "queue_seconds": pd.Series([r[2] for r in rows], dtype="float64"),
        }
    )


def test_phone_on_peak_days_by_hand():
    daily = pd.Series(0, index=pd.date_range("2026-07-01", "2026-09-30"))
    daily["2026-07-02"] = 30
    daily["2026-07-03"] = 10
    is_peak = pd.Series(daily.index == pd.Timestamp("2026-07-02"), index=daily.index)
    c = calls(
        [
            ("2026-07-02 09:00", "answered", 10.0),  # peak: in time
            ("2026-07-02 09:05", "answered", 46.0),  # peak: answered late
            ("2026-07-02 09:10", "abandoned", 4.0),  # peak: short abandon, not offered
            ("2026-07-02 09:15", "abandoned", 20.0),  # peak: offered, not answered
            ("2026-07-02 09:20", "answered", np.nan),  # peak: offered, answered, not in time
            ("2026-07-03 09:00", "answered", 45.0),  # other: in time (exactly 45 s)
            ("2026-07-03 09:30", "ivr", np.nan),  # other: never asked for a human
            ("2026-10-01 09:00", "answered", 1.0),  # after the quarter: in no group
        ]
    )
    g = phone_on_peak_days(c, daily, is_peak, TH)
    assert list(g.index) == ["peak", "other", "all"]
    assert g.loc["peak"].tolist() == [1, 30.0, 4.0, 0.75, 0.25]  # 3 of 4 answered, 1 in time
    assert g.loc["other", "days"] == 91
    assert g.loc["other", "tickets"] == pytest.approx(10 / 91)
    assert g.loc["other", "offered"] == pytest.approx(1 / 91)
    assert g.loc["other", ["answer_rate", "service_level"]].tolist() == [1.0, 1.0]
    assert g.loc["all", "offered"] == pytest.approx(5 / 92)
    assert g.loc["all", "service_level"] == pytest.approx(2 / 5)


def test_phone_on_peak_days_without_offered_calls_or_columns():
    daily = pd.Series(1, index=pd.date_range("2026-07-01", "2026-09-30"))
    is_peak = pd.Series(daily.index == daily.index[0], index=daily.index)
    g = phone_on_peak_days(calls([("2026-07-05 10:00", "ivr", np.nan)]), daily, is_peak, TH)
    assert g[["answer_rate", "service_level"]].isna().all().all()
    assert g.loc["peak", "offered"] == 0.0
    assert missing_phone_column(calls([]).drop(columns=["queue_seconds"])) == "queue_seconds"
    with pytest.raises(KeyError):
        phone_on_peak_days(calls([]).drop(columns=["outcome"]), daily, is_peak, TH)


def test_phone_on_peak_days_equals_the_phone_metrics_of_each_group():
    # 4,000 random calls over the quarter (and a few days either side): each group's figures
    # are those phone() gives over that group's calls, missing queue times and outcomes too
    rng = np.random.default_rng(7)
    n = 4000
    arrived = pd.Timestamp("2026-06-28") + pd.to_timedelta(rng.uniform(0, 98, n), unit="D")
    queue = rng.exponential(30, n)
    queue[rng.random(n) < 0.05] = np.nan
    outcome = rng.choice(["answered", "abandoned", "ivr", "busy"], n, p=[0.7, 0.2, 0.05, 0.05])
    c = pd.DataFrame(
        {
            "arrived_at": pd.Series(arrived, dtype="datetime64[ns]"),
            "outcome": pd.array(outcome, dtype="string"),
            "queue_seconds": queue,
        }
    )
    c.loc[rng.random(n) < 0.01, "outcome"] = pd.NA
    daily = pd.Series(rng.integers(0, 40, 92), index=pd.date_range("2026-07-01", "2026-09-30"))
    is_peak = daily >= 30
    g = phone_on_peak_days(c, daily, is_peak, TH)
    day = c["arrived_at"].dt.normalize()
    for name, dates in (
        ("peak", daily.index[is_peak]),
        ("other", daily.index[~is_peak]),
        ("all", daily.index),
    ):
        m = phone(c[day.isin(dates)], TH)
        assert g.loc[name, "offered"] == pytest.approx(m["phone.offered"].value / len(dates))
        assert g.loc[name, "answer_rate"] == pytest.approx(m["phone.answer_rate"].value)
        assert g.loc[name, "service_level"] == pytest.approx(m["phone.service_level"].value)
