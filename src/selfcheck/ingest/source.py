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
from selfcheck.ingest.records import DELIMITER_NAMES
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

    def line_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if self.lines is not None:
            return self.lines[rows]
        return rows + self.first_line


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


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(4 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_source(path: Path, spec: DatasetSpec, mapping: DatasetMapping, *, params: str) -> RawTable:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(f"{path}: 无法读取文件（{e.strerror}）。 (cannot read the file)") from None
    if size == 0:
        raise _empty(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path, spec, mapping, params)
    if suffix == ".xlsx":
        return _read_xlsx(path, spec, mapping, params)
    return _read_csv(path, spec, mapping, params)


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
    table, malformed, enc = _arrow_csv(path, enc, j + 1, names, wanted, delim)
    notes = []
    if j > 0:
        notes.append(f"跳过表头上方 {j} 行标题")
    if delim != ",":
        notes.append(f"分隔符为{DELIMITER_NAMES[delim]}")
    first_line = header_row + 1
    lines_arr = None
    if malformed:
        bad_lines = np.array([ln for ln, _ in malformed], dtype=np.int64)
        total = table.num_rows + len(malformed)
        all_lines = np.arange(first_line, first_line + total, dtype=np.int64)
        lines_arr = all_lines[~np.isin(all_lines, bad_lines)]
    return RawTable(
        columns=match.columns(lambda i: table.column(f"f{i}")),
        num_rows=table.num_rows,
        first_line=first_line,
        lines=lines_arr,
        format="CSV",
        encoding=enc.label,
        delimiter=delim,
        header_row=header_row,
        renamed=match.renamed(),
        ignored=match.ignored,
        notes=notes,
        malformed=malformed,
    )


def _arrow_csv(
    path: Path, enc: Encoding, skip: int, names: list[str], include: list[str], delim: str
) -> tuple[pa.Table, list[tuple[int, str]], Encoding]:
    malformed: list[tuple[int | None, str]] = []
    multiline = False

    def on_invalid(row) -> str:
        malformed.append((row.number, row.text))
        return "skip"

    def attempt(enc: Encoding, threads: bool, multiline: bool = False) -> pa.Table:
        malformed.clear()
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
                delimiter=delim, invalid_row_handler=on_invalid, newlines_in_values=multiline
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(include, pa.string()),
                include_columns=include,
                strings_can_be_null=True,
                null_values=[""],
            ),
        )

    try:
        try:
            table = attempt(enc, True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as e:
            if "UTF8" not in str(e) and not isinstance(e, UnicodeDecodeError):
                raise
            enc = _full_encoding(path)  # the first MiB was not representative
            table = attempt(enc, True)
        if malformed:  # quoted values with line breaks (slower to parse, so only now)?
            first = len(malformed)
            table = attempt(enc, True, multiline=True)
            if len(malformed) < first:
                multiline = True
            else:
                table = attempt(enc, True)
                multiline = False
        if malformed and any(n is None for n, _ in malformed):
            table = attempt(enc, False, multiline)  # single-threaded: pyarrow knows the lines
    except pa.ArrowInvalid as e:
        raise DataError(
            f"{path}: 无法解析 CSV 文件（{e}）。请检查引号是否成对、编码与分隔符是否一致。"
            " (the CSV cannot be parsed)"
        ) from None
    return table, [(int(n or 0), t) for n, t in malformed], enc


# -- XLSX -------------------------------------------------------------------------------


def _read_xlsx(path: Path, spec: DatasetSpec, mapping: DatasetMapping, params: str) -> RawTable:
    import python_calamine as cal

    try:
        wb = cal.CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            head = _grid(sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS))
            merged = list(sheet.merged_cell_ranges or [])
            _fill_merged(head, merged)
            filled = bool(head.size) and bool((head != "").any())
            sheets.append((name, sheet, merged, *_best_row(head, spec, mapping), filled))
    except (cal.CalamineError, OSError, ValueError) as e:
        kind = type(e).__name__
        hint = "文件设置了打开密码，请去掉密码后另存。" if "Password" in kind else ""
        raise DataError(
            f"{path}: 无法读取 Excel 文件（{kind}: {e}）。{hint}文件可能已损坏、不是真正的 .xlsx"
            "（例如改了扩展名的 CSV/HTML），或为旧版 .xls。请用 Excel 打开后另存为 .xlsx 重试。"
            " (unreadable xlsx)"
        ) from None
    if not sheets:
        raise _empty(path)
    if not any(s[5] for s in sheets):
        raise _empty(path)
    name, sheet, merged, h, match, _ = max(sheets, key=lambda s: s[4].score)
    header_row = h + 1
    extra = f"（工作表“{name}”）"
    header_merges = [
        m for m in merged if m[0][0] <= h <= m[1][0] and m[1][1] > m[0][1]
    ]  # merged across columns in the header row
    if match.duplicates and header_merges:
        extra += (
            "表头中有合并单元格 "
            + "、".join(_a1(m) for m in header_merges)
            + "，无法确定每一列的列名：请取消合并，并为每一列单独填写列名。"
            " (merged cells in the header row)"
        )
    check_header(
        match, spec, mapping, where=str(path), header_row=header_row, params=params, extra=extra
    )
    try:
        rows = sheet.to_python(skip_empty_area=False)
    except cal.CalamineError as e:
        raise DataError(f"{path}: 无法读取工作表“{name}”（{e}）。 (unreadable sheet)") from None
    cells = _grid(rows)
    _fill_merged(cells, merged)
    data = cells[h + 1 :]
    empty = (data == "").all(axis=1) if data.size else np.zeros(len(data), dtype=bool)
    lines = np.arange(header_row + 1, header_row + 1 + len(data), dtype=np.int64)[~empty]
    data = data[~empty]
    columns = match.columns(lambda i: _excel_text(data[:, i]), excel=True)
    notes = []
    if h > 0:
        titles = [m for m in merged if m[1][0] < h]
        notes.append(
            f"跳过表头上方 {h} 行标题"
            + (f"（含合并单元格 {'、'.join(_a1(m) for m in titles[:3])}）" if titles else "")
        )
    body = [m for m in merged if m[0][0] > h]
    if body:
        notes.append(f"数据区有 {len(body)} 处合并单元格，已按左上角单元格的值填充")
    if len(wb.sheet_names) > 1:
        notes.append(f"读取工作表“{name}”（共 {len(wb.sheet_names)} 个工作表）")
    return RawTable(
        columns=columns,
        num_rows=len(data),
        first_line=header_row + 1,
        lines=lines,
        format="XLSX",
        sheet=name,
        header_row=header_row,
        renamed=match.renamed(),
        ignored=match.ignored,
        notes=notes,
        excel=True,
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
