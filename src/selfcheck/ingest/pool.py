"""A longer period from its part folders (``data_from: quarters`` or ``months``).

A year (or half-year) report can read the quarter (or month) folders the analyst
already has instead of one folder for the whole period. Each part file of a dataset is
read as usual (typed, checked, its bad rows excluded) but *for the whole period*: a
record belongs to the year when its anchor column (``schema.DatasetSpec.anchor``, the
start of the record) lies in the year, whichever part file it was exported in. The part
tables are then pooled into one table, so the metrics see the year's records as if one
export held them (the year's answer rate is answered ÷ offered over the year):

* a record exported in two part files (the same id: a ticket opened in March, open in
  the Q1 export and closed in the Q2 one) is **one record: the later part's row is
  kept** (the later export knows what became of it), the earlier one is excluded under
  :data:`~selfcheck.ingest.records.SUPERSEDED`, counted, not a bad row;
* a part file most of whose rows lie in another part is the wrong folder's export: the
  same stop as for a single folder (:func:`~selfcheck.ingest.read._wrong_period`);
* the pooled quality record sums the parts' and keeps each part file's own record
  (with its folder) in ``parts``.

Pooling happens here, at ingest; the cache holds the pooled table (``store.py``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from selfcheck.ingest.read import Ingested, _ms, _wrong_period
from selfcheck.ingest.records import SUPERSEDED, DatasetQuality, Example
from selfcheck.period import Period
from selfcheck.schema import DatasetSpec

SHOWN_IDS = 3  # ids named in the note on records exported twice
POOL_VERSION = 1  # bump when pooling changes the pooled table or its record (cache key)


@dataclass(frozen=True)
class PartFolder:
    """One part of a longer period: its period, its folder, a short label, present or not."""

    period: Period
    folder: Path
    label: str  # the folder relative to the parts' common parent: ``2026Q1``
    present: bool  # the folder exists and holds at least one dataset file

    def to_dict(self) -> dict:
        return {
            "period": str(self.period),
            "folder": str(self.folder),
            "label": self.label,
            "present": self.present,
        }


def labels(folders: list[Path]) -> list[str]:
    """Each folder relative to their common parent (``2026Q1``, ``2026Q1/exports``)."""
    if not folders:
        return []
    if len(folders) == 1:
        return [folders[0].name]
    root = Path(os.path.commonpath([str(f) for f in folders]))
    return [f.relative_to(root).as_posix() or f.name for f in folders]


def missing_text(period: Period, missing: list[PartFolder]) -> str:
    """``2026Q4（/data/2026Q4）`` … for messages and the record."""
    return "、".join(f"{p.period}（{p.folder}）" for p in missing)


def partial_text(period: Period, parts: list[PartFolder]) -> str:
    """The sentence the report's appendix gives a partial period (empty when complete)."""
    missing = [p for p in parts if not p.present]
    if not missing:
        return ""
    present = [p for p in parts if p.present]
    covered = "、".join(str(p.period) for p in present)
    return (
        f"本报告为部分期间：{period.title_zh}缺少 {'、'.join(str(p.period) for p in missing)}"
        f" 的数据（参数 data_from.allow_partial），各项数据仅涵盖 {covered}。"
    )


def pool(
    spec: DatasetSpec,
    period: Period,
    got: list[tuple[PartFolder, Path, Ingested]],
    *,
    lacking: list[PartFolder],
    max_outside_share: float,
    min_bad_rows: int,
) -> Ingested:
    """The part files' rows (each already read for ``period``) as one table and one record.

    ``lacking``: present parts whose folder has no file of this dataset (noted).
    """
    tables = [g.table for _, _, g in got]
    for part, path, g in got:
        if not spec.snapshot:
            _check_part(spec, part, path, g.table, max_outside_share, min_bad_rows)
    table = _concat(tables, spec)
    keep, superseded = _later_wins(table, spec, [t.num_rows for t in tables])
    if keep is not None:
        table = table.filter(pa.array(keep))
    quality = _pooled_quality(spec, period, got, table, superseded, lacking)
    return Ingested(table, quality)


def _check_part(
    spec: DatasetSpec,
    part: PartFolder,
    path: Path,
    table: pa.Table,
    max_outside_share: float,
    min_bad_rows: int,
) -> None:
    """A part file whose rows mostly lie in another part: the wrong folder's export."""
    if spec.anchor not in table.column_names or not table.num_rows:
        return
    anchor = table.column(spec.anchor).cast(pa.int64()).to_numpy(zero_copy_only=False)
    anchor = np.nan_to_num(anchor, nan=-(2**62)).astype(np.int64)
    dated = np.ones(len(anchor), dtype=bool)
    outside = (anchor < _ms(part.period.start)) | (anchor >= _ms(part.period.end))
    n_outside = int(outside.sum())
    if n_outside > max_outside_share * len(anchor) and n_outside >= min_bad_rows:
        raise _wrong_period(path, spec, part.period, anchor, dated, outside)


def _concat(tables: list[pa.Table], spec: DatasetSpec) -> pa.Table:
    """One table, columns in contract order; a column a part lacks is empty in its rows."""
    types: dict[str, pa.DataType] = {}
    for t in tables:
        for f in t.schema:
            if f.name not in types or pa.types.is_null(types[f.name]):
                types[f.name] = f.type
    names = [c.name for c in spec.columns if c.name in types]
    aligned = []
    for t in tables:
        cols = [
            t.column(n).cast(types[n]) if n in t.column_names else pa.nulls(t.num_rows, types[n])
            for n in names
        ]
        aligned.append(pa.table(cols, names=names))
    return pa.concat_tables(aligned) if aligned else pa.table({})


def _later_wins(
    table: pa.Table, spec: DatasetSpec, sizes: list[int]
) -> tuple[np.ndarray | None, list[tuple[str, int, int]]]:
    """Rows to keep (None: all) and, for each earlier row dropped, (id, its part, the keeper's).

    Within one part file ids are already unique (a repeated id is a bad row there), so a
    repeated id here is one record exported in two parts; the last part's row is kept.
    """
    ident = spec.id_column
    if ident is None or ident not in table.column_names or table.num_rows == 0:
        return None, []
    codes = pc.dictionary_encode(table.column(ident)).combine_chunks()
    idx = codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    valid = ~np.asarray(codes.indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    n = len(idx)
    if valid.all() and len(codes.dictionary) == n:
        return None, []
    idx = np.where(valid, idx, -1 - np.arange(n))  # a missing id is a record of its own
    _, first_from_end = np.unique(idx[::-1], return_index=True)
    last = np.zeros(n, dtype=bool)
    last[n - 1 - first_from_end] = True
    if last.all():
        return None, []
    part_of = np.repeat(np.arange(len(sizes)), sizes)
    dropped = np.flatnonzero(~last)
    # the keeper of each dropped row: the last row with its code
    order = np.argsort(idx, kind="stable")
    sorted_codes = idx[order]
    ends = np.searchsorted(sorted_codes, idx[dropped], side="right") - 1
    keepers = order[ends]
    dictionary = codes.dictionary
    superseded = [
        (str(dictionary[int(idx[r])]), int(part_of[r]), int(part_of[k]))
        for r, k in zip(dropped, keepers, strict=True)
    ]
    return last, superseded


def _pooled_quality(
    spec: DatasetSpec,
    period: Period,
    got: list[tuple[PartFolder, Path, Ingested]],
    table: pa.Table,
    superseded: list[tuple[str, int, int]],
    lacking: list[PartFolder],
) -> DatasetQuality:
    parts: list[DatasetQuality] = []
    for part, path, g in got:
        q = DatasetQuality.from_dict(g.quality.to_dict())
        q.part, q.folder = str(part.period), str(path.parent)
        parts.append(q)
    files = [f"{part.label}/{path.name}" for part, path, _ in got]
    excluded: dict[str, int] = {}
    examples: list[Example] = []
    notes: list[str] = []
    for q, name in zip(parts, files, strict=True):
        for reason, rows in q.excluded.items():
            excluded[reason] = excluded.get(reason, 0) + rows
        examples += [
            Example(e.line, e.column, e.value, e.reason, e.sheet, name) for e in q.examples
        ]
        notes += [f"{name}：{note}" for note in q.notes]
    if superseded:
        per_part: dict[int, int] = {}
        for _, earlier, _later in superseded:
            per_part[earlier] = per_part.get(earlier, 0) + 1
        for i, rows in per_part.items():
            parts[i].excluded[SUPERSEDED] = rows
        excluded[SUPERSEDED] = len(superseded)
        # per id, the parts it was exported in (earlier ones, then the one kept)
        where: dict[str, list[int]] = {}
        for ident, earlier, later in superseded:
            where.setdefault(ident, [later]).insert(-1, earlier)
        shown = "、".join(
            f"{ident}（{'、'.join(str(got[i][0].period) for i in sorted(set(at)))}）"
            for ident, at in list(where.items())[:SHOWN_IDS]
        )
        column = spec.column(spec.id_column or "").zh
        notes.append(
            f"{len(where):,} 条记录（按{column}）出现在多个部分的导出中，例如 {shown}：每条计为一条"
            f"记录，保留最后一期导出的行，较早的 {len(superseded):,} 行不计"
            f" (records exported in several parts are counted once: the last export's row is kept)"
        )
    for part in lacking:
        notes.append(
            f"{part.label} 的目录中没有 {spec.name} 的文件，按该期无此类记录计"
            f" ({part.period} has no {spec.name} file: no such records counted)"
        )
    present = [
        c.name for c in spec.columns if any(c.name in q.optional_columns_present for q in parts)
    ]
    for c in present:
        without = [str(q.part) for q in parts if c not in q.optional_columns_present]
        if without:
            notes.append(
                f"可选列 {c} 在 {'、'.join(without)} 的文件中没有，这些记录的 {c} 为空"
                f" (optional column {c} missing in some parts)"
            )
    formats = list(dict.fromkeys(q.format for q in parts))
    encodings = list(dict.fromkeys(q.encoding for q in parts if q.encoding))
    delimiters = {q.delimiter for q in parts}
    headers = {q.header_row for q in parts}
    sha = hashlib.sha256(
        "\n".join(f"{f} {q.sha256}" for f, q in zip(files, parts, strict=True)).encode()
    ).hexdigest()
    values_mapped: dict[str, int] = {}
    for q in parts:
        for col, cells in q.values_mapped.items():
            values_mapped[col] = values_mapped.get(col, 0) + cells
    return DatasetQuality(
        name=spec.name,
        file="、".join(files),
        sha256=sha,
        rows_read=sum(q.rows_read for q in parts),
        rows_kept=table.num_rows,
        excluded=excluded,
        examples=examples,
        optional_columns_present=present,
        optional_columns_missing=[
            c.name for c in spec.columns if not c.required and c.name not in present
        ],
        empty_days=_empty_days(
            spec, period, [p.period for p, _, _ in got] + [p.period for p in lacking], table
        ),
        format="、".join(formats),
        encoding="、".join(encodings) or None,
        delimiter=delimiters.pop() if len(delimiters) == 1 else None,
        sheet=None,
        header_row=headers.pop() if len(headers) == 1 else None,
        columns_mapped={k: v for q in parts for k, v in q.columns_mapped.items()},
        values_mapped=values_mapped,
        ignored_columns=list(dict.fromkeys(c for q in parts for c in q.ignored_columns)),
        notes=notes,
        parts=parts,
    )


def _empty_days(
    spec: DatasetSpec, period: Period, covered_parts: list[Period], table: pa.Table
) -> int:
    """Days of the parts there are (a partial period: only those) with no record."""
    if spec.snapshot or spec.anchor not in table.column_names:
        return 0
    anchor = table.column(spec.anchor).cast(pa.int64()).to_numpy(zero_copy_only=False)
    anchor = anchor[~np.isnan(anchor.astype(float))].astype(np.int64)
    days = np.bincount((anchor - _ms(period.start)) // 86_400_000, minlength=period.days)
    covered = np.zeros(period.days, dtype=bool)
    for part in covered_parts:
        a = (part.start - period.start).days
        covered[a : a + part.days] = True
    return int(((days[: period.days] == 0) & covered).sum())
