from selfcheck import fmt
from selfcheck.metrics.base import Metric, Target


def m(value, unit="rate", previous=None, target=None, year_ago=None):
    return Metric(
        "x", "45秒接通率", unit, value, target=target, previous=previous, year_ago=year_ago
    )


def test_values():
    assert fmt.value(0.9534, "rate") == "95.3%"
    assert fmt.value(12345, "count") == "12,345"
    assert fmt.value(28.44, "seconds") == "28.4秒"
    assert fmt.value(None, "rate") == "—"
    assert fmt.value(float("nan"), "seconds") == "—"
    assert fmt.target(Target(">=", 0.8), "rate") == "≥80.0%"
    assert fmt.target(Target("<=", 30), "seconds") == "≤30.0秒"
    assert fmt.delta(0.0123, "rate") == "+1.2个百分点"
    assert fmt.delta(-3.46, "seconds") == "-3.5秒"
    assert fmt.delta(-0.00001, "rate") == "0.0个百分点"
    assert fmt.delta(0.0, "count") == "0"
    assert fmt.date_zh(__import__("datetime").date(2026, 10, 5)) == "2026年10月5日"


def test_change_phrases():
    assert fmt.change_phrase(m(0.762, previous=0.773)) == "较上季度下降1.1个百分点"
    assert fmt.change_phrase(m(0.80, previous=0.7996)) == "与上季度持平"
    assert fmt.change_phrase(m(31.0, "seconds", previous=28.5)) == "较上季度延长2.5秒"
    assert (
        fmt.change_phrase(m(0.9, year_ago=0.85), versus="上年同期") == "较上年同期上升5.0个百分点"
    )
    assert fmt.change_phrase(m(0.9)) == ""


def test_status_phrase():
    assert fmt.status_phrase(m(0.762, target=Target(">=", 0.8))) == "未达到≥80.0%的目标"
    assert fmt.status_phrase(m(0.85, target=Target(">=", 0.8))) == "达到≥80.0%的目标"
    assert fmt.status_phrase(m(0.85)) == ""
