"""Report blocks: the content a section emits, persisted as JSON for the assembler.

A notebook never hands Word anything directly: it adds blocks to a
:class:`SectionResult` (through :class:`selfcheck.section.Section`), the result is
saved as ``section.json`` beside its images, and the Word writer reads only that.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from selfcheck.metrics.base import Metric

# How a table column's raw values are shown (the writer formats, never the notebook):
#   text     as is, left-aligned
#   int      thousands separators, right-aligned             12,345
#   number   thousands separators, ``decimals`` places        1,234.5
#   rate     fraction shown as a percentage, one decimal      95.3%
#   pp       change of a rate in percentage points (signed)   +1.2个百分点
#   delta    signed change of a number, ``decimals`` places   +3.0
#   status   达标 / 未达标 / 无数据 / 无标准, shortfalls marked
#   figure   a number already formatted with its unit (metric tables mixing units), right-aligned
ColumnKind = Literal["text", "int", "number", "rate", "pp", "delta", "status", "figure"]
NUMERIC_KINDS = frozenset({"int", "number", "rate", "pp", "delta", "figure"})


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    decimals: int = 1
    width: float | None = None  # relative share of the text width; when every column has
    # one, the writer uses them instead of sizing columns by their content


@dataclass(frozen=True)
class Heading:
    """A heading inside a section. Level 1 is 「(一)」, level 2 is 「1.」; the section
    title itself (「一、」) is written by the assembler."""

    text: str
    level: int = 1
    type: Literal["heading"] = "heading"


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: Literal["body", "note", "quote"] = "body"
    type: Literal["paragraph"] = "paragraph"


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str | None = None
    type: Literal["table"] = "table"


@dataclass(frozen=True)
class Figure:
    caption: str
    path: str  # relative to the section's folder
    width_cm: float = 15.0
    note: str | None = None
    type: Literal["figure"] = "figure"


Block = Heading | Paragraph | Table | Figure

SECTION_FILE = "section.json"


@dataclass
class SectionResult:
    """What one section produced for one period."""

    section_id: str
    title: str
    order: int
    period: str
    blocks: list[Block] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    seconds: float | None = None
    warnings: list[str] = field(default_factory=list)  # echoed in the run log

    # -- persistence ------------------------------------------------------------
    def to_json(self) -> str:
        payload = {
            "section_id": self.section_id,
            "title": self.title,
            "order": self.order,
            "period": self.period,
            "status": self.status,
            "error": self.error,
            "seconds": self.seconds,
            "warnings": self.warnings,
            "blocks": [asdict(b) for b in self.blocks],
            "metrics": [m.to_dict() for m in self.metrics],
        }
        return json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False, default=_jsonable)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / SECTION_FILE
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, folder: Path) -> SectionResult:
        d = json.loads((folder / SECTION_FILE).read_text(encoding="utf-8"))
        return cls(
            section_id=d["section_id"],
            title=d["title"],
            order=d["order"],
            period=d["period"],
            status=d["status"],
            error=d.get("error"),
            seconds=d.get("seconds"),
            warnings=list(d.get("warnings", [])),
            blocks=[_block_from_dict(b) for b in d["blocks"]],
            metrics=[Metric.from_dict(m) for m in d["metrics"]],
        )


def _jsonable(obj: Any) -> Any:
    # numpy scalars, dates and the like end up as plain JSON values
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _block_from_dict(d: dict) -> Block:
    kind = d.pop("type")
    if kind == "heading":
        return Heading(**d)
    if kind == "paragraph":
        return Paragraph(**d)
    if kind == "table":
        return Table(
            caption=d["caption"],
            columns=tuple(Column(**c) for c in d["columns"]),
            rows=tuple(tuple(r) for r in d["rows"]),
            note=d.get("note"),
        )
    if kind == "figure":
        return Figure(**d)
    raise ValueError(f"unknown block type {kind!r}")
