"""Complaint metrics against hand-computed figures (spec/metrics.md, Complaints).

Period 2026Q3: period end = 2026-10-01 00:00. Working hours 09:00–18:00 (9 h a day).
2026 calendar facts used: 08-01 Saturday, 08-02 Sunday, 08-03 Monday; 09-18 Friday,
09-19 Saturday, 09-20 Sunday (make-up workday 调休); 09-25 Mid-Autumn (holiday), 09-26/27
weekend; 10-01..07 National Day.
"""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import definition_text, lookup
from selfcheck.metrics.complaints import complaints
from selfcheck.period import Period
from selfcheck.thresholds import Thresholds

Q3 = Period(2026, 3)
CAL = WorkCalendar()

COMPLAINT_IDS = {
    "complaints.total",
    "complaints.per_10k_tickets",
    "complaints.resolution_rate",
    "complaints.handling_workdays_mean",
    "complaints.escalation_rate",
    "complaints.feedback_rate",
    "complaints.repeat_rate",
    "complaints.satisfaction_rate",
}

# fmt: off
# received, type, customer, resolved, escalated, feedback_given, satisfied
ROWS = [
    # P1 Tue 10:00 → Thu 10:00: 8 + 9 + 1 = 18 h = 2 working days
    ("2026-09-01 10:00:00", "产品质量", "K1", "2026-09-03 10:00:00", False, True, True),
    # P2 Fri 17:00 → Mon 10:00 over Saturday and the make-up Sunday: 1 + 9 + 1 = 11 h
    ("2026-09-18 17:00:00", "服务流程", "K1", "2026-09-21 10:00:00", True, False, False),
    # P3 Thu 17:00 → Mon 09:00 over Mid-Autumn and the weekend: 1 h
    ("2026-09-24 17:00:00", "收费争议", "K2", "2026-09-28 09:00:00", None, None, True),
    # P4 resolved after the period end → not resolved; same customer and type as P3, 6 days
    # later → repeat; its feedback is not counted (not resolved)
    ("2026-09-30 10:00:00", "收费争议", "K2", "2026-10-08 10:00:00", None, True, None),
    # P5 open
    ("2026-09-29 10:00:00", "产品质量", "K3", None, False, None, None),
    # P6 Saturday 10:00 → 12:00: 0 working hours
    ("2026-08-01 10:00:00", "网络故障", "K1", "2026-08-01 12:00:00", None, True, None),
    # P7 Sunday 10:00 → Monday 10:00: 1 h; no customer
    ("2026-08-02 10:00:00", "网络故障", None, "2026-08-03 10:00:00", None, None, None),
    # P8 open
    ("2026-08-05 10:00:00", "其他", "K4", None, None, None, None),
    # P9 Thu 10:00 → Fri 19:00: 8 + 9 = 17 h
    ("2026-09-10 10:00:00", "账户安全", "K5", "2026-09-11 19:00:00", None, True, None),
]
# fmt: on


def complaints_frame(rows=ROWS) -> pd.DataFrame:
    def ts(values: list) -> pd.Series:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")

    n = len(rows)
    return pd.DataFrame(
        {
            "complaint_id": pd.array([f"P{i + 1}" for i in range(n)], dtype="string"),
            "received_at": ts([r[0] for r in rows]),
            "type": pd.array([r[1] for r in rows], dtype="string"),
            "customer_id": pd.array([r[2] for r in rows], dtype="string"),
            "resolved_at": ts([r[3] for r in rows]),
            "escalated": pd.array([r[4] for r in rows], dtype="boolean"),
            "feedback_given": pd.array([r[5] for r in rows], dtype="boolean"),
            "satisfied": pd.array([r[6] for r in rows], dtype="boolean"),
        }
    )


def run(df, tickets_total: int | None = 3000, th: Thresholds | None = None, period=Q3):
    return complaints(df, th or Thresholds(), CAL, period, tickets_total=tickets_total)


TYPE_ORDER = ["产品质量", "服务流程", "收费争议", "其他", "网络故障", "账户安全"]


def test_every_complaint_metric() -> None:
    m = run(complaints_frame())
    type_ids = [f"complaints.total.type:{t}" for t in TYPE_ORDER]
    share_ids = [f"complaints.share.type:{t}" for t in TYPE_ORDER]
    assert list(m)[len(COMPLAINT_IDS) :] == type_ids + share_ids
    assert set(list(m)[: len(COMPLAINT_IDS)]) == COMPLAINT_IDS

    assert m["complaints.total"] == Measure(9.0, None, None, 9)
    # default types present in schema order (人员服务 absent: no row), then 网络故障 (2),
    # 账户安全 (1)
    assert [m[i].value for i in type_ids] == [2.0, 1.0, 2.0, 1.0, 2.0, 1.0]
    assert m["complaints.share.type:产品质量"] == Measure(2 / 9, 2.0, 9.0, 9)
    assert m["complaints.share.type:账户安全"] == Measure(1 / 9, 1.0, 9.0, 9)
    assert sum(m[i].value for i in share_ids) == pytest.approx(1.0)
    # 9 ÷ 3000 × 10 000
    assert m["complaints.per_10k_tickets"] == Measure(30.0, 9.0, 3000.0, 3000)
    # resolved before the end: P1 P2 P3 P6 P7 P9
    assert m["complaints.resolution_rate"] == Measure(6 / 9, 6.0, 9.0, 9)
    # working days: 18/9, 11/9, 1/9, 0, 1/9, 17/9 → 48/9 ÷ 6 = 8/9
    assert m["complaints.handling_workdays_mean"].value == pytest.approx(8 / 9)
    assert m["complaints.handling_workdays_mean"].n == 6
    assert m["complaints.handling_workdays_mean"].numerator is None
    # escalated known: P1 F, P2 T, P5 F
    assert m["complaints.escalation_rate"] == Measure(1 / 3, 1.0, 3.0, 3)
    # resolved with feedback known: P1 T, P2 F, P6 T, P9 T (P4 not resolved at the end)
    assert m["complaints.feedback_rate"] == Measure(0.75, 3.0, 4.0, 4)
    # customer known: 8 (not P7); repeat: P4 (K2 收费争议 6 days after P3); K1's three
    # complaints are of three types
    assert m["complaints.repeat_rate"] == Measure(1 / 8, 1.0, 8.0, 8)
    # satisfied known: P1 T, P2 F, P3 T
    assert m["complaints.satisfaction_rate"] == Measure(2 / 3, 2.0, 3.0, 3)
    assert all(x.reason is None for x in m.values())


def test_other_types_by_count_then_name() -> None:
    rows = [
        ("2026-09-01 10:00:00", "乙类", None, None, None, None, None),
        ("2026-09-01 10:00:00", "甲类", None, None, None, None, None),
        ("2026-09-01 10:00:00", "人员服务", None, None, None, None, None),
        ("2026-09-01 10:00:00", "丙类", None, None, None, None, None),
        ("2026-09-01 10:00:00", "丙类", None, None, None, None, None),
        ("2026-09-01 10:00:00", None, None, None, None, None, None),  # no type: no key
        ("2026-09-01 10:00:00", " ", None, None, None, None, None),  # blank: no key
    ]
    m = run(complaints_frame(rows))
    keys = [i.split(":")[1] for i in m if i.startswith("complaints.total.type:")]
    assert keys == ["人员服务", "丙类", "乙类", "甲类"]  # 乙 U+4E59 < 甲 U+7532
    assert m["complaints.share.type:丙类"] == Measure(2 / 7, 2.0, 7.0, 7)


def test_repeat_windows() -> None:
    t0 = "2026-07-01 10:00:00"
    rows = [
        ("2026-07-31 10:00:00", "产品质量", "K", None, None, None, None),  # exactly 30 d → repeat
        (t0, "产品质量", "K", None, None, None, None),
        (t0, "产品质量", "L", None, None, None, None),
        ("2026-07-31 10:00:01", "产品质量", "L", None, None, None, None),  # 30 d 1 s → not
        (t0, "产品质量", "M", None, None, None, None),
        ("2026-07-02 10:00:00", "服务流程", "M", None, None, None, None),  # other type → not
        ("2026-07-05 10:00:00", "其他", "N", None, None, None, None),  # same second: neither
        ("2026-07-05 10:00:00", "其他", "N", None, None, None, None),
        ("2026-07-05 10:00:00", None, "O", None, None, None, None),  # no type: never a repeat
        ("2026-07-06 10:00:00", None, "O", None, None, None, None),
    ]
    m = run(complaints_frame(rows))
    assert m["complaints.repeat_rate"] == Measure(0.1, 1.0, 10.0, 10)
    # a 31-day window takes in L's second complaint too
    m = run(complaints_frame(rows), th=Thresholds(repeat_complaint_days=31))
    assert m["complaints.repeat_rate"] == Measure(0.2, 2.0, 10.0, 10)


def test_per_10k_without_tickets() -> None:
    m = run(complaints_frame(), tickets_total=None)
    assert m["complaints.per_10k_tickets"].value is None
    assert m["complaints.per_10k_tickets"].reason == "未提供工单数据 (tickets)"
    m = run(complaints_frame(), tickets_total=0)
    assert m["complaints.per_10k_tickets"].value is None
    assert m["complaints.per_10k_tickets"].reason == "样本为0：本期无工单"


def test_q4_resolution_in_the_next_year_is_not_looked_up() -> None:
    rows = [
        ("2026-12-31 10:00:00", "其他", "K", "2027-01-04 10:00:00", None, True, None),
        ("2026-12-30 10:00:00", "其他", "K", "2026-12-31 10:00:00", None, True, None),
    ]
    m = run(complaints_frame(rows), period=Period(2026, 4))
    assert m["complaints.resolution_rate"] == Measure(0.5, 1.0, 2.0, 2)
    # 12-30 10:00 → 12-31 10:00: 8 + 1 = 9 h = 1 working day
    assert m["complaints.handling_workdays_mean"] == Measure(1.0, None, None, 1)
    assert m["complaints.feedback_rate"] == Measure(1.0, 1.0, 1.0, 1)


def test_missing_frame() -> None:
    m = run(None)
    assert set(m) == COMPLAINT_IDS
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供投诉数据 (complaints)"


def test_empty_frame() -> None:
    m = run(complaints_frame([]))
    assert set(m) == COMPLAINT_IDS  # no type present: no type rows
    assert m["complaints.total"] == Measure(0.0, None, None, 0)
    assert m["complaints.per_10k_tickets"] == Measure(0.0, 0.0, 3000.0, 3000)
    for i in COMPLAINT_IDS - {"complaints.total", "complaints.per_10k_tickets"}:
        assert m[i].value is None, i
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0"), i


@pytest.mark.parametrize(
    ("column", "affected"),
    [
        (
            "resolved_at",
            {
                "complaints.resolution_rate",
                "complaints.handling_workdays_mean",
                "complaints.feedback_rate",
            },
        ),
        ("escalated", {"complaints.escalation_rate"}),
        ("feedback_given", {"complaints.feedback_rate"}),
        ("satisfied", {"complaints.satisfaction_rate"}),
        ("customer_id", {"complaints.repeat_rate"}),
        ("type", {"complaints.repeat_rate"}),
    ],
)
def test_missing_column(column: str, affected: set[str]) -> None:
    m = run(complaints_frame().drop(columns=[column]))
    for i in affected:
        assert m[i].value is None, i
        assert m[i].reason is not None and m[i].reason.startswith(f"缺少列 {column}（"), i
    for i in COMPLAINT_IDS - affected:
        assert m[i].value is not None, i
    if column == "type":
        assert not any(":" in i for i in m)


def test_share_is_catalogued() -> None:
    d = lookup("complaints.share.type:收费争议")
    assert (d.id, d.name, d.unit, d.area, d.keyed) == (
        "complaints.share",
        "投诉类型占比",
        "rate",
        "complaints",
        True,
    )
    assert lookup("complaints.total.type:收费争议").id == "complaints.total"
    assert "30×24小时" in definition_text("complaints.repeat_rate", Thresholds())
