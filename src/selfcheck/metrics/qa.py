"""Quality-inspection metrics (dataset ``qa_reviews``): see the Quality inspection table of
``spec/metrics.md``.

``qa(reviews, th, *, staff, calls, chats, tickets, visits)`` returns a :class:`Measure` for
every ``qa.*`` id of the catalogue, then these breakdowns of ``qa.score_mean``, in this
order:

- ``qa.score_mean.dimension:<professionalism|compliance|experience>`` (always all three);
- ``qa.score_mean.team:<team>``: teams by descending n (scored reviews), ties by name
  (code points), ``未知班组`` last whatever its n;
- ``qa.score_mean.agent:<agent_id>``: every agent with a scored review, in agent_id order.

Conventions of this module (where the spec leaves a choice):

- A dimension value is valid when known and 0 ≤ value ≤ 100; a value outside that range
  is treated as empty (and counted by :func:`excluded_scores`). A review's score = mean of
  its three dimensions, known only when all three are valid. After ingest (all three
  columns are required, negatives are bad rows) this is every review unless a value is
  above 100.
- ``qa.score_mean`` and every breakdown: mean of the known scores (a dimension key: of
  that dimension's valid values); ``sampled``, n = observations, ``sd`` = sample standard
  deviation (ddof=1), None with a single observation; numerator/denominator None.
- Pass: score ≥ ``qa_pass_score``, compared as ``p + c + e ≥ 3 × pass mark`` with a
  tolerance of 1e-9 for float noise only (a score of exactly 80 passes). ``pass_rate`` =
  passing reviews ÷ reviews with a score (= all reviews after ingest); ``sampled``.
- ``critical_error_rate``: critical_error true ÷ reviews with it known; ``sampled``.
- Sampling base per source: ``call`` answered calls; ``chat`` chats with ``first_reply_at``
  known (a human reply, whatever ``bot_only`` says); ``ticket`` all tickets; ``visit`` all
  visits — each the period's frame as given. Sources counted: those that occur (non-empty)
  in the reviews; every source when the ``source`` column is absent or empty in every
  review. ``sampling_rate`` = all reviews (also those with an empty source) ÷ base; not
  sampled. A needed frame that is None, or a needed column it lacks, makes the rate
  missing with a reason naming every such frame/column.
- Team: ``team`` of the reviewed agent in ``staff`` (by ``agent_id``); an agent not in
  ``staff``, or with an empty team, goes under ``未知班组``. Without ``staff`` (or without
  its ``team`` column) there are no team keys.
- A missing frame → every metric missing (dimension keys too; no team or agent keys). A
  missing ``critical_error`` column → only that rate. Denominator 0 → value None with
  reason ``样本为0…``.
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
from selfcheck.schema import DATASETS, QA_SOURCES
from selfcheck.thresholds import Thresholds

DATASET = "qa_reviews"

DIMENSIONS: tuple[str, ...] = ("professionalism", "compliance", "experience")
DIMENSION_IDS: tuple[str, ...] = tuple(f"qa.score_mean.dimension:{d}" for d in DIMENSIONS)
UNKNOWN_TEAM = "未知班组"

# source → (dataset, column needed to count the base, or None for every row)
_BASE = {
    "call": ("calls", "outcome"),
    "chat": ("chats", "first_reply_at"),
    "ticket": ("tickets", None),
    "visit": ("visits", None),
}

PASS_TOLERANCE = 1e-9  # float noise only: a score of exactly the pass mark passes


def _numbers(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _dimension(s: pd.Series) -> np.ndarray:
    """A dimension's values with those outside 0..100 set to NaN."""
    x = _numbers(s)
    with np.errstate(invalid="ignore"):
        return np.where((x < 0) | (x > 100), np.nan, x)


def dimension_total(reviews: pd.DataFrame) -> np.ndarray:
    """Per review, the sum of the three dimensions; NaN when one is empty or outside 0..100."""
    return (
        _dimension(reviews["professionalism"])
        + _dimension(reviews["compliance"])
        + _dimension(reviews["experience"])
    )


def passes(total: np.ndarray, pass_score: float) -> np.ndarray:
    """Whether each review passes: a known score ≥ the pass mark (``p + c + e ≥ 3 × mark``)."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(total) & (total >= 3.0 * pass_score - PASS_TOLERANCE)


def _mean(values: np.ndarray, empty_reason: str) -> Measure:
    n = int(values.size)
    if n == 0:
        return Measure(None, None, None, 0, empty_reason, sampled=True)
    sd = float(np.std(values, ddof=1)) if n > 1 else None
    return Measure(float(np.mean(values)), None, None, n, sampled=True, sd=sd)


def _missing(reason: str, *, sampled: bool) -> Measure:
    return replace(Measure.missing(reason), sampled=sampled)


def _zh(column: str) -> str:
    return DATASETS[DATASET].column(column).zh


def excluded_scores(reviews: pd.DataFrame | None) -> dict[str, int]:
    """Known dimension values outside 0..100, per column (for the data-quality appendix)."""
    if reviews is None:
        return {}
    out = {}
    for d in DIMENSIONS:
        if d in reviews.columns:
            x = _numbers(reviews[d])
            with np.errstate(invalid="ignore"):
                out[d] = int(((x < 0) | (x > 100)).sum())
    return out


def qa(
    reviews: pd.DataFrame | None,
    th: Thresholds,
    *,
    staff: pd.DataFrame | None = None,
    calls: pd.DataFrame | None = None,
    chats: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
) -> dict[str, Measure]:
    """Every ``qa.*`` metric of the catalogue, plus the score breakdowns."""
    ids = area_ids("qa")
    sampled_ids = {"qa.score_mean", "qa.pass_rate", "qa.critical_error_rate"}
    if reviews is None:
        reason = reason_no_dataset(DATASET)
        out = {i: _missing(reason, sampled=i in sampled_ids) for i in ids}
        out.update({i: _missing(reason, sampled=True) for i in DIMENSION_IDS})
        return out

    cols = reviews.columns
    n_reviews = len(reviews)
    out: dict[str, Measure] = {"qa.reviews": Measure.count(n_reviews)}
    frames = {"calls": calls, "chats": chats, "tickets": tickets, "visits": visits}
    out["qa.sampling_rate"] = _sampling_rate(reviews, n_reviews, frames)

    # -- scores -------------------------------------------------------------------
    absent = [d for d in DIMENSIONS if d not in cols]
    values = {d: _dimension(reviews[d]) for d in DIMENSIONS if d not in absent}
    for d in DIMENSIONS:
        key = f"qa.score_mean.dimension:{d}"
        if d in absent:
            out[key] = _missing(reason_no_column(DATASET, d), sampled=True)
        else:
            x = values[d]
            out[key] = _mean(x[~np.isnan(x)], f"{REASON_EMPTY}：无“{_zh(d)}”有效评分的质检记录")
    teams: dict[str, Measure] = {}
    agents: dict[str, Measure] = {}
    if absent:  # required columns; should not happen after ingest
        reason = reason_no_column(DATASET, absent[0])
        out["qa.score_mean"] = _missing(reason, sampled=True)
        out["qa.pass_rate"] = _missing(reason, sampled=True)
    else:
        total = dimension_total(reviews)
        scored = ~np.isnan(total)
        score = total / 3.0
        empty = f"{REASON_EMPTY}：无三项评分均有效的质检记录"
        out["qa.score_mean"] = _mean(score[scored], empty)
        passed = passes(total, th.qa_pass_score)
        out["qa.pass_rate"] = replace(
            Measure.ratio(int(passed.sum()), int(scored.sum()), empty_reason=empty), sampled=True
        )
        if "agent_id" in cols:
            # agents factorised once; teams looked up per distinct agent, not per review
            codes, agent_ids = pd.factorize(reviews["agent_id"].astype("string"))
            agent_ids = np.asarray(agent_ids, dtype=object)
            agents = _group_means(
                codes, agent_ids, score, scored, "qa.score_mean.agent:", by_size=False
            )
            agent_team = agent_teams(agent_ids, staff)
            if agent_team is not None:
                team_codes, team_names = pd.factorize(agent_team)
                review_team = np.where(codes >= 0, team_codes[np.clip(codes, 0, None)], -1)
                teams = _group_means(
                    review_team,
                    np.asarray(team_names, dtype=object),
                    score,
                    scored,
                    "qa.score_mean.team:",
                    by_size=True,
                )
                unknown = f"qa.score_mean.team:{UNKNOWN_TEAM}"
                if unknown in teams:  # unknown team last
                    teams[unknown] = teams.pop(unknown)

    if "critical_error" not in cols:
        out["qa.critical_error_rate"] = _missing(
            reason_no_column(DATASET, "critical_error"), sampled=True
        )
    else:
        b = reviews["critical_error"].astype("boolean")
        known = b.notna().to_numpy(dtype=bool)
        critical = b.fillna(False).to_numpy(dtype=bool)
        out["qa.critical_error_rate"] = replace(
            Measure.ratio(
                int((critical & known).sum()),
                int(known.sum()),
                empty_reason=f"{REASON_EMPTY}：无“致命差错”已填写的质检记录",
            ),
            sampled=True,
        )

    result = {i: out[i] for i in ids}
    result.update({i: out[i] for i in DIMENSION_IDS})
    result.update(teams)
    result.update(agents)
    return result


_SOURCE_ZH = {
    "call": "电话质检（人工接听来电）",
    "chat": "在线质检（获人工回复的会话）",
    "ticket": "工单质检",
    "visit": "现场服务质检",
}


def _sampling_rate(
    reviews: pd.DataFrame, n_reviews: int, frames: dict[str, pd.DataFrame | None]
) -> Measure:
    sources: tuple[str, ...] = QA_SOURCES
    if "source" in reviews.columns:
        present = set(reviews["source"].astype("string").dropna().unique())
        occurring = tuple(s for s in QA_SOURCES if s in present)
        if occurring:
            sources = occurring
    problems: list[str] = []
    base = 0
    for source in sources:
        dataset, column = _BASE[source]
        frame = frames[dataset]
        if frame is None:
            problems.append(f"{reason_no_dataset(dataset)}，无法计算{_SOURCE_ZH[source]}的抽样基数")
            continue
        if column is not None and column not in frame.columns:
            problems.append(
                f"{DATASETS[dataset].zh}数据{reason_no_column(dataset, column)}，"
                f"无法计算{_SOURCE_ZH[source]}的抽样基数"
            )
            continue
        if source == "call":
            base += int(frame["outcome"].eq("answered").fillna(False).to_numpy(dtype=bool).sum())
        elif source == "chat":
            base += int(frame["first_reply_at"].notna().sum())
        else:
            base += len(frame)
    if problems:
        return Measure.missing("；".join(problems))
    return Measure.ratio(
        n_reviews,
        base,
        empty_reason=f"{REASON_EMPTY}：抽样基数为0（来源：{'、'.join(sources)}）",
    )


def agent_teams(agent_ids: np.ndarray, staff: pd.DataFrame | None) -> np.ndarray | None:
    """The team of each agent (``未知班组`` when unknown); None without staff teams."""
    if staff is None or not {"agent_id", "team"} <= set(staff.columns):
        return None
    lookup = pd.Series(
        staff["team"].astype("string").str.strip().to_numpy(dtype=object),
        index=staff["agent_id"].astype("string").to_numpy(dtype=object),
    )
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    team = pd.Series(agent_ids, dtype=object).map(lookup).astype("string")
    unknown = (team.isna() | team.eq("").fillna(True)).to_numpy(dtype=bool)
    return np.where(unknown, UNKNOWN_TEAM, team.to_numpy(dtype=object))


def _group_means(
    codes: np.ndarray,
    names: np.ndarray,
    score: np.ndarray,
    scored: np.ndarray,
    prefix: str,
    *,
    by_size: bool,
) -> dict[str, Measure]:
    """Mean score (with sd, ddof=1) per group code (−1: no group).

    Groups in name order (code points), or by descending n first, ties by name.
    """
    keep = scored & (codes >= 0)
    k = len(names)
    c, x = codes[keep], score[keep]
    n = np.bincount(c, minlength=k)
    total = np.bincount(c, weights=x, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        # two passes (deviations from the group mean), not Σx² − (Σx)²/n
        ss = np.bincount(c, weights=(x - mean[c]) ** 2, minlength=k)
        sd = np.sqrt(ss / (n - 1))
    order = sorted((g for g in range(k) if n[g] > 0), key=lambda g: str(names[g]))
    if by_size:
        order.sort(key=lambda g: -n[g])  # stable: ties stay in name order
    out: dict[str, Measure] = {}
    for g in order:  # one iteration per group, not per row
        sd_value = float(sd[g]) if n[g] > 1 else None
        out[f"{prefix}{names[g]}"] = Measure(
            float(mean[g]), None, None, int(n[g]), sampled=True, sd=sd_value
        )
    return out
