"""Section 自查工作开展情况: how the self-inspection was carried out, from the checklist.

``compute(sec)`` reads the period's checklist workbook (``<period>_checklist.xlsx``, written
by ``selfcheck checklist``; strictly, see :mod:`selfcheck.checklist.workbook`) and decides
the metric-decided items again from the figures the other sections saved (the figures
win over what the workbook holds). Without a workbook for the period the section is left
out of the report (its cells still show what the figures decide). Block functions: the overview
(scope, period, methods, inspectors), the table and chart of conclusions per area, the
items found 不符合 or 基本符合, the follow-up of last period's findings and the items not
inspected. Headings are written in the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from selfcheck.blocks import Column, Figure, Paragraph, Table
from selfcheck.charts import NEUTRAL, PRIMARY, SHORTFALL
from selfcheck.checklist.commands import read_period_workbook
from selfcheck.checklist.decide import (
    CONCLUSIONS,
    CONFORM,
    NONCONFORM,
    NOT_APPLICABLE,
    PARTLY,
    decide,
)
from selfcheck.checklist.definition import METHODS, Checklist, load_checklist
from selfcheck.checklist.workbook import Entry, read_workbook, workbook_path
from selfcheck.section import Section
from selfcheck.sections.common import (
    FIGURE_WIDTH_IN,
    all_metrics,
    computed,
    figure,
    figure_size,
    store,
)
from selfcheck.sections.options import pick_columns

SECTION_ID = "inspection"
NOT_INSPECTED = "未检查"
STATES = (*CONCLUSIONS, NOT_INSPECTED)
COLORS = {CONFORM: PRIMARY, PARTLY: "#BF9000", NONCONFORM: SHORTFALL,
          NOT_APPLICABLE: NEUTRAL, NOT_INSPECTED: "#D9D9D9"}  # fmt: skip

AREA_COLUMNS = (
    Column("领域", width=0.18),
    Column("检查项", "int", width=0.1),
    Column("符合", "int", width=0.1),
    Column("基本符合", "int", width=0.12),
    Column("不符合", "int", width=0.1),
    Column("不适用", "int", width=0.1),
    Column("未检查", "int", width=0.1),
    Column("符合率", "rate", width=0.2),
)
FINDING_COLUMNS = (
    Column("编号", width=0.08),
    Column("领域", width=0.12),
    Column("检查内容", width=0.3),
    Column("结论", width=0.1),
    Column("问题描述", width=0.3),
    Column("程度", width=0.1),
)


@dataclass(frozen=True)
class Figures:
    checklist: Checklist
    workbook: str | None  # file name of the period's workbook (None: none filled in)
    entries: tuple[Entry, ...]  # every item, metric-decided ones decided from the figures
    previous: tuple[Entry, ...]  # last period's findings (不符合 / 基本符合): set by compute

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {
            name: dict.fromkeys(STATES, 0) for _, name in self.checklist.areas
        }
        for e in self.entries:
            out[e.item.area][e.conclusion or NOT_INSPECTED] += 1
        return out

    def findings(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.conclusion in (NONCONFORM, PARTLY))


def conformity(counts: dict[str, int]) -> float | None:
    """符合 ÷ items assessed (every item but 不适用 and those not inspected)."""
    assessed = sum(counts[c] for c in (CONFORM, PARTLY, NONCONFORM))
    return counts[CONFORM] / assessed if assessed else None


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def inspection_of(sec: Section) -> Figures:
    """The period's checklist, metric-decided items decided from the saved figures (shared
    with 存在的问题, which ranks the findings of the items inspected by hand)."""
    config = sec.config
    checklist = load_checklist(config.checklist_path)
    inspection = read_period_workbook(config, checklist)
    metrics = {m.metric_id: m for m in all_metrics(sec)}
    if inspection is not None:
        entries = list(inspection.entries)
    else:
        entries = [Entry(i, 0, None, None, None, None, None, i.decided_by_metrics)
                   for i in checklist.items]  # fmt: skip
    scope = sec.scope
    for n, e in enumerate(entries):
        if e.item.decided_by_metrics and not any(map(scope.includes_metric, e.item.metrics)):
            # every metric of the item is about what the centre does not have (scope:)
            entries[n] = replace(e, conclusion=NOT_APPLICABLE, description=None,
                                 source="不在本次自查范围内", decided_by_metrics=True)  # fmt: skip
        elif e.item.decided_by_metrics:
            d = decide(e.item, metrics)
            source = e.source or "本期报告指标"
            entries[n] = replace(e, conclusion=d.conclusion, description=d.description,
                                 source=source, decided_by_metrics=True)  # fmt: skip
    name = inspection.path.name if inspection is not None else None
    return Figures(checklist, name, tuple(entries), ())


def previous_findings(sec: Section, checklist: Checklist) -> tuple[Entry, ...]:
    """Last period's findings (不符合 / 基本符合), from its workbook beside the parameters
    file; none when it has none."""
    before = sec.period.previous()
    path = workbook_path(sec.config, before)
    if not path.is_file():
        return ()
    last = read_workbook(path, checklist, str(before), window=None, check_period=False)
    return tuple(e for e in last.entries if e.conclusion in (NONCONFORM, PARTLY))


def compute(sec: Section) -> pd.DataFrame:
    """Read the checklist once; the frame (conclusions per area) shows it in the notebook."""
    f = inspection_of(sec)
    f = replace(f, previous=previous_findings(sec, f.checklist))
    store(sec, "figures", f)
    if f.workbook is None:
        path = workbook_path(sec.config, sec.period)
        sec.leave_out(f"本期未填写自查检查表（{path.name}，由 selfcheck checklist 生成）")
    counts = f.counts()
    frame = pd.DataFrame.from_dict(counts, orient="index")[list(STATES)]
    frame["符合率"] = [conformity(c) for c in counts.values()]
    return frame


def _figures(sec: Section) -> Figures:
    return computed(sec, "figures")


def _inspected(f: Figures) -> list[Entry]:
    return [e for e in f.entries if e.conclusion is not None]


def overview(sec: Section) -> Paragraph:
    """Paragraph ``inspection.overview``: what was inspected, how, by whom, when."""
    f = _figures(sec)
    items = f.checklist.items
    by_hand = [e for e in _inspected(f) if not e.decided_by_metrics]
    by_metrics = [e for e in _inspected(f) if e.decided_by_metrics]
    methods = [m for m in METHODS if any(m in e.item.methods for e in _inspected(f))]
    areas = "、".join(name for _, name in f.checklist.areas)
    text = (
        f"本期自查对照服务自查清单，覆盖{areas}{len(f.checklist.areas)}个领域、"
        f"{len(items)}个检查项，"
    )
    if methods:
        text += f"采用{'、'.join(methods)}等方法。"
    else:
        text += "本期尚无已检查的项目。"
    if f.workbook is None:
        text += (
            f"本期未填写自查检查表，{len(by_metrics)}个检查项由本期指标判定，"
            f"其余{len(items) - len(by_metrics)}项未检查。"
        )
        return sec.narrative("overview", text)
    people = sorted({e.inspector for e in by_hand if e.inspector})
    dates = sorted(e.date for e in by_hand if e.date is not None)
    text += f"已检查{len(by_hand) + len(by_metrics)}项，其中人工检查{len(by_hand)}项、由本期指标判定{len(by_metrics)}项"
    left = len(items) - len(by_hand) - len(by_metrics)
    text += f"，未检查{left}项。" if left else "。"
    if people:
        shown = "、".join(people[:5]) + ("等" if len(people) > 5 else "")
        text += f"检查人员为{shown}{len(people)}人"
        if dates:
            first, last = dates[0], dates[-1]
            span = (
                f"{first.month}月{first.day}日"
                if first == last
                else f"{first.month}月{first.day}日至{last.month}月{last.day}日"
            )
            text += f"，检查于{first.year}年{span}进行"
        text += "。"
    return sec.narrative("overview", text)


def area_table(sec: Section, columns: Sequence[str] | None = None) -> Table:
    """Table 各领域检查结果: items and conclusions per area; 符合率 = 符合 ÷ items assessed."""
    caption = "各领域检查结果"
    f = _figures(sec)
    counts = f.counts()
    rows = [
        (area, sum(c.values()), *(c[s] for s in STATES), conformity(c))
        for area, c in counts.items()
    ]
    total = {s: sum(c[s] for c in counts.values()) for s in STATES}
    rows.append(("合计", sum(total.values()), *(total[s] for s in STATES), conformity(total)))
    shown, cells = pick_columns(sec, caption, AREA_COLUMNS, rows, columns)
    note = "注：符合率＝符合项数÷已检查且适用的项数（不含不适用和未检查）；由指标判定的检查项按本期指标得出结论。"
    return sec.table(caption, shown, cells, note=note)


def area_chart(sec: Section, size: tuple[float, float] = (FIGURE_WIDTH_IN, 3.0)) -> Figure:
    """Chart 各领域检查结论: one stacked bar per area, items by conclusion."""
    size = figure_size(sec, size)
    counts = _figures(sec).counts()
    areas = list(counts)[::-1]  # top to bottom in checklist order
    y = np.arange(len(areas))
    fig, ax = figure(sec, size)
    left = np.zeros(len(areas))
    for state in STATES:
        values = np.array([counts[a][state] for a in areas], dtype=float)
        if not values.any():
            continue
        ax.barh(y, values, 0.6, left=left, color=COLORS[state], label=state)
        for yi, (v, x) in enumerate(zip(values, left, strict=True)):
            if v:
                ax.annotate(f"{int(v)}", (x + v / 2, yi), ha="center", va="center", fontsize=7,
                            color="white" if state in (CONFORM, NONCONFORM) else "black")  # fmt: skip
        left += values
    ax.set_yticks(y, areas)
    ax.set_xlabel("检查项（个）")
    ax.set_xlim(0, max(left.max(), 1) * 1.02)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(STATES), fontsize=7,
              frameon=False)  # fmt: skip
    return sec.figure(fig, "各领域检查结论")


def findings_table(sec: Section, columns: Sequence[str] | None = None) -> Table | None:
    """Table 自查发现的问题: the items found 不符合 or 基本符合 (none when there are none)."""
    caption = "自查发现的问题"
    found = _figures(sec).findings()
    rows = [
        (e.item.id, e.item.area, e.item.check, e.conclusion, e.description or "—",
         severity(e))
        for e in found
    ]  # fmt: skip
    shown, cells = pick_columns(sec, caption, FINDING_COLUMNS, rows, columns)
    if not found:
        return None
    note = "注：由指标判定的检查项，其问题在“存在的问题”中按指标列出；程度为该项不符合时的严重程度，基本符合降一级。"
    return sec.table(caption, shown, cells, note=note)


LOWER = {"严重": "较重", "较重": "一般", "一般": "一般"}


def severity(e: Entry) -> str:
    """不符合: the item's severity; 基本符合: one level lower."""
    return e.item.severity if e.conclusion == NONCONFORM else LOWER[e.item.severity]


def follow_up(sec: Section) -> Paragraph | None:
    """Paragraph ``inspection.follow_up``: last period's findings checked again (闭环);
    none when last period had no workbook or no findings."""
    f = _figures(sec)
    if not f.previous:
        return None
    now = {e.item.id: e for e in f.entries}
    closed = [e for e in f.previous if now[e.item.id].conclusion in (CONFORM, NOT_APPLICABLE)]
    still = [e for e in f.previous if now[e.item.id].conclusion in (NONCONFORM, PARTLY)]
    unchecked = [e for e in f.previous if now[e.item.id].conclusion is None]
    text = f"上期自查发现问题{len(f.previous)}项，本期复查"
    parts = [f"{len(closed)}项已整改到位"]
    if still:
        parts.append(f"{len(still)}项仍未符合（{'、'.join(e.item.id for e in still)}）")
    if unchecked:
        parts.append(f"{len(unchecked)}项本期未检查（{'、'.join(e.item.id for e in unchecked)}）")
    text += "，".join(parts) + "。"
    return sec.narrative("follow_up", text)


def not_inspected(sec: Section) -> Paragraph | None:
    """Paragraph ``inspection.not_inspected``: the items not inspected, by area (none when
    every item was)."""
    f = _figures(sec)
    left = [e for e in f.entries if e.conclusion is None]
    if not left:
        return None
    by_area: dict[str, list[str]] = {}
    for e in left:
        by_area.setdefault(e.item.area, []).append(e.item.id)
    listed = "；".join(f"{a}{len(ids)}项（{'、'.join(ids)}）" for a, ids in by_area.items())
    text = f"以下{len(left)}个检查项本期未检查，不计入符合率：{listed}。"
    return sec.narrative("not_inspected", text, style="note")
