"""Masking of personal data in free text (survey comments quoted in the report).

:func:`mask` masks one string, :func:`mask_series` a whole column (vectorised
``str.replace``, the same patterns). What is masked, in this order:

1. e-mail addresses — the first character of the local part and the domain are kept:
   ``zhuhong312@qq.com`` → ``z***@qq.com``;
2. 18-digit resident ID-card numbers (date of birth in positions 7–14, last character a
   digit or X), optionally written in 6-8-4 groups — the first 3 and last 4 characters
   are kept: ``330***********7106``;
3. bank-card numbers of 16–19 digits, ungrouped or in groups of four separated by
   spaces or hyphens — only the last 4 digits are kept, the grouping stays:
   ``**** **** **** 1234``;
4. mobile numbers ``1[3-9]x xxxx xxxx`` with an optional ``+86`` / ``86`` / ``0086``
   prefix and optional spaces or hyphens — the first 3 and last 4 digits are kept:
   ``138****5678``;
5. landlines with an area code (``010-12345678``, ``0755 1234 5678``, ``(021)1234-5678``)
   — the area code and the last 4 digits are kept: ``010-****5678``.

E-mail first, because a local part may be a phone number; ID cards before bank cards
and phones, so an ID card is never taken for either. Every number pattern must cover a
whole run of digits and letters (nothing alphanumeric directly before or after), so a
longer run of digits (a 20-digit reference) is never half-masked and an order number such
as ``GD13812345678`` is left alone. Amounts (``1,280元``), dates (``2026-09-30``) and
8-digit order numbers match none of the patterns.

Full-width digits, Latin letters and the characters ``＠＋－．＿`` are first normalised
to their ASCII forms (the NFKC mapping), so ``１３８１２３４５６７８`` is masked too;
Chinese punctuation (``，。：（）``) is left as written.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["PATTERNS", "mask", "mask_series", "normalise"]

# Full-width forms mapped to ASCII (NFKC) where they can be part of personal data; other
# full-width characters (Chinese punctuation) keep their form.
_FULLWIDTH = (
    "０１２３４５６７８９＠＋－．＿"
    + "".join(chr(c) for c in range(0xFF21, 0xFF3B))
    + "".join(chr(c) for c in range(0xFF41, 0xFF5B))
)
_NORMALISE = str.maketrans({c: unicodedata.normalize("NFKC", c) for c in _FULLWIDTH})

_B = r"(?<![0-9A-Za-z])"  # nothing alphanumeric before …
_E = r"(?![0-9A-Za-z])"  # … or after a number
_SEP = r"[ \-\u3000\u2010\u2011\u2012\u2013]"  # a separator inside a number (space, hyphens)

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9])[A-Za-z0-9._%+\-]*"
    r"@([A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,})(?![A-Za-z0-9\-])"
)
ID_CARD = re.compile(
    rf"{_B}([1-9]\d{{2}})\d{{3}}{_SEP}?(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    rf"{_SEP}?(\d{{3}}[0-9Xx]){_E}"
)
BANK_CARD = re.compile(rf"{_B}\d{{4}}({_SEP}?)\d{{4}}\1\d{{4}}\1\d{{4}}(?:\1?\d{{1,3}})?{_E}")
MOBILE = re.compile(
    rf"{_B}((?:[(（]?(?:\+|00)?86[)）]?{_SEP}?)?)(1[3-9]\d){_SEP}?\d{{4}}{_SEP}?(\d{{4}}){_E}"
)
LANDLINE = re.compile(
    rf"{_B}([(（]0(?:10|2\d|[3-9]\d{{2}})[)）]{_SEP}?|0(?:10|2\d|[3-9]\d{{2}}){_SEP}?)"
    rf"\d{{3,4}}({_SEP}?)(\d{{4}}){_E}"
)


def _mask_card(m: re.Match[str]) -> str:
    """Every digit but the last four becomes ``*``; separators stay."""
    text = m.group(0)
    keep_from = [i for i, ch in enumerate(text) if ch.isdigit()][-4]
    return re.sub(r"\d", "*", text[:keep_from]) + text[keep_from:]


# (pattern, replacement) in the order they are applied
PATTERNS: tuple[tuple[re.Pattern[str], object], ...] = (
    (EMAIL, r"\1***@\2"),
    (ID_CARD, r"\1***********\2"),
    (BANK_CARD, _mask_card),
    (MOBILE, r"\1\2****\3"),
    (LANDLINE, r"\1****\2\3"),
)


def normalise(text: str) -> str:
    """Full-width digits, letters and ``＠＋－．＿`` to ASCII; everything else unchanged."""
    return text.translate(_NORMALISE)


def mask(text: str) -> str:
    """``text`` with e-mail addresses, ID-card, bank-card, mobile and landline numbers masked."""
    out = normalise(text)
    for pattern, repl in PATTERNS:
        out = pattern.sub(repl, out)  # type: ignore[call-overload]
    return out


def mask_series(s: pd.Series) -> pd.Series:
    """:func:`mask` over a column of text (missing values stay missing)."""
    out = s.astype("string").str.translate(_NORMALISE)
    for pattern, repl in PATTERNS:
        out = out.str.replace(pattern, repl, regex=True)  # type: ignore[arg-type]
    return out
