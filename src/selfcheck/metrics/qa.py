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

The figures the catalogue does not hold, for the quality section, follow the same
conventions: :func:`sampling_by_source` (reviews and sampling base per source),
:func:`review_frame` (one row per review), :func:`agent_frame` (one row per agent, from the
agent metrics), :func:`critical_by_team`, :func:`agent_spread` (quartiles of agent means),
:func:`lowest_agents` and :func:`score_histogram`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from selfcheck.metrics.base import Measure, Metric, Target
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
TEAM_PREFIX = "qa.score_mean.team:"
AGENT_PREFIX = "qa.score_mean.agent:"
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
        base += _base_count(source, frame)
    if problems:
        return Measure.missing("；".join(problems))
    return Measure.ratio(
        n_reviews,
        base,
        empty_reason=f"{REASON_EMPTY}：抽样基数为0（来源：{'、'.join(sources)}）",
    )


def _base_count(source: str, frame: pd.DataFrame) -> int:
    """The sampling base of one source in its frame (which has the column it needs)."""
    if source == "call":
        return int(frame["outcome"].eq("answered").fillna(False).to_numpy(dtype=bool).sum())
    if source == "chat":
        return int(frame["first_reply_at"].notna().sum())
    return len(frame)


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


# -- figures of the quality section beyond the catalogue ------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """Reviews and sampling base of one source, as ``qa.sampling_rate`` counts them."""

    source: str  # a QA source, or "" for reviews without one
    reviews: int | None  # None: the reviews do not say their source
    base: int | None  # None: not counted (no data, or not a source of the base)
    reason: str | None = None  # why the base is not counted (a reason_no_* text)

    @property
    def rate(self) -> float | None:
        if self.reviews is None or not self.base:
            return None
        return self.reviews / self.base


def sampling_by_source(
    reviews: pd.DataFrame | None,
    *,
    calls: pd.DataFrame | None = None,
    chats: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
) -> list[SourceRow]:
    """Reviews and sampling base per source ([] without reviews).

    The sources are those occurring in the reviews (all four, with ``reviews`` None, when
    none says its source); a last row with ``source == ""`` counts reviews without a
    source, when some have one and others not.
    """
    if reviews is None:
        return []
    frames = {"calls": calls, "chats": chats, "tickets": tickets, "visits": visits}
    by_source: dict[str, int] = {}
    unknown = 0
    if "source" in reviews.columns:
        counts = reviews["source"].astype("string").str.strip().value_counts()
        by_source = {s: int(counts.get(s, 0)) for s in QA_SOURCES if counts.get(s, 0)}
        unknown = len(reviews) - sum(by_source.values())
    rows = []
    for source in tuple(by_source) or QA_SOURCES:
        dataset, column = _BASE[source]
        frame = frames[dataset]
        if frame is None:
            base, reason = None, reason_no_dataset(dataset)
        elif column is not None and column not in frame.columns:
            base, reason = None, reason_no_column(dataset, column)
        else:
            base, reason = _base_count(source, frame), None
        rows.append(SourceRow(source, by_source.get(source) if by_source else None, base, reason))
    if by_source and unknown:
        rows.append(SourceRow("", unknown, None))
    return rows


def review_frame(
    reviews: pd.DataFrame | None, pass_score: float, staff: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """One row per review: ``agent_id``, ``scored``, ``failed``, ``critical`` and, when staff
    has teams, ``team``; None without reviews, agent ids or one of the three dimensions.

    A review is scored when all three dimensions are valid, failed when scored and below
    the pass mark; ``critical`` is critical_error true (unknown counts as false).
    """
    if reviews is None or "agent_id" not in reviews.columns:
        return None
    if any(d not in reviews.columns for d in DIMENSIONS):
        return None
    total = dimension_total(reviews)
    scored = ~np.isnan(total)
    passed = passes(total, pass_score)
    if "critical_error" in reviews.columns:
        critical = reviews["critical_error"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    else:
        critical = np.zeros(len(reviews), dtype=bool)
    out = pd.DataFrame(
        {
            "agent_id": reviews["agent_id"].astype("string").to_numpy(dtype=object),
            "scored": scored,
            "failed": scored & ~passed,
            "critical": critical,
        }
    )
    team = agent_teams(out["agent_id"].to_numpy(dtype=object), staff)
    if team is not None:
        out["team"] = team
    return out


def agent_frame(
    agents: Sequence[Metric], reviews: pd.DataFrame | None, staff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per agent metric (``qa.score_mean.agent:*`` with a value), in their order:
    ``agent_id``, ``mean``, ``n``, ``ci_low``, ``ci_high``, ``small`` (small sample) and,
    from :func:`review_frame` ``reviews`` when given, ``failed`` and ``critical`` counts
    and ``team`` (when staff has teams)."""
    frame = pd.DataFrame(
        {
            "agent_id": [m.metric_id.split(":", 1)[1] for m in agents],
            "mean": [float(m.value) for m in agents],  # type: ignore[arg-type]
            "n": [int(m.n or 0) for m in agents],
            "ci_low": [m.ci_low for m in agents],
            "ci_high": [m.ci_high for m in agents],
            "small": [bool(m.small_sample) for m in agents],
        },
    )
    if reviews is not None and not frame.empty:
        per = reviews.groupby("agent_id", sort=False)[["failed", "critical"]].sum()
        frame = frame.join(per, on="agent_id")
        frame[["failed", "critical"]] = frame[["failed", "critical"]].fillna(0).astype(int)
        team = agent_teams(frame["agent_id"].to_numpy(dtype=object), staff)
        if team is not None:
            frame["team"] = team
    return frame


def critical_by_team(reviews: pd.DataFrame | None) -> pd.DataFrame:
    """Critical errors per team (columns ``team``, ``n``), by descending n, ties by team;
    empty without teams or critical errors."""
    empty = pd.DataFrame({"team": pd.Series(dtype=object), "n": pd.Series(dtype="int64")})
    if reviews is None or "team" not in reviews.columns:
        return empty
    counts = reviews.loc[reviews["critical"], "team"].value_counts()
    if counts.empty:
        return empty
    counts = counts.rename_axis("team").reset_index(name="n")
    return counts.sort_values(["n", "team"], ascending=[False, True], kind="stable")


def below_mark(means: np.ndarray | pd.Series, pass_score: float) -> np.ndarray:
    """Which means fall below the pass mark (a mean of exactly the mark does not)."""
    return np.asarray(means, dtype=float) < pass_score - PASS_TOLERANCE


def quartiles(values: np.ndarray | pd.Series) -> tuple[float, float, float, float, float]:
    """Minimum, lower quartile, median, upper quartile, maximum (linear interpolation)."""
    q = np.percentile(np.asarray(values, dtype=float), [0, 25, 50, 75, 100])
    return tuple(float(v) for v in q)  # type: ignore[return-value]


SPREAD_COLUMNS = ("agents", "min", "q1", "median", "q3", "max", "below")


def agent_spread(
    agents: pd.DataFrame, pass_score: float, *, by: str | None = None, order: Sequence = ()
) -> pd.DataFrame:
    """Spread of the agent means of :func:`agent_frame`: per group of column ``by`` (in
    ``order``, groups absent from the frame left out), or one row for all agents (index
    ``""``) when ``by`` is None. Columns :data:`SPREAD_COLUMNS`: agents, the five
    :func:`quartiles` and the number of agents below the pass mark."""
    if by is None:
        groups = [("", agents)]
    else:
        parts = dict(tuple(agents.groupby(by, sort=False)))
        groups = [(g, parts[g]) for g in order if g in parts]
    rows = [
        (len(part), *quartiles(part["mean"]), int(below_mark(part["mean"], pass_score).sum()))
        for _, part in groups  # one iteration per group, not per agent
    ]
    return pd.DataFrame(rows, columns=list(SPREAD_COLUMNS), index=[g for g, _ in groups])


def lowest_agents(
    agents: pd.DataFrame, pass_score: float, *, at_least: int = 5, at_most: int = 10
) -> pd.DataFrame:
    """The agents to list: at least the ``at_least`` lowest means, every agent below the pass
    mark up to ``at_most``; ascending mean, ties by agent id."""
    ordered = agents.sort_values(["mean", "agent_id"], kind="stable")
    below = int(below_mark(ordered["mean"], pass_score).sum())
    return ordered.head(min(max(at_least, below), at_most))


@dataclass(frozen=True)
class Histogram:
    """Agents per bin of mean score: ``edges`` (each bin holds its lower edge, not its upper
    one), bin ``width`` and counts per group — ``below`` the pass mark, ``short`` (not below
    it but short of the target) and ``met`` (the target, or not below the mark without one)."""

    edges: np.ndarray
    width: float
    below: np.ndarray
    short: np.ndarray
    met: np.ndarray


def score_histogram(
    means: np.ndarray | pd.Series, pass_score: float, target: Target | None = None
) -> Histogram:
    """Bins of 1, 2 or 5 points (span of means, mark and target ≤ 30, ≤ 60, more), aligned
    on multiples of the width and covering the means, the mark and the target."""
    x = np.asarray(means, dtype=float)
    refs = [pass_score] + ([target.value] if target is not None else [])
    left, right = min(float(x.min()), *refs), max(float(x.max()), *refs)
    span = right - left
    width = 1.0 if span <= 30 else 2.0 if span <= 60 else 5.0
    start = np.floor(left / width) * width
    stop = np.floor(right / width) * width + width
    edges = np.arange(start, stop + width / 2, width)
    fails = below_mark(x, pass_score)
    meets = np.asarray(target.met(x), dtype=bool) if target is not None else ~fails  # type: ignore[arg-type]
    counts = [
        np.histogram(x[mask], bins=edges)[0] for mask in (fails, ~fails & ~meets, ~fails & meets)
    ]
    return Histogram(edges, width, *counts)
