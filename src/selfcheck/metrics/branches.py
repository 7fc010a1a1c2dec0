"""Branches side by side, for a group's consolidated report.

Each branch's figures are those of its own report (its saved section results); the
group's are computed from the pooled records (``ingest/group.py``), never from these.

Conventions (where the contract leaves a choice):

- Compared: every metric of the group's report with a target, without the breakdowns
  (``qa.score_mean.agent:…``), in report order.
- Status: against the **branch's** own target (a branch may have its own standards
  file); ``无数据`` when the branch has no value.
- Rank: 1 is best. Higher is better for a ``>=`` target, lower for ``<=``; for ``==``
  the nearer to the target the better. Equal values share the best rank (1, 1, 3);
  branches without a value are not ranked.
- Change: the value less the branch's previous period's (in the metric's unit; rates
  in 个百分点 when shown).
- Shortfalls of a branch: its metrics short of their target; one is **serious** when its
  relative gap (:func:`selfcheck.problems.relative_gap`) makes it 严重
  (:func:`selfcheck.problems.level_of`). Branches are ordered by serious shortfalls,
  then by shortfalls, then in the order of ``branches:``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from selfcheck.metrics.base import STATUS_NO_DATA, Metric
from selfcheck.problems import level_of, relative_gap

SERIOUS = "严重"


@dataclass(frozen=True)
class BranchFigures:
    """One branch's figures of the period (empty when it has no report: ``missing``)."""

    id: str
    name: str
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    missing: str = ""  # why there are no figures (a branch left out of the group)


def compared_ids(group: Sequence[Metric]) -> list[str]:
    """The metric ids compared across branches: the group's metrics with a target."""
    return [m.metric_id for m in group if m.target is not None and ":" not in m.metric_id]


def _status(m: Metric | None) -> str:
    """``Metric.status``; a branch without the figure or its target has no data to compare."""
    return STATUS_NO_DATA if m is None or m.target is None else m.status


def _rank_key(m: Metric) -> float:
    assert m.value is not None and m.target is not None
    v = float(m.value)
    if m.target.comparator == ">=":
        return -v
    if m.target.comparator == "<=":
        return v
    return abs(v - m.target.value)


def comparison(metric_id: str, branches: Sequence[BranchFigures]) -> pd.DataFrame:
    """One row per branch: ``branch`` (name), ``value``, ``target`` (the branch's),
    ``status``, ``rank`` (Int64, NA unranked) and ``change`` (value − previous)."""
    rows = []
    for b in branches:
        m = b.metrics.get(metric_id)
        value = None if m is None else m.value
        previous = None if m is None else m.previous
        rows.append(
            {
                "branch": b.name,
                "value": value,
                "target": None if m is None else m.target,
                "status": _status(m) if not b.missing else "未纳入",
                "key": _rank_key(m) if m is not None and value is not None and m.target else None,
                "change": (
                    float(value) - float(previous)
                    if value is not None and previous is not None
                    else None
                ),
            }
        )
    frame = pd.DataFrame(rows)
    keys = pd.to_numeric(frame["key"], errors="coerce")
    frame["rank"] = keys.rank(method="min").astype("Int64")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["change"] = pd.to_numeric(frame["change"], errors="coerce")
    return frame.drop(columns="key")


@dataclass(frozen=True)
class Shortfalls:
    """A branch's metrics short of their target: all of them, the serious ones, the worst."""

    branch: str
    short: tuple[Metric, ...]
    serious: tuple[Metric, ...]

    @property
    def worst(self) -> Metric | None:
        return max(self.short, key=relative_gap) if self.short else None


def shortfalls(branches: Sequence[BranchFigures], ids: Sequence[str]) -> list[Shortfalls]:
    """Each branch with a report: its shortfalls among ``ids``, the most serious first."""
    out = []
    for b in branches:
        if b.missing:
            continue
        short = tuple(
            m for i in ids if (m := b.metrics.get(i)) is not None and _status(m) == "未达标"
        )
        serious = tuple(m for m in short if level_of(relative_gap(m)) == SERIOUS)
        out.append(Shortfalls(b.name, short, serious))
    order = {b.name: i for i, b in enumerate(branches)}
    return sorted(out, key=lambda s: (-len(s.serious), -len(s.short), order[s.branch]))
