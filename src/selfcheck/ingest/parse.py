"""Typing raw columns, vectorised: text → timestamps, numbers, integers, booleans, enums.

Every function works on whole pyarrow arrays (one call per chunk of the file, not
per row). Clean data takes the fast path (one strict cast per chunk); a chunk that
fails it goes through the tolerant path: NFKC (full-width digits and punctuation
→ ASCII), trimming, the contract's other timestamp forms, thousands separators.
A value that still cannot be read becomes null and is flagged, so that the row is
excluded and counted by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from selfcheck.errors import DataError
from selfcheck.ingest.columns import enum_aliases
from selfcheck.schema import ColumnSpec

TRUE_VALUES = ("true", "1", "y", "yes", "是", "有")
FALSE_VALUES = ("false", "0", "n", "no", "否", "无")
# Read as empty in typed columns (timestamps, numbers, booleans); text columns keep them.
NULL_TOKENS = ("-", "--", "—", "——", "/", "n/a", "na", "null", "none", "nan", "#n/a")
# date, then optionally a time after a space, a 'T' or straight after 日
TIMESTAMP_RE = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})"
    r"(?:(?:\s*日\s*|\s+|T)"
    r"(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:\.(?P<f>\d{1,9}))?)?)?"
    r"\s*日?$"
)
NUMBER_RE = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
THOUSANDS_RE = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
EXCEL_EPOCH_DAYS = 25569  # 1970-01-01 as an Excel (1900 system) serial day
MS_PER_DAY = 86_400_000
TS = pa.timestamp("ms")

# What cannot be read, by column type (the reason text of the quality record).
PARSE_REASONS = {
    "datetime": "时间无法识别",
    "date": "日期无法识别",
    "number": "不是数字",
    "int": "不是整数",
    "bool": "是/否值无法识别",
}


@dataclass
class Converted:
    array: pa.ChunkedArray  # typed: timestamp[ms], float64, int64, bool or string
    bad: np.ndarray | None  # rows whose value could not be read (None: none)
    mapped: int = 0  # cells changed by the value map of the parameters file


def convert(
    raw: pa.ChunkedArray,
    col: ColumnSpec,
    value_map: Mapping[str, Any] | None = None,
    *,
    excel: bool = False,
    timezone: str = "Asia/Shanghai",
    where: str = "",
) -> Converted:
    """Type one column of the contract."""
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        typed = _convert_typed(raw, col, timezone, where)
        if typed is not None:
            return typed
        raw = pc.cast(raw, pa.string())
    if pa.types.is_large_string(raw.type):
        raw = pc.cast(raw, pa.string())
    arrays, bads, mapped = [], [], 0
    target = _TARGET[col.type]
    for chunk in raw.chunks:
        if not value_map and col.type in ("datetime", "number", "int"):
            try:  # clean data: one strict cast, no trimming needed
                typed = pc.cast(chunk, target)
                if col.type != "number" or not pc.any(pc.is_inf(typed)).as_py():
                    arrays.append(typed)
                    bads.append(None)
                    continue
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        s = _clean(chunk)
        if value_map:
            s, n = _apply_map(s, value_map)
            mapped += n
        a, b = _CONVERTERS[col.type](s, col, excel)
        arrays.append(a)
        bads.append(b)
    bad = None
    if any(b is not None for b in bads):
        bad = np.concatenate(
            [
                np.zeros(len(a), dtype=bool) if b is None else b
                for a, b in zip(arrays, bads, strict=True)
            ]
        )
    return Converted(pa.chunked_array(arrays, type=target), bad, mapped)


# -- text -------------------------------------------------------------------------------


def _clean(chunk: pa.Array) -> pa.Array:
    """Trimmed (spaces, tabs, full-width spaces), empty → null."""
    if len(chunk) == chunk.null_count:
        return chunk
    trim, empty = _edges(chunk)
    s = pc.utf8_trim_whitespace(chunk) if trim else chunk
    if trim or empty:
        blank = pc.equal(pc.binary_length(s), 0)
        s = pc.if_else(blank, pa.scalar(None, pa.string()), s)
    return s


def _edges(chunk: pa.Array) -> tuple[bool, bool]:
    """(may need trimming, has empty strings), from the first and last byte of each value.

    Reads the array's offsets and data buffers with numpy: much cheaper than trimming
    10 M ids that hold no space. A non-ASCII first or last byte counts as "may need
    trimming" (it could be a full-width space)."""
    _, off_buf, data_buf = chunk.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    lengths = np.diff(offsets)
    empty = int((lengths == 0).sum()) > chunk.null_count
    filled = lengths > 0
    if data_buf is None or not filled.any():
        return False, empty
    data = np.frombuffer(data_buf, dtype=np.uint8)
    first = data[offsets[:-1][filled]]
    last = data[offsets[1:][filled] - 1]

    def space(b: np.ndarray) -> bool:
        return bool(((b == 32) | ((b >= 9) & (b <= 13)) | (b >= 0x80)).any())

    return space(first) or space(last), empty


def _apply_map(s: pa.Array, value_map: Mapping[str, Any]) -> tuple[pa.Array, int]:
    keys = pa.array([str(k).strip() for k in value_map], pa.string())
    values = pa.array([_as_text(v) for v in value_map.values()], pa.string())
    idx = pc.index_in(s, value_set=keys)
    hit = pc.is_valid(idx)
    n = pc.sum(hit).as_py() or 0
    if not n:
        return s, 0
    return pc.if_else(hit, pc.take(values, idx), s), int(n)


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _null_tokens(s: pa.Array, tokens=NULL_TOKENS) -> pa.Array:
    hit = pc.is_in(pc.utf8_lower(s), value_set=pa.array(tokens))
    return pc.if_else(hit, pa.scalar(None, pa.string()), s)


def _nfkc(s: pa.Array) -> pa.Array:
    if pc.all(pc.string_is_ascii(s)).as_py() is not False:
        return s
    s = pc.utf8_normalize(s, form="NFKC")  # full-width digits, colon, comma, space → ASCII
    s = pc.replace_substring(s, "\u2212", "-")  # minus sign
    return pc.utf8_trim_whitespace(s)


def _mask(a: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)


def _str(s: pa.Array, col: ColumnSpec, excel: bool):
    return s, None


def _enum(s: pa.Array, col: ColumnSpec, excel: bool):
    aliases = enum_aliases(col.enum)
    if pc.all(pc.is_in(s, value_set=pa.array(col.enum))).as_py() is not False:
        return s, None
    idx = pc.index_in(pc.utf8_lower(s), value_set=pa.array(list(aliases)))
    canonical = pc.take(pa.array(list(aliases.values()), pa.string()), idx)
    return pc.if_else(pc.is_valid(idx), canonical, s), None  # unknown values: pandera says so


# -- timestamps -------------------------------------------------------------------------


def _timestamps(s: pa.Array, col: ColumnSpec, excel: bool):
    try:
        ts = pc.cast(s, TS)  # strict ISO 8601: YYYY-MM-DD[ HH:MM[:SS[.fff]]]
        bad = None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        ts, bad = _timestamps_tolerant(s, excel)
    if col.type == "date":
        ts = _floor_day(ts)
    return ts, bad


def _floor_day(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Midnight of the day (date columns keep no time of day)."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    ms = np.nan_to_num(ts.cast(pa.int64()).to_numpy(zero_copy_only=False)).astype(np.int64)
    return pa.array(ms - ms % MS_PER_DAY, type=TS, mask=_mask(pc.is_null(ts)))


def _timestamps_tolerant(s: pa.Array, excel: bool) -> tuple[pa.Array, np.ndarray]:
    s = _null_tokens(_nfkc(s))
    given = _mask(pc.is_valid(s))
    parts = pc.extract_regex(s, TIMESTAMP_RE)
    matched = _mask(pc.is_valid(parts))

    def field(name: str, default: str = "0") -> np.ndarray:
        f = pc.struct_field(parts, name)
        f = pc.if_else(pc.equal(f, ""), default, f)
        if name == "f":
            f = pc.utf8_rpad(pc.utf8_slice_codeunits(f, 0, 6), width=6, padding="0")
        return pc.fill_null(pc.cast(f, pa.int64()), 0).to_numpy(zero_copy_only=False)

    y, mo, d = field("y", "1970"), field("m", "1"), field("d", "1")
    hh, mi, ss, us = field("H"), field("M"), field("S"), field("f")
    ok = (
        matched
        & (y >= 1900)
        & (y <= 2200)
        & (mo >= 1)
        & (mo <= 12)
        & (d >= 1)
        & (d <= 31)
        & (hh <= 23)
        & (mi <= 59)
        & (ss <= 59)
    )
    y, mo, d = np.where(ok, y, 1970), np.where(ok, mo, 1), np.where(ok, d, 1)
    month = ((y - 1970) * 12 + (mo - 1)).astype("datetime64[M]")
    day = month.astype("datetime64[D]") + (d - 1)
    ok &= day.astype("datetime64[M]") == month  # 2026-02-30 is not a date
    micros = (
        day.astype(np.int64) * 86_400_000_000
        + hh * 3_600_000_000
        + mi * 60_000_000
        + ss * 1_000_000
        + us
    )
    ms = (micros + 500) // 1000  # Excel's float days: round to the millisecond
    if excel:  # a date cell that lost its format shows its serial number (days since 1899-12-30)
        serial = ~matched & given & _mask(pc.match_substring_regex(s, NUMBER_RE))
        if serial.any():
            v = pc.cast(pc.if_else(pa.array(serial), s, None), pa.float64())
            v = np.nan_to_num(v.to_numpy(zero_copy_only=False))
            serial &= (v >= 10_000) & (v < 100_000)
            ms = np.where(serial, np.round((v - EXCEL_EPOCH_DAYS) * MS_PER_DAY), ms)
            ok |= serial
    ms = ms.astype(np.int64)
    return pa.array(ms, type=TS, mask=~ok), given & ~ok


# -- numbers ----------------------------------------------------------------------------


def _numbers(s: pa.Array, col: ColumnSpec, excel: bool):
    integer = col.type == "int"
    try:
        x = pc.cast(s, pa.int64() if integer else pa.float64())
        if integer or not pc.any(pc.is_inf(x)).as_py():
            return x, None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    s = _null_tokens(_nfkc(s))
    grouped = pc.match_substring_regex(s, THOUSANDS_RE)
    s = pc.if_else(grouped, pc.replace_substring(s, ",", ""), s)
    valid = _mask(pc.match_substring_regex(s, NUMBER_RE))
    given = _mask(pc.is_valid(s))
    x = pc.cast(pc.if_else(pa.array(valid), s, None), pa.float64())
    v = x.to_numpy(zero_copy_only=False)
    finite = valid & np.isfinite(v)  # 1e999 is not a duration
    v = np.where(finite, v, 0.0)
    if integer:
        whole = finite & (v == np.floor(v)) & (np.abs(v) < 2**53)
        ints = np.where(whole, v, 0.0).astype(np.int64)
        return pa.array(ints, type=pa.int64(), mask=~whole), given & ~whole
    return pa.array(v, type=pa.float64(), mask=~finite), given & ~finite


# -- booleans ---------------------------------------------------------------------------


def _bools(s: pa.Array, col: ColumnSpec, excel: bool):
    s = _null_tokens(_nfkc(s))
    low = pc.utf8_lower(s)
    t = pc.is_in(low, value_set=pa.array(TRUE_VALUES))
    f = pc.is_in(low, value_set=pa.array(FALSE_VALUES))
    given = _mask(pc.is_valid(s))
    tm, fm = _mask(t), _mask(f)
    ok = tm | fm
    out = pa.array(tm, type=pa.bool_(), mask=~ok)
    bad = given & ~ok
    return out, (bad if bad.any() else None)


_CONVERTERS = {
    "str": _str,
    "enum": _enum,
    "datetime": _timestamps,
    "date": _timestamps,
    "number": _numbers,
    "int": _numbers,
    "bool": _bools,
}
_TARGET = {
    "str": pa.string(),
    "enum": pa.string(),
    "datetime": TS,
    "date": TS,
    "number": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}


# -- typed sources (Parquet) ------------------------------------------------------------


def _convert_typed(
    raw: pa.ChunkedArray, col: ColumnSpec, timezone: str, where: str
) -> Converted | None:
    """A Parquet column that already has a type; None → treat it as text."""
    t = raw.type
    if pa.types.is_dictionary(t):
        raw = raw.cast(t.value_type)
        t = raw.type
    try:
        if col.type in ("datetime", "date"):
            if pa.types.is_timestamp(t):
                if t.tz is not None:
                    raw = pc.local_timestamp(raw.cast(pa.timestamp(t.unit, tz=timezone)))
                ts = raw.cast(TS)
            elif pa.types.is_date(t):
                ts = raw.cast(TS)
            else:
                return None if pa.types.is_string(t) else _type_error(raw, col, where)
            if col.type == "date":
                ts = pa.chunked_array([_floor_day(ts)])
            return Converted(ts, None)
        if col.type in ("number", "int"):
            if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
                if col.type == "int" and pa.types.is_integer(t):
                    return Converted(raw.cast(pa.int64()), None)
                x = raw.cast(pa.float64())
                v = x.to_numpy()
                given = ~np.isnan(v)
                finite = given & np.isfinite(v)
                if col.type == "number":
                    bad = given & ~finite
                    arr = pa.array(np.where(finite, v, 0.0), pa.float64(), mask=~finite)
                    return Converted(pa.chunked_array([arr]), bad if bad.any() else None)
                whole = finite & (np.where(finite, v, 0.0) % 1 == 0) & (np.abs(v) < 2**53)
                ints = np.where(whole, v, 0.0).astype(np.int64)
                bad = given & ~whole
                arr = pa.array(ints, pa.int64(), mask=~whole)
                return Converted(pa.chunked_array([arr]), bad if bad.any() else None)
            return None if pa.types.is_string(t) else _type_error(raw, col, where)
        if col.type == "bool":
            if pa.types.is_boolean(t):
                return Converted(raw, None)
            if pa.types.is_integer(t):
                return None  # 0/1 → text path
            return None if pa.types.is_string(t) else _type_error(raw, col, where)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _type_error(raw, col, where)
    return None  # str / enum: through the text path


def _type_error(raw: pa.ChunkedArray, col: ColumnSpec, where: str):
    raise DataError(
        f"{where}: 列 {col.name}（{col.zh}）的类型为 {raw.type}，无法作为"
        f"{ {'datetime': '时间', 'date': '日期', 'number': '数字', 'int': '整数', 'bool': '是/否'}.get(col.type, col.type) }读取。"
        "请重新导出该列。 (column type does not fit the contract)"
    )
