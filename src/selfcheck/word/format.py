"""Text for the Word writer: cleaning data text for XML, Chinese numbering, table cells.

Pure functions, no python-docx: the writer (:mod:`selfcheck.word.writer`) decides where
the text goes, this module decides what it says.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from selfcheck.blocks import Column
from selfcheck.metrics.base import STATUS_MISSED

DASH = "—"

# Characters XML 1.0 cannot hold: C0 controls except tab / newline / carriage return,
# lone surrogates, and the non-characters U+FFFE / U+FFFF.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# line breaks, tabs and runs of ASCII spaces (a full-width space U+3000 is kept: it is intended)
_SPACES = re.compile("[ \t\r\n\x0b\x0c\x85\u2028\u2029]+")


class TextCleaner:
    """Removes characters Word cannot store and counts how many it removed."""

    def __init__(self) -> None:
        self.removed = 0

    def __call__(self, value: object) -> str:
        text = value if isinstance(value, str) else str(value)
        cleaned, n = _ILLEGAL_XML.subn("", text)
        self.removed += n
        return cleaned

    def line(self, value: object) -> str:
        """One line of text (headings, captions): whitespace runs become one space."""
        return _SPACES.sub(" ", self(value)).strip()


# -- Chinese numbering --------------------------------------------------------------
_DIGITS = "零一二三四五六七八九"
_UNITS = ("", "十", "百", "千")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 21 → 二十一, 105 → 一百零五 (positive integers < 10000)."""
    if n <= 0 or n >= 10000:
        return str(n)
    if 10 <= n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    digits = [int(d) for d in str(n)]
    out: list[str] = []
    pending_zero = False
    for pos, d in enumerate(digits):
        unit = _UNITS[len(digits) - pos - 1]
        if d == 0:
            pending_zero = True
            continue
        if pending_zero and out:
            out.append("零")
        pending_zero = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def section_number(position: int) -> str:
    """Level-1 (section) number: ``一、``."""
    return f"{chinese_number(position)}、"


def sub_number(level: int, count: int) -> str:
    """Number of a heading inside a section: level 1 ``（一）``, level 2 ``1. ``, deeper ``（1）``."""
    if level <= 1:
        return f"（{chinese_number(count)}）"
    if level == 2:
        return f"{count}. "
    return f"（{count}）"


# -- table cells ---------------------------------------------------------------------
@dataclass(frozen=True)
class CellText:
    text: str
    missing: bool = False  # None / NaN: shown as a dash
    shortfall: bool = False  # a 未达标 status: marked red


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas.NA / pandas.NaT
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _as_number(value: Any) -> float | None:
    if isinstance(value, (str, bytes)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _signed(number: float, decimals: int, *, thousands: bool = True) -> str:
    """``+1.2`` / ``-1.2``; a value that rounds to zero is shown unsigned (``0.0``)."""
    spec = f",.{decimals}f" if thousands else f".{decimals}f"
    text = format(abs(number), spec)
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if number > 0 else "-") + text


def format_cell(value: Any, column: Column, clean: TextCleaner) -> CellText:
    """The text of one table cell, formatted by the column's kind (see blocks.ColumnKind)."""
    if _is_missing(value):
        return CellText(DASH, missing=True)
    kind = column.kind
    if kind == "text":
        return CellText(clean(value))
    if kind == "status":
        text = clean(value).strip()
        return CellText(text, shortfall=text == STATUS_MISSED)
    number = _as_number(value)
    if number is None:
        if isinstance(value, str):
            return CellText(clean(value))  # the notebook wrote text: show it as it is
        return CellText(DASH, missing=True)  # inf, or something that is not a number
    decimals = max(0, int(column.decimals))
    if kind == "int":
        return CellText(f"{number:,.0f}")
    if kind == "number":
        return CellText(f"{number:,.{decimals}f}")
    if kind == "rate":
        return CellText(f"{number * 100:,.1f}%")
    if kind == "pp":
        return CellText(_signed(number * 100, 1) + "个百分点")
    if kind == "delta":
        return CellText(_signed(number, decimals))
    return CellText(clean(value))


def display_width(text: str) -> int:
    """Width in half-width character cells (CJK and full-width count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
