"""Options of a table or chart cell, checked before anything is added to the section.

A table cell's ``columns=`` names the columns to show, in the order shown; a chart cell's
``size=`` is the figure's (width, height) in inches, as matplotlib's ``figsize``. A wrong
option fails in that cell with a message naming what is allowed, and adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from selfcheck import charts
from selfcheck.blocks import Column
from selfcheck.errors import SectionError
from selfcheck.section import Section


def pick_columns(
    sec: Section,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    wanted: Sequence[str] | None,
) -> tuple[tuple[Column, ...], list[tuple]]:
    """The columns named in ``wanted`` (all of them when None), with the rows cut to match."""
    if wanted is None:
        return tuple(columns), [tuple(r) for r in rows]
    names = [c.name for c in columns]
    if isinstance(wanted, str):
        wanted = (wanted,)
    unknown = [w for w in wanted if w not in names]
    if unknown or not wanted or len(set(wanted)) != len(wanted):
        what = f"没有这些列：{'、'.join(map(str, unknown))}" if unknown else "的列名为空或重复"
        raise SectionError(
            f"表“{caption}”{what}。可选的列：{'、'.join(names)}"
            f" (columns= must name columns of this table, each once)",
            section=sec.definition.id,
        )
    index = [names.index(w) for w in wanted]
    return tuple(columns[i] for i in index), [tuple(r[i] for i in index) for r in rows]


def keep_columns(
    sec: Section,
    caption: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    keep: Sequence[str] | None,
    note: str | None = None,
) -> None:
    """Add a table with only the columns named in ``keep`` (all when None; the first column
    always, the others in the table's order), their widths scaled to the full width."""
    if keep is not None:
        names = [c.name for c in columns]
        unknown = [k for k in keep if k not in names]
        if unknown:
            raise SectionError(
                f"表“{caption}”没有这些列：{'、'.join(unknown)}；可选的列："
                f"{'、'.join(names[1:])} (unknown columns)"
            )
        chosen = [0, *(i for i in range(1, len(columns)) if names[i] in keep)]
        if len(chosen) < len(columns):
            total = sum(columns[i].width or 0.0 for i in chosen) or 1.0
            columns = [replace(columns[i], width=(columns[i].width or 0.0) / total) for i in chosen]
            rows = [[r[i] for i in chosen] for r in rows]
    sec.table(caption, columns, rows, note=note)


def check_size(sec: Section, size: Sequence[float] | None) -> tuple[float, float] | None:
    """``size`` as (width, height) in inches; None stays None (the chart's own size)."""
    if size is None:
        return None
    try:
        width, height = (float(v) for v in size)
    except (TypeError, ValueError):
        width = height = 0.0
    if not (0 < width <= 20 and 0 < height <= 20):
        raise SectionError(
            f"图表尺寸 size={size!r} 不可用：应为（宽, 高）两个英寸数，如 "
            f"({charts.WIDTH_IN}, 3.0)，均大于0且不超过20"
            " (size= is (width, height) in inches)",
            section=sec.definition.id,
        )
    return width, height


def new_figure(size: tuple[float, float]):
    """``charts.figure`` at ``size`` (inches): the report's theme, constrained layout."""
    fig, ax = charts.figure(height_in=size[1])
    if size[0] != charts.WIDTH_IN:
        fig.set_size_inches(size)
    return fig, ax
