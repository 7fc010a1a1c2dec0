"""The data-quality record of one dataset: what was read, how, and what was excluded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

OUTSIDE_PERIOD = "期间外"
TOTALS_ROW = "合计行（非明细记录）"  # a totals line of the export: excluded, not a bad row
# a record exported in two part files of a longer period (same id): the later export's row
# is kept, the earlier one excluded under this reason — not a bad row
SUPERSEDED = "跨期重复（以较后一期的导出为准）"
NOT_BAD = (OUTSIDE_PERIOD, TOTALS_ROW, SUPERSEDED)


@dataclass
class Example:
    """One excluded row: its line in the file (spreadsheet row), the column, the value, why."""

    line: int  # line of the file / row of the sheet (header = its own line; title lines count)
    column: str
    value: str
    reason: str
    sheet: str | None = None  # the sheet, when the rows of the file come from several sheets
    file: str | None = None  # the part file (``2026Q2/calls.csv``), when several files are pooled

    @property
    def where(self) -> str:
        """``第 12 行``, ``工作表“8-9月”第 12 行`` or ``2026Q2/calls.csv 第 12 行``."""
        text = where_text(self.line, self.sheet)
        return f"{self.file} {text}" if self.file else text


def where_text(line: int, sheet: str | None = None) -> str:
    return f"工作表“{sheet}”第 {line} 行" if sheet else f"第 {line} 行"


@dataclass(frozen=True)
class UnusedFile:
    """A file of the data folder that is not read, and why (Chinese, with the English gist)."""

    name: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DatasetQuality:
    name: str
    file: str
    sha256: str
    rows_read: int
    rows_kept: int
    excluded: dict[str, int] = field(default_factory=dict)  # reason → rows (first reason wins)
    examples: list[Example] = field(default_factory=list)  # first rows of each reason
    optional_columns_present: list[str] = field(default_factory=list)
    optional_columns_missing: list[str] = field(default_factory=list)
    empty_days: int = 0  # days of the period with no record
    # how the file was read
    format: str = "CSV"  # CSV | XLSX | Parquet
    encoding: str | None = None  # UTF-8, UTF-8 (BOM), GBK, GB18030, UTF-16 (CSV only)
    delimiter: str | None = None  # "," "\t" ";" "|" (CSV only)
    sheet: str | None = None  # XLSX only
    header_row: int | None = None  # 1-based line/row of the header (None for Parquet)
    columns_mapped: dict[str, str] = field(
        default_factory=dict
    )  # header → canonical (if not equal)
    values_mapped: dict[str, int] = field(default_factory=dict)  # column → cells recoded
    ignored_columns: list[str] = field(default_factory=list)  # headers not in the contract
    notes: list[str] = field(default_factory=list)
    # a longer period pooled from part folders (data_from): the part and folder of a part
    # file's record, and on the pooled record each part file's own record
    part: str | None = None
    folder: str | None = None
    parts: list[DatasetQuality] = field(default_factory=list)

    @property
    def rows_bad(self) -> int:
        """Rows excluded as bad (every reason but 期间外, 合计行 and 跨期重复)."""
        return sum(v for k, v in self.excluded.items() if k not in NOT_BAD)

    @property
    def rows_outside(self) -> int:
        return self.excluded.get(OUTSIDE_PERIOD, 0)

    @property
    def source_text(self) -> str:
        """How the file was read, in Chinese, for the CLI: ``CSV，GBK，表头第3行``."""
        return "，".join([self.format, *self._details()])

    @property
    def file_text(self) -> str:
        """The file and what was detected, for the appendix: ``tickets.csv（GBK）``."""
        details = self._details()
        return f"{self.file}（{'，'.join(details)}）" if details else self.file

    def _details(self) -> list[str]:
        parts = []
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter and self.delimiter != ",":
            parts.append(DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter)) + "分隔")
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.header_row and self.header_row > 1:
            parts.append(f"表头第{self.header_row}行")
        return parts

    def to_dict(self) -> dict:
        """As JSON; the pooling fields only where they are used (a quarter's record is as
        it always was)."""
        d = asdict(self)
        for key in ("part", "folder", "parts"):
            if not d[key]:
                del d[key]
        for e in d["examples"]:
            if e["file"] is None:
                del e["file"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DatasetQuality:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in known}
        d["examples"] = [Example(**e) for e in d.get("examples", [])]
        d["parts"] = [cls.from_dict(p) for p in d.get("parts", [])]
        return cls(**d)


DELIMITER_NAMES = {",": "逗号", "\t": "制表符", ";": "分号", "|": "竖线"}
