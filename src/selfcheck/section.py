"""Section: what a notebook uses to emit its content.

A notebook opens its section with the two literals Papermill passes (period and
parameters path), adds headings, paragraphs, tables, figures and metrics, and
saves. Each addition is shown in the notebook as it is made, so the analyst sees
what the report will contain; :meth:`Section.save` persists the result
(``section.json`` plus PNG files) for the assembler, which never reads notebook
outputs.

Blocks are keyed by the notebook cell that emitted them (:mod:`selfcheck.cells`
semantics, implemented here): running a cell again replaces what it emitted before,
in place, so any sequence of re-runs followed by ``sec.save()`` saves what a clean
Run All would. Outside IPython every call is its own key, appended in call order.
Opening a section never touches its saved result; saving replaces it whole, at once.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd

from selfcheck import charts
from selfcheck.blocks import (
    COLUMN_KINDS,
    RUN_ENV,
    SECTION_FILE,
    Block,
    Column,
    Figure,
    Heading,
    Paragraph,
    SectionResult,
    Table,
)
from selfcheck.config import Config, load_config
from selfcheck.docx_format import TextCleaner, format_cell
from selfcheck.errors import OutputError, ParamsError, SectionError
from selfcheck.ingest import DataStore
from selfcheck.metrics.base import STATUS_MISSED, Metric
from selfcheck.metrics.history import HISTORY_FILE, HistoryStore
from selfcheck.period import Period
from selfcheck.sections import SECTIONS, get_section

STATUS_VALUES = frozenset({"达标", "未达标", "无数据", "无标准"})
STATUS_NAMES = frozenset({"状态", "status", "Status", "达标情况"})
FIGURE_PREFIX = "figure-"


@dataclass
class _Entry:
    """What one cell (or, outside IPython, one call) emitted."""

    run: object = None  # the execution that emitted it: a new one clears the entry first
    code: str | None = None  # the cell's source as it ran (checked against the saved notebook)
    blocks: list[Block] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)  # provisional figure name → PNG

    def clear(self) -> None:
        for part in (self.blocks, self.metrics, self.warnings, self.slots):
            part.clear()
        self.images.clear()


class Section:
    def __init__(self, section_id: str, period: str, params_path: str | Path) -> None:
        self._started = time.perf_counter()
        self.definition = get_section(section_id)
        self.config: Config = load_config(params_path)
        self.period: Period = Period.parse(period)
        if self.period != self.config.period:
            raise ParamsError(
                f"笔记本参数 period={period} 与参数文件中的期间 {self.config.period} 不一致"
            )
        self.store = DataStore(self.config)
        self.history = HistoryStore(self.config.output_root / HISTORY_FILE)
        # the saved result stays as it is until save() replaces it
        self.folder: Path = self.config.output_dir / "sections" / section_id
        self.result = SectionResult(
            section_id=section_id,
            title=self.definition.title,
            order=self.definition.order,
            period=str(self.period),
            origin=current_origin(),
        )
        self._entries: dict[str, _Entry] = {}
        self._pending = count(1)
        self._texts_cache = None
        _cells.watch(self)
        if self.result.origin == "interactive":
            charts.show_inline()  # plt.show() displays in JupyterLab; batch runs stay headless
        charts.setup()  # the report's theme and font for every figure made from here on

    # -- data -------------------------------------------------------------------------
    def data(self, name: str, period: Period | None = None) -> pd.DataFrame | None:
        """A dataset of this period (or another), ``None`` if it was not supplied."""
        return self.store.get(name, period or self.period)

    def has_period(self, period: Period) -> bool:
        return self.store.has_period(period)

    # -- cells ------------------------------------------------------------------------
    def _entry(self) -> _Entry:
        key, run, code = _cells.current()
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(run, code)
        elif entry.run != run:
            entry.clear()
            entry.run, entry.code = run, code
        return entry

    def _cell_started(self, key: str, run: object, code: str | None) -> None:
        """A cell starts (again): what it emitted before is dropped, its place kept."""
        entry = self._entries.get(key)
        if entry is not None and entry.run != run:
            entry.clear()
            entry.run, entry.code = run, code
            self._sync()

    def _sync(self) -> None:
        entries = list(self._entries.values())
        self.result.blocks[:] = [b for e in entries for b in e.blocks]
        self.result.metrics[:] = [m for e in entries for m in e.metrics]
        self.result.warnings[:] = [w for e in entries for w in e.warnings]

    # -- content ----------------------------------------------------------------------
    def heading(self, text: str, level: int = 1) -> Heading:
        _check_text("标题 heading", text)
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 3:
            raise SectionError(
                f"标题级别应为 1、2 或 3，收到 {level!r} (heading level must be 1–3)",
                section=self.definition.id,
            )
        block = Heading(text, level)
        self._add(block)
        _show_html(f"<h{level + 2}>{html.escape(text)}</h{level + 2}>")
        return block

    def paragraph(self, text: str, style: str = "body") -> Paragraph:
        _check_text("段落 paragraph", text)
        if style not in ("body", "note", "quote"):
            raise SectionError(
                f"段落样式应为 body、note 或 quote，收到 {style!r} (unknown paragraph style)",
                section=self.definition.id,
            )
        block = Paragraph(text, style)  # type: ignore[arg-type]
        self._add(block)
        _show_html(_paragraph_html(block))
        return block

    def narrative(self, slot: str, text: str, style: str = "body") -> Paragraph:
        """A generated paragraph the analyst can replace or extend in ``<period>_texts.yaml``.

        The slot's full name is ``<section>.<slot>`` (e.g. ``response.overview``); the cell
        shows the text and, below it in grey, the slot name and the file to edit.
        """
        from selfcheck.analyst import analyst_file

        _check_text("文字槽位 slot", slot)
        _check_text("段落 paragraph", text)
        key = f"{self.definition.id}.{slot}"
        texts = self._texts()
        replaced = key in texts.replace
        extras = list(texts.add.get(key, []))
        block = Paragraph(texts.replace.get(key, text), style)  # type: ignore[arg-type]
        added = [Paragraph(extra) for extra in extras]
        entry = self._entry()
        entry.slots.append(key)
        entry.blocks.extend([block, *added])
        self._sync()
        path = analyst_file(self.config.params_path, self.period, "texts")
        where = f"{path.parent.name}/{path.name}"
        state = []
        if replaced:
            state.append("已按该文件替换")
        if added:
            state.append(f"该文件补充了 {len(added)} 段")
        status = f"（{'，'.join(state)}）" if state else ""
        _show_html(
            "".join(_paragraph_html(b) for b in (block, *added))
            + f"<p style='color:#999;font-size:85%;margin-top:0'>文字槽位 "
            f"<code>{html.escape(key)}</code>{html.escape(status)} — 可在 "
            f"{html.escape(where)} 中替换或补充</p>"
        )
        return block

    def _texts(self):
        if self._texts_cache is None:
            from selfcheck.analyst import load_texts

            self._texts_cache = load_texts(self.config.params_path, self.period)
        return self._texts_cache

    def table(
        self,
        caption: str,
        columns: Sequence[Column | str] | pd.DataFrame,
        rows: Sequence[Sequence[Any]] | None = None,
        note: str | None = None,
        *,
        kinds: Mapping[str, str] | None = None,
        decimals: Mapping[str, int] | None = None,
        widths: Mapping[str, float] | None = None,
    ) -> Table:
        """A table: ``sec.table(caption, df)`` or ``sec.table(caption, columns, rows)``.

        From a DataFrame the column kinds follow the dtypes (integers → ``int``, floats →
        ``number`` with one decimal, text → ``text``, a 状态/status column of 达标/未达标 →
        ``status``); ``kinds={"达标率": "rate"}``, ``decimals={"均值": 2}`` and
        ``widths={"指标": 0.3}`` override them per column. A named index is kept as the
        first column. A wrong argument raises :class:`SectionError` and adds nothing.
        """
        block = build_table(caption, columns, rows, note, kinds=kinds, decimals=decimals,
                            widths=widths, section=self.definition.id)  # fmt: skip
        self._add(block)
        _show_html(table_html(block))
        return block

    def figure(
        self, fig: Any, caption: str, note: str | None = None, width_cm: float = 15.0
    ) -> Figure:
        """A figure: any matplotlib figure (or an Axes, or a seaborn grid); laid out so
        that nothing is cut and saved at the report's resolution."""
        import matplotlib.pyplot as plt

        _check_text("图题 caption", caption)
        if note is not None:
            _check_text("图注 note", note)
        if isinstance(width_cm, bool) or not isinstance(width_cm, (int, float)):
            raise SectionError(f"width_cm 应为数字（厘米），收到 {width_cm!r}")
        if not 2 <= float(width_cm) <= 17:
            raise SectionError(f"图片宽度 width_cm 应在 2–17 厘米之间，收到 {width_cm}")
        figure = _as_figure(fig)
        png = charts.render(figure)
        plt.close(figure)
        name = f"pending-{next(self._pending):03d}.png"  # named by its place at save()
        block = Figure(caption, name, float(width_cm), note)
        entry = self._entry()
        entry.blocks.append(block)
        entry.images[name] = png
        self._sync()
        _show_image(png, caption)
        return block

    def warn(self, message: str) -> None:
        """A warning for the run log (and shown here); it does not go into the report."""
        self._entry().warnings.append(message)
        self._sync()
        _show_html(f"<p style='color:#C00000'>⚠ {html.escape(message)}</p>")

    def add_metrics(self, metrics: Sequence[Metric]) -> list[Metric]:
        metrics = list(metrics)
        bad = [m for m in metrics if not isinstance(m, Metric)]
        if bad:
            raise SectionError(
                f"add_metrics 只接受 Metric 对象，收到 {type(bad[0]).__name__} "
                "(add_metrics takes Metric objects)",
                section=self.definition.id,
            )
        self._entry().metrics.extend(metrics)
        self._sync()
        return metrics

    def metric(self, metric_id: str) -> Metric:
        for m in self.result.metrics:
            if m.metric_id == metric_id:
                return m
        raise KeyError(metric_id)

    def _add(self, block: Block) -> None:
        self._entry().blocks.append(block)
        self._sync()

    # -- other sections' results ------------------------------------------------------
    def read_results(self, section_ids: Sequence[str] | None = None) -> list[SectionResult]:
        """Other sections' saved results, in report order (by default every section that
        runs before this one), each recorded in this result's ``inputs``.

        Refuses (:class:`SectionError`) to go on over a result that is missing, failed,
        of another period, or older than the results it was itself built from.
        """
        from selfcheck.results import read_inputs

        results = read_inputs(self.config, self.definition, section_ids)
        for r in results:
            self.result.inputs[r.section_id] = r.digest()
        return results

    # -- persistence ------------------------------------------------------------------
    def save(self) -> Path:
        keys = self._ordered_keys()
        entries = [self._entries[k] for k in keys]
        slots = [s for e in entries for s in e.slots]
        self._check_text_slots(slots)
        images: dict[str, bytes] = {}
        for e in entries:  # figures are named by their place in the section
            renamed: dict[str, bytes] = {}
            for i, b in enumerate(e.blocks):
                if isinstance(b, Figure):
                    final = f"{FIGURE_PREFIX}{len(images) + 1:02d}.png"
                    images[final] = renamed[final] = e.images[b.path]
                    e.blocks[i] = replace(b, path=final)
            e.images = renamed
        blocks = [b for e in entries for b in e.blocks]
        result = replace(
            self.result,
            blocks=blocks,
            metrics=[m for e in entries for m in e.metrics],
            warnings=[w for e in entries for w in e.warnings],
            inputs=dict(self.result.inputs),
            seconds=round(time.perf_counter() - self._started, 3),
            saved_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            origin=current_origin(),
        )
        path = write_result(result, images, self.folder)
        self.result.seconds, self.result.saved_at = result.seconds, result.saved_at
        self._entries = {k: self._entries[k] for k in keys}  # notebook order from now on
        self._sync()
        _show_html(
            f"<p style='color:#2F5597'>已保存本节结果：{html.escape(str(path))}"
            f"（{len(result.blocks)} 个内容块，{len(result.metrics)} 项指标）</p>"
        )
        return path

    def _ordered_keys(self) -> list[str]:
        """Entries in notebook order. In JupyterLab the saved notebook decides: blocks of
        cells deleted from it are dropped; a cell that emitted blocks but is not in the
        file as it ran means the notebook was not saved, and saving is refused."""
        keys = list(self._entries)
        cell_keys = [k for k in keys if k.startswith("cell:")]
        if not cell_keys or os.environ.get(RUN_ENV) == "1":
            return keys
        notebook = _notebook_path()
        if notebook is None:
            return keys
        cells = _notebook_cells(notebook)
        position = {f"cell:{cid}": i for i, (cid, _) in enumerate(cells)}
        source = {f"cell:{cid}": src for cid, src in cells}
        unsaved, changed, kept = [], [], []
        outside = [k for k in keys if not k.startswith("cell:") and self._entries[k].blocks]
        if outside:
            raise SectionError(
                f"有 {len(outside)} 次运行（例如在控制台中）生成了内容块，但它们不属于笔记本 "
                f"{notebook.name} 的任何单元，报告无法按笔记本重现。请重新运行打开本节的单元"
                "（sec = …open_section…）和需要的单元，再运行 sec.save()。"
                " (blocks emitted outside the notebook's cells)",
                section=self.definition.id,
            )
        for k in keys:
            e = self._entries[k]
            if k.startswith("cell:") and k not in position:
                if k[5:] in _cells.deleted or not (e.blocks or e.metrics or e.warnings):
                    continue  # deleted from the notebook (or emitted nothing): dropped
                unsaved.append(e)
            elif k.startswith("cell:") and e.code is not None and _norm(e.code) != _norm(source[k]):
                changed.append(e)
            else:
                kept.append(k)
        if unsaved or changed:
            what = "、".join(_first_line(e.code) for e in (*unsaved, *changed))
            raise SectionError(
                f"请先保存笔记本（Ctrl+S）再运行 sec.save()：这些单元的内容与磁盘上的 "
                f"{notebook.name} 不一致（新单元未保存，或修改后未保存/未重新运行）：{what}。"
                "报告按保存的笔记本组装，未保存的修改不会进入报告。"
                " (save the notebook first: cells differ from the file on disk)",
                section=self.definition.id,
            )
        kept.sort(key=lambda k: position.get(k, len(position)))
        return kept

    def _check_text_slots(self, slots: Sequence[str]) -> None:
        """Analyst text aimed at a slot this section does not have must not vanish silently."""
        from selfcheck.analyst import analyst_file

        texts = self._texts()
        prefix = f"{self.definition.id}."
        unknown = sorted(
            k for k in (*texts.replace, *texts.add) if k.startswith(prefix) and k not in slots
        )
        if unknown:
            path = analyst_file(self.config.params_path, self.period, "texts")
            raise ParamsError(
                f"{path}: 本节没有这些文字槽位：{'、'.join(unknown)}。"
                f"可用的槽位：{'、'.join(dict.fromkeys(slots)) or '（无）'}"
            )

    def _repr_html_(self) -> str:
        return (
            f"<b>{html.escape(self.definition.title)}</b> — {self.period.title_zh}"
            f"（{self.period.range_zh}）<br>参数文件：{html.escape(str(self.config.params_path))}"
            f"<br>数据目录：{html.escape(str(self.config.data_dir()))}"
        )


def current_origin() -> str:
    """``papermill`` for a notebook the runner executes (it sets ``SELFCHECK_RUN=1``),
    ``interactive`` otherwise (JupyterLab, a script)."""
    return "papermill" if os.environ.get(RUN_ENV) == "1" else "interactive"


def write_result(result: SectionResult, images: Mapping[str, bytes], folder: Path) -> Path:
    """Replace the result in ``folder`` whole: the new folder is built beside it, then
    swapped in, so a reader sees the old result or the new one, never half of one (and no
    image of an earlier save is left behind)."""
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=parent))
    old: Path | None = None
    try:
        for name, data in images.items():
            (build / name).write_bytes(data)
        (build / SECTION_FILE).write_text(result.to_json(), encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=parent))
            os.replace(folder, old / "result")
        os.replace(build, folder)
    except BaseException as e:
        if old is not None and (old / "result").exists() and not folder.exists():
            os.replace(old / "result", folder)  # put the previous result back
        shutil.rmtree(build, ignore_errors=True)
        if isinstance(e, OSError):
            raise OutputError(
                f"本节结果无法保存到 {folder}（{e.strerror or e}），之前保存的结果未改动。"
                "是否有另一个运行正在写入同一章节？(cannot save the section result)"
            ) from None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return folder / SECTION_FILE


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
    return f'<p style="{css.get(block.style, "")}">{html.escape(block.text)}</p>'


def cell_html(v: Any, col: Column) -> str:
    """One table cell as HTML, with the same text as in Word (docx_format.format_cell)."""
    cell = format_cell(v, col, TextCleaner())
    style = "text-align:right" if col.kind not in ("text", "status") else ""
    if cell.shortfall or (col.kind == "status" and cell.text == STATUS_MISSED):
        style = "color:#C00000;font-weight:bold"
    return f'<td style="{style}">{html.escape(cell.text)}</td>'


_cell_html = cell_html  # the former name


def table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(cell_html(v, c) for v, c in zip(r, t.columns, strict=True)) + "</tr>"
        for r in t.rows
    )
    note = f"<p style='color:#666;font-size:90%'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<p><b>{html.escape(t.caption)}</b></p><table><tr>{head}</tr>{body}</table>{note}"


_table_html = table_html


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _show_html(markup: str) -> None:
    if _in_ipython():
        from IPython.display import HTML, display

        display(HTML(markup))


def _show_image(png: bytes, caption: str) -> None:
    if _in_ipython():
        from IPython.display import HTML, Image, display

        display(Image(data=png, format="png", width=640))
        display(HTML(f"<p style='text-align:center'>{html.escape(caption)}</p>"))


# -- which cell is running ----------------------------------------------------------------
class _CellTracker:
    """The key of the code being run: in an IPython kernel the notebook cell's id
    (``cellId`` in the execute request's metadata, as JupyterLab and nbclient send it, or
    ``ExecutionInfo.cell_id``); without one, each execution (outside IPython, each call)
    is a key of its own."""

    def __init__(self) -> None:
        self._calls = count(1)
        self._runs = count(1)
        self._shell: Any = None
        self._info: tuple[str, object, str | None] | None = None
        self.deleted: set[str] = set()
        self._sections: weakref.WeakSet[Section] = weakref.WeakSet()

    def watch(self, section: Section) -> None:
        self._sections.add(section)
        shell = _shell()
        if shell is not None and shell is not self._shell:
            shell.events.register("pre_run_cell", self._pre_run_cell)
            self._shell = shell
            self._info = self._from_request(shell, None)  # the cell running right now

    def _pre_run_cell(self, info: Any = None) -> None:
        self._info = self._from_request(self._shell, info)
        key, run, code = self._info
        for section in list(self._sections):
            section._cell_started(key, run, code)

    def _from_request(self, shell: Any, info: Any) -> tuple[str, object, str | None]:
        metadata: dict = {}
        msg_id = None
        kernel = getattr(shell, "kernel", None)
        if kernel is not None:
            try:
                parent = kernel.get_parent("shell")
            except TypeError:
                parent = kernel.get_parent()
            except AttributeError:
                parent = getattr(kernel, "_parent_header", {}) or {}
            metadata = parent.get("metadata") or {}
            msg_id = (parent.get("header") or {}).get("msg_id")
        cell_id = getattr(info, "cell_id", None) or metadata.get("cellId")
        cell_id = cell_id or metadata.get("cell_id")
        deleted = metadata.get("deletedCells") or []
        if isinstance(deleted, list):
            self.deleted.update(str(d) for d in deleted)
        run = msg_id or f"run-{next(self._runs)}"
        code = getattr(info, "raw_cell", None)
        if cell_id:
            return f"cell:{cell_id}", run, code
        return f"run:{run}", run, code

    def current(self) -> tuple[str, object, str | None]:
        if _shell() is None:
            n = next(self._calls)
            return f"call:{n}", n, None
        if self._info is None:
            self._info = self._from_request(_shell(), None)
        return self._info


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


_cells = _CellTracker()


def _notebook_path() -> Path | None:
    """The notebook this kernel belongs to, as JupyterLab tells the kernel (``__session__``
    in the user namespace, or ``JPY_SESSION_NAME``); ``None`` when it does not."""
    shell = _shell()
    names = []
    if shell is not None:
        names.append(shell.user_ns.get("__session__"))
    names.append(os.environ.get("JPY_SESSION_NAME"))
    for name in names:
        if not name or not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        path = Path(name)
        for candidate in (path, Path.cwd() / path, Path.cwd() / path.name):
            if candidate.is_file():
                return candidate
    return None


def _notebook_cells(path: Path) -> list[tuple[str, str]]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return [
            (str(c["id"]), "".join(c.get("source", "")))
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code" and "id" in c
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise SectionError(
            f"无法读取笔记本 {path}（{e}），本节结果未保存 (cannot read notebook)"
        ) from None


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def _first_line(code: str | None) -> str:
    lines = [line for line in (code or "").strip().splitlines() if line.strip()]
    return f"“{lines[0][:40]}”" if lines else "（空单元）"


def sections_by_id() -> dict[str, Any]:
    return {s.id: s for s in SECTIONS}
