"""Reading one dataset file into raw columns: CSV (encoding, delimiter and header row
detected), XLSX (header row and sheet found, merged cells resolved) and Parquet.

Values stay as text here (Parquet keeps its types); :mod:`selfcheck.ingest.parse`
types them. Nothing loops over rows in Python: pyarrow reads CSV, python-calamine
reads XLSX, and the conversions are column operations.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from selfcheck.errors import DataError
from selfcheck.ingest.columns import DatasetMapping, HeaderMatch, check_header, match_header
from selfcheck.ingest.records import DELIMITER_NAMES, UnusedFile, where_text
from selfcheck.schema import DATASETS, DatasetSpec

EXTENSIONS = (".csv", ".xlsx", ".parquet")
HEADER_SCAN_ROWS = 30  # the header row is looked for among the first rows of a file or sheet
SNIFF_BYTES = 1 << 20  # the encoding is decided on the first MiB (re-checked if the read fails)
DELIMITERS = (",", "\t", ";", "|")
BLOCK_SIZE = 32 << 20


@dataclass
class RawTable:
    """The columns of one file that the contract knows, before typing."""

    columns: dict[str, pa.ChunkedArray]  # canonical name → values (text, or Parquet's types)
    num_rows: int
    first_line: int  # file line (sheet row) of the first data row
    format: str
    lines: np.ndarray | None = None  # explicit line of each row when rows were skipped
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    renamed: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    excel: bool = False  # values came from Excel cells (numbers may be date serials)
    malformed: list[tuple[int, str]] = field(default_factory=list)  # CSV rows of wrong width
    # XLSX read from several sheets: (sheet, rows) in the order of the rows; lines are the
    # sheet's rows
    sheet_rows: list[tuple[str, int]] = field(default_factory=list)

    def line_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if self.lines is not None:
            return self.lines[rows]
        return rows + self.first_line

    def sheet_of(self, rows: np.ndarray) -> list[str | None]:
        """The sheet of each row when the rows come from several sheets (else None)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not self.sheet_rows:
            return [None] * len(rows)
        ends = np.cumsum([n for _, n in self.sheet_rows])
        return [self.sheet_rows[i][0] for i in np.searchsorted(ends, rows, side="right")]

    def where(self, rows: np.ndarray) -> list[str]:
        """``第 12 行``, or ``工作表“8-9月”第 12 行`` when the rows come from several sheets."""
        return [
            where_text(int(ln), s)
            for ln, s in zip(self.line_of(rows), self.sheet_of(rows), strict=True)
        ]


# -- files ------------------------------------------------------------------------------


def find_file(folder: Path, name: str) -> Path | None:
    """``NAME.csv``, ``NAME.xlsx`` or ``NAME.parquet`` (any letter case); two is an error."""
    try:
        entries = [p for p in folder.iterdir() if p.is_file()]
    except (FileNotFoundError, NotADirectoryError):
        return None
    hits = [p for p in entries if p.stem.lower() == name and p.suffix.lower() in EXTENSIONS]
    if len(hits) > 1:
        names = "、".join(sorted(p.name for p in hits))
        raise DataError(
            f"{folder}: 数据集 {name}（{DATASETS[name].zh}）有多个文件：{names}。"
            "每个数据集只能有一个文件，请删除或移走多余的。 (one file per dataset)"
        )
    return hits[0] if hits else None


def stray_files(folder: Path) -> list[str]:
    """Files of the folder that look like data but are not ``NAME.csv|xlsx|parquet``."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith((".", "~$")):
            if p.stem.lower() in DATASETS and p.suffix.lower() in EXTENSIONS:
                continue
            if p.suffix.lower() in (*EXTENSIONS, ".xls", ".txt", ".tsv", ".xlsm", ".json"):
                out.append(p.name)
    return out


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    newlines: int  # LF bytes: the line count of a CSV (but UTF-16), for its line numbers
    ends_with_newline: bool


_DIGESTS: dict[tuple, Digest] = {}  # (path, size, mtime, inode) → digest: one pass per file
_DIGESTS_LOCK = threading.Lock()


def _digest(path: Path) -> Digest:
    """SHA-256 and line breaks of a file in one pass (counting costs ~1 % of hashing)."""
    st = path.stat()
    key = (str(path.absolute()), st.st_size, st.st_mtime_ns, st.st_ino)
    got = _DIGESTS.get(key)
    if got is not None:
        return got
    h = hashlib.sha256()
    newlines = 0
    last = b""
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            newlines += int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8, count=n) == 10))
            last = bytes(view[n - 1 : n])
    got = Digest(h.hexdigest(), st.st_size, newlines, last == b"\n")
    with _DIGESTS_LOCK:  # datasets are read on two threads (ingest/parallel.py)
        if len(_DIGESTS) >= 64:
            _DIGESTS.pop(next(iter(_DIGESTS)))
        _DIGESTS[key] = got
    return got


OTHER_FORMATS = {
    ".xls": "旧版 Excel 格式（.xls）不能读取：请用 Excel 打开后另存为 .xlsx (old Excel format: save as .xlsx)",
    ".xlsm": "含宏的 Excel 文件（.xlsm）不读取：请另存为 .xlsx (save as .xlsx)",
    ".xlsb": "二进制 Excel 文件（.xlsb）不能读取：请另存为 .xlsx (save as .xlsx)",
    ".et": "WPS 表格文件（.et）不能读取：请另存为 .xlsx (save as .xlsx)",
    ".ods": "OpenDocument 表格（.ods）不能读取：请另存为 .xlsx (save as .xlsx)",
    ".numbers": "Numbers 表格不能读取：请导出为 .xlsx 或 .csv (export as .xlsx or .csv)",
    ".tsv": "扩展名 .tsv 不读取（制表符分隔可以读取，但扩展名须为 .csv）：请改名为 .csv"
    " (rename it to .csv)",
    ".txt": "文本文件（.txt）不读取；如是导出的数据（逗号或制表符分隔），请把扩展名改为 .csv"
    " (text file: rename it to .csv if it holds the data)",
    ".zip": "压缩文件不读取：请解压后把数据文件放入数据目录 (archive: extract it)",
    ".rar": "压缩文件不读取：请解压后把数据文件放入数据目录 (archive: extract it)",
    ".7z": "压缩文件不读取：请解压后把数据文件放入数据目录 (archive: extract it)",
}
SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


NAME_HINTS = {  # words of a file name that say which dataset it holds
    "tickets": ("工单",),
    "calls": ("电话", "通话", "话务", "来电"),
    "chats": ("在线咨询", "在线客服", "会话"),
    "visits": ("现场服务", "上门", "现场"),
    "complaints": ("投诉",),
    "surveys": ("满意度", "问卷", "调查"),
    "staff": ("人员", "员工", "花名册"),
    "training": ("培训",),
    "qa_reviews": ("质检",),
    "incidents": ("系统故障", "故障"),
}


def guess_datasets(stem: str) -> list[str]:
    """Datasets a file name seems to be about: ``tickets (1)``, ``calls_2026Q3``, ``电话明细``."""
    key = unicodedata.normalize("NFKC", stem).casefold()
    out = [n for n in DATASETS if re.search(rf"(?<![a-z]){n.removesuffix('s')}s?(?![a-z])", key)]
    for n in DATASETS:
        if n not in out and any(word in key for word in NAME_HINTS.get(n, ())):
            out.append(n)
    return out


def unused_files(folder: Path) -> list[UnusedFile]:
    """Every entry of the data folder that is not read as a dataset, with why.

    Together with the files :func:`find_file` picks this accounts for the whole folder."""
    try:
        entries = sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    used = {}
    for name in DATASETS:
        try:
            hit = find_file(folder, name)
        except DataError:
            hit = None  # two files: validate says so
        if hit is not None:
            used[name] = hit
    out = []
    for p in entries:
        if p in used.values():
            continue
        reason = _why_unused(p, used)
        out.append(UnusedFile(p.name + ("/" if p.is_dir() else ""), reason))
    return out


def _why_unused(p: Path, used: dict[str, Path]) -> str:
    low = p.name.casefold()
    if p.is_dir():
        return "文件夹：其中的文件不读取，数据文件须直接放在数据目录中 (a folder: not read)"
    if low.startswith("~$"):
        return "Office 的临时锁定文件（文件打开时产生），已忽略 (Office lock file, ignored)"
    if low.startswith(".") or low in SYSTEM_FILES:
        return "隐藏文件或系统文件，已忽略 (hidden or system file, ignored)"
    suffix = p.suffix.casefold()
    stem = p.stem
    guesses = guess_datasets(stem)
    exact = stem.casefold() in DATASETS
    if exact and suffix in EXTENSIONS:  # find_file found two: validate reports it
        return "同一数据集有多个文件，未读取 (one file per dataset)"
    if not guesses:
        fmt = OTHER_FORMATS.get(suffix, "")
        return (
            "不是数据集文件：文件名不对应任何数据集（须为 calls、tickets 等数据集名，扩展名"
            " .csv、.xlsx 或 .parquet），未读取 (not a dataset file: the name is no dataset's)"
            + (f"；{fmt}" if suffix in (".xls", ".xlsm", ".xlsb", ".et", ".ods") else "")
        )
    which = "或".join(f"{DATASETS[n].zh}（{n}）" for n in guesses)
    target = guesses[0]
    ext = suffix if suffix in EXTENSIONS else ".xlsx" if suffix in OTHER_FORMATS else ".csv"
    if suffix not in EXTENSIONS:
        fmt = OTHER_FORMATS.get(
            suffix, f"扩展名 {p.suffix or '（无）'} 不读取，须为 .csv、.xlsx 或 .parquet"
        )
        also = f"；目录中已有 {used[target].name}（已读取），本文件未读取" if target in used else ""
        if exact:
            return f"看起来是{which}数据，但{fmt}{also}"
        return f"看起来是{which}数据，但{fmt}；文件名也须为 {target}{ext}{also}"
    if target in used:
        return (
            f"看起来是{which}数据，但文件名不是 {target}{suffix}；目录中已有 {used[target].name}"
            "（已读取），本文件未读取：如是重复的副本，请删除；如应使用本文件，请用它替换"
            f" {used[target].name} (looks like {target}, but {used[target].name} is read: a copy?)"
        )
    return (
        f"看起来是{which}数据，但文件名不是数据集名：如需使用，请改名为 {target}{suffix}"
        f" (looks like {target}, but not the exact name: rename it to {target}{suffix})"
    )


def sha256_of(path: Path) -> str:
    return _digest(path).sha256


def read_source(path: Path, spec: DatasetSpec, mapping: DatasetMapping, *, params: str) -> RawTable:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(f"{path}: 无法读取文件（{e.strerror}）。 (cannot read the file)") from None
    if size == 0:
        raise _empty(path)
    suffix = path.suffix.lower()
    _check_kind(path, suffix, spec.name)
    if suffix == ".parquet":
        return _read_parquet(path, spec, mapping, params)
    if suffix == ".xlsx":
        return _read_xlsx(path, spec, mapping, params)
    return _read_csv(path, spec, mapping, params)


ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls/.doc, and encrypted .xlsx
PARQUET_MAGIC = b"PAR1"


def _check_kind(path: Path, suffix: str, name: str) -> None:
    """A file whose content is not what its extension says (a renamed .xlsx, .xls, Parquet)."""
    with path.open("rb") as f:
        head = f.read(1 << 12)
    kind = None
    if head.startswith(ZIP_MAGIC):
        kind = "zip"
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
            if any(n.startswith("xl/") for n in names):
                kind = "xlsx"
        except (zipfile.BadZipFile, OSError):
            pass
    elif head.startswith(OLE_MAGIC):
        kind = "ole"
    elif head.startswith(PARQUET_MAGIC):
        kind = "parquet"
    elif suffix != ".csv" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5].lower() in (
        b"<html",
        b"<!doc",
        b"<?xml",
        b"<tabl",
    ):
        kind = "html"
    if kind is None or (kind, suffix) in (("xlsx", ".xlsx"), ("parquet", ".parquet")):
        return
    if kind in ("ole", "zip") and suffix == ".xlsx":
        return  # an old .xls, a password-protected or broken .xlsx: the xlsx reader tells
    if kind == "xlsx":
        what = (
            f"这其实是 Excel 文件（.xlsx），只是扩展名为 {path.suffix}：请把它改名为 {name}.xlsx。"
            " (this is an Excel file: rename it to .xlsx)"
        )
    elif kind == "zip":
        what = (
            "这是一个 ZIP 压缩文件，不是数据表：请解压，把其中的数据文件放入数据目录。"
            " (a ZIP archive: extract it)"
        )
    elif kind == "ole":
        what = (
            "这其实是旧版 Excel 文件（.xls）或其他 Office 二进制文件：请用 Excel 打开后另存为"
            f" .xlsx（{name}.xlsx）。 (an old .xls file renamed: save it as .xlsx)"
        )
    elif kind == "parquet":
        what = (
            f"这其实是 Parquet 文件，只是扩展名为 {path.suffix}：请把它改名为 {name}.parquet。"
            " (this is a Parquet file: rename it to .parquet)"
        )
    else:
        what = (
            "这是网页（HTML/XML）格式的表格，不是真正的 Excel 文件：请用 Excel 打开后另存为 .xlsx。"
            " (an HTML/XML table: save it as .xlsx)"
        )
    raise DataError(f"{path}: {what}")


def _empty(path: Path) -> DataError:
    return DataError(f"{path}: 文件为空 (empty file)。请重新导出；如本期没有该数据，请删除该文件。")


# -- CSV --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    codec: str  # what pyarrow / Python decode with
    label: str  # what the quality record says


UTF8 = Encoding("utf8", "UTF-8")
UTF8_BOM = Encoding("utf8", "UTF-8 (BOM)")  # pyarrow drops the BOM itself
GBK = Encoding("gb18030", "GBK")  # GBK is a subset of GB18030: decode with the superset
GB18030 = Encoding("gb18030", "GB18030")
UTF16 = Encoding("utf-16", "UTF-16")


def detect_encoding(path: Path, head: bytes, complete: bool) -> Encoding:
    """BOM first; else strict UTF-8, then GBK, then GB18030 on ``head`` (the first MiB).

    A truncated character at the end of ``head`` is not an error unless ``complete``.
    """
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    first_error = None
    for enc, codec in ((UTF8, "utf-8"), (GBK, "gbk"), (GB18030, "gb18030")):
        try:
            codecs.getincrementaldecoder(codec)("strict").decode(head, final=complete)
            return enc
        except UnicodeDecodeError as e:
            if first_error is None:
                first_error = e
    assert first_error is not None
    raise _undecodable(path, head, first_error.start)


def _undecodable(path: Path, data: bytes, offset: int, base_line: int = 1) -> DataError:
    line = base_line + data.count(b"\n", 0, offset)
    sample = data[offset : offset + 8]
    return DataError(
        f"{path}: 第 {line} 行有无法解码的字节 {sample!r}：文件既不是 UTF-8，也不是 GBK / GB18030 编码"
        "（已自动尝试这三种）。请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx，"
        "或检查文件是否在拷贝中损坏。 (undecodable bytes: not UTF-8, GBK or GB18030)"
    )


def _full_encoding(path: Path) -> Encoding:
    """Decide on the whole file (the first MiB did not tell: e.g. ASCII first, GBK later)."""
    utf8_error: DataError | None = None
    for enc, codec in ((UTF8, "utf-8"), (GBK, "gbk"), (GB18030, "gb18030")):
        dec = codecs.getincrementaldecoder(codec)("strict")
        lines = 1
        chunk = b""
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(8 << 20), b""):
                    dec.decode(chunk)
                    lines += chunk.count(b"\n")
                dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError as e:
            if utf8_error is None:
                start = min(max(e.start, 0), len(chunk))
                utf8_error = _undecodable(path, chunk, start, lines)
    assert utf8_error is not None
    raise utf8_error


def _sniff_header(
    lines: list[str], spec: DatasetSpec, mapping: DatasetMapping
) -> tuple[int, str, HeaderMatch]:
    """The line and delimiter whose cells match most columns (first line, comma on ties)."""
    best: tuple[int, int, str, HeaderMatch] | None = None
    for j, line in enumerate(lines[:HEADER_SCAN_ROWS]):
        for d in DELIMITERS:
            if d != "," and d not in line:
                continue
            cells = next(csv.reader([line], delimiter=d), [])
            m = match_header(cells, spec, mapping)
            if best is None or m.score > best[0]:
                best = (m.score, j, d, m)
    if best is None:
        return 0, ",", match_header([], spec, mapping)
    return best[1], best[2], best[3]


def _read_csv(path: Path, spec: DatasetSpec, mapping: DatasetMapping, params: str) -> RawTable:
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    complete = len(head) < SNIFF_BYTES
    enc = detect_encoding(path, head, complete)
    text = codecs.getincrementaldecoder("utf-8-sig" if enc.codec == "utf8" else enc.codec)().decode(
        head, final=complete
    )
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise _empty(path)
    lines = [ln.rstrip("\r") for ln in text.split("\n")[: HEADER_SCAN_ROWS + 1]]
    if not complete:
        lines = lines[:HEADER_SCAN_ROWS]  # the last one may be cut
    j, delim, match = _sniff_header(lines, spec, mapping)
    header_row = j + 1
    extra = ""
    if match.score <= 1:
        extra = (
            f"第 {header_row} 行：{lines[j][:120]!r}。请确认分隔符为逗号、制表符、分号或竖线之一，"
            "且表头位于前 30 行之内。"
        )
    check_header(
        match, spec, mapping, where=str(path), header_row=header_row, params=params, extra=extra
    )
    n_fields = len(match.cells)
    names = [f"f{i}" for i in range(n_fields)]
    wanted = [f"f{i}" for i in match.needed()]
    table, skipped, enc = _arrow_csv(path, enc, header_row, names, wanted, delim)
    notes = []
    if j > 0:
        notes.append(f"跳过表头上方 {j} 行标题")
    if delim != ",":
        notes.append(f"分隔符为{DELIMITER_NAMES[delim]}")
    first_line = header_row + 1

    # the physical line of every record (what an editor shows): a record is one line unless
    # a quoted value holds line breaks; blank lines are records too (all fields empty)
    n_records = table.num_rows + len(skipped)
    starts = None  # line of each record, when records and lines differ
    if n_records != _line_count(path, enc) - header_row:
        starts = _record_lines(path, enc, header_row, delim, n_fields, match.cells, n_records)
        if starts is None:
            notes.append("文件中的引号使行号无法精确对应，示例行号可能有偏差")
    skipped_at = np.array([n - header_row - 1 for n, _, _ in skipped], dtype=np.int64)
    rows_at = None  # record index of every row of the table
    if len(skipped_at) and (skipped_at.min() < 0 or skipped_at.max() >= n_records):
        skipped_at = np.clip(skipped_at, 0, max(n_records - 1, 0))  # pyarrow did not say
        starts = None
        notes.append("部分行的行号无法确定，示例行号可能有偏差")
    elif len(skipped) or starts is not None:
        rows_at = np.delete(np.arange(n_records, dtype=np.int64), skipped_at)

    def line_of(records: np.ndarray) -> np.ndarray:
        return starts[records] if starts is not None else records + first_line

    malformed = [
        (int(ln), t)
        for ln, (_, t, empty) in zip(line_of(skipped_at), skipped, strict=True)
        if not empty
    ]
    n_blank = sum(1 for *_, empty in skipped if empty)
    columns = match.columns(lambda i: table.column(f"f{i}"))
    keep = _non_empty(path, enc, header_row, names, wanted, delim, table)
    if keep is not None:
        n_blank += int((~keep).sum())
        if rows_at is None:
            rows_at = np.arange(table.num_rows, dtype=np.int64)
        rows_at = rows_at[keep]
        stop = int(keep.sum())
        if keep[:stop].all():  # empty rows at the end only (Excel's ,,,,,,): a slice
            columns = {c: a.slice(0, stop) for c, a in columns.items()}
        else:
            mask = pa.array(keep)
            columns = {c: a.filter(mask) for c, a in columns.items()}
    if n_blank:
        notes.append(f"忽略 {n_blank} 个空行（空行不是记录，不计入读入行数）")
    num_rows = table.num_rows if keep is None else int(keep.sum())
    return RawTable(
        columns=columns,
        num_rows=num_rows,
        first_line=first_line,
        lines=None if rows_at is None else line_of(rows_at),
        format="CSV",
        encoding=enc.label,
        delimiter=delim,
        header_row=header_row,
        renamed=match.renamed(),
        ignored=match.ignored,
        notes=notes,
        malformed=malformed,
    )


def _non_empty(
    path: Path,
    enc: Encoding,
    skip: int,
    names: list[str],
    wanted: list[str],
    delim: str,
    table: pa.Table,
) -> np.ndarray | None:
    """Which rows have a value in some field (None: all of them); vectorised.

    A row whose columns of the contract are all empty is empty only if the other
    fields are empty too: those are read (a second parse) only when such rows exist."""
    if not table.num_rows or not table.num_columns:
        return None
    empty = None
    for name in table.column_names:
        nulls = table.column(name).is_null()
        empty = nulls if empty is None else pc.and_(empty, nulls)
    empty_np = empty.to_numpy(zero_copy_only=False)
    if not empty_np.any():
        return None
    others = [n for n in names if n not in wanted]
    if others:
        rest, _, _ = _arrow_csv(path, enc, skip, names, others, delim)
        if rest.num_rows == table.num_rows:
            for name in others:
                empty_np &= rest.column(name).is_null().to_numpy(zero_copy_only=False)
    return ~empty_np


def _arrow_csv(
    path: Path, enc: Encoding, skip: int, names: list[str], include: list[str], delim: str
) -> tuple[pa.Table, list[tuple[int, str, bool]], Encoding]:
    """The table, and the records pyarrow skipped: (record number, text, blank?).

    Record numbers count from the file's first line (the skipped title and header lines
    included); a blank line is a record with every field empty, so that each line is one."""
    skipped: list[tuple[int | None, str, bool]] = []
    blank_chars = f' \t\r\n"{delim}\u3000'

    def on_invalid(row) -> str:
        skipped.append((row.number, row.text, not row.text.strip(blank_chars)))
        return "skip"

    def bad_count() -> int:
        return sum(1 for *_, blank in skipped if not blank)

    def attempt(enc: Encoding, threads: bool, multiline: bool = False) -> pa.Table:
        skipped.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=enc.codec,
                skip_rows=skip,
                column_names=names,
                block_size=BLOCK_SIZE,
                use_threads=threads,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                invalid_row_handler=on_invalid,
                newlines_in_values=multiline,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(include, pa.string()),
                include_columns=include,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )

    multiline = False
    try:
        try:
            table = attempt(enc, True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            if "UTF8" not in str(e) and not isinstance(e, UnicodeDecodeError):
                raise
            enc = _full_encoding(path)  # the first MiB was not representative
            table = attempt(enc, True)
        if bad_count():  # quoted values with line breaks across blocks (slower, so only now)?
            first = bad_count()
            table = attempt(enc, True, multiline=True)
            if bad_count() < first:
                multiline = True
            else:
                table = attempt(enc, True)
        if skipped and any(n is None for n, *_ in skipped):
            table = attempt(enc, False, multiline)  # single-threaded: pyarrow knows the lines
    except pa.ArrowInvalid as e:
        raise DataError(
            f"{path}: 无法解析 CSV 文件（{e}）。请检查引号是否成对、编码与分隔符是否一致。"
            " (the CSV cannot be parsed)"
        ) from None
    return table, [(int(n or 0), t, b) for n, t, b in skipped], enc


# -- physical lines ---------------------------------------------------------------------

MAX_VALUE_LINES = 100  # a quoted value over more lines than this is an unclosed quote


def _line_count(path: Path, enc: Encoding) -> int:
    """Lines of the file as an editor counts them (a last line without line break counts)."""
    if enc is UTF16:
        text = path.read_text(encoding="utf-16")
        return text.count("\n") + (bool(text) and not text.endswith("\n"))
    d = _digest(path)
    return d.newlines + (d.size > 0 and not d.ends_with_newline)


def _file_bytes(path: Path, enc: Encoding):
    """The file's bytes in chunks, in an encoding where ``"``, the delimiter and LF are bytes."""
    if enc is UTF16:
        yield path.read_text(encoding="utf-16").encode("utf-8")
        return
    with path.open("rb") as f:
        yield from iter(lambda: f.read(16 << 20), b"")


def _scan_lines(path: Path, enc: Encoding, delim: str) -> tuple[np.ndarray, np.ndarray]:
    """Per physical line: does its line break fall inside quotes; how many delimiters it has.

    Quotes are counted, not parsed (``""`` inside a quoted value counts twice, so the
    parity holds); vectorised, in chunks, with the parity carried over."""
    inside_parts, delim_parts = [], []
    parity = 0
    pending = 0  # delimiters of the line that the next chunk continues
    dbyte = ord(delim)
    for chunk in _file_bytes(path, enc):
        a = np.frombuffer(chunk, dtype=np.uint8)
        nl = np.flatnonzero(a == 10)
        q = np.flatnonzero(a == 34)
        d = np.flatnonzero(a == dbyte)
        inside_parts.append(((np.searchsorted(q, nl) + parity) & 1).astype(bool))
        per_line = np.diff(np.concatenate(([0], np.searchsorted(d, nl)))).astype(np.int64)
        if len(per_line):
            per_line[0] += pending
            pending = len(d) - int(np.searchsorted(d, nl[-1]))
        else:
            pending += len(d)
        delim_parts.append(per_line)
        parity = (parity + len(q)) & 1
    inside = np.concatenate(inside_parts) if inside_parts else np.zeros(0, dtype=bool)
    delims = np.concatenate(delim_parts) if delim_parts else np.zeros(0, dtype=np.int64)
    if _line_count(path, enc) > len(inside):  # a last line without a line break ends a record
        inside = np.append(inside, False)
        delims = np.append(delims, pending)
    return inside, delims


def _record_lines(
    path: Path,
    enc: Encoding,
    header_row: int,
    delim: str,
    n_fields: int,
    header: list[str],
    n_records: int,
) -> np.ndarray | None:
    """The first physical line of each record after the header; None if it cannot be told.

    Stops with a DataError when a quote was opened and never closed: a value that spans
    many lines shaped like whole records has swallowed them."""
    inside, delims = _scan_lines(path, enc, delim)
    inside, delims = inside[header_row:].copy(), delims[header_row:]
    open_at_end = bool(len(inside) and inside[-1])  # a quote still open at the end of the file
    if len(inside):
        inside[-1] = False  # the end of the file ends the last record, quote or not
    ends = np.flatnonzero(~inside)  # index (after the header) of each record's last line
    starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
    span = ends - starts + 1
    multi = np.flatnonzero(span > 1)
    if len(multi):
        # inner lines shaped like a whole record (at least as many delimiters as the header)
        shaped = delims >= max(n_fields - 1, 1)
        shaped[starts] = False
        counts = np.add.reduceat(shaped.astype(np.int64), starts)
        c = counts[multi]
        # most inner lines whole records (a comment may hold a line with commas), or too long
        suspect = ((c >= 2) & (2 * c >= span[multi] - 1)) | (span[multi] > MAX_VALUE_LINES)
        if open_at_end:
            suspect[-1] |= multi[-1] == len(starts) - 1
        swallowed = multi[suspect]
        if len(swallowed):
            r = int(swallowed[0])
            s, e = int(starts[r]), int(ends[r])
            inner = np.flatnonzero(shaped[s + 1 : e + 1])
            opened = s + int(inner[0]) if len(inner) else s  # the line before the first shaped
            raise _unclosed_quote(
                path,
                enc,
                delim,
                header,
                first=header_row + 1 + s,
                opened=header_row + 1 + opened,
                last=header_row + 1 + e,
                shaped=int(counts[r]),
            )
    lines = starts.astype(np.int64) + header_row + 1
    if len(lines) == n_records:
        return lines
    lines = _csv_record_lines(path, enc, header_row, delim)
    return lines if lines is not None and len(lines) == n_records else None


def _csv_record_lines(path: Path, enc: Encoding, header_row: int, delim: str) -> np.ndarray | None:
    """The same, by Python's csv module (exact for quotes inside unquoted values; slower)."""
    codec = "utf-8-sig" if enc.codec == "utf8" else enc.codec
    out = []
    try:
        with path.open(encoding=codec, newline="") as f:
            reader = csv.reader(f, delimiter=delim)
            before = 0
            for i, _ in enumerate(reader):
                if i >= header_row:
                    out.append(before + 1)
                before = reader.line_num
    except (csv.Error, UnicodeError):
        return None
    return np.array(out, dtype=np.int64)


def _unclosed_quote(
    path: Path,
    enc: Encoding,
    delim: str,
    header: list[str],
    *,
    first: int,
    opened: int,
    last: int,
    shaped: int,
) -> DataError:
    """The message for a quote that swallowed lines ``opened+1..last`` of a record that starts
    on line ``first``: the column is found by walking the record's lines up to ``opened``."""
    codec = "utf-8-sig" if enc.codec == "utf8" else enc.codec
    field, field_at, in_quote, at_start, quote_line = 0, None, False, True, opened
    with path.open(encoding=codec, errors="replace", newline="") as f:
        for number, line in enumerate(f, start=1):
            if number < first:
                continue
            text = line.rstrip("\r\n")
            i = 0
            while i < len(text):
                ch = text[i]
                if in_quote:
                    if ch == '"':
                        if text[i + 1 : i + 2] == '"':
                            i += 1
                        else:
                            in_quote = False
                elif ch == delim:
                    field += 1
                    at_start = True
                    i += 1
                    continue
                elif ch == '"' and at_start:
                    in_quote, field_at, quote_line = True, field, number
                at_start = False
                i += 1
            if number >= opened:
                break
    if not in_quote:  # the walk disagrees with the count: name the line only
        field_at, quote_line = None, opened
    column = header[field_at] if field_at is not None and field_at < len(header) else ""
    if field_at is None:
        col, gist = "", ""
    else:
        col = f"“{column}”列（第 {field_at + 1} 列）" if column else f"第 {field_at + 1} 列"
        gist = f", column {column or field_at + 1}"
    n = last - quote_line
    span = f"第 {quote_line + 1} 行" if n == 1 else f"第 {quote_line + 1}–{last} 行"
    return DataError(
        f"{path}: 第 {quote_line} 行{col}有一个英文双引号没有闭合：其后的 {n} 行"
        f"（{span}"
        + (f"，其中 {shaped} 行本身就是完整的记录" if shaped else "")
        + "）都被读成了这一个值，"
        "这些记录会丢失，已停止。请在该值末尾补上英文双引号；如双引号是文字的一部分，请写成两个"
        '（""）或改用中文引号，然后重新保存。 (unbalanced quote at line '
        f"{quote_line}{gist}: the following {n} lines were swallowed into one value;"
        " close the quote or double it)"
    )


# -- XLSX -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Sheet:
    name: str
    sheet: object
    merged: list
    h: int  # index of the header row
    match: HeaderMatch
    filled: bool
    visible: bool


def _read_xlsx(path: Path, spec: DatasetSpec, mapping: DatasetMapping, params: str) -> RawTable:
    import python_calamine as cal

    try:
        wb = cal.CalamineWorkbook.from_path(str(path))
        shown = {m.name: m.visible == cal.SheetVisibleEnum.Visible for m in wb.sheets_metadata}
        sheets = []
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            head = _grid(sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS))
            merged = list(sheet.merged_cell_ranges or [])
            _fill_merged(head, merged)
            filled = bool(head.size) and bool((head != "").any())
            h, match = _best_row(head, spec, mapping)
            sheets.append(_Sheet(name, sheet, merged, h, match, filled, shown.get(name, True)))
    except (cal.CalamineError, OSError, ValueError) as e:
        kind = type(e).__name__
        hint = "文件设置了打开密码，请去掉密码后另存。" if "Password" in kind else ""
        raise DataError(
            f"{path}: 无法读取 Excel 文件（{kind}: {e}）。{hint}文件可能已损坏、不是真正的 .xlsx"
            "（例如改了扩展名的 CSV/HTML），或为旧版 .xls。请用 Excel 打开后另存为 .xlsx 重试。"
            " (unreadable xlsx)"
        ) from None
    if not sheets or not any(s.filled for s in sheets):
        raise _empty(path)
    best = max(s.match.score for s in sheets)
    holding = [s for s in sheets if _holds_header(s.match, spec, best)]
    chosen = [s for s in holding if s.visible]
    hidden = [s for s in holding if not s.visible]
    if holding and not chosen:
        names = "、".join(f"“{s.name}”" for s in hidden)
        raise DataError(
            f"{path}: 本数据集的表头只在隐藏的工作表 {names} 中，可见的工作表中没有；隐藏的工作表"
            "不会读取。如其中的数据应当使用，请在 Excel 中取消隐藏该工作表（右键工作表标签 →"
            "取消隐藏）；如不应使用，请删除它。 (the data is only on hidden sheets: unhide or"
            " delete them)"
        )
    if not chosen:  # no sheet looks like the dataset: the missing-column message, best sheet
        chosen = [max(sheets, key=lambda s: s.match.score)]
    if len(chosen) > 1:
        _same_columns(path, spec, chosen)
    for s in chosen:
        _check_sheet(path, spec, mapping, params, s)

    parts: list[tuple[_Sheet, np.ndarray, np.ndarray]] = []  # sheet, data cells, sheet rows
    blank = 0
    for s in chosen:
        try:
            rows = s.sheet.to_python(skip_empty_area=False)
        except cal.CalamineError as e:
            raise DataError(
                f"{path}: 无法读取工作表“{s.name}”（{e}）。 (unreadable sheet)"
            ) from None
        cells = _grid(rows)
        _fill_merged(cells, s.merged)
        data = cells[s.h + 1 :]
        empty = (data == "").all(axis=1) if data.size else np.zeros(len(data), dtype=bool)
        lines = np.arange(s.h + 2, s.h + 2 + len(data), dtype=np.int64)[~empty]
        parts.append((s, data[~empty], lines))
        blank += int(empty.sum())

    def cells_of(d: np.ndarray, i: int) -> pa.ChunkedArray:
        return _excel_text(d[:, i] if d.ndim == 2 and d.shape[0] else np.empty(0, dtype=object))

    # per sheet (its own header positions; a combined column joined there), then stacked
    per_sheet = [s.match.columns(lambda i, d=d: cells_of(d, i), excel=True) for s, d, _ in parts]
    columns = {
        c: pa.chunked_array(
            [chunk for got in per_sheet for chunk in got[c].chunks], type=pa.string()
        )
        for c in per_sheet[0]
    }
    several = len(chosen) > 1
    notes = []
    for s, _, _ in parts:
        prefix = f"工作表“{s.name}”：" if several else ""
        if s.h > 0:
            titles = [m for m in s.merged if m[1][0] < s.h]
            notes.append(
                f"{prefix}跳过表头上方 {s.h} 行标题"
                + (f"（含合并单元格 {'、'.join(_a1(m) for m in titles[:3])}）" if titles else "")
            )
        body = [m for m in s.merged if m[0][0] > s.h]
        if body:
            notes.append(f"{prefix}数据区有 {len(body)} 处合并单元格，已按左上角单元格的值填充")
    if several:
        notes.append(
            f"读取 {len(parts)} 个工作表（各自的表头）："
            + "、".join(f"“{s.name}” 表头第 {s.h + 1} 行，{len(d):,} 行" for s, d, _ in parts)
        )
    elif len(wb.sheet_names) > 1:
        notes.append(f"读取工作表“{chosen[0].name}”（共 {len(wb.sheet_names)} 个工作表）")
    for s in hidden:
        notes.append(f"隐藏工作表“{s.name}”未读取（其表头与本数据集相符；如需读取，请取消隐藏）")
    for s in sheets:
        if s not in chosen and s not in hidden and s.filled and several:
            notes.append(f"工作表“{s.name}”未读取（没有本数据集的表头）")
    if blank:
        notes.append(f"忽略 {blank} 个空行（空行不是记录，不计入读入行数）")
    rows_of = [len(d) for _, d, _ in parts]
    header_rows = {s.h + 1 for s in chosen}
    first = chosen[0]
    return RawTable(
        columns=columns,
        num_rows=sum(rows_of),
        first_line=first.h + 2,
        lines=np.concatenate([ln for *_, ln in parts]),
        format="XLSX",
        sheet="、".join(s.name for s in chosen),
        header_row=first.h + 1 if len(header_rows) == 1 else None,
        renamed={k: v for s in chosen for k, v in s.match.renamed().items()},
        ignored=list(dict.fromkeys(i for s in chosen for i in s.match.ignored)),
        notes=notes,
        excel=True,
        sheet_rows=[(s.name, n) for s, n in zip(chosen, rows_of, strict=True)] if several else [],
    )


def _holds_header(match: HeaderMatch, spec: DatasetSpec, best: int) -> bool:
    """A sheet whose header looks like the dataset's: its id or anchor, and most columns."""
    key = spec.id_column in match.positions or spec.anchor in match.positions
    return key and match.score >= max(2, (best + 1) // 2)


def _same_columns(path: Path, spec: DatasetSpec, chosen: list[_Sheet]) -> None:
    """Several visible sheets hold the dataset: only if they have the same columns."""
    sets = [set(s.match.positions) for s in chosen]
    required = {c.name for c in spec.columns if c.required}
    if all(x == sets[0] for x in sets) and required <= sets[0]:
        return
    parts = []
    for s, cols in zip(chosen, sets, strict=True):
        missing = [c for c in spec.names if c in required and c not in cols]
        text = f"工作表“{s.name}”有 {'、'.join(c for c in spec.names if c in cols)}"
        if missing:
            text += f"，缺少必填列 {'、'.join(missing)}"
        parts.append(text)
    raise DataError(
        f"{path}: 有 {len(chosen)} 个可见工作表都像是本数据集，但列不一致，无法确定该读取哪些："
        + "；".join(parts)
        + "。同一数据集分在多个工作表时，各表的列须相同；不属于本数据集的工作表（如汇总表）请删除，"
        "或移到另一个文件。 (several sheets look like this dataset but their columns differ: "
        + ", ".join(s.name for s in chosen)
        + ")"
    )


def _check_sheet(
    path: Path, spec: DatasetSpec, mapping: DatasetMapping, params: str, s: _Sheet
) -> None:
    extra = f"（工作表“{s.name}”）"
    header_merges = [
        m for m in s.merged if m[0][0] <= s.h <= m[1][0] and m[1][1] > m[0][1]
    ]  # merged across columns in the header row
    if s.match.duplicates and header_merges:
        extra += (
            "表头中有合并单元格 "
            + "、".join(_a1(m) for m in header_merges)
            + "，无法确定每一列的列名：请取消合并，并为每一列单独填写列名。"
            " (merged cells in the header row)"
        )
    check_header(
        s.match, spec, mapping, where=str(path), header_row=s.h + 1, params=params, extra=extra
    )


def _grid(rows: list[list]) -> np.ndarray:
    """The cells as a 2-D object array (calamine gives rectangular rows; pad if not)."""
    if not rows:
        return np.empty((0, 0), dtype=object)
    try:
        grid = np.array(rows, dtype=object)
    except ValueError:
        grid = np.empty(0)
    if grid.ndim != 2:  # ragged rows: pad them (rare, small)
        width = max(map(len, rows))
        grid = np.full((len(rows), width), "", dtype=object)
        for i, r in enumerate(rows):
            grid[i, : len(r)] = r
    return grid


def _fill_merged(cells: np.ndarray, merged: list) -> None:
    """Every cell of a merged range shows its top-left value (one step per range, not per row)."""
    if cells.ndim != 2 or not cells.size:
        return
    for (r0, c0), (r1, c1) in merged:
        if r0 < cells.shape[0] and c0 < cells.shape[1]:
            cells[r0 : r1 + 1, c0 : c1 + 1] = cells[r0, c0]


def _best_row(head: np.ndarray, spec: DatasetSpec, mapping: DatasetMapping):
    best = (0, match_header([], spec, mapping))
    if head.ndim != 2:
        return best
    for j in range(min(len(head), HEADER_SCAN_ROWS)):
        m = match_header(list(head[j]), spec, mapping)
        if m.score > best[1].score:
            best = (j, m)
    return best


def _a1(m) -> str:
    (r0, c0), (r1, c1) = m
    return f"{_col(c0)}{r0 + 1}:{_col(c1)}{r1 + 1}"


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _excel_text(values: np.ndarray) -> pa.ChunkedArray:
    """Excel cells as text: dates as ISO, whole numbers without ``.0``, empty as null."""
    text = pd.Series(values, dtype=object).astype(str).to_numpy()
    arr = pa.array(text, type=pa.string())
    arr = pc.replace_substring_regex(arr, r"^(-?\d+)\.0$", r"\1")
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pa.chunked_array([arr])


# -- Parquet ----------------------------------------------------------------------------


def _read_parquet(path: Path, spec: DatasetSpec, mapping: DatasetMapping, params: str) -> RawTable:
    try:
        names = pq.read_schema(path).names
        match = match_header(names, spec, mapping)
        check_header(match, spec, mapping, where=str(path), header_row=None, params=params)
        table = pq.read_table(path, columns=[names[i] for i in match.needed()])
    except DataError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise DataError(
            f"{path}: 无法读取 Parquet 文件（{e}）。文件可能已损坏，请重新导出。"
            " (unreadable parquet)"
        ) from None
    columns = match.columns(lambda i: table.column(names[i]))
    return RawTable(
        columns=columns,
        num_rows=table.num_rows,
        first_line=1,  # Parquet has no lines: the row number
        format="Parquet",
        renamed=match.renamed(),
        ignored=match.ignored,
    )
