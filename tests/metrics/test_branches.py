"""Branches side by side: ranks, status and shortfalls against hand-worked figures."""

from __future__ import annotations

import pandas as pd

from selfcheck.metrics.base import Metric, Target
from selfcheck.metrics.branches import BranchFigures, compared_ids, comparison, shortfalls


def rate(metric_id: str, value: float | None, target: Target, previous: float | None = None):
    return Metric(metric_id, metric_id, "rate", value, target=target, previous=previous)


AT_LEAST = Target(">=", 0.8)
AT_MOST = Target("<=", 0.05)


def branches() -> list[BranchFigures]:
    sl, late = "phone.service_level", "tickets.overdue_rate"
    return [
        BranchFigures(
            "b1", "甲", {sl: rate(sl, 0.82, AT_LEAST, 0.80), late: rate(late, 0.30, AT_MOST)}
        ),
        BranchFigures(
            "b2", "乙", {sl: rate(sl, 0.75, AT_LEAST, 0.78), late: rate(late, 0.04, AT_MOST)}
        ),
        BranchFigures("b3", "丙", {sl: rate(sl, 0.82, AT_LEAST), late: rate(late, 0.06, AT_MOST)}),
        BranchFigures("b4", "丁", {sl: rate(sl, None, AT_LEAST)}),
        BranchFigures("b5", "戊", missing="运行失败"),
    ]


def test_rank_status_and_change_by_hand():
    f = comparison("phone.service_level", branches())
    assert f["branch"].tolist() == ["甲", "乙", "丙", "丁", "戊"]
    # higher is better for >=: 甲 and 丙 share rank 1 (0.82), 乙 is third; 丁 has no value
    assert f["rank"].tolist() == [1, 3, 1, pd.NA, pd.NA]
    assert f["status"].tolist() == ["达标", "未达标", "达标", "无数据", "未纳入"]
    assert f["change"].round(4).tolist()[:2] == [0.02, -0.03]
    assert pd.isna(f["change"][2])
    g = comparison("tickets.overdue_rate", branches())
    assert g["rank"].tolist()[:3] == [3, 1, 2]  # lower is better for <=


def test_shortfalls_most_serious_first():
    ids = ["phone.service_level", "tickets.overdue_rate"]
    s = shortfalls(branches(), ids)
    # 甲: overdue 0.30 against ≤5%: relative gap (0.30-0.05)/0.05 = 5 → 严重;
    # 乙: service level 0.75 against ≥80%: (0.80-0.75)/(1-0.80) = 0.25 → 较重;
    # 丙: overdue 0.06: (0.06-0.05)/0.05 = 0.2 → 较重; 丁 none; 戊 left out
    assert [x.branch for x in s] == ["甲", "乙", "丙", "丁"]
    assert [len(x.short) for x in s] == [1, 1, 1, 0]
    assert [len(x.serious) for x in s] == [1, 0, 0, 0]
    assert s[0].worst.metric_id == "tickets.overdue_rate"


def test_compared_ids_are_the_group_metrics_with_a_target():
    group = [
        rate("phone.service_level", 0.8, AT_LEAST),
        Metric("phone.calls", "来电量", "count", 10.0),
        rate("qa.score_mean.agent:华东分公司/KF001", 0.9, AT_LEAST),
    ]
    assert compared_ids(group) == ["phone.service_level"]
