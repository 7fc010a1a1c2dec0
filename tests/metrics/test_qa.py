"""Quality-inspection metrics against hand-computed figures (spec/metrics.md, Quality inspection).

A review's total t = professionalism + compliance + experience and its score t / 3, so the
sample standard deviation of scores is sqrt((Σt² − (Σt)²/n) / (n − 1)) / 3.
"""

from __future__ import annotations

from math import sqrt

import numpy as np
import pandas as pd
import pytest

from selfcheck.metrics.base import Measure, Metric, Target
from selfcheck.metrics.qa import (
    SPREAD_COLUMNS,
    SourceRow,
    agent_frame,
    agent_spread,
    below_mark,
    critical_by_team,
    excluded_scores,
    lowest_agents,
    qa,
    quartiles,
    review_frame,
    sampling_by_source,
    score_histogram,
)
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


# -- figures of the quality section beyond the catalogue -----------------------------------
# Per review (REVIEWS): agent, score, failed (< 80), critical, team (staff_frame)
#   R1 A1 80     .  .  一组      R5 A3 95     .  .  二组
#   R2 A1 80     .  .  一组      R6 A9 60     F  .  未知班组 (not in staff)
#   R3 A2 89     .  C  一组      R7 A4 90     .  .  未知班组 (empty team)
#   R4 A2 79.67  F  ?  一组      R8 A3 90.33  .  ?  二组


def _agent_metrics() -> list[Metric]:
    """The agent metrics as evaluate makes them (hand-set intervals), in agent_id order."""
    rows = [  # agent, mean, n, ci_low, ci_high, small sample
        ("A1", 80.0, 2, 80.0, 80.0, True),
        ("A2", 506 / 6, 2, 30.0, 100.0, True),
        ("A3", 556 / 6, 2, 50.0, 100.0, True),
        ("A4", 90.0, 1, None, None, True),
        ("A9", 60.0, 1, None, None, True),
    ]
    return [
        Metric(
            f"qa.score_mean.agent:{a}",
            "质检平均分",
            "score",
            mean,
            n=n,
            sampled=True,
            ci_low=lo,
            ci_high=hi,
            small_sample=small,
        )
        for a, mean, n, lo, hi, small in rows
    ]


def test_sampling_by_source() -> None:
    rows = sampling_by_source(
        reviews_frame(), **{k: v for k, v in frames().items() if k != "staff"}
    )
    # call R1 R2 R5 R6 (4 of 7 answered), chat R3 R4 R7 (3 of 9 replied), R8 without source
    assert rows == [SourceRow("call", 4, 7), SourceRow("chat", 3, 9), SourceRow("", 1, None)]
    assert [r.rate for r in rows] == [pytest.approx(4 / 7), pytest.approx(3 / 9), None]


def test_sampling_by_source_without_source_column_or_frames() -> None:
    reviews = reviews_frame().drop(columns=["source"])
    rows = sampling_by_source(reviews, calls=calls_frame(), tickets=tickets_frame())
    assert rows == [
        SourceRow("call", None, 7),
        SourceRow("chat", None, None, "未提供在线咨询数据 (chats)"),
        SourceRow("ticket", None, 5),
        SourceRow("visit", None, None, "未提供现场服务数据 (visits)"),
    ]
    assert all(r.rate is None for r in rows)
    calls = calls_frame().drop(columns=["outcome"])
    (call, _) = sampling_by_source(reviews_frame(), calls=calls, chats=chats_frame())[:2]
    assert call.base is None and call.reason == "缺少列 outcome（结果）"
    assert sampling_by_source(None) == []


def test_review_frame() -> None:
    frame = review_frame(reviews_frame(), 80, staff_frame())
    assert list(frame.columns) == ["agent_id", "scored", "failed", "critical", "team"]
    assert list(frame["agent_id"]) == ["A1", "A1", "A2", "A2", "A3", "A9", "A4", "A3"]
    assert frame["scored"].all()
    assert list(frame["failed"]) == [False, False, False, True, False, True, False, False]
    assert list(frame["critical"]) == [False, False, True, False, False, False, False, False]
    assert list(frame["team"]) == ["一组"] * 4 + ["二组", "未知班组", "未知班组", "二组"]
    # pass mark 90: R1 R2 R3 R4 R6 fail (R8 90.33 and R7 exactly 90 pass)
    assert list(review_frame(reviews_frame(), 90)["failed"]) == [True] * 4 + [
        False,
        True,
        False,
        False,
    ]
    assert "team" not in review_frame(reviews_frame(), 80).columns  # no staff
    assert review_frame(None, 80) is None
    assert review_frame(reviews_frame().drop(columns=["agent_id"]), 80) is None
    no_critical = review_frame(reviews_frame().drop(columns=["critical_error"]), 80)
    assert not no_critical["critical"].any()


def test_agent_frame_and_critical_by_team() -> None:
    reviews = review_frame(reviews_frame(), 80, staff_frame())
    frame = agent_frame(_agent_metrics(), reviews, staff_frame())
    assert list(frame["agent_id"]) == ["A1", "A2", "A3", "A4", "A9"]
    assert list(frame["mean"]) == pytest.approx([80, 506 / 6, 556 / 6, 90, 60])
    assert list(frame["n"]) == [2, 2, 2, 1, 1]
    assert list(frame["failed"]) == [0, 1, 0, 0, 1]
    assert list(frame["critical"]) == [0, 1, 0, 0, 0]
    assert list(frame["team"]) == ["一组", "一组", "二组", "未知班组", "未知班组"]
    assert frame["small"].all()
    plain = agent_frame(_agent_metrics(), None)
    assert "failed" not in plain.columns and "team" not in plain.columns
    assert agent_frame([], reviews).empty
    assert critical_by_team(reviews).to_dict("records") == [{"team": "一组", "n": 1}]
    two = reviews.assign(critical=[True, False, True, False, True, True, True, False])
    # 一组 2 (R1 R3), 未知班组 2 (R6 R7), 二组 1 (R5): by count, ties by name
    assert critical_by_team(two).to_dict("records") == [
        {"team": "一组", "n": 2}, {"team": "未知班组", "n": 2}, {"team": "二组", "n": 1}
    ]  # fmt: skip
    assert critical_by_team(review_frame(reviews_frame(), 80)).empty  # no teams
    assert critical_by_team(None).empty


def test_quartiles_spread_and_lowest() -> None:
    frame = agent_frame(_agent_metrics(), review_frame(reviews_frame(), 80, staff_frame()),
                        staff_frame())  # fmt: skip
    # means sorted: 60, 80, 84.33, 90, 92.67 → linear quartiles at positions 1 and 3
    assert quartiles(frame["mean"]) == pytest.approx((60, 80, 506 / 6, 90, 556 / 6))
    assert quartiles([1.0, 2.0]) == pytest.approx((1, 1.25, 1.5, 1.75, 2))
    spread = agent_spread(frame, 80, by="team", order=["二组", "一组", "未知班组", "三组"])
    assert list(spread.index) == ["二组", "一组", "未知班组"]
    assert list(spread.columns) == list(SPREAD_COLUMNS)
    # 一组: 80, 84.33 → q1 = 80 + 0.25 × 4.33; below 80: none (80 is the mark)
    assert tuple(spread.loc["一组"]) == pytest.approx(
        (2, 80, 80 + 0.25 * (506 / 6 - 80), 80 + 0.5 * (506 / 6 - 80), 80 + 0.75 * (506 / 6 - 80), 506 / 6, 0)
    )  # fmt: skip
    assert tuple(spread.loc["未知班组"]) == pytest.approx((2, 60, 67.5, 75, 82.5, 90, 1))
    overall = agent_spread(frame, 80)
    assert list(overall.index) == [""]
    assert tuple(overall.iloc[0]) == pytest.approx((5, 60, 80, 506 / 6, 90, 556 / 6, 1))
    assert list(below_mark(np.array([79.9, 80.0, 80 - 1e-12]), 80)) == [True, False, False]
    # lowest: at least 2; below 85 there are 3 (A9 60, A1 80, A2 84.33), at most 4
    assert list(lowest_agents(frame, 85, at_least=2, at_most=4)["agent_id"]) == ["A9", "A1", "A2"]
    assert list(lowest_agents(frame, 85, at_least=2, at_most=2)["agent_id"]) == ["A9", "A1"]
    assert list(lowest_agents(frame, 50, at_least=2, at_most=4)["agent_id"]) == ["A9", "A1"]
    tie = frame.assign(mean=[80.0, 80.0, 90, 90, 80.0])  # ties by agent id
    assert list(lowest_agents(tie, 50, at_least=3)["agent_id"]) == ["A1", "A2", "A9"]


def test_score_histogram() -> None:
    means = np.array([60.0, 80.0, 506 / 6, 90.0, 556 / 6])
    # mark 80, target ≥ 90: span 60..92.67 = 32.67 > 30 → bins of 2 from 60 to 94
    h = score_histogram(means, 80, Target(">=", 90))
    assert h.width == 2.0
    assert list(h.edges) == list(range(60, 95, 2))
    assert h.below.sum() == 1 and h.below[0] == 1  # 60 in [60, 62)
    assert h.short.sum() == 2  # 80 in [80, 82), 84.33 in [84, 86)
    assert h.short[10] == 1 and h.short[12] == 1
    assert h.met.sum() == 2 and h.met[15] == 1 and h.met[16] == 1  # 90, 92.67
    # without a target: every mean not below the mark is "met"; span 60..92.67 as well
    h = score_histogram(means, 80)
    assert h.short.sum() == 0 and h.met.sum() == 4 and h.below.sum() == 1
    # narrow span (≤ 30): bins of 1 aligned on whole points, covering mark and target
    h = score_histogram(np.array([85.5, 88.2]), 80, Target(">=", 90))
    assert h.width == 1.0 and h.edges[0] == 80 and h.edges[-1] == 91
    assert h.short[5] == 1 and h.short[8] == 1 and h.met.sum() == 0
    # wide span (> 60): bins of 5
    assert score_histogram(np.array([20.0, 95.0]), 80).width == 5.0
