"""Quality-inspection metrics against hand-computed figures (spec/metrics.md, Quality inspection).

A review's total t = professionalism + compliance + experience and its score t / 3, so the
sample standard deviation of scores is sqrt((Σt² − (Σt)²/n) / (n − 1)) / 3.
"""

from __future__ import annotations

from math import sqrt

import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.qa import excluded_scores, qa
from selfcheck.thresholds import Thresholds

QA_IDS = [
    "qa.reviews",
    "qa.sampling_rate",
    "qa.score_mean",
    "qa.pass_rate",
    "qa.critical_error_rate",
]
DIM_IDS = [
    "qa.score_mean.dimension:professionalism",
    "qa.score_mean.dimension:compliance",
    "qa.score_mean.dimension:experience",
]

NA = None
# agent_id, source, professionalism, compliance, experience, critical_error
REVIEWS = [
    ("A1", "call", 80, 80, 80, False),  # R1 score exactly 80: pass
    ("A1", "call", 79, 80, 81, False),  # R2 240 / 3 = 80: pass
    ("A2", "chat", 90, 90, 87, True),  # R3 89
    ("A2", "chat", 80, 80, 79, NA),  # R4 79.67: fail
    ("A3", "call", 100, 95, 90, False),  # R5 95
    ("A9", "call", 70, 60, 50, False),  # R6 60: fail; agent not in staff
    ("A4", "chat", 85, 95, 90, False),  # R7 90; agent with an empty team
    ("A3", NA, 88, 93, 90, NA),  # R8 90.33; no source
]
# totals: 240 240 267 239 285 180 270 271 → Σ 1992, Σt² 503576


def reviews_frame(rows=REVIEWS) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "review_id": pd.array([f"R{i + 1}" for i in range(n)], dtype="string"),
            "reviewed_at": pd.Series(
                pd.to_datetime(["2026-08-03 10:00:00"] * n), dtype="datetime64[ns]"
            ),
            "agent_id": pd.array([r[0] for r in rows], dtype="string"),
            "source": pd.array([r[1] for r in rows], dtype="string"),
            "professionalism": pd.Series([r[2] for r in rows], dtype="float64"),
            "compliance": pd.Series([r[3] for r in rows], dtype="float64"),
            "experience": pd.Series([r[4] for r in rows], dtype="float64"),
            "critical_error": pd.array([r[5] for r in rows], dtype="boolean"),
        }
    )


def staff_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_id": pd.array(["A1", "A2", "A3", "A4", "A5"], dtype="string"),
            "role": pd.array(["frontline"] * 5, dtype="string"),
            "team": pd.array(["一组", "一组", "二组", NA, "二组"], dtype="string"),
        }
    )


def calls_frame() -> pd.DataFrame:  # 7 answered of 10
    outcomes = ["answered"] * 7 + ["abandoned", "busy", "ivr"]
    return pd.DataFrame({"outcome": pd.array(outcomes, dtype="string")})


def chats_frame() -> pd.DataFrame:  # 9 with a human reply of 12
    replies = ["2026-08-01 10:01"] * 9 + [NA] * 3
    return pd.DataFrame(
        {"first_reply_at": pd.Series(pd.to_datetime(replies), dtype="datetime64[ns]")}
    )


def tickets_frame() -> pd.DataFrame:  # 5
    return pd.DataFrame({"ticket_id": pd.array([f"T{i}" for i in range(5)], dtype="string")})


def visits_frame() -> pd.DataFrame:  # 4
    return pd.DataFrame({"visit_id": pd.array([f"V{i}" for i in range(4)], dtype="string")})


def frames(**override) -> dict:
    d = {
        "staff": staff_frame(),
        "calls": calls_frame(),
        "chats": chats_frame(),
        "tickets": tickets_frame(),
        "visits": visits_frame(),
    }
    d.update(override)
    return d


def test_every_qa_metric() -> None:
    m = qa(reviews_frame(), Thresholds(), **frames())
    assert list(m) == [
        *QA_IDS,
        *DIM_IDS,
        "qa.score_mean.team:一组",
        "qa.score_mean.team:二组",
        "qa.score_mean.team:未知班组",
        "qa.score_mean.agent:A1",
        "qa.score_mean.agent:A2",
        "qa.score_mean.agent:A3",
        "qa.score_mean.agent:A4",
        "qa.score_mean.agent:A9",
    ]
    assert m["qa.reviews"] == Measure(8.0, None, None, 8)
    # sources in the reviews: call, chat → base 7 answered calls + 9 replied chats
    assert m["qa.sampling_rate"] == Measure(0.5, 8.0, 16.0, 16)
    # mean 1992 / 24 = 83; SS_t = 503576 − 1992² / 8 = 7568
    assert m["qa.score_mean"] == Measure(
        pytest.approx(83.0), None, None, 8, sampled=True, sd=pytest.approx(sqrt(7568 / 7) / 3)
    )
    assert m["qa.score_mean"].sd == pytest.approx(10.960246)  # √1081.142857 = 32.88074
    # pass (≥ 80): R1 R2 R3 R5 R7 R8
    assert m["qa.pass_rate"] == Measure(0.75, 6.0, 8.0, 8, sampled=True)
    # critical known: R1 R2 R3 R5 R6 R7 → R3
    assert m["qa.critical_error_rate"] == Measure(pytest.approx(1 / 6), 1.0, 6.0, 6, sampled=True)

    # professionalism 80 79 90 80 100 70 85 88: Σ 672, Σx² 57010 → SS 562
    assert m["qa.score_mean.dimension:professionalism"] == Measure(
        84.0, None, None, 8, sampled=True, sd=pytest.approx(sqrt(562 / 7))
    )
    # compliance 80 80 90 80 95 60 95 93: Σ 673, Σx² 57599 → SS 982.875
    assert m["qa.score_mean.dimension:compliance"] == Measure(
        84.125, None, None, 8, sampled=True, sd=pytest.approx(sqrt(982.875 / 7))
    )
    # experience 80 81 87 79 90 50 90 90: Σ 647, Σx² 53571 → SS 1244.875
    assert m["qa.score_mean.dimension:experience"] == Measure(
        80.875, None, None, 8, sampled=True, sd=pytest.approx(sqrt(1244.875 / 7))
    )

    # 一组 (A1 A2): totals 240 240 267 239 → Σ 986, Σt² 243610 → SS 561
    assert m["qa.score_mean.team:一组"] == Measure(
        pytest.approx(986 / 12), None, None, 4, sampled=True, sd=pytest.approx(sqrt(561 / 3) / 3)
    )
    # 二组 (A3): totals 285 271
    assert m["qa.score_mean.team:二组"] == Measure(
        pytest.approx(556 / 6), None, None, 2, sampled=True, sd=pytest.approx(14 / sqrt(2) / 3)
    )
    # 未知班组: A9 (not in staff) 60, A4 (empty team) 90
    assert m["qa.score_mean.team:未知班组"] == Measure(
        75.0, None, None, 2, sampled=True, sd=pytest.approx(30 / sqrt(2))
    )
    assert m["qa.score_mean.agent:A1"] == Measure(80.0, None, None, 2, sampled=True, sd=0.0)
    assert m["qa.score_mean.agent:A2"] == Measure(
        pytest.approx(506 / 6), None, None, 2, sampled=True, sd=pytest.approx(28 / sqrt(2) / 3)
    )
    assert m["qa.score_mean.agent:A3"] == Measure(
        pytest.approx(556 / 6), None, None, 2, sampled=True, sd=pytest.approx(14 / sqrt(2) / 3)
    )
    assert m["qa.score_mean.agent:A4"] == Measure(90.0, None, None, 1, sampled=True)
    assert m["qa.score_mean.agent:A9"] == Measure(60.0, None, None, 1, sampled=True)
    assert all(x.reason is None for x in m.values())


def test_pass_mark_is_a_parameter() -> None:
    m = qa(reviews_frame(), Thresholds(qa_pass_score=85), **frames())
    # ≥ 85: R3 89, R5 95, R7 90, R8 90.33
    assert m["qa.pass_rate"] == Measure(0.5, 4.0, 8.0, 8, sampled=True)


def test_pass_at_exactly_the_mark_despite_float_noise() -> None:
    # 79.1 + 79.3 + 81.6 is 239.99999999999997 in floating point: the score is 80
    rows = [("A1", "call", 79.1, 79.3, 81.6, False), ("A1", "call", 80, 80, 79.9, False)]
    m = qa(reviews_frame(rows), Thresholds(), **frames())
    assert m["qa.pass_rate"] == Measure(0.5, 1.0, 2.0, 2, sampled=True)


def test_sampling_base_over_all_sources_without_source_column() -> None:
    m = qa(reviews_frame().drop(columns=["source"]), Thresholds(), **frames())
    # 7 + 9 + 5 + 4
    assert m["qa.sampling_rate"] == Measure(0.32, 8.0, 25.0, 25)


def test_sampling_base_over_all_sources_when_source_is_always_empty() -> None:
    rows = [(r[0], NA, *r[2:]) for r in REVIEWS]
    m = qa(reviews_frame(rows), Thresholds(), **frames())
    assert m["qa.sampling_rate"] == Measure(0.32, 8.0, 25.0, 25)


def test_sampling_base_only_sources_that_occur() -> None:
    rows = [("A1", "ticket", 90, 90, 90, False), ("A1", "visit", 90, 90, 90, False)]
    # calls and chats are not needed: tickets 5 + visits 4
    m = qa(reviews_frame(rows), Thresholds(), **frames(calls=None, chats=None))
    assert m["qa.sampling_rate"] == Measure(pytest.approx(2 / 9), 2.0, 9.0, 9)


def test_sampling_rate_missing_source_frame() -> None:
    m = qa(reviews_frame(), Thresholds(), **frames(calls=None))
    assert m["qa.sampling_rate"].value is None
    assert "calls" in m["qa.sampling_rate"].reason
    assert "chats" not in m["qa.sampling_rate"].reason
    # tickets and visits are not among the sources of these reviews
    m = qa(reviews_frame(), Thresholds(), **frames(tickets=None, visits=None))
    assert m["qa.sampling_rate"] == Measure(0.5, 8.0, 16.0, 16)
    # without a source column all four are needed
    m = qa(reviews_frame().drop(columns=["source"]), Thresholds(), **frames(visits=None))
    assert m["qa.sampling_rate"].value is None
    assert "visits" in m["qa.sampling_rate"].reason
    # the other metrics do not need the source frames
    assert m["qa.score_mean"].value == pytest.approx(83.0)


def test_sampling_rate_missing_source_column() -> None:
    chats = chats_frame().drop(columns=["first_reply_at"])
    m = qa(reviews_frame(), Thresholds(), **frames(chats=chats))
    assert m["qa.sampling_rate"].value is None
    assert "first_reply_at" in m["qa.sampling_rate"].reason


def test_sampling_base_zero() -> None:
    calls = pd.DataFrame({"outcome": pd.array(["busy"], dtype="string")})
    chats = pd.DataFrame({"first_reply_at": pd.Series([pd.NaT], dtype="datetime64[ns]")})
    m = qa(reviews_frame(), Thresholds(), **frames(calls=calls, chats=chats))
    assert m["qa.sampling_rate"].value is None
    assert m["qa.sampling_rate"].reason.startswith("样本为0")


def test_without_staff_there_are_no_team_keys() -> None:
    m = qa(reviews_frame(), Thresholds(), **frames(staff=None))
    assert not any(k.startswith("qa.score_mean.team:") for k in m)
    assert m["qa.score_mean.agent:A9"] == Measure(60.0, None, None, 1, sampled=True)


def test_unknown_team_is_last_whatever_its_size() -> None:
    staff = staff_frame().assign(team=pd.array([NA, NA, "二组", NA, NA], dtype="string"))
    m = qa(reviews_frame(), Thresholds(), **frames(staff=staff))
    teams = [k for k in m if k.startswith("qa.score_mean.team:")]
    assert teams == ["qa.score_mean.team:二组", "qa.score_mean.team:未知班组"]
    assert m["qa.score_mean.team:未知班组"].n == 6


def test_out_of_range_dimension() -> None:
    rows = [*REVIEWS, ("A1", "call", 101, 90, 90, True)]  # professionalism 101: score unknown
    m = qa(reviews_frame(rows), Thresholds(), **frames())
    assert m["qa.reviews"] == Measure(9.0, None, None, 9)
    assert m["qa.sampling_rate"] == Measure(9 / 16, 9.0, 16.0, 16)
    assert m["qa.score_mean"].n == 8
    assert m["qa.score_mean"].value == pytest.approx(83.0)
    assert m["qa.pass_rate"] == Measure(0.75, 6.0, 8.0, 8, sampled=True)
    assert m["qa.critical_error_rate"] == Measure(2 / 7, 2.0, 7.0, 7, sampled=True)
    assert m["qa.score_mean.dimension:professionalism"].n == 8
    assert m["qa.score_mean.dimension:compliance"].n == 9
    assert m["qa.score_mean.dimension:compliance"].value == pytest.approx((673 + 90) / 9)
    assert excluded_scores(reviews_frame(rows)) == {
        "professionalism": 1,
        "compliance": 0,
        "experience": 0,
    }


def test_missing_frame() -> None:
    m = qa(None, Thresholds(), **frames())
    assert list(m) == [*QA_IDS, *DIM_IDS]
    for i, x in m.items():
        assert x.value is None
        assert x.reason == "未提供质检数据 (qa_reviews)"
        assert x.sampled is (i not in ("qa.reviews", "qa.sampling_rate"))


def test_empty_frame() -> None:
    m = qa(reviews_frame([]), Thresholds(), **frames())
    assert list(m) == [*QA_IDS, *DIM_IDS]
    assert m["qa.reviews"] == Measure(0.0, None, None, 0)
    assert m["qa.sampling_rate"] == Measure(0.0, 0.0, 25.0, 25)  # no source: all four
    for i in ["qa.score_mean", "qa.pass_rate", "qa.critical_error_rate", *DIM_IDS]:
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")


def test_missing_critical_error_column() -> None:
    m = qa(reviews_frame().drop(columns=["critical_error"]), Thresholds(), **frames())
    assert m["qa.critical_error_rate"].value is None
    assert m["qa.critical_error_rate"].reason == "缺少列 critical_error（致命差错）"
    assert m["qa.pass_rate"] == Measure(0.75, 6.0, 8.0, 8, sampled=True)


def test_integer_scores() -> None:
    """Ingested integer scores (``Int64``) give the same figures."""
    a = qa(reviews_frame(), Thresholds(), **frames())
    ints = reviews_frame()
    for c in ("professionalism", "compliance", "experience"):
        ints[c] = ints[c].astype("Int64")
    assert qa(ints, Thresholds(), **frames()) == a


def test_every_id_is_catalogued() -> None:
    from selfcheck.metrics.catalogue import lookup

    for i in qa(reviews_frame(), Thresholds(), **frames()):
        assert lookup(i).id == (i if ":" not in i else "qa.score_mean"), i
