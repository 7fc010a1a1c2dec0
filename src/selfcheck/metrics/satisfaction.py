"""Satisfaction metrics (dataset ``surveys``): see the Satisfaction table of ``spec/metrics.md``.

``satisfaction(surveys, th)`` returns a :class:`Measure` for every ``satisfaction.*`` id of
the catalogue (``valid_scores`` and ``blank_segments`` serve the section's comments and
segment wording by the same rules), then these breakdowns, in this order:

- ``satisfaction.top_box_rate.dimension:<dim>`` for the five dimensions (attitude, speed,
  expertise, resolution, value), always all five;
- ``satisfaction.index.segment:<segment>`` for every segment, then
  ``satisfaction.top_box_rate.segment:<segment>`` for the same segments; segments in
  descending order of n (responses of the segment), ties by name (code-point order).

Conventions of this module (where the spec leaves a choice):

- A score is *valid* when it is known and 1 ≤ score ≤ ``survey_scale`` (decimals inside
  the range are kept). An out-of-range score (0, or 6 on a 5-point scale) is left out of
  that column's figures only — numerator and denominator — and counted by
  :func:`excluded_scores` (for the data-quality appendix). ``nps`` is valid when known
  and 0 ≤ nps ≤ 10, likewise.
- ``satisfaction.responses`` (有效问卷数) = responses whose ``overall`` is valid; it is the
  denominator of ``satisfaction.top_box_rate`` and the n of ``satisfaction.index``.
- Index = mean valid score ÷ ``survey_scale`` × 100. An index Measure is ``sampled``;
  n = number of valid scores, numerator/denominator None, ``sd`` = sample standard
  deviation (ddof=1) of the index-scaled scores (score ÷ scale × 100); ``sd`` is None
  with a single score.
- Top-box: score ≥ 0.8 × scale, compared as ``5 × score ≥ 4 × scale`` so that no float
  rounding of 0.8 × scale decides a boundary (4 on a 5-point scale, 8 on a 10-point scale
  are top box). A top-box rate is ``Measure.ratio`` (top-box ÷ valid scores of the column),
  ``sampled``.
- Dimension index (``satisfaction.index.<dim>``) and dimension top-box rate are over the
  responses with that dimension valid, whatever their ``overall``.
- Segments: responses with a valid ``overall`` and a known segment (surrounding blanks
  stripped; empty or blank segment is left out of every segment key — it is not a
  customer type). A segment whose responses all have an invalid ``overall`` has no key.
  Without a ``segment`` column (or without a frame) there are no segment keys.
- NPS = (promoters − detractors) ÷ responses with a valid nps × 100; promoter 9–10,
  detractor 0–6, passive 7–8. n = responses with a valid nps; not sampled (no sd).
- A missing frame → every metric missing; a missing dimension or ``nps`` column → that
  dimension's index and top-box rate (or the nps) missing. Denominator 0 → value None
  with reason ``样本为0…``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from selfcheck.metrics.base import Measure
from selfcheck.metrics.catalogue import (
    REASON_EMPTY,
    area_ids,
    reason_no_column,
    reason_no_dataset,
)
from selfcheck.schema import DATASETS
from selfcheck.thresholds import Thresholds

DATASET = "surveys"

DIMENSIONS: tuple[str, ...] = ("attitude", "speed", "expertise", "resolution", "value")
SCORE_COLUMNS: tuple[str, ...] = ("overall", *DIMENSIONS)

DIMENSION_TOP_BOX_IDS: tuple[str, ...] = tuple(
    f"satisfaction.top_box_rate.dimension:{d}" for d in DIMENSIONS
)


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _valid(values: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & (values >= low) & (values <= high)


def _top_box(values: np.ndarray, scale: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return values * 5.0 >= scale * 4.0


def _index(values: np.ndarray, scale: int, empty_reason: str) -> Measure:
    n = int(values.size)
    if n == 0:
        return Measure(None, None, None, 0, empty_reason, sampled=True)
    value = float(np.mean(values)) / scale * 100.0
    sd = float(np.std(values / scale * 100.0, ddof=1)) if n > 1 else None
    return Measure(value, None, None, n, sampled=True, sd=sd)


def _rate(numerator: int, denominator: int, empty_reason: str) -> Measure:
    return replace(Measure.ratio(numerator, denominator, empty_reason=empty_reason), sampled=True)


def _missing(reason: str, *, sampled: bool = True) -> Measure:
    return replace(Measure.missing(reason), sampled=sampled)


def _zh(column: str) -> str:
    return DATASETS[DATASET].column(column).zh


def excluded_scores(surveys: pd.DataFrame | None, th: Thresholds) -> dict[str, int]:
    """Known values outside their range, per column (scores 1..scale, nps 0..10).

    These values are left out of the satisfaction figures; the counts are for the
    data-quality appendix. Only columns present in the frame are listed.
    """
    if surveys is None:
        return {}
    out: dict[str, int] = {}
    for column in (*SCORE_COLUMNS, "nps"):
        if column not in surveys.columns:
            continue
        x = _numbers(surveys[column])
        low, high = (0.0, 10.0) if column == "nps" else (1.0, float(th.survey_scale))
        out[column] = int((~np.isnan(x) & ~_valid(x, low, high)).sum())
    return out


def satisfaction(surveys: pd.DataFrame | None, th: Thresholds) -> dict[str, Measure]:
    """Every ``satisfaction.*`` metric of the catalogue, plus the dimension and segment keys."""
    ids = area_ids("satisfaction")
    sampled_ids = {i for i in ids if i not in ("satisfaction.responses", "satisfaction.nps")}
    if surveys is None:
        reason = reason_no_dataset(DATASET)
        out = {i: _missing(reason, sampled=i in sampled_ids) for i in ids}
        out.update({i: _missing(reason) for i in DIMENSION_TOP_BOX_IDS})
        return out

    scale = th.survey_scale
    cols = surveys.columns
    out: dict[str, Measure] = {}

    # -- overall --------------------------------------------------------------
    segment_index: dict[str, Measure] = {}
    segment_top: dict[str, Measure] = {}
    if "overall" not in cols:  # required; should not happen after ingest
        reason = reason_no_column(DATASET, "overall")
        out["satisfaction.responses"] = Measure.missing(reason)
        out["satisfaction.index"] = _missing(reason)
        out["satisfaction.top_box_rate"] = _missing(reason)
    else:
        overall = _numbers(surveys["overall"])
        valid = _valid(overall, 1.0, float(scale))
        top = valid & _top_box(overall, scale)
        n_valid = int(valid.sum())
        empty = f"{REASON_EMPTY}：无总体满意度有效的问卷"
        out["satisfaction.responses"] = Measure.count(n_valid)
        out["satisfaction.index"] = _index(overall[valid], scale, empty)
        out["satisfaction.top_box_rate"] = _rate(int(top.sum()), n_valid, empty)
        if "segment" in cols:
            segment_index, segment_top = _segments(surveys["segment"], overall, valid, top, scale)

    # -- dimensions -------------------------------------------------------------
    for dim in DIMENSIONS:
        index_id = f"satisfaction.index.{dim}"
        top_id = f"satisfaction.top_box_rate.dimension:{dim}"
        if dim not in cols:
            reason = reason_no_column(DATASET, dim)
            out[index_id] = _missing(reason)
            out[top_id] = _missing(reason)
            continue
        x = _numbers(surveys[dim])
        valid = _valid(x, 1.0, float(scale))
        empty = f"{REASON_EMPTY}：无“{_zh(dim)}”有效评分的问卷"
        out[index_id] = _index(x[valid], scale, empty)
        out[top_id] = _rate(int((valid & _top_box(x, scale)).sum()), int(valid.sum()), empty)

    # -- NPS --------------------------------------------------------------------
    if "nps" not in cols:
        out["satisfaction.nps"] = Measure.missing(reason_no_column(DATASET, "nps"))
    else:
        x = _numbers(surveys["nps"])
        valid = _valid(x, 0.0, 10.0)
        n = int(valid.sum())
        if n == 0:
            out["satisfaction.nps"] = Measure(
                None, None, None, 0, f"{REASON_EMPTY}：无推荐意愿有效（0–10分）的问卷"
            )
        else:
            promoters = int((valid & (x >= 9)).sum())
            detractors = int((valid & (x <= 6)).sum())
            out["satisfaction.nps"] = Measure((promoters - detractors) / n * 100.0, None, None, n)

    result = {i: out[i] for i in ids}
    result.update({i: out[i] for i in DIMENSION_TOP_BOX_IDS})
    result.update(segment_index)
    result.update(segment_top)
    return result


def _segments(
    segment: pd.Series, overall: np.ndarray, valid: np.ndarray, top: np.ndarray, scale: int
) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Index and top-box rate of ``overall`` per segment (descending n, then name)."""
    seg = segment.astype("string").str.strip()
    keep = valid & seg.notna().to_numpy(dtype=bool) & seg.ne("").fillna(False).to_numpy(dtype=bool)
    if not keep.any():
        return {}, {}
    frame = pd.DataFrame(
        {
            "segment": seg.to_numpy(dtype=object)[keep],
            "x": overall[keep],
            "scaled": overall[keep] / scale * 100.0,
            "top": top[keep].astype(np.int64),
        }
    )
    g = frame.groupby("segment", sort=False)
    agg = pd.DataFrame(
        {
            "n": g["x"].size(),
            "mean": g["x"].mean(),
            "sd": g["scaled"].std(ddof=1),
            "top": g["top"].sum(),
        }
    )
    agg = agg.sort_index(kind="stable").sort_values("n", ascending=False, kind="stable")
    index: dict[str, Measure] = {}
    top_box: dict[str, Measure] = {}
    for key, n, mean, sd, n_top in zip(
        agg.index, agg["n"], agg["mean"], agg["sd"], agg["top"], strict=True
    ):  # one iteration per segment, not per row
        n = int(n)
        sd_value = None if n < 2 or np.isnan(sd) else float(sd)
        index[f"satisfaction.index.segment:{key}"] = Measure(
            float(mean) / scale * 100.0, None, None, n, sampled=True, sd=sd_value
        )
        top_box[f"satisfaction.top_box_rate.segment:{key}"] = _rate(int(n_top), n, REASON_EMPTY)
    return index, top_box


def valid_scores(surveys: pd.DataFrame, th: Thresholds, column: str = "overall") -> pd.Series:
    """A score column with the invalid scores (unknown, outside 1..scale) as NaN; all NaN
    when the column is absent. Same index as ``surveys``."""
    if column not in surveys.columns:
        return pd.Series(np.nan, index=surveys.index)
    x = pd.to_numeric(surveys[column], errors="coerce")
    return x.where(x.between(1, th.survey_scale))


def blank_segments(surveys: pd.DataFrame | None) -> int | None:
    """Responses whose ``segment`` is empty or blank (None without the column)."""
    if surveys is None or "segment" not in surveys.columns:
        return None
    return int(surveys["segment"].astype("string").str.strip().fillna("").eq("").sum())
