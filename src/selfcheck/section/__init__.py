"""Section: what a notebook uses to emit its content.

A notebook opens its section with the two literals Papermill passes (period and
parameters path), adds headings, paragraphs, tables, figures and metrics, and
saves. Each addition is shown in the notebook as it is made, so the analyst sees
what the report will contain; :meth:`Section.save` persists the result
(``section.json`` plus PNG files) for the assembler, which never reads notebook
outputs.

Blocks are keyed by the notebook cell that emitted them (:mod:`selfcheck.section.cells`
tracks it): running a cell again replaces what it emitted before,
in place, so any sequence of re-runs followed by ``sec.save()`` saves what a clean
Run All would. Outside IPython every call is its own key, appended in call order.
Opening a section never touches its saved result; saving replaces it whole, at once.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

import pandas as pd

from selfcheck import charts
from selfcheck.blocks import (
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
from selfcheck.errors import OutputError, ParamsError, SectionError
from selfcheck.ingest import DataStore
from selfcheck.metrics.base import Metric
from selfcheck.metrics.history import HistoryStore
from selfcheck.period import Period
from selfcheck.scope import Scope, check_requires, resolve_scope
from selfcheck.section.cells import _cells, _first_line, _norm, _notebook_cells, _notebook_path
from selfcheck.section.tables import (
    _as_figure,
    _check_text,
    _paragraph_html,
    build_table,
    cell_html,
    table_html,
)
from selfcheck.sections import get_section

__all__ = ["Section", "build_table", "cell_html", "current_origin", "table_html", "write_result"]

_cell_html = cell_html  # the former names
_table_html = table_html

FIGURE_PREFIX = "figure-"


@dataclass(frozen=True)
class _OutOfScope:
    """Where a heading out of scope stood: what follows it, up to the next heading of its
    level or above, is left out of the result."""

    level: int


def _kept(blocks: Sequence[Any]) -> list[bool]:
    """Which of ``blocks`` (in report order) stay: none under an out-of-scope heading."""
    keep, muted = [], None
    for b in blocks:
        if isinstance(b, _OutOfScope):
            muted = b.level if muted is None else min(muted, b.level)
            keep.append(False)
            continue
        if muted is not None and isinstance(b, Heading) and b.level <= muted:
            muted = None
        keep.append(muted is None)
    return keep


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
    def __init__(
        self, section_id: str, period: str, params_path: str | Path, branch: str = ""
    ) -> None:
        """``branch``: of a group's parameters file, the branch whose section this is
        (empty: the group's consolidated report, or the one organisation)."""
        self._started = time.perf_counter()
        self.definition = get_section(section_id)
        self.config: Config = load_config(params_path, branch or None)
        self.period: Period = Period.parse(period)
        if self.period != self.config.period:
            raise ParamsError(
                f"笔记本参数 period={period} 与参数文件中的期间 {self.config.period} 不一致"
            )
        self.store = DataStore(self.config)
        self.history = HistoryStore(self.config.history_path)
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
        self._scope: Scope | None = None
        self._left_out: str | None = None  # leave_out(reason): nothing of it this period
        _cells.watch(self)
        if self.result.origin == "interactive":
            charts.show_inline()  # plt.show() displays in JupyterLab; batch runs stay headless
        charts.setup()  # the report's theme and font for every figure made from here on

    # -- data -------------------------------------------------------------------------
    def data(self, name: str, period: Period | None = None) -> pd.DataFrame | None:
        """A dataset of this period (or another), ``None`` if it was not supplied or is out
        of this report's scope (:attr:`scope`)."""
        if not self.scope.includes(name):
            return None
        return self.store.get(name, period or self.period)

    @property
    def scope(self) -> Scope:
        """What this period's report covers (``scope:`` of the parameters, the data folder)."""
        if self._scope is None:
            self._scope = resolve_scope(self.config)
        return self._scope

    @property
    def in_scope(self) -> bool:
        """Whether any dataset this section reports on is covered (sections without
        datasets of their own always are), and the section was not left out
        (:meth:`leave_out`)."""
        if self._left_out:
            return False
        datasets = self.definition.datasets
        return not datasets or self.scope.includes_any(datasets)

    def leave_out(self, reason: str) -> None:
        """This period's report has nothing of this section (e.g. no checklist was filled in):
        its saved result is empty and the report leaves it out, numbers closing up."""
        self._left_out = reason

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
        blocks = [b for e in entries for b in e.blocks]
        self.result.blocks[:] = [b for b, k in zip(blocks, _kept(blocks), strict=True) if k]
        self.result.metrics[:] = [m for e in entries for m in e.metrics]
        self.result.warnings[:] = [w for e in entries for w in e.warnings]

    # -- content ----------------------------------------------------------------------
    def heading(
        self, text: str, level: int = 1, *, requires: str | Sequence[str] | None = None
    ) -> Heading | None:
        """A heading; with ``requires`` (a dataset id, or several) its subsection — up to the
        next heading of this level or above — is left out of the report when none of them
        is in scope (:attr:`scope`), and nothing is returned."""
        _check_text("标题 heading", text)
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 3:
            raise SectionError(
                f"标题级别应为 1、2 或 3，收到 {level!r} (heading level must be 1–3)",
                section=self.definition.id,
            )
        text = self.period.localise(text)  # a quarter's words in a month's report …: period.py
        needs = check_requires(requires, section=self.definition.id)
        if needs and not self.scope.includes_any(needs):
            self._entry().blocks.append(_OutOfScope(level))  # type: ignore[arg-type]
            self._sync()
            why = "；".join(f"{e.area}：{e.reason}" for e in map(self.scope.entry, needs))
            _show_html(
                f"<p style='color:#999'>（本小节“{html.escape(text)}”不在本次自查范围内，"
                f"报告中略去：{html.escape(why)}）</p>"
            )
            return None
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
        block = Paragraph(self.period.localise(text), style)  # type: ignore[arg-type]
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
        text = self.period.localise(text)  # generated text only: the analyst's stays as written
        block = Paragraph(texts.replace.get(key, text), style)  # type: ignore[arg-type]
        added = [Paragraph(extra) for extra in extras]
        entry = self._entry()
        entry.slots.append(key)
        entry.blocks.extend([block, *added])
        self._sync()
        path = analyst_file(self.config, self.period, "texts")
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

            self._texts_cache = load_texts(self.config, self.period)
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
        label: str | None = None,
    ) -> Table:
        """A table: ``sec.table(caption, df)`` or ``sec.table(caption, columns, rows)``.

        From a DataFrame the column kinds follow the dtypes (integers → ``int``, floats →
        ``number`` with one decimal, text → ``text``, a 状态/status column of 达标/未达标 →
        ``status``); ``kinds={"达标率": "rate"}``, ``decimals={"均值": 2}`` and
        ``widths={"指标": 0.3}`` override them per column. A named index is kept as the
        first column. ``label``: the name a paragraph refers to it by (``[[表:label]]``;
        without one, by its caption). A wrong argument raises :class:`SectionError` and
        adds nothing.
        """
        self._check_label(label)
        block = build_table(caption, columns, rows, note, kinds=kinds, decimals=decimals,
                            widths=widths, section=self.definition.id)  # fmt: skip
        if label is not None:
            block = replace(block, label=label)
        block = _localise_table(block, self.period)
        self._add(block)
        _show_html(table_html(block))
        return block

    def figure(
        self,
        fig: Any,
        caption: str,
        note: str | None = None,
        width_cm: float = 15.0,
        *,
        label: str | None = None,
    ) -> Figure:
        """A figure: any matplotlib figure (or an Axes, or a seaborn grid); laid out so
        that nothing is cut and saved at the report's resolution. ``label``: the name a
        paragraph refers to it by (``[[图:label]]``; without one, by its caption)."""
        import matplotlib.pyplot as plt

        self._check_label(label)
        _check_text("图题 caption", caption)
        if note is not None:
            _check_text("图注 note", note)
        if isinstance(width_cm, bool) or not isinstance(width_cm, (int, float)):
            raise SectionError(f"width_cm 应为数字（厘米），收到 {width_cm!r}")
        if not 2 <= float(width_cm) <= 17:
            raise SectionError(f"图片宽度 width_cm 应在 2–17 厘米之间，收到 {width_cm}")
        figure = _as_figure(fig)
        caption, note = self.period.localise(caption), note and self.period.localise(note)
        _localise_figure(figure, self.period)
        png = charts.render(figure)
        plt.close(figure)
        name = f"pending-{next(self._pending):03d}.png"  # named by its place at save()
        block = Figure(caption, name, float(width_cm), note, label)
        entry = self._entry()
        entry.blocks.append(block)
        entry.images[name] = png
        self._sync()
        _show_image(png, caption)
        return block

    def _check_label(self, label: str | None) -> None:
        if label is None:
            return
        if not isinstance(label, str) or not label.strip() or any(c in label for c in "[]"):
            raise SectionError(
                f"label 应为不含方括号的非空文字，收到 {label!r} "
                "(a label is non-empty text without brackets)",
                section=self.definition.id,
            )

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
        from selfcheck.results import load_result, read_inputs

        results = read_inputs(self.config, self.definition, section_ids)
        root = self.config.output_dir / "sections"
        for r in results:
            loaded, digest = load_result(root / r.section_id)
            self.result.inputs[r.section_id] = digest if loaded is r else r.figures_digest()
        return results

    # -- persistence ------------------------------------------------------------------
    def save(self) -> Path:
        keys = self._ordered_keys()
        entries = [self._entries[k] for k in keys]
        slots = [s for e in entries for s in e.slots]
        self._check_text_slots(slots)
        flat = [b for e in entries for b in e.blocks]
        # out of scope: the subsections of headings out of scope; the whole section when
        # none of its datasets is covered (then its result is empty, the report leaves it out)
        keep = iter(_kept(flat) if self.in_scope else [False] * len(flat))
        images: dict[str, bytes] = {}
        blocks: list[Block] = []
        for e in entries:  # figures are named by their place in the section
            renamed: dict[str, bytes] = {}
            for i, b in enumerate(e.blocks):
                kept = next(keep)
                if isinstance(b, Figure):
                    if kept:
                        final = f"{FIGURE_PREFIX}{len(images) + 1:02d}.png"
                        images[final] = renamed[final] = e.images[b.path]
                        b = e.blocks[i] = replace(b, path=final)
                    else:
                        renamed[b.path] = e.images[b.path]
                if kept:
                    blocks.append(b)
            e.images = renamed
        scope = self.scope
        result = replace(
            self.result,
            blocks=blocks,
            metrics=[m for e in entries for m in e.metrics if scope.includes_metric(m.metric_id)],
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
        why = self._left_out or "本节的数据均不在本次自查范围内"
        left_out = "" if self.in_scope else f"；{why}，报告中略去本节"
        _show_html(
            f"<p style='color:#2F5597'>已保存本节结果：{html.escape(str(path))}"
            f"（{len(result.blocks)} 个内容块，{len(result.metrics)} 项指标{left_out}）</p>"
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
            path = analyst_file(self.config, self.period, "texts")
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


def _localise_table(block: Table, period: Period) -> Table:
    """The caption, note, column names and text cells in the period's words
    (:meth:`Period.localise`)."""
    if not period.wording():
        return block
    return replace(
        block,
        caption=period.localise(block.caption),
        note=block.note and period.localise(block.note),
        columns=tuple(replace(c, name=period.localise(c.name)) for c in block.columns),
        rows=tuple(
            tuple(period.localise(v) if isinstance(v, str) else v for v in row)
            for row in block.rows
        ),
    )


def _localise_figure(figure: Any, period: Period) -> None:
    """Titles, axis labels, tick labels and legends of a chart in the period's words."""
    if not period.wording():
        return
    from matplotlib.text import Text

    for artist in figure.findobj(Text):
        text = artist.get_text()
        words = period.localise(text)
        if words != text:
            artist.set_text(words)


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
