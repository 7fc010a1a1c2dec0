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
