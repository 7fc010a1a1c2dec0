"""System metrics against hand-computed figures (spec/metrics.md, Systems).

Period 2026Q3: period end = 2026-10-01 00:00.
"""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.system import system
from selfcheck.period import Period

Q3 = Period(2026, 3)

SYSTEM_IDS = {
    "system.incidents",
    "system.mttr_minutes",
    "system.interruption_hours",
    "system.major_incidents",
}

# started, resolved, severity, service_interrupted
ROWS = [
    # I1 30 min, interrupted → 0.5 h
    ("2026-09-01 10:00:00", "2026-09-01 10:30:00", "minor", True),
    # I2 120 min, major, not interrupted
    ("2026-09-10 08:00:00", "2026-09-10 10:00:00", "major", False),
    # I3 not resolved, major, interrupted → counts 2 h up to the period end
    ("2026-09-30 22:00:00", None, "major", True),
    # I4 resolved after the period end → not resolved; interrupted → 1 h up to the end
    ("2026-09-30 23:00:00", "2026-10-01 03:00:00", None, True),
    # I5 45 min, interruption unknown → not counted
    ("2026-08-15 12:00:00", "2026-08-15 12:45:00", "minor", None),
]


def incidents_frame(rows=ROWS) -> pd.DataFrame:
    def ts(values: list) -> pd.Series:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")

    n = len(rows)
    return pd.DataFrame(
        {
            "incident_id": pd.array([f"I{i + 1}" for i in range(n)], dtype="string"),
            "started_at": ts([r[0] for r in rows]),
            "resolved_at": ts([r[1] for r in rows]),
            "system": pd.array(["CRM"] * n, dtype="string"),
            "severity": pd.array([r[2] for r in rows], dtype="string"),
            "service_interrupted": pd.array([r[3] for r in rows], dtype="boolean"),
        }
    )


def test_every_system_metric() -> None:
    m = system(incidents_frame(), Q3)
    assert list(m) == [
        "system.incidents",
        "system.mttr_minutes",
        "system.interruption_hours",
        "system.major_incidents",
    ]
    assert m["system.incidents"] == Measure(5.0, None, None, 5)
    # resolved before the end: I1 30, I2 120, I5 45 → 65
    assert m["system.mttr_minutes"] == Measure(65.0, None, None, 3)
    # interrupted: I1 0.5 h + I3 2 h (to the end) + I4 1 h (to the end)
    assert m["system.interruption_hours"] == Measure(3.5, None, None, 3)
    assert m["system.major_incidents"] == Measure(2.0, None, None, 2)
    assert all(x.reason is None for x in m.values())


def test_no_interruption_is_zero_hours() -> None:
    rows = [r for r in ROWS if r[3] is not True]
    m = system(incidents_frame(rows), Q3)
    assert m["system.interruption_hours"] == Measure(0.0, None, None, 0)


def test_interruption_all_unknown_is_no_data() -> None:
    rows = [(r[0], r[1], r[2], None) for r in ROWS]
    m = system(incidents_frame(rows), Q3)
    assert m["system.interruption_hours"].value is None
    assert m["system.interruption_hours"].reason == "样本为0：无“服务中断”已填写的故障"


def test_severity_all_unknown_is_no_data() -> None:
    rows = [(r[0], r[1], None, r[3]) for r in ROWS]
    m = system(incidents_frame(rows), Q3)
    assert m["system.major_incidents"].value is None
    assert m["system.major_incidents"].reason == "样本为0：无级别已填写的故障"


def test_missing_frame() -> None:
    m = system(None, Q3)
    assert set(m) == SYSTEM_IDS
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供系统故障数据 (incidents)"


def test_empty_frame() -> None:
    m = system(incidents_frame([]), Q3)
    assert m["system.incidents"] == Measure(0.0, None, None, 0)
    assert m["system.mttr_minutes"].value is None
    assert m["system.mttr_minutes"].reason == "样本为0：无期末前已恢复的故障"
    # a quarter without incidents: no interruption, no major incident
    assert m["system.interruption_hours"] == Measure(0.0, None, None, 0)
    assert m["system.major_incidents"] == Measure(0.0, None, None, 0)


@pytest.mark.parametrize(
    ("column", "affected"),
    [
        ("resolved_at", {"system.mttr_minutes", "system.interruption_hours"}),
        ("service_interrupted", {"system.interruption_hours"}),
        ("severity", {"system.major_incidents"}),
    ],
)
def test_missing_column(column: str, affected: set[str]) -> None:
    m = system(incidents_frame().drop(columns=[column]), Q3)
    for i in affected:
        assert m[i].value is None, i
        assert m[i].reason is not None and m[i].reason.startswith(f"缺少列 {column}（"), i
    for i in SYSTEM_IDS - affected:
        assert m[i].value is not None, i


# -- one row per incident (the section's tables and charts) -------------------------------


def test_incident_durations_by_hand() -> None:
    from selfcheck.metrics.system import UNNAMED, incident_durations

    frame = incidents_frame()
    frame.loc[1, "system"] = "  "  # blank: 未注明
    d = incident_durations(frame, Q3)
    # by start: I5 (08-15), I1 (09-01), I2 (09-10), I3, I4 (09-30)
    assert list(d.index) == [4, 0, 1, 2, 3]
    assert d["minutes"].tolist() == [45.0, 30.0, 120.0, 120.0, 60.0]  # I3, I4 to period end
    assert d["resolved"].isna().tolist() == [False, False, False, True, True]
    assert d.loc[1, "system"] == UNNAMED and d.loc[0, "system"] == "CRM"
    assert d["major"].tolist() == [False, False, True, True, False]
    assert d["interrupted"].tolist() == [False, True, False, True, True]  # unknown: no


def test_incident_durations_without_resolved_at_have_no_duration() -> None:
    from selfcheck.metrics.system import incident_durations, longest

    d = incident_durations(incidents_frame().drop(columns=["resolved_at"]), Q3)
    assert d["minutes"].isna().all() and d["resolved"].isna().all()
    assert longest(d).empty


def test_longest_and_notable_incidents() -> None:
    from selfcheck.metrics.system import incident_durations, longest, notable_incidents

    d = incident_durations(incidents_frame(), Q3)
    assert list(longest(d).index) == [1, 2, 3, 4, 0]  # 120, 120 (ties: by start), 60, 45, 30
    assert list(longest(d, 1, interrupted=True).index) == [2]  # I3: 120 min
    # every major incident (I2, I3) and the 2 longest interruptions (I3, I4), by start
    assert list(notable_incidents(d, top=2).index) == [1, 2, 3]
    # at most 2 rows: the longest kept (I2, I3), by start
    assert list(notable_incidents(d, top=2, max_rows=2).index) == [1, 2]
