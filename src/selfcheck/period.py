"""Period: the reporting period — a year, a half-year, a quarter or a month.

Written ``2026`` (year), ``2026H1`` / ``2026H2`` (half-year), ``2026Q3`` (quarter) or
``2026-07`` (month). Each period knows its boundaries (``start``; ``end`` is the first
instant after it, "period end"), its neighbours of the same kind (``previous``: 环比,
``year_ago``: 同比 — for a year both are the year before, stated as 上年), the last
periods of its kind for trends, the quarters and months it holds, and its Chinese
labels (``2026年度``, ``2026年上半年``, ``2026年第3季度``, ``2026年7月``).

``Period(2026, 3)`` is the quarter 2026Q3, as it always was; other kinds are made with
:meth:`Period.of` (or :meth:`Period.parse`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args

from selfcheck.errors import ParamsError

PeriodKind = Literal["year", "half", "quarter", "month"]
KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)
PER_YEAR: dict[PeriodKind, int] = {"year": 1, "half": 2, "quarter": 4, "month": 12}
KIND_ZH: dict[PeriodKind, str] = {
    "year": "年度",
    "half": "半年度",
    "quarter": "季度",
    "month": "月度",
}
FORMS = "2026（年度）、2026H1 / 2026H2（半年）、2026Q3（季度）、2026-07（月）"
FORMS_EN = "2026 (year), 2026H1/2026H2 (half-year), 2026Q3 (quarter), 2026-07 (month)"

_YEAR_RE = re.compile(r"^(\d{4})$")
_HALF_RE = re.compile(r"^(\d{4})[Hh](\d+)$")
_QUARTER_RE = re.compile(r"^(\d{4})[Qq](\d+)$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_NUMERALS = "零一二三四五六七八九十"


def _forms_error(text: object, why: str = "") -> ParamsError:
    return ParamsError(
        f"期间 {text!r} 无法识别{('：' + why) if why else ''}。可用的写法：{FORMS}。"
        f" (period {text!r} is not valid; accepted forms: {FORMS_EN})"
    )


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period. Instants are naive local wall-clock time.

    ``number`` is the quarter (1–4), the month (1–12), the half (1–2), or 1 for a year.
    Periods order chronologically within a kind.
    """

    year: int
    number: int
    kind: PeriodKind = "quarter"

    def __post_init__(self) -> None:
        if self.kind not in PER_YEAR:
            raise ParamsError(f"未知的期间类型 (unknown period kind): {self.kind!r}")
        if not 1 <= self.number <= PER_YEAR[self.kind]:
            names = {"year": "年度只有 1", "half": "半年为 1–2", "quarter": "季度为 1–4",
                     "month": "月份为 1–12"}  # fmt: skip
            raise ParamsError(
                f"{names[self.kind]} ({self.kind} number must be 1-{PER_YEAR[self.kind]}), "
                f"got {self.number}"
            )
        if not 1900 <= self.year <= 9999:
            raise ParamsError(f"年份不合理 (implausible year): {self.year}")

    # -- making ---------------------------------------------------------------
    @classmethod
    def of(cls, kind: PeriodKind, year: int, number: int = 1) -> Period:
        """``Period.of("month", 2026, 7)``; a year needs no number."""
        return cls(year, number, kind)

    @classmethod
    def parse(cls, text: str | int | Period) -> Period:
        """``2026``, ``2026H1``, ``2026Q3``, ``2026-07`` (case and surrounding spaces ignored)."""
        if isinstance(text, Period):
            return text
        if isinstance(text, bool):
            raise _forms_error(text)
        s = str(text).strip()
        for regex, kind, why in (
            (_YEAR_RE, "year", ""),
            (_HALF_RE, "half", "半年只有 H1（上半年）和 H2（下半年）"),
            (_QUARTER_RE, "quarter", "季度只有 Q1–Q4"),
            (_MONTH_RE, "month", "月份为 01–12"),
        ):
            m = regex.match(s)
            if m is None:
                continue
            year = int(m.group(1))
            number = int(m.group(2)) if m.lastindex and m.lastindex > 1 else 1
            if not 1 <= number <= PER_YEAR[kind]:  # type: ignore[index]
                raise _forms_error(text, why)
            if not 1900 <= year <= 9999:
                raise _forms_error(text, f"年份 {year} 不合理")
            return cls(year, number, kind)  # type: ignore[arg-type]
        raise _forms_error(text)

    @classmethod
    def containing(cls, day: date | datetime, kind: PeriodKind) -> Period:
        """The period of ``kind`` that holds ``day``."""
        months = 12 // PER_YEAR[kind]
        return cls(day.year, (day.month - 1) // months + 1, kind)

    # -- kind -------------------------------------------------------------------
    @property
    def quarter(self) -> int:
        """The quarter's number (1–4); only a quarter has one."""
        if self.kind != "quarter":
            raise AttributeError(f"{self} is a {self.kind}, not a quarter")
        return self.number

    @property
    def month(self) -> int:
        """The month's number (1–12); only a month has one."""
        if self.kind != "month":
            raise AttributeError(f"{self} is a {self.kind}, not a month")
        return self.number

    @property
    def half(self) -> int:
        """1 (上半年) or 2 (下半年); only a half-year has one."""
        if self.kind != "half":
            raise AttributeError(f"{self} is a {self.kind}, not a half-year")
        return self.number

    @property
    def per_year(self) -> int:
        """Periods of this kind in a year (1, 2, 4 or 12)."""
        return PER_YEAR[self.kind]

    @property
    def months_long(self) -> int:
        return 12 // self.per_year

    # -- boundaries -------------------------------------------------------
    @property
    def first_month(self) -> int:
        return (self.number - 1) * self.months_long + 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def last_day(self) -> date:
        """The period's last day (used where a date is needed, e.g. tenure)."""
        last_month = self.first_month + self.months_long - 1
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.first_day, datetime.min.time())

    @property
    def end(self) -> datetime:
        """The first instant after the period ("period end")."""
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def years(self) -> tuple[int, ...]:
        """The calendar years the period's days fall in (one: no kind spans a new year)."""
        return (self.year,)

    def __contains__(self, other: object) -> bool:
        """``month in year``: the other period (or a date) lies within this one."""
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        if isinstance(other, datetime):
            return self.start <= other < self.end
        if isinstance(other, date):
            return self.first_day <= other <= self.last_day
        return False

    # -- neighbours -------------------------------------------------------
    @property
    def ordinal(self) -> int:
        """Position among the periods of its kind (consecutive periods differ by 1)."""
        return self.year * self.per_year + self.number - 1

    def shift(self, periods: int) -> Period:
        """The period ``periods`` periods of the same kind later (earlier if negative)."""
        index = self.ordinal + periods
        return Period(index // self.per_year, index % self.per_year + 1, self.kind)

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        """The period of the same kind before (环比): 2026-07 → 2026-06, 2026H2 → 2026H1,
        2026Q1 → 2025Q4, 2026 → 2025."""
        return self.shift(-1)

    def year_ago(self) -> Period:
        """The same period a year earlier (同比). For a year it is :meth:`previous`."""
        return self.shift(-self.per_year)

    @property
    def previous_is_year_ago(self) -> bool:
        """A year's 环比 and 同比 are the same comparison (the year before, 上年)."""
        return self.kind == "year"

    def trend(self, n: int = 5) -> tuple[Period, ...]:
        """The last ``n`` periods of the same kind, oldest first, ending with this one."""
        if n < 1:
            raise ValueError(f"a trend needs at least one period, got {n}")
        return tuple(self.shift(-k) for k in range(n - 1, -1, -1))

    def parts(self, kind: PeriodKind) -> tuple[Period, ...]:
        """The periods of ``kind`` the period consists of: a year's quarters or months, a
        half's quarters … (``kind`` no longer than the period itself)."""
        if PER_YEAR[kind] < self.per_year:
            raise ValueError(f"a {self.kind} holds no {kind}")
        first = Period.containing(self.first_day, kind)
        return tuple(first.shift(k) for k in range(PER_YEAR[kind] // self.per_year))

    def quarters(self) -> tuple[Period, ...]:
        """A year's four quarters, a half's two, a quarter itself (a month holds none)."""
        return self.parts("quarter")

    def months(self) -> tuple[Period, ...]:
        return self.parts("month")

    # -- text ----------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Period.parse({str(self)!r})"

    def __str__(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "half":
            return f"{self.year}H{self.number}"
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}Q{self.number}"

    @property
    def kind_zh(self) -> str:
        """``年度``, ``半年度``, ``季度``, ``月度``."""
        return KIND_ZH[self.kind]

    @property
    def name_zh(self) -> str:
        """The period within its year: ``第3季度``, ``上半年``, ``7月``, ``年度``."""
        if self.kind == "year":
            return "年度"
        if self.kind == "half":
            return "上半年" if self.number == 1 else "下半年"
        if self.kind == "month":
            return f"{self.number}月"
        return f"第{self.number}季度"

    @property
    def title_zh(self) -> str:
        """``2026年度``, ``2026年上半年``, ``2026年第3季度``, ``2026年7月``."""
        if self.kind == "year":
            return f"{self.year}年度"
        return f"{self.year}年{self.name_zh}"

    @property
    def report_title_zh(self) -> str:
        """``2026年第3季度客户服务自查报告`` (the cover's and the document's title)."""
        return f"{self.title_zh}客户服务自查报告"

    @property
    def range_zh(self) -> str:
        """``2026年7月1日至2026年9月30日``."""
        a, b = self.first_day, self.last_day
        return f"{a.year}年{a.month}月{a.day}日至{b.year}年{b.month}月{b.day}日"

    @property
    def short_zh(self) -> str:
        """A label for chart axes and table rows: ``2026Q3``, ``2026年7月``, ``2026年上半年``,
        ``2026年``."""
        if self.kind == "quarter":
            return str(self)
        if self.kind == "year":
            return f"{self.year}年"
        return self.title_zh

    @property
    def this_zh(self) -> str:
        """How the text names the period itself: ``本季度``, ``本月``, ``本年度``, ``上半年``."""
        if self.kind == "half":
            return self.name_zh
        return {"year": "本年度", "quarter": "本季度", "month": "本月"}[self.kind]

    @property
    def previous_zh(self) -> str:
        """How the text names the period before (环比): ``上季度``, ``上月``, ``上年``,
        ``上半年`` (before a 下半年) or ``上年下半年`` (before a 上半年)."""
        if self.kind == "half":
            return "上半年" if self.number == 2 else "上年下半年"
        return {"year": "上年", "quarter": "上季度", "month": "上月"}[self.kind]

    @property
    def year_ago_zh(self) -> str:
        """How the text names the same period a year earlier (同比): ``上年同期``; for a year,
        ``上年`` (the same comparison as :attr:`previous_zh`)."""
        return "上年" if self.kind == "year" else "上年同期"

    @property
    def end_zh(self) -> str:
        """``季度末``, ``月末``, ``年末``, ``半年末``."""
        return {"year": "年末", "half": "半年末", "quarter": "季度末", "month": "月末"}[self.kind]

    def recent_zh(self, n: int = 5) -> str:
        """``近五个季度``, ``近五个月``, ``近五年``, ``近五个半年度``."""
        count = _NUMERALS[n] if 0 <= n <= 10 else str(n)
        unit = {"year": "年", "half": "个半年度", "quarter": "个季度", "month": "个月"}[self.kind]
        return f"近{count}{unit}"

    # -- wording of generated text ----------------------------------------------------
    def wording(self) -> dict[str, str]:
        """The quarter's words of generated text → this period's (empty for a quarter).

        Sections write their sentences, captions and chart labels for a quarter
        (``本季度``, ``较上季度``, ``季度末``, ``近五个季度`` …); :meth:`localise` puts the
        period's own words in their place, so a month report says ``本月``, ``较上月``,
        ``月末``, a year ``本年度``, ``较上年`` (its 环比 and 同比 at once).
        """
        if self.kind == "quarter":
            return {}
        prev = self.previous_zh
        prev_end = "上年末" if prev.startswith("上年") else prev.removesuffix("度") + "末"
        this_end = {"year": "本年末", "half": f"{self.name_zh}末", "month": "本月末"}[self.kind]
        unit = {"year": "年度", "half": "半年度", "month": "月份"}[self.kind]
        whole = {"year": "全年", "half": "全半年", "month": "全月"}[self.kind]
        end = self.end
        words = {
            # the metric definitions' "period end" (catalogue._NEXT_INSTANT), with this period
            "季度结束后的第一个时刻，如第三季度为10月1日00:00": (
                f"{unit}结束后的第一个时刻，如{self.title_zh}为"
                f"{end.year}年{end.month}月{end.day}日00:00"
            ),
            "与上季度和上年同期均持平": (
                "与上年持平" if self.kind == "year" else f"与{prev}和上年同期均持平"
            ),
            "本季度末": this_end,
            "上季度末": prev_end,
            "本季度": self.this_zh,
            "上季度": prev,
            "季度末": self.end_zh,
            "近五个季度": self.recent_zh(5),
            "全季度": whole,
            "目标的季度": f"目标的{unit}",
            "数据的季度": f"数据的{unit}",
            "多个季度": f"多个{unit}",
        }
        if self.kind == "year":
            words["上年同期"] = "上年"
        return words

    def localise(self, text: str) -> str:
        """Generated text (written for a quarter) in this period's words; a quarter's text
        is returned as it is. A year's 环比 and 同比 clauses, the same comparison, are
        said once (``较上年上升1.2个百分点，较上年上升1.2个百分点`` → once)."""
        words = self.wording()
        if not words or ("季度" not in text and "上年同期" not in text):
            return text
        pattern = _wording_pattern(tuple(words))
        out = pattern.sub(lambda m: words[m.group(0)], text)
        if self.kind == "year":
            out = _TWICE.sub(r"\1", out)
        return out


_TWICE = re.compile(r"((?:较|与)上年(?:[^，。；、（）]|（[^（）]*）)*)，\1(?=[，。；）]|$)")
_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _wording_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation, longest phrase first (``上季度末`` before ``上季度``)."""
    hit = _PATTERNS.get(phrases)
    if hit is None:
        ordered = sorted(phrases, key=len, reverse=True)
        hit = _PATTERNS[phrases] = re.compile("|".join(map(re.escape, ordered)))
    return hit
