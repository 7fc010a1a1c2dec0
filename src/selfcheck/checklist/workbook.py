"""The period's checklist workbook: written for the inspectors, read back strictly.

``<period>_checklist.xlsx`` beside the parameters file (like the measures and texts
files). Sheet 自查清单 has one row per item: what to check (编号 … 严重程度, from the
definition), how it is decided (判定方式: 人工检查 or 指标判定, with the figures as 指标依据),
last period's conclusion when a previous workbook is given, then the five columns the
inspectors fill: 结论 (a drop-down of 符合 / 基本符合 / 不符合 / 不适用), 问题描述, 证据/来源,
检查人, 检查日期. Sheet 说明 holds the period and how to fill it in.

Writing again keeps everything already filled in (metric-decided conclusions are decided
again from the current figures). Reading back checks every row and collects every error
before raising one :class:`~selfcheck.errors.DataError` that names the sheet, the row and the
column of each: nothing is half-read. Items left without a conclusion are returned as not
inspected — never taken as 符合.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from selfcheck.checklist.decide import CONCLUSIONS, NONCONFORM, PARTLY, decide
from selfcheck.checklist.definition import Checklist, Item
from selfcheck.config import Config
from selfcheck.errors import DataError, OutputError
from selfcheck.metrics.base import Metric

SHEET = "自查清单"
INFO_SHEET = "说明"
MODE_MANUAL = "人工检查"
MODE_METRICS = "指标判定"
MAX_ERRORS = 20


@dataclass(frozen=True)
class _Col:
    header: str
    width: float
    filled_by_inspector: bool = False


COLUMNS: tuple[_Col, ...] = (
    _Col("编号", 7),
    _Col("领域", 10),
    _Col("子项", 10),
    _Col("检查内容", 44),
    _Col("检查方法", 12),
    _Col("应备证据", 22),
    _Col("严重程度", 8),
    _Col("判定方式", 9),
    _Col("指标依据", 34),
    _Col("上期结论", 16),
    _Col("结论", 10, True),
    _Col("问题描述", 34, True),
    _Col("证据/来源", 22, True),
    _Col("检查人", 9, True),
    _Col("检查日期", 12, True),
)
HEADERS = tuple(c.header for c in COLUMNS)
COL = {c.header: i for i, c in enumerate(COLUMNS)}  # header → 0-based column


def workbook_path(source: Config | Path, period: object) -> Path:
    """``<period>_checklist.xlsx`` among the analyst's files (``source``: a configuration —
    a branch's in its own folder — or the path of a parameters file: beside it)."""
    folder = source.analyst_dir if isinstance(source, Config) else Path(source).parent
    return folder / f"{period}_checklist.xlsx"


@dataclass(frozen=True)
class Entry:
    """One item as the workbook holds it."""

    item: Item
    row: int
    conclusion: str | None
    description: str | None
    source: str | None
    inspector: str | None
    date: date | None
    decided_by_metrics: bool

    @property
    def inspected(self) -> bool:
        return self.conclusion is not None


@dataclass(frozen=True)
class Inspection:
    """A workbook read back: every item of the checklist, in the checklist's order."""

    path: Path
    period: str
    entries: tuple[Entry, ...]

    @property
    def not_inspected(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.inspected)

    def findings(self) -> tuple[Entry, ...]:
        """Items found 不符合 or 基本符合: the problems of the self-inspection."""
        return tuple(e for e in self.entries if e.conclusion in (NONCONFORM, PARTLY))

    def by_area(self) -> dict[str, dict[str, int]]:
        """Area name → count per conclusion (and 未检查), in the checklist's order."""
        out: dict[str, dict[str, int]] = {}
        for e in self.entries:
            counts = out.setdefault(e.item.area, {c: 0 for c in (*CONCLUSIONS, "未检查")})
            counts[e.conclusion or "未检查"] += 1
        return out


@dataclass(frozen=True)
class WriteSummary:
    path: Path
    items: int
    decided: int  # conclusions filled from the figures
    undecided: int  # metric-decided items the figures could not decide (no value or target)
    kept: int  # rows whose inspectors' entries were kept from the existing workbook
    carried: int  # items with a previous-period conclusion shown
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- reading


def read_workbook(
    path: Path,
    checklist: Checklist,
    period: str,
    *,
    window: tuple[date, date] | None,
    check_period: bool = True,
) -> Inspection:
    """The workbook at ``path`` read back against ``checklist``.

    ``window``: the dates an inspection may carry (first day of the period to the report
    date); None: not checked (a previous period's workbook). Raises one DataError listing
    every problem found (up to :data:`MAX_ERRORS`), naming sheet, row and column.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise DataError(f"找不到自查检查表：{path}。(checklist workbook not found)") from None
    except Exception as e:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise DataError(
            f"{path}: 不是可读取的 Excel 工作簿（{type(e).__name__}）。请用 Excel 另存为 .xlsx 后重试。"
            "(not a readable .xlsx workbook)"
        ) from None
    name = path.name
    if SHEET not in wb.sheetnames:
        raise DataError(
            f"{name}: 缺少工作表“{SHEET}”（现有：{'、'.join(wb.sheetnames)}）。"
            "请不要重命名或删除该工作表，或用 selfcheck checklist 重新生成。(sheet missing)"
        )
    if check_period:
        found = _info_period(wb)
        if found != period:
            raise DataError(
                f"{name}: 工作表“{INFO_SHEET}”记载的期间为 {found or '（空）'}，不是 {period}。"
                "请使用本期的检查表（selfcheck checklist 生成）。(workbook of another period)"
            )
    ws = wb[SHEET]
    errors: list[str] = []

    def where(row: int, col: int) -> str:
        return f"{name} 工作表“{SHEET}”第{row}行 {get_column_letter(col + 1)}列（{HEADERS[col]}）"

    header = [_text(c.value) for c in next(ws.iter_rows(min_row=1, max_row=1), ())]
    while header and header[-1] is None:
        header.pop()
    if tuple(header) != HEADERS:
        for i in range(max(len(header), len(HEADERS))):
            got = header[i] if i < len(header) else None
            want = HEADERS[i] if i < len(HEADERS) else None
            if got != want:
                letter = get_column_letter(i + 1)
                raise DataError(
                    f"{name} 工作表“{SHEET}”第1行 {letter}列：应为“{want or '（空）'}”，"
                    f"实为“{got or '（空）'}”。检查表的列不能增删、移动或改名；请恢复原样，"
                    "或用 selfcheck checklist 重新生成（已填写的内容会保留）。"
                    "(the workbook's columns were changed)"
                )

    rows: dict[str, Entry] = {}
    first_row: dict[str, int] = {}
    for r, cells in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        values = list(cells) + [None] * (len(HEADERS) - len(cells))
        extra = [v for v in values[len(HEADERS) :] if _text(v) is not None]
        values = values[: len(HEADERS)]
        if all(_text(v) is None for v in values) and not extra:
            continue
        if extra:
            errors.append(
                f"{name} 工作表“{SHEET}”第{r}行：最后一列之后还有内容。请写在“问题描述”或"
                "“证据/来源”列中。(cells right of the last column)"
            )
        item_id = _text(values[COL["编号"]])
        if item_id is None:
            errors.append(f"{where(r, COL['编号'])}：编号为空。请勿删改编号。(empty item id)")
            continue
        try:
            item = checklist.item(item_id)
        except KeyError:
            errors.append(
                f"{where(r, COL['编号'])}：{item_id} 不是清单（{checklist.source}）中的检查项。"
                "(unknown item)"
            )
            continue
        if item_id in first_row:
            errors.append(
                f"{where(r, COL['编号'])}：检查项 {item_id} 重复（第{first_row[item_id]}行已有）。"
                "每项只保留一行。(duplicate row)"
            )
            continue
        first_row[item_id] = r
        conclusion = _text(values[COL["结论"]])
        if conclusion is not None:
            conclusion = re.sub(r"\s+", "", conclusion)
            if conclusion not in CONCLUSIONS:
                errors.append(
                    f"{where(r, COL['结论'])}：“{conclusion}”不是可选的结论"
                    f"（{' / '.join(CONCLUSIONS)}），请从下拉列表中选择。(conclusion not in list)"
                )
                continue
        description = _text(values[COL["问题描述"]])
        if conclusion in (NONCONFORM, PARTLY) and description is None:
            errors.append(
                f"{where(r, COL['问题描述'])}：结论为“{conclusion}”，须写明问题描述。"
                "(a finding needs a description)"
            )
        when, problem = _date(values[COL["检查日期"]])
        if problem:
            errors.append(f"{where(r, COL['检查日期'])}：{problem}")
        elif when is not None and window is not None and not window[0] <= when <= window[1]:
            errors.append(
                f"{where(r, COL['检查日期'])}：{when.isoformat()} 不在本期检查时段内"
                f"（{window[0].isoformat()} 至 {window[1].isoformat()}，期间首日至报告日期）。"
                "(inspection date outside the period)"
            )
        mode = _text(values[COL["判定方式"]])
        rows[item_id] = Entry(
            item, r, conclusion, description, _text(values[COL["证据/来源"]]),
            _text(values[COL["检查人"]]), when, mode == MODE_METRICS,
        )  # fmt: skip
    missing = [it.id for it in checklist.items if it.id not in first_row]
    if missing and not errors:
        shown = "、".join(missing[:10]) + ("等" if len(missing) > 10 else "")
        errors.append(
            f"{name} 工作表“{SHEET}”：缺少检查项 {shown}（共{len(missing)}项）。不适用的项请在"
            "“结论”中选“不适用”，不要删除行；或用 selfcheck checklist 重新生成。(rows deleted)"
        )
    if errors:
        more = f"\n  …… 另有 {len(errors) - MAX_ERRORS} 处" if len(errors) > MAX_ERRORS else ""
        raise DataError(
            f"自查检查表有 {len(errors)} 处需要修改，未读取（nothing read）：\n"
            + "\n".join(f"  · {e}" for e in errors[:MAX_ERRORS])
            + more
        )
    entries = tuple(rows[it.id] for it in checklist.items)
    return Inspection(path, period, entries)


def _info_period(wb) -> str | None:
    if INFO_SHEET not in wb.sheetnames:
        return None
    ws = wb[INFO_SHEET]
    for label, value, *_ in ws.iter_rows(min_row=1, max_row=5, values_only=True):
        if _text(label) == "期间":
            return _text(value)
    return None


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _date(v: object) -> tuple[date | None, str | None]:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, None
    if isinstance(v, datetime):
        return v.date(), None
    if isinstance(v, date):
        return v, None
    m = _DATE_RE.match(str(v).strip())
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])), None
        except ValueError:
            pass
    return None, f"“{v}”不是日期，请写成 2026-09-20 的形式。(not a date)"


# ----------------------------------------------------------------------------- writing


def write_workbook(
    checklist: Checklist,
    period: str,
    path: Path,
    *,
    window: tuple[date, date],
    metrics: Mapping[str, Metric] | None,
    previous: Path | None = None,
    previous_period: str | None = None,
) -> WriteSummary:
    """Write (or rewrite) the period's workbook at ``path``.

    An existing workbook is read back first (strictly: a broken one is an error, never
    overwritten) and what the inspectors filled in is kept. ``metrics``: the period's
    figures (None: not computed yet — metric-decided items are left to decide later).
    ``previous``: last period's workbook, whose conclusions are shown in 上期结论.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    kept: dict[str, Entry] = {}
    if path.exists():
        kept = {
            e.item.id: e
            for e in read_workbook(path, checklist, period, window=window).entries
            if e.inspected or e.description or e.source or e.inspector or e.date
        }
    before: dict[str, Entry] = {}
    if previous is not None:
        before = {
            e.item.id: e
            for e in read_workbook(
                previous, checklist, previous_period or "", window=None, check_period=False
            ).entries
        }

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    head_fill = PatternFill("solid", fgColor="D9E2F3")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    decided_fill = PatternFill("solid", fgColor="E2EFDA")
    wrap = Alignment(wrap_text=True, vertical="top")
    for c, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(1, c, col.header)
        cell.font = Font(bold=True)
        cell.fill = input_fill if col.filled_by_inspector else head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[cell.column_letter].width = col.width
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 30

    decided = undecided = carried = 0
    notes: list[str] = []
    for r, item in enumerate(checklist.items, start=2):
        old = kept.get(item.id)
        values: dict[str, object] = {
            "编号": item.id,
            "领域": item.area,
            "子项": item.topic,
            "检查内容": item.check,
            "检查方法": "、".join(item.methods),
            "应备证据": item.evidence,
            "严重程度": item.severity,
            "判定方式": MODE_METRICS if item.decided_by_metrics else MODE_MANUAL,
        }
        if old is not None:
            values.update(
                {"结论": old.conclusion, "问题描述": old.description, "证据/来源": old.source,
                 "检查人": old.inspector, "检查日期": old.date}
            )  # fmt: skip
        if item.decided_by_metrics:
            if metrics is None:
                values["指标依据"] = "尚未运行本期报告：运行 selfcheck run 后再生成本表即自动判定"
            else:
                decision = decide(item, metrics)
                values["指标依据"] = decision.basis
                if decision.conclusion is None:
                    undecided += 1
                else:
                    decided += 1
                    values["结论"] = decision.conclusion
                    values["问题描述"] = decision.description
                    values["证据/来源"] = values.get("证据/来源") or "本期报告指标（metrics.csv）"
        prev = before.get(item.id)
        if prev is not None and prev.conclusion is not None:
            carried += 1
            values["上期结论"] = prev.conclusion + (
                f"：{prev.description}" if prev.description else ""
            )
            if values.get("检查人") is None and prev.inspector:
                values["检查人"] = prev.inspector
        for c, col in enumerate(COLUMNS, start=1):
            cell = ws.cell(r, c, values.get(col.header))
            cell.alignment = wrap
            if col.filled_by_inspector:
                cell.fill = decided_fill if item.decided_by_metrics else input_fill
            if col.header == "检查日期":
                cell.number_format = "yyyy-mm-dd"
    last = len(checklist.items) + 1
    conclusions = DataValidation(
        type="list",
        formula1='"' + ",".join(CONCLUSIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="结论",
        error="请从列表中选择：" + " / ".join(CONCLUSIONS),
        promptTitle="结论",
        prompt="符合 / 基本符合 / 不符合 / 不适用；未检查的留空",
        showInputMessage=True,
    )
    letter = ws.cell(1, COL["结论"] + 1).column_letter
    conclusions.add(f"{letter}2:{letter}{last}")
    ws.add_data_validation(conclusions)
    dates = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({window[0].year},{window[0].month},{window[0].day})",
        formula2=f"DATE({window[1].year},{window[1].month},{window[1].day})",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="检查日期",
        error=f"检查日期须在 {window[0].isoformat()} 至 {window[1].isoformat()} 之间",
    )
    letter = ws.cell(1, COL["检查日期"] + 1).column_letter
    dates.add(f"{letter}2:{letter}{last}")
    ws.add_data_validation(dates)
    ws.auto_filter.ref = f"A1:{ws.cell(1, len(COLUMNS)).column_letter}{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"

    info = wb.create_sheet(INFO_SHEET)
    lines = [
        ("期间", period),
        ("清单", checklist.source),
        ("检查时段", f"{window[0].isoformat()} 至 {window[1].isoformat()}"),
        (None, None),
        ("怎样填写", "黄色列由检查人填写，其余列请勿修改；不要增删、移动列或行。"),
        ("结论", "符合：完全满足检查内容；基本符合：总体满足、有个别不足；不符合：未满足；"
                 "不适用：本单位没有该项业务。未检查的留空（报告计为未检查，不计为符合）。"),
        ("问题描述", "结论为基本符合或不符合时必填：写明发现的事实（时间、地点、数量）。"),
        ("指标判定", "绿色行由本期指标自动判定（全部达标为符合，任一未达标为不符合），"
                     "重新生成本表时按最新指标更新。"),
        ("再次生成", "selfcheck checklist <参数文件>：已填写的内容保留。"),
    ]  # fmt: skip
    for r, (label, text) in enumerate(lines, start=1):
        info.cell(r, 1, label).font = Font(bold=True)
        info.cell(r, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    info.column_dimensions["A"].width = 12
    info.column_dimensions["B"].width = 90

    if metrics is None and any(i.decided_by_metrics for i in checklist.items):
        notes.append("尚无本期指标（未运行 selfcheck run），由指标判定的检查项未预填。")
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except PermissionError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"无法写入 {path}（{e.strerror or e}）：该文件可能正在 Excel 中打开，请关闭后重试。"
            "(the workbook is open in another program)"
        ) from None
    return WriteSummary(path, len(checklist.items), decided, undecided, len(kept), carried, notes)
