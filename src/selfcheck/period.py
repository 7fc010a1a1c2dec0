"""Period: one calendar quarter, written ``YYYYQn``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from selfcheck.errors import ParamsError

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter. Instants are naive local wall-clock time."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4:
            raise ParamsError(f"季度必须是 1–4 (quarter must be 1-4), got {self.quarter}")
        if not 1900 <= self.year <= 9999:
            raise ParamsError(f"年份不合理 (implausible year): {self.year}")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        if isinstance(text, Period):
            return text
        m = _PERIOD_RE.match(str(text))
        if not m:
            raise ParamsError(
                f"期间格式应为 YYYYQn，例如 2026Q3 (period must look like 2026Q3), got {text!r}"
            )
        return cls(int(m.group(1)), int(m.group(2)))

    # -- boundaries -------------------------------------------------------
    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        """The quarter's last day (used where a date is needed, e.g. tenure)."""
        return self.next().first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """The first instant of the quarter."""
        return datetime.combine(self.first_day, datetime.min.time())

    @property
    def end(self) -> datetime:
        """The first instant after the quarter ("period end")."""
        return self.next().start

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    # -- neighbours -------------------------------------------------------
    def shift(self, quarters: int) -> Period:
        index = self.year * 4 + (self.quarter - 1) + quarters
        return Period(index // 4, index % 4 + 1)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        """The quarter before (QoQ, 环比)."""
        return self.shift(-1)

    def year_ago(self) -> Period:
        """The same quarter a year earlier (YoY, 同比)."""
        return self.shift(-4)

    # -- text ----------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def title_zh(self) -> str:
        """``2026年第3季度``."""
        return f"{self.year}年第{self.quarter}季度"

    @property
    def range_zh(self) -> str:
        """``2026年7月1日至2026年9月30日``."""
        a, b = self.first_day, self.last_day
        return f"{a.year}年{a.month}月{a.day}日至{b.year}年{b.month}月{b.day}日"
