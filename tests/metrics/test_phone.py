"""Phone metrics against hand-computed figures (spec/metrics.md, Phone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.phone import phone
from selfcheck.thresholds import Thresholds

PHONE_IDS = {
    "phone.calls",
    "phone.offered",
    "phone.answer_rate",
    "phone.abandon_rate",
    "phone.service_level",
    "phone.asa_seconds",
    "phone.queue_p90_seconds",
    "phone.queue_max_seconds",
    "phone.ring_late_rate",
    "phone.busy_rate",
    "phone.aht_seconds",
}

NA = np.nan

# outcome, queue_seconds, ring_seconds, talk_seconds
ROWS = [
    ("answered", 10.0, 3.0, 100.0),  # 1 in service level
    ("answered", 45.0, 6.0, 200.0),  # 2 queue exactly 45 s: in service level; ring exactly 6: ok
    ("answered", 46.0, 7.0, 300.0),  # 3 queue 46: not in time; ring 7: late
    ("answered", NA, NA, NA),  # 4 queue unknown: offered, not in time, no queue/ring/talk
    ("abandoned", 5.0, 2.0, NA),  # 5 exactly 5 s: NOT a short abandon
    ("abandoned", 4.9, 2.0, NA),  # 6 short abandon: out of offered
    ("abandoned", NA, 6.5, NA),  # 7 queue unknown: not short; ring late
    ("ivr", NA, 1.0, NA),  # 8 never asked for a human
    ("busy", NA, NA, NA),  # 9
    ("busy", NA, 0.0, NA),  # 10
]


def calls_frame(rows=ROWS, *, outcome_dtype: str = "string") -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "call_id": pd.array([f"C{i}" for i in range(n)], dtype="string"),
            "arrived_at": pd.to_datetime(["2026-07-01 10:00:00"] * n).astype("datetime64[ns]"),
            "outcome": pd.Series([r[0] for r in rows], dtype=outcome_dtype),
            "ring_seconds": pd.Series([r[2] for r in rows], dtype="float64"),
            "queue_seconds": pd.Series([r[1] for r in rows], dtype="float64"),
            "talk_seconds": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )


@pytest.mark.parametrize("outcome_dtype", ["string", "object"])
def test_every_phone_metric(outcome_dtype: str) -> None:
    m = phone(calls_frame(outcome_dtype=outcome_dtype), Thresholds())
    assert set(m) == PHONE_IDS

    assert m["phone.calls"] == Measure(10.0, None, None, 10)
    # offered = 4 answered + abandoned rows 5 and 7 (row 6 is a short abandon)
    assert m["phone.offered"] == Measure(6.0, None, None, 6)
    assert m["phone.answer_rate"] == Measure(4 / 6, 4.0, 6.0, 6)
    assert m["phone.abandon_rate"] == Measure(2 / 6, 2.0, 6.0, 6)
    # in time: rows 1 (10 s) and 2 (exactly 45 s)
    assert m["phone.service_level"] == Measure(2 / 6, 2.0, 6.0, 6)
    # answered with queue known: 10, 45, 46
    assert m["phone.asa_seconds"].value == pytest.approx(101 / 3)
    assert m["phone.asa_seconds"].n == 3
    assert m["phone.asa_seconds"].numerator is None
    # P90 linear: position 0.9 × 2 = 1.8 → 45 + 0.8 × (46 − 45)
    assert m["phone.queue_p90_seconds"].value == pytest.approx(45.8)
    assert m["phone.queue_p90_seconds"].n == 3
    assert m["phone.queue_max_seconds"] == Measure(46.0, None, None, 3)
    # ring known: 8 calls; late (> 6): 7.0 and 6.5
    assert m["phone.ring_late_rate"] == Measure(0.25, 2.0, 8.0, 8)
    assert m["phone.busy_rate"] == Measure(0.2, 2.0, 10.0, 10)
    # talk of answered with talk known: 100, 200, 300
    assert m["phone.aht_seconds"] == Measure(200.0, None, None, 3)
    assert all(x.reason is None for x in m.values())


def test_short_abandon_boundary() -> None:
    rows = [("answered", 20.0, 1.0, 60.0), ("abandoned", 5.0, 1.0, NA)]
    m = phone(calls_frame(rows), Thresholds())
    assert m["phone.offered"].value == 2  # exactly 5 s is not short
    assert m["phone.abandon_rate"].value == pytest.approx(0.5)

    rows = [("answered", 20.0, 1.0, 60.0), ("abandoned", 4.9, 1.0, NA)]
    m = phone(calls_frame(rows), Thresholds())
    assert m["phone.offered"].value == 1  # 4.9 s is short: out of both sides
    assert m["phone.answer_rate"].value == 1.0
    assert m["phone.abandon_rate"] == Measure(0.0, 0.0, 1.0, 1)


def test_thresholds_are_used() -> None:
    th = Thresholds(short_abandon_seconds=3, service_level_seconds=20, ring_limit_seconds=15)
    m = phone(calls_frame(), th)
    # short abandon < 3 s: none → offered = 4 answered + 3 abandoned
    assert m["phone.offered"].value == 7
    # queue ≤ 20: only row 1
    assert m["phone.service_level"].value == pytest.approx(1 / 7)
    # ring > 15: none
    assert m["phone.ring_late_rate"].value == 0.0


def test_missing_frame() -> None:
    m = phone(None, Thresholds())
    assert set(m) == PHONE_IDS
    for x in m.values():
        assert x.value is None
        assert x.reason == "未提供电话数据 (calls)"


def test_missing_ring_column_only_affects_ring() -> None:
    m = phone(calls_frame().drop(columns=["ring_seconds"]), Thresholds())
    assert m["phone.ring_late_rate"].value is None
    assert m["phone.ring_late_rate"].reason == "缺少列 ring_seconds（振铃时长）"
    others = PHONE_IDS - {"phone.ring_late_rate"}
    assert all(m[i].value is not None for i in others)
    assert m["phone.answer_rate"].value == pytest.approx(4 / 6)


def test_missing_talk_column_only_affects_aht() -> None:
    m = phone(calls_frame().drop(columns=["talk_seconds"]), Thresholds())
    assert m["phone.aht_seconds"].value is None
    assert m["phone.aht_seconds"].reason == "缺少列 talk_seconds（通话时长）"
    assert all(m[i].value is not None for i in PHONE_IDS - {"phone.aht_seconds"})


def test_missing_queue_column() -> None:
    m = phone(calls_frame().drop(columns=["queue_seconds"]), Thresholds())
    needs_queue = {
        "phone.offered",
        "phone.answer_rate",
        "phone.abandon_rate",
        "phone.service_level",
        "phone.asa_seconds",
        "phone.queue_p90_seconds",
        "phone.queue_max_seconds",
    }
    for i in needs_queue:
        assert m[i].value is None
        assert m[i].reason.startswith("缺少列 queue_seconds（排队时长）")
    assert m["phone.calls"].value == 10
    assert m["phone.busy_rate"].value == pytest.approx(0.2)
    assert m["phone.ring_late_rate"].value == pytest.approx(0.25)
    assert m["phone.aht_seconds"].value == pytest.approx(200.0)


def test_no_offered_calls() -> None:
    rows = [("ivr", NA, 1.0, NA), ("busy", NA, NA, NA), ("abandoned", 2.0, 1.0, NA)]
    m = phone(calls_frame(rows), Thresholds())
    assert m["phone.calls"].value == 3
    assert m["phone.offered"] == Measure(0.0, None, None, 0)
    for i in ("phone.answer_rate", "phone.abandon_rate", "phone.service_level"):
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")
    for i in ("phone.asa_seconds", "phone.queue_p90_seconds", "phone.queue_max_seconds"):
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")
    assert m["phone.aht_seconds"].value is None
    assert m["phone.busy_rate"].value == pytest.approx(1 / 3)


def test_empty_frame() -> None:
    m = phone(calls_frame([]), Thresholds())
    assert m["phone.calls"] == Measure(0.0, None, None, 0)
    assert m["phone.offered"].value == 0
    for i in PHONE_IDS - {"phone.calls", "phone.offered"}:
        assert m[i].value is None
        assert m[i].reason.startswith("样本为0")
