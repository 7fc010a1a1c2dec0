"""Complaint metrics (dataset ``complaints``): see the Complaints table of ``spec/metrics.md``.

``complaints(complaints, th, cal, period, *, tickets_total)`` returns a :class:`Measure`
for every ``complaints.*`` id of the catalogue, followed by the type breakdowns
``complaints.total.type:<type>`` (count) and ``complaints.share.type:<type>`` (share of all
complaints, a rate) for every type present — the default types of
``schema.COMPLAINT_TYPES`` first, in that order, then other types by descending count,
then name. A type with no complaint this period has no key (empty types are not a key).
``type_comparison`` sets a quarter's types beside last quarter's (the section's table).

Conventions of this module (where the spec leaves a choice):

- Rates: ``Measure.ratio`` (fraction; numerator/denominator counts; n = denominator).
  Counts: ``Measure.count``. The mean: value, n = number of observations, numerator and
  denominator None. No observation / denominator 0 → value None + reason.
- Timestamps are taken to the whole second. **State at period end**: a ``resolved_at`` at
  or after ``period.end`` counts as not resolved (as in the ticket metrics).
- ``per_10k_tickets``: complaints ÷ ``tickets_total`` × 10 000; numerator = complaints,
  denominator = tickets, n = tickets. ``tickets_total`` None (no ticket data) → missing;
  0 → value None with a ``样本为0`` reason.
- ``resolution_rate``: resolved before period end ÷ all complaints.
- ``handling_workdays_mean``: mean of ``cal.working_days_between(received_at, resolved_at)``
  (working-hours time ÷ working hours per day, fractional; workdays incl. make-up days)
  over complaints resolved before period end.
- ``feedback_rate``: ``feedback_given`` true ÷ complaints resolved before period end with
  ``feedback_given`` known.
- ``escalation_rate`` / ``satisfaction_rate``: true ÷ complaints with the flag known.
- ``repeat_rate``: a complaint is a repeat when the same ``customer_id`` has another
  complaint of the same ``type`` with a strictly earlier ``received_at`` at most
  ``repeat_complaint_days`` × 24 h before it (exactly 30 × 24 h is a repeat, + 1 s is not).
  Complaints of the same customer and type received in the same second are not "earlier"
  than one another. Only the complaints of the period are searched. Base = complaints with
  a non-blank ``customer_id`` (a complaint with an empty type is in the base but is never
  a repeat nor makes one).
- A missing frame → every metric missing. A missing column → only the metrics that need
  it (``resolved_at``: resolution rate, handling time, feedback rate; ``type``: the type
  breakdowns and the repeat rate; ``customer_id``: the repeat rate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import (
    REASON_EMPTY,
    area_ids,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.metrics.tickets import (
    by_end,
    combine_codes,
    earlier_within,
    flag,
    key_codes,
    stat,
    timestamps,
)
from selfcheck.period import Period
from selfcheck.schema import COMPLAINT_TYPES
from selfcheck.thresholds import Thresholds

DATASET = "complaints"


def _type_counts(s: pd.Series) -> list[tuple[str, int]]:
    """(type, count) of the types present: default types in schema order, then the others
    by descending count, then name."""
    text = s.astype("string")
    text = text[text.str.strip().ne("").fillna(False)]
    counts = {str(k): int(v) for k, v in text.value_counts(dropna=True).items()}
    known = [(t, counts[t]) for t in COMPLAINT_TYPES if counts.get(t, 0) > 0]
    others = sorted(
        ((t, c) for t, c in counts.items() if t not in COMPLAINT_TYPES),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return known + others


def complaints(
    complaints: pd.DataFrame | None,
    th: Thresholds,
    cal: WorkCalendar,
    period: Period,
    *,
    tickets_total: int | None,
) -> dict[str, Measure]:
    """Every ``complaints.*`` metric of the catalogue, plus the type breakdowns."""
    ids = area_ids(DATASET)
    if complaints is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in ids}

    df = complaints
    cols = df.columns
    n = len(df)
    end = pd.Timestamp(period.end)
    out: dict[str, Measure] = {"complaints.total": Measure.count(n)}
    type_ids: list[str] = []

    def missing(metric_ids: Sequence[str], column: str) -> None:
        reason = reason_no_column(DATASET, column)
        out.update({i: Measure.missing(reason) for i in metric_ids})

    def first_absent(*columns: str) -> str | None:
        return next((c for c in columns if c not in cols), None)

    # -- types ----------------------------------------------------------------
    if "type" in cols:
        counts = _type_counts(df["type"])
        for t, count in counts:
            type_ids.append(f"complaints.total.type:{t}")
            out[f"complaints.total.type:{t}"] = Measure.count(count)
        for t, count in counts:
            type_ids.append(f"complaints.share.type:{t}")
            out[f"complaints.share.type:{t}"] = Measure.ratio(
                count, n, empty_reason=f"{REASON_EMPTY}：本期无投诉"
            )

    # -- per 10 000 tickets ------------------------------------------------------
    if tickets_total is None:
        out["complaints.per_10k_tickets"] = Measure.missing(reason_no_dataset("tickets"))
    elif tickets_total == 0:
        out["complaints.per_10k_tickets"] = Measure(
            None, float(n), 0.0, 0, f"{REASON_EMPTY}：本期无工单"
        )
    else:
        out["complaints.per_10k_tickets"] = Measure(
            n / tickets_total * 10_000, float(n), float(tickets_total), int(tickets_total)
        )

    # -- resolution ----------------------------------------------------------------
    resolved_ids = (
        "complaints.resolution_rate",
        "complaints.handling_workdays_mean",
        "complaints.feedback_rate",
    )
    if "resolved_at" not in cols:
        missing(resolved_ids, "resolved_at")
    else:
        resolved_at = by_end(df["resolved_at"], end)
        resolved = resolved_at.notna().to_numpy(dtype=bool)
        out["complaints.resolution_rate"] = Measure.ratio(
            int(resolved.sum()), n, empty_reason=f"{REASON_EMPTY}：本期无投诉"
        )
        if "received_at" not in cols:
            missing(["complaints.handling_workdays_mean"], "received_at")
        else:
            received = timestamps(df["received_at"])
            days = cal.working_days_between(received, resolved_at)
            out["complaints.handling_workdays_mean"] = stat(
                days[~np.isnan(days)], "mean", f"{REASON_EMPTY}：无期末前已办结的投诉"
            )
        if "feedback_given" not in cols:
            missing(["complaints.feedback_rate"], "feedback_given")
        else:
            given, known = flag(df["feedback_given"])
            base = resolved & known
            out["complaints.feedback_rate"] = Measure.ratio(
                int((base & given).sum()),
                int(base.sum()),
                empty_reason=f"{REASON_EMPTY}：无“已反馈改进”已填写的已办结投诉",
            )

    # -- flag rates -------------------------------------------------------------------
    for metric_id, column, zh in (
        ("complaints.escalation_rate", "escalated", "是否升级"),
        ("complaints.satisfaction_rate", "satisfied", "处理满意"),
    ):
        if column not in cols:
            missing([metric_id], column)
            continue
        true, known = flag(df[column])
        out[metric_id] = Measure.ratio(
            int((true & known).sum()),
            int(known.sum()),
            empty_reason=f"{REASON_EMPTY}：无“{zh}”已填写的投诉",
        )

    # -- repeat complaints ----------------------------------------------------------
    need = first_absent("received_at", "customer_id", "type")
    if need:
        missing(["complaints.repeat_rate"], need)
    else:
        customer = key_codes(df["customer_id"])
        codes = combine_codes(customer, key_codes(df["type"]))
        repeat = earlier_within(
            codes, timestamps(df["received_at"]), th.repeat_complaint_days * 86400.0
        )
        out["complaints.repeat_rate"] = Measure.ratio(
            int(repeat.sum()),
            int((customer >= 0).sum()),
            empty_reason=f"{REASON_EMPTY}：无有客户编号的投诉",
        )

    return {i: out[i] for i in (*ids, *type_ids)}


def type_comparison(
    counts: pd.Series,
    total: float,
    previous_counts: pd.Series | None,
    previous_total: float | None,
    previous_shares: pd.Series | None = None,
) -> pd.DataFrame:
    """This quarter's complaint types against last quarter's, one row per type.

    ``counts``: this quarter's count per type (in the order of the metrics, the index is
    the type); ``total``: this quarter's complaints (typed or not); ``previous_counts``: last quarter's (None: not known); ``previous_total``:
    last quarter's complaints (None or 0: no comparison); ``previous_shares``: last
    quarter's shares as already known (e.g. from the history), used where given.

    Rows: the types of this quarter in their order, then those of last quarter without a
    complaint this quarter (count 0). Columns ``count`` and ``share`` (of this quarter's
    complaints), ``previous_count`` (a type absent from a quarter that had complaints
    counts 0 there; NaN without a comparison), ``previous_share`` and ``change`` (share −
    previous share), all float.
    """
    counts = counts.astype("float64")
    earlier = previous_counts.astype("float64") if previous_counts is not None else None
    gone = pd.Index([]) if earlier is None else earlier.index.difference(counts.index, sort=False)
    types = counts.index.append(gone)
    frame = pd.DataFrame(index=pd.Index(types, name="type"))
    frame["count"] = counts.reindex(types).fillna(0.0)
    frame["share"] = frame["count"] / total if total else 0.0
    if previous_total:
        known = earlier.reindex(types) if earlier is not None else pd.Series(np.nan, index=types)
        frame["previous_count"] = known.fillna(0.0)
        derived = frame["previous_count"] / previous_total
    else:
        frame["previous_count"] = np.nan
        derived = pd.Series(np.nan, index=types)
    given = (
        previous_shares.astype("float64").reindex(types)
        if previous_shares is not None
        else pd.Series(np.nan, index=types)
    )
    frame["previous_share"] = given.where(given.notna(), derived)
    frame["change"] = frame["share"] - frame["previous_share"]
    return frame
