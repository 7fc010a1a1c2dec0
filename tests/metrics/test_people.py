"""Team and training metrics against hand-computed figures (spec/metrics.md, People).

The period is 2026Q3: first day F = 2026-07-01, last day L = 2026-09-30.
"""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.people import inconsistent_sessions, team, training
from selfcheck.period import Period

Q3 = Period(2026, 3)

TEAM_IDS = [
    "team.headcount",
    "team.certified_rate",
    "team.tenure_years_mean",
    "team.multilingual_rate",
    "team.turnover_rate",
]
ROLE_IDS = [
    "team.headcount.role:frontline",
    "team.headcount.role:support",
    "team.headcount.role:manager",
]
TRAINING_IDS = [
    "training.sessions",
    "training.hours",
    "training.person_hours",
    "training.coverage_rate",
    "training.pass_rate",
]

NA = None
# agent_id, role, team, hired_on, left_on, certified, languages
STAFF = [
    ("S1", "frontline", "一组", "2020-07-01", NA, True, 2),  # start ✓ end ✓
    ("S2", "frontline", "一组", "2026-09-30", NA, False, 1),  # hired on L: end ✓ (tenure 0)
    ("S3", "frontline", "二组", "2025-01-01", "2026-09-30", NA, NA),  # left on L: leaver, end ✗
    ("S4", "support", "二组", "2024-10-01", "2026-10-01", True, 3),  # left L + 1: end ✓
    ("S5", "manager", NA, "2026-07-01", NA, NA, NA),  # hired on F: start ✗, end ✓
    ("S6", "frontline", "一组", "2026-06-30", "2026-07-01", True, 2),  # left on F: start ✓, leaver
    ("S7", "frontline", "二组", "2026-03-01", "2026-06-30", True, 2),  # left before F: nowhere
    ("S8", "frontline", "三组", NA, NA, True, 1),  # hire date unknown: start ✓ end ✓
    ("S9", "support", "三组", "2026-10-01", NA, True, 2),  # hired after L: nowhere
    ("S10", "frontline", "一组", "2026-08-15", "2026-09-10", False, 1),  # in and out in Q3
]


def staff_frame(rows=STAFF) -> pd.DataFrame:
    def dates(i: int) -> pd.Series:
        return pd.Series(pd.to_datetime([r[i] for r in rows]), dtype="datetime64[ns]")

    return pd.DataFrame(
        {
            "agent_id": pd.array([r[0] for r in rows], dtype="string"),
            "role": pd.array([r[1] for r in rows], dtype="string"),
            "team": pd.array([r[2] for r in rows], dtype="string"),
            "hired_on": dates(3),
            "left_on": dates(4),
            "certified": pd.array([r[5] for r in rows], dtype="boolean"),
            "languages": pd.array([r[6] for r in rows], dtype="Int64"),
        }
    )


def test_every_team_metric() -> None:
    m = team(staff_frame(), Q3)
    assert list(m) == [*TEAM_IDS, *ROLE_IDS]
    # active at period end: S1 S2 S4 S5 S8
    assert m["team.headcount"] == Measure(5.0, None, None, 5)
    assert m["team.headcount.role:frontline"] == Measure(3.0, None, None, 3)  # S1 S2 S8
    assert m["team.headcount.role:support"] == Measure(1.0, None, None, 1)  # S4
    assert m["team.headcount.role:manager"] == Measure(1.0, None, None, 1)  # S5
    # certified known among active: S1 T, S2 F, S4 T, S8 T (S5 empty)
    assert m["team.certified_rate"] == Measure(0.75, 3.0, 4.0, 4)
    # languages known among active: S1 2, S2 1, S4 3, S8 1 → ≥ 2: S1 S4
    assert m["team.multilingual_rate"] == Measure(0.5, 2.0, 4.0, 4)
    # tenure to L in days: S1 2020-07-01 → 2282 (6 × 365 + 1 leap day + 91), S2 0,
    # S4 2024-10-01 → 729, S5 2026-07-01 → 91; S8 unknown
    assert m["team.tenure_years_mean"] == Measure(
        pytest.approx((2282 + 0 + 729 + 91) / 4 / 365.25), None, None, 4
    )
    assert m["team.tenure_years_mean"].value == pytest.approx(2.1232033)
    # active at start (hired < F, left empty or ≥ F): S1 S3 S4 S6 S8
    # left within F..L: S3 (L), S6 (F), S10 (hired and left in Q3); not S4 (L + 1), S7 (F − 1)
    assert m["team.turnover_rate"] == Measure(0.6, 3.0, 5.0, 5)
    assert all(x.reason is None for x in m.values())


def test_dates_with_a_time_of_day_compare_as_days() -> None:
    rows = [
        ("A", "frontline", NA, "2026-09-30 17:00", "2026-09-30 18:00", NA, NA),  # left on L
        ("B", "frontline", NA, "2026-06-30 23:59", "2026-10-01 00:30", NA, NA),  # left L + 1
        ("C", "frontline", NA, "2026-07-01 08:00", NA, NA, NA),  # hired on F
    ]
    m = team(staff_frame(rows), Q3)
    assert m["team.headcount"] == Measure(2.0, None, None, 2)  # B C
    assert m["team.tenure_years_mean"] == Measure(
        pytest.approx((92 + 91) / 2 / 365.25), None, None, 2
    )
    # start: B only (A and C hired in Q3); leavers: A (left on L, though hired in Q3)
    assert m["team.turnover_rate"] == Measure(1.0, 1.0, 1.0, 1)


def test_other_quarter_boundaries() -> None:
    # Q4: F = 2026-10-01. S4 (left 10-01) is a Q4 leaver; S9 (hired 10-01) is a Q4 hire
    m = team(staff_frame(), Period(2026, 4))
    # active at Q4 end (L = 12-31): S1 S2 S5 S8 S9
    assert m["team.headcount"] == Measure(5.0, None, None, 5)
    # active at Q4 start: S1 S2 S4 S5 S8 (= Q3 end); leavers in Q4: S4
    assert m["team.turnover_rate"] == Measure(0.2, 1.0, 5.0, 5)


def test_team_missing_frame() -> None:
    m = team(None, Q3)
    assert list(m) == [*TEAM_IDS, *ROLE_IDS]
    for x in m.values():
        assert x == Measure.missing("未提供人员数据 (staff)")


def test_team_empty_frame() -> None:
    m = team(staff_frame([]), Q3)
    assert m["team.headcount"] == Measure(0.0, None, None, 0)
    for i in ROLE_IDS:
        assert m[i] == Measure(0.0, None, None, 0)
    for i in TEAM_IDS[1:]:
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")


def test_team_without_left_on() -> None:
    m = team(staff_frame().drop(columns=["left_on"]), Q3)
    assert m["team.turnover_rate"] == Measure.missing("缺少列 left_on（离职日期）")
    # nobody has left: everyone hired by L (all but S9)
    assert m["team.headcount"] == Measure(9.0, None, None, 9)


def test_team_without_hired_on() -> None:
    m = team(staff_frame().drop(columns=["hired_on"]), Q3)
    assert m["team.tenure_years_mean"] == Measure.missing("缺少列 hired_on（入职日期）")
    # everyone taken as hired before the quarter: end S1 S2 S4 S5 S8 S9; start + S3 S6 S10
    assert m["team.headcount"] == Measure(6.0, None, None, 6)
    assert m["team.turnover_rate"] == Measure(pytest.approx(3 / 9), 3.0, 9.0, 9)


@pytest.mark.parametrize(
    ("column", "metric_id"),
    [("certified", "team.certified_rate"), ("languages", "team.multilingual_rate")],
)
def test_team_missing_optional_column(column: str, metric_id: str) -> None:
    m = team(staff_frame().drop(columns=[column]), Q3)
    assert m[metric_id].value is None
    assert m[metric_id].reason.startswith(f"缺少列 {column}（")
    for i in set(TEAM_IDS) - {metric_id}:
        assert m[i].value is not None, i


# -- training ---------------------------------------------------------------

# session_id, date, hours, agent_id, passed
TRAINING = [
    ("P1", "2026-07-05", 2.0, "S1", True),
    ("P1", "2026-07-05", 2.0, "S2", False),
    ("P1", "2026-07-05", 3.0, "S10", NA),  # P1 disagrees: 2, 2, 3 → 2 (most frequent)
    ("P2", "2026-08-01", 1.5, "S1", True),
    ("P2", "2026-08-01", 1.5, "S99", True),  # not in staff
    ("P3", "2026-09-01", 4.0, "S4", NA),  # support
    ("P3", "2026-09-01", 4.0, "S3", NA),  # frontline, left on L: not active
    ("P4", "2026-09-02", 1.0, "S5", False),
    ("P4", "2026-09-02", 2.0, "S1", True),  # P4 disagrees: 1, 2 → tie → 1 (smallest)
]


def training_frame(rows=TRAINING) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_id": pd.array([r[0] for r in rows], dtype="string"),
            "date": pd.Series(pd.to_datetime([r[1] for r in rows]), dtype="datetime64[ns]"),
            "topic": pd.array(["服务规范"] * len(rows), dtype="string"),
            "hours": pd.Series([r[2] for r in rows], dtype="float64"),
            "agent_id": pd.array([r[3] for r in rows], dtype="string"),
            "passed": pd.array([r[4] for r in rows], dtype="boolean"),
        }
    )


def test_every_training_metric() -> None:
    m = training(training_frame(), staff_frame(), Q3)
    assert list(m) == TRAINING_IDS
    assert m["training.sessions"] == Measure(4.0, None, None, 4)
    # P1 2 + P2 1.5 + P3 4 + P4 1
    assert m["training.hours"] == Measure(8.5, None, None, 4)
    # every row: 2 + 2 + 3 + 1.5 + 1.5 + 4 + 4 + 1 + 2
    assert m["training.person_hours"] == Measure(21.0, None, None, 9)
    # active frontline at L: S1 S2 S8; attended: S1 S2 (S10 and S3 are not active)
    assert m["training.coverage_rate"] == Measure(pytest.approx(2 / 3), 2.0, 3.0, 3)
    # passed known: T F T T F T
    assert m["training.pass_rate"] == Measure(pytest.approx(4 / 6), 4.0, 6.0, 6)
    assert not any(x.sampled for x in m.values())
    assert inconsistent_sessions(training_frame()) == 2  # P1, P4


def test_training_missing_staff() -> None:
    m = training(training_frame(), None, Q3)
    assert m["training.coverage_rate"] == Measure.missing("未提供人员数据 (staff)")
    assert m["training.hours"] == Measure(8.5, None, None, 4)


def test_training_missing_frame() -> None:
    m = training(None, staff_frame(), Q3)
    assert list(m) == TRAINING_IDS
    for x in m.values():
        assert x == Measure.missing("未提供培训数据 (training)")
    assert inconsistent_sessions(None) == 0


def test_training_empty_frame() -> None:
    m = training(training_frame([]), staff_frame(), Q3)
    assert m["training.sessions"] == Measure(0.0, None, None, 0)
    assert m["training.hours"] == Measure(0.0, None, None, 0)
    assert m["training.person_hours"] == Measure(0.0, None, None, 0)
    assert m["training.coverage_rate"] == Measure(0.0, 0.0, 3.0, 3)
    assert m["training.pass_rate"].value is None
    assert m["training.pass_rate"].reason.startswith("样本为0")


def test_training_no_active_frontline() -> None:
    staff = staff_frame([r for r in STAFF if r[1] != "frontline"])
    m = training(training_frame(), staff, Q3)
    assert m["training.coverage_rate"].value is None
    assert m["training.coverage_rate"].n == 0
    assert m["training.coverage_rate"].reason.startswith("样本为0")


def test_training_missing_passed_column() -> None:
    m = training(training_frame().drop(columns=["passed"]), staff_frame(), Q3)
    assert m["training.pass_rate"] == Measure.missing("缺少列 passed（考核通过）")
    assert m["training.sessions"] == Measure(4.0, None, None, 4)


def test_training_hours_majority() -> None:
    rows = [
        ("P1", "2026-07-05", 3.0, "S1", NA),
        ("P1", "2026-07-05", 2.0, "S2", NA),
        ("P1", "2026-07-05", 3.0, "S8", NA),
        ("P2", "2026-07-06", 1.0, "S1", NA),
    ]
    m = training(training_frame(rows), staff_frame(), Q3)
    assert m["training.hours"] == Measure(4.0, None, None, 2)  # P1 3 (2 rows of 3), P2 1
    assert m["training.person_hours"] == Measure(9.0, None, None, 4)
    assert m["training.coverage_rate"] == Measure(1.0, 3.0, 3.0, 3)


def test_every_id_is_catalogued() -> None:
    from selfcheck.metrics.catalogue import lookup

    for i in [*team(staff_frame(), Q3), *training(training_frame(), staff_frame(), Q3)]:
        assert lookup(i).id == i.split(":")[0].removesuffix(".role"), i


def test_topic_summary_by_hand() -> None:
    from selfcheck.metrics.people import UNNAMED, topic_summary

    frame = training_frame()
    topics = [
        "服务规范",
        "服务规范",
        "产品知识",
        "产品知识",
        "产品知识",
        None,
        "",
        "服务规范",
        "服务规范",
    ]
    frame["topic"] = pd.array(topics, dtype="string")
    s = topic_summary(frame)
    # a session's topic is the one most of its rows give: P1 服务规范 (2 of 3), P2 产品知识,
    # P3 未注明 (both rows blank), P4 服务规范; its hours the most frequent: P1 2, P2 1.5,
    # P3 4, P4 1 (1 or 2: the smaller). Rows count for their session's topic (row 2 of P1
    # says 产品知识 but is an attendance of 服务规范). Largest hours first.
    assert list(s.index) == [UNNAMED, "服务规范", "产品知识"]
    assert s.columns.tolist() == ["sessions", "attendances", "hours", "passed", "known"]
    assert s.loc[UNNAMED].tolist() == [1, 2, 4.0, 0, 0]
    assert s.loc["服务规范"].tolist() == [2, 5, 3.0, 2, 4]
    assert s.loc["产品知识"].tolist() == [1, 2, 1.5, 2, 2]
    assert s["hours"].sum() == training(frame, staff_frame(), Q3)["training.hours"].value
