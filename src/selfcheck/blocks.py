"""Report blocks: the content a section emits, persisted as JSON for the assembler.

A notebook never hands Word anything directly: it adds blocks to a
:class:`SectionResult` (through :class:`selfcheck.section.Section`), the result is
saved as ``section.json`` beside its images, and the Word writer reads only that.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from selfcheck.errors import ReportError
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
COLUMN_KINDS: tuple[str, ...] = get_args(ColumnKind)


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
    label: str | None = None  # what a paragraph's [[表:…]] names; None: the caption
    type: Literal["table"] = "table"

    @property
    def ref_label(self) -> str:
        return self.label or self.caption


@dataclass(frozen=True)
class Figure:
    caption: str
    path: str  # relative to the section's folder
    width_cm: float = 15.0
    note: str | None = None
    label: str | None = None  # what a paragraph's [[图:…]] names; None: the caption
    type: Literal["figure"] = "figure"

    @property
    def ref_label(self) -> str:
        return self.label or self.caption


# A paragraph refers to a table or figure of its section by label (or caption):
# "详见[[表:online]]" / "如[[图:在线人工请求超时率]]所示". The writer turns the marker into
# 「表 4-2」 as a Word cross-reference (REF field to the caption's number, number filled
# in); the notebook shows 「表[online]」. Double brackets never occur in report text and
# need no escaping in f-strings. An optional reference, ``[[表?:online]]`` (what generated
# text uses), takes the whole sentence that holds it out of the report when the section has
# no such table (the analyst removed its cell); a plain one must resolve.
REF_MARKER = re.compile(r"\[\[(表|图)(\?)?[:：]\s*([^\[\]]+?)\s*\]\]")
REF_KINDS = {"表": "table", "图": "figure"}


def ref_marker(kind: Literal["表", "图"], label: str, *, optional: bool = False) -> str:
    """The marker a paragraph uses to refer to a table (``"表"``) or figure (``"图"``)."""
    return f"[[{kind}{'?' if optional else ''}:{label}]]"


def plain_refs(text: str) -> str:
    """The text with its references shown plainly, 「表[label]」 (the notebook's view)."""
    return REF_MARKER.sub(lambda m: f"{m.group(1)}[{m.group(3)}]", text)


Block = Heading | Paragraph | Table | Figure

SECTION_FILE = "section.json"


Origin = Literal["papermill", "interactive"]
# Set (to ``1``) by the runner for the notebooks it executes with Papermill; a result saved
# without it (JupyterLab, a plain script) is marked ``interactive``.
RUN_ENV = "SELFCHECK_RUN"
# Not part of a result's content (its digest): when and how it was produced.
VOLATILE_FIELDS = frozenset({"seconds", "saved_at", "origin"})
READ_FIELDS = frozenset(
    {"section_id", "title", "period", "status", "error", "metrics"}
)  # what readers use


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
    origin: Origin = "papermill"
    saved_at: str | None = None  # ISO time of the save; never written into the report
    # section id → digest of that section's result, for every other section this one read
    inputs: dict[str, str] = field(default_factory=dict)

    # -- persistence ------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        return {
            "section_id": self.section_id,
            "title": self.title,
            "order": self.order,
            "period": self.period,
            "status": self.status,
            "error": self.error,
            "seconds": self.seconds,
            "origin": self.origin,
            "saved_at": self.saved_at,
            "inputs": dict(sorted(self.inputs.items())),
            "warnings": self.warnings,
            "blocks": [_block_dict(b) for b in self.blocks],
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def to_json(self) -> str:
        return _dumps(self._payload())

    def content_json(self) -> str:
        """The result without when and how it was made (seconds, saved_at, origin): two
        runs over the same inputs give the same text."""
        payload = {k: v for k, v in self._payload().items() if k not in VOLATILE_FIELDS}
        return _dumps(payload)

    def digest(self) -> str:
        """A stable fingerprint of the content (see :meth:`content_json`)."""
        return hashlib.sha256(self.content_json().encode("utf-8")).hexdigest()[:16]

    def figures_digest(self) -> str:
        """A fingerprint of what the sections reading this one use: its figures (metrics),
        status, title and period — not its wording, tables or charts. Rewording a paragraph
        or dropping a chart in JupyterLab leaves the summary built on it valid; a changed
        figure makes it stale."""
        payload = {
            "section_id": self.section_id,
            "title": self.title,
            "period": self.period,
            "status": self.status,
            "error": self.error,
            "metrics": [m.to_dict() for m in self.metrics],
        }
        assert payload.keys() == READ_FIELDS
        # compact: json's C encoder (an indented dump is pure Python, ~4× slower on the
        # thousands of per-agent metrics of a large quarter)
        text = json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_jsonable
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / SECTION_FILE
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, folder: Path) -> SectionResult:
        """The result saved in ``folder``; a file that cannot be read is a
        :class:`ReportError` naming the section and the file."""
        path = folder / SECTION_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ReportError(
                f"章节 {folder.name} 没有保存的结果：{path} 不存在 (no saved result)"
            ) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ReportError(
                f"章节 {folder.name} 的结果文件无法读取：{path}（{e}）(cannot read result)"
            ) from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ReportError(
                f"章节 {folder.name} 的结果文件已损坏：{path}，第 {e.lineno} 行第 {e.colno} 列"
                f"（{e.msg}）。请重新运行该章节的笔记本 (broken JSON)"
            ) from None
        try:
            return cls._from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            what = f"缺少字段 {e}" if isinstance(e, KeyError) else str(e)
            raise ReportError(
                f"章节 {folder.name} 的结果文件内容不完整或格式不对：{path}（{what}）。"
                f"请重新运行该章节的笔记本 (malformed result)"
            ) from None

    @classmethod
    def _from_dict(cls, d: Any) -> SectionResult:
        if not isinstance(d, dict):
            raise TypeError(f"应为对象，实为 {type(d).__name__}")
        status = d["status"]
        if status not in ("ok", "failed"):
            raise ValueError(f"未知的状态 {status!r}")
        origin = d.get("origin") or "papermill"
        if origin not in ("papermill", "interactive"):
            raise ValueError(f"未知的来源 {origin!r}")
        inputs = d.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise TypeError("inputs 应为对象")
        blocks = d["blocks"]
        metrics = d["metrics"]
        if not isinstance(blocks, list) or not isinstance(metrics, list):
            raise TypeError("blocks 与 metrics 应为列表")
        return cls(
            section_id=str(d["section_id"]),
            title=str(d["title"]),
            order=int(d["order"]),
            period=str(d["period"]),
            status=status,
            error=d.get("error"),
            seconds=d.get("seconds"),
            warnings=[str(w) for w in d.get("warnings", [])],
            origin=origin,
            saved_at=d.get("saved_at"),
            inputs={str(k): str(v) for k, v in inputs.items()},
            blocks=[_block_from_dict(b, i) for i, b in enumerate(blocks, start=1)],
            metrics=[Metric.from_dict(m) for m in metrics],
        )


def _block_dict(block: Block) -> dict[str, Any]:
    """A block as saved; an unset label is left out, so results saved before labels
    existed keep their digests."""
    d = asdict(block)
    if d.get("label", "") is None:
        del d["label"]
    return d


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False, default=_jsonable)


def _jsonable(obj: Any) -> Any:
    # numpy scalars, dates and the like end up as plain JSON values
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


_BLOCK_TYPES: dict[str, type] = {
    "heading": Heading,
    "paragraph": Paragraph,
    "table": Table,
    "figure": Figure,
}


def _block_from_dict(d: Any, number: int = 0) -> Block:
    where = f"第 {number} 个内容块"
    if not isinstance(d, dict):
        raise TypeError(f"{where}应为对象")
    d = dict(d)
    kind = d.pop("type", None)
    cls = _BLOCK_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"{where}的类型 {kind!r} 未知")
    known = {f.name for f in fields(cls)} - {"type"}
    required = {
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    } - {"type"}
    lacking = sorted(required - d.keys())
    if lacking:
        raise ValueError(f"{where}（{kind}）缺少字段 {'、'.join(lacking)}")
    unknown = sorted(d.keys() - known)
    if unknown:
        raise ValueError(f"{where}（{kind}）有未知字段 {'、'.join(unknown)}")
    if kind == "table":
        columns = d["columns"]
        rows = d["rows"]
        if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
            raise TypeError(f"{where}（表格）的 columns 应为对象列表")
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise TypeError(f"{where}（表格）的 rows 应为列表的列表")
        cols = tuple(Column(**c) for c in columns)
        for c in cols:
            if c.kind not in COLUMN_KINDS:
                raise ValueError(f"{where}（表格）的列 {c.name!r} 类型 {c.kind!r} 未知")
        for i, r in enumerate(rows, start=1):
            if len(r) != len(cols):
                raise ValueError(f"{where}（表格）第 {i} 行有 {len(r)} 个值，表头有 {len(cols)} 列")
        return Table(
            caption=str(d["caption"]),
            columns=cols,
            rows=tuple(tuple(r) for r in rows),
            note=d.get("note"),
            label=d.get("label"),
        )
    return cls(**d)
