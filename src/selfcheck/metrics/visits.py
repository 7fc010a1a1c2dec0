"""On-site service metrics (dataset ``visits``): see the On-site table of ``spec/metrics.md``.

``visits(visits, th)`` returns a :class:`Measure` for every ``visits.*`` id of the
catalogue (all 11 metrics) plus the late-arrival breakdowns by area:
``visits.emergency_late_rate.area:core``, ``…:suburb`` and the same for
``visits.regular_late_rate`` (always both keys, value None when the area has no visit).

Conventions of this module (where the spec leaves a choice):

- Rates: ``Measure.ratio`` (fraction; numerator/denominator counts; n = denominator —
  for ``node_completion_rate`` that is Σ nodes_total, not the number of visits).
  Counts: ``Measure.count``. Denominator 0 → value None with a reason.
- Timestamps are rounded to the whole second before durations are taken; durations are
  compared with the limits in seconds: late/over means > limit, exactly the limit is
  within.
- Arrival: limit = ``th.arrival_minutes.<kind>_<area>``. Visits without ``arrived_at`` are
  excluded from the arrival metrics (numerator and denominator), as are visits whose
  kind or area is empty.
- ``confirm_late_rate``: confirmed_at − reported_at > ``confirm_limit_minutes`` or no
  confirmed_at, over all visits.
- ``eta_notice_rate``: eta_notified true ÷ suburb emergency visits with eta_notified
  known, whether or not they have an arrival time.
- ``compensation_rate``: compensated true ÷ late regular visits (arrival known and late,
  as in ``regular_late_rate``) with compensated known.
- ``node_completion_rate``: Σ nodes_done ÷ Σ nodes_total over visits with both known; no
  per-visit capping (nodes_done > nodes_total is counted as given).
- Completed = completed_at known. acceptance / dissatisfied / extra-fee rates: true ÷
  completed visits with the flag known. ``archive_late_rate``: archived_at − completed_at
  > ``archive_limit_hours`` or archived_at empty, over completed visits.
- A missing frame → every metric missing. A missing optional column → only the metrics
  that need it are missing (``completed_at`` is needed by acceptance, dissatisfied,
  extra-fee and archive; ``arrived_at`` by the late rates, their breakdowns and the
  compensation rate).
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
from selfcheck.schema import AREA_ZH, AREAS, VISIT_KIND_ZH
from selfcheck.thresholds import Thresholds

DATASET = "visits"

BREAKDOWN_IDS: tuple[str, ...] = tuple(
    f"visits.{kind}_late_rate.area:{area}" for kind in ("emergency", "regular") for area in AREAS
)


def _timestamps(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).dt.round("s")


def _seconds(start: pd.Series, end: pd.Series) -> np.ndarray:
    """end − start in seconds (NaN where either is empty)."""
    delta = _timestamps(end) - _timestamps(start)
    return delta.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)


def _is(s: pd.Series, value: str) -> np.ndarray:
    return s.eq(value).fillna(False).to_numpy(dtype=bool)


def _flag(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(is true, is known) of a boolean column with empties."""
    b = s.astype("boolean")
    return b.fillna(False).to_numpy(dtype=bool), b.notna().to_numpy(dtype=bool)


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def visits(visits: pd.DataFrame | None, th: Thresholds) -> dict[str, Measure]:
    """Every ``visits.*`` metric of the catalogue, plus the late-arrival area breakdowns."""
    ids = (*area_ids("visits"), *BREAKDOWN_IDS)
    if visits is None:
        reason = reason_no_dataset(DATASET)
        return {i: Measure.missing(reason) for i in ids}

    df = visits
    cols = df.columns
    n = len(df)
    out: dict[str, Measure] = {"visits.total": Measure.count(n)}

    def missing(metric_ids: tuple[str, ...] | list[str], column: str) -> None:
        reason = reason_no_column(DATASET, column)
        out.update({i: Measure.missing(reason) for i in metric_ids})

    # -- appointment confirmation ----------------------------------------
    need = next((c for c in ("reported_at", "confirmed_at") if c not in cols), None)
    if need:
        missing(["visits.confirm_late_rate"], need)
    else:
        secs = _seconds(df["reported_at"], df["confirmed_at"])
        with np.errstate(invalid="ignore"):
            late = np.isnan(secs) | (secs > th.confirm_limit_minutes * 60.0)
        out["visits.confirm_late_rate"] = Measure.ratio(
            int(late.sum()), n, empty_reason=f"{REASON_EMPTY}：本期无现场服务单"
        )

    # -- arrival ------------------------------------------------------------
    kind_area = ("kind", "area")
    emergency = _is(df["kind"], "emergency") if "kind" in cols else None
    regular = _is(df["kind"], "regular") if "kind" in cols else None
    area = {a: _is(df["area"], a) for a in AREAS} if "area" in cols else None

    arrival_ids = [
        "visits.emergency_late_rate",
        "visits.regular_late_rate",
        "visits.compensation_rate",
        *BREAKDOWN_IDS,
    ]
    need = next((c for c in ("reported_at", *kind_area, "arrived_at") if c not in cols), None)
    if need:
        missing(arrival_ids, need)
    else:
        assert emergency is not None and regular is not None and area is not None
        limit_seconds = np.full(n, np.nan)
        for kind, kind_mask in (("emergency", emergency), ("regular", regular)):
            for a in AREAS:
                minutes = getattr(th.arrival_minutes, f"{kind}_{a}")
                limit_seconds[kind_mask & area[a]] = minutes * 60.0
        secs = _seconds(df["reported_at"], df["arrived_at"])
        counted = ~np.isnan(secs) & ~np.isnan(limit_seconds)
        with np.errstate(invalid="ignore"):
            late = counted & (secs > limit_seconds)
        for kind, kind_mask in (("emergency", emergency), ("regular", regular)):
            kzh = VISIT_KIND_ZH[kind]
            base = counted & kind_mask
            out[f"visits.{kind}_late_rate"] = Measure.ratio(
                int((late & base).sum()),
                int(base.sum()),
                empty_reason=f"{REASON_EMPTY}：无有到场时间的{kzh}服务单",
            )
            for a in AREAS:
                sub = base & area[a]
                out[f"visits.{kind}_late_rate.area:{a}"] = Measure.ratio(
                    int((late & sub).sum()),
                    int(sub.sum()),
                    empty_reason=f"{REASON_EMPTY}：无有到场时间的{kzh}·{AREA_ZH[a]}服务单",
                )
        if "compensated" not in cols:
            missing(["visits.compensation_rate"], "compensated")
        else:
            comp, comp_known = _flag(df["compensated"])
            base = late & regular & comp_known
            out["visits.compensation_rate"] = Measure.ratio(
                int((base & comp).sum()),
                int(base.sum()),
                empty_reason=f"{REASON_EMPTY}：无补偿字段已填写的到场超时常规服务单",
            )

    # -- ETA notice (suburb emergencies) -------------------------------------
    need = next((c for c in (*kind_area, "eta_notified") if c not in cols), None)
    if need:
        missing(["visits.eta_notice_rate"], need)
    else:
        assert emergency is not None and area is not None
        eta, eta_known = _flag(df["eta_notified"])
        base = emergency & area["suburb"] & eta_known
        out["visits.eta_notice_rate"] = Measure.ratio(
            int((base & eta).sum()),
            int(base.sum()),
            empty_reason=f"{REASON_EMPTY}：无告知字段已填写的郊区/偏远紧急服务单",
        )

    # -- key nodes ------------------------------------------------------------
    need = next((c for c in ("nodes_total", "nodes_done") if c not in cols), None)
    if need:
        missing(["visits.node_completion_rate"], need)
    else:
        total = _numbers(df["nodes_total"])
        done = _numbers(df["nodes_done"])
        both = ~np.isnan(total) & ~np.isnan(done)
        out["visits.node_completion_rate"] = Measure.ratio(
            float(done[both].sum()),
            float(total[both].sum()),
            empty_reason=f"{REASON_EMPTY}：无关键节点数与完成节点数均已填写的服务单（或Σ关键节点数为0）",
        )

    # -- completed visits -------------------------------------------------------
    completed_ids = (
        "visits.acceptance_rate",
        "visits.dissatisfied_rate",
        "visits.extra_fee_complaint_rate",
        "visits.archive_late_rate",
    )
    if "completed_at" not in cols:
        missing(completed_ids, "completed_at")
    else:
        completed = df["completed_at"].notna().to_numpy(dtype=bool)
        for metric_id, column, zh in (
            ("visits.acceptance_rate", "accepted", "验收签署"),
            ("visits.dissatisfied_rate", "dissatisfied", "效果不满意"),
            ("visits.extra_fee_complaint_rate", "extra_fee_complaint", "额外收费投诉"),
        ):
            if column not in cols:
                missing([metric_id], column)
                continue
            flag, known = _flag(df[column])
            base = completed & known
            out[metric_id] = Measure.ratio(
                int((base & flag).sum()),
                int(base.sum()),
                empty_reason=f"{REASON_EMPTY}：无“{zh}”已填写的已完成服务单",
            )
        if "archived_at" not in cols:
            missing(["visits.archive_late_rate"], "archived_at")
        else:
            secs = _seconds(df["completed_at"], df["archived_at"])
            with np.errstate(invalid="ignore"):
                late = completed & (np.isnan(secs) | (secs > th.archive_limit_hours * 3600.0))
            out["visits.archive_late_rate"] = Measure.ratio(
                int(late.sum()),
                int(completed.sum()),
                empty_reason=f"{REASON_EMPTY}：本期无已完成的服务单",
            )

    return {i: out[i] for i in ids}
