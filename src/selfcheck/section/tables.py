"""Tables for the report: built from a DataFrame or from columns and rows, checked before
anything is emitted; and their HTML in the notebook, with the text Word shows."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from selfcheck.blocks import COLUMN_KINDS, Column, Paragraph, Table, plain_refs
from selfcheck.errors import SectionError
from selfcheck.metrics.base import STATUS_MISSED
from selfcheck.word.format import TextCleaner, format_cell

STATUS_VALUES = frozenset({"达标", "未达标", "无数据", "无标准"})
STATUS_NAMES = frozenset({"状态", "status", "Status", "达标情况"})


# -- tables ------------------------------------------------------------------------------
def build_table(
    caption: str,
    columns: Sequence[Column | str] | pd.DataFrame,
    rows: Sequence[Sequence[Any]] | None = None,
    note: str | None = None,
    *,
    kinds: Mapping[str, str] | None = None,
    decimals: Mapping[str, int] | None = None,
    widths: Mapping[str, float] | None = None,
    section: str | None = None,
) -> Table:
    """A checked :class:`Table` block (see :meth:`Section.table`); nothing is emitted."""

    def fail(message: str) -> SectionError:
        return SectionError(f"表格“{caption}”：{message}", section=section)

    _check_text("表题 caption", caption)
    if note is not None and not isinstance(note, str):
        raise fail(f"注释 note 应为文字，收到 {type(note).__name__} (note must be text)")
    if isinstance(columns, pd.DataFrame):
        if rows is not None:
            raise fail(
                "传入 DataFrame 时不要再传 rows（行取自 DataFrame）(rows come from the DataFrame)"
            )
        names, kinds_found, values = _frame_columns(columns, fail)
    elif isinstance(columns, pd.Series):
        raise fail("请传入 DataFrame（可用 series.to_frame() 或 series.reset_index()）")
    else:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
            raise fail(
                f"第二个参数应为 DataFrame 或列的列表，收到 {type(columns).__name__} "
                "(expected a DataFrame or a list of columns)"
            )
        if rows is None:
            raise fail("缺少 rows（每行一个值列表）(rows missing)")
        if isinstance(rows, pd.DataFrame):
            rows = rows.itertuples(index=False, name=None)  # type: ignore[assignment]
        if isinstance(rows, (str, bytes)):
            raise fail("rows 应为行的列表，每行一个值列表 (rows must be a list of rows)")
        rows = list(rows)  # type: ignore[arg-type]
        names, kinds_found, decs, wids = [], [], [], []
        for i, c in enumerate(columns, start=1):
            if isinstance(c, Column):
                names.append(c.name)
                kinds_found.append(c.kind)
                decs.append(c.decimals)
                wids.append(c.width)
            elif isinstance(c, str):
                names.append(c)
                kinds_found.append(None)  # from the values, below
                decs.append(None)
                wids.append(None)
            else:
                raise fail(f"第 {i} 列应为列名（文字）或 Column，收到 {type(c).__name__}")
        values = []
        for i, r in enumerate(rows, start=1):
            if isinstance(r, (str, bytes)) or not isinstance(r, (Sequence, tuple)):
                try:
                    r = list(r)  # type: ignore[call-overload]
                except TypeError:
                    raise fail(f"第 {i} 行应为值的列表，收到 {type(r).__name__}") from None
            if len(r) != len(names):
                raise fail(f"第 {i} 行有 {len(r)} 个值，表头有 {len(names)} 列 (row length)")
            values.append([_plain(v) for v in r])
        for j, kind in enumerate(kinds_found):
            if kind is None:
                kinds_found[j] = _kind_of_values(names[j], [r[j] for r in values])
        cols = [
            Column(n, k, 1 if d is None else d, w)  # type: ignore[arg-type]
            for n, k, d, w in zip(names, kinds_found, decs, wids, strict=True)
        ]
        return _finish(caption, cols, values, note, kinds, decimals, widths, fail)
    cols = [Column(n, k) for n, k in zip(names, kinds_found, strict=True)]  # type: ignore[arg-type]
    return _finish(caption, cols, values, note, kinds, decimals, widths, fail)


def _finish(caption, cols, values, note, kinds, decimals, widths, fail) -> Table:
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise fail(f"列名重复：{'、'.join(dup)} (duplicate column names)")
    for label, mapping in (("kinds", kinds), ("decimals", decimals), ("widths", widths)):
        if mapping is None:
            continue
        if not isinstance(mapping, Mapping):
            raise fail(f"{label} 应为 {{列名: 值}} 的字典，收到 {type(mapping).__name__}")
        unknown = [str(k) for k in mapping if str(k) not in names]
        if unknown:
            raise fail(f"{label} 中的列不存在：{'、'.join(unknown)}；表中的列：{'、'.join(names)}")
    out = []
    for c in cols:
        kind = (kinds or {}).get(c.name, c.kind)
        if kind not in COLUMN_KINDS:
            raise fail(
                f"列“{c.name}”的类型 {kind!r} 未知，可用：{'、'.join(COLUMN_KINDS)} (column kind)"
            )
        dec = (decimals or {}).get(c.name, c.decimals)
        if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 6:
            raise fail(f"列“{c.name}”的小数位 decimals 应为 0–6 的整数，收到 {dec!r}")
        width = (widths or {}).get(c.name, c.width)
        if width is not None and (
            isinstance(width, bool) or not isinstance(width, (int, float)) or not width > 0
        ):
            raise fail(f"列“{c.name}”的宽度 widths 应为正数（占版心宽度的比例），收到 {width!r}")
        out.append(Column(c.name, kind, dec, None if width is None else float(width)))
    rows = tuple(tuple(r) for r in values)
    for i, r in enumerate(rows, start=1):
        for v, c in zip(r, out, strict=True):
            if v is not None and not isinstance(v, (str, int, float)):
                raise fail(
                    f"第 {i} 行“{c.name}”列的值 {v!r}（{type(v).__name__}）无法写入报告，"
                    "请转换为数字或文字 (value must be a number or text)"
                )
    try:
        json.dumps(rows, allow_nan=False)
    except ValueError:
        raise fail("表中有无穷大（inf）的值 (infinite value)") from None
    return Table(caption, tuple(out), rows, note)


def _frame_columns(df: pd.DataFrame, fail) -> tuple[list[str], list[str], list[list[Any]]]:
    frame = df
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        frame = frame.reset_index()  # a named or meaningful index is a column of the table
    names = []
    for c in frame.columns:
        name = " ".join(str(p) for p in c if str(p) != "") if isinstance(c, tuple) else str(c)
        names.append(name)
    kinds = []
    columns: list[list[Any]] = []
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        kind = _kind_of_dtype(names[j], series)
        kinds.append(kind)
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            cells = [_date_text(v) for v in series]
        else:
            cells = [_plain(v) for v in series.tolist()]
        columns.append(cells)
    values = [list(r) for r in zip(*columns, strict=True)] if columns else []
    return names, kinds, values


def _kind_of_dtype(name: str, series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "text"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return _kind_of_values(name, series.tolist())


def _kind_of_values(name: str, values: Sequence[Any]) -> str:
    present = [v for v in values if v is not None]
    if name in STATUS_NAMES and present and all(v in STATUS_VALUES for v in present):
        return "status"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "number"
    return "text"


def _date_text(v: Any) -> str | None:
    if v is None or pd.isna(v):
        return None
    ts = pd.Timestamp(v)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")


def _plain(v: Any) -> Any:
    """JSON-friendly scalars: numpy numbers to Python, NaN/NA to None."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, bool):
        return "是" if v else "否"
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
        if isinstance(v, bool):
            return "是" if v else "否"
    if isinstance(v, (pd.Timestamp, datetime)) or type(v).__name__ == "date":
        return _date_text(v)
    return v


def _check_text(what: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SectionError(f"{what} 应为非空文字，收到 {value!r} (expected non-empty text)")


def _as_figure(fig: Any):
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.figure import SubFigure

    if isinstance(fig, MplFigure):
        return fig
    if isinstance(fig, SubFigure):
        return fig.figure
    if isinstance(fig, Axes):
        return fig.figure
    for attr in ("figure", "fig"):  # seaborn FacetGrid / JointGrid / PairGrid, objects API
        inner = getattr(fig, attr, None)
        if isinstance(inner, MplFigure):
            return inner
    raise SectionError(
        f"sec.figure 需要 matplotlib 图（Figure、Axes 或 seaborn 网格），收到 "
        f"{type(fig).__name__} (expected a matplotlib figure)"
    )


# -- HTML shown in the notebook ---------------------------------------------------------
def _paragraph_html(block: Paragraph) -> str:
    css = {"note": "color:#666;font-size:90%", "quote": "margin-left:2em;font-style:italic"}
    text = html.escape(plain_refs(block.text))
    return f'<p style="{css.get(block.style, "")}">{text}</p>'


def cell_html(v: Any, col: Column) -> str:
    """One table cell as HTML, with the same text as in Word (word.format.format_cell)."""
    cell = format_cell(v, col, TextCleaner())
    style = "text-align:right" if col.kind not in ("text", "status") else ""
    if cell.shortfall or (col.kind == "status" and cell.text == STATUS_MISSED):
        style = "color:#C00000;font-weight:bold"
    return f'<td style="{style}">{html.escape(cell.text)}</td>'


def table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(cell_html(v, c) for v, c in zip(r, t.columns, strict=True)) + "</tr>"
        for r in t.rows
    )
    note = f"<p style='color:#666;font-size:90%'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<p><b>{html.escape(t.caption)}</b></p><table><tr>{head}</tr>{body}</table>{note}"
