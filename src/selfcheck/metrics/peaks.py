"""Peak days of a quarter (datasets ``tickets`` and ``calls``), for 业务高峰应对情况.

Conventions (``tickets.peak_ratio`` of :mod:`selfcheck.metrics.tickets` is the headline
figure; these are the frames behind its table and chart):

- Tickets per day: by the calendar day of ``created_at``, every day of the period, days
  without a ticket as 0; tickets without ``created_at`` are on no day.
- A peak day has at least ``factor`` (1.5) × the daily average (tickets ÷ days of the
  period). When no day reaches it, the busiest day (the earliest of equals) is the one
  peak day compared with the others.
- Phone service on peak and other days: the calls of those days (by the calendar day of
  ``arrived_at``; calls on no day of the period are in neither group), each group's
  figures by the phone metrics' own rules (:func:`selfcheck.metrics.phone.daily_counts`,
  summed over the group's days) — offered, answered and answered in time as in
  ``phone.offered``, ``phone.answer_rate`` and ``phone.service_level`` (short abandons
  on neither side).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selfcheck.metrics.phone import daily_counts
from selfcheck.period import Period
from selfcheck.thresholds import Thresholds

PEAK_FACTOR = 1.5
PHONE_COLUMNS = ("arrived_at", "outcome", "queue_seconds")
GROUPS = ("peak", "other", "all")
GROUP_COLUMNS = ("days", "tickets", "offered", "answer_rate", "service_level")


def daily_tickets(tickets: pd.DataFrame, period: Period) -> pd.Series:
    """Tickets per calendar day of the period (by ``created_at``), days without any as 0."""
    days = pd.to_datetime(tickets["created_at"]).dropna().dt.normalize()
    index = pd.date_range(pd.Timestamp(period.first_day), pd.Timestamp(period.last_day), freq="D")
    return days.value_counts().reindex(index, fill_value=0).astype(int)


def reaches_peak(daily: pd.Series, factor: float = PEAK_FACTOR) -> bool:
    """Whether the busiest day has at least ``factor`` × the daily average."""
    return bool(daily.max() >= factor * daily.sum() / len(daily))


def peak_days(daily: pd.Series, factor: float = PEAK_FACTOR) -> pd.Series:
    """Days at or above ``factor`` × the daily average; if none, the busiest day."""
    average = daily.sum() / len(daily)
    peak = daily >= factor * average
    if not peak.any():
        peak = pd.Series(daily.index == daily.idxmax(), index=daily.index)
    return peak


def missing_phone_column(calls: pd.DataFrame) -> str | None:
    """The first column the peak-day phone figures need that ``calls`` lacks (None: none)."""
    return next((c for c in PHONE_COLUMNS if c not in calls.columns), None)


def phone_on_peak_days(
    calls: pd.DataFrame, daily: pd.Series, is_peak: pd.Series, th: Thresholds
) -> pd.DataFrame:
    """One row per group (``peak``, ``other``, ``all`` days of the period): days, tickets
    per day, requests for an agent (offered) per day, answer rate and service level
    (None where a group has no day or no offered call). Needs :data:`PHONE_COLUMNS`."""
    lacking = missing_phone_column(calls)
    if lacking is not None:
        raise KeyError(lacking)
    # per day once, then summed per group: the same counts as phone() over each group's
    # calls, without masking a 10M-row quarter three times
    per_day = daily_counts(calls, th).reindex(daily.index, fill_value=0)
    is_peak_days = is_peak.to_numpy(dtype=bool)
    rows = {}
    for name, sel in (
        ("peak", is_peak_days),
        ("other", ~is_peak_days),
        ("all", np.ones(len(daily), dtype=bool)),
    ):
        days = int(sel.sum())
        counts = per_day[sel].sum()
        offered = int(counts["offered"])
        rows[name] = {
            "days": days,
            "tickets": float(daily[sel].sum()) / days if days else None,
            "offered": offered / days if days else None,
            "answer_rate": int(counts["answered"]) / offered if offered else None,
            "service_level": int(counts["within"]) / offered if offered else None,
        }
    return pd.DataFrame.from_dict(rows, orient="index").reindex(list(GROUPS))[list(GROUP_COLUMNS)]
