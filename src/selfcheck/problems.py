"""Problems: every metric that falls short of its target, plus the analyst's own, ranked.

Severity is the size of the gap relative to what the target allows, adjusted by
the trend:

- a rate with a "≥ t" target allows a failure share of 1 − t, a "≤ t" rate allows
  t; the gap is divided by that allowance (at least 5 percentage points), so
  75.6 % against ≥ 80 % (allowance 20 pp, gap 4.4 pp) scores 0.22 and 1.5 %
  against ≤ 1 % scores 0.5/5 → 0.1;
- any other metric: the gap divided by the target's magnitude (a "= 0" target:
  the gap itself);
- the score is capped at 1; a shortfall that worsened on last quarter (moved
  further from the target) weighs ×1.2, a new one (met last quarter) ×1.1, one
  that improved ×0.85;
- levels: ≥ 0.5 严重, ≥ 0.15 较重, else 一般. Analyst problems carry their own
  level (严重 0.75, 较重 0.3, 一般 0.1 for ranking), and so do the checklist's findings
  (the item's severity for 不符合, one level lower for 基本符合; items decided by metrics
  are left to their metrics' shortfalls, never counted twice).

A dataset the parameters expect (``scope.expected``) but the data folder lacks is a
problem too (source 数据缺口, level 较重, key ``scope.<dataset>``): what it would have
shown cannot be checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from selfcheck import fmt
from selfcheck.analyst import AnalystProblem
from selfcheck.metrics.base import STATUS_MISSED, Metric
from selfcheck.schema import DATASETS
from selfcheck.scope import GAP_KEY_PREFIX, ScopeEntry

MIN_ALLOWANCE = 0.05
LEVEL_SCORE = {"严重": 0.75, "较重": 0.3, "一般": 0.1}
GAP_LEVEL = "较重"
SOURCE_METRIC, SOURCE_ANALYST, SOURCE_GAP = "指标", "分析人员", "数据缺口"
SOURCE_INSPECTION = "自查检查"


@dataclass(frozen=True)
class Problem:
    key: str  # metric id, or the analyst problem's title
    title: str
    description: str
    severity: float
    level: str
    trend: str  # 恶化 / 改善 / 持平 / 新出现 / —
    metric: Metric | None = None
    gap: float | None = None  # how far from the target, in the metric's unit (positive)
    source: str = SOURCE_METRIC  # 指标 / 分析人员 / 数据缺口 / 自查检查


def gap(m: Metric) -> float:
    """Distance from the target in the metric's unit (positive when short of it)."""
    assert m.target is not None and m.value is not None
    v, t = float(m.value), m.target.value
    if m.target.comparator == ">=":
        return t - v
    if m.target.comparator == "<=":
        return v - t
    return abs(v - t)


def relative_gap(m: Metric) -> float:
    g = gap(m)
    t = m.target.value  # type: ignore[union-attr]
    if m.unit == "rate" and m.target.comparator in (">=", "<="):  # type: ignore[union-attr]
        allowance = 1 - t if m.target.comparator == ">=" else t  # type: ignore[union-attr]
        return g / max(allowance, MIN_ALLOWANCE)
    return g / abs(t) if t else g


def trend(m: Metric) -> str:
    if m.previous is None or m.target is None:
        return "—"
    prev_met = m.target.met(float(m.previous))
    if prev_met:
        return "新出现"
    before = gap(Metric(m.metric_id, m.name, m.unit, m.previous, target=m.target))
    now = gap(m)
    scale = 0.0005 if m.unit == "rate" else 1e-9
    if now > before + scale:
        return "恶化"
    if now < before - scale:
        return "改善"
    return "持平"


_TREND_FACTOR = {"恶化": 1.2, "新出现": 1.1, "改善": 0.85}


def level_of(score: float) -> str:
    if score >= 0.5:
        return "严重"
    if score >= 0.15:
        return "较重"
    return "一般"


def describe(m: Metric) -> str:
    """``45秒接通率为75.6%，未达到≥80.0%的目标，差距4.4个百分点，较上季度下降1.4个百分点``."""
    parts = [
        f"{m.name}为{fmt.value(m.value, m.unit)}",
        fmt.status_phrase(m),
        f"差距{fmt.delta(gap(m), m.unit).lstrip('+')}",
    ]
    change = fmt.change_phrase(m)
    if change:
        parts.append(change)
    year = fmt.change_phrase(m, versus="上年同期")
    if year:
        parts.append(year)
    return "，".join(parts)


def gap_problem(gap: ScopeEntry) -> Problem:
    """``未提供工单数据``: an expected dataset missing from the data folder."""
    zh = DATASETS[gap.dataset].zh
    return Problem(
        key=f"{GAP_KEY_PREFIX}{gap.dataset}",
        title=f"未提供{zh}数据",
        description=(
            f"参数文件要求提供{zh}数据（{gap.dataset}，scope.expected），本期数据目录中没有该文件，"
            f"{gap.area}方面的指标和内容未能纳入自查，须补齐数据后重新运行"
        ),
        severity=LEVEL_SCORE[GAP_LEVEL],
        level=GAP_LEVEL,
        trend="—",
        source=SOURCE_GAP,
    )


@dataclass(frozen=True)
class InspectionFinding:
    """An item of the self-inspection checklist found 不符合 or 基本符合 by an inspector."""

    item_id: str
    topic: str
    check: str
    conclusion: str
    description: str
    level: str  # the item's severity (基本符合: one level lower)


def find_problems(
    metrics: Iterable[Metric],
    analyst: Sequence[AnalystProblem] = (),
    gaps: Sequence[ScopeEntry] = (),
    inspection: Sequence[InspectionFinding] = (),
) -> list[Problem]:
    """Every shortfall (breakdown rows excluded: they carry no target), the analyst's
    problems, the expected datasets that are missing (``gaps``) and the checklist's
    findings (``inspection``), most severe first."""
    out = []
    for m in metrics:
        if m.status != STATUS_MISSED or ":" in m.metric_id:
            continue
        t = trend(m)
        score = min(relative_gap(m), 1.0) * _TREND_FACTOR.get(t, 1.0)
        out.append(
            Problem(
                key=m.metric_id,
                title=f"{m.name}未达标",
                description=describe(m),
                severity=round(score, 6),
                level=level_of(score),
                trend=t,
                metric=m,
                gap=gap(m),
            )
        )
    for p in analyst:
        out.append(
            Problem(
                key=p.title,
                title=p.title,
                description=p.description,
                severity=LEVEL_SCORE[p.severity],
                level=p.severity,
                trend="—",
                source=SOURCE_ANALYST,
            )
        )
    out.extend(gap_problem(g) for g in gaps)
    for f in inspection:
        out.append(
            Problem(
                key=f.item_id,
                title=f"{f.topic}检查{f.conclusion}",
                description=f"{f.description.rstrip('。')}（检查项 {f.item_id}：{f.check}）",
                severity=LEVEL_SCORE[f.level],
                level=f.level,
                trend="—",
                source=SOURCE_INSPECTION,
            )
        )
    return sorted(out, key=lambda p: (-p.severity, p.source != "指标", p.key))
