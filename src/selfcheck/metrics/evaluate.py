"""Turn measures into metrics: attach names, units, targets and the period's history."""

from __future__ import annotations

from collections.abc import Mapping

from selfcheck.config import Standards
from selfcheck.metrics.base import Measure, Metric
from selfcheck.metrics.catalogue import lookup
from selfcheck.schema import AREA_ZH, CHANNEL_ZH, LEVEL_ZH, ROLE_ZH, VISIT_KIND_ZH

_KEY_ZH = {**AREA_ZH, **CHANNEL_ZH, **LEVEL_ZH, **ROLE_ZH, **VISIT_KIND_ZH}


def display_name(metric_id: str) -> str:
    """The metric's Chinese name; a breakdown adds its key (``紧急到场超时率·城市核心区``)."""
    base = lookup(metric_id).full_name
    if ":" in metric_id:
        key = metric_id.rsplit(":", 1)[1]
        return f"{base}·{_KEY_ZH.get(key, key)}"
    return base


def evaluate(
    current: Mapping[str, Measure],
    standards: Standards,
    *,
    section: str,
    previous: Mapping[str, Measure] | None = None,
    year_ago: Mapping[str, Measure] | None = None,
) -> list[Metric]:
    """Metrics in the order of ``current``, with targets and QoQ / YoY values."""
    out = []
    for metric_id, m in current.items():
        d = lookup(metric_id)
        prev = previous.get(metric_id) if previous else None
        ago = year_ago.get(metric_id) if year_ago else None
        out.append(
            Metric(
                metric_id=metric_id,
                name=display_name(metric_id),
                unit=d.unit,
                value=m.value,
                numerator=m.numerator,
                denominator=m.denominator,
                n=m.n,
                target=standards.target(metric_id),
                reason=m.reason,
                previous=None if prev is None else prev.value,
                year_ago=None if ago is None else ago.value,
                section=section,
            )
        )
    return out
