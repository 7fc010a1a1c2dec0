"""The shared phrase helpers of the sections (sections/phrases.py), by hand."""

from __future__ import annotations

from selfcheck.metrics.base import Metric, Target
from selfcheck.sections.phrases import (
    change_clause,
    count_change,
    significant_changes,
    status_clause,
    stock_change,
    target_tally,
)


def _count(value, previous=None, year_ago=None) -> Metric:
    return Metric("x.total", "投诉量", "count", value, previous=previous, year_ago=year_ago)


def _rate(value, target=None, previous=None, p_value=None, metric_id="x.rate") -> Metric:
    return Metric(
        metric_id, "办结率", "rate", value, target=target, previous=previous, p_value=p_value
    )


def test_count_change():
    assert count_change(_count(3000.0, previous=2867.0)) == "较上季度增加133件（上升4.6%）"
    assert count_change(_count(2827.0, year_ago=3000.0), versus="上年同期") == (
        "较上年同期减少173件（下降5.8%）"
    )
    assert count_change(_count(12.0, previous=9.0), "人", relative=False) == "较上季度增加3人"
    assert count_change(_count(5.0, previous=0.0)) == "较上季度增加5件"  # no share of zero
    assert count_change(_count(5.0, previous=5.2)) == "与上季度持平"
    assert count_change(_count(5.0)) == ""


def test_stock_change():
    assert stock_change(1240, 1204.0) == "较上季度末（1,204件）增加36件"
    assert stock_change(1000, 1204.0, "张") == "较上季度末（1,204张）减少204张"
    assert stock_change(7, 7.0) == "与上季度末持平"
    assert stock_change(7, None) == "" and stock_change(7, float("nan")) == ""


def test_clauses():
    m = _rate(0.882, Target(">=", 0.95), previous=0.89)
    assert status_clause(m) == "，未达到≥95.0%的目标"
    assert change_clause(m) == "，较上季度下降0.8个百分点"
    assert change_clause(_rate(0.9, previous=0.88, p_value=0.01), significance=True) == (
        "，较上季度上升2.0个百分点，变化在统计上显著（p<0.05）"
    )
    assert status_clause(_rate(None, Target(">=", 0.95))) == "" and change_clause(_rate(0.9)) == ""


def test_target_tally():
    metrics = [
        _rate(0.97, Target(">=", 0.95), metric_id="a"),
        _rate(0.882, Target(">=", 0.95), previous=0.89, metric_id="b"),
        _rate(None, Target(">=", 0.95), metric_id="c"),  # no value: not counted
        _rate(0.5, metric_id="d"),  # no target
    ]
    tally = target_tally(metrics)
    assert tally.counts() == "设有目标的指标2项，其中达标1项、未达标1项"
    assert tally.shortfall_list() == (
        "未达标的指标为：办结率为88.2%，未达到≥95.0%的目标，较上季度下降0.8个百分点。"
    )
    assert target_tally(metrics[:1]).shortfall_list() == ""


def test_significant_changes():
    up = _rate(0.9, previous=0.88, p_value=0.01)
    flat = _rate(0.9, previous=0.895, p_value=0.6)
    assert significant_changes([("服务态度", flat, up)], "分项") == (
        "从变化看，服务态度满意率较上季度上升2.0个百分点，变化在统计上显著（p<0.05）；"
        "其余变化在统计上不显著。"
    )
    assert significant_changes([("服务态度", flat, None)], "分项") == (
        "与上季度相比，各分项得分和满意率的变化在统计上均不显著。"
    )
    assert significant_changes([("服务态度", _rate(0.9), None)], "分项") == ""
