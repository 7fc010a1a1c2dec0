"""Ticket metrics against hand-computed figures (spec/metrics.md, Tickets).

Period 2026Q3: period end = 2026-10-01 00:00, 92 calendar days.
2026 calendar facts used: 09-18 Friday (workday), 09-19 Saturday (rest day), 09-20 Sunday
(make-up workday 调休), 09-24 Thursday (workday), 09-25 Mid-Autumn (holiday), 09-26/27
weekend, 10-01..07 National Day (holidays). Working hours 09:00–18:00 (9 h a day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import Measure
from selfcheck.metrics.tickets import tickets
from selfcheck.period import Period
from selfcheck.thresholds import Thresholds

Q3 = Period(2026, 3)
CAL = WorkCalendar()

TICKET_IDS = {
    "tickets.total",
    "tickets.sla_rate.L1",
    "tickets.sla_rate.L2",
    "tickets.sla_rate.L3",
    "tickets.first_response_median_minutes",
    "tickets.resolution_median_hours",
    "tickets.bot_resolution_rate",
    "tickets.transfer_rate",
    "tickets.repeat_contact_rate",
    "tickets.handoffs_mean",
    "tickets.reopen_rate",
    "tickets.escalation_rate",
    "tickets.backlog",
    "tickets.archive_late_rate",
    "tickets.peak_ratio",
}
CHANNEL_IDS = [
    f"tickets.total.channel:{c}"
    for c in ("phone", "online", "app", "wechat", "email", "onsite", "social", "other")
]
LEVEL_IDS = ["tickets.total.level:L1", "tickets.total.level:L2", "tickets.total.level:L3"]
AGE_IDS = [
    "tickets.backlog.age:≤1天",
    "tickets.backlog.age:1-3天",
    "tickets.backlog.age:3-7天",
    "tickets.backlog.age:>7天",
]

COLUMNS = (
    "created_at",
    "channel",
    "level",
    "category",
    "customer_id",
    "first_response_at",
    "resolved_at",
    "plan_at",
    "closed_at",
    "handoffs",
    "reopened",
    "escalated",
    "resolved_by_bot",
    "transferred_to_human",
    "archived_at",
)
TIMES = {"created_at", "first_response_at", "resolved_at", "plan_at", "closed_at", "archived_at"}
FLAGS = {"reopened", "escalated", "resolved_by_bot", "transferred_to_human"}

# fmt: off
# created, channel, level, category, customer, first_response, resolved, plan, closed,
# handoffs, reopened, escalated, bot, transferred, archived
ROWS = [
    # T1 L1 resolved after exactly 2 h 0 s → met; closed 13:00, archived exactly 24 h later
    ("2026-09-01 10:00:00", "phone", "L1", "账单", "C1", "2026-09-01 10:10:00",
     "2026-09-01 12:00:00", None, "2026-09-01 13:00:00", 1, False, None, True, False,
     "2026-09-02 13:00:00"),
    # T2 L1 resolved after 2 h 0 min 1 s → breached; same customer and same second as T1;
    # no closed_at, archived 24 h 1 s after resolution → late; reopened
    ("2026-09-01 10:00:00", "phone", "L1", "账单", "C1", "2026-09-01 10:30:00",
     "2026-09-01 12:00:01", None, None, 2, True, None, False, True,
     "2026-09-02 12:00:02"),
    # T3 L1 open, 1 h before period end → pending, backlog ≤1天; closed (not resolved)
    # 30 min before the end and not archived → archive pending
    ("2026-09-30 23:00:00", "online", "L1", "停电", "C2", None,
     None, None, "2026-09-30 23:30:00", None, None, None, None, True,
     None),
    # T4 L1 open 3 h before period end → breached (overdue), backlog ≤1天
    ("2026-09-30 21:00:00", "app", "L1", "停电", "C2", "2026-09-30 21:05:00",
     None, None, None, None, None, None, False, True,
     None),
    # T5 L1 resolved after period end (1 h 40 min, would be met) → not done at period end:
    # 1.5 h elapsed → pending, backlog ≤1天; its first response is after the end too
    ("2026-09-30 22:30:00", "wechat", "L1", None, "C3", "2026-10-01 00:05:00",
     "2026-10-01 00:10:00", None, "2026-10-01 01:00:00", None, None, None, True, None,
     None),
    # T6 L2 resolved after period end, 36 h elapsed at the end → breached, backlog 1-3天;
    # reopened (not in the reopen base: not resolved at period end)
    ("2026-09-29 12:00:00", "phone", "L2", "报装", "C3", "2026-09-29 13:00:00",
     "2026-10-01 08:00:00", None, None, 5, True, True, None, None,
     None),
    # T7 L2 resolved after exactly 24 h → met; archived 23 h after closed_at (47 h after
    # resolution): the reference is closed_at → on time
    ("2026-08-10 09:00:00", "email", "L2", "账单", None, "2026-08-10 09:20:00",
     "2026-08-11 09:00:00", None, "2026-08-12 09:00:00", 3, False, None, False, None,
     "2026-08-13 08:00:00"),
    # T8 L3 without plan_at: resolved after exactly 48 h → met; never archived → late
    ("2026-08-20 10:00:00", "phone", "L3", "停电", " ", None,
     "2026-08-22 10:00:00", None, None, None, None, None, None, None,
     None),
    # T9 L3 planned after 24 h (resolved after 120 h) → met by its plan
    ("2026-08-20 10:00:00", "onsite", "L3", "  ", "C4", "2026-08-20 10:15:00",
     "2026-08-25 10:00:00", "2026-08-21 10:00:00", "2026-08-25 11:00:00", None, None, None,
     None, None, "2026-08-25 12:00:00"),
    # T10 L3 open, 39 h before period end → pending, backlog 1-3天
    ("2026-09-29 09:00:00", "online", "L3", "咨询", "C5", None,
     None, None, None, None, None, False, None, None,
     None),
    # T11 L3 planned after 72 h → breached; resolved 96 h; closed after the period end so the
    # archive reference is resolved_at (archived 1 h later → on time)
    ("2026-09-20 09:00:00", "phone", "L3", "报装", "C4", "2026-09-20 09:40:00",
     "2026-09-24 09:00:00", "2026-09-23 09:00:00", "2026-10-02 09:00:00", None, None, True,
     None, None, "2026-09-24 10:00:00"),
    # T12 L2 resolved after 24 h 0 min 1 s → breached; closed, never archived → late
    ("2026-07-05 10:00:00", "app", "L2", None, None, None,
     "2026-07-06 10:00:01", None, "2026-07-06 11:00:00", None, True, None, None, None,
     None),
    # T13 L2 open since 09-15 → breached, backlog >7天; closed 09-29 10:00 without
    # resolution, archived only after the period end: 38 h at the end → archive late
    ("2026-09-15 10:00:00", "phone", "L2", "咨询", "C1", "2026-09-15 12:00:00",
     None, None, "2026-09-29 10:00:00", 6, None, False, None, None,
     "2026-10-01 09:00:00"),
]
# fmt: on


def tickets_frame(rows=ROWS) -> pd.DataFrame:
    n = len(rows)
    data: dict[str, object] = {
        "ticket_id": pd.array([f"T{i + 1}" for i in range(n)], dtype="string")
    }
    for j, column in enumerate(COLUMNS):
        values = [r[j] for r in rows]
        if column in TIMES:
            data[column] = pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
        elif column in FLAGS:
            data[column] = pd.array(values, dtype="boolean")
        elif column == "handoffs":
            data[column] = pd.array(values, dtype="Int64")
        else:
            data[column] = pd.array(values, dtype="string")
    return pd.DataFrame(data)


def run(df: pd.DataFrame | None, th: Thresholds | None = None, period: Period = Q3):
    return tickets(df, th or Thresholds(), CAL, period)


def test_every_ticket_metric() -> None:
    m = run(tickets_frame())
    category_ids = [
        "tickets.total.category:停电",
        "tickets.total.category:账单",
        "tickets.total.category:咨询",
        "tickets.total.category:报装",
    ]
    assert list(m) == [
        *[i for i in m if i in TICKET_IDS],
        *CHANNEL_IDS,
        *LEVEL_IDS,
        *category_ids,
        *AGE_IDS,
    ]
    assert set(m) - set(CHANNEL_IDS + LEVEL_IDS + category_ids + AGE_IDS) == TICKET_IDS

    assert m["tickets.total"] == Measure(13.0, None, None, 13)
    counts = {"phone": 6, "online": 2, "app": 2, "wechat": 1, "email": 1, "onsite": 1}
    for i in CHANNEL_IDS:
        key = i.split(":")[1]
        assert m[i] == Measure.count(counts.get(key, 0)), i
    assert m["tickets.total.level:L1"] == Measure(5.0, None, None, 5)
    assert m["tickets.total.level:L2"] == Measure(4.0, None, None, 4)
    assert m["tickets.total.level:L3"] == Measure(4.0, None, None, 4)
    # 停电 3, 账单 3 (tie → by name), 咨询 2, 报装 2; empty and blank categories left out
    assert [m[i].value for i in category_ids] == [3.0, 3.0, 2.0, 2.0]

    # L1: T1 met (exactly 2 h); T2 breached (2 h 1 s); T4 breached (open, 3 h at the end);
    # T3, T5 pending (open 1 h / resolved after the end, 1.5 h at the end)
    assert m["tickets.sla_rate.L1"] == Measure(1 / 3, 1.0, 3.0, 3)
    # L2: T7 met (exactly 24 h); T6 breached (resolved after the end, 36 h at the end);
    # T12 breached (24 h 1 s); T13 breached (open since 09-15)
    assert m["tickets.sla_rate.L2"] == Measure(0.25, 1.0, 4.0, 4)
    # L3: T8 met (no plan: resolved at 48 h); T9 met (plan 24 h); T11 breached (plan 72 h);
    # T10 pending (39 h at the end)
    assert m["tickets.sla_rate.L3"] == Measure(2 / 3, 2.0, 3.0, 3)

    # first responses before the end (min): 10 30 5 60 20 15 40 120 → (20 + 30) / 2
    assert m["tickets.first_response_median_minutes"] == Measure(25.0, None, None, 8)
    # resolved before the end (h): 2, 2 h 1 s, 24, 48, 120, 96, 24 h 1 s → 24 h 1 s
    assert m["tickets.resolution_median_hours"] == Measure(86401 / 3600, None, None, 7)
    # resolved_by_bot known: T1 T, T2 F, T4 F, T5 T, T7 F
    assert m["tickets.bot_resolution_rate"] == Measure(0.4, 2.0, 5.0, 5)
    # transferred known: T1 F, T2 T, T3 T, T4 T
    assert m["tickets.transfer_rate"] == Measure(0.75, 3.0, 4.0, 4)
    # customer known: all but T7, T12 (empty) and T8 (blank) = 10; repeats: T3 (T4 of C2
    # 2 h before), T5 (T6 of C3 34.5 h before); T1/T2 of C1 in the same second: neither;
    # T13 (C1, 14 d later) and T11 (C4, 31 d later): no
    assert m["tickets.repeat_contact_rate"] == Measure(0.2, 2.0, 10.0, 10)
    # handoffs 1 2 5 3 6
    assert m["tickets.handoffs_mean"] == Measure(3.4, None, None, 5)
    # resolved before the end: T1 T2 T7 T8 T9 T11 T12; reopened: T2 T12 (T6 after the end)
    assert m["tickets.reopen_rate"] == Measure(2 / 7, 2.0, 7.0, 7)
    # escalated known: T6 T, T10 F, T11 T, T13 F
    assert m["tickets.escalation_rate"] == Measure(0.5, 2.0, 4.0, 4)
    # open at the end: T3 T4 T5 T6 T10 T13 (T11 planned)
    assert m["tickets.backlog"] == Measure(6.0, None, None, 6)
    assert [m[i].value for i in AGE_IDS] == [3.0, 2.0, 0.0, 1.0]
    # archive base: T1 T2 T7 T8 T9 T11 T12 T13 (T3 pending, 30 min at the end);
    # late: T2 (24 h 1 s), T8 (never), T12 (never), T13 (archived after the end, 38 h)
    assert m["tickets.archive_late_rate"] == Measure(0.5, 4.0, 8.0, 8)
    # busiest day 09-30 (T3 T4 T5): 3 ÷ (13 ÷ 92)
    assert m["tickets.peak_ratio"] == Measure(276 / 13, 3.0, 13 / 92, 13)
    assert m["tickets.peak_ratio"].value == pytest.approx(21.2307692)
    assert all(x.reason is None for x in m.values())


def test_l3_without_plan_column_uses_resolved_at() -> None:
    m = run(tickets_frame().drop(columns=["plan_at"]))
    # T8 met (48 h); T9 breached (resolved 120 h); T11 breached (resolved 96 h); T10 pending
    assert m["tickets.sla_rate.L3"] == Measure(1 / 3, 1.0, 3.0, 3)
    # T9 and T11 are resolved before the end: backlog unchanged
    assert m["tickets.backlog"].value == 6


def test_exactly_at_limit_at_period_end_is_pending() -> None:
    th = Thresholds(sla_hours={"L1": 3})
    m = run(tickets_frame(), th)
    # L1 within 3 h: T1, T2 met; T4 open with exactly 3 h at the end → pending; T3, T5 pending
    assert m["tickets.sla_rate.L1"] == Measure(1.0, 2.0, 2.0, 2)


def test_thresholds_are_used() -> None:
    th = Thresholds(repeat_window_days=1, archive_limit_hours=48)
    m = run(tickets_frame(), th)
    # T5 is 34.5 h after T6 (> 24 h): only T3 remains a repeat
    assert m["tickets.repeat_contact_rate"] == Measure(0.1, 1.0, 10.0, 10)
    # archive > 48 h: T8, T12 (never archived, limit passed); T2 (24 h 1 s) on time;
    # T13 38 h at the end → pending; T3 pending → base 7
    assert m["tickets.archive_late_rate"] == Measure(2 / 7, 2.0, 7.0, 7)


# -- business clock ------------------------------------------------------------

# fmt: off
BUSINESS_ROWS = [
    # B1 L1 Fri 17:00 → make-up Sunday 10:00: 1 h + 1 h = 2 h → met (calendar 41 h)
    ("2026-09-18 17:00:00", "L1", "2026-09-20 10:00:00", None),
    # B2 L1 Saturday 10:00 → Sunday 11:00:01: 2 h 1 s → breached (calendar 25 h)
    ("2026-09-19 10:00:00", "L1", "2026-09-20 11:00:01", None),
    # B3 L1 Thu 17:30 → Mon 10:30 over the Mid-Autumn holiday and the weekend:
    # 0.5 h + 1.5 h = 2 h → met (calendar 89 h)
    ("2026-09-24 17:30:00", "L1", "2026-09-28 10:30:00", None),
    # B4 L2 open from Wed 09-30 10:00: 8 h at the end → pending (calendar 14 h, pending)
    ("2026-09-30 10:00:00", "L2", None, None),
    # B5 L2 open from Tue 09-22 10:00: 8 + 9 + 9 + 27 = 53 h → breached (calendar too)
    ("2026-09-22 10:00:00", "L2", None, None),
    # B6 L2 open from Tue 09-29 12:00: 6 + 9 = 15 h → pending (calendar 36 h → breached)
    ("2026-09-29 12:00:00", "L2", None, None),
    # B7 L3 Thu 09-24 09:00, plan Tue 09-29 18:00: 9 + 9 + 9 = 27 h → met (calendar 129 h)
    ("2026-09-24 09:00:00", "L3", None, "2026-09-29 18:00:00"),
]
# fmt: on


def business_frame(rows=BUSINESS_ROWS) -> pd.DataFrame:
    def ts(values: list) -> pd.Series:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")

    n = len(rows)
    return pd.DataFrame(
        {
            "ticket_id": pd.array([f"B{i + 1}" for i in range(n)], dtype="string"),
            "created_at": ts([r[0] for r in rows]),
            "channel": pd.array(["phone"] * n, dtype="string"),
            "level": pd.array([r[1] for r in rows], dtype="string"),
            "resolved_at": ts([r[2] for r in rows]),
            "plan_at": ts([r[3] for r in rows]),
        }
    )


def test_business_clock() -> None:
    m = run(business_frame(), Thresholds(sla_clock="business"))
    assert m["tickets.sla_rate.L1"] == Measure(2 / 3, 2.0, 3.0, 3)
    assert m["tickets.sla_rate.L2"] == Measure(0.0, 0.0, 1.0, 1)
    assert m["tickets.sla_rate.L3"] == Measure(1.0, 1.0, 1.0, 1)


def test_calendar_clock_on_the_same_tickets() -> None:
    m = run(business_frame(), Thresholds(sla_clock="calendar"))
    assert m["tickets.sla_rate.L1"] == Measure(0.0, 0.0, 3.0, 3)
    # B4 pending (14 h); B5, B6 breached
    assert m["tickets.sla_rate.L2"] == Measure(0.0, 0.0, 2.0, 2)
    assert m["tickets.sla_rate.L3"] == Measure(0.0, 0.0, 1.0, 1)


def test_business_clock_in_q4_never_asks_the_next_year() -> None:
    # the calendar package does not know 2027: the period end (2027-01-01) and a resolution
    # in 2027 must not be looked up
    rows = [
        ("2026-12-31 10:00:00", "L2", None, None),  # 8 h at the end → pending
        ("2026-12-29 10:00:00", "L2", "2027-01-04 10:00:00", None),  # 8 + 9 + 9 = 26 h → breached
        ("2026-12-30 09:00:00", "L1", "2026-12-30 11:00:00", None),  # 2 h → met
    ]
    m = run(business_frame(rows), Thresholds(sla_clock="business"), Period(2026, 4))
    assert m["tickets.sla_rate.L1"] == Measure(1.0, 1.0, 1.0, 1)
    assert m["tickets.sla_rate.L2"] == Measure(0.0, 0.0, 1.0, 1)
    assert m["tickets.backlog"].value == 2
    assert m["tickets.peak_ratio"] == Measure(92 / 3, 1.0, 3 / 92, 3)


# -- repeat contact ------------------------------------------------------------


def test_repeat_contact_windows() -> None:
    t0 = pd.Timestamp("2026-09-01 10:00:00")
    day = pd.Timedelta(days=1)
    second = pd.Timedelta(seconds=1)
    rows = [  # customer, created_at, channel — deliberately out of order
        ("A", t0 + 7 * day, "online"),  # exactly 7 × 24 h after A's first → repeat
        ("A", t0, "phone"),
        ("B", t0, "phone"),
        ("B", t0 + 7 * day + second, "phone"),  # 7 × 24 h + 1 s → not
        ("C", t0 + day, "app"),  # tie with the next; both have C's t0 before → repeats
        ("C", t0 + day, "wechat"),
        ("C", t0, "phone"),
        ("D", t0, "phone"),  # same second as the next: neither is earlier → no repeat
        ("D", t0, "email"),
        ("E", t0, "phone"),
        ("E", t0 + 5 * day, "phone"),  # repeat (5 d)
        ("E", t0 + 10 * day, "phone"),  # repeat (5 d after the previous one)
        (None, t0, "phone"),  # no customer: out of the base
        (None, t0 + day, "phone"),
    ]
    n = len(rows)
    df = pd.DataFrame(
        {
            "ticket_id": pd.array([f"R{i}" for i in range(n)], dtype="string"),
            "created_at": pd.Series([r[1] for r in rows], dtype="datetime64[ns]"),
            "channel": pd.array([r[2] for r in rows], dtype="string"),
            "level": pd.array(["L1"] * n, dtype="string"),
            "customer_id": pd.array([r[0] for r in rows], dtype="string"),
        }
    )
    m = run(df)
    assert m["tickets.repeat_contact_rate"] == Measure(5 / 12, 5.0, 12.0, 12)


# -- backlog ageing ------------------------------------------------------------


def test_backlog_age_boundaries() -> None:
    created = [
        "2026-09-30 00:00:00",  # exactly 24 h → ≤1天
        "2026-09-29 23:59:59",  # 24 h 1 s → 1-3天
        "2026-09-28 00:00:00",  # exactly 72 h → 1-3天
        "2026-09-27 23:59:59",  # 72 h 1 s → 3-7天
        "2026-09-24 00:00:00",  # exactly 7 d → 3-7天
        "2026-09-23 23:59:59",  # 7 d 1 s → >7天
        "2026-07-01 00:00:00",  # → >7天
        "2026-09-30 23:59:59",  # 1 s → ≤1天
    ]
    rows = [(c, "L2", None, None) for c in created]
    rows.append(("2026-09-01 00:00:00", "L2", "2026-09-02 00:00:00", None))  # resolved
    rows.append(("2026-09-01 00:00:00", "L3", None, "2026-09-02 00:00:00"))  # planned
    m = run(business_frame(rows))
    assert m["tickets.backlog"] == Measure(8.0, None, None, 8)
    assert [m[i].value for i in AGE_IDS] == [2.0, 2.0, 2.0, 2.0]


# -- no data -------------------------------------------------------------------


def test_missing_frame() -> None:
    m = run(None)
    assert set(m) == TICKET_IDS | set(CHANNEL_IDS) | set(LEVEL_IDS) | set(AGE_IDS)
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供工单数据 (tickets)"


def test_empty_frame() -> None:
    m = run(tickets_frame([]))
    assert m["tickets.total"] == Measure(0.0, None, None, 0)
    assert m["tickets.backlog"] == Measure(0.0, None, None, 0)
    for i in CHANNEL_IDS + LEVEL_IDS + AGE_IDS:
        assert m[i] == Measure(0.0, None, None, 0)
    assert not any(":" in i and "category" in i for i in m)
    for i in TICKET_IDS - {"tickets.total", "tickets.backlog"}:
        assert m[i].value is None, i
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0"), i


def test_no_decided_ticket_of_a_level() -> None:
    rows = [r for r in ROWS if r[2] == "L1"]
    m = run(tickets_frame(rows))
    assert m["tickets.sla_rate.L2"].value is None
    assert m["tickets.sla_rate.L2"].reason == "样本为0：无已判定达标或超时的L2工单"
    assert m["tickets.sla_rate.L1"] == Measure(1 / 3, 1.0, 3.0, 3)
    assert m["tickets.total.level:L3"] == Measure(0.0, None, None, 0)


@pytest.mark.parametrize(
    ("column", "affected"),
    [
        (
            "resolved_at",
            {
                "tickets.sla_rate.L1",
                "tickets.sla_rate.L2",
                "tickets.sla_rate.L3",
                "tickets.resolution_median_hours",
                "tickets.reopen_rate",
                "tickets.backlog",
                *AGE_IDS,
            },
        ),
        ("first_response_at", {"tickets.first_response_median_minutes"}),
        ("resolved_by_bot", {"tickets.bot_resolution_rate"}),
        ("transferred_to_human", {"tickets.transfer_rate"}),
        ("escalated", {"tickets.escalation_rate"}),
        ("customer_id", {"tickets.repeat_contact_rate"}),
        ("handoffs", {"tickets.handoffs_mean"}),
        ("reopened", {"tickets.reopen_rate"}),
        ("archived_at", {"tickets.archive_late_rate"}),
        ("channel", set(CHANNEL_IDS)),
        (
            "level",
            {
                "tickets.sla_rate.L1",
                "tickets.sla_rate.L2",
                "tickets.sla_rate.L3",
                "tickets.backlog",
                *AGE_IDS,
                *LEVEL_IDS,
            },
        ),
    ],
)
def test_missing_column(column: str, affected: set[str]) -> None:
    m = run(tickets_frame().drop(columns=[column]))
    for i in affected:
        assert m[i].value is None, i
        assert m[i].reason is not None and m[i].reason.startswith(f"缺少列 {column}（"), i
    for i in (TICKET_IDS | set(CHANNEL_IDS) | set(LEVEL_IDS) | set(AGE_IDS)) - affected:
        assert m[i].value is not None, i


def test_missing_category_column_has_no_category_rows() -> None:
    m = run(tickets_frame().drop(columns=["category"]))
    assert not any(i.startswith("tickets.total.category:") for i in m)
    assert m["tickets.total"].value == 13


def test_missing_created_at() -> None:
    m = run(tickets_frame().drop(columns=["created_at"]))
    timed = {
        "tickets.sla_rate.L1",
        "tickets.sla_rate.L2",
        "tickets.sla_rate.L3",
        "tickets.first_response_median_minutes",
        "tickets.resolution_median_hours",
        "tickets.repeat_contact_rate",
        "tickets.peak_ratio",
        *AGE_IDS,
    }
    for i in timed:
        assert m[i].value is None, i
        assert m[i].reason == "缺少列 created_at（受理时间）"
    assert m["tickets.backlog"].value == 6
    assert m["tickets.archive_late_rate"].value == 0.5


def test_archive_without_closed_column_uses_resolved_at() -> None:
    m = run(tickets_frame().drop(columns=["closed_at"]))
    # base: resolved before the end T1 T2 T7 T8 T9 T11 T12 (T3, T13 were closed only)
    # late: T1 (25 h after resolution), T2, T7 (47 h), T8, T12 → 5 / 7
    assert m["tickets.archive_late_rate"] == Measure(5 / 7, 5.0, 7.0, 7)


def test_sub_second_noise_is_rounded() -> None:
    df = tickets_frame(ROWS[:1])
    df["resolved_at"] = df["resolved_at"] + pd.Timedelta(milliseconds=400)
    m = run(df)
    assert m["tickets.sla_rate.L1"] == Measure(1.0, 1.0, 1.0, 1)


def test_repeat_contact_matches_a_plain_loop() -> None:
    """The vectorised search against the definition written out, on random tickets."""
    rng = np.random.default_rng(7)
    n = 400
    t0 = pd.Timestamp("2026-07-01 00:00:00")
    # coarse times (whole hours over 30 days) so that ties and window edges occur
    created = [t0 + pd.Timedelta(hours=int(h)) for h in rng.integers(0, 30 * 24, n)]
    customers = [None if r < 0.1 else f"C{int(r * 40)}" for r in rng.random(n)]
    window = pd.Timedelta(days=7)
    expected = 0
    for i in range(n):
        if customers[i] is None:
            continue
        expected += any(
            customers[j] == customers[i]
            and created[j] < created[i]
            and created[i] - created[j] <= window
            for j in range(n)
        )
    df = pd.DataFrame(
        {
            "created_at": pd.Series(created, dtype="datetime64[ns]"),
            "channel": pd.array(["phone"] * n, dtype="string"),
            "level": pd.array(["L1"] * n, dtype="string"),
            "customer_id": pd.array(customers, dtype="string"),
        }
    )
    base = sum(c is not None for c in customers)
    m = run(df)
    assert m["tickets.repeat_contact_rate"] == Measure(
        expected / base, float(expected), float(base), base
    )


# -- mix and pending (the section's breakdown tables) -------------------------------------


def test_mix_shares_and_change_by_hand():
    from selfcheck.metrics.tickets import mix

    counts = pd.Series({"phone": 30.0, "app": 10.0, "email": 0.0})
    before = pd.Series({"phone": 20.0, "app": 20.0, "email": np.nan})
    m = mix(counts, 40.0, before, 50.0)
    assert m.loc["phone"].tolist() == [30.0, 0.75, 0.4, pytest.approx(0.35)]
    assert m.loc["app", "share"] == 0.25 and m.loc["app", "delta"] == pytest.approx(-0.15)
    assert m.loc["email", "share"] == 0.0 and np.isnan(m.loc["email", "previous"])
    assert np.isnan(m.loc["email", "delta"])
    # no total (or 0) this quarter, none last quarter: shares unknown, never a division by 0
    empty = mix(counts, 0.0, before, None)
    assert empty[["share", "previous", "delta"]].isna().all().all()


def test_mix_absent_as_zero_only_with_last_quarters_keys():
    from selfcheck.metrics.tickets import mix

    counts = pd.Series({"账单": 6.0, "新类别": 4.0})
    before = pd.Series({"账单": 5.0, "新类别": np.nan})
    m = mix(counts, 10.0, before, 20.0, absent_as_zero=True)
    assert m.loc["新类别", "previous"] == 0.0 and m.loc["新类别", "delta"] == 0.4
    assert m.loc["账单", "delta"] == pytest.approx(0.6 - 0.25)
    unknown = mix(
        counts, 10.0, pd.Series({"账单": np.nan, "新类别": np.nan}), 20.0, absent_as_zero=True
    )
    assert unknown["delta"].isna().all()  # last quarter had no categories at all: no change


def test_sla_pending_by_hand():
    from selfcheck.metrics.tickets import sla_pending

    levels = pd.Series({"L1": 10.0, "L2": 5.0, "L3": np.nan})
    judged = pd.Series({"L1": 7.0, "L2": 6.0, "L3": 2.0})
    assert sla_pending(levels, judged) == 3.0  # L2 never below 0, L3 unknown adds nothing
