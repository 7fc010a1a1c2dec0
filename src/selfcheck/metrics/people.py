"""People metrics (datasets ``staff``, ``training``): see the People table of ``spec/metrics.md``.

``team(staff, period)`` returns a :class:`Measure` for every ``team.*`` id of the catalogue
plus ``team.headcount.role:<role>`` for the three roles in schema order (frontline,
support, manager; always all three). ``training(training, staff, period)`` returns one for
every ``training.*`` id.

Conventions of this module (where the spec leaves a choice). ``F`` is the quarter's first
day, ``L`` its last day (``period.last_day``); dates are compared as calendar days (a time
of day on a date cell is dropped):

- Active at period end: ``hired_on ≤ L`` and (``left_on`` empty or ``left_on > L``). Hired on
  ``L`` → active (tenure 0). Left on ``L`` → not active, and a leaver of this quarter. Left
  on ``L + 1`` → active, and a leaver of the next quarter.
- Active at period start: the same rule at the end of the quarter before, i.e.
  ``hired_on < F`` and (``left_on`` empty or ``left_on ≥ F``). So this quarter's start
  headcount is last quarter's end headcount; someone hired on ``F`` is a hire of this
  quarter, not at the start.
- ``staff`` is a snapshot at period end: a person with ``hired_on`` empty (or without a
  ``hired_on`` column) is taken as hired before the quarter (active at start and end
  unless they left); without a ``left_on`` column nobody has left.
- Leavers: ``F ≤ left_on ≤ L``, whoever they are — also people hired during the quarter
  (the spec's numerator is "left within the period"; such people are not in the start
  headcount, so the rate is literal spec, not a cohort rate).
- Turnover = leavers ÷ active at start (``Measure.ratio``); without a ``left_on`` column it
  is missing (leavers cannot be known).
- Tenure = mean over active staff with ``hired_on`` known of (L − hired_on) in days ÷ 365.25;
  n = those staff; missing without a ``hired_on`` column.
- Certified and multilingual rates: true / ``languages ≥ 2`` ÷ active with the column known.
- Training is the period's attendance rows (one row per attendance; rows are not merged,
  a duplicated row counts twice). Sessions = distinct non-empty ``session_id``. Hours =
  Σ over sessions of the session's length; a session whose rows disagree on ``hours``
  takes the most frequent value among its rows, ties to the smallest (never inflated by
  one wrong row); :func:`inconsistent_sessions` counts such sessions for the
  data-quality appendix. Person-hours = Σ ``hours`` of every attendance row as written.
  Empty ``hours`` add nothing.
- Coverage = active (at period end, as above) frontline staff whose ``agent_id`` has at
  least one attendance row ÷ active frontline staff; needs ``staff`` (missing otherwise,
  with a reason naming it). Attendance rows of people not in ``staff`` do not count.
- Pass rate = ``passed`` true ÷ attendances with ``passed`` known; not sampled.
- A missing frame → every metric of that frame missing; a missing optional column → only
  the metrics that need it. Denominator 0 → value None with reason ``样本为0…``.
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
from selfcheck.period import Period
from selfcheck.schema import ROLE_ZH, ROLES

STAFF = "staff"
TRAINING = "training"

ROLE_IDS: tuple[str, ...] = tuple(f"team.headcount.role:{r}" for r in ROLES)

DAYS_PER_YEAR = 365.25
UNNAMED = "未注明"  # a training row whose topic is empty


def _days(s: pd.Series) -> pd.Series:
    """A date column as midnight timestamps (NaT where empty)."""
    return pd.to_datetime(s).dt.normalize()


def _flag(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is known) of a boolean column with empties."""
    b = s.astype("boolean")
    return b.fillna(False).to_numpy(dtype=bool), b.notna().to_numpy(dtype=bool)


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _is(s: pd.Series, value: str) -> np.ndarray:
    return s.eq(value).fillna(False).to_numpy(dtype=bool)


def _active(staff: pd.DataFrame, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """(active at period end, active at period start), per the module conventions."""
    n = len(staff)
    first, last = pd.Timestamp(period.first_day), pd.Timestamp(period.last_day)
    if "hired_on" in staff.columns:
        hired = _days(staff["hired_on"])
        unknown = hired.isna().to_numpy(dtype=bool)
        hired_by_end = unknown | (hired <= last).to_numpy(dtype=bool)
        hired_before_start = unknown | (hired < first).to_numpy(dtype=bool)
    else:
        hired_by_end = hired_before_start = np.ones(n, dtype=bool)
    if "left_on" in staff.columns:
        left = _days(staff["left_on"])
        stays = left.isna().to_numpy(dtype=bool)
        after_end = stays | (left > last).to_numpy(dtype=bool)
        from_start = stays | (left >= first).to_numpy(dtype=bool)
    else:
        after_end = from_start = np.ones(n, dtype=bool)
    return hired_by_end & after_end, hired_before_start & from_start


def team(staff: pd.DataFrame | None, period: Period) -> dict[str, Measure]:
    """Every ``team.*`` metric of the catalogue, plus the headcount by role."""
    ids = (*area_ids("team"), *ROLE_IDS)
    if staff is None:
        reason = reason_no_dataset(STAFF)
        return {i: Measure.missing(reason) for i in ids}

    cols = staff.columns
    active, active_at_start = _active(staff, period)
    n_active = int(active.sum())
    out: dict[str, Measure] = {"team.headcount": Measure.count(n_active)}

    if "role" not in cols:  # required; should not happen after ingest
        reason = reason_no_column(STAFF, "role")
        out.update({i: Measure.missing(reason) for i in ROLE_IDS})
    else:
        for role in ROLES:
            out[f"team.headcount.role:{role}"] = Measure.count(
                int((active & _is(staff["role"], role)).sum())
            )

    for metric_id, column, zh in (
        ("team.certified_rate", "certified", "持证上岗"),
        ("team.multilingual_rate", "languages", "服务语种数"),
    ):
        if column not in cols:
            out[metric_id] = Measure.missing(reason_no_column(STAFF, column))
            continue
        if column == "certified":
            hit, known = _flag(staff[column])
        else:
            x = _numbers(staff[column])
            known = ~np.isnan(x)
            with np.errstate(invalid="ignore"):
                hit = known & (x >= 2)
        base = active & known
        out[metric_id] = Measure.ratio(
            int((base & hit).sum()),
            int(base.sum()),
            empty_reason=f"{REASON_EMPTY}：无“{zh}”已填写的在岗人员",
        )

    if "hired_on" not in cols:
        out["team.tenure_years_mean"] = Measure.missing(reason_no_column(STAFF, "hired_on"))
    else:
        days = (pd.Timestamp(period.last_day) - _days(staff["hired_on"])).dt.days
        days = days.to_numpy(dtype=float, na_value=np.nan)
        years = days[active & ~np.isnan(days)] / DAYS_PER_YEAR
        if years.size == 0:
            out["team.tenure_years_mean"] = Measure(
                None, None, None, 0, f"{REASON_EMPTY}：无入职日期已填写的在岗人员"
            )
        else:
            out["team.tenure_years_mean"] = Measure(float(np.mean(years)), None, None, years.size)

    if "left_on" not in cols:
        out["team.turnover_rate"] = Measure.missing(reason_no_column(STAFF, "left_on"))
    else:
        left = _days(staff["left_on"])
        first, last = pd.Timestamp(period.first_day), pd.Timestamp(period.last_day)
        leavers = ((left >= first) & (left <= last)).to_numpy(dtype=bool)
        out["team.turnover_rate"] = Measure.ratio(
            int(leavers.sum()),
            int(active_at_start.sum()),
            empty_reason=f"{REASON_EMPTY}：期初无在岗人员",
        )

    return {i: out[i] for i in ids}


def _session_hours(training: pd.DataFrame) -> pd.DataFrame:
    """One row per session: its ``hours`` (most frequent value, ties to the smallest)."""
    frame = pd.DataFrame(
        {
            "session": training["session_id"].astype("string").to_numpy(dtype=object),
            "hours": _numbers(training["hours"]),
        }
    )
    frame = frame[pd.notna(frame["session"]) & frame["hours"].notna()]
    counts = frame.groupby(["session", "hours"], sort=False).size().rename("rows").reset_index()
    counts = counts.sort_values(["session", "rows", "hours"], ascending=[True, False, True])
    variants = counts.groupby("session", sort=False).size()
    chosen = counts.drop_duplicates("session", keep="first").set_index("session")
    chosen["variants"] = variants
    return chosen


def inconsistent_sessions(training: pd.DataFrame | None) -> int:
    """Sessions whose attendance rows disagree on ``hours`` (for the data-quality appendix)."""
    if training is None or not {"session_id", "hours"} <= set(training.columns):
        return 0
    return int((_session_hours(training)["variants"] > 1).sum())


def training(
    training: pd.DataFrame | None, staff: pd.DataFrame | None, period: Period
) -> dict[str, Measure]:
    """Every ``training.*`` metric of the catalogue for one period's attendance rows."""
    ids = area_ids("training")
    if training is None:
        reason = reason_no_dataset(TRAINING)
        return {i: Measure.missing(reason) for i in ids}

    cols = training.columns
    out: dict[str, Measure] = {}

    if "session_id" not in cols:  # required; should not happen after ingest
        reason = reason_no_column(TRAINING, "session_id")
        out["training.sessions"] = Measure.missing(reason)
        out["training.hours"] = Measure.missing(reason)
    else:
        sessions = training["session_id"].astype("string")
        out["training.sessions"] = Measure.count(int(sessions.dropna().nunique()))
        if "hours" not in cols:
            out["training.hours"] = Measure.missing(reason_no_column(TRAINING, "hours"))
        else:
            chosen = _session_hours(training)
            out["training.hours"] = Measure(float(chosen["hours"].sum()), None, None, len(chosen))

    if "hours" not in cols:
        out["training.person_hours"] = Measure.missing(reason_no_column(TRAINING, "hours"))
    else:
        hours = _numbers(training["hours"])
        known = ~np.isnan(hours)
        out["training.person_hours"] = Measure(
            float(hours[known].sum()), None, None, int(known.sum())
        )

    # -- coverage of active frontline staff -----------------------------------
    if staff is None:
        out["training.coverage_rate"] = Measure.missing(reason_no_dataset(STAFF))
    else:
        need = next(
            (
                (ds, c)
                for ds, frame, c in (
                    (STAFF, staff, "agent_id"),
                    (STAFF, staff, "role"),
                    (TRAINING, training, "agent_id"),
                )
                if c not in frame.columns
            ),
            None,
        )
        if need is not None:
            out["training.coverage_rate"] = Measure.missing(reason_no_column(*need))
        else:
            active, _ = _active(staff, period)
            frontline = active & _is(staff["role"], "frontline")
            attended = staff["agent_id"].isin(training["agent_id"].dropna())
            attended = attended.fillna(False).to_numpy(dtype=bool)
            out["training.coverage_rate"] = Measure.ratio(
                int((frontline & attended).sum()),
                int(frontline.sum()),
                empty_reason=f"{REASON_EMPTY}：期末无在岗{ROLE_ZH['frontline']}人员",
            )

    if "passed" not in cols:
        out["training.pass_rate"] = Measure.missing(reason_no_column(TRAINING, "passed"))
    else:
        passed, known = _flag(training["passed"])
        out["training.pass_rate"] = Measure.ratio(
            int((passed & known).sum()),
            int(known.sum()),
            empty_reason=f"{REASON_EMPTY}：无“考核通过”已填写的参训记录",
        )

    return {i: out[i] for i in ids}


def topic_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per training topic: sessions, attendances, hours, passed and known (for the pass rate).

    A session belongs to the topic most of its rows give (ties: first in Unicode order);
    its length is the most frequent ``hours`` among its rows, ties to the smallest — as
    ``training.hours`` counts it, so the column sums to that metric. Rows count as
    attendances of their session's topic (rows without a session: their own topic).
    """
    n = len(frame)
    session = (
        frame["session_id"].astype("string")
        if "session_id" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    topic = frame["topic"].astype("string").str.strip()
    topic = topic.where(topic.ne("").fillna(False), UNNAMED).fillna(UNNAMED)
    hours = (
        pd.to_numeric(frame["hours"], errors="coerce")
        if "hours" in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    rows = pd.DataFrame(
        {"session": session.to_numpy(dtype=object), "topic": topic.to_numpy(dtype=object)}
    )
    rows["hours"] = hours.to_numpy(dtype=float, na_value=np.nan)
    if "passed" in frame.columns:
        b = frame["passed"].astype("boolean")
        rows["passed"] = b.fillna(False).to_numpy(dtype=bool)
        rows["known"] = b.notna().to_numpy(dtype=bool)
    else:
        rows["passed"] = rows["known"] = np.zeros(n, dtype=bool)

    def mode(col: str, keep: list[str]) -> pd.DataFrame:
        valid = rows[rows["session"].notna() & rows[col].notna()]
        counts = valid.groupby(["session", col], sort=False).size().rename("rows").reset_index()
        counts = counts.sort_values(["session", "rows", col], ascending=[True, False, True])
        return counts.drop_duplicates("session", keep="first").set_index("session")[keep]

    session_topic = mode("topic", ["topic"])["topic"]
    session_hours = mode("hours", ["hours"])["hours"]
    per_session = pd.DataFrame({"topic": session_topic})
    per_session["hours"] = session_hours.reindex(per_session.index)
    by_session = rows["session"].map(session_topic)
    rows["group"] = by_session.where(by_session.notna(), rows["topic"])
    out = rows.groupby("group").agg(
        attendances=("group", "size"), passed=("passed", "sum"), known=("known", "sum")
    )
    grouped = per_session.groupby("topic").agg(sessions=("topic", "size"), hours=("hours", "sum"))
    out = out.join(grouped, how="left").fillna({"sessions": 0, "hours": 0.0})
    out.index.name = "topic"
    out = out.astype({"sessions": int, "attendances": int, "passed": int, "known": int})
    return out.sort_values(["hours", "attendances"], ascending=False, kind="stable")[
        ["sessions", "attendances", "hours", "passed", "known"]
    ]
