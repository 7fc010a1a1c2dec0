"""The conclusion of a checklist item decided by metrics.

Rule (stated in the README): of the item's metrics, those with a value and a target are
assessed. None assessed → no conclusion (the item stays to be inspected by hand, with why);
any assessed metric short of its target → 不符合, with the figures as the description; all
met → 符合. The basis (依据) names every metric with its value and target either way.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from selfcheck import fmt
from selfcheck.checklist.definition import Item
from selfcheck.errors import DataError
from selfcheck.metrics.base import STATUS_MET, STATUS_MISSED, Metric, Target

CONFORM = "符合"
PARTLY = "基本符合"
NONCONFORM = "不符合"
NOT_APPLICABLE = "不适用"
CONCLUSIONS: tuple[str, ...] = (CONFORM, PARTLY, NONCONFORM, NOT_APPLICABLE)


@dataclass(frozen=True)
class Decision:
    conclusion: str | None  # None: the figures cannot decide (no value or no target)
    basis: str  # 依据: each metric with its value and target
    description: str | None  # for 不符合: what fell short


def decide(item: Item, metrics: Mapping[str, Metric]) -> Decision:
    parts: list[str] = []
    short: list[str] = []
    assessed = 0
    for metric_id in item.metrics:
        m = metrics.get(metric_id)
        if m is None:
            parts.append(f"{metric_id} 本期未计算")
            continue
        shown = f"{m.name} {fmt.value(m.value, m.unit)}"
        if not m.has_value:
            parts.append(f"{m.name} 无数据")
            continue
        if m.target is None:
            parts.append(f"{shown}（无标准）")
            continue
        assessed += 1
        goal = fmt.target(m.target, m.unit)
        parts.append(f"{shown}（目标{goal}，{m.status}）")
        if m.status == STATUS_MISSED:
            short.append(f"{m.name}为{fmt.value(m.value, m.unit)}，未达到目标{goal}")
    basis = "；".join(parts)
    if not assessed:
        return Decision(None, basis + "。指标无法判定，须人工检查", None)
    if short:
        return Decision(NONCONFORM, basis, "；".join(short) + "。")
    return Decision(CONFORM, basis, None)


def read_metrics_csv(path: Path) -> dict[str, Metric]:
    """The figures of a run (``metrics.csv``) as metrics with their targets."""
    out: dict[str, Metric] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                target = None
                if row.get("target") and row.get("comparator"):
                    comparator = row["comparator"].lstrip("'")
                    target = Target(comparator, float(row["target"]))  # type: ignore[arg-type]
                value = float(row["value"]) if row.get("value") else None
                out[row["metric_id"].lstrip("'")] = Metric(
                    row["metric_id"].lstrip("'"), row["name"].lstrip("'"), row["unit"], value,
                    target=target,
                )  # fmt: skip
    except (OSError, KeyError, ValueError) as e:
        raise DataError(
            f"无法读取本期指标 {path}（{e}）。请重新运行 selfcheck run 生成指标后再试。"
            "(cannot read metrics.csv)"
        ) from None
    return out


__all__ = [
    "CONCLUSIONS",
    "CONFORM",
    "NONCONFORM",
    "NOT_APPLICABLE",
    "PARTLY",
    "STATUS_MET",
    "Decision",
    "decide",
    "read_metrics_csv",
]
