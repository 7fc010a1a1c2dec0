"""A group's consolidated records: each branch's dataset read as that branch's report
reads it (its own folder, checks and cache), then pooled into one frame.

The group's figures are computed from the pooled records, never from the branches'
figures: the group's answer rate is answered ÷ offered over every branch's calls.

Identifiers are the branch's own: two branches may both have a call ``C000001`` or an
agent ``KF001``. In the pooled frame every identifier column (``*_id``) and ``team`` is
prefixed with the branch's name (``华东分公司/KF001``), so records stay distinct across
branches and the links within a branch (a survey's ``ticket_id``) still hold. Nothing is
de-duplicated across branches: each branch's records are its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from selfcheck.ingest.records import DatasetQuality, Example
from selfcheck.schema import DatasetSpec

SEPARATOR = "/"


@dataclass(frozen=True)
class Member:
    """One branch as the pool sees it: its id, its name (the prefix) and its data folder."""

    id: str
    name: str
    folder: str


def prefixed_columns(spec: DatasetSpec) -> list[str]:
    """The columns of ``spec`` whose values name a record, a person or a team of a branch."""
    return [c.name for c in spec.columns if c.name.endswith("_id") or c.name == "team"]


def pool_frames(spec: DatasetSpec, frames: Sequence[tuple[Member, pd.DataFrame]]) -> pd.DataFrame:
    """The branches' frames of one dataset as one frame, identifiers prefixed by branch."""
    text = pd.StringDtype("pyarrow")  # as ingest gives text: Arrow-backed, not objects
    names = [c.name for c in spec.columns]
    out = []
    for member, frame in frames:
        frame = frame.copy(deep=False)
        for column in prefixed_columns(spec):
            if column in frame.columns:
                values = frame[column].astype(text)
                frame[column] = (member.name + SEPARATOR + values).where(values.notna())
        ordered = [c for c in names if c in frame.columns]
        out.append(frame[ordered + [c for c in frame.columns if c not in ordered]])
    return pd.concat(out, ignore_index=True, sort=False)


def pool_quality(
    spec: DatasetSpec, qualities: Sequence[tuple[Member, DatasetQuality]]
) -> DatasetQuality:
    """One record for the pooled dataset: the branches' counts summed, each branch's own
    record in ``parts`` (``part`` = branch id, ``folder`` = its data folder)."""
    parts = []
    excluded: dict[str, int] = {}
    examples: list[Example] = []
    notes: list[str] = []
    for member, q in qualities:
        own = DatasetQuality.from_dict(q.to_dict())
        own.part, own.folder = member.id, member.folder
        parts.append(own)
        for reason, rows in q.excluded.items():
            excluded[reason] = excluded.get(reason, 0) + rows
        examples += [
            Example(
                e.line,
                e.column,
                e.value,
                e.reason,
                e.sheet,
                f"{member.name}{SEPARATOR}{e.file or q.file}",
            )
            for e in q.examples
        ]
        notes += [f"{member.name}：{note}" for note in q.notes]
    present = [
        c.name for c in spec.columns if any(c.name in q.optional_columns_present for q in parts)
    ]
    for column in present:
        without = [m.name for m, q in qualities if column not in q.optional_columns_present]
        if without:
            notes.append(
                f"可选列 {column} 在 {'、'.join(without)} 的文件中没有，这些机构的记录中 {column} 为空"
                f" (optional column {column} missing in some branches)"
            )
    digest = hashlib.sha256(
        "\n".join(f"{m.id} {q.sha256}" for m, q in qualities).encode("utf-8")
    ).hexdigest()
    formats = list(dict.fromkeys(q.format for _, q in qualities))
    return DatasetQuality(
        name=spec.name,
        file="、".join(f"{m.name}{SEPARATOR}{q.file}" for m, q in qualities),
        sha256=digest,
        rows_read=sum(q.rows_read for _, q in qualities),
        rows_kept=sum(q.rows_kept for _, q in qualities),
        excluded=excluded,
        examples=examples,
        optional_columns_present=present,
        optional_columns_missing=[
            c
            for c in dict.fromkeys(x for _, q in qualities for x in q.optional_columns_missing)
            if c not in present
        ],
        empty_days=min((q.empty_days for _, q in qualities), default=0),
        format="、".join(formats),
        notes=notes,
        parts=parts,
    )
