"""Section 原因分析与整改措施: cause, measure, owner and due date per problem; last period's
measures and their status (闭环). A shortfall with no measure is flagged here and in the run log.

``compute(sec)`` reads the problems (as 存在的问题 finds them), this period's and last
period's measures files and the other sections' metrics once, and writes the run-log
warnings; the block functions emit the paragraphs and tables. The headings are written
in the notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from selfcheck import fmt
from selfcheck.analyst import OPEN_STATUSES, analyst_file, load_measures
from selfcheck.blocks import Column
from selfcheck.period import Period
from selfcheck.problems import Problem
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics, computed, store
from selfcheck.sections.findings import problems_of
from selfcheck.sections.inspection import inspection_of
from selfcheck.sections.options import pick_columns

SECTION_ID = "measures"

MEASURE_COLUMNS = (
    Column("问题", width=0.17),
    Column("原因分析", width=0.25),
    Column("整改措施", width=0.26),
    Column("责任部门", width=0.11),
    Column("完成时限", width=0.11),
    Column("状态", width=0.10),
)
FOLLOW_UP_COLUMNS = (
    Column("问题", width=0.18),
    Column("整改措施", width=0.30),
    Column("责任部门", width=0.12),
    Column("完成时限", width=0.12),
    Column("状态", width=0.10),
    Column("本期指标", width=0.18),
)


@dataclass(frozen=True)
class Figures:
    problems: list[Problem]
    path: Path  # this period's measures file
    rows: list[tuple]  # one per measure of a current problem (MEASURE_COLUMNS)
    missing: list[Problem]  # problems without a measure
    previous: Period
    follow_up: list[tuple] | None  # last period's measures (FOLLOW_UP_COLUMNS); None: none
    done: int  # of last period's measures: completed,
    still_open: int  # still open,
    resolved: int  # and those whose metric now meets its target (or checklist item conforms)
    checked: int = 0  # of last period's measures: those of a checklist item


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def compute(sec: Section) -> pd.DataFrame:
    """Match measures to problems and last period's measures to this period's metrics; warn
    (run log) about problems without a measure and measures without a problem."""
    inspection = inspection_of(sec)  # the checklist, read once for problems and follow-up
    problems = problems_of(sec, inspection)
    path = analyst_file(sec.config, sec.period, "measures")
    measures = load_measures(sec.config, sec.period)
    items = measures.measures if measures is not None else []
    by_problem: dict[str, list] = {}
    for item in items:
        by_problem.setdefault(item.problem, []).append(item)
    rows, missing = [], []
    for p in problems:
        found = by_problem.get(p.key, [])
        if not found:
            missing.append(p)
        for item in found:
            rows.append(
                (p.title, item.cause, item.measure, item.owner, fmt.date_zh(item.due), item.status)
            )
    for p in missing:
        sec.warn(f"未达标问题没有整改措施：{p.title}（{p.key}）— 请在 {path} 中补充")
    stray = sorted({i.problem for i in items} - {p.key for p in problems})
    if stray:
        sec.warn(f"{path.name} 中有措施对应的问题本期不存在：{'、'.join(stray)}（请核对问题编号）")

    previous = sec.period.previous()
    before = load_measures(sec.config, previous)
    follow_up, done, still_open, resolved, checked_items = None, 0, 0, 0, 0
    if before is not None and before.measures:
        now = {m.metric_id: m for m in all_metrics(sec)}
        checked = {e.item.id: (e.conclusion, e.item.topic) for e in inspection.entries}
        follow_up = []
        for item in before.measures:
            m = now.get(item.problem)
            if m is not None and m.has_value:
                state = f"{fmt.value(m.value, m.unit)}，{m.status}"
                resolved += m.status == "达标"
            elif item.problem in checked:  # a checklist item: this period's conclusion
                conclusion, _ = checked[item.problem]
                checked_items += 1
                state = f"本期检查{conclusion}" if conclusion else "本期未检查"
                resolved += conclusion in ("符合", "不适用")
            else:
                state = "—"
            done += item.status == "已完成"
            still_open += item.status in OPEN_STATUSES
            name = m.name if m is not None else item.problem
            if m is None and item.problem in checked:
                name = f"{checked[item.problem][1]}（检查项 {item.problem}）"
            follow_up.append(
                (name, item.measure, item.owner, fmt.date_zh(item.due), item.status, state)
            )
    store(
        sec,
        "figures",
        Figures(
            problems,
            path,
            rows,
            missing,
            previous,
            follow_up,
            done,
            still_open,
            resolved,
            checked_items,
        ),
    )
    return pd.DataFrame(rows, columns=[c.name for c in MEASURE_COLUMNS])


def _figures(sec: Section) -> Figures:
    return computed(sec, "figures")


def overview(sec: Section) -> None:
    """Paragraph ``measures.overview``: how many problems have a measure."""
    f = _figures(sec)
    if not f.problems:
        sec.narrative("overview", "本期未发现需要整改的问题。")
        return
    sec.narrative(
        "overview",
        f"针对本期发现的{len(f.problems)}个问题，逐项分析原因并制定整改措施，明确责任部门和完成时限，"
        f"其中{len(f.problems) - len(f.missing)}个问题已有整改措施。",
    )


def measure_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 本期问题的原因分析与整改措施; ``columns`` names the columns shown (None: all).
    None without measures."""
    caption = "本期问题的原因分析与整改措施"
    f = _figures(sec)
    shown, cells = pick_columns(sec, caption, MEASURE_COLUMNS, f.rows, columns)
    if f.rows:
        sec.table(caption, shown, cells)


def missing_note(sec: Section) -> None:
    """Note naming the problems without a measure (none when every problem has one)."""
    f = _figures(sec)
    if f.missing:
        names = "、".join(p.title for p in f.missing)
        sec.paragraph(
            f"以下{len(f.missing)}个问题尚未制定整改措施，须在 {f.path.name} 中补充：{names}。",
            style="note",
        )


def follow_up(sec: Section) -> None:
    """Paragraph ``measures.follow_up``: last period's measures, done, open, resolved."""
    f = _figures(sec)
    if f.follow_up is None:
        sec.narrative("follow_up", f"{f.previous.title_zh}未登记整改措施，本期无需跟踪。")
        return
    sec.narrative(
        "follow_up",
        f"{f.previous.title_zh}共登记整改措施{len(f.follow_up)}项，已完成{f.done}项、"
        f"仍在推进{f.still_open}项；"
        + ("对应指标本期已达标或检查项本期复查符合的" if f.checked else "对应指标本期已达标")
        + f"{f.resolved}项。未完成的措施已结转至本期继续跟踪。",
    )


def follow_up_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table <上期>整改措施落实情况; ``columns`` names the columns shown (None: all). None
    when last period registered no measures."""
    f = _figures(sec)
    caption = f"{f.previous.title_zh}整改措施落实情况"
    shown, cells = pick_columns(sec, caption, FOLLOW_UP_COLUMNS, f.follow_up or [], columns)
    if f.follow_up is not None:
        sec.table(caption, shown, cells)
