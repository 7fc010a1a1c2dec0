"""Turn measures into metrics: attach names, units, targets, history and sampling statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfcheck.config import Standards
from selfcheck.metrics import stats
from selfcheck.metrics.base import Measure, Metric
from selfcheck.metrics.catalogue import lookup
from selfcheck.schema import AREA_ZH, CHANNEL_ZH, DATASETS, LEVEL_ZH, ROLE_ZH, VISIT_KIND_ZH

_DIMENSIONS = ("attitude", "speed", "expertise", "resolution", "value", "professionalism",
               "compliance", "experience")  # fmt: skip
_KEY_ZH = {
    **AREA_ZH,
    **CHANNEL_ZH,
    **LEVEL_ZH,
    **ROLE_ZH,
    **VISIT_KIND_ZH,
    **{d: c.zh for spec in ("surveys", "qa_reviews") for c in DATASETS[spec].columns
       for d in _DIMENSIONS if c.name == d},
}  # fmt: skip
SCORE_BOUNDS = (0.0, 100.0)  # indexes and quality scores live on 0–100


def display_name(metric_id: str) -> str:
    """The metric's Chinese name; a breakdown adds its key (``紧急到场超时率·城市核心区``)."""
    base = lookup(metric_id).full_name
    if ":" in metric_id:
        key = metric_id.rsplit(":", 1)[1]
        return f"{base}·{_KEY_ZH.get(key, key)}"
    return base


def sampling_statistics(
    current: Measure, previous: Measure | None, unit: str, min_sample: int
) -> dict:
    """Interval, small-sample mark and p-value of the change for a sampled measure."""
    if not current.sampled or current.value is None:
        return {}
    out: dict = {"small_sample": (current.n or 0) < min_sample}
    rate = unit == "rate" and current.numerator is not None and current.denominator is not None
    if rate:
        ci = stats.wilson(current.numerator, current.denominator)  # type: ignore[arg-type]
    else:
        ci = stats.mean_interval(current.value, current.sd, current.n or 0)
        if ci is not None and unit == "score":  # a t interval must not leave the 0–100 scale
            ci = (max(ci[0], SCORE_BOUNDS[0]), min(ci[1], SCORE_BOUNDS[1]))
    if ci is not None:
        out["ci_low"], out["ci_high"] = ci
    if previous is not None and previous.value is not None:
        if rate and previous.numerator is not None and previous.denominator is not None:
            out["p_value"] = stats.two_proportions_p(
                current.numerator,  # type: ignore[arg-type]
                current.denominator,  # type: ignore[arg-type]
                previous.numerator,
                previous.denominator,
            )
        elif not rate:
            out["p_value"] = stats.welch_p(
                current.value,
                current.sd,
                current.n or 0,
                previous.value,
                previous.sd,
                previous.n or 0,
            )
    return out


def evaluate(
    current: Mapping[str, Measure],
    standards: Standards,
    *,
    section: str,
    previous: Mapping[str, Measure] | None = None,
    year_ago: Mapping[str, Measure] | None = None,
    min_sample: int = 30,
    earlier: Sequence[tuple[str, Mapping[str, Measure] | None]] = (),
    period: str | None = None,
) -> list[Metric]:
    """Metrics in the order of ``current``, with targets, QoQ / YoY values and statistics.

    ``earlier`` lists earlier periods (oldest first) for the trend; ``period`` names the
    current one.
    """
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
                sampled=m.sampled,
                sd=m.sd,
                **sampling_statistics(m, prev, d.unit, min_sample),
                trend=_trend(metric_id, m, earlier, period),
            )
        )
    return out


def _trend(
    metric_id: str,
    current: Measure,
    earlier: Sequence[tuple[str, Mapping[str, Measure] | None]],
    period: str | None,
) -> tuple[tuple[str, float | None], ...]:
    if not earlier or period is None:
        return ()
    points = []
    for label, measures in earlier:
        m = measures.get(metric_id) if measures else None
        points.append((label, None if m is None else m.value))
    points.append((period, current.value))
    return tuple(points)
