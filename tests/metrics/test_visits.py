"""On-site service metrics against hand-computed figures (spec/metrics.md, On-site)."""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.visits import visits
from selfcheck.thresholds import Thresholds

VISIT_IDS = {
    "visits.total",
    "visits.confirm_late_rate",
    "visits.emergency_late_rate",
    "visits.regular_late_rate",
    "visits.eta_notice_rate",
    "visits.compensation_rate",
    "visits.node_completion_rate",
    "visits.acceptance_rate",
    "visits.dissatisfied_rate",
    "visits.extra_fee_complaint_rate",
    "visits.archive_late_rate",
}
BREAKDOWNS = {
    "visits.emergency_late_rate.area:core",
    "visits.emergency_late_rate.area:suburb",
    "visits.regular_late_rate.area:core",
    "visits.regular_late_rate.area:suburb",
}

REPORTED = pd.Timestamp("2026-08-03 08:00:00")


def _after(minutes: float | None) -> pd.Timestamp | None:
    return None if minutes is None else REPORTED + pd.Timedelta(minutes=minutes)


# Offsets are minutes after REPORTED; archived is minutes after completed.
# kind, area, confirm, arrive, eta, comp, nodes_total, nodes_done,
# complete, archive_after, accepted, dissatisfied, extra_fee
ROWS = [
    # v1 emergency core: confirm exactly 30 (ok), arrive exactly 30 (ok), archive exactly 24 h
    ("emergency", "core", 30, 30, True, None, 5, 5, 120, 24 * 60, True, False, False),
    # v2 emergency core: confirm 31 (late), arrive 31 (late), archive 24 h + 1 s (late)
    ("emergency", "core", 31, 31, None, None, 4, 3, 120, 24 * 60 + 1 / 60, False, True, None),
    # v3 emergency suburb: no confirmation (late), arrive 60 (ok for suburb), not archived
    ("emergency", "suburb", None, 60, True, None, 4, None, 180, None, None, False, True),
    # v4 emergency suburb: no arrival (not counted), not completed
    ("emergency", "suburb", 10, None, False, None, None, 2, None, None, True, None, None),
    # v5 emergency suburb: arrive 61 (late), eta unknown
    ("emergency", "suburb", 5, 61, None, None, 2, 2, 180, 60, True, False, False),
    # v6 regular core: arrive exactly 120 (ok)
    ("regular", "core", 30, 120, None, None, 3, 3, 300, 120, True, False, False),
    # v7 regular core: arrive 121 (late), compensated; dissatisfied but not completed
    ("regular", "core", 20, 121, None, True, None, None, None, None, None, True, None),
    # v8 regular suburb: no confirmation, arrive 241 (late), not compensated; completed, not archived
    ("regular", "suburb", None, 241, True, False, None, None, 400, None, None, None, False),
    # v9 regular suburb: confirm 45 (late), arrive 300 (late), compensation unknown
    ("regular", "suburb", 45, 300, None, None, None, None, None, None, None, None, None),
    # v10 regular suburb: arrive exactly 240 (ok), compensated (not late: not counted)
    ("regular", "suburb", 29, 240, None, True, None, None, None, None, None, None, None),
    # v11 regular core: no arrival, compensated (not counted)
    ("regular", "core", 1, None, None, True, None, None, None, None, None, None, None),
]


def visits_frame(rows=ROWS) -> pd.DataFrame:
    n = len(rows)
    completed = [_after(r[8]) for r in rows]
    archived = [
        None if c is None or r[9] is None else c + pd.Timedelta(minutes=r[9])
        for r, c in zip(rows, completed, strict=True)
    ]

    def ts(values: list) -> pd.Series:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")

    return pd.DataFrame(
        {
            "visit_id": pd.array([f"V{i + 1}" for i in range(n)], dtype="string"),
            "reported_at": ts([REPORTED] * n),
            "kind": pd.array([r[0] for r in rows], dtype="string"),
            "area": pd.array([r[1] for r in rows], dtype="string"),
            "confirmed_at": ts([_after(r[2]) for r in rows]),
            "arrived_at": ts([_after(r[3]) for r in rows]),
            "eta_notified": pd.array([r[4] for r in rows], dtype="boolean"),
            "compensated": pd.array([r[5] for r in rows], dtype="boolean"),
            "nodes_total": pd.array([r[6] for r in rows], dtype="Int64"),
            "nodes_done": pd.array([r[7] for r in rows], dtype="Int64"),
            "completed_at": ts(completed),
            "accepted": pd.array([r[10] for r in rows], dtype="boolean"),
            "dissatisfied": pd.array([r[11] for r in rows], dtype="boolean"),
            "extra_fee_complaint": pd.array([r[12] for r in rows], dtype="boolean"),
            "archived_at": ts(archived),
        }
    )


def test_every_visit_metric() -> None:
    m = visits(visits_frame(), Thresholds())
    assert set(m) == VISIT_IDS | BREAKDOWNS

    assert m["visits.total"] == Measure(11.0, None, None, 11)
    # late confirmation: v2 (31), v3 (none), v8 (none), v9 (45)
    assert m["visits.confirm_late_rate"] == Measure(4 / 11, 4.0, 11.0, 11)
    # emergency with arrival: v1 v2 v3 v5; late: v2 (31 > 30 core), v5 (61 > 60 suburb)
    assert m["visits.emergency_late_rate"] == Measure(0.5, 2.0, 4.0, 4)
    assert m["visits.emergency_late_rate.area:core"] == Measure(0.5, 1.0, 2.0, 2)
    assert m["visits.emergency_late_rate.area:suburb"] == Measure(0.5, 1.0, 2.0, 2)
    # regular with arrival: v6 v7 v8 v9 v10; late: v7 (121 > 120), v8 (241), v9 (300)
    assert m["visits.regular_late_rate"] == Measure(0.6, 3.0, 5.0, 5)
    assert m["visits.regular_late_rate.area:core"] == Measure(0.5, 1.0, 2.0, 2)
    assert m["visits.regular_late_rate.area:suburb"] == Measure(2 / 3, 2.0, 3.0, 3)
    # suburb emergencies with eta known: v3 (yes), v4 (no); v5 unknown; v1/v8 not suburb emergency
    assert m["visits.eta_notice_rate"] == Measure(0.5, 1.0, 2.0, 2)
    # late regular with compensated known: v7 (yes), v8 (no); v9 unknown; v10/v11 not late
    assert m["visits.compensation_rate"] == Measure(0.5, 1.0, 2.0, 2)
    # both known: v1 5/5, v2 3/4, v5 2/2, v6 3/3 → 13 / 14
    assert m["visits.node_completion_rate"] == Measure(13 / 14, 13.0, 14.0, 14)
    # completed: v1 v2 v3 v5 v6 v8
    # accepted known among completed: v1 T, v2 F, v5 T, v6 T (v4 not completed)
    assert m["visits.acceptance_rate"] == Measure(0.75, 3.0, 4.0, 4)
    # dissatisfied known: v1 F, v2 T, v3 F, v5 F, v6 F (v7 not completed)
    assert m["visits.dissatisfied_rate"] == Measure(0.2, 1.0, 5.0, 5)
    # extra fee known: v1 F, v3 T, v5 F, v6 F, v8 F
    assert m["visits.extra_fee_complaint_rate"] == Measure(0.2, 1.0, 5.0, 5)
    # archive late among 6 completed: v2 (24 h + 1 s), v3 (none), v8 (none)
    assert m["visits.archive_late_rate"] == Measure(0.5, 3.0, 6.0, 6)
    assert all(x.reason is None for x in m.values())


def test_thresholds_are_used() -> None:
    th = Thresholds(
        confirm_limit_minutes=31,
        archive_limit_hours=1.5,
        arrival_minutes={"emergency_core": 31, "regular_suburb": 400},
    )
    m = visits(visits_frame(), th)
    # confirmation late (> 31): v3, v8 (none), v9 (45); v2 at exactly 31 is within → 3/11
    assert m["visits.confirm_late_rate"].value == pytest.approx(3 / 11)
    # emergency: v2 now within 31; v5 late → 1/4
    assert m["visits.emergency_late_rate"].value == pytest.approx(0.25)
    # regular suburb within 400: only v7 (core 121) late → 1/5
    assert m["visits.regular_late_rate"].value == pytest.approx(0.2)
    # archive > 1.5 h: v1 v2 v6 (2 h), v3 v8 none; v5 (1 h) ok → 5/6
    assert m["visits.archive_late_rate"].value == pytest.approx(5 / 6)


def test_missing_frame() -> None:
    m = visits(None, Thresholds())
    assert set(m) == VISIT_IDS | BREAKDOWNS
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供现场服务数据 (visits)"


def test_missing_arrival_column() -> None:
    m = visits(visits_frame().drop(columns=["arrived_at"]), Thresholds())
    affected = {
        "visits.emergency_late_rate",
        "visits.regular_late_rate",
        "visits.compensation_rate",
    } | BREAKDOWNS
    for i in affected:
        assert m[i].value is None
        assert m[i].reason == "缺少列 arrived_at（到场时间）"
    for i in VISIT_IDS - affected:
        assert m[i].value is not None, i


@pytest.mark.parametrize(
    ("column", "affected"),
    [
        ("confirmed_at", {"visits.confirm_late_rate"}),
        ("eta_notified", {"visits.eta_notice_rate"}),
        ("compensated", {"visits.compensation_rate"}),
        ("nodes_done", {"visits.node_completion_rate"}),
        ("nodes_total", {"visits.node_completion_rate"}),
        ("accepted", {"visits.acceptance_rate"}),
        ("dissatisfied", {"visits.dissatisfied_rate"}),
        ("extra_fee_complaint", {"visits.extra_fee_complaint_rate"}),
        ("archived_at", {"visits.archive_late_rate"}),
        (
            "completed_at",
            {
                "visits.acceptance_rate",
                "visits.dissatisfied_rate",
                "visits.extra_fee_complaint_rate",
                "visits.archive_late_rate",
            },
        ),
    ],
)
def test_missing_optional_column(column: str, affected: set[str]) -> None:
    m = visits(visits_frame().drop(columns=[column]), Thresholds())
    for i in affected:
        assert m[i].value is None
        assert m[i].reason is not None and m[i].reason.startswith(f"缺少列 {column}（")
    for i in (VISIT_IDS | BREAKDOWNS) - affected:
        assert m[i].value is not None, i


def test_no_emergency_visits() -> None:
    rows = [r for r in ROWS if r[0] == "regular"]
    m = visits(visits_frame(rows), Thresholds())
    for i in (
        "visits.emergency_late_rate",
        "visits.emergency_late_rate.area:core",
        "visits.emergency_late_rate.area:suburb",
        "visits.eta_notice_rate",
    ):
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")
    assert m["visits.regular_late_rate"] == Measure(0.6, 3.0, 5.0, 5)


def test_no_completed_visits() -> None:
    rows = [r for r in ROWS if r[8] is None]
    m = visits(visits_frame(rows), Thresholds())
    for i in (
        "visits.acceptance_rate",
        "visits.dissatisfied_rate",
        "visits.extra_fee_complaint_rate",
        "visits.archive_late_rate",
    ):
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")


def test_empty_frame() -> None:
    m = visits(visits_frame([]), Thresholds())
    assert m["visits.total"] == Measure(0.0, None, None, 0)
    for i in (VISIT_IDS | BREAKDOWNS) - {"visits.total"}:
        assert m[i].value is None
        assert m[i].reason.startswith("样本为0")
