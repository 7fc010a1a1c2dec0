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
    major = Metric("system.major_incidents", "重大故障次数", "count", 1.0, target=Target("==", 0.0))
    assert fmt.status_phrase(major) == "未达到目标值0"


def test_interval_and_significance():
    s = Metric(
        "s", "满意率", "rate", 0.9, n=1234, sampled=True, ci_low=0.881, ci_high=0.903, p_value=0.01
    )
    assert fmt.interval(s) == "95%置信区间88.1%–90.3%，n=1,234"
    assert fmt.significance_phrase(s) == "变化在统计上显著（p<0.05）"
    idx = Metric(
        "i",
        "满意度综合得分",
        "score",
        86.0,
        n=12,
        sampled=True,
        ci_low=80.04,
        ci_high=91.96,
        small_sample=True,
        p_value=0.4,
    )
    assert fmt.interval(idx) == "95%置信区间80.0–92.0，n=12，样本量不足"
    assert fmt.significance_phrase(idx) == "变化在统计上不显著"
    assert fmt.interval(Metric("x", "x", "rate", 0.5)) == ""


def test_interval_of_a_very_large_sample_keeps_two_bounds():
    big = Metric(
        "q", "质检平均分", "score", 91.2, n=1_000_000, sampled=True, ci_low=91.21, ci_high=91.24
    )
    assert fmt.interval(big) == "95%置信区间91.21–91.24，n=1,000,000"
