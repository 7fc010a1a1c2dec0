"""Satisfaction metrics against hand-computed figures (spec/metrics.md, Satisfaction).

Index-scaled scores are score × 20 on the 5-point scale; a sample standard deviation is
written as sqrt((Σx² − (Σx)²/n) / (n − 1)) over those scaled scores.
"""

from __future__ import annotations

from math import sqrt

import pandas as pd
import pytest

from selfcheck.metrics.base import Measure
from selfcheck.metrics.satisfaction import excluded_scores, satisfaction
from selfcheck.thresholds import Thresholds

SAT_IDS = [
    "satisfaction.responses",
    "satisfaction.index",
    "satisfaction.top_box_rate",
    "satisfaction.index.attitude",
    "satisfaction.index.speed",
    "satisfaction.index.expertise",
    "satisfaction.index.resolution",
    "satisfaction.index.value",
    "satisfaction.nps",
]
DIMS = ["attitude", "speed", "expertise", "resolution", "value"]
DIM_TOP = [f"satisfaction.top_box_rate.dimension:{d}" for d in DIMS]

NA = None
# overall, attitude, speed, expertise, resolution, value, nps, segment
ROWS = [
    (5, 5, 4, 3, 5, 2, 10, "大客户"),  # r1
    (4, 4, 3.99, 4, 4, 6, 9, "大客户"),  # r2 overall exactly 4: top box; value 6 out of range
    (3.99, 3, 5, NA, 1, 3, 8, "个人"),  # r3 overall 3.99: not top box
    (3, 0, 2, 5, 2, 4, 7, "个人"),  # r4 attitude 0 out of range
    (1, 2, 4, 4, NA, 5, 6, "中小企业"),  # r5 nps 6: detractor
    (6, 5, 5, 5, 5, 5, 0, "大客户"),  # r6 overall 6 out of range (dimensions still count)
    (2, NA, 1, 2, 3, 1, NA, "VIP"),  # r7
    (5, 4, NA, 1, 5, 5, 11, " 个人 "),  # r8 nps 11 out of range; segment stripped
    (4, NA, NA, NA, NA, NA, -1, "  "),  # r9 blank segment; nps −1 out of range
    (0, 1, 1, 1, 1, 1, 5, ""),  # r10 overall 0 out of range
    (5, NA, NA, NA, NA, NA, NA, NA),  # r11 no segment
]


def surveys_frame(rows=ROWS, columns: int = 8) -> pd.DataFrame:
    n = len(rows)

    def num(i: int) -> pd.Series:
        return pd.Series([r[i] for r in rows], dtype="float64")

    frame = pd.DataFrame(
        {
            "response_id": pd.array([f"W{i + 1}" for i in range(n)], dtype="string"),
            "answered_at": pd.Series(
                pd.to_datetime(["2026-08-03 10:00:00"] * n), dtype="datetime64[ns]"
            ),
            "overall": num(0),
            "attitude": num(1),
            "speed": num(2),
            "expertise": num(3),
            "resolution": num(4),
            "value": num(5),
            "nps": pd.array([r[6] for r in rows], dtype="Int64"),
            "segment": pd.array([r[7] for r in rows], dtype="string"),
        }
    )
    return frame


def test_every_satisfaction_metric() -> None:
    m = satisfaction(surveys_frame(), Thresholds())
    segments = ["个人", "大客户", "VIP", "中小企业"]  # n 3, 2, 1, 1 (VIP < 中 by code point)
    assert list(m) == [
        *SAT_IDS,
        *DIM_TOP,
        *(f"satisfaction.index.segment:{s}" for s in segments),
        *(f"satisfaction.top_box_rate.segment:{s}" for s in segments),
    ]

    # valid overall: r1 r2 r3 r4 r5 r7 r8 r9 r11 = 5, 4, 3.99, 3, 1, 2, 5, 4, 5 (Σ 32.99)
    assert m["satisfaction.responses"] == Measure(9.0, None, None, 9)
    # scaled: 100 80 79.8 60 20 40 100 80 100: Σ 659.8, Σx² 54768.04
    assert m["satisfaction.index"] == Measure(
        pytest.approx(32.99 / 9 / 5 * 100),  # 73.311…
        None,
        None,
        9,
        sampled=True,
        sd=pytest.approx(sqrt((54768.04 - 659.8**2 / 9) / 8)),  # √(6397.369 / 8) = 28.278…
    )
    assert m["satisfaction.index"].value == pytest.approx(73.3111111111)
    assert m["satisfaction.index"].sd == pytest.approx(28.2784567)
    # top box (≥ 4): r1 r2 r8 r9 r11; r3 at 3.99 is not
    assert m["satisfaction.top_box_rate"] == Measure(5 / 9, 5.0, 9.0, 9, sampled=True)

    # attitude valid: 5 4 3 2 5 4 1 (r4's 0 out; r6 counts though its overall is out)
    # scaled 100 80 60 40 100 80 20: Σ 480, Σx² 38400
    assert m["satisfaction.index.attitude"] == Measure(
        pytest.approx(24 / 7 * 20),
        None,
        None,
        7,
        sampled=True,
        sd=pytest.approx(sqrt((38400 - 480**2 / 7) / 6)),
    )
    assert m["satisfaction.top_box_rate.dimension:attitude"] == Measure(
        4 / 7, 4.0, 7.0, 7, sampled=True
    )
    # speed: 4 3.99 5 2 4 5 1 1 → Σ 25.99; scaled Σ 519.8, Σx² 41568.04; top box 4 5 4 5
    assert m["satisfaction.index.speed"] == Measure(
        pytest.approx(25.99 / 8 * 20),  # 64.975
        None,
        None,
        8,
        sampled=True,
        sd=pytest.approx(sqrt((41568.04 - 519.8**2 / 8) / 7)),
    )
    assert m["satisfaction.index.speed"].value == pytest.approx(64.975)
    assert m["satisfaction.top_box_rate.dimension:speed"] == Measure(0.5, 4.0, 8.0, 8, sampled=True)
    # expertise: 3 4 5 4 5 2 1 1 → Σ 25; scaled Σ 500, Σx² 38800
    assert m["satisfaction.index.expertise"] == Measure(
        62.5, None, None, 8, sampled=True, sd=pytest.approx(sqrt(7550 / 7))
    )
    assert m["satisfaction.top_box_rate.dimension:expertise"] == Measure(
        0.5, 4.0, 8.0, 8, sampled=True
    )
    # resolution: 5 4 1 2 5 3 5 1 → Σ 26; scaled Σ 520, Σx² 42400 → SS 8600
    assert m["satisfaction.index.resolution"] == Measure(
        65.0, None, None, 8, sampled=True, sd=pytest.approx(sqrt(8600 / 7))
    )
    assert m["satisfaction.top_box_rate.dimension:resolution"] == Measure(
        0.5, 4.0, 8.0, 8, sampled=True
    )
    # value: 2 3 4 5 5 1 5 1 (r2's 6 out) → Σ 26; same sums as resolution
    assert m["satisfaction.index.value"] == Measure(
        65.0, None, None, 8, sampled=True, sd=pytest.approx(sqrt(8600 / 7))
    )
    assert m["satisfaction.index.value"].sd == pytest.approx(35.0509833)
    assert m["satisfaction.top_box_rate.dimension:value"] == Measure(0.5, 4.0, 8.0, 8, sampled=True)

    # nps valid: 10 9 8 7 6 0 5 (r8 11 and r9 −1 out): promoters 2, detractors 3 (6 0 5)
    assert m["satisfaction.nps"] == Measure(pytest.approx(-100 / 7), None, None, 7)

    # segments (valid overall, known segment): 个人 3.99 3 5; 大客户 5 4; VIP 2; 中小企业 1
    assert m["satisfaction.index.segment:个人"] == Measure(
        pytest.approx(11.99 / 3 * 20),  # 79.933…
        None,
        None,
        3,
        sampled=True,
        sd=pytest.approx(sqrt((19968.04 - 239.8**2 / 3) / 2)),  # 20.0003…
    )
    assert m["satisfaction.index.segment:大客户"] == Measure(
        90.0, None, None, 2, sampled=True, sd=pytest.approx(sqrt(200))
    )
    assert m["satisfaction.index.segment:VIP"] == Measure(40.0, None, None, 1, sampled=True)
    assert m["satisfaction.index.segment:中小企业"] == Measure(20.0, None, None, 1, sampled=True)
    assert m["satisfaction.top_box_rate.segment:个人"] == Measure(1 / 3, 1.0, 3.0, 3, sampled=True)
    assert m["satisfaction.top_box_rate.segment:大客户"] == Measure(1.0, 2.0, 2.0, 2, sampled=True)
    assert m["satisfaction.top_box_rate.segment:VIP"] == Measure(0.0, 0.0, 1.0, 1, sampled=True)
    assert m["satisfaction.top_box_rate.segment:中小企业"] == Measure(
        0.0, 0.0, 1.0, 1, sampled=True
    )
    assert all(x.reason is None for x in m.values())


def test_excluded_scores() -> None:
    assert excluded_scores(surveys_frame(), Thresholds()) == {
        "overall": 2,  # r6 (6), r10 (0)
        "attitude": 1,  # r4 (0)
        "speed": 0,
        "expertise": 0,
        "resolution": 0,
        "value": 1,  # r2 (6)
        "nps": 2,  # r8 (11), r9 (−1)
    }
    assert excluded_scores(None, Thresholds()) == {}
    # on a 10-point scale 6 is valid
    assert excluded_scores(surveys_frame(), Thresholds(survey_scale=10))["value"] == 0


def _overall_only(values, segments=None) -> pd.DataFrame:
    rows = [(v, NA, NA, NA, NA, NA, NA, NA) for v in values]
    frame = surveys_frame(rows)
    if segments is not None:
        frame["segment"] = pd.array(segments, dtype="string")
    return frame


def test_top_box_boundary_five_point() -> None:
    m = satisfaction(_overall_only([4, 3.99]), Thresholds())
    assert m["satisfaction.top_box_rate"] == Measure(0.5, 1.0, 2.0, 2, sampled=True)


def test_ten_point_scale() -> None:
    # valid 10 8 7.99 7 1 (11 and 0 out); top box ≥ 8: 10, 8
    m = satisfaction(_overall_only([10, 8, 7.99, 7, 1, 11, 0]), Thresholds(survey_scale=10))
    assert m["satisfaction.responses"] == Measure(5.0, None, None, 5)
    # scaled ×10: 100 80 79.9 70 10 → Σ 339.9, Σx² 27784.01
    assert m["satisfaction.index"] == Measure(
        pytest.approx(67.98),
        None,
        None,
        5,
        sampled=True,
        sd=pytest.approx(sqrt((27784.01 - 339.9**2 / 5) / 4)),  # 34.196…
    )
    assert m["satisfaction.index"].sd == pytest.approx(34.1965495)
    assert m["satisfaction.top_box_rate"] == Measure(0.4, 2.0, 5.0, 5, sampled=True)


def test_top_box_boundary_not_decided_by_float_rounding() -> None:
    # 0.8 × 7 is 5.6000000000000005 in floating point; 5.6 must still be top box
    m = satisfaction(_overall_only([5.6, 5.59]), Thresholds(survey_scale=7))
    assert m["satisfaction.top_box_rate"] == Measure(0.5, 1.0, 2.0, 2, sampled=True)


def test_nps_groups() -> None:
    rows = [(5, NA, NA, NA, NA, NA, v, NA) for v in (9, 6, 7, 8, 10, 0, NA)]
    m = satisfaction(surveys_frame(rows), Thresholds())
    # known 6: promoters 9 10, detractors 6 0, passives 7 8 → (2 − 2) / 6 × 100
    assert m["satisfaction.nps"] == Measure(0.0, None, None, 6)
    rows = [(5, NA, NA, NA, NA, NA, v, NA) for v in (9, 7, 8)]
    m = satisfaction(surveys_frame(rows), Thresholds())
    assert m["satisfaction.nps"] == Measure(pytest.approx(100 / 3), None, None, 3)
    rows = [(5, NA, NA, NA, NA, NA, v, NA) for v in (6, 6, 9, 8)]
    m = satisfaction(surveys_frame(rows), Thresholds())
    assert m["satisfaction.nps"] == Measure(-25.0, None, None, 4)


def test_segment_order_and_ties() -> None:
    frame = _overall_only([5, 4, 3, 2, 1, 5], ["B", "A", "C", "C", "C", "B"])
    m = satisfaction(frame, Thresholds())
    keys = [k for k in m if k.startswith("satisfaction.index.segment:")]
    assert keys == [
        "satisfaction.index.segment:C",
        "satisfaction.index.segment:B",
        "satisfaction.index.segment:A",
    ]
    # C: 3 2 1 → 40; scaled 60 40 20 → sd 20
    assert m["satisfaction.index.segment:C"] == Measure(
        pytest.approx(40.0), None, None, 3, sampled=True, sd=pytest.approx(20.0)
    )
    assert m["satisfaction.index.segment:B"] == Measure(100.0, None, None, 2, sampled=True, sd=0.0)


def test_single_response_has_no_sd() -> None:
    m = satisfaction(_overall_only([4]), Thresholds())
    assert m["satisfaction.index"] == Measure(80.0, None, None, 1, sampled=True)


def test_missing_frame() -> None:
    m = satisfaction(None, Thresholds())
    assert list(m) == [*SAT_IDS, *DIM_TOP]
    for i, x in m.items():
        assert x.value is None
        assert x.reason == "未提供满意度调查数据 (surveys)"
        assert x.sampled is (i not in ("satisfaction.responses", "satisfaction.nps"))


def test_empty_frame() -> None:
    m = satisfaction(surveys_frame([]), Thresholds())
    assert list(m) == [*SAT_IDS, *DIM_TOP]
    assert m["satisfaction.responses"] == Measure(0.0, None, None, 0)
    for i in [*SAT_IDS[1:], *DIM_TOP]:
        assert m[i].value is None
        assert m[i].n == 0
        assert m[i].reason.startswith("样本为0")


def test_all_scores_out_of_range() -> None:
    m = satisfaction(_overall_only([0, 6], ["A", "A"]), Thresholds())
    assert m["satisfaction.responses"] == Measure(0.0, None, None, 0)
    assert m["satisfaction.index"].value is None
    assert m["satisfaction.top_box_rate"].reason.startswith("样本为0")
    assert not any(k.startswith("satisfaction.index.segment:") for k in m)


@pytest.mark.parametrize("dim", DIMS)
def test_missing_dimension_column(dim: str) -> None:
    m = satisfaction(surveys_frame().drop(columns=[dim]), Thresholds())
    for i in (f"satisfaction.index.{dim}", f"satisfaction.top_box_rate.dimension:{dim}"):
        assert m[i].value is None
        assert m[i].reason.startswith(f"缺少列 {dim}（")
        assert m[i].sampled
    for i in [*SAT_IDS, *DIM_TOP]:
        if dim not in i:
            assert m[i].value is not None, i


def test_missing_nps_column() -> None:
    m = satisfaction(surveys_frame().drop(columns=["nps"]), Thresholds())
    assert m["satisfaction.nps"] == Measure.missing("缺少列 nps（推荐意愿）")
    assert m["satisfaction.index"].value == pytest.approx(32.99 / 9 * 20)


def test_missing_segment_column() -> None:
    m = satisfaction(surveys_frame().drop(columns=["segment"]), Thresholds())
    assert list(m) == [*SAT_IDS, *DIM_TOP]
    assert all(x.value is not None for x in m.values())


def test_integer_columns() -> None:
    """Ingested integer scores (``Int64`` with empties) give the same figures."""
    frame = surveys_frame()
    frame = frame[frame["speed"].isna() | (frame["speed"] % 1 == 0)]  # drop r2 (3.99)
    frame = frame[frame["overall"] % 1 == 0]  # drop r3 (3.99)
    ints = frame.copy()
    for c in ("overall", *DIMS):
        ints[c] = ints[c].astype("Int64")
    a, b = satisfaction(frame, Thresholds()), satisfaction(ints, Thresholds())
    assert a == b
    # valid overall: 5 3 1 2 5 4 5 → Σ 25 over 7
    assert b["satisfaction.index"].value == pytest.approx(25 / 7 * 20)


def test_every_id_is_catalogued() -> None:
    from selfcheck.metrics.catalogue import lookup

    m = satisfaction(surveys_frame(), Thresholds())
    assert lookup("satisfaction.top_box_rate.dimension:attitude").id == "satisfaction.top_box_rate"
    assert lookup("satisfaction.top_box_rate.segment:个人").id == "satisfaction.top_box_rate"
    for i in m:
        expected = i.split(":")[0].replace(".dimension", "")
        if i.startswith("satisfaction.top_box_rate.segment:"):
            expected = "satisfaction.top_box_rate"
        assert lookup(i).id == expected, i
