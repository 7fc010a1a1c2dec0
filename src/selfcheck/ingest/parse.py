"""Typing raw columns, vectorised: text → timestamps, numbers, integers, booleans, enums.

Every function works on whole pyarrow arrays (one call per chunk of the file, not
per row). Clean data takes the fast path (one strict cast per chunk); a chunk that
fails it goes through the tolerant path: NFKC (full-width digits and punctuation
→ ASCII), trimming, the contract's other timestamp forms, thousands separators,
durations written as times (``0:02:23``, ``2分23秒``). A value that still cannot be
read becomes null and is flagged, so that the row is excluded and counted by the
caller. Text columns lose their control characters (counted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from selfcheck.errors import DataError
from selfcheck.schema import (
    AREA_ZH,
    AREAS,
    CALL_OUTCOME_ZH,
    CALL_OUTCOMES,
    CHANNEL_ZH,
    CHANNELS,
    LEVEL_ZH,
    LEVELS,
    ROLE_ZH,
    ROLES,
    SEVERITIES,
    VISIT_KIND_ZH,
    VISIT_KINDS,
    ColumnSpec,
)

SEVERITY_ZH = {"major": "重大", "minor": "一般"}  # labels of the data contract
_ENUM_LABELS: dict[tuple[str, ...], dict[str, str]] = {
    CHANNELS: CHANNEL_ZH,
    LEVELS: LEVEL_ZH,
    CALL_OUTCOMES: CALL_OUTCOME_ZH,
    VISIT_KINDS: VISIT_KIND_ZH,
    AREAS: AREA_ZH,
    ROLES: ROLE_ZH,
    SEVERITIES: SEVERITY_ZH,
}


def enum_aliases(values: tuple[str, ...]) -> dict[str, str]:
    """Accepted spellings of an enum's values → the canonical value (compared case-folded).

    The canonical value in any case, and the Chinese labels of the data contract
    (``在线/网页`` gives both 在线 and 网页)."""
    out = {v.casefold(): v for v in values}
    for value, label in _ENUM_LABELS.get(values, {}).items():
        for part in label.split("/"):
            out.setdefault(part.strip().casefold(), value)
    return out


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
# durations written as a time: [D day(s), ][-]H:MM:SS[.f] or two parts M:SS[.f] (seconds
# columns) / H:MM (hours columns); "1 day, 2:00:00" is how an Excel [h]:mm:ss cell arrives
DURATION_RE = (
    r"^(?:(?P<days>-?\d+) days?,\s*)?(?P<neg>-)?(?P<a>\d+):(?P<b>\d{1,2})"
    r"(?::(?P<c>\d{1,2}))?(?P<f>\.\d*)?$"
)
# 1小时2分3秒, 1时2分, 2分23秒, 2分钟, 143秒, 1.5小时
DURATION_ZH_RE = (
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:个?小时|个?钟头|时)\s*)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*分(?:钟)?\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*秒(?:钟)?)?$"
)
# an Excel duration of a day or more in a plain time format arrives as 1900-01-01 02:00:00
EXCEL_DAYS_RE = (
    r"^1900-(?P<mo>0[12])-(?P<d>\d{2})[ T](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})(?P<f>\.\d*)?$"
)
UNIT_SECONDS = {"s": 1.0, "h": 3600.0}
# C0 controls, DEL, C1 controls (U+0080-U+009F): removed from text columns. Free text keeps
# its line breaks (CRLF, CR and NEL become LF) and has tab, VT and FF as a space.
CONTROL_RE = r"[\x00-\x1f\x7f-\x{9f}]"
FREE_CONTROL_RE = r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x{9f}]"  # all but white space
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
FREE_TEXT = ("comment",)  # columns of free text (survey comments)
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
    cleaned: int = 0  # text cells that held control characters (removed)


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
    arrays, bads, mapped, cleaned = [], [], 0, 0
    target = _TARGET[col.type]
    fast = col.type in ("datetime", "number", "int") and not (excel and col.unit)
    for chunk in raw.chunks:
        if col.type in ("str", "enum"):
            chunk, n = _strip_controls(chunk, free=col.name in FREE_TEXT)
            cleaned += n
        if not value_map and fast:
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
    return Converted(pa.chunked_array(arrays, type=target), bad, mapped, cleaned)


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


def _strip_controls(chunk: pa.Array, *, free: bool) -> tuple[pa.Array, int]:
    """Without control characters, and how many cells had some.

    A min/max over the raw bytes first (clean ASCII text costs one pass); only a chunk with
    a byte below 0x20, DEL or a 0xC2 lead byte (U+0080-U+00BF, the C1 controls among them)
    is searched with the regex. Free text keeps its line breaks (CRLF, CR and NEL as LF) and
    has tab, VT and FF as a space; those are not counted."""
    if len(chunk) == chunk.null_count:
        return chunk, 0
    _, off_buf, data_buf = chunk.buffers()
    if data_buf is None:
        return chunk, 0
    offsets = np.frombuffer(off_buf, dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    start, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    if not size:
        return chunk, 0
    data = pa.Array.from_buffers(pa.uint8(), size, [None, data_buf], offset=start)
    bounds = pc.min_max(data)  # one SIMD pass over the bytes
    if bounds["min"].as_py() >= 0x20:
        if bounds["max"].as_py() < 0x7F:
            return chunk, 0
        raw = data_buf[start : start + size].to_pybytes()  # bytes.find is memchr: cheap
        if raw.find(b"\x7f") < 0 and raw.find(b"\xc2") < 0:
            return chunk, 0
    pattern = FREE_CONTROL_RE if free else CONTROL_RE
    n = int(pc.sum(pc.match_substring_regex(chunk, pattern)).as_py() or 0)
    if free:  # line breaks and tabs are not counted: they are the text's own
        chunk = pc.replace_substring_regex(chunk, r"\r\n?|\x{85}", "\n")
        chunk = pc.replace_substring_regex(chunk, r"[\t\x0b\x0c]", " ")
    return (pc.replace_substring_regex(chunk, pattern, "") if n else chunk), n


def _apply_map(s: pa.Array, value_map: Mapping[str, Any]) -> tuple[pa.Array, int]:
    # keys as the values they are compared with: without control characters, trimmed
    keys = pa.array([_CONTROL.sub("", str(k)).strip() for k in value_map], pa.string())
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
    s = _nfkc(s)  # full-width letters (ＡＮＳＷＥＲＥＤ)
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


MISSING_PART = "（空）"  # shown in place of an empty date or time cell of a combined column


def join_date_time(
    date: pa.ChunkedArray, time: pa.ChunkedArray, *, excel: bool = False
) -> pa.ChunkedArray:
    """A date column and a time-of-day column as one timestamp text, ``date + " " + time``.

    Parsed afterwards like any timestamp text. Excel cells: a date cell at midnight loses
    its ``00:00:00``, a date serial (``46204``) becomes its date and a fraction of a day
    (``0.34375``) its time; Parquet dates and times become their ISO text. A row with only
    one of the two is unreadable (the missing part shows as （空）), with neither is empty."""
    d = _part_text(date)
    t = _part_text(time)
    d = pc.replace_substring_regex(d, r"[ T]00:00(?::00(?:\.0*)?)?$", "")
    if excel:
        d = _excel_numbers(
            d,
            lambda v: (v >= 10_000) & (v < 100_000) & (v == np.floor(v)),
            lambda v: pa.array((v - EXCEL_EPOCH_DAYS).astype(np.int32), pa.date32()),
        )
        t = _excel_numbers(
            t,
            lambda v: (v >= 0) & (v < 1),
            lambda v: pa.array(np.round(v * MS_PER_DAY).astype(np.int32), pa.time32("ms")),
        )
    both = pc.and_(pc.is_null(d), pc.is_null(t))
    joined = pc.binary_join_element_wise(
        d, t, " ", null_handling="replace", null_replacement=MISSING_PART
    )
    return pa.chunked_array([pc.if_else(both, pa.scalar(None, pa.string()), joined)])


def _part_text(a: pa.ChunkedArray) -> pa.Array:
    """One part of a combined column as trimmed text, empty → null."""
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    t = a.type
    if pa.types.is_dictionary(t):
        a = a.cast(t.value_type)
        t = a.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            a = pc.local_timestamp(a)
        a = a.cast(pa.timestamp("ms")).cast(pa.string())
    elif not pa.types.is_string(t):
        a = a.cast(pa.string())
    if len(a) == a.null_count:
        return a
    a = pc.utf8_trim_whitespace(a)
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


def _excel_numbers(s: pa.Array, accept, as_arrow) -> pa.Array:
    """Cells of ``s`` that are plain numbers and pass ``accept`` → the text of ``as_arrow``."""
    number = _mask(pc.match_substring_regex(s, NUMBER_RE))
    if not number.any():
        return s
    v = np.nan_to_num(
        pc.cast(pc.if_else(pa.array(number), s, None), pa.float64()).to_numpy(zero_copy_only=False)
    )
    use = number & accept(v)
    if not use.any():
        return s
    text = as_arrow(np.where(use, v, 0)).cast(pa.string())
    return pc.if_else(pa.array(use), text, s)


# -- numbers ----------------------------------------------------------------------------


def _numbers(s: pa.Array, col: ColumnSpec, excel: bool):
    integer = col.type == "int"
    if not (excel and col.unit):
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
    if col.unit:
        if excel and _day_fractions(v[finite]):  # time cells that lost their format
            v = np.where(finite, np.round(v * MS_PER_DAY) / 1000 / UNIT_SECONDS[col.unit], v)
        rest = given & ~valid
        if rest.any():
            d, ok = _durations(s, rest, col.unit, excel)
            v = np.where(ok, d, v)
            finite |= ok
    if integer:
        whole = finite & (v == np.floor(v)) & (np.abs(v) < 2**53)
        ints = np.where(whole, v, 0.0).astype(np.int64)
        return pa.array(ints, type=pa.int64(), mask=~whole), given & ~whole
    return pa.array(v, type=pa.float64(), mask=~finite), given & ~finite


def _day_fractions(x: np.ndarray) -> bool:
    """Are these Excel number cells times that lost their format (fractions of a day)?

    Decided for the whole column, never cell by cell: every number is in [0, 1), some is
    not 0, each is a whole number of milliseconds once multiplied by a day (what a time
    cell holds: 0:02:23 is 0.0016550925925926), and some has more than two decimals
    (0.5 or 0.25 are read as plain numbers of the column's unit)."""
    if not x.size or x.min() < 0 or x.max() >= 1 or not (x > 0).any():
        return False
    ms = x * MS_PER_DAY
    if np.abs(ms - np.round(ms)).max() > 1e-3:
        return False
    cents = x * 100
    return bool((np.abs(cents - np.round(cents)) > 1e-6).any())


def _durations(s: pa.Array, rows: np.ndarray, unit: str, excel: bool):
    """Durations written as a time (``0:02:23``, ``2分23秒``…), in the column's unit.

    Only the ``rows`` that are not plain numbers are looked at; returns (value, read) for
    every row of ``s``."""
    idx = np.flatnonzero(rows)
    sub = pc.take(s, pa.array(idx))
    secs = np.full(len(sub), np.nan)

    def num(parts, name: str) -> np.ndarray:
        f = pc.struct_field(parts, name)
        f = pc.if_else(pc.equal(f, ""), pa.scalar(None, pa.string()), f)
        if name == "f":
            f = pc.if_else(pc.equal(f, "."), pa.scalar(None, pa.string()), f)
        return pc.cast(f, pa.float64()).to_numpy(zero_copy_only=False)

    # [D day(s), ][-]H:MM:SS[.f], M:SS[.f] (seconds) or H:MM (hours)
    parts = pc.extract_regex(sub, DURATION_RE)
    hit = _mask(pc.is_valid(parts))
    if hit.any():
        days, a, b, c = num(parts, "days"), num(parts, "a"), num(parts, "b"), num(parts, "c")
        frac = np.nan_to_num(num(parts, "f"))
        neg = _mask(pc.equal(pc.struct_field(parts, "neg"), "-"))
        three = ~np.isnan(c)
        # two parts: 1:30 is an hour and a half in hours, 2:23 two minutes 23 s in seconds
        two = a * 3600 + (b + frac) * 60 if unit == "h" else a * 60 + b + frac
        t = np.where(three, a * 3600 + b * 60 + np.nan_to_num(c) + frac, two)
        t = np.where(neg, -t, t) + np.nan_to_num(days) * 86_400
        ok = hit & (b < 60) & (~three | (c < 60))
        secs = np.where(ok, t, secs)
    # 1小时2分3秒, 2分23秒, 143秒, 90分钟, 1.5小时
    parts = pc.extract_regex(sub, DURATION_ZH_RE)
    hit = _mask(pc.is_valid(parts)) & np.isnan(secs)
    if hit.any():
        h, m, sec = num(parts, "h"), num(parts, "m"), num(parts, "s")
        some = ~(np.isnan(h) & np.isnan(m) & np.isnan(sec))
        below = ~np.isnan(h) | ~np.isnan(m)  # 1小时75分 / 2分75秒: not a duration
        ok = hit & some & ~(~np.isnan(h) & (m >= 60)) & ~(below & (sec >= 60))
        t = np.nan_to_num(h) * 3600 + np.nan_to_num(m) * 60 + np.nan_to_num(sec)
        secs = np.where(ok, t, secs)
    if excel:  # a duration of a day or more in a plain time format: 1900-01-01 02:00:00 = 26 h
        parts = pc.extract_regex(sub, EXCEL_DAYS_RE)
        hit = _mask(pc.is_valid(parts)) & np.isnan(secs)
        if hit.any():
            mo, d = num(parts, "mo"), num(parts, "d")
            hh, mi, ss = num(parts, "H"), num(parts, "M"), num(parts, "S")
            frac = np.nan_to_num(num(parts, "f"))
            day = np.where(mo == 2, 31 + d, d)  # days since 1899-12-31 (serial 1 is 1900-01-01)
            ok = hit & (d >= 1) & (day <= 59) & (hh <= 23) & (mi <= 59) & (ss <= 59)
            t = day * 86_400 + hh * 3600 + mi * 60 + ss + frac
            secs = np.where(ok, t, secs)
    read = ~np.isnan(secs)
    value = np.zeros(len(s))
    value[idx] = np.where(read, secs, 0.0) / UNIT_SECONDS[unit]
    ok = np.zeros(len(s), dtype=bool)
    ok[idx] = read
    return value, ok


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
