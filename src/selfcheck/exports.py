"""The figures as files beside the report: ``metrics.csv`` and ``metrics.xlsx``.

``metrics.csv`` is for programs (English column names, plain numbers, UTF-8 with BOM so
Excel opens it). ``metrics.xlsx`` is for people: Chinese headers, rates as percentages and
changes of rates in percentage points, number formats per unit, a frozen header row and
filters, and a second sheet with the period's data-quality record (one row per dataset)
and a third with the files of the data folder that were not read.

The workbook is written with XlsxWriter, with a fixed creation time (the report date), so
the same inputs give the same bytes. Strings are never turned into formulas
(``strings_to_formulas`` off): a name starting with ``=`` stays text.

Writing it is ~0.25 s for the large quarter's 4,500 metrics (45,000 cells, cell by cell
in Python). A run whose rows are those of the last run's workbook copies that one
instead: the workbook carries the digest of its rows, title, date, the source of this
module and of the units' decimals (``fmt.py``) and XlsxWriter's version in a custom
document property (``selfcheck-key``), and any difference writes it anew. The runner
offers the last workbook only while it is the file the last manifest recorded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

from selfcheck.blocks import SectionResult
from selfcheck.fmt import decimals
from selfcheck.ingest.records import TOTALS_ROW, DatasetQuality, UnusedFile
from selfcheck.metrics.base import UNITS, Metric

METRICS_FILE = "metrics.csv"
METRICS_XLSX = "metrics.xlsx"
METRICS_COLUMNS = (
    "metric_id",
    "name",
    "value",
    "unit",
    "numerator",
    "denominator",
    "n",
    "target",
    "comparator",
    "status",
    "previous",
    "delta",
    "year_ago",
    "delta_year",
    "section",
    "reason",
    "ci_low",
    "ci_high",
    "small_sample",
    "p_value",
)


def write_metrics_csv(results: Sequence[SectionResult], path: Path) -> Path:
    """``metrics.csv``: one row per metric (and breakdown key), UTF-8 with BOM for Excel.

    Excel reads a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return as a formula: every text cell that does gets a leading ``'`` (OWASP's advice
    against CSV injection; the target comparator ``==`` is written ``'==``). Numbers are
    written as numbers, a negative delta ``-0.5`` included.
    """
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(METRICS_COLUMNS)
        for r in results:
            for m in r.metrics:
                w.writerow(
                    [
                        _text(m.metric_id),
                        _text(m.name),
                        _num(m.value),
                        _text(m.unit),
                        _num(m.numerator),
                        _num(m.denominator),
                        "" if m.n is None else m.n,
                        "" if m.target is None else _num(m.target.value),
                        "" if m.target is None else _text(m.target.comparator),
                        _text(m.status),
                        _num(m.previous),
                        _num(m.delta),
                        _num(m.year_ago),
                        _num(m.delta_year),
                        _text(m.section or r.section_id),
                        _text(m.reason or ""),
                        _num(m.ci_low),
                        _num(m.ci_high),
                        "true" if m.small_sample else ("false" if m.sampled else ""),
                        _num(m.p_value),
                    ]
                )
    tmp.replace(path)
    return path


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(v: object) -> str:
    """A text cell Excel shows as text: a formula-like start is neutralised with ``'``."""
    text = "" if v is None else str(v)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


# --------------------------------------------------------------------------- metrics.xlsx


@dataclass(frozen=True)
class _Col:
    header: str
    width: float
    kind: str  # text | value (the metric's unit) | change (unit, rates in points) | int | num | p


METRIC_SHEET = "指标"
QUALITY_SHEET = "数据质量"
UNUSED_SHEET = "未使用的文件"

METRIC_COLUMNS = (
    _Col("指标编号", 30, "text"),
    _Col("指标名称", 30, "text"),
    _Col("本期值", 11, "value"),
    _Col("单位", 8, "text"),
    _Col("目标", 11, "value"),
    _Col("比较", 6, "text"),
    _Col("达标情况", 9, "text"),
    _Col("上期值", 11, "value"),
    _Col("环比变化", 14, "change"),
    _Col("上年同期值", 11, "value"),
    _Col("同比变化", 14, "change"),
    _Col("分子", 12, "num"),
    _Col("分母", 12, "num"),
    _Col("样本量", 10, "int"),
    _Col("置信区间下限", 12, "value"),
    _Col("置信区间上限", 12, "value"),
    _Col("样本量不足", 10, "text"),
    _Col("环比检验p值", 11, "p"),
    _Col("章节", 12, "text"),
    _Col("无数据原因", 36, "text"),
)

QUALITY_COLUMNS = (
    _Col("数据集", 12, "text"),
    _Col("文件", 28, "text"),
    _Col("读取方式", 26, "text"),
    _Col("读取行数", 11, "int"),
    _Col("保留行数", 11, "int"),
    _Col("错误行数", 10, "int"),
    _Col("期间外行数", 11, "int"),
    _Col("合计行", 8, "int"),
    _Col("排除原因（行数）", 48, "text"),
    _Col("无记录天数", 10, "int"),
    _Col("缺少的可选列", 30, "text"),
    _Col("SHA-256", 66, "text"),
)

UNUSED_COLUMNS = (_Col("文件", 36, "text"), _Col("原因", 80, "text"))

POINTS = " 个百分点"


def _number_format(unit: str, *, change: bool = False) -> str:
    """The Excel number format of a value (or a change) in ``unit``.

    Rates are stored as fractions and shown as percentages (``0.0%``); a change of a rate is
    stored in percentage points (the fraction × 100) and shown with 个百分点, as the report
    writes it. Other units get the report's decimals and their Chinese unit as a suffix.
    """
    if unit == "rate":
        if change:
            return f'+0.0"{POINTS}";-0.0"{POINTS}";0.0"{POINTS}"'
        return "0.0%"
    places = decimals(unit)
    body = "#,##0" + ("." + "0" * places if places else "")
    suffix = UNITS.get(unit, "")
    tail = f'"{suffix}"' if suffix else ""
    if change:
        return f"+{body}{tail};-{body}{tail};{body}{tail}"
    return body + tail


def _change(v: float | None, unit: str) -> float | None:
    if v is None:
        return None
    return round(v * 100, 10) if unit == "rate" else v


def _metric_row(m: Metric, section: str) -> list[object]:
    target = m.target
    return [
        m.metric_id,
        m.name,
        m.value if m.has_value else None,
        UNITS.get(m.unit, m.unit) or "",
        None if target is None else target.value,
        None if target is None else target.comparator,
        m.status,
        m.previous,
        _change(m.delta, m.unit),
        m.year_ago,
        _change(m.delta_year, m.unit),
        m.numerator,
        m.denominator,
        m.n,
        m.ci_low,
        m.ci_high,
        "是" if m.small_sample else ("否" if m.sampled else None),
        m.p_value,
        m.section or section,
        m.reason or None,
    ]


def _quality_row(q: DatasetQuality) -> list[object]:
    reasons = "；".join(f"{k}（{v}）" for k, v in q.excluded.items())
    return [
        q.name,
        q.file,
        q.source_text,
        q.rows_read,
        q.rows_kept,
        q.rows_bad,
        q.rows_outside,
        q.excluded.get(TOTALS_ROW, 0),
        reasons or None,
        q.empty_days,
        "、".join(q.optional_columns_missing) or None,
        q.sha256,
    ]


def write_metrics_xlsx(
    results: Sequence[SectionResult],
    path: Path,
    *,
    quality: Mapping[str, DatasetQuality],
    unused: Sequence[UnusedFile] = (),
    created: date,
    title: str,
    previous: Path | None = None,
) -> Path:
    """``metrics.xlsx``: the metrics with Chinese headers and number formats, the data-quality
    record and the unused files, one sheet each. Written to a temporary name, then renamed.

    ``previous``: the workbook of the last run; when it was made from the same rows it is
    copied, not written again (same bytes)."""
    import xlsxwriter  # slow to import (~0.1 s): only when the workbook is written

    metric_rows = [(_metric_row(m, r.section_id), m.unit) for r in results for m in r.metrics]
    quality_rows = [(_quality_row(q), "") for q in quality.values()]
    unused_rows: list[tuple[list[object], str]] = [([u.name, u.reason], "") for u in unused]
    key = _workbook_key(title, created, [metric_rows, quality_rows, unused_rows])
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    if previous is not None and workbook_key(previous) == key:
        shutil.copyfile(previous, tmp)
        tmp.replace(path)
        return path
    wb = xlsxwriter.Workbook(
        str(tmp),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    wb.set_properties(
        {"title": title, "created": datetime.combine(created, time()), "author": "selfcheck"}
    )
    wb.set_custom_property(KEY_PROPERTY, key)
    header = wb.add_format(
        {"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#D9E2F3", "border": 1}
    )
    formats: dict[str, object] = {}

    def fmt(num_format: str | None):
        key = num_format or ""
        if key not in formats:
            formats[key] = wb.add_format({"num_format": num_format} if num_format else {})
        return formats[key]

    def sheet(name: str, columns: Sequence[_Col], rows: list[tuple[list[object], str]]) -> None:
        ws = wb.add_worksheet(name)
        for c, col in enumerate(columns):
            ws.set_column(c, c, col.width)
            ws.write_string(0, c, col.header, header)
        ws.set_row(0, 30)
        ws.freeze_panes(1, 0)
        for r, (values, unit) in enumerate(rows, start=1):
            for c, (col, v) in enumerate(zip(columns, values, strict=True)):
                if v is None:
                    continue
                if col.kind == "text" or isinstance(v, str):
                    ws.write_string(r, c, str(v))
                    continue
                if col.kind == "value":
                    number_format = _number_format(unit)
                elif col.kind == "change":
                    number_format = _number_format(unit, change=True)
                elif col.kind == "int":
                    number_format = "#,##0"
                elif col.kind == "p":
                    number_format = "0.000"
                else:  # num: integers as such, fractions with two decimals
                    number_format = "#,##0" if float(v).is_integer() else "#,##0.00"
                ws.write_number(r, c, float(v), fmt(number_format))
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)

    sheet(METRIC_SHEET, METRIC_COLUMNS, metric_rows)
    sheet(QUALITY_SHEET, QUALITY_COLUMNS, quality_rows)
    sheet(UNUSED_SHEET, UNUSED_COLUMNS, unused_rows)
    wb.close()
    tmp.replace(path)
    return path


KEY_PROPERTY = "selfcheck-key"
_CUSTOM_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def _workbook_key(title: str, created: date, rows: list) -> str:
    """What the workbook is made from: its rows, title and date, and the code that lays it
    out (this module, the units' decimals in ``fmt.py``, XlsxWriter)."""
    import xlsxwriter

    from selfcheck import fmt

    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(Path(fmt.__file__).read_bytes())
    h.update(xlsxwriter.__version__.encode())
    h.update(
        json.dumps([title, created.isoformat(), rows], ensure_ascii=False, default=repr).encode()
    )
    return h.hexdigest()


def workbook_key(path: Path) -> str | None:
    """The ``selfcheck-key`` property of a workbook this module wrote, or None."""
    try:
        with zipfile.ZipFile(path) as z:
            root = ElementTree.fromstring(z.read("docProps/custom.xml"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    for prop in root.iter(f"{_CUSTOM_NS}property"):
        if prop.get("name") == KEY_PROPERTY and len(prop) and prop[0].text:
            return prop[0].text.strip()
    return None


__all__ = [
    "METRICS_COLUMNS",
    "METRICS_FILE",
    "METRICS_XLSX",
    "write_metrics_csv",
    "write_metrics_xlsx",
]
