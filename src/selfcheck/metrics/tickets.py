"""Ticket metrics (dataset ``tickets``): see the Tickets table of ``spec/metrics.md``.

``tickets(tickets, th, cal, period)`` returns a :class:`Measure` for every ``tickets.*`` id
of the catalogue, followed by the breakdowns:

- ``tickets.total.channel:<channel>`` for every channel of ``schema.CHANNELS`` and
  ``tickets.total.level:<level>`` for every level of ``schema.LEVELS`` — always every key,
  in schema order, a count of 0 included (stable rows from quarter to quarter);
- ``tickets.total.category:<category>`` for every category present, by descending count
  then name in Unicode order (empty categories are not a key; without a ``category``
  column, no key);
- ``tickets.backlog.age:<bucket>`` for the buckets of :data:`AGE_BUCKETS`, always all four.

Conventions of this module (where the spec leaves a choice):

- Rates: ``Measure.ratio`` (fraction; numerator/denominator counts; n = denominator).
  Counts: ``Measure.count``. Medians and the mean: value, n = number of observations,
  numerator and denominator None. No observation / denominator 0 → value None + reason.
- Timestamps are taken to the whole second before use; durations are compared with the
  limits in seconds (within ≤, late >), so exactly 2 h 0 s is within 2 h.
- **State at period end.** The report describes the state at ``period.end`` (the first
  instant after the quarter). Every "done" timestamp — ``first_response_at``,
  ``resolved_at``, ``plan_at``, ``closed_at``, ``archived_at`` — at or after
  ``period.end`` counts as not (yet) done at period end, everywhere in this module: SLA,
  backlog, the medians, the reopen base and the archive metric.
- SLA: done = ``resolved_at`` for L1 and L2; ``plan_at``, else ``resolved_at``, for L3
  (without a ``plan_at`` column every L3 ticket uses ``resolved_at``). Limit =
  ``th.sla_hours.<level>`` hours. Elapsed time is calendar time (``sla_clock`` =
  ``calendar``) or working-hours time (``business``: ``cal.working_seconds_between``,
  workdays incl. make-up workdays, ``work_start``–``work_end``). *Met*: done by period end
  with elapsed ≤ limit. *Breached*: done by period end with elapsed > limit, or not done at
  period end with the limit already passed (elapsed from ``created_at`` to ``period.end``
  > limit). *Pending*: not done at period end and the limit not passed (exactly at the
  limit at period end is pending) — left out of both sides. Rate = met ÷ (met + breached).
  Tickets with an empty or unknown level are in no SLA rate.
- Backlog: tickets not done at period end (L3: neither planned nor resolved; every other
  level: not resolved). Ageing by ``period.end − created_at`` in calendar time:
  ``≤1天`` (≤ 24 h), ``1-3天`` (> 24 h, ≤ 72 h), ``3-7天`` (> 72 h, ≤ 168 h), ``>7天``.
- Medians: first response = ``first_response_at − created_at`` in minutes, resolution =
  ``resolved_at − created_at`` in hours, over tickets with that timestamp before period end
  (numpy median, calendar time).
- ``reopen_rate``: ``reopened`` true ÷ tickets resolved before period end (an empty
  ``reopened`` counts in the base as not reopened).
- ``archive_late_rate``: base = tickets closed or resolved before period end; reference =
  ``closed_at`` if closed before period end, else ``resolved_at``. Late = archived before
  period end more than ``archive_limit_hours`` after the reference, or not archived at
  period end with the limit already passed at period end. Not archived at period end
  with the limit not yet passed is pending and left out of both sides. Without a
  ``closed_at`` column the reference is ``resolved_at`` (and vice versa).
- ``repeat_contact_rate``: a ticket is a repeat when the same ``customer_id`` has another
  ticket (any channel) with a strictly earlier ``created_at`` at most
  ``repeat_window_days`` × 24 h before it (exactly 7 × 24 h is a repeat, 7 × 24 h + 1 s is
  not). Tickets of the same customer created in the same second are not "earlier" than
  one another: neither makes the other a repeat. Only the tickets of the period are
  searched (a contact in the previous quarter is not seen). Base = tickets with a
  non-blank ``customer_id``.
- ``peak_ratio``: tickets of the busiest calendar day (by ``created_at``) ÷ (tickets ÷
  ``period.days``); numerator = busiest day's tickets, denominator = tickets per day,
  n = tickets.
- ``handoffs_mean``: mean of ``handoffs`` over tickets with it known. Flag rates (bot
  resolution, transfer, escalation): true ÷ tickets with the flag known.
- A missing frame → every metric missing (the fixed breakdown keys too). A missing
  column → only the metrics that need it: ``resolved_at`` for SLA, backlog, resolution
  median, reopen rate; ``level`` for SLA, backlog and the level breakdown;
  ``created_at`` for everything timed; ``archived_at`` (or both ``closed_at`` and
  ``resolved_at``) for the archive rate; ``customer_id`` for the repeat rate.

Everything is vectorised; the business clock evaluates the calendar once per distinct day.
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
from selfcheck.period import Period
from selfcheck.schema import CHANNELS, LEVELS
from selfcheck.thresholds import Thresholds

DATASET = "tickets"

AGE_BUCKETS: tuple[str, ...] = ("≤1天", "1-3天", "3-7天", ">7天")
_AGE_LIMITS_HOURS = (24, 72, 168)  # upper bounds (inclusive) of the first three buckets

CHANNEL_IDS: tuple[str, ...] = tuple(f"tickets.total.channel:{c}" for c in CHANNELS)
LEVEL_IDS: tuple[str, ...] = tuple(f"tickets.total.level:{lv}" for lv in LEVELS)
AGE_IDS: tuple[str, ...] = tuple(f"tickets.backlog.age:{b}" for b in AGE_BUCKETS)

_SLA_IDS = tuple(f"tickets.sla_rate.{lv}" for lv in LEVELS)


# -- shared helpers (also used by complaints and system) ----------------------


def timestamps(s: pd.Series) -> pd.Series:
    """A timestamp column in nanoseconds, to the whole second."""
    return pd.to_datetime(s).astype("datetime64[ns]").dt.round("s")


def by_end(s: pd.Series, end: pd.Timestamp) -> pd.Series:
    """A done-timestamp column as known at period end: NaT where at or after ``end``."""
    ts = timestamps(s)
    return ts.where(ts < end)


def seconds_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """end − start in seconds (NaN where either is empty); both already whole-second."""
    return (end - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)


def flag(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is known) of a boolean column with empties."""
    b = s.astype("boolean")
    return b.fillna(False).to_numpy(dtype=bool), b.notna().to_numpy(dtype=bool)


def numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def key_codes(s: pd.Series) -> np.ndarray:
    """Integer codes of a text key; -1 where empty or blank."""
    text = s.astype("string")
    codes, _ = pd.factorize(text)
    blank = text.str.strip().eq("").fillna(True).to_numpy(dtype=bool)
    codes = codes.astype(np.int64)
    codes[blank] = -1
    return codes


def combine_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One code per (a, b) pair; -1 where either is -1."""
    width = int(b.max()) + 1 if b.size else 1
    out = a * width + b
    out[(a < 0) | (b < 0)] = -1
    return out


def earlier_within(codes: np.ndarray, times: pd.Series, window_seconds: float) -> np.ndarray:
    """True where a row has another row of the same code with a strictly earlier time at
    most ``window_seconds`` before it (rows with code -1 or no time: False).

    Vectorised: sort by (code, time); each row is compared with the last row of the same
    code before its group of equal times.
    """
    n = len(codes)
    out = np.zeros(n, dtype=bool)
    secs = times.to_numpy(dtype="datetime64[ns]")
    valid = (codes >= 0) & ~np.isnat(secs)
    idx = np.flatnonzero(valid)
    if idx.size < 2:
        return out
    c = codes[idx]
    t = secs[idx].astype("datetime64[s]").astype(np.int64)
    order = np.lexsort((t, c))
    c, t = c[order], t[order]
    m = c.size
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
    start = np.maximum.accumulate(np.where(new_group, np.arange(m), 0))
    prev = start - 1
    safe = np.maximum(prev, 0)
    has_prev = (prev >= 0) & (c[safe] == c)
    repeat = has_prev & ((t - t[safe]) <= window_seconds)
    out[idx[order]] = repeat
    return out


def stat(values: np.ndarray, kind: str, empty_reason: str) -> Measure:
    if values.size == 0:
        return Measure(None, None, None, 0, empty_reason)
    v = float(np.median(values)) if kind == "median" else float(np.mean(values))
    return Measure(v, None, None, int(values.size))


def working_seconds_to_end(cal: WorkCalendar, start: pd.Series, period: Period) -> np.ndarray:
    """Working-hours seconds from ``start`` to ``period.end``.

    Computed as time to the quarter's last day 00:00 plus that whole day's working hours,
    so the calendar is never asked about the day after the quarter (which may lie in a
    year the calendar does not know, e.g. 01-01 after a Q4).
    """
    last = pd.Series(pd.Timestamp(period.last_day), index=start.index, dtype="datetime64[ns]")
    base = cal.working_seconds_between(start, last)
    return base + (cal.seconds_per_day if cal.is_workday(period.last_day) else 0)


def _is(s: pd.Series, value: str) -> np.ndarray:
    return s.eq(value).fillna(False).to_numpy(dtype=bool)


def _category_counts(s: pd.Series) -> list[tuple[str, int]]:
    text = s.astype("string")
    text = text[text.str.strip().ne("").fillna(False)]
    counts = text.value_counts(dropna=True)
    pairs = [(str(k), int(v)) for k, v in counts.items()]
    return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))


# -- the metrics -------------------------------------------------------------


def tickets(
    tickets: pd.DataFrame | None, th: Thresholds, cal: WorkCalendar, period: Period
) -> dict[str, Measure]:
    """Every ``tickets.*`` metric of the catalogue, plus its breakdowns (see module doc)."""
    ids = area_ids("tickets")
    fixed = (*CHANNEL_IDS, *LEVEL_IDS, *AGE_IDS)
    if tickets is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in (*ids, *fixed)}

    df = tickets
    cols = df.columns
    n = len(df)
    end = pd.Timestamp(period.end)
    out: dict[str, Measure] = {"tickets.total": Measure.count(n)}
    category_ids: list[str] = []

    def missing(metric_ids: Sequence[str], column: str) -> None:
        reason = reason_no_column(DATASET, column)
        out.update({i: Measure.missing(reason) for i in metric_ids})

    def first_absent(*columns: str) -> str | None:
        return next((c for c in columns if c not in cols), None)

    # -- breakdowns of the total -------------------------------------------
    if "channel" not in cols:
        missing(CHANNEL_IDS, "channel")
    else:
        for c, metric_id in zip(CHANNELS, CHANNEL_IDS, strict=True):
            out[metric_id] = Measure.count(int(_is(df["channel"], c).sum()))
    if "level" not in cols:
        missing(LEVEL_IDS, "level")
    else:
        for lv, metric_id in zip(LEVELS, LEVEL_IDS, strict=True):
            out[metric_id] = Measure.count(int(_is(df["level"], lv).sum()))
    if "category" in cols:
        for key, count in _category_counts(df["category"]):
            metric_id = f"tickets.total.category:{key}"
            category_ids.append(metric_id)
            out[metric_id] = Measure.count(count)

    created = timestamps(df["created_at"]) if "created_at" in cols else None
    resolved = by_end(df["resolved_at"], end) if "resolved_at" in cols else None
    planned = by_end(df["plan_at"], end) if "plan_at" in cols else None

    # -- SLA by level -------------------------------------------------------
    need = first_absent("created_at", "level", "resolved_at")
    if need:
        missing(_SLA_IDS, need)
    else:
        assert created is not None and resolved is not None
        level = df["level"]
        l3 = _is(level, "L3")
        done = resolved.copy()
        if planned is not None:
            done[l3] = planned[l3].fillna(resolved[l3])
        is_done = done.notna().to_numpy(dtype=bool)
        if th.sla_clock == "business":
            to_done = cal.working_seconds_between(created, done)
            to_end = working_seconds_to_end(cal, created, period)
        else:
            to_done = seconds_between(created, done)
            to_end = (end - created).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        elapsed = np.where(is_done, to_done, to_end)
        known = ~np.isnan(elapsed)
        for lv, metric_id in zip(LEVELS, _SLA_IDS, strict=True):
            limit = float(getattr(th.sla_hours, lv)) * 3600.0
            at_level = _is(level, lv) & known
            with np.errstate(invalid="ignore"):
                over = elapsed > limit
            met = at_level & is_done & ~over
            breached = at_level & over
            out[metric_id] = Measure.ratio(
                int(met.sum()),
                int(met.sum() + breached.sum()),
                empty_reason=f"{REASON_EMPTY}：无已判定达标或超时的{lv}工单",
            )

    # -- medians ------------------------------------------------------------
    need = first_absent("created_at", "first_response_at")
    if need:
        missing(["tickets.first_response_median_minutes"], need)
    else:
        assert created is not None
        secs = seconds_between(created, by_end(df["first_response_at"], end))
        out["tickets.first_response_median_minutes"] = stat(
            secs[~np.isnan(secs)] / 60.0,
            "median",
            f"{REASON_EMPTY}：无期末前有首次响应时间的工单",
        )
    need = first_absent("created_at", "resolved_at")
    if need:
        missing(["tickets.resolution_median_hours"], need)
    else:
        assert created is not None and resolved is not None
        secs = seconds_between(created, resolved)
        out["tickets.resolution_median_hours"] = stat(
            secs[~np.isnan(secs)] / 3600.0,
            "median",
            f"{REASON_EMPTY}：无期末前已解决的工单",
        )

    # -- flag rates -------------------------------------------------------------
    for metric_id, column, zh in (
        ("tickets.bot_resolution_rate", "resolved_by_bot", "智能客服解决"),
        ("tickets.transfer_rate", "transferred_to_human", "转人工"),
        ("tickets.escalation_rate", "escalated", "是否升级"),
    ):
        if column not in cols:
            missing([metric_id], column)
            continue
        true, known_flag = flag(df[column])
        out[metric_id] = Measure.ratio(
            int((true & known_flag).sum()),
            int(known_flag.sum()),
            empty_reason=f"{REASON_EMPTY}：无“{zh}”已填写的工单",
        )

    # -- repeat contact -------------------------------------------------------
    need = first_absent("created_at", "customer_id")
    if need:
        missing(["tickets.repeat_contact_rate"], need)
    else:
        assert created is not None
        codes = key_codes(df["customer_id"])
        repeat = earlier_within(codes, created, th.repeat_window_days * 86400.0)
        out["tickets.repeat_contact_rate"] = Measure.ratio(
            int(repeat.sum()),
            int((codes >= 0).sum()),
            empty_reason=f"{REASON_EMPTY}：无有客户编号的工单",
        )

    # -- handoffs -------------------------------------------------------------
    if "handoffs" not in cols:
        missing(["tickets.handoffs_mean"], "handoffs")
    else:
        h = numbers(df["handoffs"])
        out["tickets.handoffs_mean"] = stat(
            h[~np.isnan(h)], "mean", f"{REASON_EMPTY}：无流转环节数已填写的工单"
        )

    # -- reopen ------------------------------------------------------------------
    need = first_absent("resolved_at", "reopened")
    if need:
        missing(["tickets.reopen_rate"], need)
    else:
        assert resolved is not None
        was_resolved = resolved.notna().to_numpy(dtype=bool)
        reopened, _ = flag(df["reopened"])
        out["tickets.reopen_rate"] = Measure.ratio(
            int((reopened & was_resolved).sum()),
            int(was_resolved.sum()),
            empty_reason=f"{REASON_EMPTY}：无期末前已解决的工单",
        )

    # -- backlog and its ageing ---------------------------------------------------
    need = first_absent("level", "resolved_at")
    if need:
        missing(["tickets.backlog", *AGE_IDS], need)
    else:
        assert resolved is not None
        done_at_end = resolved.notna().to_numpy(dtype=bool)
        if planned is not None:
            done_at_end = done_at_end | (
                _is(df["level"], "L3") & planned.notna().to_numpy(dtype=bool)
            )
        open_ = ~done_at_end
        out["tickets.backlog"] = Measure.count(int(open_.sum()))
        if created is None:
            missing(AGE_IDS, "created_at")
        else:
            age = (end - created).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
            lower = -np.inf
            bounds = [h * 3600.0 for h in _AGE_LIMITS_HOURS] + [np.inf]
            for metric_id, upper in zip(AGE_IDS, bounds, strict=True):
                with np.errstate(invalid="ignore"):
                    in_bucket = open_ & (age > lower) & (age <= upper)
                out[metric_id] = Measure.count(int(in_bucket.sum()))
                lower = upper

    # -- archive ------------------------------------------------------------------
    if "archived_at" not in cols:
        missing(["tickets.archive_late_rate"], "archived_at")
    elif "closed_at" not in cols and "resolved_at" not in cols:
        missing(["tickets.archive_late_rate"], "closed_at")
    else:
        reference = by_end(df["closed_at"], end) if "closed_at" in cols else None
        if resolved is not None:
            reference = resolved if reference is None else reference.fillna(resolved)
        assert reference is not None
        archived = by_end(df["archived_at"], end)
        limit = th.archive_limit_hours * 3600.0
        base = reference.notna().to_numpy(dtype=bool)
        is_archived = archived.notna().to_numpy(dtype=bool)
        to_archive = seconds_between(reference, archived)
        to_end = (end - reference).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            late = base & np.where(is_archived, to_archive > limit, to_end > limit)
        pending = base & ~is_archived & ~late
        counted = base & ~pending
        out["tickets.archive_late_rate"] = Measure.ratio(
            int(late.sum()),
            int(counted.sum()),
            empty_reason=f"{REASON_EMPTY}：无期末前已关闭或已解决且已可判定归档是否超时的工单",
        )

    # -- peak day -----------------------------------------------------------------
    if created is None:
        missing(["tickets.peak_ratio"], "created_at")
    else:
        days = created.dropna().dt.normalize()
        if days.empty:
            out["tickets.peak_ratio"] = Measure(None, None, None, 0, f"{REASON_EMPTY}：本期无工单")
        else:
            peak = int(days.value_counts().max())
            per_day = days.size / period.days
            ratio = peak * period.days / days.size  # = peak ÷ per_day, one rounding
            out["tickets.peak_ratio"] = Measure(ratio, float(peak), per_day, days.size)

    return {i: out[i] for i in (*ids, *CHANNEL_IDS, *LEVEL_IDS, *category_ids, *AGE_IDS)}


# -- breakdowns of computed figures (for the section's tables and charts) -----


def mix(
    counts: pd.Series,
    total: float | None,
    previous: pd.Series | None = None,
    previous_total: float | None = None,
    *,
    absent_as_zero: bool = False,
) -> pd.DataFrame:
    """Shares of a breakdown (channels, categories) and their change on last quarter.

    ``counts`` and ``previous`` are indexed by key (NaN: unknown). Returns ``count``,
    ``share`` (count ÷ total), ``previous`` (last quarter's share) and ``delta`` (share −
    previous, a difference of fractions), NaN where a side is unknown or its total is
    empty or 0. With ``absent_as_zero`` a key without a count last quarter had 0 then,
    provided last quarter had a total and some key was counted at all (a category new
    this quarter rose from 0; without last quarter's categories nothing is compared).
    """

    def part(values: pd.Series, whole: float | None) -> pd.Series:
        if whole is None or pd.isna(whole) or whole == 0:
            return pd.Series(np.nan, index=values.index, dtype=float)
        return values.astype(float) / float(whole)

    counts = counts.astype(float)
    before = (
        pd.Series(np.nan, index=counts.index, dtype=float)
        if previous is None
        else previous.reindex(counts.index).astype(float)
    )
    if absent_as_zero:
        known = previous_total is not None and not pd.isna(previous_total) and before.notna().any()
        before = before.fillna(0.0) if known else before * np.nan
    share = part(counts, total)
    prev_share = part(before, previous_total)
    return pd.DataFrame(
        {"count": counts, "share": share, "previous": prev_share, "delta": share - prev_share}
    )


def sla_pending(level_counts: pd.Series, judged: pd.Series) -> float:
    """Tickets at a level neither met nor breached: the level's tickets less those judged
    (met + breached) for its SLA rate, never below 0; levels with either unknown add 0."""
    gap = (level_counts.astype(float) - judged.reindex(level_counts.index).astype(float)).clip(
        lower=0.0
    )
    return float(gap.fillna(0.0).sum())
