"""Metric: one figure of the catalogue for one period, with its target and status."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

Comparator = Literal[">=", "<=", "=="]

STATUS_MET = "达标"
STATUS_MISSED = "未达标"
STATUS_NO_DATA = "无数据"
STATUS_NO_TARGET = "无标准"

# Units: how a value is stored (``value``) and shown in the report.
#   rate     fraction in value (0.953), shown "95.3%"
#   count    whole number, shown with thousands separators
#   seconds / minutes / hours / days / years / score / ratio / nps / per10k: plain numbers
UNITS = {
    "rate": "%",
    "count": "",
    "seconds": "秒",
    "minutes": "分钟",
    "hours": "小时",
    "days": "天",
    "workdays": "个工作日",
    "years": "年",
    "score": "分",
    "ratio": "倍",
    "nps": "",
    "per10k": "件/万单",
    "mean": "",
}


@dataclass(frozen=True)
class Target:
    comparator: Comparator
    value: float

    def met(self, value: float) -> bool:
        # Rates are compared on the fraction; a tolerance absorbs float noise only.
        eps = 1e-12
        if self.comparator == ">=":
            return value >= self.value - eps
        if self.comparator == "<=":
            return value <= self.value + eps
        return abs(value - self.value) <= eps

    def symbol(self) -> str:
        return {">=": "≥", "<=": "≤", "==": "="}[self.comparator]


@dataclass(frozen=True)
class Measure:
    """What a metric function computes: the raw figure before targets are attached."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int | None = None
    reason: str | None = None  # why there is no value (shown as 无数据 with this reason)
    sampled: bool = False  # a sampled measure (surveys, quality inspection): intervals and tests
    sd: float | None = None  # sample standard deviation (ddof=1) of a mean, for its interval/test

    @classmethod
    def ratio(cls, numerator: float, denominator: float, *, empty_reason: str) -> Measure:
        numerator, denominator = float(numerator), float(denominator)
        if denominator == 0:
            return cls(None, numerator, denominator, 0, empty_reason)
        return cls(numerator / denominator, numerator, denominator, int(denominator))

    @classmethod
    def count(cls, n: float) -> Measure:
        return cls(float(n), None, None, int(n))

    @classmethod
    def missing(cls, reason: str) -> Measure:
        return cls(None, None, None, 0, reason)


@dataclass(frozen=True)
class Metric:
    """A metric of one period as written to ``metrics.csv`` and shown in the report."""

    metric_id: str
    name: str
    unit: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    n: int | None = None
    target: Target | None = None
    reason: str | None = None
    previous: float | None = None  # same metric, quarter before (环比)
    year_ago: float | None = None  # same quarter a year earlier (同比)
    section: str | None = None
    sampled: bool = False
    sd: float | None = None
    ci_low: float | None = None  # 95 % interval (Wilson for rates, t for means)
    ci_high: float | None = None
    small_sample: bool = False  # n below min_sample: marked 样本量不足
    p_value: float | None = None  # change against the previous quarter (two proportions / Welch)
    trend: tuple[tuple[str, float | None], ...] = ()  # (period, value), oldest first, this one last

    @property
    def has_value(self) -> bool:
        return self.value is not None and not math.isnan(self.value)

    @property
    def status(self) -> str:
        if not self.has_value:
            return STATUS_NO_DATA
        if self.target is None:
            return STATUS_NO_TARGET
        return STATUS_MET if self.target.met(float(self.value)) else STATUS_MISSED  # type: ignore[arg-type]

    @property
    def delta(self) -> float | None:
        if not self.has_value or self.previous is None or math.isnan(self.previous):
            return None
        return float(self.value) - float(self.previous)  # type: ignore[arg-type]

    @property
    def delta_year(self) -> float | None:
        if not self.has_value or self.year_ago is None or math.isnan(self.year_ago):
            return None
        return float(self.value) - float(self.year_ago)  # type: ignore[arg-type]

    @property
    def significant(self) -> bool | None:
        """Whether the change on last quarter is significant at 5 % (None: not tested)."""
        return None if self.p_value is None else self.p_value < 0.05

    def with_history(self, previous: float | None, year_ago: float | None) -> Metric:
        return replace(self, previous=previous, year_ago=year_ago)

    def to_dict(self) -> dict:
        return {
            "metric_id": self.metric_id,
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "n": self.n,
            "target": None
            if self.target is None
            else {"comparator": self.target.comparator, "value": self.target.value},
            "reason": self.reason,
            "previous": self.previous,
            "year_ago": self.year_ago,
            "section": self.section,
            "sampled": self.sampled,
            "sd": self.sd,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "small_sample": self.small_sample,
            "p_value": self.p_value,
            "trend": [list(t) for t in self.trend],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Metric:
        t = d.get("target")
        return cls(
            metric_id=d["metric_id"],
            name=d["name"],
            unit=d["unit"],
            value=d.get("value"),
            numerator=d.get("numerator"),
            denominator=d.get("denominator"),
            n=d.get("n"),
            target=None if t is None else Target(t["comparator"], float(t["value"])),
            reason=d.get("reason"),
            previous=d.get("previous"),
            year_ago=d.get("year_ago"),
            section=d.get("section"),
            sampled=d.get("sampled", False),
            sd=d.get("sd"),
            ci_low=d.get("ci_low"),
            ci_high=d.get("ci_high"),
            small_sample=d.get("small_sample", False),
            p_value=d.get("p_value"),
            trend=tuple((str(p), v) for p, v in d.get("trend", [])),
        )
