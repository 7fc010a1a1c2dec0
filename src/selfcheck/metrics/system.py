"""System metrics (dataset ``incidents``): see the Systems table of ``spec/metrics.md``.

``system(incidents, period)`` returns a :class:`Measure` for every ``system.*`` id of the
catalogue.

Conventions of this module (where the spec leaves a choice):

- Timestamps are taken to the whole second. **State at period end**: a ``resolved_at`` at
  or after ``period.end`` counts as not resolved (as in the ticket metrics).
- ``incidents``: all incidents of the period (``Measure.count``).
- ``mttr_minutes``: mean of ``resolved_at − started_at`` in minutes over incidents resolved
  before period end; n = those incidents.
- ``interruption_hours``: Σ over incidents with ``service_interrupted`` true of
  ``resolved_at − started_at`` in hours; an interrupted incident not resolved at period end
  counts up to ``period.end`` (the interruption inside the quarter so far). n = number of
  interrupted incidents; numerator and denominator None. No interrupted incident gives
  0 h (a figure, not "no data") — but when there are incidents and none has
  ``service_interrupted`` filled in, the value is None with a reason (0 h would be a
  guess). An empty ``service_interrupted`` counts as not interrupted otherwise.
- ``major_incidents``: incidents with ``severity`` = ``major`` (``Measure.count``). When
  there are incidents and none has ``severity`` filled in, the value is None with a reason
  (0 would be a guess); otherwise an empty severity counts as not major.
- A missing frame → every metric missing. A missing column → only the metrics that need
  it (``resolved_at``: MTTR and interruption; ``service_interrupted``: interruption;
  ``severity``: major incidents).

:func:`incident_durations` gives the incidents behind these figures one row each (for the
tables and charts of the section), with the same conventions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import (
    REASON_EMPTY,
    area_ids,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.metrics.tickets import by_end, flag, seconds_between, stat, timestamps
from selfcheck.period import Period

DATASET = "incidents"
UNNAMED = "未注明"  # an incident whose system is empty
TOP_INCIDENTS = 5  # longest interruptions listed besides every major incident
MAX_INCIDENT_ROWS = 12


def system(incidents: pd.DataFrame | None, period: Period) -> dict[str, Measure]:
    """Every ``system.*`` metric of the catalogue for one period's incidents."""
    ids = area_ids("system")
    if incidents is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in ids}

    df = incidents
    cols = df.columns
    n = len(df)
    end = pd.Timestamp(period.end)
    out: dict[str, Measure] = {"system.incidents": Measure.count(n)}

    def missing(metric_ids: Sequence[str], column: str) -> None:
        reason = reason_no_column(DATASET, column)
        out.update({i: Measure.missing(reason) for i in metric_ids})

    need = next((c for c in ("started_at", "resolved_at") if c not in cols), None)
    if need:
        missing(["system.mttr_minutes", "system.interruption_hours"], need)
    else:
        started = timestamps(df["started_at"])
        resolved = by_end(df["resolved_at"], end)
        secs = seconds_between(started, resolved)
        out["system.mttr_minutes"] = stat(
            secs[~np.isnan(secs)] / 60.0, "mean", f"{REASON_EMPTY}：无期末前已恢复的故障"
        )
        if "service_interrupted" not in cols:
            missing(["system.interruption_hours"], "service_interrupted")
        else:
            interrupted, known = flag(df["service_interrupted"])
            if n > 0 and not known.any():
                out["system.interruption_hours"] = Measure(
                    None, None, None, 0, f"{REASON_EMPTY}：无“服务中断”已填写的故障"
                )
            else:
                until = resolved.fillna(end)
                duration = seconds_between(started, until)
                chosen = interrupted & ~np.isnan(duration)
                hours = float(duration[chosen].sum()) / 3600.0
                out["system.interruption_hours"] = Measure(hours, None, None, int(chosen.sum()))

    if "severity" not in cols:
        missing(["system.major_incidents"], "severity")
    else:
        severity = df["severity"]
        if n > 0 and not severity.notna().any():
            out["system.major_incidents"] = Measure(
                None, None, None, 0, f"{REASON_EMPTY}：无级别已填写的故障"
            )
        else:
            major = severity.eq("major").fillna(False).to_numpy(dtype=bool)
            out["system.major_incidents"] = Measure.count(int(major.sum()))

    return {i: out[i] for i in ids}


def incident_durations(incidents: pd.DataFrame, period: Period) -> pd.DataFrame:
    """One row per incident, by start time: ``started``, ``resolved`` (NaT if not recovered
    by period end), ``minutes`` — to recovery, or to period end when not recovered (as
    ``interruption_hours`` counts it; NaN without a ``resolved_at`` column) —, ``system``
    (:data:`UNNAMED` when empty), ``major`` and ``interrupted`` (empty: false)."""
    end = pd.Timestamp(period.end)
    started = timestamps(incidents["started_at"])
    if "resolved_at" in incidents.columns:
        resolved = by_end(incidents["resolved_at"], end)
    else:
        resolved = pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[ns]")
    minutes = seconds_between(started, resolved.fillna(end)) / 60.0
    if "resolved_at" not in incidents.columns:
        minutes[:] = np.nan  # recovery unknown: no duration rather than one to period end
    system = (
        incidents["system"].astype("string").str.strip()
        if "system" in incidents.columns
        else pd.Series(pd.NA, index=incidents.index, dtype="string")
    )
    system = system.where(system.ne("").fillna(False), UNNAMED).fillna(UNNAMED)
    major = (
        incidents["severity"].eq("major").fillna(False)
        if "severity" in incidents.columns
        else pd.Series(False, index=incidents.index)
    )
    if "service_interrupted" in incidents.columns:
        interrupted = incidents["service_interrupted"].astype("boolean").fillna(False)
    else:
        interrupted = pd.Series(False, index=incidents.index)
    out = pd.DataFrame(
        {
            "started": started,
            "resolved": resolved,
            "minutes": minutes,
            "system": system.to_numpy(dtype=object),
            "major": major.to_numpy(dtype=bool),
            "interrupted": interrupted.to_numpy(dtype=bool),
        },
        index=incidents.index,
    )
    return out.sort_values("started", kind="stable")


def longest(durations: pd.DataFrame, n: int | None = None, *, interrupted: bool = False):
    """The incidents with a known duration, longest first (ties: by start), the first ``n``
    (all when None); only those that interrupted service when ``interrupted``."""
    d = durations[durations["interrupted"]] if interrupted else durations
    d = d.dropna(subset=["minutes"]).sort_values("minutes", ascending=False, kind="stable")
    return d if n is None else d.head(n)


def notable_incidents(
    durations: pd.DataFrame, top: int = TOP_INCIDENTS, max_rows: int = MAX_INCIDENT_ROWS
) -> pd.DataFrame:
    """Every major incident plus the ``top`` longest interruptions, by start time (at most
    ``max_rows``: the longest ones are kept)."""
    longest_ones = (
        durations[durations["interrupted"]]
        .sort_values("minutes", ascending=False, kind="stable")
        .head(top)
    )
    chosen = durations[durations["major"] | durations.index.isin(longest_ones.index)]
    if len(chosen) > max_rows:
        chosen = chosen.sort_values("minutes", ascending=False, kind="stable").head(max_rows)
    return chosen.sort_values("started", kind="stable")
