"""Section 原因分析与整改措施: cause, measure, owner and due date per problem; last period's
measures and their status (闭环). A shortfall with no measure is flagged here and in the run log."""

from __future__ import annotations

from selfcheck import fmt
from selfcheck.analyst import OPEN_STATUSES, analyst_file, load_measures
from selfcheck.blocks import Column
from selfcheck.section import Section
from selfcheck.sections.common import all_metrics
from selfcheck.sections.findings import problems_of

SECTION_ID = "measures"

MEASURE_COLUMNS = (
    Column("问题", width=0.17),
    Column("原因分析", width=0.25),
    Column("整改措施", width=0.26),
    Column("责任部门", width=0.11),
    Column("完成时限", width=0.11),
    Column("状态", width=0.10),
)


def open_section(period: str, params_path: str) -> Section:
    return Section(SECTION_ID, period, params_path)


def current(sec: Section) -> None:
    problems = problems_of(sec)
    path = analyst_file(sec.config.params_path, sec.period, "measures")
    measures = load_measures(sec.config.params_path, sec.period)
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
    if not problems:
        sec.narrative("overview", "本期未发现需要整改的问题。")
    else:
        sec.narrative(
            "overview",
            f"针对本期发现的{len(problems)}个问题，逐项分析原因并制定整改措施，明确责任部门和完成时限，"
            f"其中{len(problems) - len(missing)}个问题已有整改措施。",
        )
    if rows:
        sec.table("本期问题的原因分析与整改措施", MEASURE_COLUMNS, rows)
    if missing:
        names = "、".join(p.title for p in missing)
        sec.paragraph(
            f"以下{len(missing)}个问题尚未制定整改措施，须在 {path.name} 中补充：{names}。",
            style="note",
        )
        for p in missing:
            sec.warn(f"未达标问题没有整改措施：{p.title}（{p.key}）— 请在 {path} 中补充")
    known = {p.key for p in problems}
    stray = sorted({i.problem for i in items} - known)
    if stray:
        sec.warn(f"{path.name} 中有措施对应的问题本期不存在：{'、'.join(stray)}（请核对问题编号）")


def follow_up(sec: Section) -> None:
    """Last period's measures and where they stand now (闭环)."""
    previous = sec.period.previous()
    measures = load_measures(sec.config.params_path, previous)
    sec.heading("上期整改措施落实情况")
    if measures is None or not measures.measures:
        sec.narrative("follow_up", f"{previous.title_zh}未登记整改措施，本期无需跟踪。")
        return
    now = {m.metric_id: m for m in all_metrics(sec)}
    rows, done, still_open, resolved = [], 0, 0, 0
    for item in measures.measures:
        m = now.get(item.problem)
        if m is not None and m.has_value:
            state = f"{fmt.value(m.value, m.unit)}，{m.status}"
            resolved += m.status == "达标"
        else:
            state = "—"
        done += item.status == "已完成"
        still_open += item.status in OPEN_STATUSES
        rows.append(
            (
                m.name if m is not None else item.problem,
                item.measure,
                item.owner,
                fmt.date_zh(item.due),
                item.status,
                state,
            )
        )
    sec.narrative(
        "follow_up",
        f"{previous.title_zh}共登记整改措施{len(rows)}项，已完成{done}项、仍在推进{still_open}项；"
        f"对应指标本期已达标{resolved}项。未完成的措施已结转至本期继续跟踪。",
    )
    sec.table(
        f"{previous.title_zh}整改措施落实情况",
        (
            Column("问题", width=0.18),
            Column("整改措施", width=0.30),
            Column("责任部门", width=0.12),
            Column("完成时限", width=0.12),
            Column("状态", width=0.10),
            Column("本期指标", width=0.18),
        ),
        rows,
    )
