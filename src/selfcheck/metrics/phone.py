"""Phone metrics (dataset ``calls``): see the Phone table of ``spec/metrics.md``.

``phone(calls, th)`` returns a :class:`Measure` for every ``phone.*`` id of the catalogue;
``daily_counts``, ``daily_service_level`` and ``queue_distribution`` are the frames of the
sections' tables and charts, by the same rules.

Conventions of this module (where the spec leaves a choice):

- Rates: ``Measure.ratio`` — value is a fraction, numerator/denominator are the counts,
  n = denominator. A denominator of 0 gives value None with reason ``样本为0…``.
- Counts (``phone.calls``, ``phone.offered``): ``Measure.count``.
- Means, percentiles and maxima (``asa``, ``queue_p90``, ``queue_max``, ``aht``): value,
  n = number of observations, numerator and denominator None. With no observation the
  value is None with a reason.
- Durations are the numbers in the ``*_seconds`` columns, compared as given: within ≤,
  late/over >.
- Short abandon: outcome ``abandoned`` with ``queue_seconds`` known and
  < ``short_abandon_seconds`` (exactly 5 s is not short). An abandoned call with an
  empty ``queue_seconds`` is NOT a short abandon: it stays in offered and in the abandon
  numerator.
- Offered = answered + non-short abandoned (``ivr`` and ``busy`` are not offered).
- Service level: answered calls with ``queue_seconds`` known and ≤ ``service_level_seconds``
  ÷ offered; an answered call with empty ``queue_seconds`` counts in the denominator but
  not as answered in time.
- Queue metrics (asa, P90, max) use answered calls with ``queue_seconds`` known; P90 is
  numpy's default linear interpolation. AHT uses answered calls with ``talk_seconds`` known.
- Ring late rate: calls (any outcome) with ``ring_seconds`` > ``ring_limit_seconds``
  ÷ calls with ``ring_seconds`` known. Busy rate: ``busy`` ÷ all calls.
- A missing frame makes every metric missing. A missing ``queue_seconds`` column makes
  the offered-based metrics (offered, answer, abandon, service level) and the queue
  metrics missing: without it short abandons cannot be told apart, and a figure that
  silently includes them would not be the contract's figure. A missing ``ring_seconds``
  or ``talk_seconds`` column affects only its own metric. A missing ``outcome`` column
  (required; should not happen after ingest) makes every metric but ``phone.calls``
  missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import (
    REASON_EMPTY,
    area_ids,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.thresholds import Thresholds

DATASET = "calls"


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _is(s: pd.Series, value: str) -> np.ndarray:
    return s.eq(value).fillna(False).to_numpy(dtype=bool)


def _stat(values: np.ndarray, kind: str, empty_reason: str) -> Measure:
    if values.size == 0:
        return Measure(None, None, None, 0, empty_reason)
    if kind == "mean":
        v = float(np.mean(values))
    elif kind == "p90":
        v = float(np.percentile(values, 90))
    else:
        v = float(np.max(values))
    return Measure(v, None, None, int(values.size))


def _queue_rules(
    answered: np.ndarray, abandoned: np.ndarray, queue: np.ndarray, th: Thresholds
) -> tuple[np.ndarray, np.ndarray]:
    """Abandoned calls that count (not short abandons) and calls answered in time."""
    queue_known = ~np.isnan(queue)
    with np.errstate(invalid="ignore"):
        short = abandoned & queue_known & (queue < th.short_abandon_seconds)
        in_time = answered & queue_known & (queue <= th.service_level_seconds)
    return abandoned & ~short, in_time


def phone(calls: pd.DataFrame | None, th: Thresholds) -> dict[str, Measure]:
    """Every ``phone.*`` metric of the catalogue for one period's calls."""
    ids = area_ids("phone")
    if calls is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in ids}

    out: dict[str, Measure] = {"phone.calls": Measure.count(len(calls))}

    if "outcome" not in calls.columns:
        reason = reason_no_column(DATASET, "outcome")
        out.update({i: Measure.missing(reason) for i in ids if i != "phone.calls"})
        return out

    outcome = calls["outcome"]
    answered = _is(outcome, "answered")
    abandoned = _is(outcome, "abandoned")
    busy = _is(outcome, "busy")
    n_calls = len(calls)

    out["phone.busy_rate"] = Measure.ratio(
        int(busy.sum()), n_calls, empty_reason=f"{REASON_EMPTY}：本期无来电"
    )

    # -- offered-based and queue metrics (need queue_seconds) -------------
    offered_ids = (
        "phone.offered",
        "phone.answer_rate",
        "phone.abandon_rate",
        "phone.service_level",
        "phone.asa_seconds",
        "phone.queue_p90_seconds",
        "phone.queue_max_seconds",
    )
    if "queue_seconds" not in calls.columns:
        reason = reason_no_column(DATASET, "queue_seconds") + "，无法识别短时放弃"
        out.update({i: Measure.missing(reason) for i in offered_ids})
    else:
        queue = _numbers(calls["queue_seconds"])
        queue_known = ~np.isnan(queue)
        counted_abandon, in_time = _queue_rules(answered, abandoned, queue, th)
        n_answered = int(answered.sum())
        n_abandoned = int(counted_abandon.sum())
        offered = n_answered + n_abandoned
        empty = f"{REASON_EMPTY}：本期无请求人工的来电"
        out["phone.offered"] = Measure.count(offered)
        out["phone.answer_rate"] = Measure.ratio(n_answered, offered, empty_reason=empty)
        out["phone.abandon_rate"] = Measure.ratio(n_abandoned, offered, empty_reason=empty)
        out["phone.service_level"] = Measure.ratio(int(in_time.sum()), offered, empty_reason=empty)
        waits = queue[answered & queue_known]
        no_wait = f"{REASON_EMPTY}：无排队时长已知的人工接听来电"
        out["phone.asa_seconds"] = _stat(waits, "mean", no_wait)
        out["phone.queue_p90_seconds"] = _stat(waits, "p90", no_wait)
        out["phone.queue_max_seconds"] = _stat(waits, "max", no_wait)

    # -- rings ------------------------------------------------------------
    if "ring_seconds" not in calls.columns:
        out["phone.ring_late_rate"] = Measure.missing(reason_no_column(DATASET, "ring_seconds"))
    else:
        ring = _numbers(calls["ring_seconds"])
        ring_known = ~np.isnan(ring)
        with np.errstate(invalid="ignore"):
            late = ring_known & (ring > th.ring_limit_seconds)
        out["phone.ring_late_rate"] = Measure.ratio(
            int(late.sum()),
            int(ring_known.sum()),
            empty_reason=f"{REASON_EMPTY}：无振铃时长已知的来电",
        )

    # -- talk time --------------------------------------------------------
    if "talk_seconds" not in calls.columns:
        out["phone.aht_seconds"] = Measure.missing(reason_no_column(DATASET, "talk_seconds"))
    else:
        talk = _numbers(calls["talk_seconds"])
        talks = talk[answered & ~np.isnan(talk)]
        out["phone.aht_seconds"] = _stat(
            talks, "mean", f"{REASON_EMPTY}：无通话时长已知的人工接听来电"
        )

    return {i: out[i] for i in ids}


def daily_counts(calls: pd.DataFrame | None, th: Thresholds) -> pd.DataFrame:
    """Per day of arrival (``day``, midnight; days with a call whose ``arrived_at`` is
    known): ``offered``, ``answered`` and ``within`` (answered in time), by the rules of
    :func:`phone` — summed over any set of days they give that set's ``phone.offered``,
    answer rate (answered ÷ offered) and service level (within ÷ offered). Empty without
    calls, ``outcome``, ``queue_seconds`` or ``arrived_at``."""
    columns = ("offered", "answered", "within")
    if calls is None or not {"outcome", "queue_seconds", "arrived_at"} <= set(calls.columns):
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in columns},
            index=pd.DatetimeIndex([], name="day"),
        )
    answered = _is(calls["outcome"], "answered")
    abandoned = _is(calls["outcome"], "abandoned")
    counted_abandon, in_time = _queue_rules(
        answered, abandoned, _numbers(calls["queue_seconds"]), th
    )
    arrived = pd.to_datetime(calls["arrived_at"])
    if arrived.dt.tz is not None:  # the local day, as the clock on the wall shows it
        arrived = arrived.dt.tz_localize(None)
    days = arrived.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    known = ~np.isnat(days)
    # counted per day with bincount (a groupby over 10M rows takes seconds)
    codes = days[known].astype("int64")
    first = int(codes.min()) if codes.size else 0
    codes -= first
    size = int(codes.max()) + 1 if codes.size else 0
    flags = {"offered": answered | counted_abandon, "answered": answered, "within": in_time}
    counts = {
        c: np.bincount(codes[flags[c][known]], minlength=size).astype("int64") for c in columns
    }
    seen = np.bincount(codes, minlength=size) > 0  # days with a call
    index = pd.DatetimeIndex(
        (np.arange(size, dtype="int64") + first).astype("datetime64[D]")[seen], name="day"
    ).as_unit("ns")
    return pd.DataFrame({c: counts[c][seen] for c in columns}, index=index)


def daily_service_level(calls: pd.DataFrame | None, th: Thresholds) -> pd.DataFrame:
    """``phone.service_level`` per day of arrival: ``offered``, ``within`` (answered in
    time) and ``rate`` (within ÷ offered), indexed by ``day`` (midnight), days without an
    offered call left out. Empty without calls, ``outcome``, ``queue_seconds`` or
    ``arrived_at``."""
    daily = daily_counts(calls, th)[["offered", "within"]]
    daily = daily[daily["offered"] > 0]
    return daily.assign(rate=(daily["within"] / daily["offered"]).astype("float64"))


def queue_distribution(
    calls: pd.DataFrame | None, *, bin_seconds: float = 10.0, cap_seconds: float = 180.0
) -> pd.DataFrame:
    """Queue time of the answered calls (known ``queue_seconds``) in bins of
    ``bin_seconds`` from 0: ``start`` of each bin, ``calls`` and ``share`` (of those
    answered calls). The last bin starts at ``cap_seconds − bin_seconds`` and takes every
    longer wait. Empty without answered calls with a known queue time."""
    columns = {"start": "float64", "calls": "int64", "share": "float64"}
    if calls is None or not {"outcome", "queue_seconds"} <= set(calls.columns):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    q = calls.loc[calls["outcome"] == "answered", "queue_seconds"].dropna().to_numpy()
    if len(q) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    edges = np.arange(0, cap_seconds + bin_seconds, bin_seconds)
    counts, _ = np.histogram(np.minimum(q, cap_seconds + 1), bins=[*edges[:-1], np.inf])
    return pd.DataFrame({"start": edges[:-1], "calls": counts, "share": counts / len(q)})
