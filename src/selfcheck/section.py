"""Section: what a notebook uses to emit its content.

A notebook opens its section with the two literals Papermill passes (period and
parameters path), adds headings, paragraphs, tables, figures and metrics, and
saves. Each addition is shown in the notebook as it is made, so the analyst sees
what the report will contain; :meth:`Section.save` persists the result
(``section.json`` plus PNG files) for the assembler, which never reads notebook
outputs.
"""

from __future__ import annotations

import html
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from selfcheck import charts, fmt
from selfcheck.blocks import Column, Figure, Heading, Paragraph, SectionResult, Table
from selfcheck.config import Config, load_config
from selfcheck.errors import ParamsError
from selfcheck.ingest import DataStore
from selfcheck.metrics.base import Metric
from selfcheck.metrics.history import HISTORY_FILE, HistoryStore
from selfcheck.period import Period
from selfcheck.sections import get_section


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
        self.folder: Path = self.config.output_dir / "sections" / section_id
        if self.folder.exists():
            shutil.rmtree(self.folder)  # a section's result is rebuilt whole, never patched
        self.folder.mkdir(parents=True)
        self.result = SectionResult(
            section_id=section_id,
            title=self.definition.title,
            order=self.definition.order,
            period=str(self.period),
        )
        self._figures = 0
        self._slots: list[str] = []
        self._texts_cache = None

    # -- data -------------------------------------------------------------------------
    def data(self, name: str, period: Period | None = None) -> pd.DataFrame | None:
        """A dataset of this period (or another), ``None`` if it was not supplied."""
        return self.store.get(name, period or self.period)

    def has_period(self, period: Period) -> bool:
        return self.store.has_period(period)

    # -- content ----------------------------------------------------------------------
    def heading(self, text: str, level: int = 1) -> Heading:
        block = Heading(text, level)
        self.result.blocks.append(block)
        _show_html(f"<h{level + 2}>{html.escape(text)}</h{level + 2}>")
        return block

    def paragraph(self, text: str, style: str = "body") -> Paragraph:
        block = Paragraph(text, style)  # type: ignore[arg-type]
        self.result.blocks.append(block)
        css = {"note": "color:#666;font-size:90%", "quote": "margin-left:2em;font-style:italic"}
        _show_html(f'<p style="{css.get(style, "")}">{html.escape(text)}</p>')
        return block

    def narrative(self, slot: str, text: str, style: str = "body") -> Paragraph:
        """A generated paragraph the analyst can replace or extend in ``<period>_texts.yaml``.

        The slot's full name is ``<section>.<slot>`` (e.g. ``response.overview``).
        """
        key = f"{self.definition.id}.{slot}"
        self._slots.append(key)
        texts = self._texts()
        block = self.paragraph(texts.replace.get(key, text), style)
        for extra in texts.add.get(key, []):
            self.paragraph(extra)
        return block

    def _texts(self):
        if self._texts_cache is None:
            from selfcheck.analyst import load_texts

            self._texts_cache = load_texts(self.config.params_path, self.period)
        return self._texts_cache

    def table(
        self,
        caption: str,
        columns: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        note: str | None = None,
    ) -> Table:
        block = Table(
            caption, tuple(columns), tuple(tuple(_plain(v) for v in r) for r in rows), note
        )
        self.result.blocks.append(block)
        _show_html(_table_html(block))
        return block

    def figure(self, fig, caption: str, note: str | None = None, width_cm: float = 15.0) -> Figure:
        self._figures += 1
        name = f"figure-{self._figures:02d}.png"
        path = charts.save(fig, self.folder / name)
        import matplotlib.pyplot as plt

        plt.close(fig)
        block = Figure(caption, name, width_cm, note)
        self.result.blocks.append(block)
        _show_image(path, caption)
        return block

    def warn(self, message: str) -> None:
        """A warning for the run log (and shown here); it does not go into the report."""
        self.result.warnings.append(message)
        _show_html(f"<p style='color:#C00000'>⚠ {html.escape(message)}</p>")

    def add_metrics(self, metrics: Sequence[Metric]) -> list[Metric]:
        self.result.metrics.extend(metrics)
        return list(metrics)

    def metric(self, metric_id: str) -> Metric:
        for m in self.result.metrics:
            if m.metric_id == metric_id:
                return m
        raise KeyError(metric_id)

    # -- persistence ------------------------------------------------------------------
    def save(self) -> Path:
        self._check_text_slots()
        self.result.seconds = round(time.perf_counter() - self._started, 3)
        path = self.result.save(self.folder)
        _show_html(
            f"<p style='color:#2F5597'>已保存本节结果：{html.escape(str(path))}"
            f"（{len(self.result.blocks)} 个内容块，{len(self.result.metrics)} 项指标）</p>"
        )
        return path

    def _check_text_slots(self) -> None:
        """Analyst text aimed at a slot this section does not have must not vanish silently."""
        from selfcheck.analyst import analyst_file

        texts = self._texts()
        prefix = f"{self.definition.id}."
        unknown = sorted(
            k for k in (*texts.replace, *texts.add) if k.startswith(prefix) and k not in self._slots
        )
        if unknown:
            path = analyst_file(self.config.params_path, self.period, "texts")
            raise ParamsError(
                f"{path}: 本节没有这些文字槽位：{'、'.join(unknown)}。"
                f"可用的槽位：{'、'.join(self._slots) or '（无）'}"
            )

    def _repr_html_(self) -> str:
        return (
            f"<b>{html.escape(self.definition.title)}</b> — {self.period.title_zh}"
            f"（{self.period.range_zh}）<br>参数文件：{html.escape(str(self.config.params_path))}"
            f"<br>数据目录：{html.escape(str(self.config.data_dir()))}"
        )


def _plain(v: Any) -> Any:
    """JSON-friendly scalars: numpy numbers to Python, NaN/NA to None."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):
        return v.item()
    return v


def _cell_html(v: Any, col: Column) -> str:
    if col.kind == "rate":
        text = fmt.percent(v)
    elif col.kind == "int":
        text = fmt.number(v, 0)
    elif col.kind == "number":
        text = fmt.number(v, col.decimals)
    elif col.kind == "pp":
        text = fmt.delta(v, "rate")
    elif col.kind == "delta":
        text = fmt.DASH if v is None else f"{v:+,.{col.decimals}f}"
    else:
        text = fmt.DASH if v is None else str(v)
    style = "text-align:right" if col.kind not in ("text", "status") else ""
    if col.kind == "status" and v == "未达标":
        style = "color:#C00000;font-weight:bold"
    return f'<td style="{style}">{html.escape(text)}</td>'


def _table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(_cell_html(v, c) for v, c in zip(r, t.columns, strict=True)) + "</tr>"
        for r in t.rows
    )
    note = f"<p style='color:#666;font-size:90%'>{html.escape(t.note)}</p>" if t.note else ""
    return f"<p><b>{html.escape(t.caption)}</b></p><table><tr>{head}</tr>{body}</table>{note}"


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


def _show_image(path: Path, caption: str) -> None:
    if _in_ipython():
        from IPython.display import HTML, Image, display

        display(Image(filename=str(path), width=640))
        display(HTML(f"<p style='text-align:center'>{html.escape(caption)}</p>"))
