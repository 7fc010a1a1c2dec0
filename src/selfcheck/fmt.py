"""Formatting of figures for tables and narrative (Chinese report conventions).

Rates are fractions in data and percentages with one decimal in text; changes of
rates are in percentage points (个百分点); counts carry thousands separators.
"""

from __future__ import annotations

import math
from datetime import date

from selfcheck.metrics.base import UNITS, Metric, Target

DASH = "—"
_DECIMALS = {
    "count": 0,
    "seconds": 1,
    "minutes": 1,
    "hours": 1,
    "days": 1,
    "workdays": 1,
    "years": 1,
    "score": 1,
    "ratio": 2,
    "nps": 1,
    "per10k": 1,
    "mean": 2,
}


def decimals(unit: str) -> int:
    """The decimals a value in ``unit`` is written with (rates: as a percentage)."""
    return _DECIMALS.get(unit, 1)


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def number(v: float | None, decimals: int = 1) -> str:
    if _missing(v):
        return DASH
    return f"{v:,.{decimals}f}"


def percent(v: float | None, decimals: int = 1) -> str:
    if _missing(v):
        return DASH
    return f"{v * 100:.{decimals}f}%"


def value(v: float | None, unit: str, *, with_unit: bool = True) -> str:
    """A metric value in its unit: ``95.3%``, ``12,345``, ``28.4秒``."""
    if _missing(v):
        return DASH
    if unit == "rate":
        return percent(v)
    text = number(v, _DECIMALS.get(unit, 1))
    return text + (UNITS.get(unit, "") if with_unit else "")


def target(t: Target | None, unit: str) -> str:
    """``≥95.0%``, ``≤30.0秒``."""
    if t is None:
        return DASH
    return t.symbol() + value(t.value, unit)


def delta(d: float | None, unit: str) -> str:
    """Signed change: ``+1.2个百分点`` for rates, ``-3.5秒`` otherwise; ``0.0`` when flat."""
    if _missing(d):
        return DASH
    if unit == "rate":
        shown, decimals, suffix = d * 100, 1, "个百分点"
    else:
        shown, decimals, suffix = d, _DECIMALS.get(unit, 1), UNITS.get(unit, "")
    if round(shown, decimals) == 0:
        return f"{0:.{decimals}f}{suffix}"  # flat: no sign, never "-0.0"
    return f"{shown:+,.{decimals}f}{suffix}"


def change_phrase(m: Metric, *, versus: str = "上季度") -> str:
    """``较上季度上升1.2个百分点``, ``较上季度缩短3.5秒``, ``与上季度持平``; '' without history."""
    d = m.delta if versus == "上季度" else m.delta_year
    if d is None:
        return ""
    shown = abs(d) * 100 if m.unit == "rate" else abs(d)
    decimals = 1 if m.unit == "rate" else _DECIMALS.get(m.unit, 1)
    if round(shown, decimals) == 0:
        return f"与{versus}持平"
    if m.unit in ("seconds", "minutes", "hours", "days", "workdays"):
        word = "延长" if d > 0 else "缩短"
    else:
        word = "上升" if d > 0 else "下降"
    if m.unit == "rate":
        amount = f"{shown:.1f}个百分点"
    else:
        amount = f"{shown:,.{decimals}f}{UNITS.get(m.unit, '')}"
    return f"较{versus}{word}{amount}"


def status_phrase(m: Metric) -> str:
    """``达到≥95.0%的目标`` / ``未达到≤5.0%的目标`` / '' (no target or no data)."""
    if not m.has_value or m.target is None:
        return ""
    word = "达到" if m.status == "达标" else "未达到"
    if m.target.comparator == "==":  # e.g. 重大故障次数 = 0
        return f"{word}目标值{value(m.target.value, m.unit)}"
    return f"{word}{target(m.target, m.unit)}的目标"


def date_zh(d: date) -> str:
    """``2026年10月1日`` (portable: no platform-specific strftime flags)."""
    return f"{d.year}年{d.month}月{d.day}日"


def interval(m: Metric) -> str:
    """``95%置信区间88.1%–90.3%，n=1,234`` for a sampled metric; adds 样本量不足 below the minimum."""
    if not m.sampled or not m.has_value:
        return ""
    parts = []
    if m.ci_low is not None and m.ci_high is not None:
        lo = value(m.ci_low, m.unit, with_unit=m.unit == "rate")
        hi = value(m.ci_high, m.unit, with_unit=m.unit == "rate")
        if lo == hi:  # a very large sample: show one more decimal rather than "91.2–91.2"
            scale, suffix = (100, "%") if m.unit == "rate" else (1, "")
            lo, hi = f"{m.ci_low * scale:.2f}{suffix}", f"{m.ci_high * scale:.2f}{suffix}"
        parts.append(f"95%置信区间{lo}–{hi}")
    if m.n is not None:
        parts.append(f"n={m.n:,}")
    if m.small_sample:
        parts.append("样本量不足")
    return "，".join(parts)


def significance_phrase(m: Metric) -> str:
    """``变化在统计上显著`` / ``变化在统计上不显著`` / '' when the change was not tested."""
    if m.significant is None:
        return ""
    return "变化在统计上显著（p<0.05）" if m.significant else "变化在统计上不显著"
