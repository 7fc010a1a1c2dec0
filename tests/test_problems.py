import pytest

from selfcheck.analyst import AnalystProblem
from selfcheck.metrics.base import Metric, Target
from selfcheck.problems import find_problems, gap, relative_gap, trend


def m(mid, value, comp, target, unit="rate", previous=None):
    return Metric(mid, mid, unit, value, target=Target(comp, target), previous=previous)


def test_gap_and_relative_gap_by_hand():
    sl = m("phone.service_level", 0.756, ">=", 0.80)
    assert gap(sl) == pytest.approx(0.044)
    assert relative_gap(sl) == pytest.approx(0.044 / 0.20)  # allowance 1 - 0.8
    crit = m("qa.critical_error_rate", 0.015, "<=", 0.01)
    assert relative_gap(crit) == pytest.approx(0.005 / 0.05)  # allowance floored at 5 pp
    asa = m("phone.asa_seconds", 36.0, "<=", 30.0, unit="seconds")
    assert relative_gap(asa) == pytest.approx(0.2)
    major = m("system.major_incidents", 2.0, "==", 0.0, unit="count")
    assert relative_gap(major) == 2.0


def test_trend():
    assert trend(m("a", 0.75, ">=", 0.8, previous=0.77)) == "恶化"
    assert trend(m("a", 0.78, ">=", 0.8, previous=0.77)) == "改善"
    assert trend(m("a", 0.77, ">=", 0.8, previous=0.7702)) == "持平"  # within 0.05 pp
    assert trend(m("a", 0.77, ">=", 0.8, previous=0.85)) == "新出现"
    assert trend(m("a", 0.77, ">=", 0.8)) == "—"


def test_ranking_levels_and_analyst_problems():
    metrics = [
        m("phone.service_level", 0.756, ">=", 0.80, previous=0.77),  # 0.22 × 1.2 = 0.264 较重
        m("online.offhours_timeout_rate", 0.083, "<=", 0.05, previous=0.079),  # 0.66 × 1.2 → 严重
        m("qa.critical_error_rate", 0.015, "<=", 0.01),  # 0.1 一般
        m("phone.answer_rate", 0.97, ">=", 0.95),  # met: not a problem
        Metric("visits.emergency_late_rate.area:core", "x", "rate", 0.2),  # breakdown: never
    ]
    analyst = [
        AnalystProblem(title="知识库更新滞后", description="部分话术未更新。", severity="较重")
    ]
    problems = find_problems(metrics, analyst)
    assert [p.key for p in problems] == [
        "online.offhours_timeout_rate",
        "知识库更新滞后",
        "phone.service_level",
        "qa.critical_error_rate",
    ]
    assert [p.level for p in problems] == ["严重", "较重", "较重", "一般"]
    assert problems[0].severity == pytest.approx(min(0.033 / 0.05, 1) * 1.2)
    assert problems[2].description.startswith(
        "phone.service_level为75.6%，未达到≥80.0%的目标，差距4.4个百分点"
    )
    assert problems[1].source == "分析人员"
